"""Stripe's signed events through the real endpoint, POST /payments/webhooks/stripe.

Each event is built by the stand-in about a checkout it made, and signed with stripe-python's own code, so the
app's real signature check runs. What matters: a payment succeeds, fails or is refunded once, whatever order and
however many times the events come; anything refused answers 400 and writes nothing (Stripe shows the endpoint's
answer and retries, so 400 is for what will never be right, 200 for what we have).

The endpoint stores the event and answers "Received."; the worker applies it after the commit. Without a broker
(these tests) the worker's task runs in-process right after the commit, so by the time the answer arrives the
event is applied, and what applying it did is the stored event's outcome (`applied`).
"""

from __future__ import annotations

import http.client
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.payments import providers, service, tasks
from foundation.payments.models import EventStatus, Payment, PaymentEvent, PaymentStatus
from foundation.types import utcnow
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.payments.conftest import STRIPE_WEBHOOK
from tests.payments.stripe_standin import (
    CARD_FINGERPRINT,
    CARD_LAST4,
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    SECRET_KEY,
    encode,
    fee_for,
    sign,
)

PENDING, SUCCEEDED, FAILED, REFUNDED = (
    PaymentStatus.PENDING,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)
SIGNATURE_REFUSED = "The signature does not match, or the event is more than 5 minutes old."
TOO_LARGE = "The body is too large for an event."
RECEIVED = (200, "Received.")


def events_stored(db) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(PaymentEvent.id)))


def payment_now(db, payment_id: int) -> Payment:
    db.session.rollback()
    return db.session.get(Payment, payment_id)


def applied(db, event: dict) -> str:
    """What applying the event did, as stored with it (the event must have been applied)."""
    db.session.rollback()
    row = db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.event_id == event["id"])).one()
    assert row.status is EventStatus.APPLIED and row.applied_at is not None, (row.status, row.outcome)
    return row.outcome


# --- the provider on its own --------------------------------------------------------------------------------------


def test_the_provider_reads_a_verified_event(app, stripe_standin, checkout):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)
    body, signature = stripe_standin.signed(event)

    parsed = providers.current().parse_event(body, signature)
    assert parsed == providers.ProviderEvent(
        event_id=event["id"],
        type="checkout.session.completed",
        outcome=providers.Outcome.SUCCEEDED,
        payment_id=payment_id,
        checkout_reference=session_id,
        payment_reference=stripe_standin.session(session_id)["payment_intent"],
        amount_pence=2500,
    )


def test_the_provider_reads_the_fee_from_the_charge(app, stripe_standin, checkout):
    _, session_id = checkout(2500)
    intent = stripe_standin.pay(session_id)["payment_intent"]

    assert providers.current().fee_for(intent) == fee_for(2500) == 58
    [asked] = stripe_standin.api_requests("GET", f"/v1/payment_intents/{intent}")
    assert asked.params["expand"] == ["latest_charge.balance_transaction"]


# --- the money arrives ------------------------------------------------------------------------------------------


def test_a_paid_checkout_succeeds_once_with_stripes_fee(db, stripe_standin, checkout, webhook, handled):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)

    response = webhook(event)
    assert (response.status_code, response.text) == RECEIVED
    payment = payment_now(db, payment_id)
    assert payment.status is SUCCEEDED and payment.settled_at is not None
    assert payment.payment_reference == stripe_standin.session(session_id)["payment_intent"]
    assert payment.fee_pence == fee_for(2500) == 58
    assert handled == [(payment_id, PENDING, SUCCEEDED)]
    [row] = db.session.scalars(sa.select(PaymentEvent)).all()
    assert (row.provider, row.event_id, row.type, row.payment_id, row.reported, row.status, row.outcome) == (
        "stripe",
        event["id"],
        "checkout.session.completed",
        payment_id,
        providers.Outcome.SUCCEEDED,
        EventStatus.APPLIED,
        "succeeded",
    )
    assert row.payment_reference == payment.payment_reference
    assert row.received_at <= row.applied_at


def test_the_same_event_again_is_answered_and_changes_nothing(
    db, stripe_standin, checkout, webhook, handled, stored
):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)
    assert webhook(event).status_code == 200
    before = stored()

    again = webhook(event, timestamp=int(time.time()) + 5)  # Stripe signs each delivery afresh
    assert (again.status_code, again.text) == (200, "Already received.")
    assert stored() == before
    assert handled == [(payment_id, PENDING, SUCCEEDED)]


