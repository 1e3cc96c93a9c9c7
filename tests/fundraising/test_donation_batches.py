"""Card payments settled by the worker in one batch: every donation, the campaign's totals and its match pledges'
sums, the ledger, Gift Aid and the receipts come out as they would one payment at a time, with each campaign's
totals written once and the same statements for a few gifts as for many.

The worker's wake-up is cut so the events pile up stored, as they do while a worker is busy; the test then runs
the worker's task itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising import claims, donations, match
from foundation.fundraising.models import Donation, DonationStatus, MatchPledge
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from foundation.payments import service as payments
from foundation.payments import tasks
from foundation.payments.models import EventStatus, PaymentEvent
from foundation.types import london_today
from tests.fundraising.factories import make_pledge
from tests.fundraising.support import gift, live_campaign
from tests.payments.stripe_standin import StripeStandIn, fee_for, stripe_settings

pytestmark = pytest.mark.usefixtures("request_context")
WEBHOOK = "/payments/webhooks/stripe"


@pytest.fixture
def app_config(app_config: dict, stripe_standin: StripeStandIn) -> dict:
    return stripe_settings(app_config, stripe_standin)


@pytest.fixture
def wake_lost(app, monkeypatch) -> None:
    """The broker refuses every wake-up of the worker, so stored events wait for `tasks.apply_all()`."""

    def refuse(ids: list[int]) -> None:
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(app.extensions["celery"].tasks[tasks.apply_events.name], "delay", refuse)


def deliver(client, standin: StripeStandIn, event: dict) -> None:
    body, signature = standin.signed(event)
    response = client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    )
    assert (response.status_code, response.get_data(as_text=True)) == (200, "Received.")


def session_of(donation: Donation) -> str:
    assert donation.payment is not None and donation.payment.checkout_reference is not None
    return donation.payment.checkout_reference


def receipts_to(email: str) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.email_to == email))
        or 0
    )


def test_a_batch_of_gifts_and_refunds_counts_each_once(client, lead, staff, stripe_standin, wake_lost):
    campaign = live_campaign(lead, staff)
    tomorrow = london_today() + timedelta(days=1)
    running = make_pledge(campaign, by=staff)  # its window is the campaign's: today's gifts are within it
    later = make_pledge(campaign, window=(tomorrow, campaign.ends_on), funder_name="Later Trust", by=staff)
    claimed = gift(campaign, 10_000, email="claimed@example.com", gift_aid=True)
    gifts = [
        gift(campaign, 1_000 * (n + 1), email=f"donor{n}@example.com", gift_aid=n % 2 == 0) for n in range(4)
    ]
    declared_since = gift(campaign, 2_000, email="later@example.com")  # no declaration when giving
    db.session.commit()
    # One gift was received, and claimed from HMRC, before the batch.
    deliver(client, stripe_standin, stripe_standin.completed_event(session_of(claimed)))
    assert tasks.apply_all() == 1
    claims.create([claimed.id], staff)
    # Its donor declares Gift Aid with another gift (not paid yet) before the first one's payment is heard of.
    gift(campaign, 500, email="later@example.com", gift_aid=True)
    db.session.commit()

    batch = [
        *(stripe_standin.completed_event(session_of(d)) for d in gifts),
        stripe_standin.completed_event(session_of(declared_since)),
        stripe_standin.refunded_event(session_of(gifts[1])),  # given and refunded in the same batch
        stripe_standin.refunded_event(session_of(claimed)),  # refunded after HMRC paid on it
        stripe_standin.completed_event(session_of(gifts[0])),  # another event saying the same again
    ]
    for event in batch:
        deliver(client, stripe_standin, event)
    assert tasks.apply_all() == len(batch)
    db.session.expire_all()

    outcomes = db.session.scalars(sa.select(PaymentEvent.outcome).order_by(PaymentEvent.id)).all()
    assert outcomes == ["succeeded"] * 6 + ["refunded", "refunded", "already succeeded"]
    statuses = {d.id: d.status for d in [claimed, *gifts, declared_since]}
    assert statuses == {
        claimed.id: DonationStatus.REFUNDED,
        gifts[0].id: DonationStatus.SUCCEEDED,
        gifts[1].id: DonationStatus.REFUNDED,
        gifts[2].id: DonationStatus.SUCCEEDED,
        gifts[3].id: DonationStatus.SUCCEEDED,
        declared_since.id: DonationStatus.SUCCEEDED,
    }
    assert declared_since.declaration is not None, "the declaration made since covers the gift"
    assert claimed.needs_adjustment and not gifts[1].needs_adjustment

    # The kept totals equal the donations counted again, and the match pledges' sums those worked out again.
    assert donations.raised([campaign.id]) == donations.counted([campaign.id])
    received = 1_000 + 3_000 + 4_000 + 2_000
    assert (campaign.donations_pence, campaign.supporters) == (received, 4)
    assert campaign.gift_aid_eligible_pence == 1_000 + 3_000 + 2_000
    for pledge in db.session.scalars(sa.select(MatchPledge).order_by(MatchPledge.id)):
        assert (pledge.before_pence, pledge.within_pence) == match._received_around(
            campaign, pledge.window_starts_at, pledge.window_ends_at
        )
    assert (running.within_pence, later.before_pence) == (received, received)

    # One movement per gift and per refund, every fee once, and a ledger that balances.
    kinds = db.session.execute(
        sa.select(LedgerTransaction.kind, sa.func.count()).group_by(LedgerTransaction.kind)
    ).all()
    assert dict(kinds) == {
        TransactionKind.DONATION: 6,
        TransactionKind.REFUND: 2,
        TransactionKind.PROVIDER_FEE: 6,
    }
    fees = sum(fee_for(d.amount_pence) for d in [claimed, *gifts, declared_since])
    assert ledger.balances([campaign.account_code, "fees"]) == {
        campaign.account_code: received - fees,
        "fees": fees,
    }
    assert ledger.check_balanced() == [] and ledger.totals_disagree() == []
    # A receipt per gift received, sent once.
    assert [receipts_to(d.donor_email) for d in [claimed, *gifts, declared_since]] == [1, 1, 1, 1, 1, 1]


@pytest.mark.postgres_only  # SQLite hands back new rows' ids one INSERT at a time: one per receipt and movement
def test_a_batch_takes_the_same_statements_for_two_gifts_or_eight(
    client, lead, staff, stripe_standin, wake_lost
):
    campaign = live_campaign(lead, staff)
    make_pledge(campaign, by=staff)
    db.session.commit()
    ran: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        ran.append(statement)

    def apply_batch_of(count: int) -> int:
        given = [
            gift(campaign, 1_500, email=f"batch{count}-{n}@example.com", gift_aid=n == 0)
            for n in range(count)
        ]
        db.session.commit()
        for donation in given:
            deliver(client, stripe_standin, stripe_standin.completed_event(session_of(donation)))
        ran.clear()
        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert payments.apply_next_batch() == count
            db.session.flush()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)
        db.session.commit()
        return len(ran)

    apply_batch_of(1)  # the first gift opens the campaign's account in the ledger
    assert apply_batch_of(2) == apply_batch_of(8) <= 20
    applied = sa.select(sa.func.count(PaymentEvent.id)).where(PaymentEvent.status == EventStatus.APPLIED)
    assert db.session.scalar(applied) == 11
    assert donations.raised([campaign.id]) == donations.counted([campaign.id])
