"""Public pages: the home page, the member directory and its search, and public member profiles."""

from __future__ import annotations

import re

import pytest

from foundation.members.models import OrganisationStatus, Sector
from foundation.public.views import DIRECTORY_PAGE_SIZE
from tests.factories import login, make_org, make_user


def listed(page: str) -> list[str]:
    """Organisation names on a directory page, in the order shown."""
    return re.findall(r'<h3><a href="/members/\d+">(.*?)</a></h3>', page)


def directory(client, **params) -> str:
    resp = client.get("/members", query_string=params)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_home_page_explains_the_foundation(client, db):
    make_org(name="Approved One")
    make_org(name="Approved Two")
    make_org(name="Still Pending", status=OrganisationStatus.PENDING)
    db.session.commit()

    resp = client.get("/")

    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Wiltshire Young People's Foundation brings together youth groups" in page
    for topic in (
        "Venue Bank",
        "Seed grants",
        "Campaigns",
        "Gift Aid",
        "vetted by Foundation staff",
        "Funding together",
        "Training and events",
    ):
        assert topic in page
    assert "<strong>2</strong> vetted member organisations" in page
    # Each feature the page offers links to where it is.
    for path in ("/venues", "/grants", "/campaigns", "/funding", "/events", "/library"):
        assert f'href="{path}"' in page
    assert 'href="/register"' in page and 'href="/members"' in page


def test_home_page_offers_a_signed_in_user_their_organisations(client, db):
    user = make_user()
    db.session.commit()
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "Go to your organisations" in page and "Join the Foundation" not in page


@pytest.fixture
def members(db):
    make_org(name="Chippenham Youth Theatre", town="Chippenham", sector=Sector.VOLUNTARY)
    make_org(name="Chippenham Town Council Youth Service", town="Chippenham", sector=Sector.PUBLIC)
    make_org(name="Swindon Skate Collective", town="Swindon", sector=Sector.COMMUNITY)
    make_org(name="Devizes Youth Football", town="Devizes", sector=Sector.VOLUNTARY)
    make_org(name="Marlborough Tutors Ltd", town="Marlborough", sector=Sector.PRIVATE)
    for status in (
        OrganisationStatus.PENDING,
        OrganisationStatus.CHANGES_REQUESTED,
        OrganisationStatus.REJECTED,
        OrganisationStatus.SUSPENDED,
    ):
        make_org(name=f"Hidden Youth {status.value}", town="Chippenham", status=status)
    db.session.commit()


def test_directory_lists_only_approved_organisations_by_name(client, members):
    page = directory(client)
    assert listed(page) == [
        "Chippenham Town Council Youth Service",
        "Chippenham Youth Theatre",
        "Devizes Youth Football",
        "Marlborough Tutors Ltd",
        "Swindon Skate Collective",
    ]
    assert "5 organisations found." in page
    assert "Hidden Youth" not in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"q": "youth"},
            ["Chippenham Town Council Youth Service", "Chippenham Youth Theatre", "Devizes Youth Football"],
        ),
        ({"q": "  SKATE "}, ["Swindon Skate Collective"]),
        ({"town": "Chippenham"}, ["Chippenham Town Council Youth Service", "Chippenham Youth Theatre"]),
        ({"town": "chippenham"}, ["Chippenham Town Council Youth Service", "Chippenham Youth Theatre"]),
        ({"sector": "voluntary"}, ["Chippenham Youth Theatre", "Devizes Youth Football"]),
        ({"sector": "private"}, ["Marlborough Tutors Ltd"]),
        (
            {"q": "youth", "town": "Chippenham"},
            ["Chippenham Town Council Youth Service", "Chippenham Youth Theatre"],
        ),
        ({"q": "youth", "sector": "voluntary"}, ["Chippenham Youth Theatre", "Devizes Youth Football"]),
        ({"town": "Chippenham", "sector": "public"}, ["Chippenham Town Council Youth Service"]),
        ({"q": "theatre", "town": "Chippenham", "sector": "voluntary"}, ["Chippenham Youth Theatre"]),
        ({"q": "theatre", "town": "Devizes"}, []),
        # Wildcards are searched for literally.
        ({"q": "%"}, []),
        ({"q": "_"}, []),
        # An unknown sector is ignored rather than an error.
        (
            {"sector": "martian"},
            [
                "Chippenham Town Council Youth Service",
                "Chippenham Youth Theatre",
                "Devizes Youth Football",
                "Marlborough Tutors Ltd",
                "Swindon Skate Collective",
            ],
        ),
    ],
)
def test_directory_search_by_name_town_and_sector(client, members, params, expected):
    page = directory(client, **params)
    assert listed(page) == expected
    if not expected:
        assert "No organisations match. Try fewer filters." in page


