"""A new member's whole first journey in Chromium, with real CSRF, real SMTP and a real HTTP server.

Register, confirm the address from the email, register an organisation; staff find it in the vetting queue and
approve it; the member sees the decision in the inbox and the organisation in the public directory.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails) with the reason
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

ORG = "Swindon Skate Collective"
URL = re.compile(r"https?://[^\s<>\"]+")


def links_in(msg) -> list[str]:
    text = msg.get_body(preferencelist=("plain",)).get_content()
    return URL.findall(text)


def email_to(smtp, address: str, subject: str):
    """The message to `address` with `subject`; mail is sent during the request, so it is already here."""
    found = [m for m in smtp.messages if m["To"] == address and m["Subject"] == subject]
    assert found, f"no {subject!r} to {address}; have {[(m['To'], m['Subject']) for m in smtp.messages]}"
    return found[-1]


def test_member_registers_organisation_and_staff_approve_it(db, live_server, smtp, browse, screenshot):
    make_user(email="vera@wypf.org.uk", name="Vera Vetting", staff=True)
    db.session.commit()

    # --- a youth worker finds the site and creates an account ---
    ada = browse("ada")
    page = ada.page
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Working together for young people")
    screenshot(page, "01-home")

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    page.get_by_label("Your name").fill("Ada Worker")
    page.get_by_label("Email address").fill("Ada@Example.org")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm password").fill("a long enough password")
    screenshot(page, "02-register")
    page.get_by_role("button", name="Create account").click()

    # The same answer as for an address that already has an account; she signs in with her new password.
    expect(page).to_have_url(live_server("/login"))
    expect(page.get_by_role("status")).to_contain_text(
        "Check your email: we have sent a message to ada@example.org"
    )
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server("/dashboard"))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.locator(".site-header")).to_contain_text("Ada Worker")

    # --- the confirmation email arrives over SMTP; its link opens in the same browser ---
    msg = email_to(smtp, "ada@example.org", "Confirm your email address")
    (confirm,) = [u for u in links_in(msg) if "/confirm/" in u]
    assert confirm.startswith(live_server.url + "/confirm/")
    page.goto(confirm)
    expect(page).to_have_url(live_server("/dashboard"))
    expect(page.get_by_role("status")).to_contain_text("your email address is confirmed")
    expect(page.get_by_role("heading", name="Confirm your email address")).to_have_count(0)
    expect(page.get_by_text("You do not belong to an organisation yet")).to_be_visible()
    screenshot(page, "03-dashboard")

    # --- she registers her organisation through the form ---
    page.get_by_role("link", name="Register an organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your organisation")
    page.get_by_label("Organisation name").fill(ORG)
    page.get_by_label("Sector").select_option(label="Community")
    page.get_by_label("Legal form").select_option(label="Registered charity")
    page.get_by_label("Charity number (England & Wales)").fill("1012345")
    page.get_by_label("What you do").fill(
        "Skateboarding sessions and a youth-led skate park crew, ages 10 to 19."
    )
    page.get_by_label("Youngest age served").fill("10")
    page.get_by_label("Oldest age served").fill("19")
    page.get_by_label("Address line 1").fill("Unit 4, Kembrey Park")
    page.get_by_label("Town").fill("Swindon")
    page.get_by_label("Postcode").fill("sn2 8ut")
    page.get_by_label("Swindon").check()
    page.get_by_label("Safeguarding lead: name").fill("Sam Lead")
    page.get_by_label("Safeguarding lead: email").fill("sam@skate.example.org")
    screenshot(page, "04-organisation-form")
    page.get_by_role("button", name="Register organisation").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(ORG)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
    expect(page.get_by_role("status")).to_contain_text(f"{ORG} is registered and waiting for vetting")
    expect(page.locator(".facts")).to_contain_text("SN2 8UT")  # the postcode was tidied
    expect(page.get_by_text("awaiting vetting")).to_be_visible()
    screenshot(page, "05-organisation")

    # --- staff are told by email, sign in in their own browser and find it in the queue ---
    told = email_to(smtp, "vera@wypf.org.uk", f"New organisation awaiting vetting: {ORG}")
    assert any(u.startswith(live_server.url + "/staff/organisations/") for u in links_in(told))

    vera = browse("vera")
    staff_page = vera.page
    staff_page.goto("/login")
    staff_page.get_by_label("Email address").fill("vera@wypf.org.uk")
    staff_page.get_by_label("Password").fill(PASSWORD)
    staff_page.get_by_role("button", name="Sign in").click()
    expect(staff_page).to_have_url(live_server("/dashboard"))
    expect(staff_page.locator(".site-header .badge")).to_have_text("1")

    staff_page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff", exact=True).click()
    staff_page.get_by_role("main").get_by_role("link", name="Vetting", exact=True).click()
    expect(staff_page).to_have_url(live_server("/staff/vetting"))
    row = staff_page.get_by_role("row").filter(has_text=ORG)
    expect(row).to_contain_text("Swindon")
    expect(row).to_contain_text("Registered charity")
    expect(row).to_contain_text("0 uploaded")
    screenshot(staff_page, "06-vetting-queue")

    row.get_by_role("link", name=ORG).click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(ORG)
    expect(staff_page.get_by_text("Ada Worker (ada@example.org), admin")).to_be_visible()
    staff_page.get_by_label("Message to the organisation").fill(
        "Welcome aboard. Please upload your insurance."
    )
    screenshot(staff_page, "07-staff-review")
    staff_page.get_by_role("button", name="Approve").click()

    expect(staff_page).to_have_url(live_server("/staff/vetting"))
    expect(staff_page.get_by_role("status")).to_have_text(f"{ORG}: approved.")
    expect(staff_page.get_by_text("The queue is empty")).to_be_visible()

    # --- the member sees the decision: unread badge, inbox, message, email, public directory ---
    page.goto("/dashboard")
    badge = page.locator(".site-header .badge")
    expect(badge).to_have_text("1")
    expect(badge).to_have_attribute("aria-label", "1 unread")
    expect(page.locator(".card").filter(has_text=ORG)).to_contain_text("Approved")

    page.get_by_role("link", name=re.compile(r"^Inbox")).click()
    expect(page).to_have_url(live_server("/inbox"))
    item = page.get_by_role("row").filter(has_text=f"{ORG}: approved")
    expect(item).to_contain_text("(unread)")
    screenshot(page, "08-inbox")

    item.get_by_role("link", name=f"{ORG}: approved").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{ORG}: approved")
    expect(page.get_by_role("article")).to_contain_text("Welcome aboard. Please upload your insurance.")
    expect(page.locator(".site-header .badge")).to_have_count(0)  # reading it cleared the badge
    page.get_by_role("link", name="Open", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")

    decided = email_to(smtp, "ada@example.org", f"{ORG}: approved")
    assert (
        "Welcome aboard. Please upload your insurance."
        in decided.get_body(preferencelist=("plain",)).get_content()
    )
    assert any(u.startswith(live_server.url + "/organisations/") for u in links_in(decided))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_text("1 organisation found.")).to_be_visible()
    expect(page.locator(".card").filter(has_text=ORG)).to_contain_text("Swindon · Community")
    screenshot(page, "09-member-directory")

    ada.assert_clean()
    vera.assert_clean()
