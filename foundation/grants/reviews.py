"""Panel reviewing: assigning reviewers, conflicts of interest, scoring, submitting and reminders.

The life of an assignment (ReviewAssignment.conflict):

    UNDECLARED --declare none--> NONE --save scores...--> NONE + submitted_at (scores locked)
         |                         |
         +--declare conflict-------+--> CONFLICT  (removed from the application; its details and scores hidden)
    EXCLUDED: set automatically when the reviewer belongs to the applying organisation.

A reviewer sees an application's details only after confirming they have no conflict of interest. Before that
they see just enough to judge a conflict: the organisation, the project title and its named partners.

Reviewers never see other reviewers' scores before submitting their own. After submitting, they may see the
other submitted reviews' scores for the same application, without names ("Another reviewer"), so the panel can
prepare for its discussion without anchoring anyone's first judgement. Applicants never see reviewers' names or
scores.

Services check the rules and never commit; the view commits once. Write views call `lock_round` or
`lock_assignment` first so two staff (or two tabs) cannot double-assign or save over a submitted review.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from foundation.db_setup import begin_write_transaction
from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.extensions import db
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    Criterion,
    GrantRound,
    ReviewAssignment,
    ReviewReminder,
    RoundStatus,
    Score,
)
from foundation.grants.ranking import CriterionScore, weighted_score
from foundation.members.models import Membership, User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.reminders import ReminderSchedule, Window
from foundation.types import london_today, utcnow

# Staff assign reviewers while a round is open, closed or in review; once decided, reviews are closed.
ASSIGNABLE_ROUND_STATUSES = frozenset({RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.IN_REVIEW})
MAX_REVIEWERS_PER_APPLICATION = 10
MAX_REASON = 2000
MAX_COMMENT = 5000
EXCLUDED_REASON = "Member of the applying organisation"


class ScoresInvalid(DomainError):
    """Scores that cannot be saved, every problem at once: messages per form field, in the order of the page,
    e.g. {"score_12": "Score Need from 0 to 5.", "na_reason_14": "Say why Value for money does not apply..."}."""

    def __init__(self, problems: Mapping[str, str], message: str | None = None) -> None:
        # Callers that show one message get the first problem, at its field; pages show them all.
        first_field, first_message = next(iter(problems.items()))
        super().__init__(message or first_message, field=first_field)
        self.problems = dict(problems)


class ReviewIncomplete(ScoresInvalid):
    """A review cannot be submitted: messages per form field, e.g. {"score_12": "Score Need or mark it n/a."}."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        names = len(problems)
        super().__init__(
            problems,
            f"{names} criterion needs a score (or n/a) before you submit."
            if names == 1
            else f"{names} criteria need a score (or n/a) before you submit.",
        )


# --- locks -------------------------------------------------------------------------------------------------------


def lock_round(round_id: int) -> GrantRound:
    """Start a write transaction holding the round (assignments are checked, then written)."""
    begin_write_transaction()
    round_ = db.session.scalar(sa.select(GrantRound).where(GrantRound.id == round_id).with_for_update())
    if round_ is None:
        raise NotFound("There is no such round.")
    return round_


def lock_assignment(assignment_id: int) -> ReviewAssignment | None:
    begin_write_transaction()
    return db.session.scalar(
        sa.select(ReviewAssignment).where(ReviewAssignment.id == assignment_id).with_for_update()
    )


# --- who may review what -----------------------------------------------------------------------------------------


