"""Monitoring returns for won bids: what each partner reports by each of the funder's reporting dates, the
reminders that chase them, and the one consolidated return the Foundation sends the funder.

When an award is recorded (awards.record_award) every partner gets one return per reporting date, due
RETURN_LEAD_DAYS before it. A return holds the figures for the period since the previous reporting date: young
people reached in each town, sessions delivered, spend against each kind of cost of the partner's budget, what
changed for the young people (outcomes) and one young person's story.

Who: the partner organisation's own people (any role) write and submit its return. Staff and the lead
organisation's admins, who manage the bid and compile the consolidated return, read every return; to anyone else
a return does not exist. The consolidated return is for the same managers only: it sets the partners' figures and
lateness side by side, which is the accountable body's business, not the other partners'.

When: a return can be saved as often as needed; submitting needs the outcomes and the story, and records who and
when. A submitted return stays submitted and can still be corrected (the outcomes and story cannot be emptied)
until the funder's reporting date; from that date the consolidated return has gone, so a submitted return is
frozen. A return not yet submitted stays open after its due date (it is late, and shows as late) and after the
reporting date too, so a late partner can still report and the Foundation can send the funder an update.
`submitted_at` is the first submission: corrections do not make a return that came in on time look late.

Reminders: the partner's people are reminded 14 and 3 days before a return is due, and the day after it if it is
overdue (each reminder once, foundation/reminders.py); nothing is sent once the funder's reporting date has come.

The consolidated return counts submitted returns only: totals (young people, sessions, spend by kind of cost with
the spend to date against the partners' budgets), each partner (submitted, late or not yet due, with its
figures) and each town (young people summed over the partners), in a fixed number of queries.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from foundation.bids.bids import can_manage, check_reach
from foundation.bids.models import (
    MAX_AMOUNT_PENCE,
    AwardReportingDate,
    Bid,
    BidAward,
    BidBudgetLine,
    BidPartner,
    BidStatus,
    BudgetCategory,
    FundingOpportunity,
    MonitoringReturn,
    ReturnReach,
    ReturnReminder,
    ReturnSpend,
)
from foundation.errors import Conflict, DomainError, NotAllowed
from foundation.extensions import db
from foundation.members.models import Membership, Organisation, User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members
from foundation.reminders import ReminderSchedule, Window
from foundation.types import LONDON, london_today, utcnow

# More sessions than a youth group could run in a reporting period, several a day, is a slipped key.
MAX_SESSIONS = 10_000
MAX_TEXT = 10_000
WON = (BidStatus.AWARDED, BidStatus.PART_AWARDED)
# The reminder the day after a return was due, recorded as "-1 days before".
OVERDUE = -1
RETURN_REMINDERS: ReminderSchedule[int] = ReminderSchedule(
    windows=(Window(14, 14), Window(3, 3), Window(OVERDUE, OVERDUE)),
    item_id=ReturnReminder.return_id,
    key=ReturnReminder.days_before,
)
# How far ahead a partner's dashboard lists the returns it will owe.
RETURNS_LISTED_AHEAD_DAYS = 30


class ReturnStatus(enum.Enum):
    """Where a return stands on a given day (worked out from its dates, not stored)."""

    DUE = "due"  # not submitted, its due date has not passed
    LATE = "late"  # not submitted, its due date has passed
    SUBMITTED = "submitted"  # submitted by its due date
    SUBMITTED_LATE = "submitted_late"  # submitted after its due date

    @property
    def label(self) -> str:
        return {
            ReturnStatus.DUE: "Not submitted yet",
            ReturnStatus.LATE: "Late",
            ReturnStatus.SUBMITTED: "Submitted",
            ReturnStatus.SUBMITTED_LATE: "Submitted late",
        }[self]

    @property
    def submitted(self) -> bool:
        return self in (ReturnStatus.SUBMITTED, ReturnStatus.SUBMITTED_LATE)


def _day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def status_of(ret: MonitoringReturn, today: date | None = None) -> ReturnStatus:
    today = today or london_today()
    if ret.submitted_at is not None:
        return ReturnStatus.SUBMITTED_LATE if _day(ret.submitted_at) > ret.due else ReturnStatus.SUBMITTED
    return ReturnStatus.LATE if ret.due < today else ReturnStatus.DUE


def is_late(ret: MonitoringReturn, today: date | None = None) -> bool:
    """Its due date has passed and it is not submitted."""
    return status_of(ret, today) is ReturnStatus.LATE


def frozen(ret: MonitoringReturn, today: date | None = None) -> bool:
    """A submitted return is kept as it was from the funder's reporting date on."""
    return ret.submitted_at is not None and (today or london_today()) >= ret.reporting_date.due


