"""In the browser, the booking form keeps its weekly options out of the way (and out of the tab order) until
"Every week" is chosen."""

from __future__ import annotations

from tests.factories import PASSWORD, make_org
from tests.venues.factories import make_booker, make_space, make_venue


def test_weekly_options_appear_only_for_a_weekly_booking(db, live_server, browse):  # noqa: ARG001
    user, _ = make_booker(email="kai@example.org", name="Chippenham Youth Forum")
    space = make_space(make_venue(make_org(name="Hall Trust")), "Main hall")
    db.session.commit()
    visitor = browse("kai")
    page = visitor.page
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")

    page.goto(f"/spaces/{space.id}/book")
    weekly = page.locator(".weekly-options")
    assert page.get_by_label("Once").is_checked()
    assert not weekly.is_visible()

    page.get_by_label("Every week").check()
    assert weekly.is_visible()
    page.get_by_label("Once").check()
    assert not weekly.is_visible()
    visitor.assert_clean()
