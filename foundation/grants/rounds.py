"""Funding rounds: creating and editing them, their scoring criteria and questions, the staff steps from draft to
decided (each guarded), closing rounds whose closing time has passed, the fund's staff actions (deposits,
allocating budget to rounds and handing it back), the public ledger's pages, and the list of decline reasons.

Services check the rules and raise domain errors; they never commit. A round's budget is never typed in: it is
what the ledger allocated to it (foundation/grants/money.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from foundation.errors import Conflict, DomainError, IllegalTransition
from foundation.extensions import db
from foundation.grants import money
from foundation.grants.models import (
    ROUND_TRANSITIONS,
    Application,
    ApplicationStatus,
    Criterion,
    Decision,
    DecisionOutcome,
    DeclineReason,
    Grant,
    GrantRound,
    RoundEvent,
    RoundQuestion,
    RoundStatus,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerAccount, LedgerTransaction
from foundation.members.models import User
from foundation.types import LONDON, london_today, utcnow

# --- limits ------------------------------------------------------------------------------------------------------

MAX_AWARD_LIMIT_PENCE = 100_000_000  # £1,000,000: far above any seed grant, catches a slipped finger
MAX_DEPOSIT_PENCE = 1_000_000_000  # £10,000,000
MAX_CRITERIA = 12
MAX_QUESTIONS = 20
WEIGHT_MAX = 100
MAX_SCORE_MAX = 100
MAX_WORDS_MAX = 5000
CODE_RE = re.compile(r"^[A-Z0-9]{1,10}$")

# Applications that were submitted (whatever happened next, short of withdrawal), and those still to be decided.
SUBMITTED_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.MORE_INFO_REQUESTED,
    ApplicationStatus.AWARDED,
    ApplicationStatus.DECLINED,
)
UNDECIDED_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED)

ROUND_FIELDS = (
    "name", "code", "description", "priorities", "eligibility", "opens_at", "closes_at", "min_award_pence",
    "max_award_pence", "review_deadline",
)  # fmt: skip
# Once a round is open, applicants rely on these: the code in their references, when it opened, the award range.
LOCKED_ONCE_OPEN = ("code", "opens_at", "min_award_pence", "max_award_pence")
# The form field each value is typed into, so a refusal shows at the right place.
FORM_FIELD = {"min_award_pence": "min_award", "max_award_pence": "max_award"}

ACTION_LABELS = {
    RoundStatus.OPEN: "Open the round",
    RoundStatus.CLOSED: "Close the round",
    RoundStatus.IN_REVIEW: "Start the review",
    RoundStatus.DECIDED: "Mark the round decided",
}


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def _field(name: str) -> str:
    return FORM_FIELD.get(name, name)


def _to_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


# --- rounds ------------------------------------------------------------------------------------------------------


def _check_values(values: dict[str, Any], round_: GrantRound | None = None) -> dict[str, Any]:
    """Validate a round's details (the whole set, after applying any change) and return them cleaned."""
    clean = dict(values)
    for key in ("name", "code", "description", "priorities", "eligibility"):
        if key in clean:
            clean[key] = (clean[key] or "").strip()
    if not clean["name"]:
        raise DomainError("Give the round a name.", field="name")
    if len(clean["name"]) > 200:
        raise DomainError("The name can be at most 200 characters.", field="name")
    clean["code"] = clean["code"].upper()
    if not CODE_RE.match(clean["code"]):
        raise DomainError("Use 1 to 10 capital letters or digits for the code, e.g. SG25.", field="code")
    taken = db.session.scalar(
        sa.select(GrantRound.id).where(
            GrantRound.code == clean["code"], GrantRound.id != (round_.id if round_ is not None else -1)
        )
    )
    if taken is not None:
        raise DomainError(f"Another round already uses the code {clean['code']}.", field="code")
    if not clean["description"]:
        raise DomainError("Describe the round for applicants.", field="description")
    opens_at, closes_at = clean["opens_at"], clean["closes_at"]
    if opens_at is None or opens_at.tzinfo is None:
        raise DomainError("Enter when the round opens.", field="opens_at")
    if closes_at is None or closes_at.tzinfo is None:
        raise DomainError("Enter when the round closes.", field="closes_at")
    if closes_at <= opens_at:
        raise DomainError("The closing time must be after the opening time.", field="closes_at")
    _check_review_deadline(clean.get("review_deadline"), closes_at)
    low, high = clean["min_award_pence"], clean["max_award_pence"]
    if low is None or low <= 0:
        raise DomainError("The minimum award must be more than £0.", field="min_award")
    if high is None or high < low:
        raise DomainError(
            f"The maximum award must be at least the minimum award ({_pounds(low)}).", field="max_award"
        )
    if high > MAX_AWARD_LIMIT_PENCE:
        raise DomainError(
            f"The maximum award can be at most {_pounds(MAX_AWARD_LIMIT_PENCE)}.", field="max_award"
        )
    return clean


