"""iCalendar: the public feed and each event's file are valid RFC 5545 and say what the event page says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar

from foundation.events.calendar import event_ics, feed_ics
from foundation.events.models import EventStatus, LocationKind
from foundation.types import LONDON, utcnow
from tests.events.factories import make_event, make_organiser


@pytest.fixture(autouse=True)
def _request_context(app):
    with app.test_request_context("/"):
        yield


def day_ahead(days: int) -> date:
    return (utcnow() + timedelta(days=days)).astimezone(LONDON).date()


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def assert_valid(body: bytes) -> Calendar:
    """RFC 5545's shape, checked strictly, then parsed by the icalendar library."""
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines), [line for line in lines if len(line) > 75]
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"
    text = body.decode()
    assert "VERSION:2.0" in text and "PRODID:" in text
    cal = Calendar.from_ical(body)
    for vevent in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert prop in vevent, prop
    unfolded = body.replace(b"\r\n ", b"").decode()
    for line in unfolded.split("\r\n"):
        if line.startswith(("DTSTART", "DTEND", "DTSTAMP")):
            assert line.endswith("Z") and ":" in line and "TZID" not in line, line
    return cal


def test_an_event_file_has_one_event_per_session_in_utc_with_stable_uids(app, db):
    user, org = make_organiser(name="Calne Youth Project")
    summer, winter = day_ahead(8), day_ahead(8 + 7)
    event = make_event(
        user, org, title="A course " + "with a long title " * 6,
        session_times=[(at(summer, 18), at(summer, 20)), (at(winter, 18), at(winter, 20))],
    )  # fmt: skip
    db.session.commit()
    body = event_ics(event)
    cal = assert_valid(body)
    vevents = cal.walk("VEVENT")
    assert len(vevents) == 2
    assert [v.decoded("DTSTART") for v in vevents] == [
        at(summer, 18).astimezone(UTC),
        at(winter, 18).astimezone(UTC),
    ]
    assert all(v.decoded("DTSTART").tzinfo is not None for v in vevents)
    assert str(vevents[0]["URL"]) == f"{app.config['BASE_URL'].rstrip('/')}/events/{event.id}"
    assert "session 1 of 2" in str(vevents[0]["SUMMARY"])
    assert "Bank" not in str(vevents[0]["LOCATION"]) and org.name in str(vevents[0]["DESCRIPTION"])
    assert len({str(v["UID"]) for v in vevents}) == 2
    assert event_ics(event) == body  # the same file again: same UIDs, same stamp


def test_the_url_comes_from_base_url_not_the_request(app, db):
    app.config["BASE_URL"] = "https://events.wypf.example"
    user, org = make_organiser()
    event = make_event(user, org)
    db.session.commit()
    with app.test_request_context("/", base_url="http://evil.example"):
        body = event_ics(event).replace(b"\r\n ", b"")
    assert f"URL:https://events.wypf.example/events/{event.id}".encode() in body
    assert b"evil.example" not in body


def test_the_online_link_only_when_asked(app, db):
    user, org = make_organiser()
    event = make_event(user, org, where=LocationKind.ONLINE, online_link="https://meet.example.org/secret")
    db.session.commit()
    assert b"secret" not in event_ics(event).replace(b"\r\n ", b"")
    with_link = event_ics(event, include_online_link=True).replace(b"\r\n ", b"")
    assert b"https://meet.example.org/secret" in with_link
    assert_valid(event_ics(event, include_online_link=True))


def test_the_feed_lists_published_events_to_come_without_online_links(app, client, db):
    user, org = make_organiser()
    listed = make_event(user, org, title="Listed", sessions=3)
    make_event(user, org, title="A draft", status=EventStatus.DRAFT)
    make_event(user, org, title="Gone by", starts_at=at(day_ahead(-10), 10))
    make_event(
        user, org, title="Online", where=LocationKind.ONLINE, online_link="https://meet.example.org/hidden"
    )
    db.session.commit()
    response = client.get("/events.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = assert_valid(response.data)
    summaries = sorted(str(v["SUMMARY"]) for v in cal.walk("VEVENT"))
    assert summaries == [
        "Listed (session 1 of 3)",
        "Listed (session 2 of 3)",
        "Listed (session 3 of 3)",
        "Online",
    ]
    assert b"hidden" not in response.data.replace(b"\r\n ", b"")
    assert listed.sessions[0].booking is not None
    assert response.data == client.get("/events.ics").data
    assert client.get("/events.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_a_cancelled_event_file_says_cancelled(app, client, db):
    user, org = make_organiser()
    event = make_event(user, org, status=EventStatus.CANCELLED)
    db.session.commit()
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    (vevent,) = assert_valid(response.data).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_an_empty_feed_is_still_valid(app, db):
    assert_valid(feed_ics([]))
