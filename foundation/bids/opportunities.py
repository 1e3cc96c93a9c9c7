"""Funding opportunities: the rules for adding them, their states, and the lists members and staff read.

Staff add an opportunity published; a member whose organisation is in good standing suggests one, and staff
publish it or reject it with a reason (the member is told either way). A published opportunity closes once its
deadline has passed (`close_due`, run by beat), and staff can archive one. Every move is in TRANSITIONS.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from foundation.bids.funders import checked_https_url
from foundation.bids.models import (
    ALL_AREAS,
    AREA_CHOICES,
    MAX_AMOUNT_PENCE,
    Funder,
    FundingOpportunity,
    OpportunityArea,
    OpportunityStatus,
    OpportunityTheme,
    Theme,
)
from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import Membership, Organisation, OrganisationStatus, User
from foundation.members.organisations import good_standing, organisations_for
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify, notify_staff
from foundation.pagination import Page, paginate
from foundation.types import london_today, utcnow

OPPORTUNITIES_PER_PAGE = 20


class Step(enum.Enum):
    PUBLISH = "publish"
    REJECT = "reject"
    CLOSE = "close"
    ARCHIVE = "archive"


S = OpportunityStatus
TRANSITIONS: dict[Step, tuple[frozenset[OpportunityStatus], OpportunityStatus]] = {
    Step.PUBLISH: (frozenset({S.SUGGESTED}), S.PUBLISHED),
    Step.REJECT: (frozenset({S.SUGGESTED}), S.REJECTED),
    Step.CLOSE: (frozenset({S.PUBLISHED}), S.CLOSED),
    Step.ARCHIVE: (frozenset({S.SUGGESTED, S.PUBLISHED, S.CLOSED}), S.ARCHIVED),
}


def _move(opportunity: FundingOpportunity, step: Step) -> None:
    allowed, to = TRANSITIONS[step]
    if opportunity.status not in allowed:
        raise IllegalTransition(
            f"An opportunity that is {opportunity.status.label.lower()} cannot be {to.label.lower()}."
        )
    opportunity.status = to


@dataclass(frozen=True)
class OpportunityDetails:
    funder_id: int
    programme: str
    min_pence: int
    max_pence: int
    deadline: date
    themes: list[Theme] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    eligibility: str = ""
    accepts_consortium: bool = False
    link: str | None = None


def _check(details: OpportunityDetails, today: date, new: bool) -> tuple[Funder, str | None]:
    funder = db.session.get(Funder, details.funder_id)
    if funder is None:
        raise DomainError("Choose a funder from the register.", field="funder")
    if not details.programme.strip():
        raise DomainError("Enter the name of the funding programme.", field="programme")
    if details.min_pence <= 0:
        raise DomainError("The smallest grant must be more than £0.", field="min_amount")
    if details.max_pence > MAX_AMOUNT_PENCE:
        raise DomainError("The largest grant must be £10,000,000 or less.", field="max_amount")
    if details.max_pence < details.min_pence:
        raise DomainError("The largest grant cannot be less than the smallest.", field="max_amount")
    if new and details.deadline < today:
        raise DomainError("The deadline has passed: enter today's date or a later one.", field="deadline")
    if not details.themes:
        raise DomainError("Choose at least one theme.", field="themes")
    unknown = [a for a in details.areas if a not in AREA_CHOICES]
    if unknown or not details.areas:
        raise DomainError("Choose the towns it is for, or all of Wiltshire and Swindon.", field="areas")
    return funder, checked_https_url(details.link, "link")


def _fill(
    opportunity: FundingOpportunity, details: OpportunityDetails, funder: Funder, link: str | None
) -> None:
    opportunity.funder = funder
    opportunity.programme = " ".join(details.programme.split())
    opportunity.min_pence = details.min_pence
    opportunity.max_pence = details.max_pence
    opportunity.deadline = details.deadline
    opportunity.eligibility = details.eligibility.strip()
    opportunity.accepts_consortium = details.accepts_consortium
    opportunity.link = link
    # A county-wide opportunity is for every town: keep just the one row.
    areas = [ALL_AREAS] if ALL_AREAS in details.areas else sorted(set(details.areas))
    opportunity.theme_rows = [
        OpportunityTheme(theme=t) for t in sorted(set(details.themes), key=lambda t: t.value)
    ]
    opportunity.area_rows = [OpportunityArea(area=a) for a in areas]


def create(details: OpportunityDetails, by: User, today: date | None = None) -> FundingOpportunity:
    """Staff add an opportunity, published at once."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff add opportunities; members suggest them.")
    funder, link = _check(details, today or london_today(), new=True)
    opportunity = FundingOpportunity(status=S.PUBLISHED, created_by=by, published_at=utcnow())
    _fill(opportunity, details, funder, link)
    db.session.add(opportunity)
    db.session.flush()
    return opportunity


