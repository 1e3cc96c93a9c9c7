"""Starting payments and settling them: the one place a payment's state changes.

    pending   -> succeeded   the money arrived (webhook, or staff recorded it received)
    pending   -> failed      the checkout expired or the bank said no (or staff cancelled a pledge)
    failed    -> succeeded   a late bank transfer that did arrive
    succeeded -> refunded    paid back in full
    pending   -> refunded    refunded before we heard it succeeded (events out of order): nothing was counted

Every other step is refused as "already <state>", which is what makes repeated and late events harmless. The
capability that asked for the payment registers `@on_change(purpose)` and is called inside the same database
transaction, under the payment's row lock, with the old and new state: that is where it posts to the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from foundation import after_commit
from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.payments import providers
from foundation.payments.models import Payment, PaymentEvent, PaymentStatus, ReceivedBy
from foundation.payments.providers import BadEvent, Outcome
from foundation.types import local, london_today, utcnow

Handler = Callable[[Payment, PaymentStatus, PaymentStatus], None]
HANDLERS: dict[str, Handler] = {}
FeeHandler = Callable[[Payment], None]
FEE_HANDLERS: dict[str, FeeHandler] = {}

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 256 * 1024  # Stripe's events are a few KB


def on_change(purpose_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if purpose_type in HANDLERS:
            raise ValueError(f"payments for {purpose_type!r} already have a handler")
        HANDLERS[purpose_type] = fn
        return fn

    return register


def on_fee(purpose_type: str) -> Callable[[FeeHandler], FeeHandler]:
    """Register what a capability does with the provider's fee on one of its payments (called once, under the
    payment's row lock, when the fee is known)."""

    def register(fn: FeeHandler) -> FeeHandler:
        if purpose_type in FEE_HANDLERS:
            raise ValueError(f"fees for {purpose_type!r} already have a handler")
        FEE_HANDLERS[purpose_type] = fn
        return fn

    return register


class PaymentUnavailable(DomainError):
    """The provider could not start a checkout (network, keys): nothing was taken."""


