"""Fees for priced events, taken through foundation/payments.

An entry for a priced event takes its places (a new entry that fits, an accepted offer, an approval) as
"awaiting payment". Its fee is the event's price per place times its places, fixed at that moment. A payment is
started with the configured provider (Stripe Checkout, or offline: a bank transfer that staff record), and the
places are held until `pay_by` (the offer rule: 48 hours by default, less as the event nears). Then:

- the payment succeeds: the entry is registered (the confirmation brings the calendar file) and the fee moves in
  the ledger from income to "Fees for events" (EVENT_FEE, tagged with the event). Fees are never Gift Aided: no
  declaration is asked for or recorded with them;
- the payment fails (the bank said no, the checkout expired, staff cancelled the pledge), or `pay_by` passes
  (beat, `lapse_unpaid`): the entry is cancelled and its places are offered to the next waiting entry that fits;
- money that arrives for an entry no longer waiting for it (cancelled meanwhile) is paid back;
- an entry cancelled before the cut-off, or whose event is cancelled, has its fee paid back (`refund_due`); a late
  cancellation or a no-show keeps it. The refund is asked for after the commit (Stripe: through its API; offline:
  staff pay it back and record it), and the payment's move to refunded reverses the ledger movement
  (EVENT_FEE_REFUND). A refund made at the provider's own dashboard cancels an entry still holding places.

Lock order: a payment, then its event (a payment's handler runs under the payment's row lock and locks the
events). A service holding an event's lock never locks a payment: it marks the refund due and asks for it after
the commit (`refund_due_fees`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_request_context
from sqlalchemy.orm import joinedload, selectinload

from foundation import after_commit
from foundation.errors import Conflict, NotAllowed
from foundation.events import registrations, steps
from foundation.events.models import (
    Event,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    RegistrationStep,
)
from foundation.extensions import db
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, LedgerAccount, TransactionKind
from foundation.members.models import User
from foundation.payments import providers
from foundation.payments import service as payments
from foundation.payments.models import Payment, PaymentStatus
from foundation.payments.service import FeeCharged, PaymentChange
from foundation.types import utcnow
from foundation.web import external_url

S = RegistrationStatus
PURPOSE = "event-registration"
FEES = "events:fees"  # the fees received for events, not yet paid back
_REFUNDS_KEY = "foundation.events.fee_refunds"


def fees_account() -> LedgerAccount:
    return ledger.account(FEES, "Fees for events", AccountKind.EVENT_FEES)


def reference(payment_id: int | None) -> str:
    """What a payer quotes with a bank transfer, so staff can match it to the places."""
    return f"EVENT-{payment_id}"


def is_offline(entry: Registration) -> bool:
    return entry.payment is not None and entry.payment.provider == providers.OFFLINE.name


def ask_for_fee(entry: Registration, event: Event, now: datetime) -> Payment:
    """The entry has just moved to awaiting payment (the event locked): fix its fee, start its payment and hold
    its places until `pay_by`."""
    entry.fee_pence = event.price_pence * entry.places
    entry.pay_by = registrations.offer_deadline(event, now)
    what = f"{entry.places} place{'s' if entry.places != 1 else ''} at {event.title}"
    payment = payments.start((PURPOSE, entry.id), entry.fee_pence, what)
    entry.payment = payment
    return payment


def pay(entry: Registration, by: User, now: datetime | None = None) -> str | None:
    """Open the checkout for an entry's fee: where to send the payer (Stripe), or None offline, where the entry's
    page says how to pay by bank transfer. Opening it again gives the same checkout."""
    now = now or utcnow()
    if not registrations.is_attendee_side(by, entry):
        raise NotAllowed("Only people of the organisation the places are for can pay for them.")
    if entry.status is not S.AWAITING_PAYMENT or entry.payment is None:
        raise Conflict(f"There is no fee waiting: this registration is {entry.status.label.lower()}.")
    if entry.pay_by is not None and entry.pay_by <= now:
        raise Conflict(
            "The time to pay has passed: the places are being offered to the next people waiting. "
            "You can register again if places are left."
        )
    payment = entry.payment
    if payment.status is not PaymentStatus.PENDING:
        raise Conflict(f"This fee's payment is {payment.status.label.lower()}.")
    if payment.checkout_url:
        return payment.checkout_url
    return payments.open_checkout(
        payment,
        success_url=external_url("events.registration", registration_id=entry.id, paid=1),
        cancel_url=external_url("events.registration", registration_id=entry.id),
        email=by.email,
    )


# --- when the payments move ------------------------------------------------------------------------------------


@contextmanager
def _links() -> Iterator[None]:
    """Messages build their links with url_for: a worker applying payments has no request of its own."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/"):
        yield


