"""In the browser, a failed form's error summary takes focus, and each of its links moves focus to its field
(radio groups included); the page title starts "Error:"."""

from __future__ import annotations

from tests.factories import make_user

PASSWORD = "correct horse battery staple"


def test_the_error_summary_takes_focus_and_its_links_reach_their_fields(db, live_server, browse):  # noqa: ARG001
    from tests.factories import PASSWORD as FACTORY_PASSWORD

    user = make_user(email="kim@example.org")
    db.session.commit()
    visitor = browse("kim")
    page = visitor.page
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", FACTORY_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")

    page.goto("/organisations/new")
    page.click("form button[type=submit]")
    page.wait_for_selector(".error-summary")

    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    links = page.locator(".error-summary a")
    assert links.count() >= 3
    reached = []
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")[1:]
        links.nth(i).click()
        reached.append(page.evaluate("document.activeElement.id") == target)
        page.evaluate("document.querySelector('.error-summary').focus()")
    assert all(reached), reached
    radio_links = [
        links.nth(i).get_attribute("href")
        for i in range(links.count())
        if links.nth(i).get_attribute("href").endswith("-0")
    ]
    assert radio_links, "a radio group's problem links to its first option"
    visitor.assert_clean()
