"""Consortium bids: building a bid from an opportunity, its partners and their parts, its budget, its states.

A bid is started by staff (the Foundation leads) or by an admin of a member organisation in good standing (that
organisation leads, and is the bid's first partner). Partners are organisations in good standing, invited by the
bid's managers (staff and the lead's admins) and in once one of their admins accepts. Each partner's people
write its part: activities, outcomes, young people reached per town, and budget lines. The bid's budget is the
sum of the parts plus the Foundation's management fee, a percentage staff set per bid.

States move only through `step` and TRANSITIONS, and every move is recorded as a BidStep (who, when, a note):

    idea -> forming consortium -> drafting -> internal sign-off -> submitted -> declined (or awarded, later)
                                        ^------ sent back ------/
    and any state before a decision -> withdrawn
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from foundation.bids.models import (
    MAX_AMOUNT_PENCE,
    MAX_FEE_BASIS_POINTS,
    TOWNS,
    Bid,
    BidBudgetLine,
    BidDocument,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BidStep,
    BidTask,
    BudgetCategory,
    FundingOpportunity,
    OpportunityStatus,
    PartReach,
)
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import MemberRole, Membership, Organisation, User
from foundation.members.organisations import good_standing
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify, notify_members, notify_staff
from foundation.pagination import Page, paginate
from foundation.types import london_today, utcnow

BIDS_PER_PAGE = 25
# More young people than live in Wiltshire and Swindon is a slipped key.
MAX_YOUNG_PEOPLE = 200_000


# --- who may do what -------------------------------------------------------------------------------------------


def can_start(user: Any, org: Organisation | None) -> bool:
    """Staff start bids for the Foundation; an admin starts one for an organisation in good standing."""
    if not user.is_authenticated:
        return False
    if org is None:
        return bool(user.is_staff)
    return bool(user.is_admin_of(org.id)) and good_standing(org).ok


def can_manage(user: Any, bid: Bid) -> bool:
    """Staff, and the lead organisation's admins: they invite partners, set tasks and move the bid on."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff) or (
        bid.lead_organisation_id is not None and user.is_admin_of(bid.lead_organisation_id)
    )


def in_team(user: Any, bid: Bid) -> bool:
    """Staff and the people of the organisations in the consortium (the lead and partners who accepted)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    mine = {m.organisation_id for m in user.memberships}
    return any(p.organisation_id in mine for p in bid.partners if p.status is BidPartnerStatus.ACCEPTED) or (
        bid.lead_organisation_id in mine
    )


def can_write_part(user: Any, partner: BidPartner) -> bool:
    """A partner's own people write its part; nobody else, staff included (they read it)."""
    return bool(user.is_authenticated and user.membership_of(partner.organisation_id) is not None)


def _check_part_open(partner: BidPartner, user: User) -> None:
    if not can_write_part(user, partner):
        raise NotAllowed("Only the partner's own people write its part of the bid.")
    if partner.status is not BidPartnerStatus.ACCEPTED:
        raise Conflict("The organisation has not joined the bid.")
    if not partner.bid.status.parts_open:
        raise Conflict(
            f"The bid is {partner.bid.status.label.lower()}: parts can no longer be changed."
            + (
                " Ask the Foundation to send it back if something must change."
                if partner.bid.status is BidStatus.SIGN_OFF
                else ""
            )  # fmt: skip
        )


# --- starting and editing --------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise DomainError("Enter a title for the bid.", field="title")
    return title[:200]


