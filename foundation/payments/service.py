"""Starting payments and settling them: the one place a payment's state changes.

    pending   -> succeeded   the money arrived (a provider's event, or staff recorded it received)
    pending   -> failed      the checkout expired or the bank said no (or staff cancelled a pledge)
    failed    -> succeeded   a late bank transfer that did arrive
    succeeded -> refunded    paid back in full
    pending   -> refunded    refunded before we heard it succeeded (events out of order): nothing was counted

Every other step is refused as "already <state>", which is what makes repeated and late events harmless. The
capability that asked for the payment registers `@on_change(purpose)` and is called inside the same database
transaction, under the payments' row locks, with the changes in the order they happened (`PaymentChange`, one or
a worker's batch): that is where it posts to the ledger.

A provider's events come in through an inbox. The endpoint verifies the event, checks that it is about a payment
of ours, stores it once (its id is unique) with what it reports, answers, and after the commit wakes the worker
that applies stored events (`apply_next_batch`, run by `tasks.apply_events`): oldest first, a batch at a time,
each batch's payments locked together, so a burst of events costs a few statements per batch rather than a
dozen per event. Beat's `sweep_events` applies anything a lost wake-up left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import redis
import sqlalchemy as sa
from flask import current_app

from foundation import after_commit
from foundation.db_setup import begin_write_transaction
from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.payments import providers
from foundation.payments.models import (
    EventStatus,
    Outcome,
    Payment,
    PaymentEvent,
    PaymentStatus,
    ReceivedBy,
)
from foundation.payments.providers import BadEvent
from foundation.types import local, london_today, utcnow

log = logging.getLogger(__name__)

# The tables behind the models, for the worker's statements that write many rows at once.
PAYMENTS = cast(sa.Table, Payment.__table__)
EVENTS = cast(sa.Table, PaymentEvent.__table__)

MAX_WEBHOOK_BYTES = 256 * 1024  # Stripe's events are a few KB
APPLY_BATCH = 500  # stored events applied per transaction


@dataclass(frozen=True)
class PaymentChange:
    """A payment's move from one state to another, as the capability that asked for it hears of it."""

    payment_id: int
    purpose_type: str
    purpose_id: int
    provider: str
    amount_pence: int
    old: PaymentStatus
    new: PaymentStatus
    at: datetime  # when it moved (settled_at, or refunded_at for a refund)


@dataclass(frozen=True)
class FeeCharged:
    """The provider's fee on a payment, recorded once."""

    payment_id: int
    purpose_type: str
    purpose_id: int
    fee_pence: int


Handler = Callable[[Sequence[PaymentChange]], None]
HANDLERS: dict[str, Handler] = {}
FeeHandler = Callable[[Sequence[FeeCharged]], None]
FEE_HANDLERS: dict[str, FeeHandler] = {}


def on_change(purpose_type: str) -> Callable[[Handler], Handler]:
    """Register what a capability does when its payments change state: called with the changes in order (one
    payment may appear more than once, such as succeeded then refunded), inside the transaction that makes them,
    under the payments' row locks."""

    def register(fn: Handler) -> Handler:
        if purpose_type in HANDLERS:
            raise ValueError(f"payments for {purpose_type!r} already have a handler")
        HANDLERS[purpose_type] = fn
        return fn

    return register


def on_fee(purpose_type: str) -> Callable[[FeeHandler], FeeHandler]:
    """Register what a capability does with the provider's fees on its payments (each fee once, under the
    payments' row locks, when it is known)."""

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


# --- the state machine -----------------------------------------------------------------------------------------


def _next(old: PaymentStatus, outcome: Outcome) -> PaymentStatus | None:
    if outcome is Outcome.SUCCEEDED and old in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return PaymentStatus.SUCCEEDED
    if outcome is Outcome.FAILED and old is PaymentStatus.PENDING:
        return PaymentStatus.FAILED
    if outcome is Outcome.REFUNDED and old is not PaymentStatus.REFUNDED:
        return PaymentStatus.REFUNDED
    return None


