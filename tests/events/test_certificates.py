"""Certificates of attendance: a readable PDF naming the person, the training, its dates, hours and organiser, for
people marked as attending a training event only; each certificate for the person, their organisation's admins
and the organiser alone."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from foundation.errors import DomainError
from foundation.events.certificates import certificate_number, certificate_pdf
from foundation.events.models import EventType, RegistrationStatus, Topic
from foundation.extensions import db as _db
from foundation.members.models import MemberRole
from tests.events.attendance_factories import add_entry, add_people, mark_attended
from tests.events.factories import make_event, make_organiser
from tests.factories import add_member, login, make_org, make_user

# A four-week course, Thursdays 18:00 to 20:30 in London (January: UTC).
FIRST = datetime(2026, 1, 8, 18, 0, tzinfo=UTC)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def course(db):
    organiser, organiser_org = make_organiser(name="Devizes Youth Forum")
    event = make_event(
        organiser,
        organiser_org,
        title="Youth mental health first aid",
        starts_at=FIRST,
        sessions=4,
        hours=2.5,
        topics=(Topic.MENTAL_HEALTH, Topic.FIRST_AID),
    )
    club_admin = make_user(name="Club Admin")
    club = make_org(admin=club_admin, name="Westbury Youth Club")
    came = make_user(name="Zoë Łukasiewicz-O'Brien")
    add_member(club, came, MemberRole.MEMBER)
    (absent,) = add_people(club, 1)
    entry = add_entry(event, club, [came, absent])
    mark_attended(entry, [True, False], by=organiser)
    _db.session.commit()
    return {
        "organiser": organiser,
        "event": event,
        "entry": entry,
        "came": entry.people[0],
        "absent": entry.people[1],
        "club_admin": club_admin,
        "club": club,
    }


def test_the_certificate_is_a_readable_pdf_with_the_person_training_dates_hours_and_organiser(course):
    place = course["came"]
    pdf = certificate_pdf(place)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "Certificate of attendance" in text
    assert "Zoë Łukasiewicz-O'Brien" in text
    assert "Youth mental health first aid" in text
    assert "10 hours of training" in text  # four sessions of two and a half hours
    assert "8 January 2026, 15 January 2026, 22 January 2026 and 29 January 2026" in text
    assert "organised by Devizes Youth Forum" in text
    assert certificate_number(place) in text
    assert certificate_number(place) != certificate_number(course["absent"])


def test_a_single_session_certificate_gives_its_hours(db):
    organiser, org = make_organiser(name="Calne Youth Trust")
    event = make_event(organiser, org, title="Safeguarding basics", starts_at=FIRST, hours=1)
    (person,) = add_people(make_org(), 1)
    entry = add_entry(event, person.memberships[0].organisation, [person])
    mark_attended(entry, [True])
    _db.session.commit()
    text = _text(certificate_pdf(entry.people[0]))
    assert "1 hour of training" in text and "on 8 January 2026" in text


def test_no_certificate_for_people_not_marked_as_attending_or_for_other_kinds_of_event(course, db):
    with pytest.raises(DomainError, match="marked the person as attending"):
        certificate_pdf(course["absent"])
    workshop = make_event(title="Funding workshop", starts_at=FIRST, event_type=EventType.WORKSHOP)
    (person,) = add_people(course["club"], 1)
    entry = add_entry(workshop, course["club"], [person])
    mark_attended(entry, [True])
    registered_only = add_entry(make_event(starts_at=FIRST), course["club"], add_people(course["club"], 1))
    _db.session.commit()
    with pytest.raises(DomainError, match="training events only"):
        certificate_pdf(entry.people[0])
    assert registered_only.status is RegistrationStatus.REGISTERED
    with pytest.raises(DomainError, match="marked the person as attending"):
        certificate_pdf(registered_only.people[0])


def test_the_person_their_admins_and_the_organiser_download_it_and_nobody_else(app, course, client):
    event, place = course["event"], course["came"]
    url = f"/events/{event.id}/certificates/{place.id}.pdf"
    colleague = add_people(course["club"], 1)[0]
    outsider = make_user()
    make_org(admin=outsider)
    _db.session.commit()
    for user in (place.user, course["club_admin"], course["organiser"]):
        client.post("/logout")
        login(client, user)
        got = client.get(url)
        assert got.status_code == 200, user
        assert got.mimetype == "application/pdf"
        assert "attachment" in got.headers["Content-Disposition"]
        assert "Zoë Łukasiewicz-O'Brien" in _text(got.data)
    for user in (colleague, outsider, course["absent"].user):
        client.post("/logout")
        login(client, user)
        assert client.get(url).status_code == 404, user
    client.post("/logout")
    assert "/login" in client.get(url).headers["Location"]


def test_a_certificate_that_does_not_exist_is_refused_clearly(app, course, client):
    event, absent = course["event"], course["absent"]
    login(client, course["club_admin"])
    refused = client.get(f"/events/{event.id}/certificates/{absent.id}.pdf")
    assert refused.status_code == 422
    assert "once the organiser has marked the person as attending" in refused.get_data(as_text=True)
    other = make_event(starts_at=FIRST + timedelta(days=1))
    _db.session.commit()
    assert client.get(f"/events/{other.id}/certificates/{course['came'].id}.pdf").status_code == 404
    assert client.get(f"/events/{event.id}/certificates/99999999.pdf").status_code == 404


def test_my_training_lists_the_certificate(app, course, client):
    login(client, course["came"].user)
    page = client.get("/account/training").get_data(as_text=True)
    assert "Youth mental health first aid" in page
    assert f"/events/{course['event'].id}/certificates/{course['came'].id}.pdf" in page
    assert ">10<" in page  # hours
