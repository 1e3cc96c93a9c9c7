"""A seed grant from application to the public scorecard in Chromium, with real CSRF, real SMTP and a real server.

An organisation's admin applies to an open round; staff close the round, start the review and assign two panel
reviewers; one declares a conflict of interest, the other scores the application; staff read the ranking and
award part of what was asked; the admin accepts the conditions; staff mark the round decided; and anyone can see
the grant on the public scorecard and in the 360Giving open data.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.grants import money
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    DeclineReason,
    Grant,
    GrantStatus,
    ReviewAssignment,
    RoundStatus,
)
from foundation.ledger import service as ledger
from foundation.types import LONDON, utcnow
from tests.factories import PASSWORD, make_org, make_user
from tests.grants.factories import make_round

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails) with the reason
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

ORG = "Calne Youth Makers"
ROUND = "Spring seed grants"
PROJECT = "Makerspace Saturdays"
DESCRIPTION = (
    "Young people run a Saturday makerspace in the old library: electronics, sewing and bike repair."
)
QUESTION = "How will young people lead this project?"
SCORES = {"Need": 4, "Young people's voice": 5, "Deliverability": 3, "Value for money": 4}
# (4/5 * 3 + 5/5 * 2 + 3/5 * 2 + 4/5 * 1) / 8 weight = 0.8 -> 80.0 out of 100
WEIGHTED = "80.0"


def sign_in(page, live_server, email: str) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def to_rounds(page) -> None:
    """Staff reach the rounds through the navigation's staff page."""
    nav(page, "Staff").click()
    page.get_by_role("main").get_by_role("link", name="Seed grants", exact=True).click()


def flash(page):
    return page.locator(".flashes").get_by_role("status")


