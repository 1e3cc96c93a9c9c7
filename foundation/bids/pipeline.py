"""The bids pipeline for staff: what is being worked on and what it may bring in, what is due soon, what has been
secured this year, and how often each funder and kind of funder says yes.

Every figure is summed in SQL (a listed bid's budget lines too, in the query that lists it), so each table costs a
fixed number of queries whatever the number of bids, partners and budget lines:

- stages: per undecided stage (idea, forming consortium, drafting, internal sign-off, submitted), the number of
  bids, what they ask for and that amount weighted by the stage's probability of success (STAGE_PROBABILITY; the
  stage's total times the probability, to the nearest penny), with the stage's first bids, soonest deadline first.
  A submitted bid asks for what it asked when it was sent (`asked_pence`); a bid not yet submitted for its budget
  now: its accepted partners' budget lines plus the management fee on them (`bids.fee_for`, per bid);
- deadlines: bids still being written (idea to sign-off) whose funder's deadline is in the next 30 days;
- income: awards made this calendar year (Europe/London) and the funders' payments received this year, by type
  of funder;
- success rates: decided bids (awarded, part awarded, declined) by funder and by type of funder. A withdrawn bid
  never reached the funder's decision, so it is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from foundation.bids.bids import fee_for
from foundation.bids.models import (
    Bid,
    BidAward,
    BidBudgetLine,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BidStep,
    Funder,
    FunderPayment,
    FunderType,
    FundingOpportunity,
)
from foundation.extensions import db
from foundation.pagination import Page, paginate_rows
from foundation.types import london_today

# The chance, in percent, that a bid at each stage ends up funded, used to weight the pipeline. A bid gets more
# likely to succeed as the consortium forms and the case is written and signed off; a submitted bid is as likely
# as the funders' decisions so far suggest (compare with the success rates page and adjust here).
STAGE_PROBABILITY: dict[BidStatus, int] = {
    BidStatus.IDEA: 10,
    BidStatus.FORMING: 20,
    BidStatus.DRAFTING: 30,
    BidStatus.SIGN_OFF: 40,
    BidStatus.SUBMITTED: 50,
}
PIPELINE_STAGES = tuple(STAGE_PROBABILITY)
# Bids still being written: their funder's deadline is still ahead of them.
WRITING_STAGES = (BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF)
DECIDED = (BidStatus.AWARDED, BidStatus.PART_AWARDED, BidStatus.DECLINED)
WON = (BidStatus.AWARDED, BidStatus.PART_AWARDED)

BIDS_PER_STAGE = 8  # shown in each column; the column links to the full list of its stage
DEADLINE_DAYS = 30
DEADLINES_PER_PAGE = 25
FUNDERS_PER_PAGE = 25
RECENT_FEEDBACK = 10


def weighted(total_pence: int, percent: int) -> int:
    """An amount times a probability in percent, to the nearest penny (halves up)."""
    return (total_pence * percent + 50) // 100


def rate_percent(won: int, decided: int) -> float | None:
    """Bids won as a percentage of bids decided; None before any decision."""
    return 100 * won / decided if decided else None


# --- what a bid asks for, in SQL ---------------------------------------------------------------------------------


def _parts_by_bid(statuses: tuple[BidStatus, ...]) -> sa.Subquery:
    """Per bid at these stages: the total of its accepted partners' budget lines (for sums over many bids)."""
    return (
        sa.select(
            BidPartner.bid_id.label("bid_id"),
            sa.cast(sa.func.sum(BidBudgetLine.amount_pence), sa.BigInteger).label("parts_pence"),
        )
        .join(BidBudgetLine, BidBudgetLine.partner_id == BidPartner.id)
        .join(Bid, Bid.id == BidPartner.bid_id)
        .where(BidPartner.status == BidPartnerStatus.ACCEPTED, Bid.status.in_(statuses))
        .group_by(BidPartner.bid_id)
        .subquery("parts")
    )


