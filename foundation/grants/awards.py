"""Grants: the offer made by an award, its conditions and payment schedule, acceptance, and payments.

An award (foundation.grants.decisions) creates a Grant in OFFERED status with the standard conditions, one
instalment of the whole amount and a report due date; staff adjust these while the offer stands. An admin of the
organisation accepts the conditions online (OFFERED -> ACTIVE, who and when recorded); only then do staff record
payments, each a ledger PAYMENT (grant:<id> -> paid_out) carrying the payment reference. An instalment is paid
once: the grant row is locked (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite, taken by the view) before the
check, so two clicks on "record payment" cannot both post.

The organisation accepts what it was shown: the acceptance form carries a fingerprint of the offer (amount,
conditions, schedule, report date), and an offer changed since the page was opened is refused with a 409.

Stopping a grant (staff, with a reason the organisation is told), guarded in one place (`stop_refusal`):
- withdraw the offer while nothing has been paid: OFFERED, or ACTIVE with no instalment paid. No money has
  reached the organisation, so the grant is as if never made: the whole award is released to the round's budget
  (ledger RELEASE grant:<id> -> round:<id>), every instalment is cancelled and the grant leaves the public
  scorecard and open data (-> WITHDRAWN);
- end the grant early once something has been paid: ACTIVE with at least one instalment paid and one unpaid.
  What was paid stays paid and published; the unpaid instalments are cancelled, the unpaid amount is released to
  the round's budget, and the award becomes what was paid (the amount before is kept) (-> ENDED). No end-of-grant
  report is asked for.
Both lock the grant row first (lock_grant, taken by the view), so two staff stopping the same grant at once
release the money once: the second is refused, seeing the grant already stopped.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed, NotFound
from foundation.extensions import db
from foundation.grants import money
from foundation.grants.models import (
    Application,
    ApplicationAction,
    ApplicationEvent,
    Grant,
    GrantStatus,
    Instalment,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.members.models import Membership, Standing, User
from foundation.members.organisations import good_standing
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members
from foundation.types import LONDON, london_today, utcnow

MAX_INSTALMENTS = 12
MAX_CONDITIONS_CHARS = 20_000
# The end-of-grant report is due this long after the project's planned end.
REPORT_AFTER_PROJECT_END = timedelta(weeks=8)
# Without a planned end date, a year after the award.
REPORT_WITHOUT_END_DATE = timedelta(days=365)

STANDARD_CONDITIONS = """\
1. The grant is spent only on the project described in the application, as set out in its budget. Ask the \
Foundation first before moving money between budget lines or changing the project.
2. The organisation stays a member in good standing throughout the grant: its safeguarding policy and insurance \
are kept current, and everyone working with young people on the project is safely recruited and trained.
3. The Foundation's support is acknowledged in publicity about the project.
4. The end-of-grant report is sent by its due date: what happened, how many young people took part, and spending \
against the budget.
5. Money not spent on the project is returned to the Foundation with the end-of-grant report.
6. The Foundation may withhold unpaid instalments, or ask for money back, if these conditions are not met."""


def pounds(pence: int) -> str:
    whole, part = divmod(pence, 100)
    return f"£{whole:,}" if part == 0 else f"£{whole:,}.{part:02d}"


def standard_conditions() -> str:
    """The conditions every new grant starts with (GRANT_STANDARD_CONDITIONS in the settings overrides them)."""
    return current_app.config.get("GRANT_STANDARD_CONDITIONS") or STANDARD_CONDITIONS


# --- loading and locking -------------------------------------------------------------------------------------


def lock_grant(grant_id: int) -> Grant:
    """The grant, its row locked until the transaction ends and its fields fresh from the database."""
    grant = db.session.scalar(
        sa.select(Grant)
        .where(Grant.id == grant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if grant is None:
        raise NotFound("There is no such grant.")
    # Relationships loaded before the lock may be stale: reload them on next use.
    db.session.expire(grant, ["instalments", "report"])
    return grant


def grant_list_options() -> tuple[LoaderOption, ...]:
    """What a list of grants shows of each (application, round, organisation, payments, report), loaded with it."""
    return (
        joinedload(Grant.application),
        joinedload(Grant.round),
        joinedload(Grant.organisation),
        joinedload(Grant.report),
        selectinload(Grant.instalments),
    )


def grants_of_user(user: User) -> list[Grant]:
    """Grants of every organisation the user belongs to, newest first."""
    org_ids = sa.select(Membership.organisation_id).where(Membership.user_id == user.id)
    return list(
        db.session.scalars(
            sa.select(Grant)
            .where(Grant.organisation_id.in_(org_ids))
            .order_by(Grant.created_at.desc())
            .options(*grant_list_options())
        )
    )


# --- the offer -----------------------------------------------------------------------------------------------


def default_report_due_on(application: Application, today: date | None = None) -> date:
    today = today or london_today()
    if application.ends_on is not None and application.ends_on >= today:
        return application.ends_on + REPORT_AFTER_PROJECT_END
    return today + REPORT_WITHOUT_END_DATE


def offer_grant(application: Application, amount_pence: int, by: User) -> Grant:
    """Turn an award into a grant offer and move the money from the round's budget (ledger AWARD).

    The caller (decisions.decide) holds the round lock and has checked the budget.
    """
    today = london_today()
    first_payment = (
        application.starts_on if application.starts_on and application.starts_on > today else today
    )
    grant = Grant(
        application=application,
        round_id=application.round_id,
        organisation_id=application.organisation_id,
        amount_pence=amount_pence,
        conditions=standard_conditions(),
        status=GrantStatus.OFFERED,
        report_due_on=default_report_due_on(application, today),
    )
    grant.instalments.append(Instalment(due_on=first_payment, amount_pence=amount_pence))
    db.session.add(grant)
    db.session.flush()
    ledger.transfer(
        TransactionKind.AWARD,
        f"Award to {application.reference or application.project_title}",
        ("grant", grant.id),
        money.round_account(application.round),
        money.grant_account(grant),
        amount_pence,
        by,
        tags=money.tags(application.round, grant),
    )
    return grant


def change_award(grant: Grant, amount_pence: int, by: User) -> None:
    """Change the amount of an offer not yet accepted: the difference is awarded (AWARD) or released (RELEASE).

    The schedule becomes one instalment of the new amount on the first planned date; staff can split it again.
    The caller holds the round lock, has locked the grant and has checked the budget for an increase.
    """
    if grant.status is not GrantStatus.OFFERED:
        raise IllegalTransition(
            _closed_message(grant, "the award can no longer be changed")
            if grant.status.closed_early
            else "The organisation has accepted this grant, so the award can no longer be changed.",
            field="amount",
        )
    difference = amount_pence - grant.amount_pence
    if difference == 0:
        return
    round_acct, grant_acct = money.round_account(grant.round), money.grant_account(grant)
    reference = grant.application.reference or grant.application.project_title
    if difference > 0:
        ledger.transfer(
            TransactionKind.AWARD, f"Award to {reference} increased", ("grant", grant.id), round_acct, grant_acct,
            difference, by, money.tags(grant.round, grant),
        )  # fmt: skip
    else:
        ledger.transfer(
            TransactionKind.RELEASE, f"Award to {reference} reduced", ("grant", grant.id), grant_acct, round_acct,
            -difference, by, money.tags(grant.round, grant),
        )  # fmt: skip
    first_due = min((i.due_on for i in grant.instalments), default=london_today())
    grant.instalments.clear()
    db.session.flush()
    grant.amount_pence = amount_pence
    grant.instalments.append(Instalment(due_on=first_due, amount_pence=amount_pence))
    db.session.flush()


def set_terms(grant: Grant, by: User, conditions: str, report_due_on: date) -> None:
    """Staff set the conditions (while the offer stands) and the report due date (until the grant completes)."""
    conditions = (conditions or "").replace("\r\n", "\n").strip()
    if grant.status is GrantStatus.COMPLETED:
        raise IllegalTransition("This grant is completed; its terms can no longer change.")
    if grant.status.closed_early:
        raise IllegalTransition(_closed_message(grant, "its terms can no longer change"))
    if conditions != grant.conditions.strip() and grant.status is not GrantStatus.OFFERED:
        raise IllegalTransition(
            "The organisation has accepted these conditions; they can no longer change.", field="conditions"
        )
    if not conditions:
        raise DomainError("Enter the grant conditions.", field="conditions")
    if len(conditions) > MAX_CONDITIONS_CHARS:
        raise DomainError(
            f"Keep the conditions under {MAX_CONDITIONS_CHARS:,} characters.", field="conditions"
        )
    if report_due_on != grant.report_due_on and report_due_on < london_today():
        raise DomainError("The report due date cannot be in the past.", field="report_due_on")
    grant.conditions = conditions
    grant.report_due_on = report_due_on


def set_schedule(grant: Grant, by: User, rows: Sequence[tuple[date, int]]) -> None:
    """Replace the unpaid instalments. Paid ones stay; with them the schedule must add up to the award."""
    if grant.status is GrantStatus.COMPLETED:
        raise IllegalTransition("This grant is completed; its payment schedule can no longer change.")
    if grant.status.closed_early:
        raise IllegalTransition(_closed_message(grant, "its payment schedule can no longer change"))
    paid = [i for i in grant.instalments if i.paid_at is not None]
    if not rows and not paid:
        raise DomainError("Add at least one instalment.", field="instalments")
    if len(rows) + len(paid) > MAX_INSTALMENTS:
        raise DomainError(f"A grant is paid in at most {MAX_INSTALMENTS} instalments.", field="instalments")
    if any(amount <= 0 for _, amount in rows):
        raise DomainError("Each instalment must be more than £0.", field="instalments")
    total = sum(amount for _, amount in rows) + sum(i.amount_pence for i in paid)
    if total != grant.amount_pence:
        already = f" (with {pounds(sum(i.amount_pence for i in paid))} already paid)" if paid else ""
        raise DomainError(
            f"The instalments add up to {pounds(total)}{already}; they must add up to the award of "
            f"{pounds(grant.amount_pence)}.",
            field="instalments",
        )
    for instalment in [i for i in grant.instalments if i.paid_at is None]:
        grant.instalments.remove(instalment)
    db.session.flush()
    for due_on, amount in sorted(rows):
        grant.instalments.append(Instalment(due_on=due_on, amount_pence=amount))
    db.session.flush()


def offer_fingerprint(grant: Grant) -> str:
    """What the organisation is agreeing to, condensed: it changes whenever the offer does."""
    parts = [
        str(grant.amount_pence),
        grant.conditions,
        grant.report_due_on.isoformat(),
        *(
            f"{i.due_on.isoformat()}={i.amount_pence}"
            for i in sorted(grant.instalments, key=lambda i: i.due_on)
        ),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def accept_grant(grant: Grant, by: User, fingerprint: str) -> None:
    """An admin of the organisation accepts the conditions: OFFERED -> ACTIVE, with who and when.

    The caller has locked the grant (lock_grant), so acceptance and a change of the offer cannot interleave.
    """
    if not by.is_admin_of(grant.organisation_id):
        raise NotAllowed("Only an admin of the organisation can accept the grant conditions.")
    if grant.status.closed_early:
        raise IllegalTransition(_closed_message(grant, "it can no longer be accepted"))
    if grant.status is not GrantStatus.OFFERED:
        raise IllegalTransition(
            f"This grant was already accepted on {grant.accepted_at.astimezone(LONDON):%-d %b %Y}."
            if grant.accepted_at
            else "This grant can no longer be accepted."
        )
    if fingerprint != offer_fingerprint(grant):
        raise Conflict(
            "The offer has changed since you opened it. Read the conditions and schedule again, then accept.",
            field="confirm",
        )
    grant.status = GrantStatus.ACTIVE
    grant.accepted_at = utcnow()
    grant.accepted_by_id = by.id


# --- payments ------------------------------------------------------------------------------------------------

PAYMENTS_HELD = "Payments held: organisation not in good standing."


def payable(grant: Grant) -> Standing:
    """Whether payments to the grant's organisation may be made. Held (not ok, with the reasons) while it is out
    of good standing, by a staff decision or a lapsed safeguarding policy or insurance; they resume by themselves
    once it is back in good standing, since this is asked at each payment."""
    return good_standing(grant.organisation)


def record_payment(grant: Grant, instalment_id: int, by: User, reference: str | None) -> Instalment:
    """Staff record that an instalment was paid: ledger PAYMENT grant:<id> -> paid_out, with the reference.

    The caller has locked the grant (lock_grant), so the same instalment cannot be paid twice.
    """
    instalment = next((i for i in grant.instalments if i.id == instalment_id), None)
    if instalment is None:
        raise NotFound("There is no such instalment on this grant.")
    reference = (reference or "").strip()
    if instalment.paid_at is not None:
        raise Conflict(
            f"This instalment was already paid on {instalment.paid_at.astimezone(LONDON):%-d %b %Y} "
            f"(reference {instalment.payment_reference}).",
            field="reference",
        )
    if grant.status is GrantStatus.OFFERED:
        raise IllegalTransition(
            "Payments are made only after the organisation accepts the grant conditions.", field="reference"
        )
    if grant.status.closed_early:
        raise IllegalTransition(_closed_message(grant, "no more payments are made"), field="reference")
    if grant.status is not GrantStatus.ACTIVE:
        raise IllegalTransition(f"This grant is {grant.status.label.lower()}; no more payments are made.")
    standing = payable(grant)
    if not standing:
        raise Conflict(
            f"{PAYMENTS_HELD} {grant.organisation.name}: "
            + " ".join(standing.reasons)
            + " Record this payment once it is back in good standing.",
            field="reference",
        )
    if not reference:
        raise DomainError("Enter the payment reference (as on the bank transfer).", field="reference")
    if len(reference) > 100:
        raise DomainError("Keep the payment reference under 100 characters.", field="reference")
    txn = ledger.transfer(
        TransactionKind.PAYMENT,
        f"Payment to {grant.organisation.name} ({grant.application.reference or grant.id}), ref {reference}",
        ("instalment", instalment.id),
        money.grant_account(grant),
        ledger.account(ledger.PAID_OUT),
        instalment.amount_pence,
        by,
        tags=money.tags(grant.round, grant),
    )
    instalment.paid_at = utcnow()
    instalment.paid_by_id = by.id
    instalment.payment_reference = reference
    instalment.transaction_id = txn.id
    db.session.flush()
    _tell_payment(grant, instalment)
    return instalment


def _tell_payment(grant: Grant, instalment: Instalment) -> None:
    """The organisation's members hear that money is on its way, with the reference to look for."""
    reference = grant.application.reference or grant.application.project_title
    link = url_for("grants.award_detail", grant_id=grant.id)
    notify_members(
        grant.organisation,
        NotificationKind.GRANTS,
        f"{reference}: a payment of £{instalment.amount_pence / 100:,.2f} is on its way"[:200],
        "grant_payment",
        link=link,
        grant=grant,
        instalment=instalment,
        reference=reference,
        paid_so_far=grant.paid_pence,
    )


