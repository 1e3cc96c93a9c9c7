"""Deciding applications: award in full, award part, or decline with a reason and feedback.

Awards never exceed the round's remaining budget, however many staff decide at the same moment. Every decision
first locks the round row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the view has begun the transaction with
BEGIN IMMEDIATE through begin_write_transaction), then reads the budget from the ledger and the application's
state fresh. A second decider waits for the first to commit and then sees the smaller budget, so the check and
the ledger AWARD it guards cannot be split by another award.

Changing a decision (documented in the staff page too):
- allowed until the organisation accepts the grant; afterwards the decision stands;
- a different award amount moves only the difference: RELEASE back to the round when reduced, AWARD (within the
  remaining budget) when increased;
- a decline can become an award, and a decline's reason and feedback can be corrected;
- an award cannot be turned into a decline: the grant offer (and its ledger history) exists, so staff reduce it
  or contact the organisation instead. This keeps every grant either offered, active or completed.

Two staff at once: the decision form carries the version of the decision it showed (none yet, or a number that
moves on with every change). A form based on an older version is refused with a 409 and the decision as it now
stands, so nobody overwrites a colleague's change without seeing it. Recording what is already recorded changes
nothing and is refused too ("already recorded"), so of several staff making the same decision at once, one
makes it.

What the applicant hears: each organisation member is told once per decision that actually lands. The first
decision sends the decision itself; each later real change sends one "your decision was updated" message with
the decision as it now stands. A re-save of the same decision and a refused stale form send nothing, so two
staff editing at the same moment produce one change and one message, never one message per save.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from foundation.errors import Conflict, DomainError, IllegalTransition, NotFound
from foundation.extensions import db
from foundation.grants import awards, money
from foundation.grants.awards import pounds
from foundation.grants.models import (
    Application,
    ApplicationAction,
    ApplicationEvent,
    ApplicationStatus,
    Decision,
    DecisionOutcome,
    DeclineReason,
    GrantRound,
    GrantStatus,
    RoundStatus,
)
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members
from foundation.types import utcnow

MAX_FEEDBACK_CHARS = 5000
BUDGET_EXCEEDED = "would exceed the round's remaining budget"

# Sent back for more information and never returned still has to be decided before the round closes.
DECIDABLE_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED)

DEFAULT_DECLINE_REASONS = (
    "Outside the round's priorities",
    "Did not meet the eligibility criteria",
    "Scored below other applications",
    "Not enough evidence of need",
    "Budget unclear or not realistic",
    "Not enough funds left in the round",
)


@dataclass(frozen=True)
class SeenDecision:
    """The decision as the staff member's form showed it: its version, or None when none had been made."""

    version: int | None


class StaleDecision(Conflict):
    """The decision changed after the form was opened; `current` is the decision as it now stands."""

    def __init__(self, current: Decision | None) -> None:
        if current is None:
            message = "This decision changed after you opened the page. Check it and decide again."
        else:
            who = current.decided_by.name if current.decided_by else "Someone"
            message = (
                f"{who} changed this decision after you opened the page. It now stands as shown under "
                "\u201cDecision recorded\u201d. Your choices are still in the form: record them again only if "
                "they should replace it."
            )
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class DecisionInput:
    outcome: DecisionOutcome
    amount_pence: int | None = None  # for an award in part
    decline_reason_id: int | None = None  # for a decline
    feedback: str = ""  # required for a decline; optional message with an award


def active_decline_reasons() -> list[DeclineReason]:
    return list(
        db.session.scalars(
            sa.select(DeclineReason)
            .where(DeclineReason.active.is_(True))
            .order_by(DeclineReason.position, DeclineReason.label)
        )
    )


def ensure_default_decline_reasons() -> list[DeclineReason]:
    """Add the standard reasons that are missing (for a new installation and for tests)."""
    have = set(db.session.scalars(sa.select(DeclineReason.label)))
    for position, label in enumerate(DEFAULT_DECLINE_REASONS):
        if label not in have:
            db.session.add(DeclineReason(label=label, position=position))
    db.session.flush()
    return active_decline_reasons()


