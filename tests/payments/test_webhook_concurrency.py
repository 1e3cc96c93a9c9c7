"""Stripe delivering at the same moment: one event several times, or several events about one payment.

Stripe may deliver an event more than once and sends the events about one checkout close together. The app runs
in Werkzeug's threaded server (tests/livesupport.py), each request with its own thread, app context and database
session as in production, and every delivery waits at a barrier so all arrive together. On PostgreSQL the event's
unique key (ON CONFLICT) decides which delivery stores it; each request then runs the worker's task in-process
after its commit (no broker here), so several appliers run at once, and the applier's lock and the payments' row
locks decide; the handler must hear of each change exactly once.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter

import pytest
import sqlalchemy as sa

from foundation.payments.models import Payment, PaymentEvent, PaymentStatus
from tests.livesupport import LiveServer, live_server  # noqa: F401  (fixture)
from tests.payments.conftest import STRIPE_WEBHOOK
from tests.venues.test_concurrency import all_at_once

pytestmark = pytest.mark.postgres_only

PENDING, SUCCEEDED, REFUNDED = PaymentStatus.PENDING, PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED
COPIES = 10


@pytest.fixture(autouse=True)
def _postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency tests")


def deliver(server: LiveServer, body: bytes, signature: str) -> tuple[int, str]:
    request = urllib.request.Request(
        server(STRIPE_WEBHOOK),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def stored_events(db) -> list[tuple[str, int, str]]:
    db.session.rollback()
    return [
        tuple(r)
        for r in db.session.execute(
            sa.select(PaymentEvent.type, PaymentEvent.payment_id, PaymentEvent.outcome).order_by(
                PaymentEvent.id
            )
        )
    ]


def test_one_event_delivered_ten_times_at_once_is_applied_once(
    db,
    stripe_standin,
    checkout,
    live_server,  # noqa: F811
    handled,
):
    payment_id, session_id = checkout(2500)
    body, signature = stripe_standin.signed(stripe_standin.completed_event(session_id))

    results = all_at_once([lambda: deliver(live_server, body, signature) for _ in range(COPIES)])

    assert Counter(results) == {(200, "Received."): 1, (200, "Already received."): COPIES - 1}, results
    assert stored_events(db) == [("checkout.session.completed", payment_id, "succeeded")]
    assert db.session.get(Payment, payment_id).status is SUCCEEDED
    assert handled == [(payment_id, PENDING, SUCCEEDED)]


def test_completed_and_async_succeeded_at_once_succeed_each_payment_once(
    db,
    stripe_standin,
    checkout,
    live_server,  # noqa: F811
    handled,
):
    """Five payments, each with its checkout.session.completed and async_payment_succeeded sent together."""
    opened = [checkout(1000 + 100 * i) for i in range(5)]
    jobs = []
    for _, session_id in opened:
        for event in (
            stripe_standin.completed_event(session_id),
            stripe_standin.async_succeeded_event(session_id),
        ):
            body, signature = stripe_standin.signed(event)
            jobs.append(lambda body=body, signature=signature: deliver(live_server, body, signature))

    results = all_at_once(jobs)

    assert results == [(200, "Received.")] * len(jobs), results
    events = stored_events(db)
    assert len(events) == 2 * len(opened)
    assert Counter(outcome for _, _, outcome in events) == {"succeeded": 5, "already succeeded": 5}
    for payment_id, _ in opened:
        assert sorted(o for _, pid, o in events if pid == payment_id) == ["already succeeded", "succeeded"]
    for payment_id, _ in opened:
        assert db.session.get(Payment, payment_id).status is SUCCEEDED
    assert sorted(handled) == sorted((payment_id, PENDING, SUCCEEDED) for payment_id, _ in opened)


def test_a_payment_and_its_refund_at_once_end_refunded_without_a_late_success(
    db,
    stripe_standin,
    checkout,
    live_server,  # noqa: F811
    handled,
):
    opened = [checkout(2500) for _ in range(5)]
    jobs = []
    for _, session_id in opened:
        for event in (stripe_standin.completed_event(session_id), stripe_standin.refunded_event(session_id)):
            body, signature = stripe_standin.signed(event)
            jobs.append(lambda body=body, signature=signature: deliver(live_server, body, signature))

    results = all_at_once(jobs)

    assert results == [(200, "Received.")] * len(jobs), results
    db.session.rollback()
    for payment_id, _ in opened:
        assert db.session.get(Payment, payment_id).status is REFUNDED
        heard = [(old, new) for pid, old, new in handled if pid == payment_id]
        # Whichever came first: the success then the refund, or the refund alone (nothing was counted).
        assert heard in ([(PENDING, SUCCEEDED), (SUCCEEDED, REFUNDED)], [(PENDING, REFUNDED)]), heard
    events = stored_events(db)
    for payment_id, _ in opened:
        outcomes = sorted(o for _, pid, o in events if pid == payment_id)
        assert outcomes in (["refunded", "succeeded"], ["already refunded", "refunded"]), outcomes