def update(opportunity: FundingOpportunity, details: OpportunityDetails, today: date | None = None) -> None:
    if opportunity.status in (S.REJECTED, S.ARCHIVED):
        raise IllegalTransition(
            f"An opportunity that is {opportunity.status.label.lower()} cannot be changed."
        )
    # A new deadline must not be in the past; an unchanged one (of an opportunity now closed) may stay.
    moved = details.deadline != opportunity.deadline
    funder, link = _check(details, today or london_today(), new=moved)
    _fill(opportunity, details, funder, link)
    if opportunity.status is S.CLOSED and opportunity.deadline >= (today or london_today()):
        opportunity.status, opportunity.closed_at = S.PUBLISHED, None  # the funder extended the deadline


def suggesting_organisations(user: User) -> list[Organisation]:
    """The person's organisations in good standing: those they can suggest an opportunity for."""
    return [o for o in organisations_for(user) if good_standing(o).ok]


def suggest(
    details: OpportunityDetails, by: User, organisation: Organisation, today: date | None = None
) -> FundingOpportunity:
    if by.membership_of(organisation.id) is None:
        raise NotAllowed("Suggest an opportunity for one of your own organisations.")
    standing = good_standing(organisation)
    if not standing.ok:
        raise NotAllowed(
            f"{organisation.name} is not in good standing, so cannot suggest opportunities: "
            + " ".join(standing.reasons)
        )
    funder, link = _check(details, today or london_today(), new=True)
    opportunity = FundingOpportunity(
        status=S.SUGGESTED, created_by=by, suggested_by=by, suggested_for=organisation
    )
    _fill(opportunity, details, funder, link)
    db.session.add(opportunity)
    db.session.flush()
    notify_staff(
        NotificationKind.STAFF_QUEUE,
        f"Funding opportunity suggested: {funder.name}, {opportunity.programme}",
        "bids/staff_suggestion",
        link=url_for("bids.opportunity_review", opportunity_id=opportunity.id),
        opportunity=opportunity,
        organisation=organisation,
    )
    return opportunity


def publish(opportunity: FundingOpportunity, by: User, today: date | None = None) -> None:
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff publish opportunities.")
    if opportunity.deadline < (today or london_today()):
        raise DomainError("Its deadline has passed: change the deadline or reject it.", field="decision")
    _move(opportunity, Step.PUBLISH)
    opportunity.decided_by, opportunity.decided_at = by, utcnow()
    opportunity.published_at = opportunity.decided_at
    if opportunity.suggested_by is not None:
        notify(
            opportunity.suggested_by,
            NotificationKind.GENERAL,
            f"Published: {opportunity.funder.name}, {opportunity.programme}",
            "bids/suggestion_published",
            link=url_for("bids.opportunity", opportunity_id=opportunity.id),
            opportunity=opportunity,
        )


def reject(opportunity: FundingOpportunity, by: User, reason: str) -> None:
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff decide on suggestions.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why, so the member knows.", field="reason")
    _move(opportunity, Step.REJECT)
    opportunity.decided_by, opportunity.decided_at = by, utcnow()
    opportunity.rejection_reason = reason
    if opportunity.suggested_by is not None:
        notify(
            opportunity.suggested_by,
            NotificationKind.GENERAL,
            f"Not published: {opportunity.funder.name}, {opportunity.programme}",
            "bids/suggestion_rejected",
            link=url_for("bids.opportunity", opportunity_id=opportunity.id),
            opportunity=opportunity,
            reason=reason,
        )


def archive(opportunity: FundingOpportunity, by: User) -> None:
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff archive opportunities.")
    _move(opportunity, Step.ARCHIVE)
    opportunity.closed_at = opportunity.closed_at or utcnow()


def close_due(today: date | None = None) -> list[int]:
    """Close published opportunities whose deadline has passed; their ids. Running it again changes nothing."""
    today = today or london_today()
    due = list(
        db.session.scalars(
            sa.select(FundingOpportunity)
            .where(FundingOpportunity.status == S.PUBLISHED, FundingOpportunity.deadline < today)
            .with_for_update(skip_locked=True)
        )
    )
    for opportunity in due:
        _move(opportunity, Step.CLOSE)
        opportunity.closed_at = utcnow()
    return [o.id for o in due]


# --- who sees what -------------------------------------------------------------------------------------------


