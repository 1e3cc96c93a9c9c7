"""Ranking a round's applications from the panel's scores: the arithmetic, and the queries that feed it.

Definitions (the ranking page says the same in plain words):

Weighted score of one review (0-100)
    sum over the criteria the reviewer scored of (score / max_score * weight), divided by the sum of the weights
    of those scored criteria, times 100. A criterion marked n/a is left out of that review entirely: its weight
    is removed from the denominator, so n/a neither helps nor hurts. A review where every criterion is n/a has
    no score and is left out of everything below.

Mean (raw) score of an application
    the mean of its reviews' weighted scores.

Calibrated score
    Some reviewers mark generously, some harshly, some use a narrow range. For each reviewer, take all their
    submitted weighted scores in the round, their mean and their population standard deviation (SD); each of
    their reviews gets z = (score - reviewer's mean) / reviewer's SD. A reviewer with fewer than two scored
    reviews in the round, or whose scores are all equal (SD 0), gets z = 0 for each review: their scores carry
    no ranking information. An application's calibrated score is the mean z of its reviews, also shown as
    50 + 10 * z for readability (50 is an average application; each 10 points is one SD).

Disagreement
    spread = highest minus lowest weighted score among an application's reviews (needs two or more); the
    application is flagged when the spread is more than the round's disagreement threshold (points out of 100).

Funding line
    Staff fund down the list until the money runs out. Money already awarded in the round is committed and
    has left the round's remaining budget (money.money_for(round).remaining_pence). So the running total adds
    up the amounts requested by applications still waiting for a decision, in ranked order, and the line falls
    before the first one that takes the total past the remaining budget. Awarded applications show what they
    were awarded but are not added again (that money is already counted as committed); declined ones add
    nothing.

Only submitted reviews from reviewers still active on the application (no conflict declared, not excluded, not
a member of the applying organisation) count. The ranking page runs a fixed number of queries whatever the
number of applications: one for the applications, one aggregate for the reviews' weighted sums, one for the
reviewers' names, one for the round's money.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.grants import money
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    Criterion,
    Decision,
    Grant,
    GrantRound,
    GrantStatus,
    ReviewAssignment,
    Score,
)
from foundation.members.models import Membership, Organisation, User
from foundation.types import LONDON

# Applications that appear in a round's ranking: everything that was submitted and not withdrawn.
RANKED_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.MORE_INFO_REQUESTED,
    ApplicationStatus.AWARDED,
    ApplicationStatus.DECLINED,
)
# Waiting for a decision: these are the ones added up down the list towards the funding line.
UNDECIDED_STATUSES = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED})


class SortBy(Enum):
    CALIBRATED = "calibrated"
    RAW = "raw"

    @property
    def label(self) -> str:
        return {SortBy.CALIBRATED: "Calibrated score", SortBy.RAW: "Mean (raw) score"}[self]


# --- the arithmetic (pure functions) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionScore:
    """One criterion of one review: a score out of max_score, or n/a (score None)."""

    score: int | None
    max_score: int
    weight: int
    not_applicable: bool = False


def weighted_from_sums(weighted_fraction_sum: float | None, scored_weight_sum: float | None) -> float | None:
    """(sum of score/max*weight over scored criteria) / (sum of their weights) * 100; None if nothing scored."""
    if not scored_weight_sum or weighted_fraction_sum is None:
        return None
    return float(weighted_fraction_sum) / float(scored_weight_sum) * 100


def weighted_score(criteria: Iterable[CriterionScore]) -> float | None:
    """A review's weighted score, 0-100. n/a criteria are left out, numerator and denominator alike."""
    num = 0.0
    den = 0
    for c in criteria:
        if c.not_applicable or c.score is None:
            continue
        num += c.score / c.max_score * c.weight
        den += c.weight
    return weighted_from_sums(num, den)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def population_sd(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))


