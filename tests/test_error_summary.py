"""Forms report problems the GOV.UK way: a summary at the top whose links reach their fields (radio and checkbox
groups included), the page title starting "Error:", hints and errors tied to their inputs."""

from __future__ import annotations

import re

from tests.factories import login, make_user


def ids_in(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def summary_links(html: str) -> list[str]:
    start = html.index('class="error-summary"')
    block = html[start : html.index("</div>", start)]
    return re.findall(r'<a href="#([^"]+)"', block)


def test_a_failed_organisation_form_links_every_problem_to_its_field(client, db):
    user = make_user()
    db.session.commit()
    login(client, user)

    resp = client.post("/organisations/new", data={"name": ""})

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r"<title>Error: ", html)
    links = summary_links(html)
    assert len(links) >= 3, links
    assert set(links) <= ids_in(html), "every link goes to an element on the page"
    # A choice (radio group) is reached through its first option, as the summary cannot focus a fieldset.
    assert any(re.fullmatch(r"[a-z_]+-0", link) for link in links), links


def test_hints_and_errors_describe_their_input(client, db):
    user = make_user()
    db.session.commit()
    login(client, user)

    html = client.post("/organisations/new", data={"name": ""}).get_data(as_text=True)

    for hint_id in re.findall(r'<p class="hint" id="([^"]+)-hint"', html):
        described = re.search(rf'aria-describedby="([^"]*\b{re.escape(hint_id)}-hint\b[^"]*)"', html)
        assert described, f"the hint of {hint_id} is not tied to its input"
    invalid = re.findall(
        r'aria-invalid="true"[^>]*aria-describedby="([^"]+)"|aria-describedby="([^"]+)"[^>]*aria-invalid="true"',
        html,
    )
    assert invalid and all("-error" in (a or b) for a, b in invalid)


def test_a_page_without_problems_has_a_plain_title(client, db):
    html = client.get("/login").get_data(as_text=True)
    assert "<title>Error:" not in html and "error-summary" not in html
