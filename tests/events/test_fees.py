"""Fees for priced events, taken through the payment providers: places wait for their fee, the fee registers them
and is income in the ledger (never Gift Aided), a payment that fails or does not come in time releases the places
to the waiting list, money that comes too late is paid back, and a cancellation in time (or the event's) pays the
fee back, a late one does not. Offline (bank transfer recorded by staff) unless the test asks for Stripe."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict
from foundation.events import fees, registrations
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.notifications.models import Notification
from foundation.payments import service as payments
from foundation.payments.models import Payment, PaymentStatus, ReceivedBy
from foundation.types import london_today, utcnow
from tests.events.factories import make_event
from tests.events.registration_factories import fill, held_in_db, make_team, register, subjects_to
from tests.factories import make_user

S = RegistrationStatus
PRICE = 3_500

pytestmark = pytest.mark.usefixtures("request_context")


def priced(**kwargs) -> Event:
    return make_event(where=LocationKind.ONLINE, price_pence=PRICE, **kwargs)


def fresh(entry: Registration) -> Registration:
    db.session.expire_all()
    found = db.session.get(Registration, entry.id)
    assert found is not None
    return found


def staff_user():
    user = make_user(staff=True)
    db.session.commit()
    return user


def pay_offline(entry: Registration, staff, on: date | None = None) -> None:
    assert entry.payment_id is not None
    payments.record_received(
        entry.payment_id, staff, ReceivedBy.BANK_TRANSFER, on or london_today(), f"BACS {entry.id}"
    )
    db.session.commit()


def fee_movements(event: Event) -> list[tuple[TransactionKind, int]]:
    """The event's fee movements in the ledger: (kind, pence into the fees for events), oldest first."""
    db.session.expire_all()
    rows = ledger.entries_for(f"event:{event.id}")
    moved = []
    for txn in sorted(rows, key=lambda t: t.id):
        into = sum(e.amount_pence for e in txn.entries if e.account.code == fees.FEES)
        moved.append((txn.kind, into))
    return moved


def test_a_priced_event_holds_the_places_until_the_fee_is_paid(app):
    event = priced(places=5)
    org, people = make_team(2)
    db.session.commit()
    before = utcnow()
    entry = register(event, org, people)

    assert entry.status is S.AWAITING_PAYMENT
    assert entry.fee_pence == 2 * PRICE
    assert held_in_db(event.id) == (2, 2)  # the places are held meanwhile
    payment = db.session.get(Payment, entry.payment_id)
    assert payment is not None
    assert (payment.purpose_type, payment.purpose_id, payment.amount_pence, payment.status) == (
        fees.PURPOSE, entry.id, 2 * PRICE, PaymentStatus.PENDING
    )  # fmt: skip
    assert entry.pay_by == entry.created_at + timedelta(hours=48) and entry.created_at >= before
    # Not registered yet: no online link, not on the register, nothing in the ledger.
    assert not registrations.holds_place(people[0], event)
    assert registrations.attendees(event) == []
    assert fee_movements(event) == []
    message = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == people[1].id).order_by(Notification.id.desc())
    ).first()
    assert message is not None
    assert message.subject == f"Your places are held until the fee is paid: {event.title}"
    assert "£70" in message.body_text and "meet.example.org" not in message.body_text
    assert message.attachment is None


def test_the_fee_received_registers_the_entry_and_is_income_never_gift_aided(app):
    event = priced(places=5)
    org, people = make_team(2)
    staff = staff_user()
    entry = register(event, org, people)
    pay_offline(entry, staff)

    entry = fresh(entry)
    assert entry.status is S.REGISTERED
    assert [s.note for s in entry.steps][-1] == "Fee paid"
    assert registrations.holds_place(people[1], event)
    assert f"You are registered: {event.title}" in subjects_to(people[1])
    registered = db.session.scalars(
        sa.select(Notification).where(
            Notification.user_id == people[1].id, Notification.subject.startswith("You are registered")
        )
    ).one()
    assert registered.attachment_name == f"event-{event.id}.ics"
    assert fee_movements(event) == [(TransactionKind.EVENT_FEE, 2 * PRICE)]
    assert ledger.balances([fees.FEES, ledger.INCOME]) == {fees.FEES: 2 * PRICE, ledger.INCOME: -2 * PRICE}
    assert ledger.check_balanced() == []
    assert ledger.totals_by_kind()[TransactionKind.EVENT_FEE] == 2 * PRICE