def start(
    opportunity: FundingOpportunity,
    title: str,
    by: User,
    lead: Organisation | None = None,
    today: date | None = None,
) -> Bid:
    """A new bid, at the idea stage. With a lead organisation, that organisation is its first partner."""
    if lead is None and not by.is_staff:
        raise NotAllowed("Only Foundation staff start a bid led by the Foundation.")
    if lead is not None:
        if not by.is_admin_of(lead.id) and not by.is_staff:
            raise NotAllowed("Only an administrator of the lead organisation can start its bid.")
        standing = good_standing(lead)
        if not standing.ok:
            raise DomainError(
                f"{lead.name} is not in good standing, so it cannot lead a bid: "
                + " ".join(standing.reasons),
                field="lead",
            )
    if opportunity.status is not OpportunityStatus.PUBLISHED:
        raise Conflict("Bids can only be built for a published opportunity.")
    if opportunity.deadline < (today or london_today()):
        raise Conflict("The opportunity's deadline has passed.")
    bid = Bid(
        opportunity=opportunity,
        title=_clean_title(title),
        lead_organisation=lead,
        status=BidStatus.IDEA,
        created_by=by,
    )
    bid.steps.append(BidStep(from_status=None, to_status=BidStatus.IDEA, by=by, at=utcnow()))
    if lead is not None:
        now = utcnow()
        bid.partners.append(
            BidPartner(
                organisation=lead,
                status=BidPartnerStatus.ACCEPTED,
                invited_by=by,
                invited_at=now,
                responded_by=by,
                responded_at=now,
            )
        )
    db.session.add(bid)
    db.session.flush()
    return bid


def update(bid: Bid, title: str, case_for_support: str, by: User, fee_percent: float | None = None) -> None:
    """Change the title and the case for support (managers), and the management fee (staff only)."""
    if not can_manage(by, bid):
        raise NotAllowed("Only the lead organisation's admins and Foundation staff change the bid.")
    if not bid.status.parts_open:
        raise Conflict(f"The bid is {bid.status.label.lower()}: it can no longer be changed.")
    bid.title = _clean_title(title)
    bid.case_for_support = case_for_support.strip()
    if fee_percent is not None and round(fee_percent * 100) != bid.fee_basis_points:
        if not by.is_staff:
            raise NotAllowed("Only Foundation staff set the management fee.")
        basis_points = round(fee_percent * 100)
        if basis_points < 0 or basis_points > MAX_FEE_BASIS_POINTS:
            raise DomainError(
                f"The management fee must be between 0% and {MAX_FEE_BASIS_POINTS // 100}%.",
                field="fee_percent",
            )
        bid.fee_basis_points = basis_points


# --- the consortium --------------------------------------------------------------------------------------------


def invite(bid: Bid, org: Organisation, by: User) -> BidPartner:
    if not can_manage(by, bid):
        raise NotAllowed("Only the lead organisation's admins and Foundation staff invite partners.")
    if not bid.status.parts_open:
        raise Conflict(f"The bid is {bid.status.label.lower()}: the consortium can no longer change.")
    standing = good_standing(org)
    if not standing.ok:
        raise DomainError(
            f"{org.name} is not in good standing, so it cannot join a bid: " + " ".join(standing.reasons),
            field="organisation",
        )
    existing = next((p for p in bid.partners if p.organisation_id == org.id), None)
    if existing is not None and existing.status is not BidPartnerStatus.DECLINED:
        already = "is already in the consortium" if existing.status is BidPartnerStatus.ACCEPTED else (
            "has already been invited")  # fmt: skip
        raise DomainError(f"{org.name} {already}.", field="organisation")
    if existing is None:
        existing = BidPartner(bid=bid, organisation=org)
        db.session.add(existing)
    existing.status = BidPartnerStatus.INVITED
    existing.invited_by, existing.invited_at = by, utcnow()
    existing.responded_by, existing.responded_at = None, None
    if bid.status is BidStatus.IDEA:
        record_step(bid, BidStatus.FORMING, by, None)
    db.session.flush()
    notify_members(
        org,
        NotificationKind.GENERAL,
        f"{lead_name(bid)} invites {org.name} to bid together: {bid.title}",
        "bids/bid_invitation",
        link=url_for("bids.bid_invitation", bid_id=bid.id, bid_partner_id=existing.id),
        bid=bid,
        org=org,
    )
    return existing