def spread(values: Sequence[float]) -> float | None:
    """Highest minus lowest; None with fewer than two values (nobody to disagree with)."""
    return max(values) - min(values) if len(values) >= 2 else None


def rescaled(z: float | None) -> float | None:
    """A mean z shown on a familiar scale: 50 is average, each 10 points one standard deviation."""
    return None if z is None else 50 + 10 * z


# A standard deviation this small is treated as zero (all a reviewer's scores equal, bar float rounding).
_SD_EPSILON = 1e-9


@dataclass(frozen=True)
class ReviewScore:
    """One submitted, active review's weighted score (None: every criterion n/a)."""

    assignment_id: int
    application_id: int
    reviewer_id: int
    reviewer_name: str
    weighted: float | None


def z_scores(reviews: Iterable[ReviewScore]) -> dict[int, float]:
    """z of each scored review (by assignment id), against its reviewer's own scores in the round."""
    by_reviewer: dict[int, list[ReviewScore]] = defaultdict(list)
    for r in reviews:
        if r.weighted is not None:
            by_reviewer[r.reviewer_id].append(r)
    z: dict[int, float] = {}
    for own in by_reviewer.values():
        values = [r.weighted for r in own if r.weighted is not None]
        m = sum(values) / len(values)
        sd = population_sd(values)
        for r in own:
            assert r.weighted is not None
            z[r.assignment_id] = 0.0 if len(values) < 2 or sd < _SD_EPSILON else (r.weighted - m) / sd
    return z


@dataclass
class RankedApplication:
    application_id: int
    reference: str
    title: str
    organisation: str
    status: ApplicationStatus
    amount_requested_pence: int
    awarded_pence: int | None = None
    grant_status: GrantStatus | None = (
        None  # the grant an award made, if any (an offer may have been withdrawn)
    )
    reviews: list[ReviewScore] = field(default_factory=list)  # scored reviews, by reviewer name
    unscored_reviews: int = 0  # submitted with every criterion n/a
    pending_reviews: int = 0  # assigned and active, not yet submitted
    z: dict[int, float] = field(default_factory=dict)  # assignment id -> z
    mean: float | None = None
    calibrated_z: float | None = None
    spread: float | None = None
    disagreement: bool = False
    # Filled by `funding_line`:
    position: int = 0
    running_total_pence: int | None = None  # None: not added (decided already)
    within_budget: bool | None = None

    @property
    def calibrated(self) -> float | None:
        return rescaled(self.calibrated_z)

    @property
    def undecided(self) -> bool:
        return self.status in UNDECIDED_STATUSES


def score_applications(
    rows: list[RankedApplication], reviews: Iterable[ReviewScore], threshold: float
) -> list[RankedApplication]:
    """Fill in each application's reviews, mean, calibrated z, spread and disagreement flag."""
    reviews = list(reviews)
    z = z_scores(reviews)
    by_app: dict[int, RankedApplication] = {r.application_id: r for r in rows}
    for review in reviews:
        row = by_app.get(review.application_id)
        if row is None:
            continue
        if review.weighted is None:
            row.unscored_reviews += 1
        else:
            row.reviews.append(review)
    for row in rows:
        row.reviews.sort(key=lambda r: (r.reviewer_name.lower(), r.reviewer_id))
        values = [r.weighted for r in row.reviews if r.weighted is not None]
        row.z = {r.assignment_id: z[r.assignment_id] for r in row.reviews}
        row.mean = mean(values)
        row.calibrated_z = mean(list(row.z.values()))
        row.spread = spread(values)
        row.disagreement = row.spread is not None and row.spread > threshold
    return rows


def sort_ranked(rows: list[RankedApplication], by: SortBy) -> list[RankedApplication]:
    """Best first by the chosen score, the other score breaking ties, then the reference; unscored last."""

    def key(row: RankedApplication) -> tuple:
        first, second = (
            (row.calibrated_z, row.mean) if by is SortBy.CALIBRATED else (row.mean, row.calibrated_z)
        )
        return (
            first is None,
            -(first or 0.0),
            second is None,
            -(second or 0.0),
            row.reference,
            row.application_id,
        )

    return sorted(rows, key=key)


