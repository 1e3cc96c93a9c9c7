"""In Chromium, at 390 px: an organiser marks the register of a training event that has happened (a refused
register first, with its error summary), an attendee gives feedback and finds their certificate, the organiser
reads the feedback, and staff read the training coverage. Nothing scrolls sideways on a phone and axe-core finds no
serious or critical violation on any of these pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from foundation.events.models import Topic
from tests.browser.test_booking_cost import assert_fits
from tests.browser.test_library_journey import sign_in
from tests.events.attendance_factories import add_entry, add_people
from tests.events.factories import make_event
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_mark_the_register_give_feedback_and_read_coverage_on_a_phone(db, live_server, browse, screenshot):  # noqa: ARG001
    organiser = make_user(email="olu@calne.example", name="Olu Organiser")
    organiser_org = make_org(admin=organiser, name="Calne Youth Project", town="Calne")
    club_admin = make_user(email="cat@devizes.example", name="Cat Admin")
    club = make_org(
        admin=club_admin, name="Devizes Youth Club with a rather long name for a phone", town="Devizes"
    )
    came, absent = add_people(club, 2, "Devizes youth worker")
    make_user(email="staff@wypf.example", name="Sam Staff", staff=True)
    past = datetime.now(UTC) - timedelta(days=2)
    event = make_event(
        organiser,
        organiser_org,
        title="Emergency first aid for youth settings",
        starts_at=past,
        topics=(Topic.FIRST_AID,),
    )
    entry = add_entry(event, club, [came, absent])
    db.session.commit()
    came_place = entry.people[0]
    came_email = came.email

    marker = browse("organiser")
    sign_in(marker, organiser.email)
    page = marker.page
    page.goto(f"/events/{event.id}/register-sheet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    assert_fits(page)
    page.evaluate("document.querySelector('input[name=shown]').value = '999999'")  # a stale register
    page.get_by_role("button", name="Save the register").click()
    expect(page.locator(".error-summary")).to_contain_text("Reload the register and mark it again")
    expect(page).to_have_title(f"Error: Register: {event.title} · Wiltshire Young People's Foundation")
    assert_fits(page)
    marker.audited()
    page.get_by_label(came.name, exact=True).check()
    page.get_by_role("button", name="Save the register").click()
    expect(page.get_by_role("status")).to_contain_text("The register is saved.")
    expect(page.locator("#register-totals")).to_contain_text("1 attended")
    screenshot(page, "events-register-sheet-390")
    page.goto(f"/events/{event.id}/register-sheet/print")
    expect(page.locator("table.signature-sheet")).to_contain_text(absent.name)
    assert_fits(page)
    marker.assert_clean()

    attendee = browse("attendee")
    sign_in(attendee, came_email)
    page = attendee.page
    page.goto(f"/events/{event.id}/feedback")
    page.get_by_role("button", name="Send my feedback").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose a rating from 1 to 5.")
    assert_fits(page)
    attendee.audited()
    page.get_by_label("4: Very good").check()
    page.fill("#comments", "Practical and calm. More on head injuries, please.")
    page.get_by_role("button", name="Send my feedback").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    page.goto("/account/training")
    certificate = page.get_by_role("link", name=f"Certificate (PDF) for {event.title}")
    expect(certificate).to_have_attribute("href", f"/events/{event.id}/certificates/{came_place.id}.pdf")
    assert_fits(page)
    attendee.assert_clean()

    page = marker.page
    page.goto(f"/events/{event.id}/feedback/results")
    expect(page.locator("#feedback-average")).to_have_text("4.0")
    expect(page.locator("#comments")).to_contain_text("More on head injuries")
    assert_fits(page)
    marker.assert_clean()

    staff = browse("staff")
    sign_in(staff, "staff@wypf.example")
    page = staff.page
    page.goto("/staff/events/coverage?year=nineteen")
    expect(page.locator(".error-summary")).to_contain_text("Enter a year as four digits")
    staff.audited()
    page.goto(f"/staff/events/coverage?year={past.year}")
    expect(page.locator("#no-first-aid")).not_to_contain_text("Devizes")
    expect(page.locator("#no-first-aid")).to_contain_text("Calne")
    assert_fits(page)
    screenshot(page, "events-coverage-390")
    staff.assert_clean()