# --- withdrawing an offer, ending a grant early ------------------------------------------------------------------

MAX_STOP_REASON_CHARS = 2000


class Stop(enum.Enum):
    """What staff can do to stop a grant (see the module's docstring for when each applies)."""

    WITHDRAW = "withdraw"
    END = "end"

    @property
    def verb(self) -> str:
        return {Stop.WITHDRAW: "withdrawn", Stop.END: "ended early"}[self]


def _closed_message(grant: Grant, consequence: str | None = None, already: bool = False) -> str:
    """Why a stopped grant refuses: 'This offer was withdrawn on 3 Dec 2026 by Gita Grants; <consequence>.'
    (or 'This grant was ended early ...')."""
    what = "offer was withdrawn" if grant.status is GrantStatus.WITHDRAWN else "grant was ended early"
    if already:
        what = what.replace("was ", "was already ")
    when = f" on {grant.closed_at.astimezone(LONDON):%-d %b %Y}" if grant.closed_at else ""
    who = f" by {grant.closed_by.name}" if grant.closed_by is not None else ""
    return f"This {what}{when}{who}" + (f"; {consequence}." if consequence else ".")


def stop_refusal(grant: Grant, action: Stop) -> str | None:
    """Why staff cannot withdraw the offer (or end the grant early) now, or None if they can.

    The one place the rules live: the services raise this message, the pages show it instead of the form.
    """
    if grant.status.closed_early:
        return _closed_message(grant, already=True)
    if grant.status is GrantStatus.COMPLETED:
        return f"This grant is completed (its end-of-grant report was accepted); it can no longer be {action.verb}."
    paid = grant.paid_pence
    if action is Stop.WITHDRAW:
        if paid > 0:
            return (
                f"{pounds(paid)} of this grant has already been paid, so the offer can no longer be withdrawn. "
                "End the grant early instead: the unpaid instalments are cancelled and what was paid stays paid."
            )
        return None
    if grant.status is GrantStatus.OFFERED:
        return (
            "The organisation has not accepted this grant yet and nothing has been paid: withdraw the offer "
            "instead."
        )
    if paid == 0:
        return "Nothing has been paid on this grant yet: withdraw the offer instead."
    if not any(i.paid_at is None and i.cancelled_at is None for i in grant.instalments):
        return (
            "Every instalment of this grant is paid, so there is nothing left to release. Money not spent comes "
            "back with the end-of-grant report."
        )
    return None