def test_a_free_event_takes_no_payment(app):
    event = make_event(where=LocationKind.ONLINE)
    org, people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    assert entry.status is S.REGISTERED and entry.payment_id is None and entry.fee_pence == 0
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_pledge_that_will_not_come_releases_the_places_to_the_next_entry_that_fits(app):
    event = priced(places=2)
    staff = staff_user()
    org, people = make_team(2)
    db.session.commit()
    waiting_org, waiting_people = make_team(2)
    db.session.commit()
    entry = register(event, org, people)
    waiting = register(event, waiting_org, waiting_people)
    assert waiting.status is S.WAITLISTED

    assert entry.payment_id is not None
    payments.cancel_pledge(entry.payment_id, staff, "The fee will not be paid.")
    db.session.commit()

    entry, waiting = fresh(entry), fresh(waiting)
    assert entry.status is S.CANCELLED
    assert entry.steps[-1].note == "Payment not completed: The fee will not be paid."
    assert f"Payment not completed: {event.title}" in subjects_to(people[0])
    assert waiting.status is S.OFFERED
    assert held_in_db(event.id) == (2, 2)
    assert fee_movements(event) == []


def test_unpaid_places_are_released_when_the_time_to_pay_passes_and_late_money_is_paid_back(app):
    event = priced(places=1)
    staff = staff_user()
    org, people = make_team(1)
    db.session.commit()
    waiting_org, waiting_people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    waiting = register(event, waiting_org, waiting_people)
    assert entry.pay_by is not None

    # Before the time: nothing happens.
    assert fees.events_with_unpaid_places(entry.pay_by - timedelta(minutes=1)) == []
    later = entry.pay_by + timedelta(minutes=1)
    assert fees.events_with_unpaid_places(later) == [event.id]
    assert fees.lapse_unpaid(event.id, later) == 1
    db.session.commit()
    assert fees.lapse_unpaid(event.id, later) == 0  # running it again changes nothing
    db.session.commit()
    entry, waiting = fresh(entry), fresh(waiting)
    assert entry.status is S.CANCELLED and entry.steps[-1].note == fees.NOT_PAID
    assert f"Your places have been released: {event.title}" in subjects_to(people[0])
    assert waiting.status is S.OFFERED

    # The transfer arrives after all: it is income, and it is paid back (staff do it by hand, offline).
    pay_offline(entry, staff)
    entry = fresh(entry)
    assert entry.status is S.CANCELLED and entry.refund_due
    assert "arrived after the registration had ended" in (entry.steps[-1].note or "")
    assert [e.id for e in fees.refunds_to_pay_offline()] == [entry.id]
    assert fee_movements(event) == [(TransactionKind.EVENT_FEE, PRICE)]
    assert held_in_db(event.id) == (1, 1)  # the waiting entry's offer still holds the place

    assert entry.payment_id is not None
    payments.refund_offline(entry.payment_id, staff)
    db.session.commit()
    assert fees.refunds_to_pay_offline() == []
    assert fee_movements(event) == [
        (TransactionKind.EVENT_FEE, PRICE),
        (TransactionKind.EVENT_FEE_REFUND, -PRICE),
    ]
    assert ledger.balances([fees.FEES])[fees.FEES] == 0


def test_cancelling_before_the_cut_off_pays_the_fee_back(app):
    event = priced(places=4)
    staff = staff_user()
    org, people = make_team(2)
    db.session.commit()
    entry = register(event, org, people)
    pay_offline(entry, staff)

    registrations.cancel(fresh(entry), people[0])
    db.session.commit()  # the refund is asked for once this commits

    entry = fresh(entry)
    assert entry.status is S.CANCELLED and entry.refund_due and not entry.late_cancellation
    payment = db.session.get(Payment, entry.payment_id)
    assert payment is not None and payment.refund_requested_at is not None
    assert payment.status is PaymentStatus.SUCCEEDED  # offline: staff pay it back and record it
    cancelled = db.session.scalars(
        sa.select(Notification.body_text).where(
            Notification.user_id == people[1].id, Notification.subject.startswith("Registration cancelled")
        )
    ).one()
    assert "The fee of £70 is being paid back to you." in cancelled
    assert [e.id for e in fees.refunds_to_pay_offline()] == [entry.id]


def test_a_late_cancellation_keeps_the_fee(app):
    event = priced(places=4, starts_at=utcnow() + timedelta(hours=30), cancel_cutoff_hours=48)
    staff = staff_user()
    org, people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    pay_offline(entry, staff)
    organiser = event.organisation.admins()[0]

    with pytest.raises(Conflict, match="Cancelling online closed"):
        registrations.cancel(fresh(entry), people[0])
    db.session.rollback()
    registrations.cancel(fresh(entry), organiser)
    db.session.commit()

    entry = fresh(entry)
    assert entry.status is S.CANCELLED and entry.late_cancellation and not entry.refund_due
    payment = db.session.get(Payment, entry.payment_id)
    assert payment is not None and payment.refund_requested_at is None
    assert fees.refunds_to_pay_offline() == []
    assert ledger.balances([fees.FEES])[fees.FEES] == PRICE
    body = db.session.scalars(
        sa.select(Notification.body_text).where(
            Notification.user_id == people[0].id, Notification.subject.startswith("Registration cancelled")
        )
    ).one()
    assert "the fee of £35 is not paid back" in body


