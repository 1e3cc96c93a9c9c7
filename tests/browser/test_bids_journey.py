"""A consortium bid from opportunity to consolidated return in Chromium, with real CSRF, SMTP and a real server.

Staff add a funding opportunity and start a bid the Foundation leads; they invite two member organisations, whose
admins accept and write their parts; staff take the bid through drafting, sign-off and submission, record a part
award and the funder's payment, and pay a partner its sub-award; the partner submits its monitoring return; and the
consolidated return adds it up. Every page is checked by axe-core as it loads.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.bids.models import Bid, BidStatus, Funder, FunderType
from foundation.ledger import service as ledger
from foundation.types import london_today
from tests.factories import PASSWORD, make_org, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails) with the reason
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

PROGRAMME = "Safer Nights Fund"
TITLE = "Safer nights in Devizes and Trowbridge"


def sign_in(page, live_server, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))


def flash(page):
    return page.locator(".flashes").get_by_role("status")


def write_part(page, town: str, young_people: str, line: str, amount: str) -> None:
    page.get_by_label("Activities", exact=True).fill(f"Friday night detached sessions in {town}.")
    page.get_by_label("Outcomes", exact=True).fill("Young people feel safer; fewer incidents reported.")
    page.get_by_role("button", name="Save your part").click()
    expect(flash(page)).to_have_text("Your part is saved.")
    page.locator("#reach").get_by_label(town, exact=True).fill(young_people)
    page.get_by_role("button", name="Save the numbers").click()
    expect(flash(page)).to_have_text("The young people you will reach are saved.")
    page.get_by_label("Kind of cost").select_option(label="Staff")
    page.get_by_label("What it is for").fill(line)
    page.get_by_label("Amount (£)").fill(amount)
    page.get_by_role("button", name="Add the line").click()
    expect(flash(page)).to_have_text("The budget line is added.")


def test_a_consortium_bid_from_opportunity_to_consolidated_return(db, live_server, smtp, browse, screenshot):
    make_user(email="sam@wypf.org.uk", name="Sam Staff", staff=True)
    pat = make_user(email="pat@devizes.example.org", name="Pat Partner")
    make_org(admin=pat, name="Devizes Youth Club", town="Devizes")
    tess = make_user(email="tess@trowbridge.example.org", name="Tess Third")
    make_org(admin=tess, name="Trowbridge Detached", town="Trowbridge")
    db.session.add(
        Funder(name="Kennet Trust", name_key="kennet trust", funder_type=FunderType.TRUST_OR_FOUNDATION)
    )
    db.session.commit()
    today = london_today()

    # --- 1. staff add the opportunity, start a bid the Foundation leads and invite two partners ---
    sam = browse("sam")
    page = sam.page
    sign_in(page, live_server, "sam@wypf.org.uk")
    page.goto("/staff/funding/new")
    page.get_by_label("Funder", exact=True).select_option(label="Kennet Trust")
    page.get_by_label("Programme").fill(PROGRAMME)
    page.get_by_label("Smallest grant in pounds").fill("2,000")
    page.get_by_label("Largest grant in pounds").fill("20,000")
    page.get_by_label("Deadline").fill((today + timedelta(days=30)).isoformat())
    page.get_by_label("Crime and violence prevention").check()
    page.get_by_label("Devizes", exact=True).check()
    page.get_by_label("Trowbridge", exact=True).check()
    page.get_by_label("Accepts consortium or partnership bids").check()
    page.get_by_role("button", name="Publish the opportunity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROGRAMME)
    page.get_by_role("link", name="Start a bid with partners").click()
    page.get_by_label("Title of the bid").fill(TITLE)
    page.get_by_label("Who leads it").select_option(label="The Foundation")
    screenshot(page, "bids-01-start")
    page.get_by_role("button", name="Start the bid").click()
    expect(flash(page)).to_have_text("The bid is started. Invite the partners who will bid with you.")
    for org in ("Devizes Youth Club", "Trowbridge Detached"):
        page.get_by_label("Organisation to invite").select_option(label=org)
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(flash(page)).to_have_text(f"{org} is invited. It joins once an administrator accepts.")
    page.get_by_role("link", name="Change title, case for support or fee").click()
    page.get_by_label("Case for support").fill("Young people in both towns have nowhere safe to go at night.")
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("Saved.")
    screenshot(page, "bids-02-invited")
    sam.assert_clean()
    subjects = {m["To"]: m["Subject"] for m in smtp.wait_for(2)}
    assert (
        subjects["pat@devizes.example.org"]
        == f"The Foundation invites Devizes Youth Club to bid together: {TITLE}"
    )

    # --- 2. each partner's admin accepts and writes its part ---
    for who, email, town, young, line, amount in (
        ("pat", "pat@devizes.example.org", "Devizes", "40", "Two detached youth workers", "6,000"),
        ("tess", "tess@trowbridge.example.org", "Trowbridge", "30", "Sessional youth worker", "3,000"),
    ):
        visitor = browse(who)
        p = visitor.page
        sign_in(p, live_server, email)
        p.get_by_role("link", name=TITLE).first.click()  # from the dashboard's invitations
        expect(p.get_by_role("heading", level=1)).to_have_text("Invitation to bid together")
        p.get_by_label("Join the bid").check()
        p.get_by_role("button", name="Send your answer").click()
        expect(flash(p)).to_contain_text("has joined the bid. Now write your part.")
        write_part(p, town, young, line, amount)
        screenshot(p, f"bids-03-part-{who}")
        visitor.assert_clean()

    # --- 3. staff take the bid to the funder and record a part award ---
    page.goto("/bids")
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator("#bid-total")).to_contain_text("£9,900")  # £9,000 of parts and a 10% fee
    for step, stage in (("Consortium formed: start drafting", "drafting"), ("Send for internal sign-off", "internal sign-off"),
                        ("Record as submitted to the funder", "submitted")):  # fmt: skip
        page.get_by_role("button", name=step).click()
        expect(flash(page)).to_have_text(f"The bid is now {stage}.")
    page.get_by_role("link", name="The assembled bid").click()
    expect(page.locator("#assembled-total")).to_have_text("£9,900")
    expect(page.locator("#reach-total")).to_have_text("70")
    screenshot(page, "bids-04-assembled")
    page.go_back()
    page.get_by_label("Amount awarded (£)").fill("8,800")
    page.get_by_label("Date of the funder's decision").fill(today.isoformat())
    page.get_by_label("Reporting dates").fill((today + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Record the award").click()
    expect(flash(page)).to_contain_text("The award is recorded: the bid is part awarded.")
    expect(page.locator("#award-amount")).to_have_text("£8,800")
    page.get_by_label("Amount received (£)").fill("8,800")
    page.get_by_label("Date it arrived").fill(today.isoformat())
    page.get_by_role("button", name="Record the payment").click()
    expect(flash(page)).to_have_text("The funder's payment is recorded in the restricted fund.")
    expect(page.locator("#fund-balance")).to_have_text("£8,000")  # £800 fee to the Foundation
    devizes = page.locator("form.step").filter(has_text="Pay Devizes Youth Club")
    devizes.get_by_label("Amount to pay (£)").fill("5,333.33")
    devizes.get_by_label("Date paid").fill(today.isoformat())
    devizes.get_by_role("button", name="Pay the instalment").click()
    expect(flash(page)).to_have_text("Paid to Devizes Youth Club.")
    expect(page.locator("#fund-balance")).to_have_text("£2,666.67")
    screenshot(page, "bids-05-award")
    sam.assert_clean()

    # --- 4. the partner submits its monitoring return ---
    visitor = browse("pat-again")
    p = visitor.page
    sign_in(p, live_server, "pat@devizes.example.org")
    p.goto("/bids")
    p.get_by_role("link", name=TITLE).click()
    p.get_by_role("link", name="Payments, sub-awards and monitoring").click()
    p.get_by_role("link", name="Devizes Youth Club's return").click()
    p.get_by_label("Sessions delivered").fill("12")
    p.get_by_label("Outcomes").fill("Thirty young people came every week; incidents fell by a third.")
    p.get_by_label("A young person's story").fill(
        "A boy who was often in trouble now helps run the sessions."
    )
    p.locator("#reach").get_by_label("Devizes", exact=True).fill("35")
    p.locator("#spend").get_by_label("Staff").fill("2,500")
    p.get_by_role("button", name="Submit the return").click()
    expect(flash(p)).to_contain_text("submitted")
    screenshot(p, "bids-06-return")
    visitor.assert_clean()

    # --- 5. the consolidated return adds up ---
    page.goto("/bids")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Payments, sub-awards and monitoring").click()
    page.get_by_role("link", name="The consolidated return for").click()
    expect(page.locator("#total-young-people")).to_have_text("35")
    expect(page.locator("#total-sessions")).to_have_text("12")
    expect(page.locator("#total-spent")).to_have_text("£2,500")
    expect(page.locator("#per-partner")).to_contain_text("Trowbridge Detached")
    screenshot(page, "bids-07-consolidated")
    sam.assert_clean()

    bid = db.session.scalars(sa.select(Bid).where(Bid.title == TITLE)).one()
    db.session.refresh(bid)
    assert bid.status is BidStatus.PART_AWARDED
    assert ledger.check_balanced() == []