def _check_review_deadline(deadline: date | None, closes_at: datetime) -> None:
    if deadline is not None and deadline < closes_at.astimezone(LONDON).date():
        raise DomainError(
            f"Reviews can only be due once the round has closed ({closes_at.astimezone(LONDON):%-d %B %Y}) "
            "or later.",
            field="review_deadline",
        )


def set_review_deadline(round_: GrantRound, deadline: date | None, today: date | None = None) -> None:
    """Set or move the day the panel's reviews are due, at any point before the round is decided. A new date
    earns the reminders of its own windows (those already sent for the old date stay sent)."""
    if round_.status is RoundStatus.DECIDED:
        raise Conflict("This round is decided: its reviews are closed.")
    today = today or london_today()
    if deadline is not None and deadline < today and deadline != round_.review_deadline:
        raise DomainError("The review deadline cannot be in the past.", field="review_deadline")
    _check_review_deadline(deadline, round_.closes_at)
    round_.review_deadline = deadline
    db.session.flush()


def create_round(values: dict[str, Any], by: User | None) -> GrantRound:
    """A new round, as a draft. Its criteria, questions and budget come next."""
    clean = _check_values({k: values.get(k) for k in ROUND_FIELDS})
    round_ = GrantRound(**clean, status=RoundStatus.DRAFT, created_by_id=by.id if by else None)
    db.session.add(round_)
    db.session.flush()
    return round_


def update_round(round_: GrantRound, values: dict[str, Any], now: datetime | None = None) -> GrantRound:
    """Change a round's details: anything while a draft; while open, all but the code, opening time and award
    range (the closing time may move, but not into the past). Closed rounds are not edited."""
    now = now or utcnow()
    if round_.status not in (RoundStatus.DRAFT, RoundStatus.OPEN):
        raise Conflict(f"This round is {round_.status.label.lower()}: its details can no longer be changed.")
    unknown = set(values) - set(ROUND_FIELDS)
    if unknown:
        raise ValueError(f"not round fields: {sorted(unknown)}")
    if round_.status is RoundStatus.OPEN:
        for key in LOCKED_ONCE_OPEN:
            if key not in values:
                continue
            new, old = values[key], getattr(round_, key)
            if isinstance(new, datetime) and isinstance(old, datetime):
                same = _to_minute(new) == _to_minute(old)
            else:
                same = new == old or (key == "code" and str(new or "").strip().upper() == old)
            if not same:
                raise Conflict("This cannot change once the round is open.", field=_field(key))
    merged = {key: values.get(key, getattr(round_, key)) for key in ROUND_FIELDS}
    clean = _check_values(merged, round_)
    if (
        round_.status is RoundStatus.OPEN
        and clean["closes_at"] != round_.closes_at
        and clean["closes_at"] <= now
    ):
        raise DomainError(
            "The round is open: its closing time must be in the future. To close it now, use Close the round.",
            field="closes_at",
        )
    for key in ROUND_FIELDS:
        if key in values:
            setattr(round_, key, clean[key])
    db.session.flush()
    return round_