def test_an_unpaid_entry_cancelled_owes_nothing_and_money_arriving_later_goes_back(app):
    event = priced(places=4)
    staff = staff_user()
    org, people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    registrations.cancel(fresh(entry), people[0])
    db.session.commit()
    payment = db.session.get(Payment, fresh(entry).payment_id)
    assert payment is not None and payment.refund_requested_at is None  # nothing came, nothing to pay back
    pay_offline(fresh(entry), staff)
    assert [e.id for e in fees.refunds_to_pay_offline()] == [entry.id]


def test_cancelling_the_event_pays_every_fee_back(app):
    from foundation.events import events as event_services

    event = priced(places=6)
    staff = staff_user()
    paid_org, paid_people = make_team(2)
    db.session.commit()
    unpaid_org, unpaid_people = make_team(1)
    db.session.commit()
    paid = register(event, paid_org, paid_people)
    unpaid = register(event, unpaid_org, unpaid_people)
    pay_offline(paid, staff)

    event_services.cancel_event(db.session.get(Event, event.id), staff, "The trainer is ill.")
    db.session.commit()

    assert fresh(paid).status is S.CANCELLED and fresh(unpaid).status is S.CANCELLED
    assert [e.id for e in fees.refunds_to_pay_offline()] == [paid.id]
    body = db.session.scalars(
        sa.select(Notification.body_text).where(
            Notification.user_id == paid_people[0].id, Notification.subject.startswith("Event cancelled")
        )
    ).one()
    assert "The fee of £70 is being paid back to you." in body


def test_approval_comes_before_the_fee_and_an_accepted_offer_waits_for_it_too(app):
    event = priced(places=2, requires_approval=True)
    org, people = make_team(2)
    db.session.commit()
    waiting_org, waiting_people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    assert entry.status is S.PENDING_APPROVAL and entry.payment_id is None and entry.fee_pence == 0

    organiser = event.organisation.admins()[0]
    registrations.approve(fresh(entry), organiser)
    db.session.commit()
    entry = fresh(entry)
    assert entry.status is S.AWAITING_PAYMENT and entry.fee_pence == 2 * PRICE and entry.payment_id
    assert "Your places are held until the fee is paid" in subjects_to(people[0])[-1]

    # Without approval: an offer accepted waits for its fee as well.
    open_event = priced(places=1)
    fill(open_event)
    waiting = register(open_event, waiting_org, waiting_people)
    holder = db.session.scalars(
        sa.select(Registration).where(
            Registration.event_id == open_event.id, Registration.status == S.AWAITING_PAYMENT
        )
    ).one()
    registrations.cancel(holder, holder.made_by)
    db.session.commit()
    assert fresh(waiting).status is S.OFFERED
    registrations.accept_offer(fresh(waiting), waiting_people[0])
    db.session.commit()
    waiting = fresh(waiting)
    assert waiting.status is S.AWAITING_PAYMENT and waiting.fee_pence == PRICE


def test_paying_is_refused_once_the_time_has_passed_or_for_another_organisation(app):
    event = priced(places=2)
    org, people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    organiser = event.organisation.admins()[0]
    with pytest.raises(Exception, match="Only people of the organisation"):
        fees.pay(fresh(entry), organiser)
    assert fees.pay(fresh(entry), people[0]) is None  # offline: the page says how to pay
    assert entry.pay_by is not None
    with pytest.raises(Conflict, match="The time to pay has passed"):
        fees.pay(fresh(entry), people[0], now=entry.pay_by + timedelta(seconds=1))


def test_beat_releases_unpaid_places_and_asks_again_for_a_refund_a_lost_task_left(app):
    from foundation.events import tasks

    event = priced(places=3)
    staff = staff_user()
    org, people = make_team(1)
    db.session.commit()
    unpaid_org, unpaid_people = make_team(1)
    db.session.commit()
    paid = register(event, org, people)
    unpaid = register(event, unpaid_org, unpaid_people)
    pay_offline(paid, staff)
    # A cancellation whose refund task was lost (the broker was down): due, but never asked for.
    entry = fresh(paid)
    entry.status, entry.refund_due = S.CANCELLED, True
    db.session.get(Event, event.id).places_held -= 1  # type: ignore[union-attr]
    db.session.commit()
    assert fees.entries_owed_refunds() == [paid.id]

    assert unpaid.pay_by is not None
    assert tasks.lapse_unpaid.run(at=(unpaid.pay_by + timedelta(minutes=5)).isoformat()) == 1
    assert fresh(unpaid).status is S.CANCELLED
    assert fees.entries_owed_refunds() == []
    assert [e.id for e in fees.refunds_to_pay_offline()] == [paid.id]
    assert tasks.lapse_unpaid.run(at=(unpaid.pay_by + timedelta(minutes=10)).isoformat()) == 0
