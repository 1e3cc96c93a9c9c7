"""In Chromium, at 390 px: a member shares a resource for the good-practice library (a refused form first, with its
error summary), staff approve it from their queue, and a member of another organisation finds it by topic and
words and opens its page. Nothing scrolls sideways on a phone and axe-core finds no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from foundation.uploads import simple_pdf
from tests.browser.test_booking_cost import assert_fits
from tests.factories import PASSWORD, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

PHONE = {"width": 390, "height": 844}


def sign_in(visitor, email: str) -> None:
    page = visitor.page
    page.set_viewport_size(PHONE)
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")


def test_share_approve_and_find_a_resource_on_a_phone(db, live_server, browse, tmp_path: Path):  # noqa: ARG001
    admin = make_user(email="ada@calne.example", name="Ada Admin")
    make_org(admin=admin, name="Calne Youth Project", town="Calne")
    reader = make_user(email="rae@devizes.example", name="Rae Reader")
    make_org(admin=reader, name="Devizes Youth Club", town="Devizes")
    make_user(email="staff@wypf.example", name="Sam Staff", staff=True)
    db.session.commit()
    policy = tmp_path / "online-safety-policy-for-youth-clubs-and-community-groups-2026-final-version.pdf"
    policy.write_bytes(simple_pdf("Online safety policy", ["For youth clubs."]))

    sharer = browse("ada")
    sign_in(sharer, admin.email)
    page = sharer.page
    page.goto("/library/share")
    page.get_by_role("button", name="Send it for review").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Enter a title.")
    expect(page).to_have_title("Error: Share a resource · Wiltshire Young People's Foundation")
    assert_fits(page)
    sharer.audited()
    page.fill("#title", "Online safety policy for youth clubs")
    page.fill("#summary", "A short policy on phones, group chats and photos at sessions.")
    page.check("#kind-0")
    page.locator("input[name=topics][value=digital]").check()
    page.locator("input[name=topics][value=safeguarding]").check()
    page.check("#licence-1")
    page.set_input_files("#file", str(policy))
    page.get_by_role("button", name="Send it for review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Online safety policy for youth clubs")
    expect(page.get_by_role("status")).to_contain_text("Foundation staff will check it")
    assert_fits(page)
    sharer.assert_clean()

    staff = browse("staff")
    sign_in(staff, "staff@wypf.example")
    page = staff.page
    page.goto("/staff/library")
    page.get_by_role("link", name="Online safety policy for youth clubs").click()
    assert_fits(page)
    page.get_by_role("radio", name="Approve it", exact=True).check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Approved.")
    staff.assert_clean()

    member = browse("rae")
    sign_in(member, reader.email)
    page = member.page
    page.goto("/library")
    page.select_option("#topic", "digital")
    page.fill("#q", "ONLINE safety")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#resource-count")).to_have_text("1 resource.")
    assert_fits(page)
    page.get_by_role("link", name="Online safety policy for youth clubs").click()
    expect(page.get_by_role("link", name="Download")).to_be_visible()
    assert_fits(page)
    member.assert_clean()

    # The organisation's own view: versions and history, and its list of everything it shared.
    page = sharer.page
    page.goto("/library/ours")
    assert_fits(page)
    page.get_by_role("link", name="Online safety policy for youth clubs").click()
    expect(page.locator("#history")).to_contain_text("Approved")
    expect(page.locator("#versions")).to_contain_text("online-safety-policy")
    assert_fits(page)
    sharer.assert_clean()

    anonymous = browse("anonymous")
    anonymous.page.set_viewport_size(PHONE)
    anonymous.page.goto("/library")
    expect(anonymous.page.locator("#resource-count")).to_have_text("1 resource.")
    assert_fits(anonymous.page)
    anonymous.assert_clean()
