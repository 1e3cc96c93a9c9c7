"""Donations through Stripe Checkout, against the local stand-in for Stripe's API: the donor is sent to the checkout,
the gift counts only when the signed webhook says it was paid (never from the page the donor returns to), Stripe's
fee is its own movement, and a refund reverses the gift. Ten deliveries of one event at once count it once.

The endpoint stores each event and answers "Received."; the worker applies it after the commit (in-process here,
as there is no broker), so what the donor and staff would see has changed by the time the answer arrives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising.models import Donation, DonationStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from foundation.payments.models import PaymentEvent
from tests.fundraising.support import live_campaign
from tests.payments.stripe_standin import (
    StripeStandIn,
    fee_for,
    stripe_settings,
)

pytestmark = pytest.mark.usefixtures("request_context")
WEBHOOK = "/payments/webhooks/stripe"


@pytest.fixture
def app_config(app_config: dict, stripe_standin: StripeStandIn) -> dict:
    return stripe_settings(app_config, stripe_standin)


def deliver(client, stripe_standin: StripeStandIn, event: dict) -> tuple[int, str]:
    body, signature = stripe_standin.signed(event)
    response = client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    )
    return response.status_code, response.get_data(as_text=True)


def outcome(event: dict) -> str:
    """What applying the event did, as stored with it."""
    db.session.rollback()
    return db.session.scalars(
        sa.select(PaymentEvent.outcome).where(PaymentEvent.event_id == event["id"])
    ).one()


def give(client, campaign) -> tuple[Donation, str]:
    response = client.post(
        f"/campaigns/{campaign.slug}/donate",
        data={"amount_choice": "other", "amount": "25", "name": "Ada Donor", "email": "ada@example.com"},
    )
    assert response.status_code == 303
    donation = db.session.scalars(sa.select(Donation)).one()
    return donation, response.headers["Location"]


def test_a_card_gift_counts_only_when_the_webhook_says_it_was_paid(client, lead, staff, stripe_standin):
    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, checkout_url = give(client, campaign)
    assert checkout_url.startswith(stripe_standin.url + "/pay/")
    session_id = donation.payment.checkout_reference
    sent = stripe_standin.api_requests("POST", "/v1/checkout/sessions")[0]
    assert sent.idempotency_key == f"wypf-payment-{donation.payment_id}"
    assert stripe_standin.session(session_id)["amount_total"] == 2_500

    # The donor comes back to the thank-you page before Stripe's event: nothing counts yet.
    thanks_url = stripe_standin.session(session_id)["success_url"]
    page = client.get(thanks_url.replace("http://localhost", "")).get_data(as_text=True)
    assert "waiting for the payment provider" in page
    db.session.expire_all()
    assert (
        donation.status is DonationStatus.PENDING
        and ledger.balances([campaign.account_code])[campaign.account_code] == 0
    )

    completed = stripe_standin.completed_event(session_id)
    assert deliver(client, stripe_standin, completed) == (200, "Received.")
    assert outcome(completed) == "succeeded"
    db.session.expire_all()
    assert donation.status is DonationStatus.SUCCEEDED
    fee = fee_for(2_500)
    assert ledger.balances([campaign.account_code, "fees"]) == {
        campaign.account_code: 2_500 - fee,
        "fees": fee,
    }
    receipt = db.session.scalars(
        sa.select(Notification).where(Notification.email_to == "ada@example.com")
    ).one()
    assert "£25" in receipt.body_text
    # Stripe retries: the same event again changes nothing
    assert deliver(client, stripe_standin, completed) == (200, "Already received.")
    # Another event saying the same (a later delivery of the payment) changes nothing either.
    assert deliver(client, stripe_standin, stripe_standin.completed_event(session_id)) == (200, "Received.")
    db.session.expire_all()
    assert campaign.donations_pence == 2_500 and campaign.supporters == 1
    assert ledger.balances([campaign.account_code])[campaign.account_code] == 2_500 - fee
    receipts = sa.select(sa.func.count(Notification.id)).where(Notification.email_to == "ada@example.com")
    assert db.session.scalar(receipts) == 1


def test_a_refund_reverses_the_gift_but_not_stripes_fee(client, lead, staff, stripe_standin):
    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, _ = give(client, campaign)
    session_id = donation.payment.checkout_reference
    deliver(client, stripe_standin, stripe_standin.completed_event(session_id))
    refunded = stripe_standin.refunded_event(session_id)
    assert deliver(client, stripe_standin, refunded) == (200, "Received.")
    assert outcome(refunded) == "refunded"
    db.session.expire_all()
    assert donation.status is DonationStatus.REFUNDED
    assert (campaign.donations_pence, campaign.supporters) == (0, 0)
    fee = fee_for(2_500)
    assert ledger.balances([campaign.account_code])[campaign.account_code] == -fee
    totals = ledger.totals_by_kind()
    assert totals[TransactionKind.DONATION] == totals[TransactionKind.REFUND] == 2_500
    assert ledger.check_balanced() == []


def test_a_refund_heard_before_the_payment_leaves_nothing_counted(client, lead, staff, stripe_standin):
    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, _ = give(client, campaign)
    session_id = donation.payment.checkout_reference
    assert deliver(client, stripe_standin, stripe_standin.refunded_event(session_id)) == (200, "Received.")
    completed = stripe_standin.completed_event(session_id)
    assert deliver(client, stripe_standin, completed) == (200, "Received.")
    assert outcome(completed) == "already refunded"
    db.session.expire_all()
    assert donation.status is DonationStatus.REFUNDED
    assert db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id))) == 0


@pytest.mark.postgres_only
def test_one_event_ten_times_at_once_is_one_donation_and_one_ledger_movement(
    app, client, lead, staff, stripe_standin
):
    from tests.venues.test_concurrency import all_at_once

    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, _ = give(client, campaign)
    event = stripe_standin.completed_event(donation.payment.checkout_reference)
    body, signature = stripe_standin.signed(event)

    def post():
        response = app.test_client().post(WEBHOOK, data=body, headers={"Stripe-Signature": signature},
                                           content_type="application/json")  # fmt: skip
        return response.status_code, response.get_data(as_text=True)

    results = all_at_once([post] * 10)
    assert sorted(results) == sorted([(200, "Received.")] + [(200, "Already received.")] * 9)
    assert outcome(event) == "succeeded"
    db.session.expire_all()
    donations_posted = db.session.scalar(
        sa.select(sa.func.count(LedgerTransaction.id)).where(
            LedgerTransaction.kind == TransactionKind.DONATION
        )
    )
    assert donations_posted == 1 and donation.status is DonationStatus.SUCCEEDED
    assert ledger.totals_disagree() == []
    receipts = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.email_to == "ada@example.com")
    )
    assert receipts == 1


def test_stripes_fee_is_read_after_the_gift_counts_and_comes_from_the_fund_once_the_campaign_has_closed(
    client, lead, staff, stripe_standin
):
    """The webhook counts the gift without waiting for Stripe's fee; when the fee is settled after the campaign
    closed (its money already passed on to the fund), the fee comes out of the fund, and the fund still balances."""
    from foundation.fundraising import campaigns
    from foundation.payments import service as payments

    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, _ = give(client, campaign)
    stripe_standin.hold_fees(True)
    completed = stripe_standin.completed_event(donation.payment.checkout_reference)
    assert deliver(client, stripe_standin, completed) == (200, "Received.")
    assert outcome(completed) == "succeeded"
    db.session.expire_all()
    assert donation.status is DonationStatus.SUCCEEDED and donation.payment.fee_recorded_at is None
    assert ledger.balances([campaign.account_code, "fees"]) == {campaign.account_code: 2_500, "fees": 0}

    fund_before = ledger.balances([ledger.FUND])[ledger.FUND]
    campaigns.close(campaign, staff)
    db.session.commit()
    assert ledger.balances([campaign.account_code])[campaign.account_code] == 0

    stripe_standin.hold_fees(False)
    fee = fee_for(2_500)
    assert payments.record_fee(donation.payment_id) == f"fee {fee}"
    db.session.commit()
    assert payments.record_fee(donation.payment_id) == "already recorded"
    assert ledger.balances([campaign.account_code, "fees", ledger.FUND]) == {
        campaign.account_code: 0,
        "fees": fee,
        ledger.FUND: fund_before + 2_500 - fee,
    }
    assert ledger.check_balanced() == [] and ledger.totals_disagree() == []


@pytest.mark.postgres_only
def test_one_fee_read_five_times_at_once_is_one_fee_movement(app, client, lead, staff, stripe_standin):
    from foundation.payments import service as payments
    from tests.venues.test_concurrency import all_at_once

    campaign = live_campaign(lead, staff)
    db.session.commit()
    donation, _ = give(client, campaign)
    stripe_standin.hold_fees(True)
    deliver(client, stripe_standin, stripe_standin.completed_event(donation.payment.checkout_reference))
    stripe_standin.hold_fees(False)
    payment_id = donation.payment_id

    def read() -> str:
        with app.app_context():
            done = payments.record_fee(payment_id)
            db.session.commit()
            return done

    results = all_at_once([read] * 5)
    assert sorted(results) == sorted([f"fee {fee_for(2_500)}"] + ["already recorded"] * 4)
    db.session.expire_all()
    fees_posted = db.session.scalar(
        sa.select(sa.func.count(LedgerTransaction.id)).where(
            LedgerTransaction.kind == TransactionKind.PROVIDER_FEE
        )
    )
    assert fees_posted == 1 and ledger.totals_disagree() == []
