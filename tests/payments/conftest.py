"""Fixtures for payments: the Stripe stand-in, an app that talks to it, and a purpose whose handler records calls.

A test that uses `stripe_standin` gets an app configured for Stripe (secret key, webhook secret, API base at the
stand-in); any other test gets the default settings, where the keys are unset and the offline provider is used.

Payments here are for the purpose "test-order": its handler keeps each call (payment id, old state, new state) in
`handled`, emptied before every test, so what a capability would hear can be asserted without one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from foundation.extensions import db as _db
from foundation.payments import service
from foundation.payments.models import Payment, PaymentEvent, PaymentStatus
from tests.payments.stripe_standin import (
    StripeStandIn,
    sign,
    stripe_settings,
)

PURPOSE = "test-order"
STRIPE_WEBHOOK = "/payments/webhooks/stripe"
SUCCESS_URL = "http://127.0.0.1:5000/orders/thanks?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:5000/orders/cancelled"

Call = tuple[int, PaymentStatus, PaymentStatus]
_HANDLED: list[Call] = []
_orders = itertools.count(1)


def _record(changes: Sequence[service.PaymentChange]) -> None:
    _HANDLED.extend((c.payment_id, c.old, c.new) for c in changes)


# Once per process: the registry refuses a second handler for a purpose.
if PURPOSE not in service.HANDLERS:
    service.on_change(PURPOSE)(_record)


@pytest.fixture(autouse=True)
def handled() -> Iterator[list[Call]]:
    """Each call of the test purpose's handler, in order: (payment id, old state, new state)."""
    _HANDLED.clear()
    yield _HANDLED
    _HANDLED.clear()


@pytest.fixture
def app_config(app_config: dict, request: pytest.FixtureRequest) -> dict:
    if "stripe_standin" not in request.fixturenames:
        return app_config
    return stripe_settings(app_config, request.getfixturevalue("stripe_standin"))


def _new_payment(amount_pence: int = 2500, description: str = "Summer camp place") -> Payment:
    return service.start((PURPOSE, next(_orders)), amount_pence, description)


@pytest.fixture
def new_payment(app: Any) -> Callable[..., Payment]:
    """Start a pending payment for a fresh test order with the configured provider (flushed, not committed)."""
    return _new_payment


@pytest.fixture
def checkout(app: Any, stripe_standin: StripeStandIn) -> Callable[..., tuple[int, str]]:
    """Open a Stripe checkout for a new payment and commit: (our payment id, the stand-in's session id)."""

    def open_one(amount_pence: int = 2500, description: str = "Summer camp place") -> tuple[int, str]:
        payment = _new_payment(amount_pence, description)
        service.open_checkout(payment, SUCCESS_URL, CANCEL_URL, "parent@example.org")
        _db.session.commit()
        assert payment.checkout_reference is not None
        return payment.id, payment.checkout_reference

    return open_one


_SIGNED = object()


@pytest.fixture
def webhook(client: FlaskClient, stripe_standin: StripeStandIn) -> Callable[..., TestResponse]:
    """POST an event to the app's Stripe endpoint as Stripe would: the JSON body, signed now (or at `timestamp`),
    unless `signature` gives the header to send (None: no header)."""

    def post(
        event: dict[str, Any] | bytes,
        signature: Any = _SIGNED,
        timestamp: int | None = None,
        path: str = STRIPE_WEBHOOK,
    ) -> TestResponse:
        if isinstance(event, bytes):
            body = event
            header = sign(body, stripe_standin.webhook_secret, timestamp)
        else:
            body, header = stripe_standin.signed(event, timestamp)
        if signature is not _SIGNED:
            header = signature
        headers = {"Stripe-Signature": header} if header is not None else {}
        return client.post(path, data=body, headers=headers, content_type="application/json; charset=utf-8")

    return post


@pytest.fixture
def stored(db: Any) -> Callable[[], tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Every row of the payment and payment_event tables, as plain tuples: compare before and after to show that
    nothing was written."""

    def read() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        _db.session.rollback()  # what is committed, not what this session holds
        payments = _db.session.execute(sa.select(Payment.__table__).order_by(Payment.id)).all()
        events = _db.session.execute(sa.select(PaymentEvent.__table__).order_by(PaymentEvent.id)).all()
        return [tuple(r) for r in payments], [tuple(r) for r in events]

    return read
