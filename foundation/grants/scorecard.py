"""The public scorecard: what the seed-grant fund has awarded, where, to reach whom, and what has been paid.

Only grants of decided rounds whose decision is an award are published. The page reads stored totals (one row per
decided round, per round and area, per round and town: `ScorecardTotal`), so it costs three small queries however
many grants there are; the totals are worked out again, in SQL and for the rounds concerned only, in the same
transaction as any decision, payment, report or round change that moves them (see "keeping the stored totals
true" below). The grants themselves are listed a round at a time.

A grant serving several towns counts once, in full, under each town it serves: the per-town figures answer "how
much went to projects serving this town", so they add up to more than the total awarded. Money paid is the sum of
the grant's paid instalments (each recorded as a ledger PAYMENT from the grant's account). Young people reached is
planned (from the applications) and reported (from end-of-grant reports staff have accepted).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Session

from foundation.extensions import Model, db
from foundation.grants.models import (
    Application,
    Decision,
    DecisionOutcome,
    Grant,
    GrantReport,
    GrantRound,
    GrantStatus,
    Instalment,
    ReportStatus,
    RoundStatus,
    ScorecardTotal,
    TotalsDimension,
)
from foundation.members.models import Area, Organisation
from foundation.pagination import Page, paginate_rows
from foundation.types import LONDON

AWARD_OUTCOMES = (DecisionOutcome.AWARD_FULL, DecisionOutcome.AWARD_PART)


# --- the published grants ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedGrant:
    grant_id: int
    reference: str | None
    round_id: int
    round_code: str
    round_name: str
    organisation: Organisation
    project_title: str
    summary: str
    towns: list[str]
    amount_applied_pence: int
    amount_pence: int
    paid_pence: int
    decided_at: datetime
    starts_on: date | None
    ends_on: date | None
    planned_reach: int | None
    reported_reach: int | None  # only from an accepted end-of-grant report

    @property
    def award_date(self) -> date:
        return self.decided_at.astimezone(LONDON).date()


def _paid_by_grant(round_ids: Sequence[int] | None = None) -> sa.Subquery:
    """Money paid per grant, of these rounds only when given (so a round's page sums only its own payments)."""
    stmt = sa.select(Instalment.grant_id, sa.func.sum(Instalment.amount_pence).label("paid")).where(
        Instalment.paid_at.is_not(None)
    )
    if round_ids is not None:
        stmt = stmt.where(
            Instalment.grant_id.in_(sa.select(Grant.id).where(Grant.round_id.in_(list(round_ids))))
        )
    return stmt.group_by(Instalment.grant_id).subquery("paid_by_grant")


def _published_conditions() -> tuple[sa.ColumnElement[bool], ...]:
    # A withdrawn offer paid nothing and awards nothing: it is not published. A grant ended early is, for what
    # was paid (its amount became that when it ended).
    return (
        GrantRound.status == RoundStatus.DECIDED,
        Decision.outcome.in_(AWARD_OUTCOMES),
        Grant.status != GrantStatus.WITHDRAWN,
    )


def _published_rows(round_ids: Sequence[int]) -> sa.Subquery:
    """One row per published grant of these rounds with the figures the totals are made of."""
    paid = _paid_by_grant(round_ids)
    return (
        sa.select(
            Grant.id.label("grant_id"),
            Grant.round_id.label("round_id"),
            Grant.amount_pence.label("amount"),
            sa.func.coalesce(paid.c.paid, 0).label("paid"),
            Application.young_people_count.label("planned"),
            GrantReport.young_people_reached.label("reported"),
            Application.towns.label("towns"),
            Organisation.area.label("area"),
        )
        .join(Application, Application.id == Grant.application_id)
        .join(Decision, Decision.application_id == Grant.application_id)
        .join(GrantRound, GrantRound.id == Grant.round_id)
        .join(Organisation, Organisation.id == Grant.organisation_id)
        .outerjoin(paid, paid.c.grant_id == Grant.id)
        .outerjoin(
            GrantReport,
            sa.and_(GrantReport.grant_id == Grant.id, GrantReport.status == ReportStatus.ACCEPTED),
        )
        .where(*_published_conditions(), Grant.round_id.in_(list(round_ids)))
        .subquery("published")
    )


def _published_grants_query(round_id: int | None = None) -> sa.Select[Any]:
    """Published grants, newest round first, then by organisation name; one round's if asked."""
    paid = _paid_by_grant(None if round_id is None else [round_id])
    stmt = (
        sa.select(
            Grant.id,
            Application.reference,
            Grant.round_id,
            GrantRound.code,
            GrantRound.name,
            Organisation,
            Application.project_title,
            Application.summary,
            Application.towns,
            Application.amount_requested_pence,
            Grant.amount_pence,
            sa.func.coalesce(paid.c.paid, 0),
            Decision.decided_at,
            Application.starts_on,
            Application.ends_on,
            Application.young_people_count,
            GrantReport.young_people_reached,
        )
        .join(Application, Application.id == Grant.application_id)
        .join(Decision, Decision.application_id == Grant.application_id)
        .join(GrantRound, GrantRound.id == Grant.round_id)
        .join(Organisation, Organisation.id == Grant.organisation_id)
        .outerjoin(paid, paid.c.grant_id == Grant.id)
        .outerjoin(
            GrantReport,
            sa.and_(GrantReport.grant_id == Grant.id, GrantReport.status == ReportStatus.ACCEPTED),
        )
        .where(*_published_conditions())
        .order_by(
            GrantRound.decided_at.desc().nulls_last(), GrantRound.id.desc(), Organisation.name, Grant.id
        )
    )
    return stmt if round_id is None else stmt.where(Grant.round_id == round_id)


def _published(r: sa.Row[Any]) -> PublishedGrant:
    return PublishedGrant(
        grant_id=r[0],
        reference=r[1],
        round_id=r[2],
        round_code=r[3],
        round_name=r[4],
        organisation=r[5],
        project_title=r[6],
        summary=r[7],
        towns=_clean_towns(r[8]),
        amount_applied_pence=int(r[9] or 0),
        amount_pence=int(r[10]),
        paid_pence=int(r[11] or 0),
        decided_at=r[12],
        starts_on=r[13],
        ends_on=r[14],
        planned_reach=r[15],
        reported_reach=r[16],
    )


def published_grants() -> list[PublishedGrant]:
    """Every published grant (the open data), in one query."""
    return [_published(r) for r in db.session.execute(_published_grants_query()).all()]


ROUND_GRANTS_PAGE_SIZE = 50


def round_grants_page(round_id: int, page: int) -> Page[PublishedGrant]:
    """One page of a round's published grants (none until the round is decided)."""
    rows = paginate_rows(_published_grants_query(round_id), page, ROUND_GRANTS_PAGE_SIZE)
    return Page([_published(r) for r in rows.items], rows.page, rows.per_page, rows.total)


def _clean_towns(towns: Sequence[str] | None) -> list[str]:
    seen: list[str] = []
    for town in towns or []:
        name = str(town).strip()
        if name and name not in seen:
            seen.append(name)
    return seen


# --- totals --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    grants: int = 0
    awarded_pence: int = 0
    paid_pence: int = 0
    planned_reach: int = 0
    reported_reach: int = 0
    reports_accepted: int = 0

    @property
    def unpaid_pence(self) -> int:
        return self.awarded_pence - self.paid_pence


@dataclass(frozen=True)
class RoundRow:
    round_id: int
    code: str
    name: str
    decided_at: datetime | None
    totals: Totals


@dataclass(frozen=True)
class NamedTotals:
    name: str
    totals: Totals


@dataclass(frozen=True)
class Scorecard:
    rounds: list[RoundRow]
    overall: Totals
    by_area: list[NamedTotals]
    by_town: list[NamedTotals]

    @property
    def has_grants(self) -> bool:
        return self.overall.grants > 0


def _totals(row: Any) -> Totals:
    return Totals(
        grants=int(row.grants or 0),
        awarded_pence=int(row.awarded_pence or 0),
        paid_pence=int(row.paid_pence or 0),
        planned_reach=int(row.planned_reach or 0),
        reported_reach=int(row.reported_reach or 0),
        reports_accepted=int(row.reports_accepted or 0),
    )


_FIGURES = ("grants", "awarded_pence", "paid_pence", "planned_reach", "reported_reach", "reports_accepted")


def _stored_sums() -> list[sa.Label[Any]]:
    return [sa.func.coalesce(sa.func.sum(getattr(ScorecardTotal, f)), 0).label(f) for f in _FIGURES]


def totals_by_round() -> list[RoundRow]:
    """Every decided round (also those that awarded nothing), newest first."""
    stored = sa.orm.aliased(
        ScorecardTotal,
        sa.select(ScorecardTotal).where(ScorecardTotal.dimension == TotalsDimension.ROUND).subquery(),
    )
    rows = db.session.execute(
        sa.select(
            GrantRound.id,
            GrantRound.code,
            GrantRound.name,
            GrantRound.decided_at,
            *(getattr(stored, f).label(f) for f in _FIGURES),
        )
        .outerjoin(stored, stored.round_id == GrantRound.id)
        .where(GrantRound.status == RoundStatus.DECIDED)
        .order_by(GrantRound.decided_at.desc().nulls_last(), GrantRound.id.desc())
    ).all()
    return [RoundRow(r.id, r.code, r.name, r.decided_at, _totals(r)) for r in rows]


def totals_by_area() -> list[NamedTotals]:
    rows = db.session.execute(
        sa.select(ScorecardTotal.name, *_stored_sums())
        .where(ScorecardTotal.dimension == TotalsDimension.AREA)
        .group_by(ScorecardTotal.name)
    ).all()
    found = {r.name: _totals(r) for r in rows}
    # Both areas always shown, so a zero is visible rather than missing.
    return [NamedTotals(area.label, found.get(area.value, Totals())) for area in Area]


def totals_by_town() -> list[NamedTotals]:
    """Per town served, each grant counted once in full under every town it serves; most money first."""
    rows = db.session.execute(
        sa.select(ScorecardTotal.name, *_stored_sums())
        .where(ScorecardTotal.dimension == TotalsDimension.TOWN)
        .group_by(ScorecardTotal.name)
        .order_by(sa.desc("awarded_pence"), ScorecardTotal.name)
    ).all()
    return [NamedTotals(r.name, _totals(r)) for r in rows]


def build_scorecard() -> Scorecard:
    """Three small queries over the stored totals whatever the number of grants; the grants themselves are
    listed per round."""
    rounds = totals_by_round()
    by_area = totals_by_area()
    by_town = totals_by_town()
    overall = Totals(
        grants=sum(r.totals.grants for r in rounds),
        awarded_pence=sum(r.totals.awarded_pence for r in rounds),
        paid_pence=sum(r.totals.paid_pence for r in rounds),
        planned_reach=sum(r.totals.planned_reach for r in rounds),
        reported_reach=sum(r.totals.reported_reach for r in rounds),
        reports_accepted=sum(r.totals.reports_accepted for r in rounds),
    )
    return Scorecard(rounds=rounds, overall=overall, by_area=by_area, by_town=by_town)


# --- keeping the stored totals true ----------------------------------------------------------------------------------
# The totals are worked out from the grants, payments and reports of a round whenever one of them changes, in the
# same transaction, just before it commits: a decision, payment or accepted report and the public figures it moves
# stand or fall together. Changes are noticed on the ORM session (every service writes through it), so no code
# path can forget to refresh; a round's row lock makes two transactions refreshing one round take turns, the second
# then reading what the first committed.


def _sums(pub: sa.Subquery) -> list[sa.Label[Any]]:
    return [
        sa.func.count(pub.c.grant_id).label("grants"),
        sa.func.coalesce(sa.func.sum(pub.c.amount), 0).label("awarded_pence"),
        sa.func.coalesce(sa.func.sum(pub.c.paid), 0).label("paid_pence"),
        sa.func.coalesce(sa.func.sum(pub.c.planned), 0).label("planned_reach"),
        sa.func.coalesce(sa.func.sum(pub.c.reported), 0).label("reported_reach"),
        sa.func.count(pub.c.reported).label("reports_accepted"),
    ]


def _town_values(towns: sa.ColumnElement[Any]) -> sa.FromClause:
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.json_array_elements_text(towns).table_valued("value").lateral("town")
    return sa.func.json_each(towns).table_valued("value").alias("town")


def computed_totals(round_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The totals rows of these rounds worked out from their grants (none for a round not decided)."""
    if not round_ids:
        return []
    pub = _published_rows(round_ids)
    out: list[dict[str, Any]] = []

    def rows(dimension: TotalsDimension, stmt: sa.Select[Any]) -> None:
        for r in db.session.execute(stmt):
            label = r.name.value if isinstance(r.name, enum.Enum) else str(r.name)
            out.append(
                {"round_id": r.round_id, "dimension": dimension, "name": label}
                | {f: int(getattr(r, f) or 0) for f in _FIGURES}
            )

    rows(
        TotalsDimension.ROUND,
        sa.select(pub.c.round_id, sa.literal("").label("name"), *_sums(pub)).group_by(pub.c.round_id),
    )
    rows(
        TotalsDimension.AREA,
        sa.select(pub.c.round_id, pub.c.area.label("name"), *_sums(pub)).group_by(pub.c.round_id, pub.c.area),
    )
    town = _town_values(pub.c.towns)
    name = sa.func.trim(town.c.value)
    rows(
        TotalsDimension.TOWN,
        sa.select(pub.c.round_id, name.label("name"), *_sums(pub))
        .select_from(pub)
        .join(town, sa.true())
        .where(name != "")
        .group_by(pub.c.round_id, name),
    )
    return out


def stored_totals(round_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The stored totals rows of these rounds, in the shape `computed_totals` returns."""
    found = db.session.scalars(sa.select(ScorecardTotal).where(ScorecardTotal.round_id.in_(list(round_ids))))
    return [
        {"round_id": t.round_id, "dimension": t.dimension, "name": t.name}
        | {f: getattr(t, f) for f in _FIGURES}
        for t in found
    ]


def refresh_totals(round_ids: Iterable[int]) -> None:
    """Work out these rounds' stored totals again, inside the current transaction."""
    ids = sorted(set(round_ids))
    if not ids:
        return
    # Whoever refreshes a round second waits here for the first to commit, then reads its changes. FOR NO KEY
    # UPDATE: rows that merely point at the round (ledger transactions, grants) take key-share locks on it, which
    # this must not wait for, or two payments in one round would deadlock.
    db.session.execute(
        sa.select(GrantRound.id)
        .where(GrantRound.id.in_(ids))
        .order_by(GrantRound.id)
        .with_for_update(key_share=True)
    )
    db.session.execute(
        sa.delete(ScorecardTotal).where(ScorecardTotal.round_id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    rows = computed_totals(ids)
    if rows:
        db.session.execute(sa.insert(ScorecardTotal), rows)


def refresh_all_totals() -> int:
    """Every round's stored totals worked out again (after data was loaded without the ORM). Returns the rounds."""
    ids = list(db.session.scalars(sa.select(GrantRound.id)))
    for start in range(0, len(ids), 500):
        refresh_totals(ids[start : start + 500])
    return len(ids)


_CHANGED_KEY = "foundation.grants.scorecard.changed"


@dataclass
class _Changed:
    rounds: set[int] = field(default_factory=set)
    grants: set[int] = field(default_factory=set)
    applications: set[int] = field(default_factory=set)
    organisations: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.rounds or self.grants or self.applications or self.organisations)


def _changed(obj: Model, attr: str) -> bool:
    return sa.inspect(obj).attrs[attr].history.has_changes()


@sa.event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    changed: _Changed = session.info.setdefault(_CHANGED_KEY, _Changed())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, GrantRound):
            if obj.id is not None:
                changed.rounds.add(obj.id)
        elif isinstance(obj, Grant | Application):
            # None until the flush when a new grant or application was given its round as an object.
            round_id: int | None = obj.round_id
            if round_id is not None and (
                isinstance(obj, Grant) or _changed(obj, "towns") or _changed(obj, "young_people_count")
            ):
                changed.rounds.add(round_id)
        elif isinstance(obj, Decision):
            if obj.application_id is not None:
                changed.applications.add(obj.application_id)
        elif isinstance(obj, Instalment | GrantReport):
            if obj.grant_id is not None:
                changed.grants.add(obj.grant_id)
        elif isinstance(obj, Organisation):
            org_id: int | None = obj.id  # None on a new organisation, before its first flush
            if org_id is not None and _changed(obj, "area"):
                changed.organisations.add(org_id)


@sa.event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # what is still pending is noticed too (commit would flush it next anyway)
    changed: _Changed | None = session.info.pop(_CHANGED_KEY, None)
    if not changed:
        return
    rounds = set(changed.rounds)
    if changed.grants:
        rounds.update(session.scalars(sa.select(Grant.round_id).where(Grant.id.in_(changed.grants))))
    if changed.applications:
        rounds.update(
            session.scalars(sa.select(Application.round_id).where(Application.id.in_(changed.applications)))
        )
    if changed.organisations:
        rounds.update(
            session.scalars(
                sa.select(Grant.round_id).where(Grant.organisation_id.in_(changed.organisations)).distinct()
            )
        )
    if not rounds:
        return
    # Only rounds that are decided, or were (they still have rows), have totals to keep.
    kept = sa.select(ScorecardTotal.round_id).where(ScorecardTotal.round_id == GrantRound.id)
    wanted = session.scalars(
        sa.select(GrantRound.id).where(
            GrantRound.id.in_(rounds),
            sa.or_(GrantRound.status == RoundStatus.DECIDED, kept.exists()),
        )
    ).all()
    refresh_totals(wanted)
    session.info.pop(_CHANGED_KEY, None)  # the refresh's own writes change nothing it depends on


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED_KEY, None)


# --- charts --------------------------------------------------------------------------------------------------------
# Horizontal bar charts drawn as inline SVG by the template (no scripts: the CSP forbids them). Geometry is worked
# out here; colours come from CSS classes, since inline styles are refused too.


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    value: int
    text: str
    text_x: float
    text_y: float
    series: str


@dataclass(frozen=True)
class BarGroup:
    label: str
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    desc: str
    series: list[Series]
    groups: list[BarGroup]
    ticks: list[Tick]
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int


def nice_step(value: int, steps: int = 4) -> int:
    """A round axis step (1, 2 or 5 x 10^n, at least 1) so that `steps` of them reach value."""
    raw = max(value, 1) / steps
    exponent = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        if multiple * exponent >= raw:
            return max(1, int(multiple * exponent))
    return int(10 * exponent)


def pounds_text(pence: int) -> str:
    whole, part = divmod(abs(pence), 100)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{whole:,}" if part == 0 else f"{sign}£{whole:,}.{part:02d}"


def count_text(n: int) -> str:
    return f"{n:,}"


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    fmt: Callable[[int], str],
    bar_height: int = 14,
) -> BarChart:
    """A horizontal bar chart: one group per row, one bar per series, all on one shared scale."""
    width, label_w, right_pad, top, axis_h = 720, 190, 90, 8, 26
    plot_w = width - label_w - right_pad
    group_gap = 12
    group_h = bar_height * len(series) + group_gap
    largest = max((v for _, values in rows for v in values), default=0)
    step = nice_step(largest)
    tick_count = max(1, math.ceil(largest / step))
    top_value = step * tick_count
    scale = plot_w / top_value
    groups = []
    for i, (label, values) in enumerate(rows):
        y0 = top + i * group_h
        bars = []
        for j, (s, value) in enumerate(zip(series, values, strict=True)):
            y = y0 + j * bar_height
            w = max(0.0, value * scale)
            bars.append(
                Bar(
                    x=label_w, y=y, width=round(w, 2), height=bar_height - 2, css=s.css, value=value,
                    text=fmt(value), text_x=round(label_w + w + 4, 2), text_y=y + bar_height - 4, series=s.name,
                )
            )  # fmt: skip
        groups.append(BarGroup(_short(label), y0 + (bar_height * len(series)) / 2 + 4, bars))
    plot_bottom = top + len(rows) * group_h
    ticks = [Tick(round(label_w + plot_w * k / tick_count, 2), fmt(step * k)) for k in range(tick_count + 1)]
    return BarChart(
        id=chart_id, title=title, desc=desc, series=list(series), groups=groups, ticks=ticks, width=width,
        height=plot_bottom + axis_h, plot_left=label_w, plot_top=top, plot_bottom=plot_bottom,
    )  # fmt: skip