def _require_draft(round_: GrantRound, what: str) -> None:
    if round_.status is not RoundStatus.DRAFT:
        raise Conflict(
            f"{what} can be changed only while the round is a draft; this round is "
            f"{round_.status.label.lower()}."
        )


@dataclass(frozen=True)
class CriterionInput:
    name: str
    description: str
    weight: int
    max_score: int


@dataclass(frozen=True)
class QuestionInput:
    prompt: str
    help_text: str
    required: bool
    max_words: int | None


def set_criteria(round_: GrantRound, rows: list[CriterionInput]) -> list[Criterion]:
    """Replace a draft round's scoring criteria with these, in this order."""
    _require_draft(round_, "The scoring criteria")
    if len(rows) > MAX_CRITERIA:
        raise DomainError(f"A round can have at most {MAX_CRITERIA} criteria.")
    seen: set[str] = set()
    for row in rows:
        name = row.name.strip()
        if not name or len(name) > 120:
            raise DomainError("Each criterion needs a name of at most 120 characters.")
        if name.casefold() in seen:
            raise DomainError(f"Two criteria are called {name}: give each its own name.")
        seen.add(name.casefold())
        if not 1 <= row.weight <= WEIGHT_MAX:
            raise DomainError(f"{name}: the weight must be from 1 to {WEIGHT_MAX}.")
        if not 1 <= row.max_score <= MAX_SCORE_MAX:
            raise DomainError(f"{name}: the maximum score must be from 1 to {MAX_SCORE_MAX}.")
    existing = list(round_.criteria)
    for position, row in enumerate(rows):
        # Rows are updated in place, so a criterion keeps its id when only its wording changes.
        criterion = existing[position] if position < len(existing) else Criterion()
        criterion.name = row.name.strip()
        criterion.description = row.description.strip()
        criterion.weight = row.weight
        criterion.max_score = row.max_score
        criterion.position = position
        if position >= len(existing):
            round_.criteria.append(criterion)
    for extra in existing[len(rows) :]:
        round_.criteria.remove(extra)
    db.session.flush()
    return list(round_.criteria)


def set_questions(round_: GrantRound, rows: list[QuestionInput]) -> list[RoundQuestion]:
    """Replace a draft round's own questions (beyond the standard application fields) with these."""
    _require_draft(round_, "The questions")
    if len(rows) > MAX_QUESTIONS:
        raise DomainError(f"A round can have at most {MAX_QUESTIONS} questions of its own.")
    for row in rows:
        prompt = row.prompt.strip()
        if not prompt or len(prompt) > 300:
            raise DomainError("Each question needs a wording of at most 300 characters.")
        if row.max_words is not None and not 1 <= row.max_words <= MAX_WORDS_MAX:
            raise DomainError(f"{prompt}: the word limit must be from 1 to {MAX_WORDS_MAX:,}.")
    existing = list(round_.questions)
    for position, row in enumerate(rows):
        question = existing[position] if position < len(existing) else RoundQuestion()
        question.prompt = row.prompt.strip()
        question.help_text = row.help_text.strip()
        question.required = row.required
        question.max_words = row.max_words
        question.position = position
        if position >= len(existing):
            round_.questions.append(question)
    for extra in existing[len(rows) :]:
        round_.questions.remove(extra)
    db.session.flush()
    return list(round_.questions)


# --- the round's steps ---------------------------------------------------------------------------------------------


def lock_round(round_: GrantRound) -> GrantRound:
    """Re-read the round holding its row lock (PostgreSQL), so two staff steps on it run one after the other."""
    locked = db.session.execute(
        sa.select(GrantRound)
        .where(GrantRound.id == round_.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return locked


def _count(round_: GrantRound, statuses: tuple[ApplicationStatus, ...]) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Application)
            .where(Application.round_id == round_.id, Application.status.in_(statuses))
        )
        or 0
    )


