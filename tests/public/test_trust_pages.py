"""The pages every footer links to: accessibility statement, privacy notice, contact and open data. Anyone may read
them; each states what the platform really does and links to the real pages and files it talks about."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from foundation.grants import opendata
from foundation.grants.models import RoundStatus
from foundation.types import utcnow
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_awarded_grant, make_round

CONTACT_EMAIL = "enquiries@wypf.example"
CONTACT_PHONE = "01632 960 555"
POSTAL_ADDRESS = "Wiltshire Young People's Foundation, PO Box 77, Devizes, Wiltshire"

PAGES = {
    "/accessibility": "Accessibility statement",
    "/privacy": "Privacy notice",
    "/contact": "Contact us",
    "/open-data": "Open data: the grants we award",
}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {
        **app_config,
        "FOUNDATION_CONTACT_EMAIL": CONTACT_EMAIL,
        "FOUNDATION_CONTACT_PHONE": CONTACT_PHONE,
        "FOUNDATION_POSTAL_ADDRESS": POSTAL_ADDRESS,
        "FOUNDATION_ORG_ID": "360G-wypf-test",
    }


class Outline(HTMLParser):
    """The parts of a page these tests read: title, headings in order, links (and those inside <footer>)."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.headings: list[tuple[int, str]] = []
        self.links: dict[str, str] = {}  # link text -> href
        self.footer_links: dict[str, str] = {}
        self.inline_styles = 0
        self.inline_scripts = 0
        self._in: list[str] = []
        self._text: list[str] = []
        self._href: str | None = None
        self._in_footer = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes or tag == "style":
            self.inline_styles += 1
        if tag == "script" and not attributes.get("src"):
            self.inline_scripts += 1
        if tag == "footer":
            self._in_footer = True
        if tag in ("title", "h1", "h2", "h3", "h4", "h5", "h6", "a"):
            self._in.append(tag)
            self._text = []
            if tag == "a":
                self._href = attributes.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "footer":
            self._in_footer = False
        if not self._in or self._in[-1] != tag:
            return
        self._in.pop()
        text = " ".join("".join(self._text).split())
        if tag == "title":
            self.title = text
        elif tag == "a" and self._href is not None:
            self.links[text] = self._href
            if self._in_footer:
                self.footer_links[text] = self._href
        elif tag.startswith("h"):
            self.headings.append((int(tag[1]), text))

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def get_page(client, path: str) -> tuple[str, Outline]:
    resp = client.get(path)
    assert resp.status_code == 200, path
    html = resp.get_data(as_text=True)
    return html, outline(html)


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_answers_anyone_with_one_heading_in_order(client, db, path):  # noqa: ARG001
    _html, page = get_page(client, path)

    assert [text for level, text in page.headings if level == 1] == [PAGES[path]]
    assert page.title.startswith(PAGES[path].split(":")[0])
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), page.headings
    # The Content-Security-Policy refuses inline styles and scripts.
    assert page.inline_styles == 0 and page.inline_scripts == 0


def test_the_footer_of_every_page_links_the_four_pages(client, db):  # noqa: ARG001
    for path in ("/", "/members", *PAGES):
        _html, page = get_page(client, path)
        assert page.footer_links == {
            "Accessibility": "/accessibility",
            "Privacy": "/privacy",
            "Contact": "/contact",
            "Open data": "/open-data",
        }, path


def test_accessibility_statement_says_what_is_tested_and_whom_to_tell(client, db):  # noqa: ARG001
    html, page = get_page(client, "/accessibility")

    headings = [text for _, text in page.headings]
    for section in (
        "How accessible this website is",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Technical information about this website's accessibility",
        "How we tested this website",
        "Preparation of this accessibility statement",
    ):
        assert section in headings
    assert "WCAG 2.2" in html or "Web Content Accessibility Guidelines version 2.2" in html
    assert "axe-core" in html and "390 pixels" in html
    assert "Equality and Human Rights Commission" in html
    assert page.links["Equality Advisory and Support Service (EASS)"].startswith(
        "https://www.equalityadvisory"
    )
    assert f"mailto:{CONTACT_EMAIL}" in page.links.values()
    assert page.links["contact page"] == "/contact"
    assert "prepared on 30 November 2026" in html