def test_a_body_of_exactly_256_kb_is_still_an_event(db, stripe_standin, checkout, webhook):
    payment_id, session_id = checkout(2500)
    body = encode(stripe_standin.completed_event(session_id))
    body = body[:-1] + b" " * (service.MAX_WEBHOOK_BYTES - len(body)) + b"}"
    assert len(body) == service.MAX_WEBHOOK_BYTES

    response = webhook(body)
    assert (response.status_code, response.text) == RECEIVED
    assert payment_now(db, payment_id).status is SUCCEEDED


# --- refused: 400 and nothing written ---------------------------------------------------------------------------


def _other_secret(standin, session_id):
    body = encode(standin.completed_event(session_id))
    return body, sign(body, "whsec_someone_else")


def _changed_after_signing(standin, session_id):
    body, signature = standin.signed(standin.completed_event(session_id))
    return body.replace(b'"amount_total":2500', b'"amount_total":1'), signature


def _stale(standin, session_id):
    return standin.signed(standin.completed_event(session_id), timestamp=int(time.time()) - 301)


def _no_header(standin, session_id):
    return encode(standin.completed_event(session_id)), None


def _garbled_header(standin, session_id):
    return encode(standin.completed_event(session_id)), "t=soon,v1=nope"


def _not_json(standin, session_id):
    return b"payment_status=paid", sign(b"payment_status=paid", standin.webhook_secret)


