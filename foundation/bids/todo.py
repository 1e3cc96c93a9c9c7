"""Things waiting on the dashboard from funding: a person's open tasks on bids, invitations to bid together
waiting for an organisation's admins, and for staff the bids waiting for sign-off and the opportunities members
suggested, oldest first (one query each: the first few with the total counted alongside)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from foundation.bids.models import (
    Bid,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BidTask,
    Funder,
    FundingOpportunity,
    OpportunityStatus,
)
from foundation.members.models import Organisation, User
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

ACTIVE = (
    BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF, BidStatus.SUBMITTED,
)  # fmt: skip


@todo_section("bids", order=35)
def bids_todo(viewer: Viewer) -> list[TodoGroup]:
    groups = _tasks(viewer) + _invitations(viewer)
    if not viewer.user.is_staff:
        return groups
    return groups + _sign_off() + _suggestions()


def _tasks(viewer: Viewer) -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(BidTask.bid_id, BidTask.title, BidTask.due, Bid.title)
        .join(Bid, Bid.id == BidTask.bid_id)
        .where(BidTask.owner_id == viewer.user.id, BidTask.done_at.is_(None), Bid.status.in_(ACTIVE))
        .order_by(BidTask.due, BidTask.id)
    )
    items = [
        TodoItem(
            title, url_for("bids.bid", bid_id=bid_id, _anchor="tasks"), detail=f"{bid}, due {due:%-d %b %Y}"
        )
        for bid_id, title, due, bid in rows
    ]
    return [
        TodoGroup(Audience.YOU, "Tasks on bids", items, total, url_for("bids.bids_list"), "All your bids")
    ]


def _invitations(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.admin_org_ids:
        return []
    rows, total = first_rows(
        sa.select(BidPartner.id, BidPartner.bid_id, Bid.title, Organisation.name)
        .join(Bid, Bid.id == BidPartner.bid_id)
        .join(Organisation, Organisation.id == BidPartner.organisation_id)
        .where(
            BidPartner.organisation_id.in_(viewer.admin_org_ids),
            BidPartner.status == BidPartnerStatus.INVITED,
            Bid.status.in_((BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING)),
        )
        .order_by(BidPartner.invited_at, BidPartner.id)
    )
    items = [
        TodoItem(
            title, url_for("bids.bid_invitation", bid_id=bid_id, bid_partner_id=pid), detail=f"invites {org}"
        )
        for pid, bid_id, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Invitations to bid together", items, total)]


def _sign_off() -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(Bid.id, Bid.title).where(Bid.status == BidStatus.SIGN_OFF).order_by(Bid.id)
    )
    items = [TodoItem(title, url_for("bids.bid", bid_id=bid_id, _anchor="next")) for bid_id, title in rows]
    return [
        TodoGroup(
            Audience.STAFF,
            "Bids waiting for internal sign-off",
            items,
            total,
            url_for("bids.bids_list", status=BidStatus.SIGN_OFF.value),
            "All bids at sign-off",
        )
    ]


def _suggestions() -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(FundingOpportunity.id, FundingOpportunity.programme, Funder.name, User.name)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .outerjoin(User, User.id == FundingOpportunity.suggested_by_id)
        .where(FundingOpportunity.status == OpportunityStatus.SUGGESTED)
        .order_by(FundingOpportunity.created_at, FundingOpportunity.id)
    )
    items = [
        TodoItem(
            f"{funder}: {programme}",
            url_for("bids.opportunity_review", opportunity_id=oid),
            detail=f"suggested by {who}" if who else "",
        )
        for oid, programme, funder, who in rows
    ]
    return [
        TodoGroup(
            Audience.STAFF,
            "Funding opportunities suggested by members",
            items,
            total,
            url_for("bids.staff_opportunities"),
            "All opportunities",
        )
    ]
