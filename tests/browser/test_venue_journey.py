"""A weekly booking through the Venue Bank in Chromium, with real CSRF, real SMTP and a real HTTP server.

A youth worker finds a hall free at the time they want, asks for it every week for four weeks; the venue's admin
approves the series from the request queue; the youth worker sees it on the hall's week calendar and in the inbox.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.types import LONDON, utcnow
from foundation.venues.booking import WEEKDAY_NAMES
from foundation.venues.models import Booking, Occurrence, OccurrenceStatus
from tests.factories import PASSWORD, add_member, make_org, make_user
from tests.venues.factories import make_space, make_venue

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails) with the reason
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

OWNER_ORG = "Chippenham Community Trust"
VENUE = "Monkton Park Youth Hub"
SPACE = "Main hall"
GROUP = "Chippenham Youth Café"
PURPOSE = "Youth club evening"


def sign_in(page, live_server, email: str) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))


def search_for_slot(page, day: date, unavailable: bool = False) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Venues").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a venue")
    form = page.get_by_role("search")
    form.get_by_label("Town").select_option(label="Chippenham")
    form.get_by_label("Free on").fill(day.isoformat())
    form.get_by_label("From", exact=True).fill("18:00")
    form.get_by_label("To", exact=True).fill("20:00")
    if unavailable:
        form.get_by_label("Show unavailable spaces too").check()
    form.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"venues? found$"))).to_be_visible()


def test_youth_worker_books_weekly_and_the_venue_approves_the_series(
    db, live_server, smtp, browse, screenshot
):
    owner_admin = make_user(email="olive@cct.example.org", name="Olive Owner")
    owner_org = make_org(admin=owner_admin, name=OWNER_ORG)
    hub = make_venue(owner_org, name=VENUE, town="Chippenham", postcode="SN15 3JN", opens=time(9))
    make_space(hub, SPACE, capacity=80, needs_approval=True)
    elsewhere = make_venue(owner_org, name="Devizes Corn Exchange", town="Devizes", postcode="SN10 1HS")
    make_space(elsewhere, "Assembly room")
    worker = make_user(email="yusuf@cafe.example.org", name="Yusuf Worker")
    add_member(make_org(name=GROUP), worker)
    db.session.commit()

    first = utcnow().astimezone(LONDON).date() + timedelta(days=17)
    weekday = WEEKDAY_NAMES[first.weekday()]
    dates = [first + timedelta(weeks=i) for i in range(4)]
    monday = first - timedelta(days=first.weekday())

    # --- a youth worker signs in and looks for a hall in Chippenham free on that evening ---
    yusuf = browse("yusuf")
    page = yusuf.page
    sign_in(page, live_server, "yusuf@cafe.example.org")
    expect(page.locator(".site-header .badge")).to_have_count(0)
    search_for_slot(page, first)
    expect(page.get_by_role("heading", level=2)).to_have_text("1 venue found")
    expect(page.get_by_text(f"free on {first:%A %-d %B %Y}, 18:00–20:00")).to_be_visible()
    expect(page.get_by_text("Devizes Corn Exchange")).to_have_count(0)
    result = page.locator(".venue-result").filter(has_text=VENUE)
    row = result.get_by_role("row").filter(has_text=SPACE)
    expect(row).to_contain_text("80 people")
    expect(row).to_contain_text("Needs approval")
    expect(row.locator(".slot-state")).to_have_text("Free")
    screenshot(page, "venue-01-search")

    # --- the book link brings the date and times along ---
    row.get_by_role("link", name=f"Book {SPACE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Book {SPACE}")
    expect(page.get_by_text(f"{VENUE}, Chippenham")).to_be_visible()
    # One organisation: named, not chosen.
    expect(page.get_by_text(f"Booking for: {GROUP}")).to_be_visible()
    expect(page.get_by_label("Date", exact=True)).to_have_value(first.isoformat())
    expect(page.get_by_label("From", exact=True)).to_have_value("18:00")
    expect(page.get_by_label("To", exact=True)).to_have_value("20:00")
    page.get_by_label("What is it for?").fill(PURPOSE)
    page.get_by_label("Expected attendance").fill("25")
    page.get_by_label("Every week").check()
    page.get_by_label(weekday, exact=True).check()
    page.get_by_label("A number of weeks").check()
    page.get_by_label("Number of weeks", exact=True).fill("4")
    screenshot(page, "venue-02-book-form")
    page.get_by_role("button", name="Check dates").click()

    # --- the preview lists the four dates; nothing is booked yet ---
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your dates")
    expect(page.get_by_text(f"{VENUE} approves each request.")).to_be_visible()
    expect(page.get_by_text("Booking for Chippenham Youth Café.")).to_be_visible()
    expect(page.get_by_text("Dates (4 of 4 can be booked)")).to_be_visible()
    for day in dates:
        date_row = page.get_by_role("row").filter(has_text=f"{day:%a %-d %b %Y}")
        expect(date_row).to_contain_text("18:00–20:00")
        expect(date_row).to_contain_text("Free")
        expect(date_row.get_by_role("checkbox")).to_be_checked()
    screenshot(page, "venue-03-preview")
    page.get_by_role("button", name="Send request").click()

    # --- the booking page: requested, not yet confirmed ---
    expect(page.get_by_role("heading", level=1)).to_have_text(PURPOSE)
    expect(page.get_by_role("status")).to_have_text(
        re.compile(
            r"^Your request is with the venue\. We will let you know when they decide\. Your reference is VB-\d{6}\.$"
        )
    )
    expect(page.locator(".facts")).to_contain_text(f"{weekday}s, 18:00–20:00, {first:%-d %b %Y} to ")
    for day in dates:
        expect(page.get_by_role("row").filter(has_text=f"{day:%a %-d %b %Y}")).to_contain_text("Requested")
    screenshot(page, "venue-04-requested")

    # --- the venue's admin signs in (own browser), finds the request and approves the series ---
    olive = browse("olive")
    owner_page = olive.page
    sign_in(owner_page, live_server, "olive@cct.example.org")
    owner_page.get_by_role("navigation", name="Main").get_by_role("link", name="Bookings").click()
    owner_page.get_by_role("link", name="Requests for your venues").click()
    expect(owner_page).to_have_url(live_server("/venues/requests"))
    expect(owner_page.get_by_role("heading", level=1)).to_have_text("Booking requests for your venues")
    request = owner_page.locator("section.request").filter(
        has=owner_page.get_by_role("heading", level=2, name=PURPOSE)
    )
    expect(request).to_contain_text(f"{GROUP} (Yusuf Worker)")
    expect(request).to_contain_text("Good standing")
    expect(request).to_contain_text(f"{SPACE}, {VENUE}")
    for day in dates:
        expect(request.get_by_label(f"{day:%a %-d %b %Y}")).to_be_checked()
    expect(request.get_by_role("checkbox")).to_have_count(4)
    screenshot(owner_page, "venue-05-request-queue")
    request.get_by_role("button", name="Approve ticked dates").click()

    expect(owner_page).to_have_url(live_server("/venues/requests"))
    expect(owner_page.get_by_role("status")).to_have_text(f"Approved 4 dates for {GROUP}.")
    expect(owner_page.get_by_text("No requests are waiting for a decision.")).to_be_visible()
    screenshot(owner_page, "venue-06-approved")

    # --- the youth worker: the slot is now booked (listed only when asked for), and the week calendar shows
    # what for ---
    search_for_slot(page, first)
    expect(page.get_by_role("heading", level=2)).to_have_text("0 venues found")
    search_for_slot(page, first, unavailable=True)
    row = page.locator(".venue-result").filter(has_text=VENUE).get_by_role("row").filter(has_text=SPACE)
    expect(row.locator(".slot-state")).to_contain_text("Booked")
    expect(row.get_by_role("link", name=f"Book {SPACE}")).to_have_count(0)
    row.get_by_role("link", name=SPACE, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(SPACE)
    expect(page.get_by_role("heading", level=2, name=f"Week of {monday:%A %-d %B %Y}")).to_be_visible()
    calendar = page.locator("table.week-grid")
    expect(calendar.get_by_role("columnheader").filter(has_text=f"{first:%-d %b}")).to_contain_text(weekday)
    booked = calendar.locator("td.slot-booked")
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("18:00–20:00")
    expect(booked).to_contain_text(f"Booked: {PURPOSE}, {GROUP}")
    screenshot(page, "venue-07-calendar")

    # --- and the inbox has the approval ---
    badge = page.locator(".site-header .badge")
    expect(badge).to_have_text("1")
    expect(badge).to_have_attribute("aria-label", "1 unread")
    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    expect(page).to_have_url(live_server("/inbox"))
    subject = f"Booking approved: {SPACE}, {VENUE}"
    item = page.get_by_role("row").filter(has_text=subject)
    expect(item).to_contain_text("(unread)")
    screenshot(page, "venue-08-inbox")
    item.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator(".site-header .badge")).to_have_count(0)

    approved = [m for m in smtp.messages if m["To"] == "yusuf@cafe.example.org" and m["Subject"] == subject]
    assert len(approved) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]

    yusuf.assert_clean()
    olive.assert_clean()

    db.session.expire_all()
    booking = db.session.scalar(sa.select(Booking).where(Booking.purpose == PURPOSE))
    assert booking is not None and booking.organisation.name == GROUP
    statuses = db.session.scalars(
        sa.select(Occurrence.status).where(Occurrence.booking_id == booking.id).order_by(Occurrence.starts_at)
    ).all()
    assert statuses == [OccurrenceStatus.CONFIRMED] * 4
    starts = db.session.scalars(
        sa.select(Occurrence.starts_at)
        .where(Occurrence.booking_id == booking.id)
        .order_by(Occurrence.starts_at)
    ).all()
    assert [s.astimezone(LONDON).date() for s in starts] == dates
    assert {s.astimezone(LONDON).time() for s in starts} == {time(18)}
