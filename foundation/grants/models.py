"""Seed grants: rounds, applications, reviews, decisions, grants, payments and reports.

Money is integer pence. Balances are never stored: a fund's balance and a round's budget, committed and remaining
amounts are sums of entries on the Foundation's ledger (foundation/ledger/).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import Organisation, User
from foundation.types import UTCDateTime, enum_column, utcnow

# --- rounds --------------------------------------------------------------------------------------------------------


class RoundStatus(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    IN_REVIEW = "in_review"
    DECIDED = "decided"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# The round state machine, in one place: each step is taken by staff, in order.
ROUND_TRANSITIONS: dict[RoundStatus, RoundStatus] = {
    RoundStatus.DRAFT: RoundStatus.OPEN,
    RoundStatus.OPEN: RoundStatus.CLOSED,
    RoundStatus.CLOSED: RoundStatus.IN_REVIEW,
    RoundStatus.IN_REVIEW: RoundStatus.DECIDED,
}


class GrantRound(Model):
    __tablename__ = "grant_round"
    __table_args__ = (
        sa.CheckConstraint("min_award_pence > 0", name="min_award_positive"),
        sa.CheckConstraint("max_award_pence >= min_award_pence", name="award_range"),
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Short code used in application references: WYPF-<year>-<code>-0007.
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    description: Mapped[str] = mapped_column(sa.Text)
    priorities: Mapped[str] = mapped_column(sa.Text, default="")
    eligibility: Mapped[str] = mapped_column(sa.Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    min_award_pence: Mapped[int] = mapped_column(sa.BigInteger)
    max_award_pence: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[RoundStatus] = mapped_column(
        enum_column(RoundStatus), default=RoundStatus.DRAFT, index=True
    )
    # The day the panel's reviews are due (UK date, by the end of it); reviewers are reminded before it.
    review_deadline: Mapped[date | None] = mapped_column(sa.Date)
    # Spread of reviewers' weighted scores (in points out of 100) above which an application is flagged.
    disagreement_threshold: Mapped[int] = mapped_column(default=20)
    next_reference: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="Criterion.position"
    )
    questions: Mapped[list[RoundQuestion]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundQuestion.position"
    )
    applications: Mapped[list[Application]] = relationship(back_populates="round")
    events: Mapped[list[RoundEvent]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundEvent.created_at"
    )

    @property
    def reference_prefix(self) -> str:
        return f"WYPF-{self.opens_at.year}-{self.code}"

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.criteria)


class RoundEvent(Model):
    """Each staff step on a round (opened, closed, ...), with who and when."""

    __tablename__ = "grant_round_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round.id"), index=True)
    from_status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus))
    to_status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[GrantRound] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


class Criterion(Model):
    __tablename__ = "grant_criterion"
    __table_args__ = (
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("max_score > 0", name="max_score_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[int]
    max_score: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[GrantRound] = relationship(back_populates="criteria")


class RoundQuestion(Model):
    """A round's own question beyond the standard application fields."""

    __tablename__ = "grant_round_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round.id"), index=True)
    prompt: Mapped[str] = mapped_column(sa.String(300))
    help_text: Mapped[str] = mapped_column(sa.Text, default="")
    required: Mapped[bool] = mapped_column(default=True)
    max_words: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[GrantRound] = relationship(back_populates="questions")


# --- applications --------------------------------------------------------------------------------------------------


class ApplicationStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO_REQUESTED = "more_info_requested"  # sent back by staff: editable, then resubmitted
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {ApplicationStatus.MORE_INFO_REQUESTED: "More information requested"}.get(
            self, self.value.capitalize()
        )

    @property
    def editable(self) -> bool:
        return self in {ApplicationStatus.DRAFT, ApplicationStatus.MORE_INFO_REQUESTED}


class Application(Model):
    __tablename__ = "grant_application"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "organisation_id", name="uq_grant_application_round_org"),
        sa.CheckConstraint("amount_requested_pence >= 0", name="amount_non_negative"),
        sa.CheckConstraint(
            "young_people_count IS NULL OR young_people_count >= 0", name="reach_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    reference: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus), default=ApplicationStatus.DRAFT, index=True
    )
    project_title: Mapped[str] = mapped_column(sa.String(200), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    towns: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    young_people_count: Mapped[int | None]
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    amount_requested_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    partners: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # A late submission accepted by staff: who and why.
    late_accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    late_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Several members edit the same draft: a save based on an old version is refused, not silently lost.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    round: Mapped[GrantRound] = relationship(back_populates="applications")
    organisation: Mapped[Organisation] = relationship()
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="BudgetLine.position"
    )
    answers: Mapped[list[Answer]] = relationship(back_populates="application", cascade="all, delete-orphan")
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationEvent.created_at"
    )
    assignments: Mapped[list[ReviewAssignment]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )
    decision: Mapped[Decision | None] = relationship(back_populates="application", uselist=False)
    grant: Mapped[Grant | None] = relationship(back_populates="application", uselist=False)

    @property
    def budget_total_pence(self) -> int:
        return sum(line.cost_pence for line in self.budget_lines)