def _moved(new: PaymentStatus, reason: str | None, now: datetime) -> dict[str, Any]:
    """The columns a move to `new` sets."""
    if new is PaymentStatus.REFUNDED:
        return {"status": new, "refunded_at": now}
    values: dict[str, Any] = {"status": new, "settled_at": now}
    if new is PaymentStatus.SUCCEEDED:
        values["failure_reason"] = None
    if new is PaymentStatus.FAILED:
        values["failure_reason"] = (reason or "The payment did not complete.")[:200]
    return values


def _fee_to_read(provider: str, fee_recorded_at: datetime | None) -> bool:
    return provider != providers.OFFLINE.name and fee_recorded_at is None


def _tell(changes: Sequence[PaymentChange]) -> None:
    """Each capability hears of its payments' changes, in order."""
    for purpose in dict.fromkeys(c.purpose_type for c in changes):
        handler = HANDLERS.get(purpose)
        if handler is None:
            raise RuntimeError(f"nothing handles payments for {purpose!r}")
        handler([c for c in changes if c.purpose_type == purpose])


# Payments are locked FOR NO KEY UPDATE: it excludes every other writer of the payment, yet lets a transaction
# that writes a row referring to it (an entry or donation whose foreign key PostgreSQL checks with KEY SHARE) go
# on, so such a transaction, holding its own locks, does not wait for the payment's and deadlock with it.
NO_KEY_UPDATE = {"key_share": True}