def _locked_entries(ids: list[int]) -> tuple[dict[int, Registration], dict[int, Event]]:
    """The entries and their events: the events locked first (id order), then the entries read after the locks."""
    event_ids = sorted(
        set(db.session.scalars(sa.select(Registration.event_id).where(Registration.id.in_(ids))))
    )
    events = steps.lock_events_already_writing(event_ids)
    entries = {
        e.id: e
        for e in db.session.scalars(
            sa.select(Registration)
            .where(Registration.id.in_(ids))
            .options(
                joinedload(Registration.payment),
                joinedload(Registration.made_by),
                selectinload(Registration.people).joinedload(RegistrationPlace.user),
            )
            .execution_options(populate_existing=True)
        ).unique()
    }
    return entries, events


def _fee_posting(
    kind: TransactionKind, entry: Registration, event: Event, accounts: tuple[LedgerAccount, LedgerAccount]
) -> ledger.Posting:
    income, account = accounts
    if kind is TransactionKind.EVENT_FEE:
        moves = [(income, -entry.fee_pence), (account, entry.fee_pence)]
        reason = f"Fee for {entry.places} place{'s' if entry.places != 1 else ''} at {event.title}"
    else:
        moves = [(account, -entry.fee_pence), (income, entry.fee_pence)]
        reason = f"Fee paid back: {event.title}"
    return ledger.Posting(kind, reason, ("event_registration", entry.id), moves, [f"event:{event.id}", FEES])


@payments.on_change(PURPOSE)
def _payments_changed(changes: Sequence[PaymentChange]) -> None:
    """Entries follow their fees' payments, in the order the payments moved (the module's docstring)."""
    with _links():
        entries, events = _locked_entries(sorted({c.purpose_id for c in changes}))
        for change in changes:
            entry = entries.get(change.purpose_id)
            if entry is None or entry.payment_id != change.payment_id:
                raise RuntimeError(f"payment {change.payment_id} names no event registration of ours")
        accounts = (ledger.account(ledger.INCOME), fees_account())
        postings: list[ledger.Posting] = []
        freed: set[int] = set()
        for change in changes:
            entry = entries[change.purpose_id]
            event = events[entry.event_id]
            if change.new is PaymentStatus.SUCCEEDED:
                postings.append(_fee_posting(TransactionKind.EVENT_FEE, entry, event, accounts))
                if entry.status is S.AWAITING_PAYMENT:
                    steps.move(entry, S.REGISTERED, None, "Fee paid", change.at)
                    registrations.confirm(entry)
                else:
                    _pay_back_late_money(entry, change)
            elif change.new is PaymentStatus.FAILED and entry.status is S.AWAITING_PAYMENT:
                reason = (entry.payment.failure_reason if entry.payment else None) or "it did not complete"
                steps.move(entry, S.CANCELLED, None, f"Payment not completed: {reason}"[:500], change.at)
                registrations.tell(entry, f"Payment not completed: {event.title}", "payment_failed")
                freed.add(event.id)
            elif change.new is PaymentStatus.REFUNDED:
                if change.old is PaymentStatus.SUCCEEDED:
                    postings.append(_fee_posting(TransactionKind.EVENT_FEE_REFUND, entry, event, accounts))
                if entry.status in (S.AWAITING_PAYMENT, S.REGISTERED):
                    steps.move(entry, S.CANCELLED, None, "Fee paid back", change.at)
                    registrations.tell(entry, f"Registration cancelled: {event.title}", "fee_refunded")
                    freed.add(event.id)
        ledger.post_many(postings)
        for event_id in sorted(freed):
            registrations.offer_freed_places(events[event_id])


def _pay_back_late_money(entry: Registration, change: PaymentChange) -> None:
    """Money arrived for an entry no longer waiting for it (it lapsed or was cancelled meanwhile): it is paid back,
    and the step says why."""
    entry.refund_due = True
    assert entry.payment is not None  # loaded with the entry, after the caller moved it (and locked by it)
    payments.request_refund(entry.payment)
    entry.steps.append(
        RegistrationStep(
            from_status=entry.status,
            to_status=entry.status,
            at=change.at,
            note="The fee arrived after the registration had ended: it is being paid back",
        )
    )
    registrations.tell(entry, f"Your fee is being paid back: {entry.event.title}", "fee_refund_due")