def next_status(round_: GrantRound) -> RoundStatus | None:
    return ROUND_TRANSITIONS.get(round_.status)


def blockers(round_: GrantRound, now: datetime | None = None) -> list[str]:
    """Why the round cannot take its next step now (empty when it can)."""
    now = now or utcnow()
    target = next_status(round_)
    if target is None:
        return ["A decided round is final."]
    reasons: list[str] = []
    if target is RoundStatus.OPEN:
        if not round_.criteria:
            reasons.append("Add at least one scoring criterion before opening the round.")
        if money.money_for(round_).remaining_pence <= 0:
            reasons.append("Allocate a budget from the fund before opening the round.")
        if round_.closes_at <= now:
            reasons.append("The closing time has passed: move it later before opening the round.")
    elif target is RoundStatus.IN_REVIEW:
        if _count(round_, SUBMITTED_STATUSES) == 0:
            reasons.append("No application was submitted to this round, so there is nothing to review.")
    elif target is RoundStatus.DECIDED:
        undecided = _count(round_, UNDECIDED_STATUSES)
        if undecided:
            reasons.append(
                f"{undecided} submitted application{'s are' if undecided != 1 else ' is'} not decided yet: "
                "each must be awarded or declined first."
            )
    return reasons


def advance(
    round_: GrantRound, staff: User | None, now: datetime | None = None, expected: RoundStatus | None = None
) -> RoundEvent:
    """Take the round's next step (draft -> open -> closed -> in review -> decided), if its guards allow.

    `expected` is the status the member of staff saw: if someone else moved the round meanwhile, the step is
    refused rather than taken twice.
    """
    now = now or utcnow()
    round_ = lock_round(round_)
    if expected is not None and round_.status is not expected:
        raise Conflict(
            f"This round is now {round_.status.label.lower()}: someone else has moved it on. Check and try again."
        )
    target = next_status(round_)
    if target is None:
        raise IllegalTransition("This round is decided: that is its final step.")
    reasons = blockers(round_, now)
    if reasons:
        raise Conflict(" ".join(reasons))
    return _move(round_, target, staff, now)


def _move(round_: GrantRound, target: RoundStatus, by: User | None, now: datetime) -> RoundEvent:
    if ROUND_TRANSITIONS.get(round_.status) is not target:
        raise IllegalTransition(
            f"A {round_.status.label.lower()} round cannot become {target.label.lower()}."
        )
    event = RoundEvent(round=round_, from_status=round_.status, to_status=target, by=by, created_at=now)
    round_.status = target
    if target is RoundStatus.OPEN:
        round_.opened_at = now
    elif target is RoundStatus.DECIDED:
        round_.decided_at = now
    db.session.add(event)
    db.session.flush()
    return event


def close_due_rounds(now: datetime | None = None) -> list[GrantRound]:
    """Close every open round whose closing time has passed (the event has no member of staff)."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(GrantRound)
        .where(GrantRound.status == RoundStatus.OPEN, GrantRound.closes_at <= now)
        .order_by(GrantRound.closes_at)
        .with_for_update()
    ).all()
    for round_ in due:
        _move(round_, RoundStatus.CLOSED, None, now)
    return list(due)


# --- the fund ----------------------------------------------------------------------------------------------------

DEPOSIT_SOURCES = {
    "opening_balance": "Opening balance",
    "income": "Other income",
}


def record_deposit(
    amount_pence: int | None, reason: str | None, source: str, by: User | None
) -> LedgerTransaction:
    """Money into the fund from outside (an opening balance, a grant to the foundation, interest...)."""
    if source not in DEPOSIT_SOURCES:
        raise DomainError("Choose where the money comes from.", field="source")
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    if amount_pence > MAX_DEPOSIT_PENCE:
        raise DomainError(f"A single deposit can be at most {_pounds(MAX_DEPOSIT_PENCE)}.", field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Say where the money comes from; the reason is shown on the public ledger.", field="reason"
        )
    if len(reason) > 300:
        raise DomainError("The reason can be at most 300 characters.", field="reason")
    return ledger.deposit(amount_pence, reason, (source, None), by)


def _lock_fund() -> None:
    """Hold the fund account's row (PostgreSQL) so two allocations cannot both spend the same balance."""
    db.session.execute(
        sa.select(LedgerAccount.id).where(LedgerAccount.code == ledger.FUND).with_for_update()
    ).all()