def respond(partner: BidPartner, accept: bool, by: User) -> BidPartner:
    if not by.is_admin_of(partner.organisation_id):
        raise NotAllowed("Only an administrator of the invited organisation can answer.")
    if partner.status is not BidPartnerStatus.INVITED:
        raise Conflict(f"The invitation was already {partner.status.label.lower()}.")
    bid = partner.bid
    if not bid.status.parts_open:
        raise Conflict(f"The bid is {bid.status.label.lower()}: the consortium can no longer change.")
    if accept:
        standing = good_standing(partner.organisation)
        if not standing.ok:
            raise Conflict(
                f"{partner.organisation.name} is not in good standing, so it cannot join: "
                + " ".join(standing.reasons)
            )
    partner.status = BidPartnerStatus.ACCEPTED if accept else BidPartnerStatus.DECLINED
    partner.responded_by, partner.responded_at = by, utcnow()
    _tell_managers(
        bid,
        f"{partner.organisation.name} {'joined' if accept else 'declined'} the bid {bid.title}",
        "bids/bid_partner_answered",
        partner=partner,
    )
    return partner


def lead_name(bid: Bid) -> str:
    return bid.lead_organisation.name if bid.lead_organisation is not None else "The Foundation"


def accepted(bid: Bid) -> list[BidPartner]:
    return [p for p in bid.partners if p.status is BidPartnerStatus.ACCEPTED]


# --- the partners' parts ---------------------------------------------------------------------------------------


def _touch(partner: BidPartner, by: User) -> None:
    partner.part_updated_by, partner.part_updated_at = by, utcnow()


def save_part(partner: BidPartner, activities: str, outcomes: str, by: User) -> None:
    _check_part_open(partner, by)
    partner.activities = activities.strip()
    partner.outcomes = outcomes.strip()
    _touch(partner, by)


def save_reach(partner: BidPartner, reach: dict[str, int | None], by: User) -> None:
    """Young people the partner will reach in each town (towns left empty or 0 are dropped)."""
    _check_part_open(partner, by)
    check_reach(reach)
    wanted = {town: n for town, n in reach.items() if n}
    partner.reach_rows = [
        row for row in partner.reach_rows if row.town in wanted
    ]  # keep existing rows (updated below), drop the rest
    have = {row.town: row for row in partner.reach_rows}
    for town, number in sorted(wanted.items()):
        if town in have:
            have[town].young_people = number
        else:
            partner.reach_rows.append(PartReach(town=town, young_people=number))
    _touch(partner, by)


def check_reach(reach: Mapping[str, int | None]) -> None:
    """Young people by town, planned or reported: known towns only, each number from 0 to MAX_YOUNG_PEOPLE (the
    error is at that town's field)."""
    unknown = [town for town in reach if town not in TOWNS]
    if unknown:
        raise DomainError(f"{unknown[0]} is not a town of Wiltshire and Swindon.", field="reach")
    for town, number in reach.items():
        if number is not None and (number < 0 or number > MAX_YOUNG_PEOPLE):
            raise DomainError(
                f"Enter a number of young people from 0 to {MAX_YOUNG_PEOPLE:,} for {town}.",
                field=town_field(town),
            )


def town_field(town: str) -> str:
    """The form field for a town's young people (used by the form and for errors at that field)."""
    return "town_" + "".join(ch if ch.isalnum() else "_" for ch in town.lower())


def add_line(
    partner: BidPartner, category: BudgetCategory, description: str, amount_pence: int, by: User
) -> BidBudgetLine:
    _check_part_open(partner, by)
    description = " ".join(description.split())
    if not description:
        raise DomainError("Say what the money is for.", field="description")
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    if amount_pence > MAX_AMOUNT_PENCE:
        raise DomainError("The amount must be £10,000,000 or less.", field="amount")
    line = BidBudgetLine(category=category, description=description[:200], amount_pence=amount_pence)
    partner.budget_lines.append(line)
    _touch(partner, by)
    db.session.flush()
    return line


def remove_line(line: BidBudgetLine, by: User) -> None:
    partner = line.partner
    _check_part_open(partner, by)
    partner.budget_lines.remove(line)
    _touch(partner, by)


# --- the budget ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerShare:
    partner: BidPartner
    by_category: dict[BudgetCategory, int]
    total_pence: int
    share: float  # of the partners' total, 0..1


