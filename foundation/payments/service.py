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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.payments import providers
from foundation.payments.models import Payment, PaymentEvent, PaymentStatus, ReceivedBy
from foundation.payments.providers import BadEvent, Outcome
from foundation.types import local, london_today, utcnow

Handler = Callable[[Payment, PaymentStatus, PaymentStatus], None]
HANDLERS: dict[str, Handler] = {}

MAX_WEBHOOK_BYTES = 256 * 1024  # Stripe's events are a few KB


def on_change(purpose_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if purpose_type in HANDLERS:
            raise ValueError(f"payments for {purpose_type!r} already have a handler")
        HANDLERS[purpose_type] = fn
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


def settle(payment_id: int, outcome: Outcome, fee_pence: int = 0, reason: str | None = None) -> str:
    """Move a payment to the state the outcome means, once; tell its capability. What happened, as text."""
    payment = locked(payment_id)
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
        payment.fee_pence = max(0, min(fee_pence, payment.amount_pence))
        payment.failure_reason = None
    if new is PaymentStatus.FAILED:
        payment.failure_reason = (reason or "The payment did not complete.")[:200]
    handler = HANDLERS.get(payment.purpose_type)
    if handler is None:
        raise RuntimeError(f"nothing handles payments for {payment.purpose_type!r}")
    handler(payment, old, new)
    db.session.flush()
    return new.value


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
    settle(payment.id, Outcome.SUCCEEDED)
    return payment


def cancel_pledge(payment_id: int, by: User, reason: str) -> Payment:
    """Staff record that a pledge will not be paid."""
    payment = locked(payment_id)
    if payment.provider != "offline":
        raise Conflict("This payment was made online; its provider tells us how it ends.")
    if payment.status is not PaymentStatus.PENDING:
        raise Conflict(f"This payment is already {payment.status.label.lower()}.")
    payment.recorded_by = by
    settle(payment.id, Outcome.FAILED, reason=reason.strip() or "Pledge cancelled by staff.")
    return payment


def refund_offline(payment_id: int, by: User) -> Payment:
    """Staff record that money received offline was paid back."""
    payment = locked(payment_id)
    if payment.provider != "offline":
        raise Conflict("Refund online payments through the provider; it tells us when it is done.")
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise Conflict("Only money received can be refunded.")
    payment.recorded_by = by
    settle(payment.id, Outcome.REFUNDED)
    return payment


# --- webhooks ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def _store_once(provider: str, event_id: str, kind: str) -> PaymentEvent | None:
    """The event's row, or None if we already have it. A second delivery of the same event at the same moment
    waits for the first to commit, then finds it (PostgreSQL's ON CONFLICT), so an event is applied once."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    new_id = db.session.scalar(
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
    return None if new_id is None else db.session.get(PaymentEvent, new_id)


def _payment_for(provider: str, event: providers.ProviderEvent) -> Payment:
    """Our payment the event is about. The metadata names it, and the provider's own references must agree, so
    an event carrying another payment's id in its metadata is refused."""
    payment = None
    if event.payment_id is not None:
        payment = db.session.get(Payment, event.payment_id)
    elif event.checkout_reference:
        payment = db.session.scalar(
            sa.select(Payment).where(Payment.checkout_reference == event.checkout_reference)
        )
    elif event.payment_reference:
        payment = db.session.scalar(
            sa.select(Payment).where(Payment.payment_reference == event.payment_reference)
        )
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
    row = _store_once(provider.name, event.event_id, event.type)
    if row is None:
        db.session.rollback()
        return WebhookResult(200, "Already received.")
    try:
        payment = _payment_for(provider.name, event)
    except BadEvent as exc:
        db.session.rollback()
        return WebhookResult(400, str(exc))
    if event.payment_reference and not payment.payment_reference:
        payment.payment_reference = event.payment_reference[:255]
    row.payment_id = payment.id
    if event.outcome is None:
        row.outcome = event.detail or "noted: nothing to do yet"
    else:
        fee = 0
        if event.outcome is Outcome.SUCCEEDED and payment.payment_reference:
            fee = provider.fee_for(payment.payment_reference)
        row.outcome = settle(payment.id, event.outcome, fee, reason=event.detail or None)
    db.session.commit()
    return WebhookResult(200, row.outcome)