def eligible_reviewers() -> list[User]:
    """Panel reviewers with open accounts, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.is_panel_reviewer.is_(True), User.closed_at.is_(None))
            .order_by(sa.func.lower(User.name), User.id)
        )
    )


def is_member(user_id: int, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user_id, Membership.organisation_id == organisation_id
            )
        )
        is not None
    )


def _exclude(assignment: ReviewAssignment) -> None:
    assignment.conflict = ConflictDeclaration.EXCLUDED
    assignment.conflict_reason = EXCLUDED_REASON
    assignment.declared_at = utcnow()


def refresh_exclusions(round_id: int) -> list[ReviewAssignment]:
    """Exclude reviewers who have joined an applying organisation since they were assigned."""
    stale = list(
        db.session.scalars(
            sa.select(ReviewAssignment)
            .join(Application, Application.id == ReviewAssignment.application_id)
            .join(
                Membership,
                sa.and_(
                    Membership.user_id == ReviewAssignment.reviewer_id,
                    Membership.organisation_id == Application.organisation_id,
                ),
            )
            .where(
                Application.round_id == round_id,
                ReviewAssignment.conflict != ConflictDeclaration.EXCLUDED,
            )
        )
    )
    for assignment in stale:
        _exclude(assignment)
    return stale


def _check_round_open_for_review(round_: GrantRound) -> None:
    if round_.status not in ASSIGNABLE_ROUND_STATUSES:
        raise Conflict(
            f"This round is {round_.status.label.lower()}: reviewers can be assigned while it is open, closed "
            "or in review."
        )


# --- assigning -------------------------------------------------------------------------------------------------


def assign(
    application: Application, reviewer: User, by: User, notify_reviewer: bool = True
) -> ReviewAssignment:
    """Assign one reviewer to one submitted application.

    A reviewer who belongs to the applying organisation is recorded as EXCLUDED (staff are told, and must
    choose someone else) rather than refused silently.
    """
    _check_round_open_for_review(application.round)
    if application.status is not ApplicationStatus.SUBMITTED:
        raise DomainError(
            f"Only submitted applications are reviewed; this one is {application.status.label.lower()}.",
            field="application_id",
        )
    if not reviewer.is_panel_reviewer or reviewer.closed_at is not None:
        raise DomainError(f"{reviewer.name} is not on the review panel.", field="reviewer_id")
    existing = db.session.scalar(
        sa.select(ReviewAssignment).where(
            ReviewAssignment.application_id == application.id, ReviewAssignment.reviewer_id == reviewer.id
        )
    )
    if existing is not None:
        if existing.conflict is ConflictDeclaration.CONFLICT:
            raise DomainError(
                f"{reviewer.name} declared a conflict of interest on this application; choose someone else.",
                field="reviewer_id",
            )
        if existing.conflict is ConflictDeclaration.EXCLUDED:
            raise DomainError(
                f"{reviewer.name} belongs to the applying organisation; choose someone else.",
                field="reviewer_id",
            )
        raise Conflict(f"{reviewer.name} is already reviewing this application.", field="reviewer_id")
    member = is_member(reviewer.id, application.organisation_id)
    assignment = ReviewAssignment(
        application_id=application.id, reviewer_id=reviewer.id, assigned_by_id=by.id
    )
    if member:
        _exclude(assignment)
    db.session.add(assignment)
    db.session.flush()
    if notify_reviewer and assignment.active:
        _notify_assigned(reviewer, application.round, 1)
    return assignment


@dataclass
class BulkResult:
    created: list[ReviewAssignment] = field(default_factory=list)
    # Applications that could not get enough reviewers: (application, how many are missing).
    short: list[tuple[Application, int]] = field(default_factory=list)
    excluded: list[ReviewAssignment] = field(default_factory=list)  # found on the way (joined the applicant)


def bulk_assign(round_: GrantRound, per_application: int, by: User) -> BulkResult:
    """Give every submitted application `per_application` active reviewers, spreading the load.

    Each missing place goes to the eligible reviewer with the fewest active assignments in the round so far
    (ties: by name, then account id, so the result is the same every time). Eligible: on the panel, not
    already assigned to that application in any state (a declared conflict stays declared), and not a member
    of the applying organisation. Applications are filled in reference order.
    """
    _check_round_open_for_review(round_)
    if not 1 <= per_application <= MAX_REVIEWERS_PER_APPLICATION:
        raise DomainError(
            f"Choose between 1 and {MAX_REVIEWERS_PER_APPLICATION} reviewers per application.",
            field="per_application",
        )
    result = BulkResult(excluded=refresh_exclusions(round_.id))
    reviewers = eligible_reviewers()
    if not reviewers:
        raise DomainError("Nobody is on the review panel yet.", field="per_application")
    applications = list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.round_id == round_.id, Application.status == ApplicationStatus.SUBMITTED)
            .order_by(Application.reference, Application.id)
        )
    )
    taken: dict[int, set[int]] = defaultdict(set)  # application id -> reviewers already on it (any state)
    active: Counter[int] = Counter()  # application id -> active reviewers
    load: Counter[int] = Counter()  # reviewer id -> active assignments in the round
    rows = db.session.execute(
        sa.select(ReviewAssignment.application_id, ReviewAssignment.reviewer_id, ReviewAssignment.conflict)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .where(Application.round_id == round_.id)
    )
    for app_id, reviewer_id, conflict in rows:
        taken[app_id].add(reviewer_id)
        if conflict in (ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE):
            active[app_id] += 1
            load[reviewer_id] += 1
    reviewer_ids = [r.id for r in reviewers]
    members: dict[int, set[int]] = defaultdict(set)  # organisation id -> panel reviewers who belong to it
    for user_id, org_id in db.session.execute(
        sa.select(Membership.user_id, Membership.organisation_id).where(Membership.user_id.in_(reviewer_ids))
    ):
        members[org_id].add(user_id)
    order = {r.id: i for i, r in enumerate(reviewers)}  # by name, then id
    by_id = {r.id: r for r in reviewers}
    new_per_reviewer: Counter[int] = Counter()
    for application in applications:
        missing = per_application - active[application.id]
        if missing <= 0:
            continue
        blocked = taken[application.id] | members[application.organisation_id]
        candidates = sorted(
            (rid for rid in reviewer_ids if rid not in blocked), key=lambda rid: (load[rid], order[rid])
        )
        for rid in candidates[:missing]:
            assignment = ReviewAssignment(
                application_id=application.id, reviewer_id=rid, assigned_by_id=by.id
            )
            db.session.add(assignment)
            result.created.append(assignment)
            taken[application.id].add(rid)
            load[rid] += 1
            new_per_reviewer[rid] += 1
        if len(candidates) < missing:
            result.short.append((application, missing - len(candidates)))
    db.session.flush()
    for rid, count in sorted(new_per_reviewer.items(), key=lambda item: order[item[0]]):
        _notify_assigned(by_id[rid], round_, count)
    return result


def unassign(assignment: ReviewAssignment) -> None:
    """Take a reviewer off an application before they have submitted. Declared conflicts stay on record."""
    if assignment.submitted_at is not None:
        raise Conflict("This review is submitted; it stays on record.")
    if not assignment.active:
        raise Conflict("A declared conflict or exclusion stays on record.")
    db.session.delete(assignment)


def _notify_assigned(reviewer: User, round_: GrantRound, count: int) -> None:
    notify(
        reviewer,
        NotificationKind.GRANTS,
        f"{count} application{'s' if count != 1 else ''} to review in {round_.name}",
        "grant_review_assigned",
        link=url_for("grants.panel_home"),
        round=round_,
        count=count,
    )


# --- declaring a conflict of interest -----------------------------------------------------------------------------


def _own(assignment: ReviewAssignment, reviewer: User) -> None:
    if assignment.reviewer_id != reviewer.id:
        raise NotFound("There is no such review.")


def _check_reviewable(assignment: ReviewAssignment) -> None:
    round_ = assignment.application.round
    if round_.status is RoundStatus.DECIDED:
        raise Conflict("Decisions for this round are made; reviews are closed.")
    if assignment.application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.MORE_INFO_REQUESTED,
    ):
        raise Conflict(
            f"This application is {assignment.application.status.label.lower()}; it no longer needs a review."
        )


def declare(
    assignment: ReviewAssignment, reviewer: User, has_conflict: bool, reason: str | None = ""
) -> None:
    """The reviewer says whether they have a conflict of interest (with a reason if they do).

    Confirming none opens the application to them. A conflict may still be declared later, until the review is
    submitted; it removes them from the application for good (staff assign someone else).
    """
    _own(assignment, reviewer)
    if is_member(reviewer.id, assignment.application.organisation_id):
        _exclude(assignment)
        return
    if assignment.conflict is ConflictDeclaration.EXCLUDED:
        raise NotAllowed("You belong to the applying organisation, so you cannot review this application.")
    if assignment.conflict is ConflictDeclaration.CONFLICT:
        raise Conflict("You have declared a conflict of interest on this application.")
    if assignment.submitted_at is not None:
        raise Conflict("Your review is submitted; it cannot be changed.")
    _check_reviewable(assignment)
    reason = (reason or "").strip()
    if has_conflict:
        if not reason:
            raise DomainError("Say briefly what the conflict of interest is.", field="reason")
        if len(reason) > MAX_REASON:
            raise DomainError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
        assignment.conflict = ConflictDeclaration.CONFLICT
        assignment.conflict_reason = reason
        assignment.declared_at = utcnow()
        return
    if assignment.conflict is ConflictDeclaration.NONE:
        return  # already confirmed
    assignment.conflict = ConflictDeclaration.NONE
    assignment.conflict_reason = None
    assignment.declared_at = utcnow()


# --- scoring -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    """What the reviewer typed for one criterion. score None and not n/a: not scored yet."""

    score: int | None = None
    not_applicable: bool = False
    na_reason: str = ""
    comment: str = ""


def score_field(criterion_id: int) -> str:
    return f"score_{criterion_id}"


def na_reason_field(criterion_id: int) -> str:
    return f"na_reason_{criterion_id}"


def _check_can_score(assignment: ReviewAssignment, reviewer: User) -> None:
    _own(assignment, reviewer)
    if not assignment.active or assignment.conflict is not ConflictDeclaration.NONE:
        if assignment.conflict is ConflictDeclaration.UNDECLARED:
            raise Conflict("Declare whether you have a conflict of interest first.")
        raise NotAllowed("You are not reviewing this application.")
    if is_member(reviewer.id, assignment.application.organisation_id):
        raise NotAllowed("You belong to the applying organisation, so you cannot review this application.")
    if assignment.submitted_at is not None:
        raise Conflict("Your review is submitted; the scores are locked.")
    _check_reviewable(assignment)
    if assignment.application.status is not ApplicationStatus.SUBMITTED:
        raise Conflict("The applicant is updating this application; you can score it once it is resubmitted.")


def comment_field(criterion_id: int) -> str:
    return f"comment_{criterion_id}"


def score_problems(
    criteria: Sequence[Criterion], entries: Mapping[int, ScoreInput], complete: bool = False
) -> dict[str, str]:
    """Every problem with the scores as typed, by form field, in the order of the page (criterion by criterion:
    score, n/a reason, comment). Each criterion: a whole number from 0 to its maximum, or n/a with a reason;
    with `complete` (submitting), every criterion must be one or the other."""
    problems: dict[str, str] = {}
    for criterion in criteria:
        entry = entries.get(criterion.id, ScoreInput())
        comment = (entry.comment or "").strip()
        na_reason = (entry.na_reason or "").strip()
        score_at, reason_at = score_field(criterion.id), na_reason_field(criterion.id)
        if entry.not_applicable:
            if entry.score is not None:
                problems[score_at] = f"Give {criterion.name} a score or mark it n/a, not both."
            if not na_reason:
                problems[reason_at] = f"Say why {criterion.name} does not apply to this application."
            elif len(na_reason) > MAX_REASON:
                problems[reason_at] = f"Keep the reason under {MAX_REASON:,} characters."
        elif entry.score is not None and not 0 <= entry.score <= criterion.max_score:
            problems[score_at] = f"Score {criterion.name} from 0 to {criterion.max_score}."
        elif entry.score is None and complete:
            problems[score_at] = f"Score {criterion.name} from 0 to {criterion.max_score}, or mark it n/a."
        if len(comment) > MAX_COMMENT:
            problems[comment_field(criterion.id)] = (
                f"Keep your comment on {criterion.name} under {MAX_COMMENT:,} characters."
            )
    return problems


def save_scores(
    assignment: ReviewAssignment, reviewer: User, entries: Mapping[int, ScoreInput], complete: bool = False
) -> None:
    """Save the reviewer's scores and comments (all or some); they can come back and change them until they
    submit. Each criterion: a whole number from 0 to its maximum, or n/a with a reason; with `complete` (about to
    submit) every criterion must be scored or n/a. Every problem is reported at once (ScoresInvalid), and
    nothing is written unless there is none."""
    _check_can_score(assignment, reviewer)
    round_criteria = list(assignment.application.round.criteria)
    criteria = {c.id: c for c in round_criteria}
    if any(criterion_id not in criteria for criterion_id in entries):
        raise DomainError("That criterion is not part of this round.")
    problems = score_problems(round_criteria, entries, complete)
    if problems:
        raise ScoresInvalid(problems)
    existing = {s.criterion_id: s for s in assignment.scores}
    for criterion_id, entry in entries.items():
        comment = (entry.comment or "").strip()
        na_reason = (entry.na_reason or "").strip()
        score = existing.get(criterion_id)
        if score is None:
            if entry.score is None and not entry.not_applicable and not comment:
                continue  # nothing typed yet
            score = Score(criterion_id=criterion_id)
            assignment.scores.append(score)
        score.not_applicable = entry.not_applicable
        score.score = None if entry.not_applicable else entry.score
        score.na_reason = na_reason if entry.not_applicable else None
        score.comment = comment


def submit_review(assignment: ReviewAssignment, reviewer: User) -> None:
    """Submit: every criterion scored or n/a. Afterwards the scores are locked."""
    _check_can_score(assignment, reviewer)
    db.session.flush()
    done = {s.criterion_id for s in assignment.scores if s.not_applicable or s.score is not None}
    problems = {
        score_field(c.id): f"Score {c.name} from 0 to {c.max_score}, or mark it n/a."
        for c in assignment.application.round.criteria
        if c.id not in done
    }
    if problems:
        raise ReviewIncomplete(problems)
    assignment.submitted_at = utcnow()


def review_weighted_score(assignment: ReviewAssignment) -> float | None:
    criteria = {c.id: c for c in assignment.application.round.criteria}
    return weighted_score(
        CriterionScore(
            s.score, criteria[s.criterion_id].max_score, criteria[s.criterion_id].weight, s.not_applicable
        )
        for s in assignment.scores
        if s.criterion_id in criteria
    )


@dataclass(frozen=True)
class OtherReview:
    label: str  # "Another reviewer 1": never a name
    scores: dict[int, Score]  # criterion id -> score
    weighted: float | None


def other_reviews(assignment: ReviewAssignment, viewer: User) -> list[OtherReview]:
    """Other submitted, active reviews of the same application, without names.

    Only for a reviewer who has submitted their own (active) review; otherwise nothing at all.
    """
    if assignment.reviewer_id != viewer.id or assignment.submitted_at is None or not assignment.active:
        return []
    others = db.session.scalars(
        sa.select(ReviewAssignment)
        .where(
            ReviewAssignment.application_id == assignment.application_id,
            ReviewAssignment.id != assignment.id,
            ReviewAssignment.submitted_at.is_not(None),
            ReviewAssignment.conflict == ConflictDeclaration.NONE,
        )
        .options(selectinload(ReviewAssignment.scores))
        .order_by(ReviewAssignment.submitted_at, ReviewAssignment.id)
    ).all()
    return [
        OtherReview(
            f"Another reviewer {i}", {s.criterion_id: s for s in other.scores}, review_weighted_score(other)
        )
        for i, other in enumerate(others, start=1)
    ]


# --- reminders ---------------------------------------------------------------------------------------------------


def outstanding(round_id: int, reviewer_id: int | None = None) -> list[ReviewAssignment]:
    """Active assignments not yet submitted (declared or not), for the whole round or one reviewer."""
    stmt = (
        sa.select(ReviewAssignment)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .where(
            Application.round_id == round_id,
            Application.status == ApplicationStatus.SUBMITTED,
            ReviewAssignment.submitted_at.is_(None),
            ReviewAssignment.conflict.in_([ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE]),
        )
        .options(selectinload(ReviewAssignment.reviewer), selectinload(ReviewAssignment.application))
        .order_by(Application.reference, ReviewAssignment.id)
    )
    if reviewer_id is not None:
        stmt = stmt.where(ReviewAssignment.reviewer_id == reviewer_id)
    return list(db.session.scalars(stmt))


def _remind_reviewer(
    reviewer: User, round_: GrantRound, assignments: Sequence[ReviewAssignment], subject: str
) -> None:
    """One message listing the reviews a reviewer still has to do in a round, with its deadline if it has one."""
    notify(
        reviewer,
        NotificationKind.GRANTS,
        subject,
        "grant_review_reminder",
        link=url_for("grants.panel_home"),
        round=round_,
        assignments=assignments,
        deadline=round_.review_deadline,
    )


def remind(round_: GrantRound, by: User, reviewer_id: int | None = None) -> list[User]:
    """Remind reviewers who have not submitted: one message each, listing what they still have to do.
    Records reminded_at on each outstanding assignment. Returns who was reminded."""
    if round_.status is RoundStatus.DECIDED:
        raise Conflict("Decisions for this round are made; reviews are closed.")
    refresh_exclusions(round_.id)
    db.session.flush()
    todo: dict[int, list[ReviewAssignment]] = defaultdict(list)
    for assignment in outstanding(round_.id, reviewer_id):
        todo[assignment.reviewer_id].append(assignment)
    if not todo:
        if reviewer_id is not None:
            raise DomainError("That reviewer has nothing outstanding in this round.", field="reviewer_id")
        raise DomainError("Every assigned review in this round is submitted.")
    now = utcnow()
    reminded = []
    for assignments in todo.values():
        reviewer = assignments[0].reviewer
        if reviewer.closed_at is not None:
            continue
        for a in assignments:
            a.reminded_at = now
        _remind_reviewer(
            reviewer,
            round_,
            assignments,
            f"Reminder: {len(assignments)} review{'s' if len(assignments) != 1 else ''} to finish in {round_.name}",
        )
        reminded.append(reviewer)
    return sorted(reminded, key=lambda u: (u.name.lower(), u.id))


# The panel is reminded a week and two days before the round's review deadline, and on the day; each reminder
# goes once per assignment (the log's unique constraint), one message per reviewer and round.
DEADLINE_REMINDERS: ReminderSchedule[int] = ReminderSchedule(
    windows=(Window(7, 7), Window(2, 2), Window(0, 0)),
    item_id=ReviewReminder.assignment_id,
    key=ReviewReminder.window,
)


def send_deadline_reminders(today: date | None = None) -> int:
    """Remind reviewers whose round's review deadline comes within a reminder window of reviews they have not
    submitted. Returns the number of messages sent. Needs a request context (links)."""
    today = today or london_today()
    due = (
        sa.select(ReviewAssignment, GrantRound)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .join(GrantRound, GrantRound.id == Application.round_id)
        .where(
            GrantRound.status == RoundStatus.IN_REVIEW,
            GrantRound.review_deadline.is_not(None),
            GrantRound.review_deadline >= today,
            GrantRound.review_deadline <= DEADLINE_REMINDERS.horizon(today),
            Application.status == ApplicationStatus.SUBMITTED,
            ReviewAssignment.submitted_at.is_(None),
            ReviewAssignment.conflict.in_([ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE]),
        )
        .options(selectinload(ReviewAssignment.reviewer), selectinload(ReviewAssignment.application))
        .order_by(GrantRound.id, ReviewAssignment.reviewer_id, Application.reference, ReviewAssignment.id)
    )
    rows = db.session.execute(due).all()
    sent = DEADLINE_REMINDERS.already_sent([a.id for a, _ in rows])
    todo: dict[tuple[int, int], list[ReviewAssignment]] = defaultdict(list)
    rounds: dict[int, GrantRound] = {}
    for assignment, round_ in rows:
        assert round_.review_deadline is not None
        days_left = (round_.review_deadline - today).days
        opened = [
            w.key
            for w in DEADLINE_REMINDERS.windows
            if days_left <= w.days_before and (assignment.id, w.key) not in sent
        ]
        if opened and DEADLINE_REMINDERS.claim(assignment.id, opened):
            todo[(round_.id, assignment.reviewer_id)].append(assignment)
            rounds[round_.id] = round_
    messages = 0
    for (round_id, _), assignments in todo.items():
        reviewer = assignments[0].reviewer
        if reviewer.closed_at is not None:
            continue
        round_ = rounds[round_id]
        assert round_.review_deadline is not None
        days_left = (round_.review_deadline - today).days
        when = "today" if days_left == 0 else ("tomorrow" if days_left == 1 else f"in {days_left} days")
        _remind_reviewer(
            reviewer,
            round_,
            assignments,
            f"Reviews due {when}: {len(assignments)} to finish in {round_.name}",
        )
        messages += 1
    return messages


# --- progress (for staff) ----------------------------------------------------------------------------------------


@dataclass
class ApplicationProgress:
    application: Application
    assignments: list[ReviewAssignment] = field(default_factory=list)

    @property
    def active(self) -> list[ReviewAssignment]:
        return [a for a in self.assignments if a.active]

    @property
    def submitted(self) -> int:
        return sum(1 for a in self.active if a.submitted_at is not None)

    @property
    def conflicts(self) -> list[ReviewAssignment]:
        return [a for a in self.assignments if not a.active]


@dataclass
class ReviewerProgress:
    reviewer: User
    assigned: int = 0  # active
    undeclared: int = 0
    submitted: int = 0
    conflicts: int = 0
    last_reminded_at: datetime | None = None

    @property
    def outstanding(self) -> int:
        return self.assigned - self.submitted


@dataclass
class RoundProgress:
    applications: list[ApplicationProgress]
    reviewers: list[ReviewerProgress]

    @property
    def conflicts(self) -> list[ReviewAssignment]:
        found = [a for p in self.applications for a in p.conflicts]
        return sorted(found, key=lambda a: a.declared_at or a.assigned_at, reverse=True)

    @property
    def assignments(self) -> int:
        return sum(len(p.active) for p in self.applications)

    @property
    def submitted(self) -> int:
        return sum(p.submitted for p in self.applications)


def progress(round_: GrantRound, reviewers: Sequence[User] = ()) -> RoundProgress:
    """Per application and per reviewer: assigned, declared, submitted, conflicts, reminders.

    Two queries (applications with their organisations; assignments with their reviewers). Panel reviewers with
    nothing assigned yet are listed too, from `reviewers`.
    """
    applications = db.session.scalars(
        sa.select(Application)
        .where(Application.round_id == round_.id, Application.status == ApplicationStatus.SUBMITTED)
        .options(joinedload(Application.organisation))
        .order_by(Application.reference, Application.id)
    ).all()
    by_app = {a.id: ApplicationProgress(a) for a in applications}
    assignments = db.session.scalars(
        sa.select(ReviewAssignment)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .where(Application.round_id == round_.id)
        .options(joinedload(ReviewAssignment.reviewer))
        .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
    ).all()
    per_reviewer: dict[int, ReviewerProgress] = {r.id: ReviewerProgress(r) for r in reviewers}
    for a in assignments:
        if a.application_id in by_app:
            by_app[a.application_id].assignments.append(a)
        elif a.active:
            continue  # a withdrawn or decided application: not part of the work left
        rp = per_reviewer.setdefault(a.reviewer_id, ReviewerProgress(a.reviewer))
        if not a.active:
            rp.conflicts += 1
            continue
        rp.assigned += 1
        if a.conflict is ConflictDeclaration.UNDECLARED:
            rp.undeclared += 1
        if a.submitted_at is not None:
            rp.submitted += 1
        if a.reminded_at and (rp.last_reminded_at is None or a.reminded_at > rp.last_reminded_at):
            rp.last_reminded_at = a.reminded_at
    ordered = sorted(per_reviewer.values(), key=lambda p: (p.reviewer.name.lower(), p.reviewer.id))
    return RoundProgress(list(by_app.values()), ordered)


def my_assignments(reviewer: User) -> list[ReviewAssignment]:
    return list(
        db.session.scalars(
            sa.select(ReviewAssignment)
            .where(ReviewAssignment.reviewer_id == reviewer.id)
            .options(
                selectinload(ReviewAssignment.application).selectinload(Application.organisation),
                selectinload(ReviewAssignment.application).selectinload(Application.round),
                selectinload(ReviewAssignment.scores),
            )
            .order_by(ReviewAssignment.assigned_at.desc(), ReviewAssignment.id.desc())
        )
    )