@dataclass(frozen=True)
class Budget:
    shares: list[PartnerShare]
    by_category: dict[BudgetCategory, int]
    parts_pence: int
    fee_basis_points: int
    fee_pence: int
    min_pence: int
    max_pence: int

    @property
    def total_pence(self) -> int:
        return self.parts_pence + self.fee_pence

    @property
    def fee_percent(self) -> str:
        return f"{self.fee_basis_points / 100:g}%"

    @property
    def in_range(self) -> bool:
        return self.min_pence <= self.total_pence <= self.max_pence

    @property
    def range_problem(self) -> str | None:
        if self.total_pence < self.min_pence:
            return "The bid asks for less than the funder's smallest grant."
        if self.total_pence > self.max_pence:
            return "The bid asks for more than the funder's largest grant."
        return None


def fee_for(parts_pence: int, basis_points: int) -> int:
    """The management fee on the partners' total, rounded to the nearest penny (halves up)."""
    return (parts_pence * basis_points + 5000) // 10000


def budget(bid: Bid) -> Budget:
    """The combined budget from the loaded partners and lines (no queries when they are loaded)."""
    members = accepted(bid)
    parts_total = sum(p.budget_pence for p in members)
    shares = []
    overall = {c: 0 for c in BudgetCategory}
    for partner in members:
        by_category = {c: 0 for c in BudgetCategory}
        for line in partner.budget_lines:
            by_category[line.category] += line.amount_pence
            overall[line.category] += line.amount_pence
        total = partner.budget_pence
        shares.append(PartnerShare(partner, by_category, total, total / parts_total if parts_total else 0.0))
    return Budget(
        shares=shares,
        by_category=overall,
        parts_pence=parts_total,
        fee_basis_points=bid.fee_basis_points,
        fee_pence=fee_for(parts_total, bid.fee_basis_points),
        min_pence=bid.opportunity.min_pence,
        max_pence=bid.opportunity.max_pence,
    )


def reach_by_town(bid: Bid) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """(town, young people, [(partner name, young people)]) for every town reached, largest first."""
    towns: dict[str, list[tuple[str, int]]] = {}
    for partner in accepted(bid):
        for row in partner.reach_rows:
            towns.setdefault(row.town, []).append((partner.organisation.name, row.young_people))
    rows = [(town, sum(n for _, n in who), who) for town, who in towns.items()]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


# --- steps -----------------------------------------------------------------------------------------------------


class Step(enum.Enum):
    FORM = "form"  # start inviting partners
    DRAFT = "draft"  # the consortium is formed: partners write their parts
    SIGN_OFF = "sign-off"  # ask the Foundation's trustees to sign it off
    SEND_BACK = "send-back"  # back to drafting, with a reason
    SUBMIT = "submit"  # sent to the funder
    DECLINE = "decline"  # the funder said no, with its feedback
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return {
            Step.FORM: "Start forming the consortium",
            Step.DRAFT: "Consortium formed: start drafting",
            Step.SIGN_OFF: "Send for internal sign-off",
            Step.SEND_BACK: "Send back to drafting",
            Step.SUBMIT: "Record as submitted to the funder",
            Step.DECLINE: "Record the funder's decline",
            Step.WITHDRAW: "Withdraw the bid",
        }[self]


B = BidStatus
UNDECIDED = frozenset({B.IDEA, B.FORMING, B.DRAFTING, B.SIGN_OFF, B.SUBMITTED})
# step: (from, to, who may take it: "manage" = staff or the lead's admins; "staff" = Foundation staff only)
TRANSITIONS: dict[Step, tuple[frozenset[BidStatus], BidStatus, str]] = {
    Step.FORM: (frozenset({B.IDEA}), B.FORMING, "manage"),
    Step.DRAFT: (frozenset({B.FORMING}), B.DRAFTING, "manage"),
    Step.SIGN_OFF: (frozenset({B.DRAFTING}), B.SIGN_OFF, "manage"),
    Step.SEND_BACK: (frozenset({B.SIGN_OFF}), B.DRAFTING, "staff"),
    Step.SUBMIT: (frozenset({B.SIGN_OFF}), B.SUBMITTED, "staff"),
    Step.DECLINE: (frozenset({B.SUBMITTED}), B.DECLINED, "staff"),
    Step.WITHDRAW: (UNDECIDED, B.WITHDRAWN, "manage"),
}
NEEDS_NOTE = {
    Step.SEND_BACK: "Say what needs to change, so the partners know.",
    Step.DECLINE: "Enter the funder's feedback (or that it gave none).",
    Step.WITHDRAW: "Say why the bid is withdrawn.",
}
MIN_PARTNERS = 2


