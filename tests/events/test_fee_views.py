"""Paying for places through the pages: the bank-transfer instructions offline, the card checkout with Stripe (the
local stand-in), who may pay, and staff recording transfers and refunds. Stripe's events are delivered to the real
webhook endpoint and applied by the worker after the commit (in-process here)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.events import fees
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.ledger import service as ledger
from foundation.payments.models import Payment, PaymentStatus
from tests.events.factories import make_event
from tests.events.registration_factories import make_team, register
from tests.factories import login, make_user
from tests.payments.stripe_standin import StripeStandIn, fee_for, stripe_settings
from tests.payments.stripe_standin import stripe_standin as stripe_standin  # noqa: F401  (the fixture)

S = RegistrationStatus
PRICE = 1_250
WEBHOOK = "/payments/webhooks/stripe"

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def app_config(app_config: dict, request: pytest.FixtureRequest) -> dict:
    if "stripe_standin" not in request.fixturenames:
        return app_config
    return stripe_settings(app_config, request.getfixturevalue("stripe_standin"))


def waiting_entry(places: int = 2) -> tuple[Event, Registration, list]:
    event = make_event(where=LocationKind.ONLINE, price_pence=PRICE, places=6)
    org, people = make_team(places)
    db.session.commit()
    entry = register(event, org, people)
    assert entry.status is S.AWAITING_PAYMENT
    return event, entry, people


def fresh(entry: Registration) -> Registration:
    db.session.expire_all()
    found = db.session.get(Registration, entry.id)
    assert found is not None
    return found


def text(response) -> str:
    return response.get_data(as_text=True)


def test_offline_the_page_says_how_to_pay_by_bank_transfer(client):
    event, entry, people = waiting_entry()
    login(client, people[1])
    page = text(client.get(f"/events/registrations/{entry.id}"))
    assert "Waiting for payment" in page
    assert f"quoting <strong>EVENT-{entry.payment_id}</strong>" in page
    assert "Pay £25 to the Wiltshire Young People" in page
    assert "Gift Aid does not apply" in page
    assert "by card" not in page
    response = client.post(f"/events/registrations/{entry.id}/pay")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/events/registrations/{entry.id}")
    assert f"quoting EVENT-{entry.payment_id}" in text(client.get(response.headers["Location"]))


def test_only_the_entrys_people_pay_and_others_do_not_see_it(app, client):
    event, entry, _ = waiting_entry()
    organiser = event.organisation.admins()[0]
    login(client, organiser)
    assert client.post(f"/events/registrations/{entry.id}/pay").status_code == 403
    page = text(client.get(f"/events/registrations/{entry.id}"))
    assert f"/events/registrations/{entry.id}/pay" not in page  # no button to pay for them
    stranger = make_user()
    db.session.commit()
    other = app.test_client()
    login(other, stranger)
    assert other.post(f"/events/registrations/{entry.id}/pay").status_code == 404
    assert fresh(entry).status is S.AWAITING_PAYMENT


def test_staff_record_a_transfer_at_the_field_and_then_the_places_are_confirmed(app, client):
    event, entry, people = waiting_entry()
    staff = make_user(staff=True)
    db.session.commit()
    member = app.test_client()
    login(member, people[0])
    assert member.get("/staff/events/fees").status_code == 403
    login(client, staff)
    page = text(client.get("/staff/events/fees"))
    assert f"EVENT-{entry.payment_id}: £25 from {entry.organisation.name}" in page

    prefix = f"received-{entry.payment_id}"
    refused = client.post(
        f"/staff/events/fees/{entry.payment_id}/received",
        data={
            f"{prefix}-received_by": "bank_transfer",
            f"{prefix}-received_on": "2026-01-01",
            f"{prefix}-reference": "",
        },
    )
    assert refused.status_code == 422
    assert "Give the bank reference, cheque number or receipt number." in text(refused)
    assert "There is a problem" in text(refused)
    assert fresh(entry).status is S.AWAITING_PAYMENT  # nothing written

    db.session.expire_all()
    today = fresh(entry).created_at.date().isoformat()
    done = client.post(
        f"/staff/events/fees/{entry.payment_id}/received",
        data={
            f"{prefix}-received_by": "bank_transfer",
            f"{prefix}-received_on": today,
            f"{prefix}-reference": "BACS 991",
        },
    )
    assert done.status_code == 303
    assert fresh(entry).status is S.REGISTERED
    assert "No fee is waiting for a bank transfer." in text(client.get("/staff/events/fees"))

    # They cancel in time: the fee is due back, and staff record it paid back.
    assert member.post(f"/events/registrations/{entry.id}/cancel").status_code == 303
    page = text(client.get("/staff/events/fees"))
    assert f"EVENT-{entry.payment_id}: £25 to {entry.organisation.name}" in page
    assert client.post(f"/staff/events/fees/{entry.payment_id}/refunded").status_code == 303
    assert "Nothing is waiting to be paid back." in text(client.get("/staff/events/fees"))
    assert ledger.balances([fees.FEES])[fees.FEES] == 0
    again = client.post(f"/staff/events/fees/{entry.payment_id}/refunded")
    assert again.status_code == 409 and "Only money received can be refunded." in text(again)


def test_staff_release_places_whose_fee_will_not_come(client):
    event, entry, _ = waiting_entry()
    staff = make_user(staff=True)
    db.session.commit()
    login(client, staff)
    assert client.post(f"/staff/events/fees/{entry.payment_id}/cancel").status_code == 303
    assert fresh(entry).status is S.CANCELLED
    db.session.expire_all()
    assert db.session.get(Event, event.id).places_held == 0  # type: ignore[union-attr]
    assert client.post("/staff/events/fees/999999/cancel").status_code == 404


# --- by card, through Stripe -----------------------------------------------------------------------------------


def deliver(client, standin: StripeStandIn, event: dict) -> int:
    body, signature = standin.signed(event)
    return client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    ).status_code


def test_by_card_the_webhook_registers_a_cancellation_refunds_and_the_refund_reverses_the_fee(
    client, stripe_standin: StripeStandIn
):
    event, entry, people = waiting_entry()
    login(client, people[0])
    page = text(client.get(f"/events/registrations/{entry.id}"))
    assert "Pay £25 by card" in page and "bank transfer" not in page
    first = client.post(f"/events/registrations/{entry.id}/pay")
    assert first.status_code == 303 and first.headers["Location"].startswith(stripe_standin.url + "/pay/")
    again = client.post(f"/events/registrations/{entry.id}/pay")
    assert again.headers["Location"] == first.headers["Location"]  # one checkout per fee
    assert len(stripe_standin.api_requests("POST", "/v1/checkout/sessions")) == 1
    session_id = fresh(entry).payment.checkout_reference  # type: ignore[union-attr]
    assert stripe_standin.session(session_id)["amount_total"] == 2 * PRICE

    # Coming back from the checkout counts for nothing; the signed event does.
    assert fresh(entry).status is S.AWAITING_PAYMENT
    assert deliver(client, stripe_standin, stripe_standin.completed_event(session_id)) == 200
    entry = fresh(entry)
    assert entry.status is S.REGISTERED
    fee = fee_for(2 * PRICE)
    assert ledger.balances([fees.FEES, "fees"]) == {fees.FEES: 2 * PRICE - fee, "fees": fee}

    assert client.post(f"/events/registrations/{entry.id}/cancel").status_code == 303
    asked = stripe_standin.api_requests("POST", "/v1/refunds")
    assert len(asked) == 1
    payment = db.session.get(Payment, entry.payment_id)
    assert payment is not None
    assert asked[0].idempotency_key == f"wypf-refund-{payment.id}"
    assert asked[0].params["payment_intent"] == payment.payment_reference
    assert payment.status is PaymentStatus.SUCCEEDED  # until Stripe's event says it is done

    assert deliver(client, stripe_standin, stripe_standin.refund_event_for(payment.payment_reference)) == 200
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED  # type: ignore[union-attr]
    # The fee went back; the card fee Stripe kept stays a cost.
    assert ledger.balances([fees.FEES, "fees"]) == {fees.FEES: -fee, "fees": fee}
    assert ledger.check_balanced() == []


def test_an_expired_checkout_releases_the_places(client, stripe_standin: StripeStandIn):
    event, entry, people = waiting_entry(places=1)
    login(client, people[0])
    client.post(f"/events/registrations/{entry.id}/pay")
    session_id = fresh(entry).payment.checkout_reference  # type: ignore[union-attr]
    assert deliver(client, stripe_standin, stripe_standin.expired_event(session_id)) == 200
    entry = fresh(entry)
    assert entry.status is S.CANCELLED
    assert (entry.steps[-1].note or "").startswith("Payment not completed")
    assert db.session.scalar(sa.select(Event.places_held).where(Event.id == event.id)) == 0


def test_the_dashboard_asks_the_payer_to_pay_and_staff_to_record_and_pay_back(app, client):
    event, entry, people = waiting_entry()
    staff = make_user(staff=True)
    db.session.commit()
    login(client, people[0])
    page = text(client.get("/dashboard"))
    assert f"Pay the fee: {event.title}" in page and "£25.00 for 2 places, by" in page
    office = app.test_client()
    login(office, staff)
    assert "1 event fee waiting for a bank transfer" in text(office.get("/dashboard"))

    prefix = f"received-{entry.payment_id}"
    office.post(
        f"/staff/events/fees/{entry.payment_id}/received",
        data={
            f"{prefix}-received_by": "cheque",
            f"{prefix}-received_on": fresh(entry).created_at.date().isoformat(),
            f"{prefix}-reference": "CHQ 100",
        },
    )
    assert "Pay the fee" not in text(client.get("/dashboard"))
    assert client.post(f"/events/registrations/{entry.id}/cancel").status_code == 303
    page = text(office.get("/dashboard"))
    assert "1 event fee to pay back" in page and "waiting for a bank transfer" not in page


def test_back_from_the_card_checkout_the_page_says_the_places_follow_the_payment(client):
    event, entry, people = waiting_entry()
    login(client, people[0])
    page = text(client.get(f"/events/registrations/{entry.id}?paid=1"))
    assert "We confirm the places as soon as the card payment reaches us" in page
    assert "Waiting for payment" in page  # the page the payer returns to registers nothing
    assert fresh(entry).status is S.AWAITING_PAYMENT


def test_an_organisations_admin_sees_the_fees_its_people_owe(app, client):
    event, entry, people = waiting_entry(places=2)
    org = entry.organisation
    colleague_entry_maker = people[1]  # a member, not the admin, makes the next entry
    second = make_event(where=LocationKind.ONLINE, price_pence=PRICE, places=6, title="A paid workshop")
    db.session.commit()
    other = register(second, org, [colleague_entry_maker])
    assert other.status is S.AWAITING_PAYMENT
    login(client, people[0])  # the organisation's admin
    page = text(client.get("/dashboard"))
    assert "Event fees to pay" in page
    assert f"A paid workshop: {org.name}" in page and "£12.50 for 1 place" in page
    stranger = make_user()
    db.session.commit()
    outsider = app.test_client()
    login(outsider, stranger)
    assert "Event fees to pay" not in text(outsider.get("/dashboard"))
