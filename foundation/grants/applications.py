"""Seed-grant applications: starting and saving drafts, submitting, withdrawing, and staff handling before review.

An organisation has at most one application per round (a database constraint; a withdrawn one still counts).
A draft may be saved half-finished; completeness is checked when it is submitted, and every missing or wrong
thing is listed at once. Several members of the organisation may edit the same draft: each save names the
version it was based on, and a save over a newer version is refused (nothing is silently overwritten).

Submission takes the next reference of the round (WYPF-2026-R1-0007) with the round row locked, so numbers
are unique and gap-free however many organisations submit at the same moment. The caller starts the request
with `begin_write_transaction()`, which takes the write lock on SQLite; on PostgreSQL the round row is locked
with SELECT ... FOR UPDATE here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed, NotFound
from foundation.extensions import db
from foundation.grants.models import (
    Answer,
    Application,
    ApplicationAction,
    ApplicationEvent,
    ApplicationStatus,
    BudgetLine,
    GrantRound,
    RoundQuestion,
    RoundStatus,
)
from foundation.grants.standing import overdue_reports
from foundation.members.models import Organisation, User
from foundation.members.organisations import good_standing
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members, notify_staff
from foundation.towns import TOWNS
from foundation.types import LONDON, utcnow

WILTSHIRE_WIDE = "Wiltshire-wide"
AREA_CHOICES = (*TOWNS, WILTSHIRE_WIDE)

P = ParamSpec("P")
R = TypeVar("R")

MAX_BUDGET_LINES = 20
# Far above any seed grant: catches a slipped key before it reaches the database.
MAX_MONEY_PENCE = 100_000_000
MAX_AGE = 25
MAX_YOUNG_PEOPLE = 100_000

VERSION_CONFLICT = (
    "Someone else saved changes to this application after you opened it, so your changes were not saved. "
    "Copy anything you want to keep, then reload the page to see their changes and make yours again."
)

# The application state machine for the steps in this module: action -> (allowed from, to).
APPLICATION_TRANSITIONS: dict[ApplicationAction, tuple[frozenset[ApplicationStatus], ApplicationStatus]] = {
    ApplicationAction.SUBMITTED: (frozenset({ApplicationStatus.DRAFT}), ApplicationStatus.SUBMITTED),
    ApplicationAction.LATE_ACCEPTED: (frozenset({ApplicationStatus.DRAFT}), ApplicationStatus.SUBMITTED),
    ApplicationAction.RESUBMITTED: (
        frozenset({ApplicationStatus.MORE_INFO_REQUESTED}),
        ApplicationStatus.SUBMITTED,
    ),
    ApplicationAction.MORE_INFO_REQUESTED: (
        frozenset({ApplicationStatus.SUBMITTED}),
        ApplicationStatus.MORE_INFO_REQUESTED,
    ),
    ApplicationAction.WITHDRAWN: (
        frozenset(
            {ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED}
        ),
        ApplicationStatus.WITHDRAWN,
    ),
}

# --- values, problems and errors -----------------------------------------------------------------------------


@dataclass
class BudgetItem:
    item: str
    cost_pence: int


@dataclass
class ApplicationValues:
    """What an applicant can change on a draft. Anything may be left empty until submission."""

    project_title: str = ""
    summary: str = ""
    description: str = ""
    towns: list[str] = field(default_factory=list)
    young_people_count: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    amount_requested_pence: int | None = None
    outcomes: str = ""
    partners: str = ""
    budget_lines: list[BudgetItem] = field(default_factory=list)
    answers: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an application, at the form field it concerns (None: the application as a whole;
    "budget_lines": the budget table; "answer_<question id>": a round question)."""

    field: str | None
    message: str


class ApplicationProblems(DomainError):
    """Several things are wrong at once; each is shown at its field."""

    def __init__(self, problems: list[Problem], lead: str) -> None:
        super().__init__(lead + " " + " ".join(p.message for p in problems))
        self.lead = lead
        self.problems = problems


class SubmissionRefused(ApplicationProblems):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "This application cannot be submitted yet:")