REFUSALS = {
    "signed with another secret": (_other_secret, SIGNATURE_REFUSED),
    "changed after signing": (_changed_after_signing, SIGNATURE_REFUSED),
    "signed over 5 minutes ago": (_stale, SIGNATURE_REFUSED),
    "no signature header": (_no_header, "The Stripe-Signature header is missing."),
    "a garbled signature header": (_garbled_header, SIGNATURE_REFUSED),
    "signed but not JSON": (_not_json, "The body is not a Stripe event."),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_an_event_we_cannot_trust_is_refused_and_nothing_written(
    db, stripe_standin, checkout, webhook, handled, stored, case
):
    payment_id, session_id = checkout(2500)
    build, message = REFUSALS[case]
    body, signature = build(stripe_standin, session_id)
    before = stored()

    response = webhook(body, signature=signature)
    assert (response.status_code, response.text) == (400, message)
    assert stored() == before
    assert payment_now(db, payment_id).status is PENDING
    assert handled == []


def test_an_event_type_we_do_not_handle_is_refused(db, stripe_standin, checkout, webhook, stored):
    _, session_id = checkout(2500)
    intent = stripe_standin.pay(session_id)["payment_intent"]
    before = stored()
    response = webhook(stripe_standin.event("payment_intent.succeeded", {"id": intent, "amount": 2500}))
    assert response.status_code == 400
    assert response.text == "Events of type 'payment_intent.succeeded' are not handled here."
    assert stored() == before


@pytest.mark.parametrize("size", [service.MAX_WEBHOOK_BYTES + 1, 5 * 1024 * 1024])
def test_a_body_too_large_for_an_event_is_refused(db, stripe_standin, checkout, webhook, stored, size):
    payment_id, session_id = checkout(2500)
    body = encode(stripe_standin.completed_event(session_id))
    body = body[:-1] + b" " * (size - len(body)) + b"}"  # still a signed, valid event: refused for its size
    before = stored()

    response = webhook(body)
    assert (response.status_code, response.text) == (400, TOO_LARGE)
    assert stored() == before
    assert payment_now(db, payment_id).status is PENDING


def test_the_size_limit_is_not_refused_at_256_kb_exactly(db, stripe_standin, webhook):
    body = b"{" + b" " * (service.MAX_WEBHOOK_BYTES - 2) + b"}"
    response = webhook(body, signature="t=1,v1=0")
    assert (response.status_code, response.text) == (400, SIGNATURE_REFUSED)


def test_a_large_body_sent_without_a_length_is_refused(
    db,
    stripe_standin,
    checkout,
    stored,
    live_server,  # noqa: F811
):
    """Chunked, so the size is only known once it is read: the service counts what arrived."""
    payment_id, session_id = checkout(2500)
    body = encode(stripe_standin.completed_event(session_id))
    body = body[:-1] + b" " * (300 * 1024) + b"}"
    before = stored()

    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    try:
        chunks = (body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
        conn.request(
            "POST",
            STRIPE_WEBHOOK,
            body=chunks,
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert (response.status, response.read().decode()) == (400, TOO_LARGE)
    finally:
        conn.close()
    assert stored() == before


def test_an_event_naming_another_payment_is_refused(db, stripe_standin, checkout, webhook, handled, stored):
    """Metadata saying "payment 2" on payment 1's checkout: the checkout is not the one made for payment 2."""
    first_id, first_session = checkout(2500)
    second_id, _ = checkout(2500)
    event = stripe_standin.completed_event(first_session)
    event["data"]["object"]["metadata"]["payment_id"] = str(second_id)
    before = stored()

    response = webhook(event)
    assert (response.status_code, response.text) == (
        400,
        "The event's checkout is not the one made for that payment.",
    )
    assert stored() == before
    assert handled == []


def test_an_event_for_no_payment_of_ours_is_refused(db, stripe_standin, checkout, webhook, stored):
    _, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)
    event["data"]["object"]["metadata"] = {"payment_id": "999999"}
    before = stored()

    response = webhook(event)
    assert (response.status_code, response.text) == (400, "The event names no payment of ours.")
    assert stored() == before


def test_an_amount_paid_other_than_asked_is_refused(db, stripe_standin, checkout, webhook, handled, stored):
    payment_id, session_id = checkout(2500)
    event = stripe_standin.completed_event(session_id)
    event["data"]["object"]["amount_total"] = 250
    before = stored()

    response = webhook(event)
    assert (response.status_code, response.text) == (
        400,
        "The amount paid differs from the amount asked for.",
    )
    assert stored() == before
    assert payment_now(db, payment_id).status is PENDING
    assert handled == []


def test_a_bank_debit_for_an_amount_other_than_asked_is_refused(
    db, stripe_standin, checkout, webhook, handled, stored
):
    payment_id, session_id = checkout(2500)
    assert webhook(stripe_standin.completed_event(session_id, payment_status="unpaid")).status_code == 200
    event = stripe_standin.async_succeeded_event(session_id)
    event["data"]["object"]["amount_total"] = 250
    before = stored()

    response = webhook(event)
    assert (response.status_code, response.text) == (
        400,
        "The amount paid differs from the amount asked for.",
    )
    assert stored() == before
    assert payment_now(db, payment_id).status is PENDING
    assert handled == []


def test_stripe_unreachable_for_the_fee_holds_nothing_up_and_the_sweep_reads_it_later(
    db, monkeypatch, stripe_standin, checkout, webhook, handled
):
    """The fee is read from Stripe after the payment is committed, so an API that cannot answer never holds up
    the event: the payment succeeds, its fee stays unread, and the sweep reads it once, when Stripe answers."""
    payment_id, session_id = checkout(2500)
    stripe_standin.fail_next(503, count=None)

    event = stripe_standin.completed_event(session_id)
    response = webhook(event)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, event) == "succeeded"
    assert handled == [(payment_id, PENDING, SUCCEEDED)]
    payment = payment_now(db, payment_id)
    assert (payment.status, payment.fee_pence, payment.fee_recorded_at) == (SUCCEEDED, 0, None)

    now = utcnow()
    assert tasks.sweep_fees() == 0  # settled a moment ago: its own task may still be asking
    monkeypatch.setattr(tasks, "utcnow", lambda: now + timedelta(minutes=11))
    assert service.fees_to_read(now + timedelta(minutes=1), now - timedelta(days=1)) == [payment_id]
    stripe_standin.recover()
    assert tasks.sweep_fees() == 1
    payment = payment_now(db, payment_id)
    assert payment.fee_pence == fee_for(2500) == 58 and payment.fee_recorded_at is not None
    assert tasks.sweep_fees() == 0
    assert service.record_fee(payment_id) == "already recorded"


def test_a_fee_stripe_has_not_settled_yet_is_asked_for_again(db, stripe_standin, checkout, webhook):
    payment_id, session_id = checkout(2500)
    stripe_standin.hold_fees(True)
    assert webhook(stripe_standin.completed_event(session_id)).text == "Received."
    assert payment_now(db, payment_id).status is SUCCEEDED
    assert service.record_fee(payment_id) == "not yet"
    assert payment_now(db, payment_id).fee_recorded_at is None

    stripe_standin.hold_fees(False)
    assert service.record_fee(payment_id) == "fee 58"
    db.session.commit()
    assert payment_now(db, payment_id).fee_pence == 58


def test_a_stripe_refund_cannot_settle_an_offline_pledge(
    app, db, stripe_standin, checkout, new_payment, webhook, handled, stored
):
    _, session_id = checkout(2500)
    app.config["STRIPE_SECRET_KEY"] = None  # a pledge taken while the keys were unset...
    pledge = new_payment(2500)
    service.open_checkout(pledge, "http://x/ok", "http://x/no", None)
    db.session.commit()
    app.config["STRIPE_SECRET_KEY"] = SECRET_KEY  # ...and the keys set since
    assert (pledge.provider, pledge.checkout_reference) == ("offline", f"offline-{pledge.id}")
    event = stripe_standin.refunded_event(session_id)
    event["data"]["object"]["metadata"]["payment_id"] = str(pledge.id)
    before = stored()

    response = webhook(event)
    assert response.status_code == 400
    assert stored() == before
    assert handled == []


def test_the_offline_webhook_address_is_refused_when_stripe_is_set_up(
    db, stripe_standin, checkout, webhook, stored
):
    _, session_id = checkout(2500)
    before = stored()
    response = webhook(stripe_standin.completed_event(session_id), path="/payments/webhooks/offline")
    assert (response.status_code, response.text) == (400, "The offline provider is not configured here.")
    response = webhook(stripe_standin.completed_event(session_id), path="/payments/webhooks/paypal")
    assert (response.status_code, response.text) == (400, "The paypal provider is not configured here.")
    assert stored() == before


# --- whatever the order ------------------------------------------------------------------------------------------


def test_a_refund_heard_before_the_payment_leaves_it_refunded(db, stripe_standin, checkout, webhook, handled):
    payment_id, session_id = checkout(2500)
    completed = stripe_standin.completed_event(session_id)
    refunded = stripe_standin.refunded_event(session_id)

    response = webhook(refunded)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, refunded) == "refunded"
    response = webhook(completed)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, completed) == "already refunded"

    payment = payment_now(db, payment_id)
    assert payment.status is REFUNDED and payment.refunded_at is not None
    assert handled == [(payment_id, PENDING, REFUNDED)], "nothing was counted as received"
    outcomes = db.session.scalars(sa.select(PaymentEvent.outcome).order_by(PaymentEvent.id)).all()
    assert outcomes == ["refunded", "already refunded"]