class BudgetLine(Model):
    __tablename__ = "grant_budget_line"
    __table_args__ = (sa.CheckConstraint("cost_pence >= 0", name="cost_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), index=True)
    item: Mapped[str] = mapped_column(sa.String(200))
    cost_pence: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(default=0)

    application: Mapped[Application] = relationship(back_populates="budget_lines")


class Answer(Model):
    __tablename__ = "grant_answer"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "question_id", name="uq_grant_answer_app_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round_question.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text, default="")

    application: Mapped[Application] = relationship(back_populates="answers")
    question: Mapped[RoundQuestion] = relationship()


class ApplicationAction(enum.Enum):
    CREATED = "created"
    SUBMITTED = "submitted"
    LATE_ACCEPTED = "late_accepted"
    MORE_INFO_REQUESTED = "more_info_requested"
    RESUBMITTED = "resubmitted"
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    DECLINED = "declined"
    OFFER_WITHDRAWN = "offer_withdrawn"  # staff withdrew the grant offer before any payment
    GRANT_ENDED = "grant_ended"  # staff ended the grant early: unpaid instalments cancelled


class ApplicationEvent(Model):
    """The application's history: who did what, when, and the message if any."""

    __tablename__ = "grant_application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), index=True)
    action: Mapped[ApplicationAction] = mapped_column(enum_column(ApplicationAction))
    message: Mapped[str | None] = mapped_column(sa.Text)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


# --- reviewing -----------------------------------------------------------------------------------------------------


class ConflictDeclaration(enum.Enum):
    UNDECLARED = "undeclared"  # the reviewer has not yet said; the application's details stay hidden
    NONE = "none"  # confirmed no conflict of interest
    CONFLICT = "conflict"  # declared a conflict: removed from the application, its scores hidden from them
    EXCLUDED = "excluded"  # excluded automatically (the reviewer belongs to the applying organisation)


class ReviewAssignment(Model):
    __tablename__ = "grant_review_assignment"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "reviewer_id", name="uq_grant_review_assignment_app_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    conflict: Mapped[ConflictDeclaration] = mapped_column(
        enum_column(ConflictDeclaration), default=ConflictDeclaration.UNDECLARED
    )
    conflict_reason: Mapped[str | None] = mapped_column(sa.Text)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship(back_populates="assignments")
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    scores: Mapped[list[Score]] = relationship(back_populates="assignment", cascade="all, delete-orphan")

    @property
    def active(self) -> bool:
        """Counts towards the application's review (not conflicted or excluded)."""
        return self.conflict in {ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE}


class Score(Model):
    """A reviewer's score on one criterion: 0..max, or n/a with a reason."""

    __tablename__ = "grant_score"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "criterion_id", name="uq_grant_score_assignment_criterion"),
        sa.CheckConstraint("score IS NULL OR score >= 0", name="score_non_negative"),
        sa.CheckConstraint(
            "(not_applicable AND score IS NULL) OR (NOT not_applicable)", name="na_has_no_score"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_review_assignment.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_criterion.id"), index=True)
    score: Mapped[int | None]
    not_applicable: Mapped[bool] = mapped_column(default=False)
    na_reason: Mapped[str | None] = mapped_column(sa.Text)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


# --- deciding, paying, reporting ------------------------------------------------------------------------------------


class DeclineReason(Model):
    """A structured reason for declining, from a list staff maintain."""

    __tablename__ = "grant_decline_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class DecisionOutcome(enum.Enum):
    AWARD_FULL = "award_full"
    AWARD_PART = "award_part"
    DECLINE = "decline"

    @property
    def label(self) -> str:
        return {
            DecisionOutcome.AWARD_FULL: "Awarded in full",
            DecisionOutcome.AWARD_PART: "Awarded in part",
            DecisionOutcome.DECLINE: "Declined",
        }[self]


class Decision(Model):
    __tablename__ = "grant_decision"
    __table_args__ = (sa.CheckConstraint("amount_pence >= 0", name="amount_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(enum_column(DecisionOutcome))
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    decline_reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grant_decline_reason.id"))
    feedback: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Moves on with every change: a decision form based on an older version is refused, so one member of staff
    # never overwrites another's change unseen.
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))

    __mapper_args__ = {"version_id_col": version}

    application: Mapped[Application] = relationship(back_populates="decision")
    decline_reason: Mapped[DeclineReason | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class GrantStatus(enum.Enum):
    OFFERED = "offered"  # awaiting the organisation's acceptance of the conditions
    ACTIVE = "active"  # conditions accepted; payments and the end-of-grant report follow
    COMPLETED = "completed"  # report accepted
    WITHDRAWN = "withdrawn"  # offer withdrawn by staff before anything was paid: the whole award released
    ENDED = "ended"  # ended early by staff after a payment: unpaid instalments cancelled, the rest released

    @property
    def label(self) -> str:
        return {GrantStatus.WITHDRAWN: "Offer withdrawn", GrantStatus.ENDED: "Ended early"}.get(
            self, self.value.capitalize()
        )

    @property
    def closed_early(self) -> bool:
        """Withdrawn or ended by staff: nothing more is paid, changed or reported."""
        return self in (GrantStatus.WITHDRAWN, GrantStatus.ENDED)

    @property
    def changeable(self) -> bool:
        """Its terms and schedule can still change (offered or active)."""
        return self in (GrantStatus.OFFERED, GrantStatus.ACTIVE)


class Grant(Model):
    __tablename__ = "grant_award"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_application.id"), unique=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_round.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    conditions: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[GrantStatus] = mapped_column(
        enum_column(GrantStatus), default=GrantStatus.OFFERED, index=True
    )
    report_due_on: Mapped[date] = mapped_column(sa.Date)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Withdrawn or ended early (GrantStatus.closed_early): when, by whom and why (the organisation is told why).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)
    # What the award was before it ended early (amount_pence then becomes what was paid).
    awarded_before_end_pence: Mapped[int | None] = mapped_column(sa.BigInteger)

    application: Mapped[Application] = relationship(back_populates="grant")
    round: Mapped[GrantRound] = relationship()
    organisation: Mapped[Organisation] = relationship()
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="Instalment.due_on"
    )
    report: Mapped[GrantReport | None] = relationship(back_populates="grant", uselist=False)

    @property
    def paid_pence(self) -> int:
        return sum(i.amount_pence for i in self.instalments if i.paid_at is not None)

    @property
    def released_pence(self) -> int:
        """What ending early released back to the round (0 unless ended early)."""
        if self.awarded_before_end_pence is None:
            return 0
        return self.awarded_before_end_pence - self.amount_pence