def locked_all(ids: sa.Select[tuple[int | None]] | Sequence[int]) -> list[Payment]:
    """The payments with these ids (a list, or a SELECT of ids), locked in id order in one statement."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.id.in_(ids))
            .order_by(Payment.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )


def locked(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id, with_for_update=NO_KEY_UPDATE, populate_existing=True)
    if payment is None:
        raise DomainError("There is no such payment.")
    return payment


def settle(payment: Payment, outcome: Outcome, reason: str | None = None) -> str:
    """Move a locked payment (`locked()`) to the state the outcome means, once; tell its capability. What
    happened, as text. A provider that charges fees is asked for its fee after the commit (`read_fees`)."""
    old = payment.status
    new = _next(old, outcome)
    if new is None:
        return f"already {old.value}"
    now = utcnow()
    for name, value in _moved(new, reason, now).items():
        setattr(payment, name, value)
    if new is PaymentStatus.SUCCEEDED and _fee_to_read(payment.provider, payment.fee_recorded_at):
        after_commit.defer(_FEES_KEY, [payment.id])
    db.session.flush()
    _tell(
        [
            PaymentChange(
                payment.id, payment.purpose_type, payment.purpose_id, payment.provider, payment.amount_pence,
                old, new, now,
            )
        ]
    )  # fmt: skip
    db.session.flush()
    return new.value


def _expire_loaded(cls: type[Any], ids: Iterable[int]) -> None:
    """Objects of `cls` this session already holds for rows changed by a bulk statement: reloaded when next used."""
    session = db.session()
    for ident in ids:
        obj = session.identity_map.get(session.identity_key(cls, ident))
        if obj is not None:
            session.expire(obj)


# --- the provider's fee, read once the payment has succeeded -----------------------------------------------------

_FEES_KEY = "foundation.payments.fees_to_read"
FEES_PER_TASK = 200


@after_commit.handler(_FEES_KEY)
def _read_fees(ids: list[int]) -> None:
    # The fee is another call to the provider: it is made by a task once the payment is committed, so the
    # webhook answers without waiting for it (and a provider that has not settled the fee yet is asked again).
    for at in range(0, len(ids), FEES_PER_TASK):
        if not after_commit.enqueue(
            "foundation.payments.tasks.record_fees", ids[at : at + FEES_PER_TASK], "the fees of payments"
        ):
            break  # broker down: the sweep asks later


NOT_YET = "not yet"


def read_fees(payment_ids: Sequence[int]) -> dict[int, str]:
    """Ask the provider for its fee on payments that succeeded and record each once: what happened per payment,
    NOT_YET while the provider has not settled it (or could not be asked; the task asks again later). Commits
    before asking, so no transaction stays open across the calls to the provider; the caller commits the fees."""
    rows = db.session.execute(
        sa.select(
            Payment.id, Payment.provider, Payment.payment_reference, Payment.status, Payment.fee_recorded_at
        ).where(Payment.id.in_(payment_ids))
    ).all()
    db.session.commit()
    found = {row.id: row for row in rows}
    done: dict[int, str] = {}
    fees: dict[int, int] = {}
    provider = providers.current()
    unreachable = False
    for payment_id in payment_ids:
        row = found.get(payment_id)
        if row is None:
            done[payment_id] = "no such payment"
        elif row.fee_recorded_at is not None:
            done[payment_id] = "already recorded"
        elif row.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            done[payment_id] = f"not received ({row.status.value})"
        elif provider.name != row.provider or not provider.charges_fees:
            done[payment_id] = "no fee to read here"
        elif not row.payment_reference or unreachable:
            done[payment_id] = NOT_YET
        else:
            try:
                fee = provider.fee_for(row.payment_reference)
            except providers.ProviderUnavailable as exc:  # ask again later, and nothing more now
                log.warning("could not read the fee of payment %s (%s); asking again later", payment_id, exc)
                unreachable = True
                fee = None
            except Exception:  # about this payment alone (the provider does not know it): the others go on
                log.exception("could not read the fee of payment %s; asking again later", payment_id)
                fee = None
            if fee is None:
                done[payment_id] = NOT_YET
            else:
                fees[payment_id] = fee
    return {**done, **apply_fees(fees)}


def record_fee(payment_id: int) -> str:
    """`read_fees` for one payment."""
    return read_fees([payment_id])[payment_id]


def apply_fees(fees: dict[int, int]) -> dict[int, str]:
    """Record the provider's fee on payments, each once, and tell their capabilities (which move it in the ledger):
    what happened per payment. One statement to lock them, one to record the fees, whatever their number."""
    if not fees:
        return {}
    rows = db.session.execute(
        sa.select(
            Payment.id,
            Payment.purpose_type,
            Payment.purpose_id,
            Payment.amount_pence,
            Payment.fee_recorded_at,
        )
        .where(Payment.id.in_(fees))
        .order_by(Payment.id)
        .with_for_update(key_share=True)
    ).all()
    found = {row.id: row for row in rows}
    now = utcnow()
    done: dict[int, str] = {}
    recorded: list[dict[str, Any]] = []
    charged: list[FeeCharged] = []
    for payment_id, fee_pence in fees.items():
        row = found.get(payment_id)
        if row is None:
            done[payment_id] = "no such payment"
            continue
        if row.fee_recorded_at is not None:
            done[payment_id] = "already recorded"
            continue
        fee = max(0, min(fee_pence, row.amount_pence))
        recorded.append({"b_id": payment_id, "b_fee": fee, "b_at": now})
        if fee > 0:
            charged.append(FeeCharged(payment_id, row.purpose_type, row.purpose_id, fee))
        done[payment_id] = f"fee {fee}"
    if recorded:
        db.session.execute(
            sa.update(PAYMENTS)
            .where(PAYMENTS.c.id == sa.bindparam("b_id"))
            .values(fee_pence=sa.bindparam("b_fee"), fee_recorded_at=sa.bindparam("b_at")),
            recorded,
        )
        _expire_loaded(Payment, (r["b_id"] for r in recorded))
    for purpose in dict.fromkeys(c.purpose_type for c in charged):
        handler = FEE_HANDLERS.get(purpose)
        if handler is not None:
            handler([c for c in charged if c.purpose_type == purpose])
    return done


def apply_fee(payment_id: int, fee_pence: int) -> str:
    """Record the provider's fee on one payment once (`apply_fees`)."""
    return apply_fees({payment_id: fee_pence})[payment_id]


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


# --- refunds asked for by a capability --------------------------------------------------------------------------

_REFUNDS_KEY = "foundation.payments.refunds_to_ask"
ASK_AGAIN_AFTER_MINUTES = 10  # beat asks the provider again for a refund still not heard of after this long


def request_refund(payment: Payment) -> str:
    """Ask for a locked payment (`locked()`) that succeeded to be paid back in full, once: online the provider is
    asked after the commit (a task; beat's `sweep_refunds` asks again while no refund event has come), and its
    refund event moves the payment to refunded, so the capability hears of it as of any refund. Offline, staff
    pay it back and record it (`refund_offline`; `refunds_to_record` lists them). What happened, as text."""
    if payment.status is not PaymentStatus.SUCCEEDED:
        return f"nothing to refund ({payment.status.value})"
    if payment.refund_requested_at is not None:
        return "already requested"
    payment.refund_requested_at = utcnow()
    if payment.provider != providers.OFFLINE.name:
        after_commit.defer(_REFUNDS_KEY, [payment.id])
    db.session.flush()
    return "requested"


