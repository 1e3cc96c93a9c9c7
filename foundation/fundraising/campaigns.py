"""Campaigns: who may run one, the consortium of partners, and the steps from draft to closed.

    draft -> awaiting approval      the lead organisation (an admin, in good standing) submits it
    awaiting approval -> live       staff approve it (it takes donations from its start date)
    awaiting approval -> draft      staff send it back with a message
    draft -> live                   staff approve a campaign they drafted themselves
    live -> closed                  staff close it: its money moves to its fund or round

Every move goes through `_move`, which holds the table of what is allowed, under the campaign's row lock.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.fundraising.models import Campaign, CampaignPartner, CampaignStatus, PartnerStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, LedgerAccount, TransactionKind
from foundation.members.models import Organisation, User
from foundation.members.organisations import good_standing
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members, notify_staff
from foundation.pagination import Page
from foundation.types import london_today, utcnow

MAX_TARGET_PENCE = 10_000_000_00  # £10m: no campaign of ours comes near it
MAX_DAYS = 366
# The public list: live campaigns as cards, past ones as a list of lines.
LIVE_PER_PAGE = 12
PAST_PER_PAGE = 20

TRANSITIONS: dict[tuple[CampaignStatus, CampaignStatus], str] = {
    (CampaignStatus.DRAFT, CampaignStatus.AWAITING_APPROVAL): "lead",
    (CampaignStatus.AWAITING_APPROVAL, CampaignStatus.LIVE): "staff",
    (CampaignStatus.AWAITING_APPROVAL, CampaignStatus.DRAFT): "staff",
    (CampaignStatus.DRAFT, CampaignStatus.LIVE): "staff",
    (CampaignStatus.LIVE, CampaignStatus.CLOSED): "staff",
}


@dataclass(frozen=True)
class CampaignDetails:
    title: str
    summary: str
    story: str
    target_pence: int
    starts_on: date
    ends_on: date
    destination_id: int
    image_alt: str | None = None


def destinations() -> list[LedgerAccount]:
    """Where a campaign's money may go: the seed-grant fund, or a round's budget."""
    ledger.account(ledger.FUND)
    return list(
        db.session.scalars(
            sa.select(LedgerAccount)
            .where(LedgerAccount.kind.in_([AccountKind.FUND, AccountKind.ROUND_BUDGET]))
            .order_by(LedgerAccount.kind, LedgerAccount.name)
        )
    )


def destination_label(account: LedgerAccount) -> str:
    return "The seed-grant fund" if account.code == ledger.FUND else account.name


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "campaign"


def _unique_slug(title: str, campaign_id: int | None = None) -> str:
    base = slugify(title)
    taken = set(
        db.session.scalars(
            sa.select(Campaign.slug).where(Campaign.slug.like(f"{base}%"), Campaign.id != (campaign_id or 0))
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def can_lead(user: User, org: Organisation) -> bool:
    return user.is_staff or user.is_admin_of(org.id)


def can_manage(user: User, campaign: Campaign) -> bool:
    return user.is_staff or user.is_admin_of(campaign.lead_organisation_id)


def _check(details: CampaignDetails, today: date, new: bool) -> None:
    if not details.title.strip():
        raise DomainError("Give the campaign a title.", field="title")
    if not details.summary.strip():
        raise DomainError("Say in a sentence what the campaign raises money for.", field="summary")
    if not details.story.strip():
        raise DomainError("Tell the campaign's story: donors read it before they give.", field="story")
    if details.target_pence <= 0:
        raise DomainError("The target must be more than £0.", field="target")
    if details.target_pence > MAX_TARGET_PENCE:
        raise DomainError(f"The target can be at most £{MAX_TARGET_PENCE // 100:,}.", field="target")
    if new and details.starts_on < today:
        raise DomainError("The start date cannot be in the past.", field="starts_on")
    if details.ends_on < details.starts_on:
        raise DomainError("The end date must be on or after the start date.", field="ends_on")
    if (details.ends_on - details.starts_on).days > MAX_DAYS:
        raise DomainError("A campaign can run for a year at most.", field="ends_on")
    account = db.session.get(LedgerAccount, details.destination_id)
    if account is None or account.kind not in (AccountKind.FUND, AccountKind.ROUND_BUDGET):
        raise DomainError("Choose the seed-grant fund or a round for the money.", field="destination")


def create(details: CampaignDetails, lead: Organisation, by: User) -> Campaign:
    if not can_lead(by, lead):
        raise NotAllowed(
            "Only an administrator of the lead organisation, or Foundation staff, can start a campaign."
        )
    standing = good_standing(lead)
    if not standing.ok:
        raise DomainError(
            f"{lead.name} is not in good standing: {' '.join(standing.reasons)}", field="lead_organisation"
        )
    _check(details, london_today(), new=True)
    campaign = Campaign(
        slug=_unique_slug(details.title),
        title=details.title.strip(),
        summary=details.summary.strip(),
        story=details.story.strip(),
        target_pence=details.target_pence,
        starts_on=details.starts_on,
        ends_on=details.ends_on,
        destination_id=details.destination_id,
        image_alt=(details.image_alt or "").strip() or None,
        lead_organisation=lead,
        status=CampaignStatus.DRAFT,
        created_by=by,
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update(campaign: Campaign, details: CampaignDetails, by: User) -> Campaign:
    if not can_manage(by, campaign):
        raise NotAllowed("Only the lead organisation or Foundation staff can change the campaign.")
    if campaign.status is CampaignStatus.CLOSED:
        raise Conflict("The campaign is closed.")
    if campaign.status is not CampaignStatus.DRAFT and not by.is_staff:
        raise Conflict("Only Foundation staff can change a campaign once it is submitted.")
    if campaign.status is CampaignStatus.LIVE and details.destination_id != campaign.destination_id:
        raise DomainError(
            "Donors gave on the promise of where the money goes: it cannot change now.", field="destination"
        )
    _check(
        details,
        london_today(),
        new=campaign.status is CampaignStatus.DRAFT and details.starts_on != campaign.starts_on,
    )
    campaign.title = details.title.strip()
    campaign.summary = details.summary.strip()
    campaign.story = details.story.strip()
    campaign.target_pence = details.target_pence
    campaign.starts_on = details.starts_on
    campaign.ends_on = details.ends_on
    campaign.destination_id = details.destination_id
    campaign.image_alt = (details.image_alt or "").strip() or None
    return campaign


# --- the consortium --------------------------------------------------------------------------------------------


def invite(campaign: Campaign, org: Organisation, by: User) -> CampaignPartner:
    if not can_manage(by, campaign):
        raise NotAllowed("Only the lead organisation or Foundation staff can invite partners.")
    if campaign.status is CampaignStatus.CLOSED:
        raise Conflict("The campaign is closed.")
    if org.id == campaign.lead_organisation_id:
        raise DomainError("The lead organisation is already in the campaign.", field="organisation")
    standing = good_standing(org)
    if not standing.ok:
        raise DomainError(
            f"{org.name} is not in good standing, so it cannot join a campaign.", field="organisation"
        )
    existing = next((p for p in campaign.partners if p.organisation_id == org.id), None)
    if existing is not None and existing.status is not PartnerStatus.DECLINED:
        raise DomainError(f"{org.name} has already been invited.", field="organisation")
    if existing is None:
        existing = CampaignPartner(campaign=campaign, organisation=org)
        db.session.add(existing)
    existing.status = PartnerStatus.INVITED
    existing.invited_by = by
    existing.invited_at = utcnow()
    existing.responded_by = None
    existing.responded_at = None
    db.session.flush()
    notify_members(
        org,
        NotificationKind.FUNDRAISING,
        f"{campaign.lead_organisation.name} invites {org.name} to the campaign {campaign.title}",
        "campaign_invitation",
        link=url_for("fundraising.partner_invitation", campaign_id=campaign.id, partner_id=existing.id),
        campaign=campaign,
        org=org,
    )
    return existing


def respond(partner: CampaignPartner, accept: bool, by: User) -> CampaignPartner:
    if not by.is_admin_of(partner.organisation_id):
        raise NotAllowed("Only an administrator of the invited organisation can answer.")
    if partner.status is not PartnerStatus.INVITED:
        raise Conflict(f"The invitation was already {partner.status.label.lower()}.")
    if partner.campaign.status is CampaignStatus.CLOSED:
        raise Conflict("The campaign has closed.")
    partner.status = PartnerStatus.ACCEPTED if accept else PartnerStatus.DECLINED
    partner.responded_by = by
    partner.responded_at = utcnow()
    return partner


def partners_in(campaign: Campaign) -> list[Organisation]:
    return [p.organisation for p in campaign.partners if p.status is PartnerStatus.ACCEPTED]


# --- steps -----------------------------------------------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    found = db.session.get(Campaign, campaign.id, with_for_update=True, populate_existing=True)
    assert found is not None
    return found


def _move(campaign: Campaign, to: CampaignStatus, by: User) -> Campaign:
    campaign = _locked(campaign)
    who = TRANSITIONS.get((campaign.status, to))
    if who is None:
        raise IllegalTransition(
            f"A campaign that is {campaign.status.label.lower()} cannot become {to.label.lower()}."
        )
    if who == "staff" and not by.is_staff:
        raise NotAllowed("Only Foundation staff can do that.")
    if who == "lead" and not can_manage(by, campaign):
        raise NotAllowed("Only the lead organisation can submit the campaign.")
    campaign.status = to
    return campaign


def submit(campaign: Campaign, by: User) -> Campaign:
    standing = good_standing(campaign.lead_organisation)
    if not standing.ok:
        raise DomainError(
            f"{campaign.lead_organisation.name} is not in good standing: {' '.join(standing.reasons)}"
        )
    campaign = _move(campaign, CampaignStatus.AWAITING_APPROVAL, by)
    campaign.submitted_at = utcnow()
    campaign.returned_message = None
    notify_staff(
        NotificationKind.STAFF_QUEUE,
        f"Campaign to approve: {campaign.title}",
        "staff_campaign_submitted",
        link=url_for("fundraising.campaign_manage", campaign_id=campaign.id),
        campaign=campaign,
    )
    return campaign


def approve(campaign: Campaign, by: User) -> Campaign:
    if campaign.ends_on < london_today():
        raise DomainError("The campaign's end date has passed: change the dates first.", field="ends_on")
    campaign = _move(campaign, CampaignStatus.LIVE, by)
    campaign.approved_by = by
    campaign.approved_at = utcnow()
    account(campaign)
    _tell_lead(campaign, f"{campaign.title} is approved", "campaign_approved")
    return campaign


def send_back(campaign: Campaign, by: User, message: str) -> Campaign:
    message = message.strip()
    if not message:
        raise DomainError("Say what needs to change.", field="message")
    campaign = _move(campaign, CampaignStatus.DRAFT, by)
    campaign.returned_message = message[:1000]
    _tell_lead(campaign, f"{campaign.title} needs changes", "campaign_returned")
    return campaign


def close(campaign: Campaign, by: User) -> Campaign:
    """Close the campaign and pass what it holds to its fund or round, in the ledger."""
    campaign = _move(campaign, CampaignStatus.CLOSED, by)
    campaign.closed_by = by
    campaign.closed_at = utcnow()
    pass_on(campaign, by)
    _tell_lead(campaign, f"{campaign.title} has closed", "campaign_closed")
    return campaign


def account(campaign: Campaign) -> LedgerAccount:
    """The ledger account holding what the campaign has raised and not yet passed on (opened on first use)."""
    return ledger.account(campaign.account_code, f"Campaign: {campaign.title}"[:200], AccountKind.CAMPAIGN)


def pass_on(campaign: Campaign, by: User | None) -> None:
    """Move what a closed campaign's account holds to its destination: to the fund, and from there into the round
    as an allocation when the money was raised for a round (so the round's budget counts it)."""
    held = ledger.balances([campaign.account_code])[campaign.account_code]
    if held <= 0:
        return
    tags = [campaign.account_code]
    ledger.transfer(
        TransactionKind.CAMPAIGN_CLOSE,
        f"Raised by {campaign.title}",
        ("campaign", campaign.id),
        account(campaign),
        ledger.account(ledger.FUND),
        held,
        by,
        tags,
    )
    destination = campaign.destination
    if destination.code != ledger.FUND:
        ledger.transfer(
            TransactionKind.ALLOCATION,
            f"Raised by {campaign.title}",
            ("campaign", campaign.id),
            ledger.account(ledger.FUND),
            destination,
            held,
            by,
            [*tags, destination.code],
        )


def _tell_lead(campaign: Campaign, subject: str, template: str) -> None:
    notify_members(
        campaign.lead_organisation,
        NotificationKind.FUNDRAISING,
        subject,
        template,
        link=url_for("fundraising.campaign_manage", campaign_id=campaign.id),
        campaign=campaign,
    )


# --- reading ---------------------------------------------------------------------------------------------------


def taking_donations(campaign: Campaign, today: date | None = None) -> bool:
    today = today or london_today()
    return campaign.status is CampaignStatus.LIVE and campaign.starts_on <= today <= campaign.ends_on


def _public_page(status: CampaignStatus, page: int, per_page: int, total: int) -> Page[Campaign]:
    """One page of the public campaigns in a status, newest end date first (a page past the end shows the last)."""
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    stmt = (
        sa.select(Campaign)
        .where(Campaign.status == status)
        .order_by(Campaign.ends_on.desc(), Campaign.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Campaign.lead_organisation))
    )
    if status is CampaignStatus.LIVE:
        # A live campaign's card says how many partners it has.
        stmt = stmt.options(selectinload(Campaign.partners))
    return Page(list(db.session.scalars(stmt)), page, per_page, total)


def public_campaigns(
    live_page: int = 1,
    past_page: int = 1,
    live_per_page: int | None = None,
    past_per_page: int | None = None,
) -> tuple[Page[Campaign], Page[Campaign]]:
    """The public list a page at a time: live campaigns, and past (closed) ones, each paged on its own, with their
    lead (and a live campaign's partners) loaded. Both counted in one query."""
    live_per_page = live_per_page or LIVE_PER_PAGE
    past_per_page = past_per_page or PAST_PER_PAGE
    counts = dict(
        db.session.execute(
            sa.select(Campaign.status, sa.func.count(Campaign.id))
            .where(Campaign.status.in_([CampaignStatus.LIVE, CampaignStatus.CLOSED]))
            .group_by(Campaign.status)
        )
        .tuples()
        .all()
    )
    return (
        _public_page(CampaignStatus.LIVE, live_page, live_per_page, counts.get(CampaignStatus.LIVE, 0)),
        _public_page(CampaignStatus.CLOSED, past_page, past_per_page, counts.get(CampaignStatus.CLOSED, 0)),
    )
