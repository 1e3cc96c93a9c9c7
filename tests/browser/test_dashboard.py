"""The dashboard says what needs doing, per role, on the demo data; each item is a link that reaches the page
where it is done."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from foundation.seed import DEMO_PASSWORD, seed

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


# (who signs in, section, list, the item's link text, the heading of the page it leads to)
ITEMS = [
    (
        "admin@calne-youth.example",
        "For your organisations",
        "Grant offers",
        re.compile(r"^Accept the grant of £5,200 for Friday late"),
        re.compile(r"Friday late"),
    ),
    (
        "admin@calne-youth.example",
        "For your organisations",
        "Grant applications",
        re.compile(r"^Finish and submit Youth bus from the villages"),
        re.compile(r"Youth bus from the villages"),
    ),
    (
        "youth.service@trowbridge-tc.example",
        "For your organisations",
        "Booking requests to answer",
        re.compile(r"^Calne Youth Project asks for Main hall: stage end"),
        re.compile(r"^Booking requests"),
    ),
    (
        "panel@wypf.example",
        "For the review panel",
        "Reviews to do",
        re.compile(r"^Declare any conflict of interest, then score an application"),
        re.compile(r"^WYPF-\d{4}-\w+-\d{4}: "),
    ),
    (
        "staff@wypf.example",
        "For Foundation staff",
        "Organisations waiting for vetting",
        "Vet Devizes Skate Collective",
        re.compile(r"^Devizes Skate Collective"),
    ),
    (
        "staff@wypf.example",
        "For Foundation staff",
        "Decisions",
        re.compile(r"^\d+ applications? to decide in "),
        re.compile(r"^Ranking: "),
    ),
]


def test_each_role_sees_what_needs_doing_and_each_item_leads_to_it(db, live_server, browse, screenshot):  # noqa: ARG001
    list(seed())
    db.session.commit()
    visitors = {}
    for email, section, group, text, heading in ITEMS:
        if email not in visitors:
            visitors[email] = browse(email.split("@")[0])
            sign_in(visitors[email].page, email)
        page = visitors[email].page
        page.goto("/dashboard")
        region = page.get_by_role("region", name=section)
        expect(region.get_by_role("heading", level=3, name=group, exact=True)).to_be_visible()
        link = region.get_by_role("link", name=text)
        expect(link).to_have_count(1)
        if group == "Reviews to do":  # the round's review deadline goes with each assignment
            expect(link.locator("xpath=ancestor::li[1]")).to_contain_text(re.compile(r"due by \d+ \w+ \d{4}"))
        screenshot(page, f"dashboard-{email.split('@')[0]}")
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    for visitor in visitors.values():
        visitor.assert_clean()