# --- who may do what -------------------------------------------------------------------------------------------


def can_write_return(user: Any, ret: MonitoringReturn) -> bool:
    """The partner organisation's own people; nobody else, staff included (they read it)."""
    return bool(user.is_authenticated and user.membership_of(ret.partner.organisation_id) is not None)


def can_read_return(user: Any, ret: MonitoringReturn) -> bool:
    """The partner's people, and the bid's managers (staff and the lead organisation's admins)."""
    return can_write_return(user, ret) or can_manage(user, ret.reporting_date.award.bid)


def can_see_consolidated(user: Any, award: BidAward) -> bool:
    return can_manage(user, award.bid)


def writable(user: Any, ret: MonitoringReturn, today: date | None = None) -> bool:
    return can_write_return(user, ret) and not frozen(ret, today)


def spend_field(category: BudgetCategory) -> str:
    """The form field for the spend on one kind of cost (used by the form and for errors at that field)."""
    return f"spend_{category.value}"


# --- writing ---------------------------------------------------------------------------------------------------


def _check_open(ret: MonitoringReturn, by: User, today: date) -> None:
    if not can_write_return(by, ret):
        raise NotAllowed("Only the partner's own people write its monitoring return.")
    if frozen(ret, today):
        raise Conflict(
            f"The return was submitted and the funder's reporting date ({ret.reporting_date.due:%-d %B %Y}) "
            "has come: it can no longer be changed. Ask the Foundation if something in it is wrong."
        )


def _text(value: str, field_name: str, what: str) -> str:
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise DomainError(f"{what} must be {MAX_TEXT:,} characters or fewer.", field=field_name)
    return text


def _require_words(outcomes: str, story: str) -> None:
    if not outcomes:
        raise DomainError(
            "Say what changed for the young people in this period before you submit.", field="outcomes"
        )
    if not story:
        raise DomainError("Tell one young person's story before you submit.", field="story")


def save_return(
    ret: MonitoringReturn,
    sessions: int | None,
    outcomes: str,
    story: str,
    reach: Mapping[str, int | None],
    spend: Mapping[BudgetCategory, int | None],
    by: User,
    today: date | None = None,
) -> MonitoringReturn:
    """Save the partner's figures and words. Towns and kinds of cost left empty or at 0 are dropped. Everything
    is checked before anything changes; a submitted return keeps its outcomes and story."""
    today = today or london_today()
    _check_open(ret, by, today)
    if sessions is None:
        raise DomainError("Enter the number of sessions delivered, 0 if there were none.", field="sessions")
    if sessions < 0 or sessions > MAX_SESSIONS:
        raise DomainError(f"Enter a number of sessions from 0 to {MAX_SESSIONS:,}.", field="sessions")
    outcomes = _text(outcomes, "outcomes", "The outcomes")
    story = _text(story, "story", "The story")
    check_reach(reach)
    for category, amount in spend.items():
        if not isinstance(category, BudgetCategory):
            raise DomainError("Choose a kind of cost from the budget.", field="spend")
        if amount is not None and amount < 0:
            raise DomainError(
                f"The spend on {category.label.lower()} cannot be below zero.", field=spend_field(category)
            )
        if amount is not None and amount > MAX_AMOUNT_PENCE:
            raise DomainError(
                f"The spend on {category.label.lower()} must be £10,000,000 or less.",
                field=spend_field(category),
            )
    if ret.submitted_at is not None:
        _require_words(outcomes, story)
    ret.sessions_delivered = sessions
    ret.outcomes = outcomes
    ret.story = story
    _replace_reach(ret, {town: n for town, n in reach.items() if n})
    _replace_spend(ret, {category: n for category, n in spend.items() if n})
    db.session.flush()
    return ret


def _replace_reach(ret: MonitoringReturn, wanted: dict[str, int]) -> None:
    # Rows that stay are updated in place: deleting and inserting the same key in one flush would clash.
    ret.reach_rows = [row for row in ret.reach_rows if row.town in wanted]
    have = {row.town: row for row in ret.reach_rows}
    for town, number in sorted(wanted.items()):
        if town in have:
            have[town].young_people = number
        else:
            ret.reach_rows.append(ReturnReach(town=town, young_people=number))


