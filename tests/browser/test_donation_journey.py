"""A donor gives £25 with Gift Aid through the Stripe checkout (the local stand-in for Stripe), the campaign's
progress moves when Stripe's signed webhook arrives, and the receipt reaches the SMTP sink. axe-core runs on the
campaign, donation and thank-you pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_org, make_user
from tests.fundraising.support import live_campaign
from tests.notifications.smtp import parts
from tests.payments.stripe_standin import (
    StripeStandIn,
    stripe_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


@pytest.fixture
def app_config(app_config: dict, stripe_standin: StripeStandIn) -> dict:
    return stripe_settings(app_config, stripe_standin)


def test_a_donor_gives_25_pounds_with_gift_aid_by_card(
    app, db, live_server, stripe_standin, smtp, browse, screenshot
):
    stripe_standin.webhook_url = live_server("/payments/webhooks/stripe")
    with app.test_request_context("/"):
        staff = make_user(email="funds@wypf.org.uk", staff=True)
        lead = make_org(admin=make_user(email="lena@calne.example"), name="Calne Youth Project", town="Calne")
        campaign = live_campaign(lead, staff, target_pence=100_000, title="Summer of youth voice")
        db.session.commit()
    visitor = browse("donor")
    page = visitor.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/campaigns/{campaign.slug}")
    expect(page.get_by_text("£0 of a £1,000 target")).to_be_visible()
    screenshot(page, "campaign-390")
    page.get_by_role("link", name="Give to this campaign").click()
    page.get_by_label("£25").check()
    page.get_by_label("Your name").fill("Ada Donor")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Yes, I want to Gift Aid my donation").check()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Donor")
    page.get_by_label("House name or number").fill("12")
    page.get_by_label("Postcode").fill("ba14 8jn")
    page.get_by_label("I am a UK taxpayer").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "donate-390")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay £25.00")
    page.get_by_role("button", name="Pay £25.00").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Ada Donor")
    expect(page.get_by_text("Your gift of £25 to")).to_be_visible()
    expect(page.get_by_text("worth £31.25 to the campaign")).to_be_visible()
    screenshot(page, "donation-thanks-390")

    page.goto(f"/campaigns/{campaign.slug}")
    expect(page.get_by_text("Donations: £25")).to_be_visible()
    expect(page.get_by_text("Gift Aid expected: £6.25")).to_be_visible()
    expect(page.get_by_text("£31.25 of a £1,000 target")).to_be_visible()

    (receipt,) = [m for m in smtp.wait_for(1) if m["To"] == "ada@example.com"]
    text, _html = parts(receipt)
    assert receipt["Subject"] == "Thank you for your donation to Summer of youth voice"
    assert "£25" in text and "claim £6.25 from HMRC" in text and "registered charity" in text
    visitor.assert_clean()