def available_steps(user: Any, bid: Bid) -> list[Step]:
    """The steps this person may take now (whether the bid is ready for them is checked when they do)."""
    allowed = []
    for step, (sources, _, who) in TRANSITIONS.items():
        if bid.status in sources and (user.is_staff if who == "staff" else can_manage(user, bid)):
            allowed.append(step)
    return allowed


def _locked(bid: Bid) -> Bid:
    found = db.session.get(Bid, bid.id, with_for_update=True, populate_existing=True)
    assert found is not None
    return found


def record_step(bid: Bid, to: BidStatus, by: User, note: str | None) -> None:
    bid.steps.append(BidStep(from_status=bid.status, to_status=to, by=by, at=utcnow(), note=note))
    bid.status = to


def readiness(bid: Bid, step: Step, today: date | None = None) -> list[str]:
    """What stops the bid taking this step (empty when it is ready)."""
    problems: list[str] = []
    members = accepted(bid)
    if step is Step.DRAFT and len(members) < MIN_PARTNERS:
        problems.append(f"A consortium needs at least {MIN_PARTNERS} organisations that have accepted.")
    if step is Step.SIGN_OFF:
        if len(members) < MIN_PARTNERS:
            problems.append(f"A consortium needs at least {MIN_PARTNERS} organisations that have accepted.")
        for partner in members:
            if partner.missing:
                problems.append(
                    f"{partner.organisation.name}'s part still needs " + ", ".join(partner.missing) + "."
                )
        if not bid.case_for_support.strip():
            problems.append("Write the case for support.")
        problem = budget(bid).range_problem
        if problem:
            problems.append(problem)
    if step is Step.SUBMIT and bid.opportunity.deadline < (today or london_today()):
        problems.append("The funder's deadline has passed.")
    return problems


def step(bid: Bid, which: Step, by: User, note: str = "", today: date | None = None) -> Bid:
    """Move the bid on, if the step is allowed from its state, by this person, and the bid is ready for it."""
    sources, to, who = TRANSITIONS[which]
    if not can_manage(by, bid) or (who == "staff" and not by.is_staff):
        raise NotAllowed("Only Foundation staff can do that." if who == "staff" else
                         "Only the lead organisation's admins and Foundation staff move the bid on.")  # fmt: skip
    bid = _locked(bid)
    if bid.status not in sources:
        raise IllegalTransition(f"A bid that is {bid.status.label.lower()} cannot be {to.label.lower()}.")
    note = note.strip()
    if which in NEEDS_NOTE and not note:
        raise DomainError(NEEDS_NOTE[which], field="note")
    problems = readiness(bid, which, today)
    if problems:
        raise Conflict(" ".join(problems))
    record_step(bid, to, by, note or None)
    if which is Step.SUBMIT:
        bid.submitted_at = utcnow()
        bid.asked_pence = budget(bid).total_pence
    if which is Step.DECLINE:
        bid.funder_feedback = note
    if which is Step.SIGN_OFF:
        notify_staff(
            NotificationKind.STAFF_QUEUE,
            f"Bid for sign-off: {bid.title}",
            "bids/bid_for_sign_off",
            link=url_for("bids.bid", bid_id=bid.id),
            bid=bid,
        )
    elif which in (Step.SEND_BACK, Step.SUBMIT, Step.DECLINE, Step.WITHDRAW):
        tell_team(bid, f"{bid.title}: {to.label.lower()}", "bids/bid_moved", note=note or None, by=by)
    return bid


