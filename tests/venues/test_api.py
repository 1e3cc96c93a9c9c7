"""The public JSON API: venues and spaces with filters and paging, a space's free/busy, and bad parameters."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from foundation.types import LONDON, utcnow
from foundation.venues.models import Feature, OccurrenceStatus
from tests.venues.factories import add_closure, make_booker, make_booking, make_space, make_venue


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUERY_COUNT_HEADER": True}


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


def next_monday() -> date:
    today = london_today()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Salisbury Halls Trust")


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Salisbury Youth Theatre")


# --- /api/venues --------------------------------------------------------------------------------------------------


def test_venues_with_spaces_features_prices_and_links(client, owner):
    venue = make_venue(owner[1], "Salisbury Arts Centre", town="Salisbury", postcode="SP1 3UT")
    studio = make_space(
        venue,
        "Studio",
        capacity=40,
        price_per_hour_pence=1500,
        needs_approval=True,
        features=[Feature.HEARING_LOOP, Feature.PROJECTOR, Feature.STEP_FREE_ACCESS],
    )
    make_space(venue, "Old store", archived_at=utcnow())
    make_space(make_venue(owner[1], "Gone Hall", archived_at=utcnow()), "Hall")

    r = client.get("/api/venues")

    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["next"] is None
    [v] = body["venues"]
    assert (v["id"], v["name"], v["town"], v["postcode"]) == (
        venue.id,
        "Salisbury Arts Centre",
        "Salisbury",
        "SP1 3UT",
    )
    [s] = v["spaces"]
    assert s["id"] == studio.id and s["name"] == "Studio" and s["capacity"] == 40
    assert s["features"] == {
        "facilities": ["projector"],
        "accessibility": ["step_free_access", "hearing_loop"],
    }
    assert s["price_per_hour_pence"] == 1500 and s["needs_approval"] is True
    assert s["urls"]["calendar"].endswith(f"/spaces/{studio.id}/calendar")
    assert s["urls"]["freebusy"].endswith(f"/api/spaces/{studio.id}/freebusy")
    assert s["urls"]["book"].endswith(f"/spaces/{studio.id}/book")
    assert "availability" not in s  # only when a time is asked about


def test_filters_town_capacity_and_repeated_features(client, owner):
    sal = make_venue(owner[1], "Salisbury Guildhall", town="Salisbury")
    make_space(sal, "Banqueting room", capacity=120, features=[Feature.KITCHEN, Feature.LIFT])
    make_space(sal, "Council chamber", capacity=120, features=[Feature.LIFT])
    make_space(sal, "Parlour", capacity=12, features=[Feature.KITCHEN, Feature.LIFT])
    make_space(make_venue(owner[1], "Amesbury Hall", town="Amesbury"), "Hall", capacity=120,
               features=[Feature.KITCHEN, Feature.LIFT])  # fmt: skip

    body = client.get("/api/venues?town=SALISBURY&capacity=50&feature=kitchen&feature=lift").get_json()

    assert [v["name"] for v in body["venues"]] == ["Salisbury Guildhall"]
    assert [s["name"] for s in body["venues"][0]["spaces"]] == ["Banqueting room"]


def test_venues_are_paged_with_a_next_link(client, owner):
    for n in range(5):
        make_space(make_venue(owner[1], f"Hall {n}", town="Wilton"), "Room")

    first = client.get("/api/venues?town=Wilton&per_page=2").get_json()
    path = first["next"].split("://", 1)[1].split("/", 1)[1]
    second = client.get("/" + path).get_json()
    last = client.get("/api/venues?town=Wilton&per_page=2&page=3").get_json()

    assert first["total"] == 5 and first["pages"] == 3 and first["previous"] is None
    assert [v["name"] for v in first["venues"]] == ["Hall 0", "Hall 1"]
    assert "town=Wilton" in first["next"] and "page=2" in first["next"]
    assert [v["name"] for v in second["venues"]] == ["Hall 2", "Hall 3"]
    assert [v["name"] for v in last["venues"]] == ["Hall 4"] and last["next"] is None


def test_availability_when_a_time_is_asked_about(client, owner, booker):
    venue = make_venue(owner[1], "Wilton Hall", town="Wilton")
    free = make_space(venue, "Free room")
    busy = make_space(venue, "Busy room")
    day = next_monday()
    make_booking(busy, booker[1], day, start=time(18), end=time(20), purpose="Rehearsal")
    query = f"/api/venues?date={day.isoformat()}&start=18:30&end=19:00"

    body = client.get(query).get_json()
    every = client.get(f"{query}&unavailable=1").get_json()

    # The spaces that can be booked then; with unavailable=1 the others too, with their state.
    states = {s["name"]: s["availability"]["state"] for s in body["venues"][0]["spaces"]}
    assert states == {"Free room": "free"}
    states = {s["name"]: s["availability"]["state"] for s in every["venues"][0]["spaces"]}
    assert states == {"Busy room": "booked", "Free room": "free"}
    assert free.id and "Rehearsal" not in str(every)


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("capacity=abc", {"capacity": "Enter a whole number of people, like 20."}),
        ("feature=kitchen&feature=pool", {"feature": "Unknown feature: pool."}),
        ("page=0", {"page": "Give a number from 1 to 1000000."}),
        (
            "page=two&per_page=500",
            {"page": "Give a whole number.", "per_page": "Give a number from 1 to 100."},
        ),
        ("start=18:00&end=19:00", {"date": "Choose a date to check those times."}),
    ],
)
def test_bad_parameters_answer_400_with_errors_by_field(client, owner, query, errors):
    make_space(make_venue(owner[1]), "Room")

    r = client.get(f"/api/venues?{query}")

    assert r.status_code == 400 and r.is_json
    assert r.get_json() == {"errors": errors}


def test_venues_query_count_does_not_grow_with_results(client, owner, booker):
    day = next_monday()

    def add(n: int) -> None:
        for i in range(n):
            venue = make_venue(owner[1], town="Tisbury")
            whole = make_space(venue, "Hall", features=[Feature.WIFI])
            half = make_space(venue, "Half", parent=whole, features=[Feature.WIFI])
            if i % 2:
                make_booking(half, booker[1], day, start=time(18), end=time(19))

    query = f"/api/venues?town=Tisbury&feature=wifi&date={day.isoformat()}&start=18:00&end=20:00"
    add(3)
    few, few_every = client.get(query), client.get(f"{query}&unavailable=1")
    add(27)
    many, many_every = client.get(query), client.get(f"{query}&unavailable=1")

    # Every other venue has its hall booked through its half: only the others are free.
    assert len(few.get_json()["venues"]) == 2 and len(many.get_json()["venues"]) == 16
    assert len(few_every.get_json()["venues"]) == 3 and len(many_every.get_json()["venues"]) == 20
    counts = {r.headers["X-Query-Count"] for r in (few, few_every, many, many_every)}
    assert len(counts) == 1


# --- /api/spaces/<id>/freebusy ------------------------------------------------------------------------------------


def test_freebusy_gives_busy_times_with_offsets_hours_and_closures(client, owner, booker):
    venue = make_venue(owner[1], "Downton Hall", opens=time(9), closes=time(21), weekdays=range(6))
    whole = make_space(venue, "Whole hall")
    half = make_space(venue, "Half hall", parent=whole)
    # A winter week (GMT) and a summer week (BST), in the future.
    year = london_today().year + 1
    winter = date(year, 1, 5) - timedelta(days=date(year, 1, 5).weekday())
    summer = date(year, 7, 6) - timedelta(days=date(year, 7, 6).weekday())
    make_booking(whole, booker[1], winter, start=time(18), end=time(19), purpose="Panto rehearsal")
    make_booking(half, booker[1], winter, start=time(19), end=time(20))  # back to back: one busy stretch
    make_booking(half, booker[1], summer + timedelta(days=1), start=time(10), end=time(11, 30))
    make_booking(whole, booker[1], summer + timedelta(days=2), start=time(10), end=time(11),
                 status=OccurrenceStatus.REQUESTED)  # fmt: skip
    add_closure(venue, summer + timedelta(days=3), reason="Flower show")

    w = client.get(f"/api/spaces/{whole.id}/freebusy?from={winter.isoformat()}&to={winter.isoformat()}")
    s = client.get(
        f"/api/spaces/{whole.id}/freebusy?from={summer.isoformat()}&to={(summer + timedelta(days=6)).isoformat()}"
    )

    assert w.status_code == s.status_code == 200
    wb, sb = w.get_json(), s.get_json()
    assert wb["busy"] == [
        {"start": f"{winter.isoformat()}T18:00:00+00:00", "end": f"{winter.isoformat()}T20:00:00+00:00"}
    ]
    tuesday = (summer + timedelta(days=1)).isoformat()
    assert sb["busy"] == [{"start": f"{tuesday}T10:00:00+01:00", "end": f"{tuesday}T11:30:00+01:00"}]
    assert sb["from"] == summer.isoformat() and sb["to"] == (summer + timedelta(days=6)).isoformat()
    assert len(sb["days"]) == 7
    assert sb["days"][0] == {
        "date": summer.isoformat(),
        "weekday": "Monday",
        "opening_hours": [{"opens": "09:00", "closes": "21:00"}],
        "closure": None,
    }
    assert sb["days"][3]["closure"] == {
        "reason": "Flower show",
        "starts_on": (summer + timedelta(days=3)).isoformat(),
        "ends_on": (summer + timedelta(days=3)).isoformat(),
    }
    assert sb["days"][6]["opening_hours"] == []  # closed on Sundays
    assert "Panto rehearsal" not in w.get_data(as_text=True)  # no titles, ever


def test_freebusy_defaults_to_the_coming_week(client, owner):
    room = make_space(make_venue(owner[1]), "Room")

    body = client.get(f"/api/spaces/{room.id}/freebusy").get_json()

    assert body["from"] == london_today().isoformat()
    assert body["to"] == (london_today() + timedelta(days=6)).isoformat()
    assert len(body["days"]) == 7


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("from=2026-02-30", {"from": "Enter a date as year-month-day, like 2025-03-18."}),
        ("from=2030-01-10&to=2030-01-09", {"to": "The end date must be on or after the start date."}),
        ("from=2030-01-01&to=2030-03-04", {"to": "Ask for at most 62 days at a time."}),
        ("from=1999-12-31&to=2000-01-01", {"from": "Give a date from 2000-01-03 to "}),
    ],
)
def test_freebusy_bad_parameters(client, owner, query, errors):
    room = make_space(make_venue(owner[1]), "Room")

    r = client.get(f"/api/spaces/{room.id}/freebusy?{query}")

    assert r.status_code == 400 and r.is_json
    got = r.get_json()["errors"]
    assert set(got) == set(errors)
    assert all(got[k].startswith(v) for k, v in errors.items())


def test_freebusy_allows_exactly_62_days(client, owner):
    room = make_space(make_venue(owner[1]), "Room")

    r = client.get(f"/api/spaces/{room.id}/freebusy?from=2030-01-01&to=2030-03-03")

    assert r.status_code == 200 and len(r.get_json()["days"]) == 62


def test_freebusy_of_archived_or_unknown_space_is_404_json(client, owner):
    old = make_space(make_venue(owner[1]), "Old room", archived_at=utcnow())

    for url in (f"/api/spaces/{old.id}/freebusy", "/api/spaces/424242/freebusy"):
        r = client.get(url)
        assert r.status_code == 404 and r.is_json


def test_freebusy_query_count_does_not_grow_with_bookings(client, owner, booker):
    venue = make_venue(owner[1])
    whole = make_space(venue, "Whole")
    half = make_space(venue, "Half", parent=whole)
    mon = next_monday()
    make_booking(half, booker[1], mon, start=time(9), end=time(10))
    url = (
        f"/api/spaces/{whole.id}/freebusy?from={mon.isoformat()}&to={(mon + timedelta(days=30)).isoformat()}"
    )
    few = client.get(url)
    make_booking(whole, booker[1], mon + timedelta(days=1), mon + timedelta(days=29), weekdays=range(7))
    many = client.get(url)

    assert len(few.get_json()["busy"]) == 1 and len(many.get_json()["busy"]) == 30
    assert few.headers["X-Query-Count"] == many.headers["X-Query-Count"]
