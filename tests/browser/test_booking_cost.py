"""In Chromium, at 390 px: the booking preview's total follows the boxes as dates are unticked and ticked again,
the page does not scroll sideways (the dates table scrolls inside its own box), and the booking's page shows the
reference, the cost and the venue's terms."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.venues.factories import make_booker, make_space, make_venue
from tests.venues.test_booking_cost import TERMS, monday

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def assert_fits(page) -> None:
    """Nothing sticks out past 390 px, except inside a box that scrolls on its own (.table-wrap)."""
    widest = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 392)"
        ".slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} scrolls sideways: {width} px ({', '.join(widest)})"


def test_the_total_follows_the_ticked_dates_on_a_phone(db, live_server, browse):  # noqa: ARG001
    owner, trust = make_booker(email="owner@example.org", name="Devizes Town Hall Trust")
    user, _ = make_booker(email="kai@example.org", name="Devizes Scouts")
    venue = make_venue(
        trust, name="Devizes Corn Exchange", address_line2="Market Place", town="Devizes", hire_terms=TERMS
    )
    space = make_space(venue, "Main hall", capacity=100, price_per_hour_pence=1250)
    db.session.commit()
    first = monday()

    visitor = browse("kai")
    page = visitor.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")

    # The form filled in by its link, as a search or a calendar fills it.
    wanted = {
        "purpose": "Scout night", "expected_attendance": "20", "first_date": first.isoformat(),
        "start_time": "18:00", "end_time": "20:30", "repeat": "weekly", "weekdays": str(first.weekday()),
        "ends": "weeks", "weeks": "3",
    }  # fmt: skip
    page.goto(f"/spaces/{space.id}/book?{urlencode(wanted)}")
    page.get_by_role("button", name="Check dates").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your dates")
    total = page.locator("#booking-total")
    expect(total).to_have_text("Total for the 3 dates ticked when the page opened: £93.75")
    assert_fits(page)
    second = first + timedelta(weeks=1)
    page.locator(f"#date-{second.isoformat()}").uncheck()
    expect(total).to_have_text("Total for the 2 dates ticked: £62.50")
    page.locator(f"#date-{first.isoformat()}").uncheck()
    expect(total).to_have_text("Total for the 1 date ticked: £31.25")
    page.locator(f"#date-{second.isoformat()}").check()
    expect(total).to_have_text("Total for the 2 dates ticked: £62.50")
    expect(page.locator("#hire-terms")).to_contain_text("No glitter.")
    visitor.audited()

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_contain_text("Your reference is VB-")
    expect(page.locator("#booking-total")).to_have_text("£62.50")
    expect(page.locator(".venue-address")).to_contain_text("Market Place")
    assert_fits(page)
    visitor.assert_clean()
