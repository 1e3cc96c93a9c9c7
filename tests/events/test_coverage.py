"""Training records: each organisation sees the training its people attended; staff see people trained by town
and topic in a year, with the towns that have nobody trained in first aid, as a page and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from foundation.events.coverage import TOWNS, coverage
from foundation.events.models import EventStatus, EventType, Topic
from foundation.extensions import db as _db
from tests.events.attendance_factories import add_people, trained
from tests.factories import login, make_org, make_user

IN_2025 = datetime(2025, 5, 14, 9, 0, tzinfo=UTC)
LATER_IN_2025 = datetime(2025, 11, 4, 9, 0, tzinfo=UTC)
IN_2024 = datetime(2024, 12, 31, 22, 0, tzinfo=UTC)  # late on New Year's Eve in London: still 2024


@pytest.fixture
def scene(db):
    calne = make_org(admin=make_user(), name="Calne Youth Club", town="Calne")
    calne_too = make_org(name="Calne Scouts", town=" calne ")  # typed differently: the same town
    devizes = make_org(admin=make_user(), name="Devizes Youth Project", town="Devizes")
    lacock = make_org(name="Lacock Young Farmers", town="Lacock")  # not in the list of towns
    ann, bea = add_people(calne, 2)
    (cal,) = add_people(calne_too, 1)
    (dev,) = add_people(devizes, 1)
    (lac,) = add_people(lacock, 1)
    trained(calne, [ann, bea], topics=(Topic.FIRST_AID, Topic.SAFEGUARDING), starts_at=IN_2025)
    trained(calne, [ann], topics=(Topic.FIRST_AID,), starts_at=LATER_IN_2025)  # trained twice: one person
    trained(calne_too, [cal], topics=(Topic.FIRST_AID,), starts_at=IN_2025)
    trained(devizes, [dev], topics=(Topic.SAFEGUARDING,), starts_at=IN_2025)
    # None of these count in 2025: a no-show, a workshop, a cancelled training, last year's training.
    trained(devizes, [dev], topics=(Topic.FIRST_AID,), starts_at=IN_2025, attended=False)
    trained(devizes, [dev], topics=(Topic.FIRST_AID,), starts_at=IN_2025, event_type=EventType.WORKSHOP)
    cancelled, _ = trained(devizes, [dev], topics=(Topic.FIRST_AID,), starts_at=IN_2025)
    cancelled.status = EventStatus.CANCELLED
    trained(lacock, [lac], topics=(Topic.FIRST_AID,), starts_at=IN_2024, hours=1.5)
    _db.session.commit()
    return {"calne": calne, "devizes": devizes, "ann": ann}


def _town(found, name):
    return next(t for t in found.towns if t.town == name)


def test_people_trained_are_counted_by_town_and_topic(scene):
    found = coverage(2025)
    calne = _town(found, "Calne")
    assert calne.by_topic[Topic.FIRST_AID] == 3  # Ann (twice), Bea, and Cal of the other Calne group
    assert calne.by_topic[Topic.SAFEGUARDING] == 2
    assert calne.people == 3
    devizes = _town(found, "Devizes")
    assert devizes.by_topic[Topic.SAFEGUARDING] == 1 and devizes.by_topic[Topic.FIRST_AID] == 0
    assert found.by_topic[Topic.FIRST_AID] == 3 and found.by_topic[Topic.SAFEGUARDING] == 3
    assert found.people == 4


def test_towns_without_first_aid_training_this_year_are_listed(scene):
    found = coverage(2025)
    missing = found.towns_without_first_aid
    assert "Devizes" in missing  # a safeguarding course, a no-show, a workshop and a cancelled course
    assert "Lacock" in missing  # trained in 2024 only
    assert "Amesbury" in missing  # no member there at all
    assert "Calne" not in missing
    assert set(TOWNS) <= {t.town for t in found.towns}
    assert [t.town for t in found.towns].count("Calne") == 1
    assert "Lacock" not in coverage(2024).towns_without_first_aid


def test_the_coverage_page_and_csv(app, scene, client):
    staff = make_user(staff=True)
    make_org(name="Trickster Youth", town='=HYPERLINK("http://evil.example")')
    _db.session.commit()
    login(client, staff)
    page = client.get("/staff/events/coverage?year=2025")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Towns with no first-aid trained youth workers in 2025" in text
    assert 'id="coverage-people">4<' in text
    assert 'class="no-first-aid"' in text

    got = client.get("/staff/events/coverage.csv?year=2025")
    assert got.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert (
        header[0] == "Town"
        and "First aid" in header
        and header[-2:] == ["People trained", "No first aid trained"]
    )
    calne = next(r for r in rows if r[0] == "Calne")
    assert calne[header.index("First aid")] == "3" and calne[-1] == ""
    devizes = next(r for r in rows if r[0] == "Devizes")
    assert devizes[-1] == "yes"
    assert any(r[0].startswith("'=HYPERLINK") for r in rows)
    assert not any(r[0].startswith("=") for r in rows)
    assert rows[-1][0] == "All towns" and rows[-1][-2] == "4"


@pytest.mark.parametrize("year", ["abc", "1999", "3000", "99999999999999"])
def test_a_year_that_is_not_one_is_refused_at_its_field(app, db, client, year):
    staff = make_user(staff=True)
    _db.session.commit()
    login(client, staff)
    refused = client.get(f"/staff/events/coverage?year={year}")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "error-summary" in text and 'href="#year"' in text
    assert client.get(f"/staff/events/coverage.csv?year={year}").status_code == 400


def test_coverage_is_for_staff(app, scene, client):
    member = make_user()
    make_org(admin=member)
    _db.session.commit()
    login(client, member)
    assert client.get("/staff/events/coverage").status_code == 403
    assert client.get("/staff/events/coverage.csv").status_code == 403


def test_an_organisation_sees_the_training_its_people_attended(app, scene, client):
    calne = scene["calne"]
    admin = calne.admins()[0]
    login(client, admin)
    page = client.get(f"/organisations/{calne.id}/training")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert scene["ann"].name in text
    assert text.count("/certificates/") == 3  # Ann twice, Bea once
    assert "Devizes" not in text
    outsider = scene["devizes"].admins()[0]
    client.post("/logout")
    login(client, outsider)
    assert client.get(f"/organisations/{calne.id}/training").status_code == 404