@dataclass(frozen=True)
class FundingLine:
    remaining_pence: int
    undecided_requested_pence: int  # all applications waiting for a decision, added up
    index: int | None  # rows[index] is the first below the line; None if everything fits
    left_above_line_pence: int  # remaining budget not used by the applications above the line


def funding_line(rows: list[RankedApplication], remaining_pence: int) -> FundingLine:
    """Number the ranked rows, add up undecided requests down the list, and find where the money runs out."""
    total = 0
    index: int | None = None
    left = remaining_pence
    for position, row in enumerate(rows, start=1):
        row.position = position
        if not row.undecided:
            row.running_total_pence = None
            row.within_budget = None
            continue
        total += row.amount_requested_pence
        row.running_total_pence = total
        row.within_budget = index is None and total <= remaining_pence
        if index is None:
            if total > remaining_pence:
                index = position - 1
            else:
                left = remaining_pence - total
        else:
            row.within_budget = False
    return FundingLine(remaining_pence, total, index, left)


# --- the queries -------------------------------------------------------------------------------------------------


def _member_of_applicant() -> sa.Exists:
    """The reviewer belongs to the applying organisation (whatever their declaration says)."""
    return (
        sa.select(Membership.id)
        .where(
            Membership.user_id == ReviewAssignment.reviewer_id,
            Membership.organisation_id == Application.organisation_id,
        )
        .exists()
    )