def _parts_of_bid() -> sa.ScalarSelect[int]:
    """The total of the bid's accepted partners' budget lines, for each row of a short list (read through the
    indexes on the partners' bid and the lines' partner, rather than summing every bid's lines first)."""
    return (
        sa.select(sa.cast(sa.func.sum(BidBudgetLine.amount_pence), sa.BigInteger))
        .join(BidPartner, BidPartner.id == BidBudgetLine.partner_id)
        .where(BidPartner.bid_id == Bid.id, BidPartner.status == BidPartnerStatus.ACCEPTED)
        .correlate(Bid)
        .scalar_subquery()
    )


def _asking(parts: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """What a bid asks for, in SQL: as sent once submitted, else its budget now (its partners' budget lines plus
    the management fee on them, rounded as bids.fee_for)."""
    parts_pence = sa.func.coalesce(parts, 0)
    budget_now = parts_pence + (parts_pence * Bid.fee_basis_points + 5000) // 10000
    return sa.case(
        (sa.and_(Bid.status == BidStatus.SUBMITTED, Bid.asked_pence.is_not(None)), Bid.asked_pence),
        else_=budget_now,
    )


def asking_pence(status: BidStatus, asked_pence: int | None, parts_pence: int, fee_basis_points: int) -> int:
    """`_asking` for one bid whose figures are read: as sent once submitted, else its budget now."""
    if status is BidStatus.SUBMITTED and asked_pence is not None:
        return asked_pence
    return parts_pence + fee_for(parts_pence, fee_basis_points)


# --- stages ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineBid:
    id: int
    title: str
    status: BidStatus
    asking_pence: int
    deadline: date
    funder_name: str
    programme: str


def _listed_columns() -> tuple[InstrumentedAttribute[Any] | sa.ScalarSelect[int], ...]:
    """What a list of bids shows of each (read by `_listed`)."""
    return (
        Bid.id,
        Bid.title,
        Bid.status,
        Bid.asked_pence,
        Bid.fee_basis_points,
        _parts_of_bid(),
        FundingOpportunity.deadline,
        Funder.name,
        FundingOpportunity.programme,
    )


def _listed(row: sa.Row[Any]) -> PipelineBid:
    bid_id, title, status, asked, fee_basis_points, parts, deadline, funder_name, programme = row
    asking = asking_pence(status, asked, int(parts or 0), fee_basis_points)
    return PipelineBid(bid_id, title, status, asking, deadline, funder_name, programme)


@dataclass(frozen=True)
class Stage:
    status: BidStatus
    probability: int  # percent
    count: int
    total_pence: int
    bids: list[PipelineBid]  # the first BIDS_PER_STAGE, soonest deadline first

    @property
    def weighted_pence(self) -> int:
        return weighted(self.total_pence, self.probability)

    @property
    def more(self) -> int:
        return self.count - len(self.bids)


@dataclass(frozen=True)
class Pipeline:
    stages: list[Stage]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.stages)

    @property
    def total_pence(self) -> int:
        return sum(s.total_pence for s in self.stages)

    @property
    def weighted_pence(self) -> int:
        return sum(s.weighted_pence for s in self.stages)


def stages(per_stage: int = BIDS_PER_STAGE) -> Pipeline:
    """Every undecided stage with its count, total and weighted amount, and its first bids (two queries)."""
    parts = _parts_by_bid(PIPELINE_STAGES)
    totals = {
        status: (int(count), int(total or 0))
        for status, count, total in db.session.execute(
            sa.select(
                Bid.status,
                sa.func.count(Bid.id),
                sa.cast(sa.func.sum(_asking(parts.c.parts_pence)), sa.BigInteger),
            )
            .outerjoin(parts, parts.c.bid_id == Bid.id)
            .where(Bid.status.in_(PIPELINE_STAGES))
            .group_by(Bid.status)
        )
    }
    # Each stage's first bids are chosen before their budgets are summed, so only those bids' lines are read.
    ranked = (
        sa.select(
            Bid.id.label("bid_id"),
            sa.func.row_number()
            .over(partition_by=Bid.status, order_by=(FundingOpportunity.deadline, Bid.id))
            .label("place"),
        )
        .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
        .where(Bid.status.in_(PIPELINE_STAGES))
        .subquery("ranked")
    )
    first_bids = (
        sa.select(*_listed_columns())
        .join(ranked, ranked.c.bid_id == Bid.id)
        .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .where(ranked.c.place <= per_stage)
        .order_by(ranked.c.place)
    )
    shown: dict[BidStatus, list[PipelineBid]] = {status: [] for status in PIPELINE_STAGES}
    for row in db.session.execute(first_bids):
        listed = _listed(row)
        shown[listed.status].append(listed)
    return Pipeline(
        [
            Stage(status, STAGE_PROBABILITY[status], *totals.get(status, (0, 0)), shown[status])
            for status in PIPELINE_STAGES
        ]
    )


