"""Opening a Stripe Checkout for a payment, against the local stand-in for Stripe's API."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from foundation.payments import service
from foundation.payments.models import Payment, PaymentEvent, PaymentStatus
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.payments.conftest import CANCEL_URL, STRIPE_WEBHOOK, SUCCESS_URL
from tests.payments.stripe_standin import SECRET_KEY

UNAVAILABLE = "Card payments are not available just now. Nothing has been taken; please try again later."


def sessions_posted(standin):
    return standin.api_requests("POST", "/v1/checkout/sessions")


def test_the_checkout_asks_stripe_for_the_amount_in_pence_with_our_payment_named(
    db, stripe_standin, new_payment, handled
):
    payment = new_payment(1234, "Residential weekend, Braeside")
    url = service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, "parent@example.org")
    db.session.commit()

    [sent] = sessions_posted(stripe_standin)
    assert sent.authorization == f"Bearer {SECRET_KEY}"
    assert sent.idempotency_key == f"wypf-payment-{payment.id}"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    params = sent.params
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "gbp",
                "unit_amount": "1234",
                "product_data": {"name": "Residential weekend, Braeside"},
            },
        }
    ]
    ours = {"payment_id": str(payment.id), "purpose": f"test-order:{payment.purpose_id}"}
    assert params["metadata"] == ours
    assert params["payment_intent_data"]["metadata"] == ours, "refund events carry the intent's metadata"
    assert params["client_reference_id"] == str(payment.id)
    assert params["customer_email"] == "parent@example.org"
    assert (params["success_url"], params["cancel_url"]) == (SUCCESS_URL, CANCEL_URL)

    session = stripe_standin.session(payment.checkout_reference)
    assert session["amount_total"] == 1234 and session["currency"] == "gbp"
    payment = db.session.get(Payment, payment.id)
    assert payment.provider == "stripe" and payment.status is PaymentStatus.PENDING
    assert payment.checkout_reference == session["id"] and session["id"].startswith("cs_test_")
    assert url == payment.checkout_url == f"{stripe_standin.url}/pay/{session['id']}"
    assert payment.payment_reference is None and payment.settled_at is None
    assert handled == []


def test_without_an_email_none_is_sent(db, stripe_standin, new_payment):
    payment = new_payment(500)
    service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    [sent] = sessions_posted(stripe_standin)
    assert "customer_email" not in sent.params


def test_opening_the_checkout_again_gives_the_same_session(db, stripe_standin, new_payment):
    """A payer who clicks "Pay" twice is sent to one checkout: the idempotency key makes Stripe answer the
    second request with the first session."""
    payment = new_payment(2500)
    first = service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    reference = payment.checkout_reference
    second = service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    db.session.commit()

    assert first == second and payment.checkout_reference == reference
    posted = sessions_posted(stripe_standin)
    assert [r.idempotency_key for r in posted] == [f"wypf-payment-{payment.id}"] * 2
    assert [r.status for r in posted] == [200, 200]


def test_a_passing_fault_at_stripe_is_retried_with_the_same_key(db, stripe_standin, new_payment):
    payment = new_payment(2500)
    stripe_standin.fail_next(500, count=1)
    url = service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    db.session.commit()

    posted = sessions_posted(stripe_standin)
    assert [r.status for r in posted] == [500, 200]
    assert {r.idempotency_key for r in posted} == {f"wypf-payment-{payment.id}"}
    assert url is not None and db.session.get(Payment, payment.id).status is PaymentStatus.PENDING


def _assert_failed_and_nothing_else(db, payment_id, handled):
    payment = db.session.get(Payment, payment_id)
    assert payment.status is PaymentStatus.FAILED and payment.status.label == "Not completed"
    assert payment.failure_reason == "The card payment page could not be opened."
    assert payment.settled_at is not None
    assert payment.checkout_reference is None and payment.checkout_url is None
    assert payment.payment_reference is None and payment.fee_pence == 0
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PaymentEvent.id))) == 0
    # The capability hears of it from the exception, at once; there is no state change for its handler.
    assert handled == []


def test_stripe_answering_500_tells_the_payer_nothing_was_taken(db, stripe_standin, new_payment, handled):
    payment = new_payment(2500)
    stripe_standin.fail_next(500, count=None)
    with pytest.raises(service.PaymentUnavailable) as exc:
        service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    assert exc.value.message == UNAVAILABLE
    db.session.commit()

    posted = sessions_posted(stripe_standin)
    assert len(posted) == 3, "the first try and stripe-python's two retries"
    assert {r.idempotency_key for r in posted} == {f"wypf-payment-{payment.id}"}
    _assert_failed_and_nothing_else(db, payment.id, handled)


def test_stripe_unreachable_tells_the_payer_nothing_was_taken(db, stripe_standin, new_payment, handled):
    payment = new_payment(2500)
    stripe_standin.stop()
    with pytest.raises(service.PaymentUnavailable) as exc:
        service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    assert exc.value.message == UNAVAILABLE
    db.session.commit()
    _assert_failed_and_nothing_else(db, payment.id, handled)


def test_a_wrong_secret_key_tells_the_payer_nothing_was_taken(app, db, stripe_standin, new_payment, handled):
    app.config["STRIPE_SECRET_KEY"] = "sk_test_revoked"
    payment = new_payment(2500)
    with pytest.raises(service.PaymentUnavailable):
        service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    db.session.commit()
    assert [r.status for r in sessions_posted(stripe_standin)] == [401], "no retry of a refused key"
    _assert_failed_and_nothing_else(db, payment.id, handled)


def test_a_payment_started_offline_is_not_sent_to_stripe(db, stripe_standin, new_payment, handled):
    payment = new_payment(2500)
    payment.provider = "offline"  # started before the keys were set
    db.session.commit()
    with pytest.raises(service.PaymentUnavailable) as exc:
        service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, None)
    assert "no longer set up" in exc.value.message
    db.session.commit()
    assert stripe_standin.requests == []
    payment = db.session.get(Payment, payment.id)
    assert payment.status is PaymentStatus.PENDING and payment.checkout_reference is None
    assert handled == []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as the answer


def test_the_standin_checkout_page_shows_the_amount_and_a_pay_button(db, stripe_standin, checkout):
    _, session_id = checkout(1250, "Holiday club place")
    with urllib.request.urlopen(f"{stripe_standin.url}/pay/{session_id}", timeout=10) as resp:
        page = resp.read().decode()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in page and "<main>" in page
    assert "<h1>Pay £12.50</h1>" in page and "Holiday club place" in page
    assert '<button type="submit" id="pay">Pay £12.50</button>' in page
    assert f'href="{CANCEL_URL}"' in page


def test_paying_on_the_checkout_page_settles_the_payment_through_the_webhook(
    db,
    stripe_standin,
    checkout,
    live_server,  # noqa: F811
    handled,
):
    payment_id, session_id = checkout(2500)
    stripe_standin.webhook_url = live_server(STRIPE_WEBHOOK)

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(f"{stripe_standin.url}/pay/{session_id}", data=b"", method="POST")
    try:
        opener.open(request, timeout=30)
        raise AssertionError("the pay page answers with a redirect")
    except urllib.error.HTTPError as err:
        assert err.code == 303
        assert err.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session_id)

    [delivery] = stripe_standin.deliveries
    assert (delivery.status, delivery.body) == (200, "Received.")
    db.session.rollback()
    payment = db.session.get(Payment, payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.payment_reference == stripe_standin.session(session_id)["payment_intent"]
    assert handled == [(payment_id, PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)]