def allocate_budget(
    round_: GrantRound, amount_pence: int | None, by: User | None, reason: str | None = None
) -> LedgerTransaction:
    """Give part of the fund to a round's budget (never more than the fund holds)."""
    round_ = lock_round(round_)
    if round_.status is RoundStatus.DECIDED:
        raise Conflict("This round is decided: it takes no more budget.", field="amount")
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise DomainError("The reason can be at most 300 characters.", field="reason")
    _lock_fund()
    return money.allocate(round_, amount_pence, by, reason or None)


def deallocate_budget(
    round_: GrantRound, amount_pence: int | None, by: User | None, reason: str | None = None
) -> LedgerTransaction:
    """Hand budget the round has not awarded back to the fund."""
    round_ = lock_round(round_)
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise DomainError("The reason can be at most 300 characters.", field="reason")
    return money.deallocate(
        round_, amount_pence, by, reason or f"Unspent budget of {round_.name} handed back"
    )


# --- reading the ledger ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """One transaction as people read it: how much moved, from where to where, why, and what it concerns."""

    transaction: LedgerTransaction
    amount_pence: int
    from_accounts: list[str]
    to_accounts: list[str]
    round: GrantRound | None
    grant_id: int | None
    grant_reference: str | None


@dataclass(frozen=True)
class LedgerPage:
    lines: list[LedgerLine]
    page: int
    pages: int
    total: int


ACCOUNT_LABELS = {
    ledger.FUND: "Seed-grant fund",
    ledger.INCOME: "Income",
    ledger.PAID_OUT: "Paid to grantees",
}


def ledger_page(page: int = 1, per_page: int = 50, round_id: int | None = None) -> LedgerPage:
    """Transactions newest first, a page at a time: all of them, or those concerning one round."""
    tag = None if round_id is None else money.round_tag(round_id)
    total = ledger.count_tagged(tag)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    txns = db.session.scalars(ledger.tagged(tag).offset((page - 1) * per_page).limit(per_page)).all()
    return LedgerPage(describe(txns), page, pages, total)


def describe(txns: Sequence[LedgerTransaction]) -> list[LedgerLine]:
    round_ids: set[int] = set()
    grant_ids: set[int] = set()
    concerns = {txn.id: money.concerns(txn) for txn in txns}
    for round_id, grant_id in concerns.values():
        if round_id:
            round_ids.add(round_id)
        if grant_id:
            grant_ids.add(grant_id)
    for txn in txns:
        for entry in txn.entries:
            kind, _, ident = entry.account.code.partition(":")
            if kind == "round" and ident.isdigit():
                round_ids.add(int(ident))
            elif kind == "grant" and ident.isdigit():
                grant_ids.add(int(ident))
    rounds = {
        r.id: r for r in db.session.scalars(sa.select(GrantRound).where(GrantRound.id.in_(round_ids)))
    } if round_ids else {}  # fmt: skip
    grants = {
        g.id: g
        for g in db.session.scalars(
            sa.select(Grant).where(Grant.id.in_(grant_ids)).options(joinedload(Grant.application))
        )
    } if grant_ids else {}  # fmt: skip

    def reference(grant: Grant | None, grant_id: int) -> str:
        if grant is not None and grant.application.reference:
            return grant.application.reference
        return f"grant {grant_id}"

    def label(acct: LedgerAccount) -> str:
        if acct.code in ACCOUNT_LABELS:
            return ACCOUNT_LABELS[acct.code]
        kind, _, ident = acct.code.partition(":")
        if kind == "round" and ident.isdigit() and int(ident) in rounds:
            return f"Budget of {rounds[int(ident)].name}"
        if kind == "grant" and ident.isdigit():
            return f"Grant {reference(grants.get(int(ident)), int(ident))}"
        return acct.name

    lines = []
    for txn in txns:
        round_id, grant_id = concerns[txn.id]
        grant_ref = reference(grants.get(grant_id), grant_id) if grant_id else None
        lines.append(
            LedgerLine(
                transaction=txn,
                amount_pence=sum(e.amount_pence for e in txn.entries if e.amount_pence > 0),
                from_accounts=[label(e.account) for e in txn.entries if e.amount_pence < 0],
                to_accounts=[label(e.account) for e in txn.entries if e.amount_pence > 0],
                round=rounds.get(round_id) if round_id else None,
                grant_id=grant_id,
                grant_reference=grant_ref,
            )
        )
    return lines