@after_commit.handler(_REFUNDS_KEY)
def _ask_refunds(ids: list[int]) -> None:
    after_commit.enqueue("foundation.payments.tasks.ask_refunds", ids, "the refunds of payments")


def ask_refunds(payment_ids: Sequence[int]) -> dict[int, str]:
    """Ask the provider to refund payments whose refund was requested and that have not been refunded yet: what
    happened per payment (NOT_YET when the provider could not be reached; asked again later). Commits before
    asking, so no transaction stays open across the calls."""
    found = {p.id: p for p in db.session.scalars(sa.select(Payment).where(Payment.id.in_(payment_ids)))}
    db.session.commit()
    provider = providers.current()
    done: dict[int, str] = {}
    for payment_id in payment_ids:
        payment = found.get(payment_id)
        if payment is None:
            done[payment_id] = "no such payment"
        elif payment.refund_requested_at is None:
            done[payment_id] = "no refund requested"
        elif payment.status is not PaymentStatus.SUCCEEDED:
            done[payment_id] = f"already {payment.status.value}"
        elif provider.name != payment.provider or payment.provider == providers.OFFLINE.name:
            done[payment_id] = "not refunded here"
        else:
            try:
                provider.refund(payment)
            except providers.ProviderUnavailable as exc:
                log.warning(
                    "could not ask for the refund of payment %s (%s); asking again later", payment_id, exc
                )
                done[payment_id] = NOT_YET
                continue
            done[payment_id] = "asked"
    return done


def refunds_to_ask(requested_before: datetime, limit: int = 200) -> list[int]:
    """Online payments whose refund was asked for before then and that are still not refunded."""
    return list(
        db.session.scalars(
            sa.select(Payment.id)
            .where(
                Payment.provider != providers.OFFLINE.name,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.refund_requested_at < requested_before,
            )
            .order_by(Payment.refund_requested_at)
            .limit(limit)
        )
    )


# --- webhooks: the inbox -----------------------------------------------------------------------------------------

RECEIVED = "Received."
ALREADY_RECEIVED = "Already received."
NOTHING_TO_DO = "noted: nothing to do yet"


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def handle_webhook(provider_name: str, body: bytes, signature: str | None) -> WebhookResult:
    """Verify, check, store once, answer: 400 for anything we refuse (nothing is written), 200 for an event we
    have. The event is applied to its payment after the commit, by a worker (`apply_next_batch`)."""
    if len(body) > MAX_WEBHOOK_BYTES:
        return WebhookResult(400, "The body is too large for an event.")
    try:
        provider = providers.by_name(provider_name)
        event = provider.parse_event(body, signature)
    except BadEvent as exc:
        return WebhookResult(400, str(exc))
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        # Each statement is its own transaction here: the check only reads, and the event is stored by one
        # INSERT, atomic by itself, after the check. That spares this endpoint, the busiest writer, a BEGIN and
        # a COMMIT round trip per delivery.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        payment_id = _payment_named(provider.name, event)
    except BadEvent as exc:
        # An event we already have is answered as such, even if it no longer fits (its payment moved on since).
        stored = _stored(provider.name, event.event_id)
        db.session.rollback()
        return WebhookResult(200, ALREADY_RECEIVED) if stored else WebhookResult(400, str(exc))
    row_id = _store_once(provider.name, event, payment_id)
    if row_id is None:
        db.session.rollback()
        return WebhookResult(200, ALREADY_RECEIVED)
    after_commit.defer(_APPLY_KEY, [row_id])
    db.session.commit()
    return WebhookResult(200, RECEIVED)


# What the endpoint reads of a payment, written out: it runs for every delivery, and a plain statement costs a
# fraction of building one.
_PAYMENT_BY = {
    key: sa.text(
        "SELECT id, provider, checkout_reference, payment_reference, amount_pence FROM payment "
        f"WHERE {key} = :key"
    )
    for key in ("id", "checkout_reference", "payment_reference")
}