class AlreadyApplied(Conflict):
    """The organisation already has an application in the round (of any status, withdrawn included)."""

    def __init__(self, application: Application) -> None:
        org = application.organisation
        super().__init__(
            f"{org.name} already has an application in this round "
            f"({application.status.label.lower()}). Each organisation may apply once per round.",
            field="organisation_id",
        )
        self.application = application


class VersionConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(VERSION_CONFLICT)


def _versioned(service: Callable[P, R]) -> Callable[P, R]:
    """Someone else's change landed first (the version column matched no row): a conflict, not a crash,
    wherever the flush happens (an autoflush before a query included)."""

    @functools.wraps(service)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except StaleDataError:
            raise VersionConflict() from None

    return wrapped


def answer_field(question: RoundQuestion | int) -> str:
    qid = question if isinstance(question, int) else question.id
    return f"answer_{qid}"


def word_count(text: str | None) -> int:
    return len(re.findall(r"\S+", text or ""))


def pounds(pence: int) -> str:
    whole, part = divmod(abs(pence), 100)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{whole:,}" if part == 0 else f"{sign}£{whole:,}.{part:02d}"


def _london(dt: datetime) -> str:
    return dt.astimezone(LONDON).strftime("%-d %B %Y at %H:%M")


# --- who may ------------------------------------------------------------------------------------------------------


def is_applicant(user: User, application: Application) -> bool:
    """A member (any role) of the applying organisation."""
    return bool(user.is_authenticated and user.membership_of(application.organisation_id) is not None)


def can_view(user: User, application: Application) -> bool:
    return is_applicant(user, application) or bool(user.is_authenticated and user.is_staff)


def _require_applicant(user: User, application: Application) -> None:
    if not is_applicant(user, application):
        raise NotFound("There is no such application.")


def _require_staff(user: User) -> None:
    if not user.is_staff:
        raise NotAllowed("Only foundation staff can do that.")


def _transition(application: Application, action: ApplicationAction) -> ApplicationStatus:
    allowed_from, to_status = APPLICATION_TRANSITIONS[action]
    if application.status not in allowed_from:
        raise IllegalTransition(
            f"This application is {application.status.label.lower()}: it cannot be "
            f"{_ACTION_WORDS[action]} now."
        )
    return to_status


_ACTION_WORDS = {
    ApplicationAction.SUBMITTED: "submitted",
    ApplicationAction.LATE_ACCEPTED: "accepted late",
    ApplicationAction.RESUBMITTED: "resubmitted",
    ApplicationAction.MORE_INFO_REQUESTED: "sent back for more information",
    ApplicationAction.WITHDRAWN: "withdrawn",
}


def _record(
    application: Application, action: ApplicationAction, by: User | None, message: str | None, at: datetime
) -> ApplicationEvent:
    event = ApplicationEvent(
        application=application, action=action, message=message, by_id=by.id if by else None, created_at=at
    )
    db.session.add(event)
    return event


# --- rounds ------------------------------------------------------------------------------------------------------