# --- decline reasons -----------------------------------------------------------------------------------------------


def decline_reasons(include_inactive: bool = False) -> list[DeclineReason]:
    stmt = sa.select(DeclineReason).order_by(DeclineReason.position, DeclineReason.id)
    if not include_inactive:
        stmt = stmt.where(DeclineReason.active.is_(True))
    return list(db.session.scalars(stmt))


def _clean_label(label: str | None, reason: DeclineReason | None = None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise DomainError("Write the reason, e.g. Outside the round's priorities.", field="label")
    if len(label) > 200:
        raise DomainError("A reason can be at most 200 characters.", field="label")
    clash = db.session.scalar(
        sa.select(DeclineReason).where(
            sa.func.lower(DeclineReason.label) == label.lower(),
            DeclineReason.id != (reason.id if reason is not None else -1),
        )
    )
    if clash is not None:
        state = "" if clash.active else " (switched off: switch it back on instead)"
        raise DomainError(f"The list already has “{clash.label}”{state}.", field="label")
    return label


def add_decline_reason(label: str | None) -> DeclineReason:
    label = _clean_label(label)
    last = db.session.scalar(sa.select(sa.func.max(DeclineReason.position)))
    reason = DeclineReason(label=label, active=True, position=(last or 0) + 1)
    db.session.add(reason)
    db.session.flush()
    return reason


def rename_decline_reason(reason: DeclineReason, label: str | None) -> DeclineReason:
    """Rename a reason. Decisions already made point at it, so they read the new wording too."""
    reason.label = _clean_label(label, reason)
    db.session.flush()
    return reason


def set_decline_reason_active(reason: DeclineReason, active: bool) -> DeclineReason:
    """Switch a reason off (no longer offered for new decisions; past decisions keep it) or back on."""
    if reason.active is active:
        raise Conflict(f"“{reason.label}” is already {'in use' if active else 'switched off'}.")
    reason.active = active
    db.session.flush()
    return reason


@dataclass(frozen=True)
class DeclineCount:
    reason: DeclineReason
    declined: int  # applications of the round declined for this reason


def decline_counts(round_id: int) -> list[DeclineCount]:
    """How many of the round's applications were declined for each reason, in one grouped query: every reason
    used in the round, and every reason still offered (at 0), in the list's order."""
    declined = (
        sa.select(Decision.decline_reason_id.label("reason_id"), sa.func.count().label("declined"))
        .join(Application, Application.id == Decision.application_id)
        .where(Application.round_id == round_id, Decision.outcome == DecisionOutcome.DECLINE)
        .group_by(Decision.decline_reason_id)
        .subquery("declined")
    )
    rows = db.session.execute(
        sa.select(DeclineReason, sa.func.coalesce(declined.c.declined, 0))
        .outerjoin(declined, declined.c.reason_id == DeclineReason.id)
        .where(sa.or_(DeclineReason.active.is_(True), declined.c.declined.is_not(None)))
        .order_by(DeclineReason.position, DeclineReason.id)
    ).all()
    return [DeclineCount(reason, int(count)) for reason, count in rows]