def _payment_named(provider: str, event: providers.ProviderEvent) -> int:
    """The id of our payment the event is about. The metadata names it, and the provider's own references must
    agree, so an event carrying another payment's id in its metadata is refused. Read without a lock: what is
    checked here does not change once the checkout is open, and the worker checks the rest again when it
    applies the event."""
    if event.payment_id is not None:
        found = db.session.execute(_PAYMENT_BY["id"], {"key": event.payment_id})
    elif event.checkout_reference:
        found = db.session.execute(_PAYMENT_BY["checkout_reference"], {"key": event.checkout_reference})
    elif event.payment_reference:
        found = db.session.execute(_PAYMENT_BY["payment_reference"], {"key": event.payment_reference})
    else:
        raise BadEvent("The event names no payment of ours.")
    payment = found.one_or_none()
    if payment is None:
        raise BadEvent("The event names no payment of ours.")
    if payment.provider != provider:
        raise BadEvent("The event is about a payment another provider takes.")
    if event.checkout_reference and payment.checkout_reference != event.checkout_reference:
        raise BadEvent("The event's checkout is not the one made for that payment.")
    problem = _reference_problem(
        event.payment_reference, payment.checkout_reference, payment.payment_reference
    )
    if problem:
        raise BadEvent(problem)
    if (
        event.type.startswith("checkout.session.")
        and event.amount_pence is not None
        and event.amount_pence != payment.amount_pence
    ):
        raise BadEvent("The amount paid differs from the amount asked for.")
    return int(payment.id)


def _reference_problem(
    event_reference: str | None, checkout_reference: str | None, payment_reference: str | None
) -> str | None:
    """Why an event naming the provider's payment `event_reference` does not fit our payment, or None."""
    if event_reference and payment_reference and payment_reference != event_reference:
        return "The event's payment is not the one made for that payment."
    if event_reference and not checkout_reference and not payment_reference:
        return "The event's payment is not one we started a checkout for."
    return None


def _stored(provider: str, event_id: str) -> bool:
    return (
        db.session.scalar(
            sa.select(PaymentEvent.id).where(
                PaymentEvent.provider == provider, PaymentEvent.event_id == event_id[:255]
            )
        )
        is not None
    )


# The same statement on PostgreSQL and SQLite. Written out rather than built with the dialects' insert(), which
# SQLAlchemy compiles afresh on every call (their ON CONFLICT clause is not cached): this is the endpoint's main
# statement, run for every delivery.
_STORE_ONCE = sa.text(
    "INSERT INTO payment_event (provider, event_id, type, payment_id, reported, detail, payment_reference, status, "
    "outcome, received_at) VALUES (:provider, :event_id, :type, :payment_id, :reported, :detail, "
    ":payment_reference, :status, :outcome, :received_at) "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
).bindparams(
    sa.bindparam("reported", type_=EVENTS.c.reported.type),
    sa.bindparam("status", type_=EVENTS.c.status.type),
    sa.bindparam("received_at", type_=EVENTS.c.received_at.type),
)


def _store_once(provider: str, event: providers.ProviderEvent, payment_id: int) -> int | None:
    """The event's new row id, or None if we already have it. A second delivery of the same event at the same
    moment waits for the first to commit, then finds it (ON CONFLICT on the unique event id), so an event is
    stored once."""
    found = db.session.execute(
        _STORE_ONCE,
        {
            "provider": provider,
            "event_id": event.event_id[:255],
            "type": event.type[:100],
            "payment_id": payment_id,
            "reported": event.outcome,
            "detail": event.detail[:200] or None,
            "payment_reference": event.payment_reference[:255] if event.payment_reference else None,
            "status": EventStatus.RECEIVED,
            "outcome": "received",
            "received_at": utcnow(),
        },
    ).scalar()
    return None if found is None else int(found)


# --- waking the worker ------------------------------------------------------------------------------------------

_APPLY_KEY = "foundation.payments.events_to_apply"
# While a wake-up is queued and its run has not started, later events need no wake-up of their own: that run
# reads every event stored before it starts. The flag lives in the broker's Redis; it expires, so a wake-up that
# was lost in the broker costs at most this long (and beat's sweep applies what it left meanwhile).
WAKE_FLAG_SECONDS = 30