def _replace_spend(ret: MonitoringReturn, wanted: dict[BudgetCategory, int]) -> None:
    ret.spend_rows = [row for row in ret.spend_rows if row.category in wanted]
    have = {row.category: row for row in ret.spend_rows}
    for category, amount in wanted.items():
        if category in have:
            have[category].amount_pence = amount
        else:
            ret.spend_rows.append(ReturnSpend(category=category, amount_pence=amount))


def submit_return(ret: MonitoringReturn, by: User, today: date | None = None) -> MonitoringReturn:
    """Send the return to the Foundation: it needs its outcomes and story. Who and when are recorded."""
    today = today or london_today()
    _check_open(ret, by, today)
    if ret.submitted_at is not None:
        raise Conflict(
            f"The return was already submitted on {_day(ret.submitted_at):%-d %B %Y}: save your corrections "
            "instead."
        )
    _require_words(ret.outcomes.strip(), ret.story.strip())
    ret.submitted_by, ret.submitted_at = by, utcnow()
    return ret


# --- reminders -------------------------------------------------------------------------------------------------


def send_return_reminders(today: date | None = None) -> int:
    """Remind each partner of returns due in 14 and 3 days, and of one overdue since yesterday (each once)."""
    today = today or london_today()
    due = list(
        db.session.scalars(
            sa.select(MonitoringReturn)
            .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
            .join(BidAward, BidAward.id == AwardReportingDate.award_id)
            .join(Bid, Bid.id == BidAward.bid_id)
            .where(
                MonitoringReturn.submitted_at.is_(None),
                MonitoringReturn.due <= RETURN_REMINDERS.horizon(today),
                AwardReportingDate.due > today,
                Bid.status.in_(WON),
            )
            .options(
                contains_eager(MonitoringReturn.reporting_date)
                .contains_eager(AwardReportingDate.award)
                .contains_eager(BidAward.bid)
                .joinedload(Bid.opportunity)
                .joinedload(FundingOpportunity.funder),
                joinedload(MonitoringReturn.partner)
                .joinedload(BidPartner.organisation)
                .selectinload(Organisation.memberships)
                .joinedload(Membership.user),
            )
            .order_by(MonitoringReturn.due, MonitoringReturn.id)
        )
    )
    return RETURN_REMINDERS.send(due, today, lambda r: r.due, _remind_partner)


def _when(left: int) -> str:
    return "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")


def _remind_partner(ret: MonitoringReturn, left: int, window: int) -> None:
    bid = ret.reporting_date.award.bid
    org = ret.partner.organisation
    link = url_for("bids.monitoring_return", return_id=ret.id)
    if left < 0:
        late = -left
        notify_members(
            org,
            NotificationKind.GENERAL,
            f"Monitoring return overdue: {bid.title}",
            "bids/return_overdue",
            link=link,
            ret=ret,
            bid=bid,
            org=org,
            days_late=late,
        )
        return
    notify_members(
        org,
        NotificationKind.GENERAL,
        f"Monitoring return due {_when(left)}: {bid.title}",
        "bids/return_reminder",
        link=link,
        ret=ret,
        bid=bid,
        org=org,
        when=_when(left),
    )


# --- reading ---------------------------------------------------------------------------------------------------


def load_return(return_id: int) -> MonitoringReturn | None:
    """A return with its bid, partner, figures and the partner's budget, in a fixed number of queries."""
    return db.session.get(
        MonitoringReturn,
        return_id,
        options=[
            joinedload(MonitoringReturn.reporting_date)
            .joinedload(AwardReportingDate.award)
            .joinedload(BidAward.bid)
            .options(
                joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder),
                joinedload(Bid.lead_organisation),
            ),
            joinedload(MonitoringReturn.partner).options(
                joinedload(BidPartner.organisation), selectinload(BidPartner.budget_lines)
            ),
            joinedload(MonitoringReturn.submitted_by),
            selectinload(MonitoringReturn.reach_rows),
            selectinload(MonitoringReturn.spend_rows),
        ],
    )


def budget_by_category(partner: BidPartner) -> dict[BudgetCategory, int]:
    """The partner's budget by kind of cost, from its loaded lines."""
    totals = {c: 0 for c in BudgetCategory}
    for line in partner.budget_lines:
        totals[line.category] += line.amount_pence
    return totals