def accepting_applications(round_: GrantRound, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return round_.status is RoundStatus.OPEN and round_.opens_at <= now < round_.closes_at


def round_closed_reason(round_: GrantRound, now: datetime | None = None) -> str | None:
    """Why the round takes no applications now, or None when it does."""
    now = now or utcnow()
    if round_.status is RoundStatus.OPEN and now < round_.opens_at:
        return f"This round opens for applications on {_london(round_.opens_at)}."
    if round_.status is RoundStatus.OPEN and now >= round_.closes_at:
        return f"This round closed for applications on {_london(round_.closes_at)}."
    if round_.status is not RoundStatus.OPEN:
        return f"This round is not open for applications (it is {round_.status.label.lower()})."
    return None


def lock_round(round_id: int) -> GrantRound:
    """The round, locked against other writers until the transaction ends (PostgreSQL row lock; on SQLite the
    write transaction already holds the database lock), read afresh so its reference counter is current."""
    round_ = db.session.scalars(
        sa.select(GrantRound)
        .where(GrantRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if round_ is None:
        raise NotFound("There is no such round.")
    return round_


# --- starting and saving -------------------------------------------------------------------------------------------


def application_in_round(round_: GrantRound, org: Organisation) -> Application | None:
    return db.session.scalar(
        sa.select(Application).where(Application.round_id == round_.id, Application.organisation_id == org.id)
    )


def applications_in_round(round_: GrantRound, orgs: list[Organisation]) -> dict[int, Application | None]:
    """Each organisation's application in the round (None where it has not applied), in one query."""
    found = db.session.scalars(
        sa.select(Application).where(
            Application.round_id == round_.id, Application.organisation_id.in_([o.id for o in orgs])
        )
    )
    by_org: dict[int, Application | None] = {o.id: None for o in orgs}
    by_org.update({a.organisation_id: a for a in found})
    return by_org


def start_application(
    round_: GrantRound, org: Organisation, user: User, now: datetime | None = None
) -> Application:
    """A new, empty draft for the organisation in this round."""
    now = now or utcnow()
    if user.membership_of(org.id) is None:
        raise NotAllowed(f"Only members of {org.name} can apply for it.", field="organisation_id")
    if round_.status is RoundStatus.DRAFT:
        raise NotFound("There is no such round.")
    existing = application_in_round(round_, org)
    if existing is not None:
        raise AlreadyApplied(existing)
    reason = round_closed_reason(round_, now)
    if reason:
        raise Conflict(reason)
    application = Application(
        round_id=round_.id,
        organisation_id=org.id,
        status=ApplicationStatus.DRAFT,
        towns=[],
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    try:
        # Two members starting at the same moment: the unique constraint is the last word.
        with db.session.begin_nested():
            db.session.add(application)
            db.session.flush()
    except IntegrityError:
        existing = application_in_round(round_, org)
        if existing is None:
            raise
        raise AlreadyApplied(existing) from None
    _record(application, ApplicationAction.CREATED, user, None, now)
    db.session.flush()
    return application


def values_problems(round_: GrantRound, values: ApplicationValues) -> list[Problem]:
    """Things that are wrong whatever the stage (a draft cannot be saved with them)."""
    problems: list[Problem] = []
    unknown = [t for t in values.towns if t not in AREA_CHOICES]
    if unknown:
        problems.append(Problem("towns", f"Choose from the towns listed ({', '.join(unknown)} is not one)."))
    for name, value, top in (
        ("young_people_count", values.young_people_count, MAX_YOUNG_PEOPLE),
        ("age_min", values.age_min, MAX_AGE),
        ("age_max", values.age_max, MAX_AGE),
    ):
        if value is not None and not 0 <= value <= top:
            problems.append(Problem(name, f"Enter a number from 0 to {top:,}."))
    if values.age_min is not None and values.age_max is not None and values.age_min > values.age_max:
        problems.append(Problem("age_max", "The oldest age must be at least the youngest age."))
    if values.starts_on and values.ends_on and values.ends_on < values.starts_on:
        problems.append(Problem("ends_on", "The end date must be on or after the start date."))
    amount = values.amount_requested_pence
    if amount is not None and not 0 <= amount <= MAX_MONEY_PENCE:
        problems.append(Problem("amount_requested", f"Enter an amount from £0 to {pounds(MAX_MONEY_PENCE)}."))
    if len(values.budget_lines) > MAX_BUDGET_LINES:
        problems.append(Problem("budget_lines", f"Use at most {MAX_BUDGET_LINES} budget lines."))
    for line in values.budget_lines:
        if not line.item.strip():
            problems.append(Problem("budget_lines", "Say what each budget line is for."))
            break
        if not 0 <= line.cost_pence <= MAX_MONEY_PENCE:
            problems.append(
                Problem("budget_lines", f"Each budget line must cost from £0 to {pounds(MAX_MONEY_PENCE)}.")
            )
            break
    question_ids = {q.id for q in round_.questions}
    if set(values.answers) - question_ids:
        problems.append(Problem(None, "Answer only this round's questions."))
    return problems


@_versioned
def save_draft(
    application: Application, user: User, values: ApplicationValues, version: int | None
) -> Application:
    """Save what the applicant has so far. `version` is the one their form was loaded at."""
    _require_applicant(user, application)
    if not application.status.editable:
        raise IllegalTransition(
            f"This application is {application.status.label.lower()}: it can no longer be changed."
        )
    if version != application.version:
        raise VersionConflict()
    problems = values_problems(application.round, values)
    if problems:
        raise ApplicationProblems(problems, "The draft was not saved:")

    # One UPDATE at the end (no flush half-way through, when the answers load), checked against the version.
    with db.session.no_autoflush:
        _apply(application, values)
    _flush_versioned()
    return application


def _apply(application: Application, values: ApplicationValues) -> None:
    application.project_title = values.project_title.strip()
    application.summary = values.summary.strip()
    application.description = values.description.strip()
    application.towns = [t for t in AREA_CHOICES if t in set(values.towns)]
    application.young_people_count = values.young_people_count
    application.age_min = values.age_min
    application.age_max = values.age_max
    application.starts_on = values.starts_on
    application.ends_on = values.ends_on
    application.amount_requested_pence = values.amount_requested_pence or 0
    application.outcomes = values.outcomes.strip()
    application.partners = values.partners.strip()
    application.budget_lines = [
        BudgetLine(item=line.item.strip(), cost_pence=line.cost_pence, position=i)
        for i, line in enumerate(values.budget_lines)
    ]
    answers = {a.question_id: a for a in application.answers}
    for question in application.round.questions:
        text = values.answers.get(question.id, "").strip()
        if question.id in answers:
            answers[question.id].text = text
        elif text:
            application.answers.append(Answer(question_id=question.id, text=text))
    # Touch the row itself, so a change to the budget or answers alone still moves the version on.
    application.updated_at = utcnow()


def _flush_versioned() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise VersionConflict() from None


# --- submitting ----------------------------------------------------------------------------------------------------


def submission_problems(
    application: Application, now: datetime | None = None, *, closed_ok: bool = False
) -> list[Problem]:
    """Every reason the application cannot be submitted now, eligibility first, then what is missing."""
    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    round_ = application.round
    org = application.organisation
    problems: list[Problem] = []

    standing = good_standing(org, today)
    for reason in standing.reasons:
        problems.append(Problem(None, f"{org.name} is not in good standing: {reason}"))
    for grant in overdue_reports(org, today):
        what = grant.application.reference or grant.application.project_title or f"grant {grant.id}"
        problems.append(
            Problem(
                None,
                f"The end-of-grant report for {what} was due on {grant.report_due_on:%-d %B %Y} and has not "
                "been sent. Send it before applying again.",
            )
        )
    if not closed_ok:
        closed_reason = round_closed_reason(round_, now)
        if closed_reason:
            problems.append(Problem(None, closed_reason))

    def missing(name: str, value: object, message: str) -> None:
        if value in (None, "", []):
            problems.append(Problem(name, message))

    missing("project_title", application.project_title, "Give the project a title.")
    missing("summary", application.summary, "Write a short summary of the project.")
    missing("description", application.description, "Describe the project.")
    missing("towns", application.towns, "Choose the towns the project serves.")
    missing("young_people_count", application.young_people_count, "Say how many young people will take part.")
    missing("age_min", application.age_min, "Give the age of the youngest young people.")
    missing("age_max", application.age_max, "Give the age of the oldest young people.")
    missing("starts_on", application.starts_on, "Give the date the project starts.")
    missing("ends_on", application.ends_on, "Give the date the project ends.")
    if application.young_people_count == 0:
        problems.append(Problem("young_people_count", "The project must reach at least one young person."))
    if application.starts_on and application.ends_on and application.ends_on < application.starts_on:
        problems.append(Problem("ends_on", "The end date must be on or after the start date."))

    amount = application.amount_requested_pence
    if not amount:
        problems.append(Problem("amount_requested", "Enter the amount you are asking for."))
    elif amount < round_.min_award_pence:
        problems.append(
            Problem(
                "amount_requested",
                f"This round awards at least {pounds(round_.min_award_pence)}; you asked for {pounds(amount)}.",
            )
        )
    elif amount > round_.max_award_pence:
        problems.append(
            Problem(
                "amount_requested",
                f"This round awards at most {pounds(round_.max_award_pence)}; you asked for {pounds(amount)}.",
            )
        )
    if not application.budget_lines:
        problems.append(Problem("budget_lines", "Add the budget: at least one item and its cost."))
    elif amount and application.budget_total_pence != amount:
        problems.append(
            Problem(
                "budget_lines",
                f"The budget lines add up to {pounds(application.budget_total_pence)}, but you are asking for "
                f"{pounds(amount)}. They must be equal.",
            )
        )
    missing("outcomes", application.outcomes, "Describe the outcomes you expect for young people.")

    answers = {a.question_id: a.text for a in application.answers}
    for question in round_.questions:
        text = answers.get(question.id, "").strip()
        if question.required and not text:
            problems.append(
                Problem(answer_field(question), f"Answer the question \u201c{question.prompt}\u201d.")
            )
        words = word_count(text)
        if question.max_words and words > question.max_words:
            problems.append(
                Problem(
                    answer_field(question),
                    f"Your answer to \u201c{question.prompt}\u201d has {words} words; "
                    f"the limit is {question.max_words}.",
                )
            )
    return problems


@_versioned
def submit_application(application: Application, user: User, now: datetime | None = None) -> Application:
    """Submit a draft (taking the round's next reference) or resubmit one sent back (keeping its reference)."""
    _require_applicant(user, application)
    return _submit(application, user, now or utcnow(), late=False)


def _submit(application: Application, by: User, now: datetime, *, late: bool) -> Application:
    round_ = lock_round(application.round_id)
    resubmission = application.status is ApplicationStatus.MORE_INFO_REQUESTED
    if late:
        action = ApplicationAction.SUBMITTED
    else:
        action = ApplicationAction.RESUBMITTED if resubmission else ApplicationAction.SUBMITTED
    to_status = _transition(application, action)
    if resubmission and round_.status is RoundStatus.DECIDED:
        raise IllegalTransition(
            "Decisions have been made in this round: the application can no longer change."
        )
    # Staff asked for more information, or accepted it late: the closing date no longer applies.
    problems = submission_problems(application, now, closed_ok=late or resubmission)
    if problems:
        raise SubmissionRefused(problems)
    if application.reference is None:
        application.reference = f"{round_.reference_prefix}-{round_.next_reference:04d}"
        round_.next_reference += 1
    application.status = to_status
    if application.submitted_at is None:
        application.submitted_at = now
    application.submitted_by_id = by.id
    _record(application, action, by, None, now)
    _tell_staff(
        application,
        f"Application {'resubmitted' if resubmission else 'submitted'}: {application.reference}",
        "grant_application_submitted",
        resubmitted=resubmission,
        late=late,
    )
    _flush_versioned()
    return application


@_versioned
def accept_late(
    application: Application, staff: User, reason: str, now: datetime | None = None
) -> Application:
    """Staff accept a draft after the round closed: recorded with who and why, then submitted."""
    now = now or utcnow()
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why this application is accepted late.", field="reason")
    _transition(application, ApplicationAction.LATE_ACCEPTED)
    round_ = application.round
    if round_.status in {RoundStatus.DRAFT, RoundStatus.DECIDED}:
        raise IllegalTransition(
            f"The round is {round_.status.label.lower()}: no application can be accepted late into it."
        )
    if accepting_applications(round_, now):
        raise Conflict("The round is still open: the organisation can submit the application themselves.")
    application.late_accepted_by_id = staff.id
    application.late_reason = reason
    _record(application, ApplicationAction.LATE_ACCEPTED, staff, reason, now)
    _submit(application, staff, now, late=True)
    _tell_members(
        application,
        f"Late application accepted: {application.reference}",
        "grant_application_late_accepted",
        reason=reason,
    )
    return application


# --- after submission ----------------------------------------------------------------------------------------------


def _not_decided(application: Application) -> None:
    if application.decision is not None or application.round.status is RoundStatus.DECIDED:
        raise IllegalTransition("A decision has been made on this application: it can no longer change.")


@_versioned
def withdraw_application(
    application: Application, user: User, reason: str = "", now: datetime | None = None
) -> Application:
    """The organisation withdraws before a decision. It may not apply again in the same round."""
    now = now or utcnow()
    _require_applicant(user, application)
    to_status = _transition(application, ApplicationAction.WITHDRAWN)
    _not_decided(application)
    was_submitted = application.reference is not None
    application.status = to_status
    _record(application, ApplicationAction.WITHDRAWN, user, (reason or "").strip() or None, now)
    if was_submitted:
        _tell_staff(
            application,
            f"Application withdrawn: {application.reference}",
            "grant_application_withdrawn",
            reason=(reason or "").strip(),
            by=user,
        )
    _flush_versioned()
    return application


@_versioned
def request_more_info(
    application: Application, staff: User, message: str, now: datetime | None = None
) -> Application:
    """Staff send a submitted application back: it reopens for editing and is resubmitted with its reference."""
    now = now or utcnow()
    _require_staff(staff)
    message = (message or "").strip()
    if not message:
        raise DomainError(
            "Say what information is needed, so the organisation knows what to change.", "message"
        )
    to_status = _transition(application, ApplicationAction.MORE_INFO_REQUESTED)
    _not_decided(application)
    application.status = to_status
    _record(application, ApplicationAction.MORE_INFO_REQUESTED, staff, message, now)
    _tell_members(
        application,
        f"More information needed: {application.reference}",
        "grant_application_returned",
        message=message,
    )
    _flush_versioned()
    return application


# --- telling people ------------------------------------------------------------------------------------------------


def _tell_staff(application: Application, subject: str, template: str, **context: object) -> None:
    link = url_for("grants.application", application_id=application.id)
    notify_staff(NotificationKind.GRANTS, subject, template, link=link, application=application, **context)


def _tell_members(application: Application, subject: str, template: str, **context: object) -> None:
    link = url_for("grants.application", application_id=application.id)
    notify_members(
        application.organisation, NotificationKind.GRANTS, subject, template, link=link, application=application,
        **context,
    )  # fmt: skip


# --- lists -------------------------------------------------------------------------------------------------------


def applications_for_organisation(org: Organisation) -> list[Application]:
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.organisation_id == org.id)
            .options(selectinload(Application.round))
            .order_by(Application.created_at.desc(), Application.id.desc())
        )
    )


def staff_list_query(
    round_id: int | None = None,
    status: ApplicationStatus | None = None,
    town: str | None = None,
    search: str | None = None,
) -> sa.Select[tuple[Application]]:
    """Applications for staff, filtered; submitted ones by reference, then drafts by organisation name."""
    stmt = (
        sa.select(Application)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .options(selectinload(Application.round), selectinload(Application.organisation))
    )
    if round_id is not None:
        stmt = stmt.where(Application.round_id == round_id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    if town:
        # Towns are a JSON list of names from a fixed list (no quotes in them): the quoted name in its text
        # matches exactly that town, on every database.
        stmt = stmt.where(sa.cast(Application.towns, sa.Text).like(f'%"{town}"%'))
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Organisation.name).like(like),
                sa.func.lower(Application.project_title).like(like),
                sa.func.lower(sa.func.coalesce(Application.reference, "")).like(like),
            )
        )
    return stmt.order_by(
        Application.reference.is_(None),
        Application.reference,
        sa.func.lower(Organisation.name),
        Application.id,
    )


def staff_list(
    round_id: int | None = None,
    status: ApplicationStatus | None = None,
    town: str | None = None,
    search: str | None = None,
) -> list[Application]:
    return list(db.session.scalars(staff_list_query(round_id, status, town, search)))


def amount_requested(stmt: sa.Select[tuple[Application]]) -> int:
    """What the applications a query finds ask for in all, summed in SQL."""
    listed = stmt.order_by(None).subquery()
    return int(
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(listed.c.amount_requested_pence), 0))) or 0
    )


def visible_rounds() -> list[GrantRound]:
    """Rounds staff can filter by (every round past its draft), newest first."""
    return list(
        db.session.scalars(
            sa.select(GrantRound)
            .where(GrantRound.status != RoundStatus.DRAFT)
            .order_by(GrantRound.opens_at.desc(), GrantRound.id.desc())
        )
    )