def _reviewer_rows(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Each review assignment matching `where`, by reviewer name: (assignment id, application id, reviewer,
    conflict, conflict reason, declared at, submitted at, whether the reviewer belongs to the applicant)."""
    return (
        sa.select(
            ReviewAssignment.id,
            ReviewAssignment.application_id,
            User.name,
            ReviewAssignment.conflict,
            ReviewAssignment.conflict_reason,
            ReviewAssignment.declared_at,
            ReviewAssignment.submitted_at,
            _member_of_applicant(),
        )
        .join(Application, Application.id == ReviewAssignment.application_id)
        .join(User, User.id == ReviewAssignment.reviewer_id)
        .where(*where)
        .order_by(sa.func.lower(User.name), ReviewAssignment.id)
    )


def _marks(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Each criterion's mark of the assignments matching `where`: (assignment id, criterion id, score, n/a,
    n/a reason, comment)."""
    return (
        sa.select(
            Score.assignment_id, Score.criterion_id, Score.score, Score.not_applicable, Score.na_reason,
            Score.comment,
        )
        .join(ReviewAssignment, ReviewAssignment.id == Score.assignment_id)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .where(*where)
    )  # fmt: skip


def review_scores(round_id: int) -> tuple[list[ReviewScore], dict[int, int]]:
    """Every submitted, active review's weighted score in the round, and pending reviews per application.

    One aggregate query: per assignment, sum(score / max_score * weight) and sum(weight) over scored criteria.
    """
    scored = sa.and_(Score.not_applicable.is_(False), Score.score.is_not(None))
    fraction = sa.cast(Score.score, sa.Float) * Criterion.weight / Criterion.max_score
    # Sums per assignment first (narrow rows grouped by one integer), computed once, then joined to the
    # assignments: MATERIALIZED keeps PostgreSQL from re-running the aggregate per assignment.
    sums = (
        sa.select(
            Score.assignment_id.label("assignment_id"),
            sa.func.sum(sa.case((scored, fraction), else_=None)).label("num"),
            sa.func.sum(sa.case((scored, Criterion.weight), else_=None)).label("den"),
        )
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Criterion.round_id == round_id)
        .group_by(Score.assignment_id)
        .cte("review_sums")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    stmt = (
        sa.select(
            ReviewAssignment.id,
            ReviewAssignment.application_id,
            ReviewAssignment.reviewer_id,
            ReviewAssignment.submitted_at.is_not(None),
            sums.c.num,
            sums.c.den,
        )
        .join(Application, Application.id == ReviewAssignment.application_id)
        .outerjoin(sums, sums.c.assignment_id == ReviewAssignment.id)
        .where(
            Application.round_id == round_id,
            Application.status.in_(RANKED_STATUSES),
            ReviewAssignment.conflict.in_([ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE]),
            ~_member_of_applicant(),
        )
    )
    rows = db.session.execute(stmt).all()
    # The panel is small: their names in one more query, rather than widening every grouped row.
    names = dict(
        db.session.execute(sa.select(User.id, User.name).where(User.id.in_({r[2] for r in rows})))
        .tuples()
        .all()
    )
    reviews: list[ReviewScore] = []
    pending: dict[int, int] = defaultdict(int)
    for aid, app_id, reviewer_id, submitted, num, den in rows:
        if not submitted:
            pending[app_id] += 1
            continue
        reviews.append(
            ReviewScore(aid, app_id, reviewer_id, names[reviewer_id], weighted_from_sums(num, den))
        )
    return reviews, dict(pending)


def ranked_applications(round_id: int) -> list[RankedApplication]:
    """The round's ranked applications (one query), without scores."""
    stmt = (
        sa.select(
            Application.id,
            Application.reference,
            Application.project_title,
            Organisation.name,
            Application.status,
            Application.amount_requested_pence,
            Decision.amount_pence,
            Grant.status,
        )
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(Decision, Decision.application_id == Application.id)
        .outerjoin(Grant, Grant.application_id == Application.id)
        .where(Application.round_id == round_id, Application.status.in_(RANKED_STATUSES))
        .order_by(Application.reference, Application.id)
    )
    return [
        RankedApplication(
            application_id=aid,
            reference=reference or f"#{aid}",
            title=title,
            organisation=org_name,
            status=status,
            amount_requested_pence=amount,
            awarded_pence=awarded if status is ApplicationStatus.AWARDED else None,
            grant_status=grant_status,
        )
        for aid, reference, title, org_name, status, amount, awarded, grant_status in db.session.execute(stmt)
    ]


@dataclass(frozen=True)
class RoundRanking:
    rows: list[RankedApplication]
    sort: SortBy
    money: money.RoundMoney
    line: FundingLine
    reviews_counted: int

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.rows if r.disagreement)


# Scored rankings kept per worker, keyed by the round and a fingerprint of everything that changes its scores.
RANKING_CACHE_ROUNDS = 16
_ranking_cache: OrderedDict[tuple[int, tuple[object, ...]], tuple[list[RankedApplication], int]] = (
    OrderedDict()
)
_ranking_cache_lock = threading.Lock()