def test_directory_search_form_keeps_the_choices_and_offers_only_approved_towns(client, members):
    page = directory(client, q="youth", town="Devizes", sector="voluntary")
    assert 'value="youth"' in page
    assert "<option selected>Devizes</option>" in page
    assert '<option value="voluntary" selected>Voluntary</option>' in page
    towns = re.findall(r"<option\s*(?:selected)?>([^<]+)</option>", page)
    assert towns == ["Chippenham", "Devizes", "Marlborough", "Swindon"]


def test_directory_pages_through_many_members(client, db):
    total = DIRECTORY_PAGE_SIZE + 3
    for n in range(total):
        make_org(name=f"Group {n:03d}", town="Trowbridge")
    make_org(name="Group 999 Pending", status=OrganisationStatus.PENDING)
    db.session.commit()

    first = directory(client)
    assert f"{total} organisations found." in first
    assert listed(first) == [f"Group {n:03d}" for n in range(DIRECTORY_PAGE_SIZE)]
    assert "Page 1 of 2" in first and "Next &rarr;" in first and "Previous" not in first

    second = directory(client, page=2)
    assert listed(second) == [f"Group {n:03d}" for n in range(DIRECTORY_PAGE_SIZE, total)]
    assert "Page 2 of 2" in second and "&larr; Previous" in second and "Next" not in second

    # Filters are kept from page to page.
    filtered = directory(client, town="Trowbridge", q="group")
    assert 'href="/members?q=group&amp;town=Trowbridge&amp;sector=&amp;page=2"' in filtered


@pytest.mark.parametrize("page", ["0", "-3", "abc", "", "3", "99", str(10**20)])
def test_directory_survives_odd_page_numbers(client, db, page):
    for n in range(DIRECTORY_PAGE_SIZE + 1):
        make_org(name=f"Group {n:03d}")
    db.session.commit()
    resp = client.get("/members", query_string={"page": page})
    assert resp.status_code == 200
    names = listed(resp.get_data(as_text=True))
    # Anything before the first page shows the first; anything past the end shows the last.
    assert names in (
        [f"Group {n:03d}" for n in range(DIRECTORY_PAGE_SIZE)],
        [f"Group {DIRECTORY_PAGE_SIZE:03d}"],
    )
    if page in ("3", "99", str(10**20)):
        assert names == [f"Group {DIRECTORY_PAGE_SIZE:03d}"]


def test_directory_with_no_members_says_so(client, db):
    page = directory(client)
    assert "0 organisations found." in page
    assert "No organisations match. Try fewer filters." in page
    assert "Page 1 of" not in page


def test_approved_members_profile_is_public(client, db):
    org = make_org(
        name="Wootton Bassett Youth Hub",
        town="Royal Wootton Bassett",
        charity_number="1123456",
        website="https://wbyouthhub.org.uk",
        age_min=11,
        age_max=19,
    )
    db.session.commit()

    resp = client.get(f"/members/{org.id}")

    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<h1>Wootton Bassett Youth Hub</h1>" in page
    assert "Royal Wootton Bassett, Wiltshire" in page
    assert "1123456" in page and "https://wbyouthhub.org.uk" in page and "11 to 19" in page
    # Private details stay private.
    assert org.safeguarding_lead_email not in page
    assert org.address_line1 not in page
    # The directory links to it.
    assert f'href="/members/{org.id}"' in directory(client)


@pytest.mark.parametrize(
    "status",
    [
        OrganisationStatus.PENDING,
        OrganisationStatus.CHANGES_REQUESTED,
        OrganisationStatus.REJECTED,
        OrganisationStatus.SUSPENDED,
    ],
)
def test_profile_of_an_organisation_not_approved_is_not_found(client, db, status):
    org = make_org(name="Not Yet Vetted", status=status)
    db.session.commit()
    resp = client.get(f"/members/{org.id}")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "No such member." in page and "Not Yet Vetted" not in page


def test_profile_of_a_missing_organisation_is_not_found(client, db):
    assert client.get("/members/424242").status_code == 404
