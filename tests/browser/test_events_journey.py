"""In Chromium, on a phone: a member registers two colleagues for a full event (they go on the waiting list), a
place frees when another group cancels, the offer arrives by email (the SMTP sink), a colleague follows its link
and accepts, and the two appear on the organiser's registrations page and on the register. Nothing scrolls
sideways and axe-core finds no serious or critical violation on the listing, event, registration and
registrations pages (every page is audited as it loads)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from foundation.events.models import LocationKind
from tests.browser.test_booking_cost import assert_fits
from tests.browser.test_library_journey import sign_in
from tests.events.factories import make_event
from tests.events.registration_factories import make_team, register
from tests.factories import add_member, make_org, make_user
from tests.notifications.smtp import parts

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

TITLE = "Emergency first aid for youth settings"


def test_a_waiting_group_is_offered_freed_places_and_accepts_them(db, app, live_server, smtp, browse):  # noqa: ARG001
    organiser = make_user(email="olu@calne.example", name="Olu Organiser")
    calne = make_org(admin=organiser, name="Calne Youth Project", town="Calne")
    event = make_event(organiser, calne, title=TITLE, places=2, where=LocationKind.ADDRESS, town="Calne")
    mo = make_user(email="mo@devizes.example", name="Mo Member")
    devizes = make_org(admin=mo, name="Devizes Youth Club", town="Devizes")
    ash = make_user(email="ash@devizes.example", name="Ash Aldridge")
    bo = make_user(email="bo@devizes.example", name="Bo Bennett")
    for person in (ash, bo):
        add_member(devizes, person)
    trowbridge, (tess, tom) = make_team(2, name="Trowbridge Detached")
    tess.email = "tess@trowbridge.example"
    db.session.commit()
    with app.test_request_context("/"):
        register(event, trowbridge, [tess, tom])  # the event is full
    event_id = event.id

    # --- 1. Mo finds the event and registers two colleagues: the event is full, so they wait ---
    member = browse("mo")
    sign_in(member, "mo@devizes.example")
    page = member.page
    page.goto("/events")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert_fits(page)
    member.audited()
    page.goto(f"/events/{event_id}/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register for {TITLE}")
    page.get_by_label("Mo Member").uncheck()  # ticked to begin with: first, nobody chosen
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("Choose at least one person to register.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_fits(page)
    member.audited()
    page.get_by_label("Ash Aldridge").check()
    page.get_by_label("Bo Bennett").check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("you are on the waiting list")
    expect(page.locator("dl.facts")).to_contain_text("number 1 in the queue")
    assert_fits(page)
    member.assert_clean()

    # --- 2. Trowbridge cancels: two places free, and the waiting entry of two is offered them by email ---
    leaving = browse("tess")
    sign_in(leaving, "tess@trowbridge.example")
    leaving.page.goto("/account/events")
    leaving.page.get_by_role("link", name=TITLE).click()
    leaving.page.get_by_role("button", name="Cancel this registration").click()
    expect(leaving.page.locator(".flashes")).to_contain_text("The registration is cancelled.")
    leaving.assert_clean()
    # Mail is delivered when the request commits, so the offer is in the sink by now.
    (to_ash,) = [
        m for m in smtp.messages if m["To"] == "ash@devizes.example" and "free for you" in m["Subject"]
    ]
    assert to_ash["Subject"] == f"2 places are free for you: {TITLE}"
    assert [m["Subject"] for m in smtp.to("bo@devizes.example")][-1] == to_ash["Subject"]
    text, _html = parts(to_ash)
    assert "(UK time)" in text
    link = re.search(r"(http://\S+/events/registrations/\d+)", text)
    assert link is not None and link.group(1).startswith(live_server.url)

    # --- 3. Ash follows the link and accepts ---
    colleague = browse("ash")
    sign_in(colleague, "ash@devizes.example")
    cpage = colleague.page
    cpage.goto(link.group(1))
    expect(cpage.locator("#offer")).to_contain_text("Places offered")
    assert_fits(cpage)
    cpage.get_by_role("button", name="Accept the places").click()
    expect(cpage.locator(".flashes")).to_contain_text("You have accepted the places.")
    expect(cpage.locator("dl.facts")).to_contain_text("Registered")
    colleague.assert_clean()

    # --- 4. The organiser sees them registered, and on the register ---
    org_visitor = browse("olu")
    sign_in(org_visitor, "olu@calne.example")
    opage = org_visitor.page
    opage.goto(f"/events/{event_id}/registrations")
    registered = opage.locator("#registered")
    expect(registered).to_contain_text("Devizes Youth Club")
    expect(registered).to_contain_text("Ash Aldridge")
    expect(registered).to_contain_text("Bo Bennett")
    assert_fits(opage)
    org_visitor.audited()
    opage.goto(f"/events/{event_id}/register-sheet")
    expect(opage.locator("main")).to_contain_text("Ash Aldridge")
    expect(opage.locator("main")).to_contain_text("Bo Bennett")
    org_visitor.assert_clean()