def start(purpose: tuple[str, int], amount_pence: int, description: str) -> Payment:
    """A pending payment for something a capability sells or receives, with the configured provider."""
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    payment = Payment(
        provider=providers.current().name,
        amount_pence=amount_pence,
        description=description[:200],
        purpose_type=purpose[0],
        purpose_id=purpose[1],
        status=PaymentStatus.PENDING,
        fee_pence=0,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def open_checkout(payment: Payment, success_url: str, cancel_url: str, email: str | None) -> str | None:
    """Start the provider's checkout; the address to send the payer to, or None (offline: a pledge)."""
    provider = providers.current()
    if provider.name != payment.provider:
        raise PaymentUnavailable("This payment was started with a provider that is no longer set up.")
    try:
        checkout = provider.create_checkout(payment, success_url, cancel_url, email)
    except Exception as exc:  # the provider's network or API error: the payer is told, nothing is taken
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = "The card payment page could not be opened."
        payment.settled_at = utcnow()
        raise PaymentUnavailable(
            "Card payments are not available just now. Nothing has been taken; please try again later."
        ) from exc
    payment.checkout_reference = checkout.reference
    payment.checkout_url = checkout.url
    return checkout.url


def _next(old: PaymentStatus, outcome: Outcome) -> PaymentStatus | None:
    if outcome is Outcome.SUCCEEDED and old in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return PaymentStatus.SUCCEEDED
    if outcome is Outcome.FAILED and old is PaymentStatus.PENDING:
        return PaymentStatus.FAILED
    if outcome is Outcome.REFUNDED and old is not PaymentStatus.REFUNDED:
        return PaymentStatus.REFUNDED
    return None


def locked(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise DomainError("There is no such payment.")
    return payment


def settle(payment: Payment, outcome: Outcome, reason: str | None = None) -> str:
    """Move a locked payment (`locked()`) to the state the outcome means, once; tell its capability. What
    happened, as text. A provider that charges fees is asked for its fee after the commit (`record_fee`)."""
    old = payment.status
    new = _next(old, outcome)
    if new is None:
        return f"already {old.value}"
    payment.status = new
    if new is PaymentStatus.REFUNDED:
        payment.refunded_at = utcnow()
    else:
        payment.settled_at = utcnow()
    if new is PaymentStatus.SUCCEEDED:
        payment.failure_reason = None
        if payment.provider != providers.OFFLINE.name and payment.fee_recorded_at is None:
            after_commit.defer(_FEES_KEY, [payment.id])
    if new is PaymentStatus.FAILED:
        payment.failure_reason = (reason or "The payment did not complete.")[:200]
    handler = HANDLERS.get(payment.purpose_type)
    if handler is None:
        raise RuntimeError(f"nothing handles payments for {payment.purpose_type!r}")
    handler(payment, old, new)
    db.session.flush()
    return new.value


# --- the provider's fee, read once the payment has succeeded -----------------------------------------------------

_FEES_KEY = "foundation.payments.fees_to_read"


@after_commit.handler(_FEES_KEY)
def _read_fees(ids: list[int]) -> None:
    # The fee is another call to the provider: it is made by a task once the payment is committed, so the
    # webhook answers without waiting for it (and a provider that has not settled the fee yet is asked again).
    from foundation.payments.tasks import record_fee

    task = current_app.extensions["celery"].tasks[record_fee.name]
    for payment_id in ids:
        try:
            task.delay(payment_id)
        except Exception as exc:  # broker down: the sweep asks later
            log.warning("could not enqueue the fee of payment %s (%s); left for the sweep", payment_id, exc)
            break


def record_fee(payment_id: int) -> str:
    """Ask the provider for its fee on a payment that succeeded and record it, once. "not yet" while the
    provider has not settled it (the task asks again later). The caller commits."""
    row = db.session.execute(
        sa.select(Payment.provider, Payment.payment_reference, Payment.status, Payment.fee_recorded_at).where(
            Payment.id == payment_id
        )
    ).one_or_none()
    db.session.commit()  # no transaction stays open across the call to the provider
    if row is None:
        return "no such payment"
    if row.fee_recorded_at is not None:
        return "already recorded"
    if row.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return f"not received ({row.status.value})"
    provider = providers.current()
    if provider.name != row.provider or not provider.charges_fees:
        return "no fee to read here"
    if not row.payment_reference:
        return "not yet"
    fee = provider.fee_for(row.payment_reference)
    if fee is None:
        return "not yet"
    return apply_fee(payment_id, fee)


def apply_fee(payment_id: int, fee_pence: int) -> str:
    """Record the provider's fee on a payment once, and tell its capability (which moves it in the ledger)."""
    payment = locked(payment_id)
    if payment.fee_recorded_at is not None:
        return "already recorded"
    payment.fee_pence = max(0, min(fee_pence, payment.amount_pence))
    payment.fee_recorded_at = utcnow()
    handler = FEE_HANDLERS.get(payment.purpose_type)
    if payment.fee_pence > 0 and handler is not None:
        handler(payment)
    db.session.flush()
    return f"fee {payment.fee_pence}"


def fees_to_read(settled_before: datetime, settled_after: datetime, limit: int = 500) -> list[int]:
    """Payments whose fee has not been read: those a lost task or a slow provider left behind."""
    return list(
        db.session.scalars(
            sa.select(Payment.id)
            .where(
                Payment.provider != providers.OFFLINE.name,
                Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]),
                Payment.fee_recorded_at.is_(None),
                Payment.settled_at < settled_before,
                Payment.settled_at > settled_after,
            )
            .order_by(Payment.settled_at)
            .limit(limit)
        )
    )


# --- offline: staff record what arrived ------------------------------------------------------------------------


def record_received(
    payment_id: int, by: User, received_by: ReceivedBy, received_on: date, reference: str
) -> Payment:
    """Staff record that a pledge's money arrived (bank transfer, cheque, cash)."""
    reference = reference.strip()
    if not reference:
        raise DomainError("Give the bank reference, cheque number or receipt number.", field="reference")
    if received_on > london_today():
        raise DomainError("The date cannot be in the future.", field="received_on")
    payment = locked(payment_id)
    if payment.provider != "offline":
        raise Conflict("This payment was made online; its provider tells us when it arrives.")
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        raise Conflict(f"This payment is already {payment.status.label.lower()}.")
    pledged = local(payment.created_at)
    if pledged is not None and received_on < pledged.date():
        raise DomainError("The money cannot have arrived before it was pledged.", field="received_on")
    payment.received_by = received_by
    payment.received_on = received_on
    payment.received_reference = reference[:100]
    payment.recorded_by = by
    settle(payment, Outcome.SUCCEEDED)
    return payment