def round_fingerprint(round_: GrantRound) -> tuple[object, ...]:
    """What the round's scores depend on, in one cheap query: its applications (and their states), assignments,
    declarations, scores, decisions, criteria and the reviewers' memberships. Any change moves some figure."""
    in_round = Application.round_id == round_.id
    apps = sa.select(Application.id).where(in_round).scalar_subquery()
    criteria = sa.select(Criterion.id).where(Criterion.round_id == round_.id).scalar_subquery()
    figures = [
        sa.select(
            sa.func.count(Application.id),
            sa.func.max(Application.updated_at),
            *(sa.func.sum(sa.case((Application.status == s, 1), else_=0)) for s in ApplicationStatus),
        ).where(in_round),
        sa.select(
            sa.func.count(ReviewAssignment.id),
            sa.func.max(ReviewAssignment.assigned_at),
            sa.func.max(ReviewAssignment.declared_at),
            sa.func.max(ReviewAssignment.submitted_at),
            sa.func.sum(sa.case((ReviewAssignment.submitted_at.is_(None), 1), else_=0)),
            sa.func.sum(sa.case((ReviewAssignment.conflict == ConflictDeclaration.NONE, 1), else_=0)),
        ).where(ReviewAssignment.application_id.in_(apps)),
        sa.select(sa.func.count(Score.id), sa.func.max(Score.updated_at)).where(
            Score.criterion_id.in_(criteria)
        ),
        sa.select(
            sa.func.count(Decision.id), sa.func.max(Decision.decided_at), sa.func.sum(Decision.amount_pence)
        ).where(Decision.application_id.in_(apps)),
        # Grants offered, withdrawn or ended early (the rows say so).
        sa.select(
            sa.func.count(Grant.id),
            *(sa.func.sum(sa.case((Grant.status == s, 1), else_=0)) for s in GrantStatus),
        ).where(Grant.round_id == round_.id),
        sa.select(
            sa.func.count(Criterion.id), sa.func.sum(Criterion.weight), sa.func.sum(Criterion.max_score)
        ).where(Criterion.round_id == round_.id),
        # The reviewers' memberships only (who is excluded from what): not every membership on the platform.
        sa.select(sa.func.count(Membership.id), sa.func.max(Membership.id)).where(
            Membership.user_id.in_(
                sa.select(ReviewAssignment.reviewer_id).where(ReviewAssignment.application_id.in_(apps))
            )
        ),
    ]
    # Each aggregate is one row: joined side by side, they come back in one round trip.
    subs = [f.subquery() for f in figures]
    joined: sa.FromClause = subs[0]
    for sub in subs[1:]:
        joined = joined.join(sub, sa.true())
    row = db.session.execute(sa.select(*(c for sub in subs for c in sub.c)).select_from(joined)).one()
    return (round_.disagreement_threshold, *row)


def _scored_rows(round_: GrantRound) -> tuple[list[RankedApplication], int]:
    """The round's applications with their scores, computed once per change of the round."""
    # The database is part of the key: one process may serve (or test) more than one.
    key = (round_.id, (db.engine.url.render_as_string(), *round_fingerprint(round_)))
    with _ranking_cache_lock:
        cached = _ranking_cache.get(key)
        if cached is not None:
            _ranking_cache.move_to_end(key)
    if cached is None:
        rows = ranked_applications(round_.id)
        reviews, pending = review_scores(round_.id)
        for row in rows:
            row.pending_reviews = pending.get(row.application_id, 0)
        score_applications(rows, reviews, round_.disagreement_threshold)
        cached = (rows, len(reviews))
        with _ranking_cache_lock:
            _ranking_cache[key] = cached
            while len(_ranking_cache) > RANKING_CACHE_ROUNDS:
                _ranking_cache.popitem(last=False)
    rows, reviews_counted = cached
    # Each request numbers and marks its own copies (funding_line writes to the rows).
    return [copy.copy(row) for row in rows], reviews_counted


def round_ranking(round_: GrantRound, sort: SortBy = SortBy.CALIBRATED) -> RoundRanking:
    rows, reviews_counted = _scored_rows(round_)
    rows = sort_ranked(rows, sort)
    held = money.money_for(round_)
    line = funding_line(rows, held.remaining_pence)
    return RoundRanking(rows, sort, held, line, reviews_counted)


# --- the staff export ----------------------------------------------------------------------------------------------


def _review_state(conflict: ConflictDeclaration, submitted: bool, member: bool, started: bool) -> str:
    if member or conflict is ConflictDeclaration.EXCLUDED:
        return "Excluded (member of the applicant)"
    if conflict is ConflictDeclaration.CONFLICT:
        return "Conflict declared"
    if submitted:
        return "Submitted"
    if conflict is ConflictDeclaration.UNDECLARED:
        return "Awaiting conflict declaration"
    return "In progress" if started else "Not started"