AWARDED = Series("Awarded", "bar-awarded")
PAID = Series("Paid", "bar-paid")
PLANNED = Series("Planned", "bar-planned")
REPORTED = Series("Reported", "bar-reported")
CHART_ROUNDS = 12  # rounds drawn in the per-round charts; the tables list every round
CHART_TOWNS = 20


def charts(card: Scorecard) -> dict[str, BarChart]:
    recent = list(reversed(card.rounds[:CHART_ROUNDS]))  # oldest of the recent rounds at the top
    more = len(card.rounds) - len(recent)
    rounds_note = (
        f" The {len(recent)} most recent rounds are drawn; the table lists all {len(card.rounds)}."
        if more
        else ""
    )
    towns = card.by_town[:CHART_TOWNS]
    towns_note = (
        f" The {len(towns)} towns with most money are drawn; the table lists all {len(card.by_town)}."
        if len(card.by_town) > len(towns)
        else ""
    )
    return {
        "money": bar_chart(
            "chart-money",
            "Money awarded and paid, by round",
            "For each decided round, the total awarded and the total paid so far." + rounds_note,
            [AWARDED, PAID],
            [(r.name, [r.totals.awarded_pence, r.totals.paid_pence]) for r in recent],
            pounds_text,
        ),
        "area": bar_chart(
            "chart-area",
            "Money awarded and paid, by area",
            "Totals by the area of the recipient organisation: Wiltshire or Swindon.",
            [AWARDED, PAID],
            [(a.name, [a.totals.awarded_pence, a.totals.paid_pence]) for a in card.by_area],
            pounds_text,
        ),
        "town": bar_chart(
            "chart-town",
            "Money awarded, by town served",
            "Total awarded to projects serving each town. A project serving several towns counts in full under "
            "each of them." + towns_note,
            [AWARDED],
            [(t.name, [t.totals.awarded_pence]) for t in towns],
            pounds_text,
        ),
        "reach": bar_chart(
            "chart-reach",
            "Young people reached, by round",
            "Planned: young people the funded projects set out to reach. Reported: young people reached, from "
            "end-of-grant reports the Foundation has accepted." + rounds_note,
            [PLANNED, REPORTED],
            [(r.name, [r.totals.planned_reach, r.totals.reported_reach]) for r in recent],
            count_text,
        ),
    }