def lock_round(round_id: int) -> GrantRound:
    """The round, its row locked until the transaction ends: deciders of one round go one at a time."""
    round_ = db.session.scalar(
        sa.select(GrantRound)
        .where(GrantRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if round_ is None:
        raise NotFound("There is no such round.")
    return round_


def decidable(application: Application) -> str | None:
    """Why the application cannot be decided (or its decision changed) now, or None if it can."""
    round_ = application.round
    if application.decision is None:
        if round_.status is not RoundStatus.IN_REVIEW:
            return f"Decisions are made while the round is in review; this round is {round_.status.label.lower()}."
        if application.status not in DECIDABLE_STATUSES:
            return f"Only submitted applications are decided; this one is {application.status.label.lower()}."
        return None
    if round_.status not in (RoundStatus.IN_REVIEW, RoundStatus.DECIDED):
        return f"Decisions cannot change while the round is {round_.status.label.lower()}."
    grant = application.grant
    if grant is not None and grant.status is GrantStatus.WITHDRAWN:
        return (
            "The grant offer was withdrawn, so the decision stands as a record and can no longer be changed."
        )
    if grant is not None and grant.status is not GrantStatus.OFFERED:
        return "The organisation has accepted the grant, so the decision can no longer be changed."
    return None


def decide(
    application: Application, by: User, choice: DecisionInput, seen: SeenDecision | None = None
) -> Decision:
    """Record (or change) the decision on an application; award money through the ledger; tell the applicant.

    `seen` is the decision the staff member's form was based on; a form based on an older one is refused
    (StaleDecision, 409). Without it (scripts, demo data) the change is made over whatever stands.
    """
    lock_round(application.round_id)
    db.session.expire(application)  # state read after the lock, not before it
    if application.decision is not None:
        db.session.refresh(application.decision)
    round_ = application.round
    why_not = decidable(application)
    if why_not:
        raise IllegalTransition(why_not)
    if application.grant is not None:
        awards.lock_grant(application.grant.id)  # an acceptance cannot slip in while the offer changes

    feedback = (choice.feedback or "").strip()
    if len(feedback) > MAX_FEEDBACK_CHARS:
        raise DomainError(f"Keep the feedback under {MAX_FEEDBACK_CHARS:,} characters.", field="feedback")
    reason = None
    amount = 0
    requested = application.amount_requested_pence
    if choice.outcome is DecisionOutcome.DECLINE:
        if application.grant is not None:
            raise IllegalTransition(
                "This application has a grant offer, so it cannot be declined now. Reduce the award or "
                "contact the organisation.",
                field="outcome",
            )
        if choice.decline_reason_id is None:
            raise DomainError("Choose the reason for declining.", field="decline_reason")
        reason = db.session.get(DeclineReason, choice.decline_reason_id)
        if reason is None or not reason.active:
            raise DomainError("Choose one of the listed reasons.", field="decline_reason")
        if not feedback:
            raise DomainError(
                "Write feedback for the applicant: it helps them apply again.", field="feedback"
            )
    elif choice.outcome is DecisionOutcome.AWARD_FULL:
        amount = requested
        if not round_.min_award_pence <= amount <= round_.max_award_pence:
            raise DomainError(
                f"The amount requested ({pounds(amount)}) is outside the round's range of "
                f"{pounds(round_.min_award_pence)} to {pounds(round_.max_award_pence)}; award part instead.",
                field="outcome",
            )
    else:
        if choice.amount_pence is None:
            raise DomainError("Enter the amount to award.", field="amount")
        amount = choice.amount_pence
        if amount >= requested:
            raise DomainError(
                f"An award in part is less than the {pounds(requested)} requested; to give it all, award in full.",
                field="amount",
            )
        if not round_.min_award_pence <= amount <= round_.max_award_pence:
            raise DomainError(
                f"Awards in this round are between {pounds(round_.min_award_pence)} and "
                f"{pounds(round_.max_award_pence)}.",
                field="amount",
            )

    existing = application.decision
    if existing is not None and (
        existing.outcome is choice.outcome
        and existing.amount_pence == amount
        and existing.decline_reason_id == (reason.id if reason else None)
        and existing.feedback == feedback
    ):
        raise Conflict("This decision has already been recorded.", field="outcome")
    if seen is not None and seen.version != (existing.version if existing is not None else None):
        raise StaleDecision(existing)

    grant = application.grant
    if amount:
        needed = amount - (grant.amount_pence if grant is not None else 0)
        remaining = money.money_for(round_).remaining_pence
        if needed > remaining:
            raise Conflict(
                f"This award {BUDGET_EXCEEDED}: {pounds(max(remaining, 0))} is left and the award needs "
                f"{pounds(needed)} more.",
                field="amount",
            )
        if grant is None:
            grant = awards.offer_grant(application, amount, by)
        else:
            awards.change_award(grant, amount, by)

    changed = existing is not None
    fields = {
        "outcome": choice.outcome,
        "amount_pence": amount,
        "decline_reason_id": reason.id if reason else None,
        "feedback": feedback,
        "decided_by_id": by.id,
        "decided_at": utcnow(),
    }
    if existing is None:
        decision = Decision(**fields)
        db.session.add(decision)
        application.decision = decision
    else:
        decision = existing
        for name, value in fields.items():
            setattr(decision, name, value)

    awarded = choice.outcome is not DecisionOutcome.DECLINE
    application.status = ApplicationStatus.AWARDED if awarded else ApplicationStatus.DECLINED
    if awarded:
        summary = f"{choice.outcome.label}: {pounds(amount)}"
    else:
        assert reason is not None  # a decline has its reason, checked above
        summary = f"Declined: {reason.label}"
    db.session.add(
        ApplicationEvent(
            application=application,
            action=ApplicationAction.AWARDED if awarded else ApplicationAction.DECLINED,
            message=f"{'Decision changed. ' if changed else ''}{summary}"
            + (f"\n{feedback}" if feedback else ""),
            by_id=by.id,
        )
    )
    db.session.flush()
    _tell_applicant(application, decision, changed)
    return decision


def _tell_applicant(application: Application, decision: Decision, changed: bool) -> None:
    org = application.organisation
    reference = application.reference or application.project_title
    awarded = decision.outcome is not DecisionOutcome.DECLINE
    if changed:
        subject = f"{reference}: your seed grant decision was updated"
    elif awarded:
        subject = f"{reference}: you have been awarded a seed grant"
    else:
        subject = f"{reference}: your seed grant application was not successful"
    if awarded and application.grant is not None:
        link = url_for("grants.award_detail", grant_id=application.grant.id)
    else:
        link = url_for("grants.application", application_id=application.id)
    notify_members(
        org,
        NotificationKind.GRANTS,
        subject[:200],
        "grant_decision",
        link=link,
        org=org,
        application=application,
        decision=decision,
        grant=application.grant,
        awarded=awarded,
        changed=changed,
    )