def _r(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def review_export(round_: GrantRound) -> tuple[list[str], list[list[object]]]:
    """One row per application and review (every assignment, whatever its state), in calibrated rank order.

    Application fields, the application's mean, calibrated and disagreement figures, the review's state,
    weighted score and z, and each criterion's score (or n/a), n/a reason and comment. Scores are exported for
    submitted reviews only: a review in progress is the reviewer's draft. Six queries whatever the size.
    """
    ranking = round_ranking(round_, SortBy.CALIBRATED)
    raw_rank = {r.application_id: i for i, r in enumerate(sort_ranked(list(ranking.rows), SortBy.RAW), 1)}
    criteria = list(
        db.session.scalars(
            sa.select(Criterion)
            .where(Criterion.round_id == round_.id)
            .order_by(Criterion.position, Criterion.id)
        )
    )
    fields = {
        aid: rest
        for aid, *rest in db.session.execute(
            sa.select(
                Application.id,
                Application.towns,
                Application.young_people_count,
                Application.starts_on,
                Application.ends_on,
                Application.submitted_at,
            ).where(Application.round_id == round_.id, Application.status.in_(RANKED_STATUSES))
        )
    }
    assignments: dict[int, list[tuple]] = defaultdict(list)
    for review_row in db.session.execute(
        _reviewer_rows(Application.round_id == round_.id, Application.status.in_(RANKED_STATUSES))
    ):
        assignments[review_row[1]].append(tuple(review_row))
    scores: dict[int, dict[int, tuple]] = defaultdict(dict)
    for aid, cid, score, na, na_reason, comment in db.session.execute(
        _marks(Application.round_id == round_.id)
    ):
        scores[aid][cid] = (score, na, na_reason, comment)

    header = [
        "Rank (calibrated)", "Rank (mean)", "Reference", "Project title", "Organisation", "Application status",
        "Amount requested (GBP)", "Amount awarded (GBP)", "Towns", "Young people", "Starts", "Ends", "Submitted",
        "Mean score (0-100)", "Calibrated z", "Calibrated (0-100)", "Spread (points)", "Disagreement",
        "Reviewer", "Review status", "Declared at", "Conflict reason", "Review submitted at",
        "Weighted score (0-100)", "Review z",
    ]  # fmt: skip
    for c in criteria:
        header += [
            f"{c.name} score (0-{c.max_score}, weight {c.weight})",
            f"{c.name} n/a reason",
            f"{c.name} comment",
        ]

    def pounds(pence: int | None) -> str:
        return "" if pence is None else f"{pence / 100:.2f}"

    def when(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        return str(value)

    out: list[list[object]] = []
    for row in ranking.rows:
        towns, young_people, starts, ends, submitted = fields.get(row.application_id, (None,) * 5)
        app_cells: list[object] = [
            row.position, raw_rank[row.application_id], row.reference, row.title, row.organisation,
            row.status.label, pounds(row.amount_requested_pence), pounds(row.awarded_pence),
            ", ".join(towns or []), young_people, when(starts), when(ends), when(submitted),
            _r(row.mean), _r(row.calibrated_z, 3), _r(row.calibrated), _r(row.spread),
            "yes" if row.disagreement else "no",
        ]  # fmt: skip
        weighted = {r.assignment_id: r.weighted for r in row.reviews}
        mine = assignments.get(row.application_id, [])
        if not mine:
            out.append(app_cells + [""] * (len(header) - len(app_cells)))
            continue
        for aid, _app_id, name, conflict, reason, declared_at, submitted_at, member in mine:
            counted = submitted_at is not None and not member and conflict is ConflictDeclaration.NONE
            review_cells: list[object] = [
                name,
                _review_state(conflict, submitted_at is not None, bool(member), bool(scores.get(aid))),
                when(declared_at),
                reason or "",
                when(submitted_at),
                _r(weighted.get(aid)) if counted else None,
                _r(row.z.get(aid), 3) if counted else None,
            ]
            for c in criteria:
                score, na, na_reason, comment = scores.get(aid, {}).get(c.id, (None, False, None, ""))
                if not counted:
                    review_cells += [None, None, None]
                else:
                    review_cells += ["n/a" if na else score, na_reason or "", comment or ""]
            out.append(app_cells + review_cells)
    return header, out


# --- one application's reviews, for the staff deciding it ---------------------------------------------------------


@dataclass(frozen=True)
class CriterionMark:
    """One reviewer's mark on one criterion: a score, or n/a with its reason, and their comment."""

    score: int | None
    not_applicable: bool
    na_reason: str
    comment: str


@dataclass(frozen=True)
class ReviewerReview:
    """One assigned reviewer of an application, as the decide page shows them."""

    assignment_id: int
    reviewer_name: str
    state: str  # in words: "Submitted", "Conflict declared", ...
    counted: bool  # submitted and active: their scores count in the ranking and are shown
    conflicted: bool  # declared a conflict of interest, or excluded as a member of the applicant: no scores
    conflict_reason: str
    marks: dict[int, CriterionMark]  # criterion id -> mark (submitted reviews only)
    weighted: float | None  # the ranking's weighted score of this review (0-100)
    z: float | None  # the ranking's z of this review against the reviewer's own marks

    @property
    def comments(self) -> list[tuple[int, CriterionMark]]:
        return [(cid, m) for cid, m in self.marks.items() if m.comment or m.na_reason]


@dataclass(frozen=True)
class ApplicationReviews:
    criteria: list[Criterion]
    reviewers: list[ReviewerReview]
    row: RankedApplication | None  # the application's row of the round's ranking (mean, calibrated, position)
    ranked: int  # how many applications the ranking lists
    money: money.RoundMoney

    @property
    def counted(self) -> list[ReviewerReview]:
        return [r for r in self.reviewers if r.counted]


def application_reviews(application: Application) -> ApplicationReviews:
    """Every reviewer of one application with their marks per criterion and comments, and the application's
    figures exactly as the ranking page has them (the same `round_ranking`, so the same mean, calibrated score,
    z and position). A fixed number of queries: the ranking's, then criteria, assignments and marks."""
    round_ = application.round
    ranking = round_ranking(round_, SortBy.CALIBRATED)
    row = next((r for r in ranking.rows if r.application_id == application.id), None)
    weighted = {r.assignment_id: r.weighted for r in row.reviews} if row is not None else {}
    criteria = list(
        db.session.scalars(
            sa.select(Criterion)
            .where(Criterion.round_id == round_.id)
            .order_by(Criterion.position, Criterion.id)
        )
    )
    assignments = db.session.execute(_reviewer_rows(Application.id == application.id)).all()
    marks: dict[int, dict[int, CriterionMark]] = defaultdict(dict)
    for aid, cid, score, na, na_reason, comment in db.session.execute(
        _marks(Application.id == application.id)
    ):
        marks[aid][cid] = CriterionMark(score, bool(na), na_reason or "", comment or "")
    reviewers = []
    for aid, _application_id, name, conflict, reason, _declared_at, submitted_at, member in assignments:
        conflicted = bool(member) or conflict in (ConflictDeclaration.CONFLICT, ConflictDeclaration.EXCLUDED)
        counted = submitted_at is not None and not conflicted
        reviewers.append(
            ReviewerReview(
                assignment_id=aid,
                reviewer_name=name,
                state=_review_state(conflict, submitted_at is not None, bool(member), bool(marks.get(aid))),
                counted=counted,
                conflicted=conflicted,
                conflict_reason=(reason or "") if conflicted else "",
                # A review in progress is the reviewer's draft: its marks are not shown.
                marks=dict(marks.get(aid, {})) if counted else {},
                weighted=weighted.get(aid) if counted else None,
                z=row.z.get(aid) if counted and row is not None else None,
            )
        )
    return ApplicationReviews(criteria, reviewers, row, len(ranking.rows), ranking.money)