@after_commit.handler(_APPLY_KEY)
def _wake_applier(ids: list[int]) -> None:
    from foundation.payments.tasks import apply_events

    celery = current_app.extensions["celery"]
    task = celery.tasks[apply_events.name]
    flag = None if celery.conf.task_always_eager else _wake_flag()
    if flag is not None:
        client, key = flag
        try:
            if not client.set(key, "1", nx=True, ex=WAKE_FLAG_SECONDS):
                return  # a run is queued that has not started yet: it will read these events too
        except redis.RedisError as exc:
            log.warning("could not read the wake-up flag (%s); waking the worker anyway", exc)
            flag = None
    try:
        task.delay(ids)
    except Exception as exc:  # broker down: the events wait in the table for the sweep
        log.warning("could not wake the worker for events %s (%s); left for the sweep", ids, exc)
        if flag is not None:
            lower_wake_flag()


def _wake_flag() -> tuple[redis.Redis, str] | None:
    """The Redis client and key of the wake-up flag when the broker is Redis (one client per process)."""
    url = current_app.config.get("CELERY_BROKER_URL")
    if not url or not str(url).startswith(("redis://", "rediss://", "unix://")):
        return None
    clients: dict[str, redis.Redis] = current_app.extensions.setdefault("payments_wake_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return clients[url], f"wypf:payments:apply-queued:{current_app.config['CELERY_TASK_QUEUE']}"


def lower_wake_flag() -> None:
    """A run is starting (or a wake-up was lost): the next event stored wakes the worker again. Lowered before the
    run reads, so an event stored while it runs either is read by it or wakes another run."""
    flag = _wake_flag()
    if flag is None:
        return
    client, key = flag
    try:
        client.delete(key)
    except redis.RedisError as exc:  # the flag expires by itself
        log.warning("could not lower the wake-up flag (%s)", exc)


# --- the worker: applying stored events ------------------------------------------------------------------------

# One applier at a time on PostgreSQL (a transaction-level advisory lock): batches are applied in the order their
# events were stored. SQLite serialises writers already (BEGIN IMMEDIATE).
_APPLIER_LOCK = 0x7061_796D_656E_7473 >> 1  # "payments", as a positive bigint


@dataclass
class _Held:
    """A payment locked for a batch, as it stands after the events applied so far."""

    id: int
    provider: str
    purpose_type: str
    purpose_id: int
    amount_pence: int
    status: PaymentStatus
    checkout_reference: str | None
    payment_reference: str | None
    fee_recorded_at: datetime | None
    settled_at: datetime | None
    refunded_at: datetime | None
    failure_reason: str | None
    changed: bool = field(default=False)


def waiting_events(limit: int, passing_over: Collection[int] = ()) -> list[tuple[int, int | None]]:
    """(event id, payment id) of the oldest stored events not yet applied, leaving out those of `passing_over`
    payments."""
    stmt = sa.select(PaymentEvent.id, PaymentEvent.payment_id).where(
        PaymentEvent.status == EventStatus.RECEIVED
    )
    if passing_over:
        stmt = stmt.where(PaymentEvent.payment_id.not_in(list(passing_over)))
    return [(int(i), p) for i, p in db.session.execute(stmt.order_by(PaymentEvent.id).limit(limit)).tuples()]


def apply_next_batch(limit: int = APPLY_BATCH, passing_over: Collection[int] = ()) -> int:
    """Apply the oldest stored events not yet applied (up to `limit`, leaving out those of `passing_over`
    payments), in the order they were stored: lock their payments, move each payment through the events, tell
    the capabilities in one call each, and record each event's outcome. How many events were applied; fewer
    than `limit` means none was left. The caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_APPLIER_LOCK)))
    else:
        begin_write_transaction()
    stmt = sa.select(
        PaymentEvent.id,
        PaymentEvent.payment_id,
        PaymentEvent.reported,
        PaymentEvent.detail,
        PaymentEvent.payment_reference,
    ).where(PaymentEvent.status == EventStatus.RECEIVED)
    if passing_over:
        stmt = stmt.where(PaymentEvent.payment_id.not_in(list(passing_over)))
    events = db.session.execute(stmt.order_by(PaymentEvent.id).limit(limit)).all()
    if not events:
        return 0
    held = _lock_payments(sorted({e.payment_id for e in events if e.payment_id is not None}))
    now = utcnow()
    changes: list[PaymentChange] = []
    fees: list[int] = []
    outcomes: list[dict[str, Any]] = []
    for event in events:
        payment = held.get(event.payment_id) if event.payment_id is not None else None
        status, outcome = _apply_one(payment, event, now, changes, fees)
        outcomes.append({"b_id": event.id, "b_status": status, "b_outcome": outcome[:200], "b_at": now})
    _save_payments([p for p in held.values() if p.changed])
    if changes:
        _tell(changes)
    db.session.execute(
        sa.update(EVENTS)
        .where(EVENTS.c.id == sa.bindparam("b_id"))
        .values(
            status=sa.bindparam("b_status"),
            outcome=sa.bindparam("b_outcome"),
            applied_at=sa.bindparam("b_at"),
        ),
        outcomes,
    )
    _expire_loaded(PaymentEvent, (e.id for e in events))
    if fees:
        after_commit.defer(_FEES_KEY, fees)
    return len(events)


def _lock_payments(ids: list[int]) -> dict[int, _Held]:
    """The payments, locked in id order (two appliers, or an applier and staff, lock them in the same order)."""
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Payment.id,
            Payment.provider,
            Payment.purpose_type,
            Payment.purpose_id,
            Payment.amount_pence,
            Payment.status,
            Payment.checkout_reference,
            Payment.payment_reference,
            Payment.fee_recorded_at,
            Payment.settled_at,
            Payment.refunded_at,
            Payment.failure_reason,
        )
        .where(Payment.id.in_(ids))
        .order_by(Payment.id)
        .with_for_update(key_share=True)
    ).all()
    return {row.id: _Held(**row._asdict()) for row in rows}


def _apply_one(
    payment: _Held | None,
    event: sa.Row[Any],
    now: datetime,
    changes: list[PaymentChange],
    fees: list[int],
) -> tuple[EventStatus, str]:
    """Move one held payment through one event: the event's status and outcome."""
    if payment is None:
        return EventStatus.REFUSED, "refused: the event names no payment of ours"
    problem = _reference_problem(
        event.payment_reference, payment.checkout_reference, payment.payment_reference
    )
    if problem:
        return EventStatus.REFUSED, f"refused: {problem}"
    if event.payment_reference and not payment.payment_reference:
        payment.payment_reference = event.payment_reference
        payment.changed = True
    if event.reported is None:
        return EventStatus.APPLIED, event.detail or NOTHING_TO_DO
    old = payment.status
    new = _next(old, event.reported)
    if new is None:
        return EventStatus.APPLIED, f"already {old.value}"
    for name, value in _moved(new, event.detail, now).items():
        setattr(payment, name, value)
    payment.changed = True
    changes.append(
        PaymentChange(
            payment.id, payment.purpose_type, payment.purpose_id, payment.provider, payment.amount_pence, old,
            new, now,
        )
    )  # fmt: skip
    if new is PaymentStatus.SUCCEEDED and _fee_to_read(payment.provider, payment.fee_recorded_at):
        fees.append(payment.id)
    return EventStatus.APPLIED, new.value


def _save_payments(payments: list[_Held]) -> None:
    if not payments:
        return
    db.session.execute(
        sa.update(PAYMENTS)
        .where(PAYMENTS.c.id == sa.bindparam("b_id"))
        .values(
            status=sa.bindparam("b_status"),
            payment_reference=sa.bindparam("b_reference"),
            settled_at=sa.bindparam("b_settled_at"),
            refunded_at=sa.bindparam("b_refunded_at"),
            failure_reason=sa.bindparam("b_failure_reason"),
        ),
        [
            {
                "b_id": p.id,
                "b_status": p.status,
                "b_reference": p.payment_reference and p.payment_reference[:255],
                "b_settled_at": p.settled_at,
                "b_refunded_at": p.refunded_at,
                "b_failure_reason": p.failure_reason,
            }
            for p in payments
        ],
    )
    _expire_loaded(Payment, (p.id for p in payments))


def events_waiting_since(received_before: datetime) -> int:
    """How many stored events received before then are not applied yet (what a lost wake-up left)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(PaymentEvent.id)).where(
                PaymentEvent.status == EventStatus.RECEIVED, PaymentEvent.received_at < received_before
            )
        )
        or 0
    )