def late_returns(today: date | None = None) -> list[MonitoringReturn]:
    """Returns of won bids whose due date has passed without them being submitted, longest overdue first."""
    today = today or london_today()
    return list(
        db.session.scalars(
            sa.select(MonitoringReturn)
            .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
            .join(BidAward, BidAward.id == AwardReportingDate.award_id)
            .join(Bid, Bid.id == BidAward.bid_id)
            .where(MonitoringReturn.submitted_at.is_(None), MonitoringReturn.due < today, Bid.status.in_(WON))
            .options(
                contains_eager(MonitoringReturn.reporting_date)
                .contains_eager(AwardReportingDate.award)
                .contains_eager(BidAward.bid),
                joinedload(MonitoringReturn.partner).joinedload(BidPartner.organisation),
            )
            .order_by(MonitoringReturn.due, MonitoringReturn.id)
        )
    )


def returns_submitted_by(user: User) -> list[tuple[MonitoringReturn, int, date]]:
    """(return, bid id, the funder's reporting date) for each return the person submitted."""
    rows = db.session.execute(
        sa.select(MonitoringReturn, BidAward.bid_id, AwardReportingDate.due)
        .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
        .join(BidAward, BidAward.id == AwardReportingDate.award_id)
        .where(MonitoringReturn.submitted_by_id == user.id)
        .order_by(MonitoringReturn.id)
    )
    return [(ret, bid_id, due) for ret, bid_id, due in rows.tuples()]


# --- the consolidated return -----------------------------------------------------------------------------------


def _zero() -> dict[BudgetCategory, int]:
    return {c: 0 for c in BudgetCategory}


@dataclass(frozen=True)
class PartnerFigures:
    """One partner's return in the consolidated return. Figures count only once it is submitted."""

    ret: MonitoringReturn
    status: ReturnStatus
    young_people: int
    sessions: int
    spend: dict[BudgetCategory, int]
    spent_to_date: dict[BudgetCategory, int]
    budget: dict[BudgetCategory, int]

    @property
    def name(self) -> str:
        return self.ret.partner.organisation.name

    @property
    def counted(self) -> bool:
        return self.status.submitted

    @property
    def spend_pence(self) -> int:
        return sum(self.spend.values())

    @property
    def spent_to_date_pence(self) -> int:
        return sum(self.spent_to_date.values())

    @property
    def budget_pence(self) -> int:
        return sum(self.budget.values())


@dataclass(frozen=True)
class TownFigures:
    town: str
    young_people: int
    partners: list[tuple[str, int]]  # (partner, young people), largest first


@dataclass(frozen=True)
class CategoryFigures:
    category: BudgetCategory
    spent_pence: int  # in this period
    spent_to_date_pence: int  # this period and the earlier ones
    budget_pence: int

    @property
    def left_pence(self) -> int:
        return self.budget_pence - self.spent_to_date_pence


@dataclass(frozen=True)
class Consolidated:
    reporting_date: AwardReportingDate
    today: date
    partners: list[PartnerFigures]
    towns: list[TownFigures]
    categories: list[CategoryFigures]
    young_people: int
    sessions: int
    late: list[PartnerFigures] = field(default_factory=list)

    @property
    def award(self) -> BidAward:
        return self.reporting_date.award

    @property
    def bid(self) -> Bid:
        return self.reporting_date.award.bid

    @property
    def submitted_count(self) -> int:
        return sum(1 for p in self.partners if p.counted)

    @property
    def spent_pence(self) -> int:
        return sum(c.spent_pence for c in self.categories)

    @property
    def spent_to_date_pence(self) -> int:
        return sum(c.spent_to_date_pence for c in self.categories)

    @property
    def budget_pence(self) -> int:
        return sum(c.budget_pence for c in self.categories)

    @property
    def period_start(self) -> date | None:
        """The previous reporting date of the award: the period reported on starts the day after."""
        earlier = [r.due for r in self.award.reporting_dates if r.due < self.reporting_date.due]
        return max(earlier) if earlier else None