def test_a_full_refund_after_the_payment_is_heard_by_the_capability(
    db, stripe_standin, checkout, webhook, handled
):
    payment_id, session_id = checkout(2500)
    completed, refunded = (
        stripe_standin.completed_event(session_id),
        stripe_standin.refunded_event(session_id),
    )
    assert webhook(completed).text == "Received."
    assert applied(db, completed) == "succeeded"
    response = webhook(refunded)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, refunded) == "refunded"

    payment = payment_now(db, payment_id)
    assert payment.status is REFUNDED and payment.refunded_at is not None
    assert handled == [(payment_id, PENDING, SUCCEEDED), (payment_id, SUCCEEDED, REFUNDED)]

    second = stripe_standin.refunded_event(session_id)  # a second refund event: already refunded
    again = webhook(second)
    assert (again.status_code, again.text) == RECEIVED
    assert applied(db, second) == "already refunded"
    assert len(handled) == 2


def test_a_partial_refund_is_noted_for_staff_and_changes_nothing(
    db, stripe_standin, checkout, webhook, handled
):
    payment_id, session_id = checkout(2500)
    webhook(stripe_standin.completed_event(session_id))
    partial = stripe_standin.refunded_event(session_id, amount_refunded=1000)
    response = webhook(partial)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, partial) == "partial refund: not applied, settle it by hand"

    assert payment_now(db, payment_id).status is SUCCEEDED
    assert handled == [(payment_id, PENDING, SUCCEEDED)]
    [row] = db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.type == "charge.refunded")).all()
    assert row.outcome == "partial refund: not applied, settle it by hand"

    # The rest is refunded later: now it is refunded in full.
    full = stripe_standin.refunded_event(session_id)
    response = webhook(full)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, full) == "refunded"
    assert payment_now(db, payment_id).status is REFUNDED
    assert handled == [(payment_id, PENDING, SUCCEEDED), (payment_id, SUCCEEDED, REFUNDED)]


