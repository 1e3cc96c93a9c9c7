"""The webhook inbox: the endpoint stores each event once and answers; the worker applies stored events in the
order they were stored, in batches; nothing stored is lost when the worker is not woken.

Here the worker's wake-up is cut (the broker is down, as far as the app can tell) so that events pile up stored
and unapplied, as they do while a worker is busy or stopped; the test then runs the worker's task itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.payments import service, tasks
from foundation.payments.models import EventStatus, Payment, PaymentEvent, PaymentStatus
from foundation.types import utcnow

PENDING, SUCCEEDED, FAILED, REFUNDED = (
    PaymentStatus.PENDING,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)


@pytest.fixture
def wake_lost(app, monkeypatch) -> list[list[int]]:
    """The broker refuses every wake-up of the worker: each attempt's event ids, in order."""
    tried: list[list[int]] = []

    def refuse(ids: list[int]) -> None:
        tried.append(list(ids))
        raise ConnectionError("the broker is down")

    task = app.extensions["celery"].tasks[tasks.apply_events.name]
    monkeypatch.setattr(task, "delay", refuse)
    return tried


def events_now(db) -> list[tuple[str, int | None, EventStatus, str]]:
    """(event id, payment id, status, outcome) of every stored event, in the order stored."""
    db.session.rollback()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                PaymentEvent.event_id, PaymentEvent.payment_id, PaymentEvent.status, PaymentEvent.outcome
            ).order_by(PaymentEvent.id)
        )
    ]


def status_of(db, payment_id: int) -> PaymentStatus:
    db.session.rollback()
    return db.session.get(Payment, payment_id).status


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    ran: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        ran.append(statement)

    sa.event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield ran
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", count)


def test_an_event_whose_wake_up_was_lost_is_answered_kept_and_applied_by_the_sweep(
    db, monkeypatch, stripe_standin, checkout, webhook, handled, wake_lost
):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)

    response = webhook(event)
    assert (response.status_code, response.text) == (200, "Received.")
    assert events_now(db) == [(event["id"], payment_id, EventStatus.RECEIVED, "received")]
    assert len(wake_lost) == 1
    assert status_of(db, payment_id) is PENDING and handled == []
    # Stripe delivers it again meanwhile: we have it.
    assert webhook(event).text == "Already received."

    assert tasks.sweep_events() == 0  # stored a moment ago: its own wake-up may still be on its way
    later = utcnow() + tasks.EVENT_GRACE + timedelta(seconds=1)
    monkeypatch.setattr(tasks, "utcnow", lambda: later)
    assert tasks.sweep_events() == 1
    assert events_now(db) == [(event["id"], payment_id, EventStatus.APPLIED, "succeeded")]
    payment = db.session.get(Payment, payment_id)
    assert payment.status is SUCCEEDED and payment.fee_pence == 58, "the fee was read once it succeeded"
    assert handled == [(payment_id, PENDING, SUCCEEDED)]
    assert tasks.sweep_events() == 0


def test_stored_events_are_applied_in_the_order_they_came_in_one_batch(
    db, stripe_standin, checkout, webhook, handled, wake_lost
):
    (first, first_session), (second, second_session), (third, third_session) = (
        checkout(1000 + n) for n in range(3)
    )
    events = [
        stripe_standin.refunded_event(first_session),  # a refund heard before the payment
        stripe_standin.completed_event(second_session, payment_status="unpaid"),  # a bank debit on its way
        stripe_standin.completed_event(first_session),
        stripe_standin.async_failed_event(second_session),
        stripe_standin.completed_event(third_session),
        stripe_standin.async_succeeded_event(second_session),  # the debit arrived after all
        stripe_standin.refunded_event(third_session),
    ]
    for event in events:
        assert webhook(event).text == "Received."
    assert handled == [] and len(wake_lost) == len(events)

    assert tasks.apply_all() == len(events)

    assert [(event_id, status, outcome) for event_id, _, status, outcome in events_now(db)] == [
        (events[0]["id"], EventStatus.APPLIED, "refunded"),
        (events[1]["id"], EventStatus.APPLIED, "noted: nothing to do yet"),
        (events[2]["id"], EventStatus.APPLIED, "already refunded"),
        (events[3]["id"], EventStatus.APPLIED, "failed"),
        (events[4]["id"], EventStatus.APPLIED, "succeeded"),
        (events[5]["id"], EventStatus.APPLIED, "succeeded"),
        (events[6]["id"], EventStatus.APPLIED, "refunded"),
    ]
    assert handled == [
        (first, PENDING, REFUNDED),
        (second, PENDING, FAILED),
        (third, PENDING, SUCCEEDED),
        (second, FAILED, SUCCEEDED),
        (third, SUCCEEDED, REFUNDED),
    ]
    assert [status_of(db, p) for p in (first, second, third)] == [REFUNDED, SUCCEEDED, REFUNDED]
    second_payment = db.session.get(Payment, second)
    assert second_payment.payment_reference == stripe_standin.session(second_session)["payment_intent"]
    assert second_payment.failure_reason is None
    assert tasks.apply_all() == 0