def withdraw_offer(grant: Grant, by: User, reason: str) -> LedgerTransaction | None:
    """Withdraw the grant offer before anything is paid: the whole award goes back to the round's budget.

    The caller has locked the grant (lock_grant). Returns the ledger RELEASE.
    """
    return _stop(grant, by, reason, Stop.WITHDRAW)


def end_grant_early(grant: Grant, by: User, reason: str) -> LedgerTransaction | None:
    """End an active grant early: unpaid instalments cancelled, the unpaid amount back to the round's budget.

    The caller has locked the grant (lock_grant). Returns the ledger RELEASE.
    """
    return _stop(grant, by, reason, Stop.END)


def _stop(grant: Grant, by: User, reason: str, action: Stop) -> LedgerTransaction | None:
    refusal = stop_refusal(grant, action)
    if refusal:
        raise IllegalTransition(refusal, field="reason")
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise DomainError(
            "Say why the offer is withdrawn: the organisation is told."
            if action is Stop.WITHDRAW
            else "Say why the grant is ended early: the organisation is told.",
            field="reason",
        )
    if len(reason) > MAX_STOP_REASON_CHARS:
        raise DomainError(f"Keep the reason under {MAX_STOP_REASON_CHARS:,} characters.", field="reason")

    now = utcnow()
    for instalment in grant.instalments:
        if instalment.paid_at is None and instalment.cancelled_at is None:
            instalment.cancelled_at = now
    # What the grant's account still holds (awarded, not paid) is what goes back: the ledger is the record.
    grant_acct = money.grant_account(grant)
    unpaid = ledger.balance(grant_acct)
    reference = grant.application.reference or grant.application.project_title
    txn = None
    if unpaid > 0:
        txn = ledger.transfer(
            TransactionKind.RELEASE,
            f"Offer to {reference} withdrawn"
            if action is Stop.WITHDRAW
            else f"Grant to {reference} ended early",
            ("grant", grant.id),
            grant_acct,
            money.round_account(grant.round),
            unpaid,
            by,
            tags=money.tags(grant.round, grant),
        )
    if action is Stop.WITHDRAW:
        grant.status = GrantStatus.WITHDRAWN
    else:
        grant.status = GrantStatus.ENDED
        grant.awarded_before_end_pence = grant.amount_pence
        grant.amount_pence = grant.paid_pence
    grant.closed_at = now
    grant.closed_by = by
    grant.closed_reason = reason
    released = f"{pounds(unpaid)} released to the round's budget." if unpaid > 0 else "Nothing to release."
    db.session.add(
        ApplicationEvent(
            application_id=grant.application_id,
            action=ApplicationAction.OFFER_WITHDRAWN
            if action is Stop.WITHDRAW
            else ApplicationAction.GRANT_ENDED,
            message=f"{released}\n{reason}",
            by_id=by.id,
            created_at=now,
        )
    )
    db.session.flush()
    _tell_stopped(grant, action, unpaid)
    return txn


def _tell_stopped(grant: Grant, action: Stop, released_pence: int) -> None:
    """The organisation's members hear that the offer was withdrawn (or the grant ended early), and why."""
    reference = grant.application.reference or grant.application.project_title
    subject = (
        f"{reference}: the seed grant offer has been withdrawn"
        if action is Stop.WITHDRAW
        else f"{reference}: your seed grant has been ended early"
    )
    notify_members(
        grant.organisation,
        NotificationKind.GRANTS,
        subject[:200],
        "grant_offer_withdrawn" if action is Stop.WITHDRAW else "grant_ended_early",
        link=url_for("grants.award_detail", grant_id=grant.id),
        grant=grant,
        reference=reference,
        reason=grant.closed_reason,
        released_pence=released_pence,
    )
