"""In Chromium, on a phone: a member registers two colleagues for a priced workshop, their places wait for the
fee, she pays by card at the Stripe checkout (the local stand-in), Stripe's signed webhook registers them, the
confirmation with its calendar file reaches the SMTP sink, and cancelling before the cut-off asks Stripe for the
refund. Nothing scrolls sideways and axe-core finds no serious or critical violation on the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from foundation.events.models import LocationKind
from tests.browser.test_booking_cost import assert_fits
from tests.browser.test_library_journey import sign_in
from tests.events.factories import make_event
from tests.factories import add_member, make_org, make_user
from tests.notifications.smtp import parts
from tests.payments.stripe_standin import StripeStandIn, stripe_settings

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

TITLE = "Writing a winning funding bid"


@pytest.fixture
def app_config(app_config: dict, stripe_standin: StripeStandIn) -> dict:
    return stripe_settings(app_config, stripe_standin)


def test_two_colleagues_pay_by_card_and_a_cancellation_in_time_is_refunded(
    db, app, live_server, stripe_standin, smtp, browse
):
    stripe_standin.webhook_url = live_server("/payments/webhooks/stripe")
    with app.test_request_context("/"):
        organiser = make_user(email="olu@calne.example", name="Olu Organiser")
        calne = make_org(admin=organiser, name="Calne Youth Project", town="Calne")
        event = make_event(
            organiser, calne, title=TITLE, places=10, where=LocationKind.ONLINE, price_pence=1_500
        )
        mo = make_user(email="mo@devizes.example", name="Mo Member")
        devizes = make_org(admin=mo, name="Devizes Youth Club", town="Devizes")
        ash = make_user(email="ash@devizes.example", name="Ash Aldridge")
        add_member(devizes, ash)
        db.session.commit()
        event_id = event.id

    member = browse("mo")
    sign_in(member, "mo@devizes.example")
    page = member.page
    page.goto(f"/events/{event_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.goto(f"/events/{event_id}/register")
    page.get_by_label("Ash Aldridge").check()
    page.get_by_role("button", name="Register", exact=True).click()

    # The places are held for the fee; nothing is registered yet.
    expect(page.get_by_text("Your places are held until the fee is paid")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Waiting for payment")
    expect(page.locator("dl.facts")).to_contain_text("£30 (£15 a place)")
    assert_fits(page)
    member.audited()
    page.get_by_role("button", name="Pay £30 by card").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay £30.00")
    page.get_by_role("button", name="Pay £30.00").click()

    # Back from the checkout: Stripe's event has registered them.
    expect(page.locator("dl.facts")).to_contain_text("Registered")
    expect(page.locator("dl.facts")).to_contain_text("£30 (£15 a place): received")
    assert_fits(page)
    member.audited()
    # Each of the two was told the places wait for the fee, then that they are registered.
    messages = smtp.wait_for(4)
    to_ash = [" ".join(str(m["Subject"]).split()) for m in messages if m["To"] == "ash@devizes.example"]
    assert to_ash == [f"Your places are held until the fee is paid: {TITLE}", f"You are registered: {TITLE}"]
    confirmation = next(
        m for m in messages if m["To"] == "ash@devizes.example" and "registered" in m["Subject"]
    )
    attached = [p.get_filename() for p in confirmation.iter_attachments()]
    assert attached == [f"event-{event_id}.ics"]
    text, _html = parts(confirmation)
    assert "meet.example.org" in text  # the online link, now that they hold places

    # Cancelling before the cut-off asks Stripe to pay the fee back.
    expect(page.get_by_text("Cancelling now pays the fee of £30 back.")).to_be_visible()
    page.get_by_role("button", name="Cancel this registration").click()
    expect(page.locator("dl.facts")).to_contain_text("Cancelled")
    expect(page.locator("dl.facts")).to_contain_text("being paid back")
    refunds = stripe_standin.api_requests("POST", "/v1/refunds")
    assert len(refunds) == 1 and refunds[0].params["payment_intent"].startswith("pi_test_")
    assert_fits(page)
    member.assert_clean()
