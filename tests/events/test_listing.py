"""The public listing: each filter, past events, pagination, bad filters, and a constant number of queries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.events import listing
from foundation.events.models import EventStatus, EventType, LocationKind, Topic
from foundation.extensions import db
from foundation.types import LONDON, utcnow
from tests.events.factories import make_event, make_organiser


def day_ahead(days: int) -> date:
    return (utcnow() + timedelta(days=days)).astimezone(LONDON).date()


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def titles(client, query: str = "") -> list[str]:
    response = client.get(f"/events{query}")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return [t for t in TITLES if f">{t}</a>" in page]


TITLES = (
    "Safeguarding in Calne",
    "First aid in Devizes",
    "Online fundraising",
    "Network meeting",
    "Draft one",
)


@pytest.fixture
def programme(db):
    user, org = make_organiser(name="Calne Youth Project")
    make_event(
        user, org, title=TITLES[0], town="Calne", starts_at=at(day_ahead(5), 10), topics=[Topic.SAFEGUARDING]
    )
    make_event(
        user, org, title=TITLES[1], where=LocationKind.ADDRESS, town="Devizes", starts_at=at(day_ahead(12), 10),
        topics=[Topic.FIRST_AID, Topic.SAFEGUARDING], price_pence=2_500,
    )  # fmt: skip
    full = make_event(
        user, org, title=TITLES[2], where=LocationKind.ONLINE, starts_at=at(day_ahead(20), 12),
        event_type=EventType.WORKSHOP, topics=[Topic.FUNDRAISING], places=5,
    )  # fmt: skip
    full.places_held = 5
    make_event(
        user, org, title=TITLES[3], where=LocationKind.ADDRESS, town="Swindon", starts_at=at(day_ahead(30), 18),
        event_type=EventType.NETWORK_MEETING, topics=[Topic.YOUTH_VOICE],
    )  # fmt: skip
    make_event(user, org, title=TITLES[4], status=EventStatus.DRAFT, starts_at=at(day_ahead(6), 10))
    make_event(user, org, title="Cancelled one", status=EventStatus.CANCELLED, starts_at=at(day_ahead(7), 10))
    make_event(user, org, title="Last month", where=LocationKind.ONLINE, starts_at=at(day_ahead(-30), 10))
    db.session.commit()


def test_the_listing_shows_published_events_to_come_soonest_first(client, programme):
    page = client.get("/events").get_data(as_text=True)
    assert titles(client) == list(TITLES[:4])
    at = [page.index(f">{t}</a>") for t in TITLES[:4]]
    assert at == sorted(at)
    assert "Draft one" not in page and "Cancelled one" not in page and "Last month" not in page
    assert "4 events." in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?event_type=workshop", [TITLES[2]]),
        ("?event_type=network_meeting", [TITLES[3]]),
        ("?topic=safeguarding", [TITLES[0], TITLES[1]]),
        ("?topic=youth_voice", [TITLES[3]]),
        ("?town=Devizes", [TITLES[1]]),
        ("?town=Calne", [TITLES[0]]),
        ("?free_only=y", [TITLES[0], TITLES[2], TITLES[3]]),
        ("?places_left=y", [TITLES[0], TITLES[1], TITLES[3]]),
        ("?topic=safeguarding&free_only=y", [TITLES[0]]),
    ],
)
def test_each_filter(client, programme, query, expected):
    assert titles(client, query) == expected


def test_the_date_range_counts_london_days(client, programme):
    frm, to = day_ahead(10), day_ahead(20)
    assert titles(client, f"?date_from={frm}&date_to={to}") == [TITLES[1], TITLES[2]]
    assert titles(client, f"?date_from={day_ahead(30)}") == [TITLES[3]]
    assert titles(client, f"?date_to={day_ahead(5)}") == [TITLES[0]]


def test_past_events_have_their_own_view(client, programme):
    page = client.get("/events?past=y").get_data(as_text=True)
    assert "Last month" in page and TITLES[0] not in page
    assert "Past events" in page


def test_a_bad_filter_answers_400_with_the_message_at_its_field(client, programme):
    response = client.get(f"/events?date_from={day_ahead(10)}&date_to={day_ahead(5)}")
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in response.get_data(as_text=True)
    assert client.get("/events?event_type=party").status_code == 400
    assert client.get("/events?date_from=not-a-date").status_code == 400
    assert client.get("/events?page=99999999999").status_code == 200
    far = client.get("/events?date_from=9999-12-31&date_to=9999-12-31")
    assert far.status_code == 400 and "Enter a date between 2000 and 2100." in far.get_data(as_text=True)


def test_the_listing_is_paginated(client, db):
    user, org = make_organiser()
    first = day_ahead(3)
    for n in range(listing.PER_PAGE + 3):
        make_event(
            user,
            org,
            title=f"Event {n:02d}",
            where=LocationKind.ONLINE,
            starts_at=at(first, 8) + timedelta(hours=n),
        )
    db.session.commit()
    one = client.get("/events").get_data(as_text=True)
    two = client.get("/events?page=2").get_data(as_text=True)
    assert (
        "Event 00" in one
        and f"Event {listing.PER_PAGE - 1:02d}" in one
        and f"Event {listing.PER_PAGE:02d}" not in one
    )
    assert f"Event {listing.PER_PAGE:02d}" in two and "Event 00<" not in two
    assert 'rel="next"' in one and "page=2" in one
    assert (
        f"Page 2 of 2 ({listing.PER_PAGE + 1} to {listing.PER_PAGE + 3} of {listing.PER_PAGE + 3} events)"
        in two
    )


def _statements(app, client, url: str) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_listing_runs_the_same_number_of_queries_for_few_and_many_events(app, client, db):
    user, org = make_organiser()
    for n in range(2):
        make_event(user, org, title=f"Few {n}", sessions=2, topics=[Topic.SAFEGUARDING, Topic.DIGITAL])
    db.session.commit()
    few = _statements(app, client, "/events?topic=safeguarding")
    for n in range(12):
        other_user, other_org = make_organiser()
        make_event(other_user, other_org, title=f"Many {n}", sessions=2, topics=[Topic.SAFEGUARDING, Topic.INCLUSION],
                   where=LocationKind.VENUE if n % 2 else LocationKind.ADDRESS)  # fmt: skip
    db.session.commit()
    many = _statements(app, client, "/events?topic=safeguarding")
    assert few == many