def test_a_bank_debit_that_fails_then_succeeds_ends_received(db, stripe_standin, checkout, webhook, handled):
    payment_id, session_id = checkout(2500)
    unpaid = stripe_standin.completed_event(session_id, payment_status="unpaid")
    response = webhook(unpaid)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, unpaid) == "noted: nothing to do yet"
    payment = payment_now(db, payment_id)
    assert payment.status is PENDING
    assert payment.payment_reference == stripe_standin.session(session_id)["payment_intent"]

    failed = stripe_standin.async_failed_event(session_id)
    assert webhook(failed).text == "Received."
    assert applied(db, failed) == "failed"
    payment = payment_now(db, payment_id)
    assert payment.status is FAILED and payment.failure_reason == "The payment did not complete."

    succeeded = stripe_standin.async_succeeded_event(session_id)
    assert webhook(succeeded).text == "Received."
    assert applied(db, succeeded) == "succeeded"
    payment = payment_now(db, payment_id)
    assert payment.status is SUCCEEDED and payment.failure_reason is None
    assert handled == [(payment_id, PENDING, FAILED), (payment_id, FAILED, SUCCEEDED)]


def test_an_expired_checkout_fails_the_payment(db, stripe_standin, checkout, webhook, handled):
    payment_id, session_id = checkout(2500)
    expired = stripe_standin.expired_event(session_id)
    response = webhook(expired)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, expired) == "failed"
    payment = payment_now(db, payment_id)
    assert payment.status is FAILED and payment.failure_reason == "checkout expired"
    assert handled == [(payment_id, PENDING, FAILED)]


def test_expiry_heard_after_the_payment_leaves_it_received(db, stripe_standin, checkout, webhook, handled):
    payment_id, session_id = checkout(2500)
    completed = stripe_standin.completed_event(session_id)
    expired = stripe_standin.event("checkout.session.expired", completed["data"]["object"])
    webhook(completed)

    response = webhook(expired)
    assert (response.status_code, response.text) == RECEIVED
    assert applied(db, expired) == "already succeeded"
    assert payment_now(db, payment_id).status is SUCCEEDED
    assert handled == [(payment_id, PENDING, SUCCEEDED)]


# --- what is kept ---------------------------------------------------------------------------------------------


def test_only_ids_and_what_the_event_said_are_kept_never_the_payers_details(
    db, stripe_standin, checkout, webhook
):
    payment_id, session_id = checkout(2500)
    events = [stripe_standin.completed_event(session_id), stripe_standin.refunded_event(session_id)]
    for event in events:
        assert webhook(event).status_code == 200
    db.session.rollback()

    columns = {c.name for c in PaymentEvent.__table__.columns}
    assert columns == {
        "id", "provider", "event_id", "type", "payment_id", "reported", "detail", "payment_reference", "status",
        "outcome", "received_at", "applied_at",
    }  # fmt: skip
    rows = db.session.execute(sa.select(PaymentEvent.__table__).order_by(PaymentEvent.id)).mappings().all()
    intent = stripe_standin.session(session_id)["payment_intent"]
    SUCCEEDED_REPORTED = providers.Outcome.SUCCEEDED  # noqa: N806
    assert [
        (r["event_id"], r["type"], r["payment_id"], r["reported"], r["payment_reference"], r["outcome"])
        for r in rows
    ] == [
        (events[0]["id"], "checkout.session.completed", payment_id, SUCCEEDED_REPORTED, intent, "succeeded"),
        (events[1]["id"], "charge.refunded", payment_id, providers.Outcome.REFUNDED, intent, "refunded"),
    ]
    payment_row = db.session.execute(sa.select(Payment.__table__)).mappings().one()
    kept = [v for r in [*rows, payment_row] for v in r.values() if isinstance(v, str)]
    for value in kept:
        assert "{" not in value, f"a payload was kept: {value}"
        for detail in (CUSTOMER_EMAIL, CUSTOMER_NAME, CARD_LAST4, CARD_FINGERPRINT, "payment_method"):
            assert detail not in value, f"{detail!r} was kept in {value!r}"