def load_reporting_date(award_id: int, reporting_date_id: int) -> AwardReportingDate | None:
    """A reporting date of the award, with the award, its other dates and its bid (with the partners, for the
    permission check)."""
    return db.session.scalar(
        sa.select(AwardReportingDate)
        .where(AwardReportingDate.id == reporting_date_id, AwardReportingDate.award_id == award_id)
        .options(
            joinedload(AwardReportingDate.award).options(
                selectinload(BidAward.reporting_dates),
                joinedload(BidAward.bid).options(
                    joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder),
                    joinedload(Bid.lead_organisation),
                    selectinload(Bid.partners),
                ),
            )
        )
    )


def consolidated(reporting: AwardReportingDate, today: date | None = None) -> Consolidated:
    """The consolidated return for one reporting date: five queries, whatever the number of partners, towns and
    kinds of cost (the returns, their reach and spend, the partners' budgets, the spend to date)."""
    today = today or london_today()
    returns = list(
        db.session.scalars(
            sa.select(MonitoringReturn)
            .join(MonitoringReturn.partner)
            .join(BidPartner.organisation)
            .where(MonitoringReturn.reporting_date_id == reporting.id)
            .options(
                contains_eager(MonitoringReturn.partner).contains_eager(BidPartner.organisation),
                joinedload(MonitoringReturn.submitted_by),
                selectinload(MonitoringReturn.reach_rows),
                selectinload(MonitoringReturn.spend_rows),
            )
            .order_by(Organisation.name, MonitoringReturn.id)
        ).unique()
    )
    partner_ids = [r.partner_id for r in returns]
    budgets: dict[int, dict[BudgetCategory, int]] = {pid: _zero() for pid in partner_ids}
    if partner_ids:
        for pid, category, total in db.session.execute(
            sa.select(
                BidBudgetLine.partner_id, BidBudgetLine.category, sa.func.sum(BidBudgetLine.amount_pence)
            )
            .where(BidBudgetLine.partner_id.in_(partner_ids))
            .group_by(BidBudgetLine.partner_id, BidBudgetLine.category)
        ).tuples():
            budgets[pid][category] = int(total or 0)
    to_date: dict[int, dict[BudgetCategory, int]] = {pid: _zero() for pid in partner_ids}
    for pid, category, total in db.session.execute(
        sa.select(MonitoringReturn.partner_id, ReturnSpend.category, sa.func.sum(ReturnSpend.amount_pence))
        .join(ReturnSpend, ReturnSpend.return_id == MonitoringReturn.id)
        .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
        .where(
            AwardReportingDate.award_id == reporting.award_id,
            AwardReportingDate.due <= reporting.due,
            MonitoringReturn.submitted_at.is_not(None),
        )
        .group_by(MonitoringReturn.partner_id, ReturnSpend.category)
    ).tuples():
        to_date.setdefault(pid, _zero())[category] = int(total or 0)

    partners: list[PartnerFigures] = []
    towns: dict[str, list[tuple[str, int]]] = {}
    period = _zero()
    young_people = sessions = 0
    for ret in returns:
        status = status_of(ret, today)
        spend = _zero()
        if status.submitted:
            for row in ret.spend_rows:
                spend[row.category] += row.amount_pence
                period[row.category] += row.amount_pence
            for reach in ret.reach_rows:
                towns.setdefault(reach.town, []).append((ret.partner.organisation.name, reach.young_people))
        figures = PartnerFigures(
            ret=ret,
            status=status,
            young_people=sum(r.young_people for r in ret.reach_rows) if status.submitted else 0,
            sessions=ret.sessions_delivered if status.submitted else 0,
            spend=spend,
            spent_to_date=to_date[ret.partner_id],
            budget=budgets[ret.partner_id],
        )
        young_people += figures.young_people
        sessions += figures.sessions
        partners.append(figures)
    categories = [
        CategoryFigures(
            category=c,
            spent_pence=period[c],
            spent_to_date_pence=sum(p.spent_to_date[c] for p in partners),
            budget_pence=sum(p.budget[c] for p in partners),
        )
        for c in BudgetCategory
    ]
    town_rows = [
        TownFigures(town, sum(n for _, n in who), sorted(who, key=lambda w: (-w[1], w[0])))
        for town, who in towns.items()
    ]
    town_rows.sort(key=lambda t: (-t.young_people, t.town))
    return Consolidated(
        reporting_date=reporting,
        today=today,
        partners=partners,
        towns=town_rows,
        categories=categories,
        young_people=young_people,
        sessions=sessions,
        late=[p for p in partners if p.status is ReturnStatus.LATE],
    )
