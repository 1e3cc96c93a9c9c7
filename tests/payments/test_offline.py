"""The offline provider: a payment is a pledge until staff record the money received (bank transfer, cheque, cash).

These run with the default settings (no Stripe keys), except where a Stripe payment is needed to show what staff
may not do to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError
from foundation.payments import service
from foundation.payments.models import Payment, PaymentEvent, PaymentStatus, ReceivedBy
from foundation.privacy import export_user_data
from foundation.types import london_today
from tests.factories import make_user

PENDING, SUCCEEDED, FAILED, REFUNDED = (
    PaymentStatus.PENDING,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)


@pytest.fixture
def staff(db):
    return make_user(email="finance@wypf.org.uk", name="Fran Finance", staff=True)


@pytest.fixture
def pledge(db, new_payment):
    """A pledge of £25.00 whose checkout was opened (offline: nothing to pay online), committed."""
    payment = new_payment(2500, "Donation to the summer fund")
    assert service.open_checkout(payment, "http://x/ok", "http://x/no", None) is None
    db.session.commit()
    return payment


def test_an_offline_payment_is_a_pledge_with_no_page_to_pay_on(db, new_payment, handled):
    payment = new_payment(1250, "Holiday club place")
    url = service.open_checkout(payment, "http://x/ok", "http://x/no", "parent@example.org")
    db.session.commit()

    assert url is None
    payment = db.session.get(Payment, payment.id)
    assert payment.provider == "offline"
    assert payment.status is PENDING and payment.status.label == "Waiting for payment"
    assert payment.amount_pence == 1250 and payment.currency == "gbp" and payment.fee_pence == 0
    assert payment.checkout_reference == f"offline-{payment.id}" and payment.checkout_url is None
    assert payment.settled_at is None and payment.received_on is None
    assert handled == []


@pytest.mark.parametrize("amount", [0, -100])
def test_nothing_is_asked_for_a_zero_or_negative_amount(db, new_payment, amount):
    with pytest.raises(DomainError) as exc:
        new_payment(amount)
    assert exc.value.field == "amount"
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_staff_record_the_money_received_once(db, pledge, staff, handled):
    today = london_today()
    service.record_received(pledge.id, staff, ReceivedBy.BANK_TRANSFER, today, "  BACS WYPF 0042  ")
    db.session.commit()

    payment = db.session.get(Payment, pledge.id)
    assert payment.status is SUCCEEDED and payment.status.label == "Received"
    assert payment.received_by is ReceivedBy.BANK_TRANSFER and payment.received_by.label == "Bank transfer"
    assert payment.received_on == today
    assert payment.received_reference == "BACS WYPF 0042"
    assert payment.recorded_by_id == staff.id
    assert payment.settled_at is not None and payment.fee_pence == 0
    assert handled == [(pledge.id, PENDING, SUCCEEDED)]

    with pytest.raises(Conflict) as exc:
        service.record_received(pledge.id, staff, ReceivedBy.CHEQUE, today, "Cheque 100200")
    assert exc.value.status_code == 409
    assert "already received" in exc.value.message
    db.session.rollback()
    payment = db.session.get(Payment, pledge.id)
    assert (payment.received_by, payment.received_reference) == (ReceivedBy.BANK_TRANSFER, "BACS WYPF 0042")
    assert handled == [(pledge.id, PENDING, SUCCEEDED)], "the handler heard of the money once"


def test_a_date_in_the_future_is_refused(db, pledge, staff, handled):
    with pytest.raises(DomainError) as exc:
        service.record_received(
            pledge.id, staff, ReceivedBy.CASH, london_today() + timedelta(days=1), "Receipt 17"
        )
    assert exc.value.field == "received_on" and "future" in exc.value.message
    db.session.rollback()
    assert db.session.get(Payment, pledge.id).status is PENDING
    assert handled == []


def test_a_date_before_the_pledge_is_refused(db, pledge, staff, handled):
    pledge.created_at = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    db.session.commit()

    with pytest.raises(DomainError) as exc:
        service.record_received(pledge.id, staff, ReceivedBy.CHEQUE, date(2026, 1, 9), "Cheque 100200")
    assert exc.value.field == "received_on" and "before it was pledged" in exc.value.message
    db.session.rollback()
    assert db.session.get(Payment, pledge.id).status is PENDING
    assert handled == []

    # The day of the pledge itself is fine.
    service.record_received(pledge.id, staff, ReceivedBy.CHEQUE, date(2026, 1, 10), "Cheque 100200")
    db.session.commit()
    assert db.session.get(Payment, pledge.id).status is SUCCEEDED


def test_the_pledge_date_is_the_day_in_london(db, pledge, staff):
    # 23:30 UTC on 1 July is 00:30 on 2 July in London: the pledge was made on 2 July.
    pledge.created_at = datetime(2025, 7, 1, 23, 30, tzinfo=UTC)
    db.session.commit()
    with pytest.raises(DomainError) as exc:
        service.record_received(pledge.id, staff, ReceivedBy.BANK_TRANSFER, date(2025, 7, 1), "BACS 7")
    assert exc.value.field == "received_on"


@pytest.mark.parametrize("reference", ["", "   "])
def test_a_reference_is_required(db, pledge, staff, handled, reference):
    with pytest.raises(DomainError) as exc:
        service.record_received(pledge.id, staff, ReceivedBy.BANK_TRANSFER, london_today(), reference)
    assert exc.value.field == "reference"
    db.session.rollback()
    payment = db.session.get(Payment, pledge.id)
    assert payment.status is PENDING and payment.received_reference is None
    assert handled == []


def test_staff_cancel_a_pledge_and_a_late_payment_can_still_be_recorded(db, pledge, staff, handled):
    service.cancel_pledge(pledge.id, staff, "  The school closed the account.  ")
    db.session.commit()
    payment = db.session.get(Payment, pledge.id)
    assert payment.status is FAILED and payment.status.label == "Not completed"
    assert payment.failure_reason == "The school closed the account."
    assert payment.recorded_by_id == staff.id and payment.settled_at is not None
    assert handled == [(pledge.id, PENDING, FAILED)]

    with pytest.raises(Conflict):
        service.cancel_pledge(pledge.id, staff, "again")
    db.session.rollback()

    # The transfer arrived after all.
    service.record_received(pledge.id, staff, ReceivedBy.BANK_TRANSFER, london_today(), "BACS 99")
    db.session.commit()
    payment = db.session.get(Payment, pledge.id)
    assert payment.status is SUCCEEDED and payment.failure_reason is None
    assert handled == [(pledge.id, PENDING, FAILED), (pledge.id, FAILED, SUCCEEDED)]


def test_a_pledge_cancelled_without_a_reason_says_staff_cancelled_it(db, pledge, staff):
    service.cancel_pledge(pledge.id, staff, "   ")
    db.session.commit()
    assert db.session.get(Payment, pledge.id).failure_reason == "Pledge cancelled by staff."


def test_money_received_offline_is_refunded_once(db, pledge, staff, handled):
    with pytest.raises(Conflict) as exc:
        service.refund_offline(pledge.id, staff)
    assert "Only money received" in exc.value.message
    db.session.rollback()

    service.record_received(pledge.id, staff, ReceivedBy.CASH, london_today(), "Receipt 17")
    db.session.commit()
    service.refund_offline(pledge.id, staff)
    db.session.commit()
    payment = db.session.get(Payment, pledge.id)
    assert payment.status is REFUNDED and payment.status.label == "Refunded"
    assert payment.refunded_at is not None
    assert handled == [(pledge.id, PENDING, SUCCEEDED), (pledge.id, SUCCEEDED, REFUNDED)]

    with pytest.raises(Conflict):
        service.refund_offline(pledge.id, staff)
    with pytest.raises(Conflict):
        service.cancel_pledge(pledge.id, staff, "")
    db.session.rollback()
    assert len(handled) == 2


def test_staff_cannot_settle_a_card_payment_by_hand(db, stripe_standin, new_payment, handled):
    payment = new_payment(2500)
    service.open_checkout(payment, "http://x/ok", "http://x/no", None)
    db.session.commit()
    assert payment.provider == "stripe"
    staff = make_user(staff=True)
    db.session.commit()

    with pytest.raises(Conflict) as exc:
        service.record_received(payment.id, staff, ReceivedBy.BANK_TRANSFER, london_today(), "BACS 1")
    assert "made online" in exc.value.message
    with pytest.raises(Conflict):
        service.cancel_pledge(payment.id, staff, "no")
    with pytest.raises(Conflict):
        service.refund_offline(payment.id, staff)
    db.session.rollback()

    payment = db.session.get(Payment, payment.id)
    assert payment.status is PENDING
    assert payment.received_by is None and payment.recorded_by_id is None
    assert handled == []


def test_what_staff_recorded_is_in_their_data_export(db, pledge, staff):
    service.record_received(pledge.id, staff, ReceivedBy.CHEQUE, london_today(), "Cheque 100200")
    db.session.commit()

    exported = export_user_data(staff)
    assert exported["payments_recorded"] == [
        {
            "payment_id": pledge.id,
            "amount_pence": 2500,
            "status": "succeeded",
            "received_by": "cheque",
            "received_on": london_today().isoformat(),
            "reference": "Cheque 100200",
        }
    ]
    assert "payment.recorded_by_id" not in exported.get("other_records", {})


def test_the_offline_provider_takes_no_webhooks(db, client, pledge):
    response = client.post(
        "/payments/webhooks/offline", data=b'{"id": "evt_1"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.text == "The offline provider takes no webhooks."
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(PaymentEvent.id))) == 0
    assert db.session.get(Payment, pledge.id).status is PENDING