def test_seed_grant_from_application_to_public_scorecard(db, live_server, smtp, browse, screenshot):
    staff = make_user(email="sam@wypf.org.uk", name="Sam Staff", staff=True)
    admin = make_user(email="amira@makers.example.org", name="Amira Admin")
    make_org(admin=admin, name=ORG, town="Calne")
    make_user(email="rowan@panel.example.org", name="Rowan Reviewer", panel=True)
    make_user(email="priya@panel.example.org", name="Priya Panel", panel=True)
    round_ = make_round(
        RoundStatus.OPEN, budget_pence=2_000_000, min_award_pence=50_000, max_award_pence=500_000, name=ROUND,
        questions=(QUESTION,), by=staff,
    )  # fmt: skip
    db.session.add(DeclineReason(label="Outside the round's priorities"))
    round_id = round_.id
    db.session.commit()
    today = utcnow().astimezone(LONDON).date()
    starts, ends = today + timedelta(days=45), today + timedelta(days=225)

    # --- 1. the organisation's admin finds the round and applies ---
    amira = browse("amira")
    page = amira.page
    sign_in(page, live_server, "amira@makers.example.org")
    nav(page, "Seed grants").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seed grants")
    page.locator("#open").get_by_role("link", name=ROUND).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ROUND)
    expect(page.locator("#dates")).to_contain_text("£500 to £5,000")
    screenshot(page, "grants-01-round")
    page.get_by_role("link", name="Start an application").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Apply to {ROUND}")
    expect(page.get_by_text(f"You are applying for {ORG}.")).to_be_visible()
    screenshot(page, "grants-02-start")
    page.get_by_role("button", name="Start an application").click()

    expect(flash(page)).to_have_text(f"Application started for {ORG}. Save your draft as you go.")
    expect(page.get_by_role("heading", level=1)).to_have_text("New application")
    page.get_by_label("Project title").fill(PROJECT)
    page.get_by_label("Summary").fill("A weekly makerspace run by and for young people in Calne.")
    page.get_by_label("About the project").fill(DESCRIPTION)
    page.get_by_label("Outcomes").fill(
        "Young people gain practical skills and lead sessions for younger ones."
    )
    page.get_by_label("Partners").fill("Calne Library; Calne Bike Hub")
    page.get_by_label("Calne", exact=True).check()
    page.get_by_label("Chippenham", exact=True).check()
    page.get_by_label("Number of young people").fill("60")
    page.get_by_label("Youngest age").fill("12")
    page.get_by_label("Oldest age").fill("18")
    page.get_by_label("Start date").fill(starts.isoformat())
    page.get_by_label("End date").fill(ends.isoformat())
    page.get_by_label("Amount requested (£)").fill("3,000.00")
    page.get_by_label("Item 1", exact=True).fill("Youth worker hours")
    page.get_by_label("Cost of item 1", exact=True).fill("1,800")
    page.get_by_label("Item 2", exact=True).fill("Tools and materials")
    page.get_by_label("Cost of item 2", exact=True).fill("1,200.00")
    page.get_by_label(QUESTION).fill("A crew of eight young people plans each term and runs the sessions.")
    page.get_by_role("button", name="Save draft").click()

    expect(flash(page)).to_have_text("Draft saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT)
    expect(page.get_by_label("Project title")).to_have_value(PROJECT)
    expect(page.get_by_label("Calne", exact=True)).to_be_checked()
    expect(page.locator("#budget tfoot")).to_contain_text("£3,000")
    screenshot(page, "grants-03-draft")
    page.get_by_role("button", name="Submit application").click()

    expect(flash(page)).to_contain_text("Application submitted. Its reference is WYPF-")
    reference = re.search(r"WYPF-\d{4}-\w+-\d{4}", flash(page).inner_text()).group(0)
    expect(page.get_by_text(f"Reference {reference}")).to_be_visible()
    expect(page.get_by_text("Your application is submitted and can no longer be changed.")).to_be_visible()
    expect(page.locator(".tag")).to_have_text("Submitted")
    screenshot(page, "grants-04-submitted")
    amira.assert_clean()

    # --- 2. staff close the round, start the review and assign two reviewers ---
    sam = browse("sam")
    staff_page = sam.page
    sign_in(staff_page, live_server, "sam@wypf.org.uk")
    to_rounds(staff_page)
    expect(staff_page.get_by_role("heading", level=1)).to_have_text("Seed grants: rounds")
    staff_page.get_by_role("row").filter(has_text=ROUND).get_by_role("link", name=ROUND).click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(ROUND)
    expect(staff_page.locator("#budget-total")).to_have_text("£20,000")
    screenshot(staff_page, "grants-05-round-open")
    staff_page.get_by_role("button", name="Close the round").click()
    expect(flash(staff_page)).to_have_text(f"{ROUND} is now closed.")
    staff_page.get_by_role("button", name="Start the review").click()
    expect(flash(staff_page)).to_have_text(f"{ROUND} is now in review.")
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text("In review")
    screenshot(staff_page, "grants-06-round-in-review")

    staff_page.get_by_role("link", name="Reviewers and progress").click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(f"Reviewers: {ROUND}")
    for reviewer in ("Rowan Reviewer", "Priya Panel"):
        staff_page.get_by_label("Application", exact=True).select_option(label=f"{reference} · {PROJECT}")
        staff_page.get_by_label("Reviewer", exact=True).select_option(label=reviewer)
        staff_page.get_by_role("button", name="Assign", exact=True).click()
        expect(flash(staff_page)).to_have_text(f"{reviewer} will review {reference}.")
    assigned = staff_page.get_by_role("row").filter(has_text=reference)
    expect(assigned).to_contain_text("0 of 2")
    expect(assigned).to_contain_text("Rowan Reviewer: not yet declared")
    expect(assigned).to_contain_text("Priya Panel: not yet declared")
    screenshot(staff_page, "grants-07-reviewers")

    # --- 3. reviewer one declares a conflict of interest and never sees the application's details ---
    rowan = browse("rowan")
    panel_page = rowan.page
    sign_in(panel_page, live_server, "rowan@panel.example.org")
    nav(panel_page, "Panel").click()
    expect(panel_page.get_by_role("heading", level=1)).to_have_text("Your reviews")
    mine = panel_page.get_by_role("row").filter(has_text=reference)
    expect(mine).to_contain_text("Declare any conflict of interest")
    mine.get_by_role("link", name=reference).click()
    expect(panel_page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {PROJECT}")
    expect(panel_page.get_by_role("heading", name="First: any conflict of interest?")).to_be_visible()
    expect(panel_page.get_by_text(DESCRIPTION)).to_have_count(0)
    panel_page.get_by_label("Yes: I have a conflict of interest").check()
    panel_page.get_by_label("If you have a conflict, what is it?").fill("I am a trustee of Calne Bike Hub.")
    screenshot(panel_page, "grants-08-declare-conflict")
    panel_page.get_by_role("button", name="Confirm").click()

    expect(flash(panel_page)).to_have_text(
        "Your conflict of interest is recorded. Staff will ask someone else to review."
    )
    expect(panel_page.get_by_role("heading", name="Conflict of interest declared")).to_be_visible()
    expect(panel_page.get_by_text("I am a trustee of Calne Bike Hub.")).to_be_visible()
    expect(panel_page.get_by_text(DESCRIPTION)).to_have_count(0)
    expect(panel_page.get_by_role("button", name="Submit review")).to_have_count(0)
    screenshot(panel_page, "grants-09-conflict-declared")
    panel_page.get_by_role("link", name="Your reviews").click()
    expect(panel_page.get_by_role("row").filter(has_text=reference)).to_contain_text(
        "Conflict of interest declared"
    )

    # --- 4. reviewer two has no conflict, reads the application and scores every criterion ---
    priya = browse("priya")
    score_page = priya.page
    sign_in(score_page, live_server, "priya@panel.example.org")
    nav(score_page, "Panel").click()
    score_page.get_by_role("row").filter(has_text=reference).get_by_role("link", name=reference).click()
    expect(score_page.get_by_text(DESCRIPTION)).to_have_count(0)
    score_page.get_by_label("No: I have no conflict of interest").check()
    score_page.get_by_role("button", name="Confirm").click()

    expect(flash(score_page)).to_have_text("Thank you. You can now read and score the application.")
    expect(score_page.get_by_text(DESCRIPTION)).to_be_visible()
    expect(score_page.get_by_text("A crew of eight young people plans each term")).to_be_visible()
    for name, score in SCORES.items():
        criterion = score_page.get_by_role("group", name=re.compile(rf"^{re.escape(name)} \(weight"))
        criterion.get_by_label(f"{name}: score from 0 to 5").fill(str(score))
        criterion.get_by_text("Add a comment").click()
        criterion.get_by_label("Comments", exact=True).fill(f"{name}: a clear, well-argued case.")
    # The running total follows the scores as they are typed.
    expect(score_page.locator("#weighted-total")).to_have_text(WEIGHTED)
    screenshot(score_page, "grants-10-scoring")
    score_page.get_by_role("button", name="Submit review").click()

    expect(flash(score_page)).to_have_text("Your review is submitted. Thank you.")
    expect(score_page.get_by_text(f"Your weighted score: {WEIGHTED} out of 100.")).to_be_visible()
    need = score_page.get_by_role("row").filter(
        has=score_page.get_by_role("rowheader", name=re.compile("^Need"))
    )
    expect(need).to_contain_text("4 / 5")
    expect(need).to_contain_text("Need: a clear, well-argued case.")
    screenshot(score_page, "grants-11-review-submitted")

    # --- 5. staff read the ranking and award part of what was asked ---
    to_rounds(staff_page)
    staff_page.get_by_role("row").filter(has_text=ROUND).get_by_role("link", name=ROUND).click()
    staff_page.get_by_role("link", name="Ranking and decisions").click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(f"Ranking: {ROUND}")
    ranked = staff_page.get_by_role("row").filter(has_text=reference)
    expect(ranked).to_contain_text(f"Priya Panel: {WEIGHTED}")
    expect(ranked).not_to_contain_text("Rowan Reviewer")
    expect(ranked).to_contain_text(ORG)
    expect(ranked).to_contain_text("£3,000")
    screenshot(staff_page, "grants-12-ranking")
    ranked.get_by_role("link", name=f"Decide on {reference}").click()

    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(PROJECT)
    expect(staff_page.locator("#requested")).to_have_text("£3,000")
    expect(staff_page.get_by_label("Reason for declining")).to_contain_text("Outside the round's priorities")
    staff_page.get_by_label("Awarded in part").check()
    staff_page.get_by_label("Amount to award (award part only)").fill("2,000.00")
    staff_page.get_by_label("Feedback for the applicant").fill(
        "The panel liked the youth-led plan; we fund the youth worker hours and part of the tools."
    )
    screenshot(staff_page, "grants-13-decide")
    staff_page.get_by_role("button", name="Record the decision").click()

    expect(flash(staff_page)).to_have_text(f"{reference}: awarded in part. The organisation has been told.")
    expect(staff_page.locator("#current-decision")).to_contain_text("Awarded in part: £2,000")
    screenshot(staff_page, "grants-14-decided")
    told = [
        m
        for m in smtp.messages
        if m["To"] == "amira@makers.example.org"
        and m["Subject"] == f"{reference}: you have been awarded a seed grant"
    ]
    assert len(told) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]

    # --- 6. the applicant signs in again, finds the award in the inbox and accepts the conditions ---
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "amira@makers.example.org")
    expect(page.locator(".site-header .badge")).to_have_text("1")
    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    subject = f"{reference}: you have been awarded a seed grant"
    page.get_by_role("row").filter(has_text=subject).get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    page.get_by_role("link", name="Open", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(PROJECT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Offered")
    expect(page.locator("#award")).to_have_text("£2,000 (you asked for £3,000)")
    expect(page.get_by_text("we fund the youth worker hours and part of the tools")).to_be_visible()
    screenshot(page, "grants-15-offer")
    page.get_by_label("I have read the conditions and accept them on behalf of the organisation").check()
    page.get_by_role("button", name="Accept the conditions").click()

    expect(flash(page)).to_have_text(
        "Thank you: the grant conditions are accepted. Payments follow the schedule below."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")
    expect(page.locator("#accepted")).to_contain_text("by Amira Admin")
    screenshot(page, "grants-16-accepted")
    nav(page, "Dashboard").click()
    page.get_by_role("link", name=ORG).first.click()
    page.get_by_role("link", name="Our applications and grants").click()
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("Awarded")
    page.get_by_role("link", name=PROJECT).click()
    expect(page.get_by_text(f"{ORG} was awarded a seed grant of £2,000 for this project.")).to_be_visible()
    screenshot(page, "grants-17-application-awarded")
    page.get_by_role("link", name="See the grant").click()
    expect(page.locator("#award")).to_have_text("£2,000 (you asked for £3,000)")

    # --- 7. staff see the accepted grant, then mark the round decided ---
    to_rounds(staff_page)
    staff_page.get_by_role("row").filter(has_text=ROUND).get_by_role("link", name=ROUND).click()
    staff_page.get_by_role("link", name="Applications", exact=True).click()
    staff_page.get_by_role("row").filter(has_text=ORG).get_by_role("link", name=reference).click()
    expect(staff_page.get_by_role("heading", level=1)).to_have_text(PROJECT)
    screenshot(staff_page, "grants-18-staff-application")
    staff_page.get_by_role("link", name="The grant", exact=True).click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text("Active")
    expect(staff_page.locator("#accepted")).to_contain_text("by Amira Admin")
    to_rounds(staff_page)
    staff_page.get_by_role("row").filter(has_text=ROUND).get_by_role("link", name=ROUND).click()
    expect(staff_page.locator("#blockers")).to_have_count(0)
    staff_page.get_by_role("button", name="Mark the round decided").click()
    expect(flash(staff_page)).to_have_text(f"{ROUND} is now decided.")
    expect(staff_page.get_by_text("This round is decided")).to_be_visible()
    expect(staff_page.locator("#budget-committed")).to_have_text("£2,000")
    screenshot(staff_page, "grants-19-round-decided")

    # --- 8. anyone can see the grant on the scorecard and in the 360Giving open data ---
    visitor = browse("visitor")
    public = visitor.page
    public.goto("/")
    nav(public, "Seed grants").click()
    decided = public.locator("#decided").get_by_role("listitem").filter(has_text=ROUND)
    expect(decided).to_contain_text("decided")
    decided.get_by_role("link", name="Who was funded, on the scorecard").click()
    expect(public.get_by_role("heading", level=1)).to_have_text(f"{ROUND}: grants awarded")
    assert public.url.endswith(f"/scorecard/rounds/{round_id}")
    funded = public.get_by_role("row").filter(has_text=ORG)
    expect(funded).to_contain_text(PROJECT)
    expect(funded).to_contain_text("Calne, Chippenham")
    expect(funded).to_contain_text("£2,000")
    screenshot(public, "grants-20-scorecard-round")
    public.get_by_role("link", name="Seed grants scorecard").click()
    expect(public.get_by_role("heading", level=1)).to_have_text("Seed grants scorecard")
    with public.expect_navigation() as opened:
        public.get_by_role("link", name="Grants awarded, 360Giving JSON").click()
    response = opened.value
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    (published,) = json.loads(response.text())["grants"]
    assert published["title"] == PROJECT
    assert published["recipientOrganization"][0]["name"] == ORG
    assert published["amountAwarded"] == 2000 and published["amountAppliedFor"] == 3000
    assert published["id"] == f"360G-wypf-{reference}"

    for person in (amira, sam, rowan, priya, visitor):
        person.assert_clean()

    # --- what was written ---
    db.session.expire_all()
    application = db.session.scalar(sa.select(Application).where(Application.reference == reference))
    assert application is not None and application.status is ApplicationStatus.AWARDED
    grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == application.id))
    assert grant is not None
    assert grant.status is GrantStatus.ACTIVE and grant.accepted_at is not None
    assert grant.amount_pence == 200_000
    assert money.money_for(application.round).committed_pence == 200_000
    assert ledger.check_balanced() == []
    by_reviewer = {
        a.reviewer.email: a
        for a in db.session.scalars(
            sa.select(ReviewAssignment).where(ReviewAssignment.application_id == application.id)
        )
    }
    conflicted = by_reviewer["rowan@panel.example.org"]
    assert conflicted.conflict is ConflictDeclaration.CONFLICT
    assert conflicted.conflict_reason == "I am a trustee of Calne Bike Hub."
    assert conflicted.declared_at is not None and conflicted.submitted_at is None
    scored = by_reviewer["priya@panel.example.org"]
    assert scored.conflict is ConflictDeclaration.NONE and scored.submitted_at is not None
    assert application.round.status is RoundStatus.DECIDED