# --- deadlines ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    bid: PipelineBid
    days_left: int


def deadline_window(today: date) -> tuple[date, date]:
    """The first and last deadline shown: today and 30 days on, both included."""
    return today, today + timedelta(days=DEADLINE_DAYS)


def _deadlines_stmt(today: date) -> sa.Select[Any]:
    first, last = deadline_window(today)
    return (
        sa.select(*_listed_columns())
        .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .where(
            Bid.status.in_(WRITING_STAGES),
            FundingOpportunity.deadline >= first,
            FundingOpportunity.deadline <= last,
        )
        .order_by(FundingOpportunity.deadline, Bid.id)
    )


def _deadline(row: sa.Row[Any], today: date) -> Deadline:
    bid = _listed(row)
    return Deadline(bid, (bid.deadline - today).days)


def deadlines(page: int = 1, today: date | None = None, per_page: int = DEADLINES_PER_PAGE) -> Page[Deadline]:
    """Bids still being written whose funder's deadline is today or in the next 30 days, soonest first."""
    today = today or london_today()
    rows = paginate_rows(_deadlines_stmt(today), page, per_page)
    return Page([_deadline(r, today) for r in rows.items], rows.page, rows.per_page, rows.total)


def all_deadlines(today: date | None = None) -> list[Deadline]:
    today = today or london_today()
    return [_deadline(r, today) for r in db.session.execute(_deadlines_stmt(today))]


# --- income secured ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomeRow:
    funder_type: FunderType | None  # None: every type together
    awards: int
    awarded_pence: int
    received_pence: int


@dataclass(frozen=True)
class Income:
    year: int
    rows: list[IncomeRow]  # every type of funder, in the order of FunderType
    total: IncomeRow


def income(today: date | None = None) -> Income:
    """Awards made (by their decision date) and funders' payments received (by the day the money arrived) in this
    calendar year, by type of funder (two queries)."""
    year = (today or london_today()).year
    first, last = date(year, 1, 1), date(year, 12, 31)
    awarded = {
        kind: (int(count), int(total or 0))
        for kind, count, total in db.session.execute(
            sa.select(
                Funder.funder_type,
                sa.func.count(BidAward.id),
                sa.cast(sa.func.sum(BidAward.amount_pence), sa.BigInteger),
            )
            .select_from(BidAward)
            .join(Bid, Bid.id == BidAward.bid_id)
            .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
            .join(Funder, Funder.id == FundingOpportunity.funder_id)
            .where(BidAward.awarded_on >= first, BidAward.awarded_on <= last)
            .group_by(Funder.funder_type)
        )
    }
    received = {
        kind: int(total or 0)
        for kind, total in db.session.execute(
            sa.select(Funder.funder_type, sa.cast(sa.func.sum(FunderPayment.amount_pence), sa.BigInteger))
            .select_from(FunderPayment)
            .join(BidAward, BidAward.id == FunderPayment.award_id)
            .join(Bid, Bid.id == BidAward.bid_id)
            .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
            .join(Funder, Funder.id == FundingOpportunity.funder_id)
            .where(FunderPayment.received_on >= first, FunderPayment.received_on <= last)
            .group_by(Funder.funder_type)
        )
    }
    rows = [IncomeRow(kind, *awarded.get(kind, (0, 0)), received.get(kind, 0)) for kind in FunderType]
    total = IncomeRow(
        None,
        sum(r.awards for r in rows),
        sum(r.awarded_pence for r in rows),
        sum(r.received_pence for r in rows),
    )
    return Income(year, rows, total)


