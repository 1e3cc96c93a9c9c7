"""A real `celery -A make_celery worker`, through Redis, behind the Stripe webhook: the web process only stores
each event and answers; the worker counts the gifts, reads Stripe's fees from the stand-in and writes the receipts.
An event whose wake-up never reached the broker is applied by the next run, so nothing stored is lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising import donations
from foundation.fundraising.models import Donation, DonationStatus
from foundation.ledger import service as ledger
from foundation.payments import tasks
from foundation.payments.models import EventStatus, Payment, PaymentEvent
from tests.fundraising.support import gift, live_campaign
from tests.notifications.celery_support import CeleryProcesses, forget_queue, require_shared_redis, wait_until
from tests.payments.stripe_standin import StripeStandIn, fee_for, stripe_settings

pytestmark = [pytest.mark.celery_worker, pytest.mark.usefixtures("request_context")]
WEBHOOK = "/payments/webhooks/stripe"


@pytest.fixture
def queue() -> str:
    return f"wypf-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config(app_config: dict, stripe_standin: StripeStandIn, queue: str) -> dict:
    return {
        **stripe_settings(app_config, stripe_standin),
        "CELERY_BROKER_URL": require_shared_redis(),
        "CELERY_TASK_QUEUE": queue,
    }


@pytest.fixture
def worker(app, app_config: dict, tmp_path: Path) -> Iterator[CeleryProcesses]:
    """`celery -A make_celery worker` on the test database, broker and queue, talking to the Stripe stand-in."""
    cfg = app_config
    env = {
        "FOUNDATION_CONFIG": "default",
        "SECRET_KEY": cfg["SECRET_KEY"],
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": cfg["CELERY_BROKER_URL"],
        "CELERY_TASK_QUEUE": cfg["CELERY_TASK_QUEUE"],
        "STRIPE_SECRET_KEY": cfg["STRIPE_SECRET_KEY"],
        "STRIPE_WEBHOOK_SECRET": cfg["STRIPE_WEBHOOK_SECRET"],
        "STRIPE_API_BASE": cfg["STRIPE_API_BASE"],
        "MAIL_FOLDER": cfg["MAIL_FOLDER"],
        "UPLOAD_FOLDER": cfg["UPLOAD_FOLDER"],
        "BASE_URL": cfg["BASE_URL"],
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    logs = tmp_path / "celery"
    logs.mkdir()
    procs = CeleryProcesses(env, logs)
    try:
        yield procs
    finally:
        procs.stop()
        app.extensions["celery"].close()
        forget_queue(cfg["CELERY_BROKER_URL"], cfg["CELERY_TASK_QUEUE"])


def deliver(client, standin: StripeStandIn, event: dict) -> tuple[int, str]:
    body, signature = standin.signed(event)
    response = client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    )
    return response.status_code, response.get_data(as_text=True)


def receipts(mailbox) -> list:
    return [m for m in mailbox.messages() if m["Subject"].startswith("Thank you for your donation")]


def settled(ids: list[int]) -> bool:
    db.session.rollback()  # a fresh read: the worker writes from another process
    done = db.session.scalar(
        sa.select(sa.func.count(Donation.id))
        .join(Payment, Payment.id == Donation.payment_id)
        .where(
            Donation.id.in_(ids),
            Donation.status == DonationStatus.SUCCEEDED,
            Payment.fee_recorded_at.is_not(None),
        )
    )
    return done == len(ids)


def test_the_worker_applies_what_the_endpoint_stored_including_a_lost_wake_up(
    app, client, lead, staff, stripe_standin, worker, queue, monkeypatch, mailbox
):
    campaign = live_campaign(lead, staff)
    given = [gift(campaign, 1_000 * (n + 1), email=f"donor{n}@example.com") for n in range(3)]
    db.session.commit()
    events = [stripe_standin.completed_event(d.payment.checkout_reference) for d in given]

    # The first event's wake-up never reaches the broker (it fails as the web process hands it over).
    wake = app.extensions["celery"].tasks[tasks.apply_events.name]
    monkeypatch.setattr(wake, "delay", lambda ids: (_ for _ in ()).throw(ConnectionError("broker down")))
    assert deliver(client, stripe_standin, events[0]) == (200, "Received.")
    monkeypatch.undo()
    for event in [events[1], events[2], events[1]]:
        deliver(client, stripe_standin, event)
    db.session.rollback()
    assert set(db.session.scalars(sa.select(PaymentEvent.status))) == {EventStatus.RECEIVED}
    assert all(d.status is DonationStatus.PENDING for d in db.session.scalars(sa.select(Donation)))

    worker.worker(queue)
    ids = [d.id for d in given]
    try:
        wait_until(lambda: settled(ids), 30, "the worker to count every gift and record every fee")
        wait_until(lambda: len(receipts(mailbox)) == 3, 15, "the worker to write every receipt")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.logs()}") from exc

    db.session.rollback()
    outcomes = db.session.execute(sa.select(PaymentEvent.status, PaymentEvent.outcome)).all()
    assert sorted(outcomes) == [(EventStatus.APPLIED, "succeeded")] * 3
    assert sorted(m["To"] for m in receipts(mailbox)) == [
        "donor0@example.com",
        "donor1@example.com",
        "donor2@example.com",
    ]
    assert donations.raised([campaign.id]) == donations.counted([campaign.id])
    fees = sum(fee_for(d.amount_pence) for d in given)
    assert ledger.balances([campaign.account_code, "fees"]) == {
        campaign.account_code: 6_000 - fees,
        "fees": fees,
    }
    assert ledger.check_balanced() == [] and ledger.totals_disagree() == []