class Instalment(Model):
    """One planned payment of a grant; paid when staff record it (a ledger transaction)."""

    __tablename__ = "grant_instalment"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_award.id"), index=True)
    due_on: Mapped[date] = mapped_column(sa.Date)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    payment_reference: Mapped[str | None] = mapped_column(sa.String(100))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"))
    # Not to be paid: the grant was withdrawn or ended early before this instalment's turn came.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    grant: Mapped[Grant] = relationship(back_populates="instalments")


class ReportStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO_REQUESTED = "more_info_requested"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {ReportStatus.MORE_INFO_REQUESTED: "More information requested"}.get(
            self, self.value.capitalize()
        )


class GrantReport(Model):
    """The end-of-grant report."""

    __tablename__ = "grant_report"
    __table_args__ = (
        sa.CheckConstraint("underspend_pence >= 0", name="underspend_non_negative"),
        sa.CheckConstraint(
            "young_people_reached IS NULL OR young_people_reached >= 0", name="reach_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_award.id"), unique=True)
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), default=ReportStatus.DRAFT)
    what_happened: Mapped[str] = mapped_column(sa.Text, default="")
    young_people_reached: Mapped[int | None]
    spend_summary: Mapped[str] = mapped_column(sa.Text, default="")  # spend against the budget lines
    spent_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    underspend_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    staff_message: Mapped[str | None] = mapped_column(sa.Text)

    grant: Mapped[Grant] = relationship(back_populates="report")


class ReviewReminder(Model):
    """One row per review-deadline reminder sent about an assignment (7 days, 2 days, on the day), so each goes
    once (foundation.reminders)."""

    __tablename__ = "grant_review_reminder"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "window", name="uq_grant_review_reminder_assignment_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_review_assignment.id", ondelete="CASCADE"), index=True
    )
    window: Mapped[int]  # days before the deadline
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GrantReminder(Model):
    """One row per report reminder sent (14 days before, on the due date), so each goes once."""

    __tablename__ = "grant_reminder"
    __table_args__ = (sa.UniqueConstraint("grant_id", "kind", name="uq_grant_reminder_grant_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_award.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # "report_14_days", "report_due"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- the scorecard's published totals ------------------------------------------------------------------------------


class TotalsDimension(enum.Enum):
    """How a row of the scorecard's totals splits a round's published grants."""

    ROUND = "round"  # the round as a whole (name is "")
    AREA = "area"  # by the recipient organisation's area (name is the Area value)
    TOWN = "town"  # by each town a grant serves (a grant counts in full under every town it serves)


class ScorecardTotal(Model):
    """The public scorecard's figures for one decided round, kept up to date in the transaction of every decision,
    payment or report that changes them (foundation.grants.scorecard), so the page reads a few dozen small rows
    instead of aggregating every grant. Rounds not decided have no rows."""

    __tablename__ = "grant_scorecard_total"

    round_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_round.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[TotalsDimension] = mapped_column(enum_column(TotalsDimension), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    grants: Mapped[int] = mapped_column(default=0)
    awarded_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    planned_reach: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reported_reach: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reports_accepted: Mapped[int] = mapped_column(default=0)
