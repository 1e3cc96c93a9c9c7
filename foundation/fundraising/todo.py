"""Things waiting on the dashboard from fundraising.

Organisations: invitations to join a campaign, campaigns sent back for changes. Staff: campaigns to approve, offline
pledges to mark received, donors' messages to show or hide. Each group is one query (the first few rows with the
total counted alongside).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from foundation.fundraising.models import (
    Campaign,
    CampaignPartner,
    CampaignStatus,
    Donation,
    DonationStatus,
    MessageStatus,
    PartnerStatus,
)
from foundation.members.models import Organisation
from foundation.payments.models import Payment
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section


@todo_section("fundraising", order=30)
def fundraising_todo(viewer: Viewer) -> list[TodoGroup]:
    groups: list[TodoGroup] = []
    if viewer.admin_org_ids:
        groups += [_invitations(viewer), _sent_back(viewer)]
    if viewer.user.is_staff:
        groups += [_to_approve(), _pledges(), _messages()]
    return groups


def _invitations(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(CampaignPartner.id, Campaign.id, Campaign.title, Organisation.name)
        .join(Campaign, Campaign.id == CampaignPartner.campaign_id)
        .join(Organisation, Organisation.id == CampaignPartner.organisation_id)
        .where(
            CampaignPartner.organisation_id.in_(viewer.admin_org_ids),
            CampaignPartner.status == PartnerStatus.INVITED,
            Campaign.status != CampaignStatus.CLOSED,
        )
        .order_by(CampaignPartner.invited_at, CampaignPartner.id)
    )
    items = [
        TodoItem(
            f"{org}: invited to join the campaign {title}",
            url_for("fundraising.partner_invitation", campaign_id=campaign_id, partner_id=partner_id),
        )
        for partner_id, campaign_id, title, org in rows
    ]
    return TodoGroup(Audience.ORGANISATIONS, "Campaign invitations", items, total)


def _sent_back(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Campaign.id, Campaign.title)
        .where(
            Campaign.lead_organisation_id.in_(viewer.admin_org_ids),
            Campaign.status == CampaignStatus.DRAFT,
            Campaign.returned_message.is_not(None),
        )
        .order_by(Campaign.id)
    )
    items = [
        TodoItem(
            f"{title}: the Foundation asked for changes",
            url_for("fundraising.campaign_manage", campaign_id=cid),
            urgent=True,
        )  # fmt: skip
        for cid, title in rows
    ]
    return TodoGroup(Audience.ORGANISATIONS, "Campaigns to change", items, total)


def _to_approve() -> TodoGroup:
    rows, total = first_rows(
        sa.select(Campaign.id, Campaign.title, Organisation.name)
        .join(Organisation, Organisation.id == Campaign.lead_organisation_id)
        .where(Campaign.status == CampaignStatus.AWAITING_APPROVAL)
        .order_by(Campaign.submitted_at, Campaign.id)
    )
    items = [
        TodoItem(f"{title} ({lead})", url_for("fundraising.campaign_manage", campaign_id=cid))
        for cid, title, lead in rows
    ]
    return TodoGroup(
        Audience.STAFF,
        "Campaigns to approve",
        items,
        total,
        url_for("fundraising.staff_home"),
        "All campaigns",
    )


def _pledges() -> TodoGroup:
    rows, total = first_rows(
        sa.select(Donation.id, Donation.donor_name, Donation.amount_pence, Campaign.title)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .join(Payment, Payment.id == Donation.payment_id)
        .where(Donation.status == DonationStatus.PENDING, Payment.provider == "offline")
        .order_by(Donation.created_at, Donation.id)
    )
    items = [
        TodoItem(
            f"£{pence / 100:,.2f} pledged by {name} to {title}",
            url_for("fundraising.staff_donation", donation_id=did),
            detail="mark it received when the money arrives",
        )
        for did, name, pence, title in rows
    ]
    return TodoGroup(Audience.STAFF, "Pledges waiting for their money", items, total,
                     url_for("fundraising.staff_donations", status="pending"), "Every donation waiting")  # fmt: skip


def _messages() -> TodoGroup:
    rows, total = first_rows(
        sa.select(Donation.id, Donation.donor_name, Campaign.title)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .where(Donation.message_status == MessageStatus.WAITING, Donation.status == DonationStatus.SUCCEEDED)
        .order_by(Donation.succeeded_at, Donation.id)
    )
    items = [
        TodoItem(f"A message from {name} on {title}", url_for("fundraising.staff_messages"))
        for _, name, title in rows
    ]
    return TodoGroup(
        Audience.STAFF, "Donors' messages to read", items, total, url_for("fundraising.staff_messages")
    )