def tell_team(bid: Bid, subject: str, template: str, **context: Any) -> None:
    for partner in accepted(bid):
        notify_members(
            partner.organisation,
            NotificationKind.GENERAL,
            subject,
            template,
            link=url_for("bids.bid", bid_id=bid.id),
            bid=bid,
            org=partner.organisation,
            **context,
        )


def _tell_managers(bid: Bid, subject: str, template: str, **context: Any) -> None:
    link = url_for("bids.bid", bid_id=bid.id)
    if bid.lead_organisation is None:
        notify_staff(NotificationKind.STAFF_QUEUE, subject, template, link=link, bid=bid, **context)
        return
    for membership in bid.lead_organisation.memberships:
        if membership.role is MemberRole.ADMIN and membership.user.closed_at is None:
            notify(
                membership.user, NotificationKind.GENERAL, subject, template, link=link, bid=bid, **context
            )


# --- reading ---------------------------------------------------------------------------------------------------


def load(bid_id: int) -> Bid | None:
    """A bid with everything its page shows, in a fixed number of queries."""
    return db.session.get(
        Bid,
        bid_id,
        options=[
            joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder),
            joinedload(Bid.lead_organisation),
            joinedload(Bid.award),
            selectinload(Bid.partners).options(
                joinedload(BidPartner.organisation),
                joinedload(BidPartner.part_updated_by),
                selectinload(BidPartner.reach_rows),
                selectinload(BidPartner.budget_lines),
            ),
            selectinload(Bid.steps).joinedload(BidStep.by),
            selectinload(Bid.tasks).options(joinedload(BidTask.owner), joinedload(BidTask.done_by)),
            selectinload(Bid.documents).joinedload(BidDocument.uploaded_by),
        ],
    )


def _organisation_ids(user: User) -> list[int]:
    return [m.organisation_id for m in user.memberships]


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """Bids this person sees: all for staff; otherwise those their organisations lead or have joined."""
    if user.is_staff:
        return sa.true()
    mine = _organisation_ids(user)
    joined = (
        sa.select(BidPartner.id)
        .where(
            BidPartner.bid_id == Bid.id,
            BidPartner.organisation_id.in_(mine),
            BidPartner.status == BidPartnerStatus.ACCEPTED,
        )
        .exists()
    )
    return sa.or_(Bid.lead_organisation_id.in_(mine), joined)


def bids_for(user: User, page: int, status: BidStatus | None = None) -> Page[Bid]:
    stmt = sa.select(Bid).where(visible_to(user))
    if status is not None:
        stmt = stmt.where(Bid.status == status)
    stmt = stmt.options(
        joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder), joinedload(Bid.lead_organisation)
    ).order_by(Bid.id.desc())
    return paginate(stmt, page, BIDS_PER_PAGE)


def on_opportunity(user: User, opportunity_id: int) -> list[Bid]:
    """The bids on one opportunity this person sees."""
    return list(
        db.session.scalars(
            sa.select(Bid)
            .where(Bid.opportunity_id == opportunity_id, visible_to(user))
            .options(joinedload(Bid.lead_organisation))
            .order_by(Bid.id)
        )
    )


def invitations_for(user: User) -> list[BidPartner]:
    """Invitations waiting for an answer from an organisation this person administers."""
    admin_of = [m.organisation_id for m in user.memberships if m.role is MemberRole.ADMIN]
    if not admin_of:
        return []
    return list(
        db.session.scalars(
            sa.select(BidPartner)
            .where(BidPartner.organisation_id.in_(admin_of), BidPartner.status == BidPartnerStatus.INVITED)
            .options(joinedload(BidPartner.bid), joinedload(BidPartner.organisation))
            .order_by(BidPartner.invited_at.desc())
        )
    )


def lead_choices(user: User) -> list[Organisation]:
    """Organisations this person can lead a bid for (admin, good standing)."""
    orgs = db.session.scalars(
        sa.select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id)
        .order_by(Organisation.name)
    ).all()
    return [o for o in orgs if can_start(user, o)]