def test_a_batch_takes_the_same_statements_for_three_payments_or_thirty(
    db, stripe_standin, checkout, webhook, wake_lost
):
    def apply_batch_of(count: int) -> list[str]:
        for _ in range(count):
            _, session_id = checkout(2500)
            webhook(stripe_standin.completed_event(session_id))
        db.session.commit()
        with statements() as ran:
            assert service.apply_next_batch() == count
        db.session.commit()
        return ran

    assert len(apply_batch_of(3)) == len(apply_batch_of(30)) <= 6


def test_an_event_that_no_longer_fits_its_payment_when_applied_is_refused_and_changes_nothing(
    db, stripe_standin, checkout, webhook, handled, wake_lost
):
    """Two events naming different Stripe payments for one of ours, both stored before either was applied: the
    first sets the payment's reference, so the second, when its turn comes, is refused."""
    payment_id, session_id = checkout(2500)
    completed = stripe_standin.completed_event(session_id)
    other = stripe_standin.async_succeeded_event(session_id)
    other["data"]["object"]["payment_intent"] = "pi_someone_elses"
    assert webhook(completed).text == webhook(other).text == "Received."

    assert tasks.apply_all() == 2
    assert [(status, outcome) for _, _, status, outcome in events_now(db)] == [
        (EventStatus.APPLIED, "succeeded"),
        (EventStatus.REFUSED, "refused: The event's payment is not the one made for that payment."),
    ]
    payment = db.session.get(Payment, payment_id)
    assert payment.payment_reference == stripe_standin.session(session_id)["payment_intent"]
    assert handled == [(payment_id, PENDING, SUCCEEDED)]


def test_an_event_that_fails_to_apply_waits_with_its_payments_later_events_and_the_rest_go_on(
    db, monkeypatch, stripe_standin, checkout, webhook, handled, wake_lost
):
    (stuck, stuck_session), (fine, fine_session) = checkout(2500), checkout(1500)
    record = service.HANDLERS["test-order"]

    def fails_for_one(changes):
        if any(c.payment_id == stuck for c in changes):
            raise RuntimeError("the capability could not take this change")
        record(changes)

    monkeypatch.setitem(service.HANDLERS, "test-order", fails_for_one)
    stuck_events = [
        stripe_standin.completed_event(stuck_session),
        stripe_standin.refunded_event(stuck_session),
    ]
    fine_event = stripe_standin.completed_event(fine_session)
    for event in (stuck_events[0], fine_event, stuck_events[1]):
        assert webhook(event).text == "Received."

    assert tasks.apply_all() == 1
    assert [(event_id, status) for event_id, _, status, _ in events_now(db)] == [
        (stuck_events[0]["id"], EventStatus.RECEIVED),
        (fine_event["id"], EventStatus.APPLIED),
        (stuck_events[1]["id"], EventStatus.RECEIVED),  # not applied before the event it follows
    ]
    assert status_of(db, stuck) is PENDING and status_of(db, fine) is SUCCEEDED

    monkeypatch.setitem(service.HANDLERS, "test-order", record)  # the capability is fixed
    assert tasks.apply_all() == 2
    assert [outcome for event_id, _, _, outcome in events_now(db) if event_id != fine_event["id"]] == [
        "succeeded",
        "refunded",
    ]
    assert handled == [(fine, PENDING, SUCCEEDED), (stuck, PENDING, SUCCEEDED), (stuck, SUCCEEDED, REFUNDED)]


def test_a_refused_event_is_refused_before_anything_is_stored_even_with_the_worker_asleep(
    db, stripe_standin, checkout, webhook, stored, wake_lost
):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)
    event["data"]["object"]["amount_total"] = 1
    before = stored()
    response = webhook(event)
    assert (response.status_code, response.text) == (
        400,
        "The amount paid differs from the amount asked for.",
    )
    assert stored() == before and wake_lost == []
    assert status_of(db, payment_id) is PENDING