@payments.on_fee(PURPOSE)
def _fees_charged(charges: Sequence[FeeCharged]) -> None:
    """The card provider's fee on an event's fee: from the fees for events to the providers' fees."""
    rows = {
        entry_id: event_id
        for entry_id, event_id in db.session.execute(
            sa.select(Registration.id, Registration.event_id).where(
                Registration.id.in_([c.purpose_id for c in charges])
            )
        ).tuples()
    }
    account = fees_account()
    providers_fees = ledger.account(ledger.PROVIDER_FEES)
    ledger.post_many(
        [
            ledger.Posting(
                TransactionKind.PROVIDER_FEE,
                "Card fee on an event's fee",
                ("event_registration", charge.purpose_id),
                [(account, -charge.fee_pence), (providers_fees, charge.fee_pence)],
                [f"event:{rows.get(charge.purpose_id)}", FEES],
            )
            for charge in charges
        ]
    )


# --- refunds on cancellation -----------------------------------------------------------------------------------


def refund_when_committed(entry: Registration) -> None:
    """The entry was cancelled in time (or its event was): its fee, if it was paid, is paid back once this
    transaction commits (`refund_due_fees`; beat's sweep asks again for any a lost task left)."""
    if entry.payment_id is None:
        return
    entry.refund_due = True
    after_commit.defer(_REFUNDS_KEY, [entry.id])


@after_commit.handler(_REFUNDS_KEY)
def _refund_after_commit(ids: list[int]) -> None:
    after_commit.enqueue("foundation.events.tasks.refund_fees", ids, "the refunds of entries")


def refund_due_fees(entry_ids: Sequence[int]) -> int:
    """Ask for the fees of these cancelled entries to be paid back, each payment locked (before any event), each
    once. How many refunds were asked for. The caller commits."""
    owed = sa.select(Registration.payment_id).where(
        Registration.id.in_(list(entry_ids)), Registration.refund_due.is_(True)
    )
    return sum(payments.request_refund(p) == "requested" for p in payments.locked_all(owed))


def entries_owed_refunds(limit: int = 500) -> list[int]:
    """Cancelled entries whose fee was received and is due back, not yet asked for (what a lost task left)."""
    return list(
        db.session.scalars(
            sa.select(Registration.id)
            .join(Payment, Payment.id == Registration.payment_id)
            .where(
                Registration.refund_due.is_(True),
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.refund_requested_at.is_(None),
            )
            .order_by(Registration.id)
            .limit(limit)
        )
    )


# --- places held for a fee that was not paid in time (beat) -----------------------------------------------------

NOT_PAID = "Not paid in time"


def events_with_unpaid_places(now: datetime | None = None) -> list[int]:
    return registrations.events_past_deadline(S.AWAITING_PAYMENT, now)


def lapse_unpaid(event_id: int, now: datetime | None = None) -> int:
    """Cancel the event's entries whose fee was not paid by `pay_by` and offer their places on; how many. Their
    payments are left as they are: money that still arrives is paid back (`_pay_back_late_money`)."""
    return registrations.release_past_deadline(
        event_id, S.AWAITING_PAYMENT, NOT_PAID, "Your places have been released", "payment_lapsed", now
    )


# --- staff: money that comes offline ----------------------------------------------------------------------------


def waiting_offline() -> list[Registration]:
    """Entries waiting for a bank transfer (offline payments still pending), soonest deadline first."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Payment, Payment.id == Registration.payment_id)
            .where(
                Registration.status == S.AWAITING_PAYMENT,
                Payment.provider == providers.OFFLINE.name,
                Payment.status == PaymentStatus.PENDING,
            )
            .options(
                joinedload(Registration.event),
                joinedload(Registration.organisation),
                joinedload(Registration.payment),
            )
            .order_by(Registration.pay_by, Registration.id)
        )
    )


def refunds_to_pay_offline() -> list[Registration]:
    """Entries whose fee came offline and is due back (asked for, not yet recorded as paid back)."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Payment, Payment.id == Registration.payment_id)
            .where(
                Payment.provider == providers.OFFLINE.name,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.refund_requested_at.is_not(None),
            )
            .options(
                joinedload(Registration.event),
                joinedload(Registration.organisation),
                joinedload(Registration.payment),
            )
            .order_by(Payment.refund_requested_at, Registration.id)
        )
    )


def entry_for_payment(payment_id: int) -> Registration | None:
    return db.session.scalar(sa.select(Registration).where(Registration.payment_id == payment_id))