def can_browse(user: Any) -> bool:
    """Staff, and people belonging to an approved member organisation (one query)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    member: bool | None = db.session.scalar(
        sa.select(
            sa.select(Membership.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user.id, Organisation.status == OrganisationStatus.APPROVED)
            .exists()
        )
    )
    return bool(member)


def can_see(user: Any, opportunity: FundingOpportunity) -> bool:
    if user.is_staff:
        return True
    if opportunity.status in (S.PUBLISHED, S.CLOSED):
        return can_browse(user)
    return bool(opportunity.suggested_by_id == user.id)  # their own suggestion, waiting or turned down


def load(opportunity_id: int) -> FundingOpportunity | None:
    return db.session.get(
        FundingOpportunity,
        opportunity_id,
        options=[
            joinedload(FundingOpportunity.funder),
            selectinload(FundingOpportunity.theme_rows),
            selectinload(FundingOpportunity.area_rows),
            joinedload(FundingOpportunity.suggested_for),
        ],
    )


# --- lists ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpportunityFilter:
    theme: Theme | None = None
    town: str | None = None
    closing_within_days: int | None = None
    consortium_only: bool = False
    amount_pence: int | None = None  # a grant of this size is in its range


def _with_rows(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return stmt.options(
        joinedload(FundingOpportunity.funder),
        selectinload(FundingOpportunity.theme_rows),
        selectinload(FundingOpportunity.area_rows),
    )


def in_areas(areas: Iterable[str]) -> sa.ColumnElement[bool]:
    """For any of these towns: the opportunity names one of them, or the whole county."""
    wanted = {*areas, ALL_AREAS}
    return (
        sa.select(OpportunityArea.opportunity_id)
        .where(OpportunityArea.opportunity_id == FundingOpportunity.id, OpportunityArea.area.in_(wanted))
        .exists()
    )


def open_opportunities(
    page: int, chosen: OpportunityFilter, today: date | None = None
) -> Page[FundingOpportunity]:
    """Published opportunities still open, soonest deadline first, filtered; one page, in three queries."""
    today = today or london_today()
    O = FundingOpportunity  # noqa: E741, N806
    stmt = sa.select(O).where(O.status == S.PUBLISHED, O.deadline >= today)
    if chosen.theme is not None:
        stmt = stmt.where(
            sa.select(OpportunityTheme.opportunity_id)
            .where(OpportunityTheme.opportunity_id == O.id, OpportunityTheme.theme == chosen.theme)
            .exists()
        )
    if chosen.town:
        stmt = stmt.where(in_areas([chosen.town]))
    if chosen.closing_within_days is not None:
        stmt = stmt.where(O.deadline <= today + timedelta(days=chosen.closing_within_days))
    if chosen.consortium_only:
        stmt = stmt.where(O.accepts_consortium.is_(True))
    if chosen.amount_pence is not None:
        stmt = stmt.where(O.min_pence <= chosen.amount_pence, O.max_pence >= chosen.amount_pence)
    return paginate(_with_rows(stmt.order_by(O.deadline, O.id)), page, OPPORTUNITIES_PER_PAGE)


STAFF_SECTIONS = (S.SUGGESTED, S.PUBLISHED, S.CLOSED, S.REJECTED, S.ARCHIVED)


def by_status(status: OpportunityStatus, page: int) -> Page[FundingOpportunity]:
    O = FundingOpportunity  # noqa: E741, N806
    # Suggestions oldest first (the queue), open ones by deadline, the rest most recent deadline first.
    order: list[Any] = [O.deadline.desc(), O.id.desc()]
    if status is S.SUGGESTED:
        order = [O.created_at, O.id]
    elif status is S.PUBLISHED:
        order = [O.deadline, O.id]
    stmt = (
        sa.select(O)
        .where(O.status == status)
        .options(joinedload(O.suggested_by), joinedload(O.suggested_for))
    )
    return paginate(_with_rows(stmt.order_by(*order)), page, OPPORTUNITIES_PER_PAGE)


def status_counts() -> dict[OpportunityStatus, int]:
    rows = db.session.execute(
        sa.select(FundingOpportunity.status, sa.func.count()).group_by(FundingOpportunity.status)
    ).all()
    counts = {s: 0 for s in OpportunityStatus}
    counts.update({status: n for status, n in rows})
    return counts


def suggestions_of(user: User) -> list[FundingOpportunity]:
    return list(
        db.session.scalars(
            sa.select(FundingOpportunity)
            .where(FundingOpportunity.suggested_by_id == user.id)
            .options(joinedload(FundingOpportunity.funder))
            .order_by(FundingOpportunity.created_at.desc(), FundingOpportunity.id.desc())
        )
    )