def cancel_pledge(payment_id: int, by: User, reason: str) -> Payment:
    """Staff record that a pledge will not be paid."""
    payment = locked(payment_id)
    if payment.provider != "offline":
        raise Conflict("This payment was made online; its provider tells us how it ends.")
    if payment.status is not PaymentStatus.PENDING:
        raise Conflict(f"This payment is already {payment.status.label.lower()}.")
    payment.recorded_by = by
    settle(payment, Outcome.FAILED, reason=reason.strip() or "Pledge cancelled by staff.")
    return payment


def refund_offline(payment_id: int, by: User) -> Payment:
    """Staff record that money received offline was paid back."""
    payment = locked(payment_id)
    if payment.provider != "offline":
        raise Conflict("Refund online payments through the provider; it tells us when it is done.")
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise Conflict("Only money received can be refunded.")
    payment.recorded_by = by
    settle(payment, Outcome.REFUNDED)
    return payment


# --- webhooks ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def _store_once(provider: str, event_id: str, kind: str) -> int | None:
    """The event's new row id, or None if we already have it. A second delivery of the same event at the same
    moment waits for the first to commit, then finds it (PostgreSQL's ON CONFLICT), so an event is applied once."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return db.session.scalar(
        insert(PaymentEvent)
        .values(
            provider=provider,
            event_id=event_id[:255],
            type=kind[:100],
            outcome="received",
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[PaymentEvent.provider, PaymentEvent.event_id])
        .returning(PaymentEvent.id)
    )


def _payment_for(provider: str, event: providers.ProviderEvent) -> Payment:
    """Our payment the event is about, locked. The metadata names it, and the provider's own references must
    agree, so an event carrying another payment's id in its metadata is refused."""
    stmt = sa.select(Payment).with_for_update().execution_options(populate_existing=True)
    if event.payment_id is not None:
        stmt = stmt.where(Payment.id == event.payment_id)
    elif event.checkout_reference:
        stmt = stmt.where(Payment.checkout_reference == event.checkout_reference)
    elif event.payment_reference:
        stmt = stmt.where(Payment.payment_reference == event.payment_reference)
    else:
        raise BadEvent("The event names no payment of ours.")
    payment = db.session.scalar(stmt)
    if payment is None:
        raise BadEvent("The event names no payment of ours.")
    if payment.provider != provider:
        raise BadEvent("The event is about a payment another provider takes.")
    if event.checkout_reference and payment.checkout_reference != event.checkout_reference:
        raise BadEvent("The event's checkout is not the one made for that payment.")
    if (
        event.payment_reference
        and payment.payment_reference
        and payment.payment_reference != event.payment_reference
    ):
        raise BadEvent("The event's payment is not the one made for that payment.")
    if event.payment_reference and not payment.checkout_reference and not payment.payment_reference:
        raise BadEvent("The event's payment is not one we started a checkout for.")
    if (
        event.type.startswith("checkout.session.")
        and event.amount_pence is not None
        and event.amount_pence != payment.amount_pence
    ):
        raise BadEvent("The amount paid differs from the amount asked for.")
    return payment


def handle_webhook(provider_name: str, body: bytes, signature: str | None) -> WebhookResult:
    """Verify, store once, apply. 400 for anything we refuse (nothing is written); 200 for what we have."""
    if len(body) > MAX_WEBHOOK_BYTES:
        return WebhookResult(400, "The body is too large for an event.")
    try:
        provider = providers.by_name(provider_name)
        event = provider.parse_event(body, signature)
    except BadEvent as exc:
        return WebhookResult(400, str(exc))
    row_id = _store_once(provider.name, event.event_id, event.type)
    if row_id is None:
        db.session.rollback()
        return WebhookResult(200, "Already received.")
    try:
        payment = _payment_for(provider.name, event)
    except BadEvent as exc:
        db.session.rollback()
        return WebhookResult(400, str(exc))
    if event.payment_reference and not payment.payment_reference:
        payment.payment_reference = event.payment_reference[:255]
    if event.outcome is None:
        outcome = event.detail or "noted: nothing to do yet"
    else:
        outcome = settle(payment, event.outcome, reason=event.detail or None)
    db.session.execute(
        sa.update(PaymentEvent)
        .where(PaymentEvent.id == row_id)
        .values(payment_id=payment.id, outcome=outcome[:200])
    )
    db.session.commit()
    return WebhookResult(200, outcome)
