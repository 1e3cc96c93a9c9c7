"""The header as its users meet it: at 1280 px the navigation of someone with every role (staff, panel reviewer,
venue owner with requests waiting) fits one row; at 390 px it folds behind a "Menu" button that opens it, says
whether it is open, and closes with Escape, and nothing on the page scrolls sideways."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from foundation.venues.models import OccurrenceStatus
from tests.factories import PASSWORD, make_org, make_user
from tests.venues.factories import make_booker, make_booking, make_space, make_venue

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

ROWS_OF = "(sel) => new Set([...document.querySelectorAll(sel)].map((e) => Math.round(e.getBoundingClientRect().top))).size"


def sign_in(page, live_server, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))


def test_every_role_fits_one_row_wide_and_folds_into_a_menu_on_a_phone(db, live_server, browse, screenshot):
    owner = make_user(email="everything@wypf.example", staff=True, panel=True)
    owner_org = make_org(admin=owner, name="Calne Town Hall Trust")
    hall = make_space(make_venue(owner_org, name="Calne Town Hall"), "Main hall")
    _, visitor = make_booker(name="Devizes Scouts")
    make_booking(hall, visitor, date.today() + timedelta(days=9), status=OccurrenceStatus.REQUESTED)
    db.session.commit()

    wide = browse("all roles, 1280 px")
    sign_in(wide.page, live_server, owner.email)
    main_nav = wide.page.get_by_role("navigation", name="Main")
    for label in (
        "Venues",
        "Events",
        "Seed grants",
        "Campaigns",
        "Members",
        "Dashboard",
        "Bookings",
        "Library",
        "Panel",
        "Staff",
    ):
        expect(main_nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(main_nav.get_by_role("link", name="Requests 1")).to_be_visible()
    assert wide.page.evaluate(ROWS_OF, ".main-nav li") == 1
    assert wide.page.evaluate(ROWS_OF, ".nav-account li") == 1
    expect(wide.page.get_by_role("button", name="Menu")).to_be_hidden()
    screenshot(wide.page, "navigation-all-roles-1280")
    wide.assert_clean()

    phone = browse("all roles, 390 px")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    sign_in(phone.page, live_server, owner.email)
    page = phone.page
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    dashboard = page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    expect(dashboard).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    header_closed = page.evaluate("document.querySelector('.site-header').offsetHeight")
    assert header_closed < 130, f"the folded header is {header_closed} px tall"

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(dashboard).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "navigation-menu-open-390")
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(dashboard).to_be_hidden()

    menu.click()
    dashboard.click()
    expect(page).to_have_url(live_server("/dashboard"))
    phone.assert_clean()
