"""An account whose email address is not yet confirmed is told so before any organisation form, on a phone as on
a laptop: the page answers 200, fits 390 px and passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def test_an_unconfirmed_account_is_told_to_confirm_before_the_organisation_form(
    db, live_server, browse, screenshot
):
    make_user(email="new.worker@example.org", confirmed=False)
    db.session.commit()
    visitor = browse("unconfirmed")
    page = visitor.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    page.get_by_label("Email address").fill("new.worker@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))

    response = page.goto("/organisations/new")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address first")
    expect(page.get_by_role("button", name="Send the link again")).to_be_visible()
    expect(page.get_by_label("Organisation name")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "confirm-first-390")
    visitor.assert_clean()