# --- success rates -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuccessRow:
    name: str  # the funder's name, or the type's label
    funder_type: FunderType | None  # None: every type together
    decided: int
    won: int
    asked_pence: int
    awarded_pence: int
    funder_id: int | None = None

    @property
    def rate(self) -> float | None:
        return rate_percent(self.won, self.decided)


def _decided_figures() -> tuple[sa.ColumnElement[Any], ...]:
    return (
        sa.func.count(Bid.id),
        sa.func.coalesce(sa.func.sum(sa.case((Bid.status.in_(WON), 1), else_=0)), 0),
        sa.cast(sa.func.coalesce(sa.func.sum(Bid.asked_pence), 0), sa.BigInteger),
        sa.cast(sa.func.coalesce(sa.func.sum(BidAward.amount_pence), 0), sa.BigInteger),
    )


def _decided_bids(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return (
        stmt.select_from(Bid)
        .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .outerjoin(BidAward, BidAward.bid_id == Bid.id)
        .where(Bid.status.in_(DECIDED))
    )


def success_by_type() -> tuple[list[SuccessRow], SuccessRow]:
    """Every type of funder (those without a decision yet too) and all of them together (one query)."""
    found = {
        kind: (int(decided), int(won), int(asked), int(awarded))
        for kind, decided, won, asked, awarded in db.session.execute(
            _decided_bids(sa.select(Funder.funder_type, *_decided_figures())).group_by(Funder.funder_type)
        )
    }
    rows = [SuccessRow(kind.label, kind, *found.get(kind, (0, 0, 0, 0))) for kind in FunderType]
    total = SuccessRow(
        "All funders",
        None,
        sum(r.decided for r in rows),
        sum(r.won for r in rows),
        sum(r.asked_pence for r in rows),
        sum(r.awarded_pence for r in rows),
    )
    return rows, total


def _by_funder_stmt() -> sa.Select[Any]:
    decided = sa.func.count(Bid.id)
    return (
        _decided_bids(sa.select(Funder.id, Funder.name, Funder.funder_type, *_decided_figures()))
        .group_by(Funder.id, Funder.name, Funder.funder_type)
        .order_by(decided.desc(), Funder.name, Funder.id)
    )


def _funder_row(row: sa.Row[Any]) -> SuccessRow:
    funder_id, name, kind, decided, won, asked, awarded = row
    return SuccessRow(name, kind, int(decided), int(won), int(asked), int(awarded), funder_id)


def success_by_funder(page: int = 1, per_page: int = FUNDERS_PER_PAGE) -> Page[SuccessRow]:
    """Funders with at least one decided bid, those with the most decisions first (a page at a time)."""
    rows = paginate_rows(_by_funder_stmt(), page, per_page)
    return Page([_funder_row(r) for r in rows.items], rows.page, rows.per_page, rows.total)


def all_success_by_funder() -> list[SuccessRow]:
    return [_funder_row(r) for r in db.session.execute(_by_funder_stmt())]


@dataclass(frozen=True)
class Feedback:
    bid_id: int
    title: str
    funder_name: str
    declined_at: datetime
    feedback: str


def recent_feedback(limit: int = RECENT_FEEDBACK) -> list[Feedback]:
    """What funders said when they declined, the latest first (one query)."""
    rows = db.session.execute(
        sa.select(Bid.id, Bid.title, Funder.name, BidStep.at, Bid.funder_feedback)
        .join(BidStep, sa.and_(BidStep.bid_id == Bid.id, BidStep.to_status == BidStatus.DECLINED))
        .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .where(Bid.status == BidStatus.DECLINED)
        .order_by(BidStep.at.desc(), Bid.id.desc())
        .limit(limit)
    )
    return [Feedback(bid_id, title, name, at, feedback or "") for bid_id, title, name, at, feedback in rows]