def test_privacy_notice_names_the_controller_and_each_part_of_the_site(client, db):  # noqa: ARG001
    html, page = get_page(client, "/privacy")

    headings = [text for _, text in page.headings]
    for section in (
        "Who we are",
        "Your account",
        "Organisations and their documents",
        "Venue Bank bookings",
        "Grant applications",
        "Reviews and conflict declarations",
        "Awards and payments",
        "End-of-grant reports",
        "Messages and emails",
        "What we publish",
        "Our lawful bases",
        "Who we share it with",
        "How long we keep it",
        "Your rights",
    ):
        assert section in headings
    assert "Wiltshire Young People's Foundation is the controller" in html
    assert f"mailto:{CONTACT_EMAIL}" in page.links.values()
    assert "PO Box 77" in html
    for basis in ("Contract", "Legitimate interests", "Legal obligation"):
        assert f"<strong>{basis}</strong>" in html
    # What closing an account does, and the sign-in limit, as configured.
    assert '"Former user"' in html or "&#34;Former user&#34;" in html
    assert "after 30 days at most" in html
    assert "never individuals" in html


def test_privacy_notice_links_the_real_download_and_close_pages(client, db):  # noqa: ARG001
    _html, page = get_page(client, "/privacy")
    download = page.links["Download my data"]
    close = page.links["Close my account"]
    assert download == "/account/privacy/export"
    assert close == "/account/privacy#close"

    # Anonymous visitors are asked to sign in; a signed-in person gets the file and the closing form.
    assert "/login" in client.get(download).headers["Location"]
    user = make_user(email="reader@example.org", name="Rita Reader")
    db.session.commit()
    login(client, user)
    export = client.get(download)
    assert export.status_code == 200
    assert export.mimetype == "application/json"
    assert export.get_json()["account"]["email"] == "reader@example.org"
    privacy_page = client.get(close.split("#")[0])
    assert privacy_page.status_code == 200
    assert 'id="close"' in privacy_page.get_data(as_text=True)


def test_contact_page_shows_the_configured_details_and_the_safeguarding_advice(client, db):  # noqa: ARG001
    html, page = get_page(client, "/contact")

    assert page.links[CONTACT_EMAIL] == f"mailto:{CONTACT_EMAIL}"
    assert page.links[CONTACT_PHONE] == "tel:01632960555"
    assert "PO Box 77<br>Devizes<br>Wiltshire" in html
    assert "If a young person is in immediate danger, call 999." in html
    assert "Wiltshire Council or Swindon Borough Council" in html
    headings = [text for _, text in page.headings]
    for topic in ("Membership", "Venue bookings", "Seed grants"):
        assert topic in headings


def test_open_data_page_links_the_files_the_scorecard_and_the_licence(client, db):
    round_ = make_round(status=RoundStatus.DECIDED, name="Autumn seed grants")
    round_.decided_at = utcnow()
    make_awarded_grant(round_, make_org(name="Melksham Youth Club", town="Melksham"), title="Summer sessions")
    db.session.commit()

    html, page = get_page(client, "/open-data")

    json_url = page.links["Seed grants awarded (JSON)"]
    csv_url = page.links["Seed grants awarded (CSV)"]
    assert json_url == "/open-data/360giving.json" and csv_url == "/open-data/360giving.csv"
    assert page.links["scorecard"] == "/scorecard"
    # The licence the page states is the one the data package carries.
    package = client.get(json_url)
    assert package.status_code == 200
    assert package.get_json()["license"] == opendata.LICENSE
    assert opendata.LICENSE in page.links.values() and "CC BY 4.0" in html
    data = client.get(csv_url)
    assert data.status_code == 200 and "Melksham Youth Club" in data.get_data(as_text=True)
    # The identifiers the page names are the ones in the files.
    assert "<code>360G-wypf-test</code>" in html
    assert package.get_json()["grants"][0]["fundingOrganization"][0]["id"] == "360G-wypf-test"
    assert "360G-wypf-" in html and "GB-CHC-" in html and "GB-COH-" in html
    assert "Personal data." in html
