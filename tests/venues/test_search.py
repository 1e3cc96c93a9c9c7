"""The public venue search: filters, the spaces free at a time (and the others with the reason, when asked for),
bad input, paging, query counts. The search and the booking rules agree: tests/venues/test_search_rules.py."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from flask import current_app

from foundation.types import LONDON, utcnow
from foundation.venues.models import Feature, OccurrenceStatus
from tests.factories import login
from tests.venues.factories import add_closure, make_booker, make_booking, make_space, make_venue

REQUESTED = OccurrenceStatus.REQUESTED


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUERY_COUNT_HEADER": True}


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


TUESDAY = 1


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Chippenham Community Trust")


def slot_args(day: date, start: str = "18:00", end: str = "20:00", **extra: str) -> dict:
    return {"date": day.isoformat(), "start": start, "end": end, **extra}


def space_rows(html: str) -> dict[str, str]:
    """Space name -> the text of its result row (tags stripped)."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        name = re.search(r'calendar[^"]*">([^<]+)</a>', row)
        if name:
            rows[name.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    return rows


def states(html: str) -> dict[str, str]:
    """Space name -> its state for the slot asked about (free, booked, closed, outside_hours)."""
    out = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        name = re.search(r'calendar[^"]*">([^<]+)</a>', row)
        state = re.search(r'data-state="([a-z_]+)"', row)
        if name and state:
            out[name.group(1)] = state.group(1)
    return out


def venue_names(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", h).strip()
        for h in re.findall(r'<section class="panel venue-result">\s*<h3>(.*?)</h3>', html, re.S)
    ]


def error_at(html: str, field: str) -> str:
    found = re.findall(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error at {field}"
    return found[0].replace("&#39;", "'")


# --- filters ------------------------------------------------------------------------------------------------------


def test_anyone_can_search_and_towns_are_those_with_venues(client, owner):
    org = owner[1]
    make_space(make_venue(org, "Calne Town Hall", town="Calne"), "Hall")
    make_space(make_venue(org, "Devizes Corn Exchange", town="Devizes"), "Hall")
    gone = make_venue(org, "Old Melksham Hall", town="Melksham", archived_at=utcnow())
    make_space(gone, "Hall")

    r = client.get("/venues")

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    towns = re.findall(r"<option[^>]*>([^<]+)</option>", html)
    assert towns == ["Any town", "Calne", "Devizes"]
    assert venue_names(html) == ["Calne Town Hall", "Devizes Corn Exchange"]


def test_filters_combine_town_capacity_and_every_ticked_feature(client, owner):
    org = owner[1]
    chip = make_venue(org, "Chippenham Youth Centre", town="Chippenham")
    make_space(chip, "Sports hall", capacity=80, features=[Feature.CHANGING_ROOMS, Feature.STEP_FREE_ACCESS])
    make_space(chip, "Small room", capacity=10, features=[Feature.CHANGING_ROOMS, Feature.STEP_FREE_ACCESS])
    make_space(chip, "Studio", capacity=40, features=[Feature.CHANGING_ROOMS])
    make_space(chip, "Old gym", capacity=90, features=[Feature.CHANGING_ROOMS, Feature.STEP_FREE_ACCESS],
               archived_at=utcnow())  # fmt: skip
    calne = make_venue(org, "Calne Sports Club", town="Calne")
    make_space(calne, "Pavilion", capacity=80, features=[Feature.CHANGING_ROOMS, Feature.STEP_FREE_ACCESS])

    r = client.get(
        "/venues",
        query_string={
            "town": "chippenham",
            "capacity": "20",
            "feature": ["changing_rooms", "step_free_access"],
        },
    )

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert venue_names(html) == ["Chippenham Youth Centre"]
    rows = space_rows(html)
    assert list(rows) == ["Sports hall"]
    assert "Changing rooms" in rows["Sports hall"] and "Step free access" in rows["Sports hall"]
    # The town chosen is kept in the form, in its proper spelling.
    assert re.search(r'<option selected value="Chippenham">|<option value="Chippenham" selected>', html)


def test_a_venue_with_no_matching_space_is_not_listed(client, owner):
    org = owner[1]
    make_space(make_venue(org, "Tiny Hall", town="Calne"), "Room", capacity=8)
    make_space(make_venue(org, "Big Hall", town="Calne"), "Hall", capacity=200)

    html = client.get("/venues", query_string={"capacity": "50"}).get_data(as_text=True)

    assert venue_names(html) == ["Big Hall"]
    assert "1 venue found" in html


def test_results_link_to_calendar_and_to_the_venue_page_if_there_is_one(client, owner):
    venue = make_venue(owner[1], "Lacock Village Hall", town="Lacock")
    hall = make_space(venue, "Hall")

    html = client.get("/venues").get_data(as_text=True)

    assert f'href="/spaces/{hall.id}/calendar"' in html
    assert f'href="/spaces/{hall.id}/book"' in html
    has_page = "venues.venue" in current_app.view_functions
    assert (f'href="/venues/{venue.id}"' in html) is has_page


# --- free at a time -----------------------------------------------------------------------------------------------


def test_only_free_spaces_are_listed_and_the_others_on_request_with_the_reason(client, owner, db):
    org = owner[1]
    tuesday = next_weekday(TUESDAY)
    _, booker_org = make_booker(email="scouts@example.org", name="Calne Scouts")
    hall_venue = make_venue(org, "A Calne Hall", town="Calne", opens=time(9), closes=time(21))
    free = make_space(hall_venue, "Free room")
    booked = make_space(hall_venue, "Busy room")
    make_booking(booked, booker_org, tuesday, start=time(19), end=time(21), purpose="Secret meeting")
    make_booking(free, booker_org, tuesday, start=time(16), end=time(18))  # ends as ours starts: no clash
    early = make_venue(org, "B Early Hall", town="Calne", opens=time(9), closes=time(17))
    make_space(early, "Day room")
    shut = make_venue(org, "C Shut Hall", town="Calne")
    make_space(shut, "Shut room")
    add_closure(shut, tuesday - timedelta(days=1), tuesday + timedelta(days=1), reason="Roof repairs")
    weekdays = make_venue(org, "D Weekday Hall", town="Calne", weekdays=(0, 2, 3, 4))
    make_space(weekdays, "Monday room")

    r = client.get("/venues", query_string=slot_args(tuesday))
    everything = client.get("/venues", query_string=slot_args(tuesday, unavailable="1"))

    assert r.status_code == everything.status_code == 200
    html = r.get_data(as_text=True)
    # Only what can be booked then: one space, at one venue.
    assert states(html) == {"Free room": "free"}
    assert venue_names(html) == ["A Calne Hall"] and "1 venue found" in html
    assert "Free" in space_rows(html)["Free room"]
    assert f'href="/spaces/{free.id}/book?first_date={tuesday.isoformat()}&amp;start_time=' in html
    # The calendar links open the week asked about.
    assert f"/spaces/{free.id}/calendar?week={tuesday.isoformat()}" in html

    # Asked for, the others come too, greyed, each with its reason; the free ones first.
    html = everything.get_data(as_text=True)
    rows = space_rows(html)
    assert states(html) == {
        "Free room": "free",
        "Busy room": "booked",
        "Day room": "outside_hours",
        "Shut room": "closed",
        "Monday room": "closed",
    }
    assert list(rows)[:2] == ["Free room", "Busy room"]
    assert "4 venues found" in html
    assert "Free" in rows["Free room"] and "Booked" in rows["Busy room"]
    assert "Secret meeting" not in html  # the public never sees what a booking is for
    assert "Outside opening hours" in rows["Day room"] and "Open 09:00–17:00" in rows["Day room"]
    assert "Closed that day" in rows["Shut room"] and "Closed: Roof repairs" in rows["Shut room"]
    assert "Closed that day" in rows["Monday room"] and "Closed on Tuesdays" in rows["Monday room"]
    assert len(re.findall(r'<tr class="muted">', html)) == 4
    # Only free spaces offer the booking link.
    assert f'href="/spaces/{free.id}/book?' in html and f'"/spaces/{booked.id}/book' not in html
    # The box stays ticked on the results.
    box = re.search(r'<input[^>]*name="unavailable"[^>]*>', html)
    assert box and "checked" in box.group(0)


def test_parts_of_a_hall_block_each_other(client, owner):
    org = owner[1]
    _, booker_org = make_booker(email="club@example.org")
    venue = make_venue(org, "Corsham Hall", town="Corsham")
    whole = make_space(venue, "Whole hall", capacity=200)
    left = make_space(venue, "Left half", parent=whole, capacity=100)
    right = make_space(venue, "Right half", parent=whole, capacity=100)
    tuesday, wednesday = next_weekday(TUESDAY), next_weekday(TUESDAY) + timedelta(days=1)
    make_booking(left, booker_org, tuesday, start=time(18), end=time(19))
    make_booking(whole, booker_org, wednesday, start=time(18), end=time(19))

    tue = client.get("/venues", query_string=slot_args(tuesday)).get_data(as_text=True)
    wed = client.get("/venues", query_string=slot_args(wednesday)).get_data(as_text=True)
    tue_all = client.get("/venues", query_string=slot_args(tuesday, unavailable="1")).get_data(as_text=True)
    wed_all = client.get("/venues", query_string=slot_args(wednesday, unavailable="1")).get_data(as_text=True)

    # A booked half takes the whole hall; the other half stays free.
    assert states(tue) == {"Right half": "free"}
    assert states(tue_all) == {"Left half": "booked", "Right half": "free", "Whole hall": "booked"}
    # The whole hall booked takes both halves: nothing at the venue is free, so it is not listed.
    assert states(wed) == {} and "0 venues found" in wed
    assert states(wed_all) == {"Left half": "booked", "Right half": "booked", "Whole hall": "booked"}
    assert "Part of Whole hall" in space_rows(tue)["Right half"]
    assert f'href="/spaces/{right.id}/book?' in tue_all and f'"/spaces/{left.id}/book' not in tue_all


def test_requests_do_not_hold_the_slot_but_are_mentioned(client, owner):
    _, booker_org = make_booker(email="waiting@example.org")
    venue = make_venue(owner[1], "Box Hall", town="Box")
    room = make_space(venue, "Room", needs_approval=True)
    tuesday = next_weekday(TUESDAY)
    make_booking(room, booker_org, tuesday, start=time(18), end=time(19), status=REQUESTED)

    html = client.get("/venues", query_string=slot_args(tuesday)).get_data(as_text=True)

    assert states(html) == {"Room": "free"}
    assert "1 request waiting for the venue" in space_rows(html)["Room"]


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"capacity": "abc"}, "capacity", "Enter a whole number of people, like 20."),
        ({"capacity": "0"}, "capacity", "Enter a number from 1 to 100,000."),
        (
            {"date": "next tuesday", "start": "18:00", "end": "20:00"},
            "date",
            "Enter a date as year-month-day",
        ),
        ({"start": "18:00", "end": "20:00"}, "date", "Choose a date to check those times."),
        (
            {"date": "+1", "start": "20:00", "end": "18:00"},
            "end",
            "The end time must be after the start time.",
        ),
        ({"date": "+1", "start": "18:00"}, "end", "Choose an end time."),
        ({"date": "+1", "start": "6pm", "end": "20:00"}, "start", "Enter a time on the 24-hour clock"),
        ({"date": "-1", "start": "18:00", "end": "20:00"}, "date", "Choose today or a later date."),
        ({"feature": "jacuzzi"}, "feature", "Unknown feature: jacuzzi."),
    ],
)
def test_bad_input_shows_the_message_at_the_field(client, owner, args, field, message):
    make_space(make_venue(owner[1], "Any Hall"), "Hall")
    today = utcnow().astimezone(LONDON).date()
    if args.get("date") in ("+1", "-1"):
        args = {**args, "date": (today + timedelta(days=int(args["date"]))).isoformat()}

    r = client.get("/venues", query_string=args)

    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in error_at(html, field)
    assert len(re.findall(r'<p class="error"', html)) == 1  # one clear message, not a pile
    assert "There is a problem" in html
    assert "Any Hall" not in venue_names(html)  # no results from a search that could not be read
    assert '<form method="get"' in html  # the page still renders, with the form to correct


# --- paging -------------------------------------------------------------------------------------------------------


def test_results_are_paged_twenty_venues_at_a_time(client, owner):
    for n in range(23):
        make_space(make_venue(owner[1], f"Hall {n:02d}", town="Swindon"), "Room")

    first = client.get("/venues", query_string={"town": "Swindon"}).get_data(as_text=True)
    second = client.get("/venues", query_string={"town": "Swindon", "page": "2"}).get_data(as_text=True)

    assert venue_names(first) == [f"Hall {n:02d}" for n in range(20)]
    assert "23 venues found" in first and "Page 1 of 2" in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert next_link and "town=Swindon" in next_link.group(1) and "page=2" in next_link.group(1)
    assert venue_names(second) == ["Hall 20", "Hall 21", "Hall 22"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Pages past the end, or nonsense, still answer with a page.
    beyond = client.get("/venues", query_string={"town": "Swindon", "page": "99999999999999999999"})
    assert beyond.status_code == 200 and "No venues on this page." in beyond.get_data(as_text=True)
    assert venue_names(client.get("/venues?town=Swindon&page=x").get_data(as_text=True))[0] == "Hall 00"


# --- queries per page ---------------------------------------------------------------------------------------------


def _fill(org, booker_org, n_venues: int, day: date) -> None:
    for n in range(n_venues):
        venue = make_venue(
            org, f"Chippenham Venue {n:03d}", town="Chippenham", opens=time(9), closes=time(22)
        )
        whole = make_space(venue, "Hall", capacity=60, features=[Feature.KITCHEN, Feature.WIFI])
        half = make_space(
            venue, "Half hall", parent=whole, capacity=30, features=[Feature.KITCHEN, Feature.WIFI]
        )
        make_space(venue, "Office", capacity=5, features=[Feature.WIFI])
        if n % 3 == 0:
            make_booking(half, booker_org, day, start=time(18), end=time(19))
        if n % 3 == 1:
            make_booking(whole, booker_org, day, start=time(19), end=time(20), status=REQUESTED)
        if n % 4 == 0:
            add_closure(venue, day, reason="Polling station")


def test_query_count_does_not_grow_with_the_number_of_venues(client, owner, db):
    tuesday = next_weekday(TUESDAY)
    _, booker_org = make_booker(email="many@example.org")
    args = slot_args(tuesday, town="Chippenham", capacity="20", feature=["kitchen", "wifi"])
    every = {**args, "unavailable": "1"}
    client.get("/venues")  # the first search of a process reads the towns, which are then kept

    _fill(owner[1], booker_org, 3, tuesday)
    few, few_every = client.get("/venues", query_string=args), client.get("/venues", query_string=every)
    _fill(owner[1], booker_org, 27, tuesday)
    many, many_every = client.get("/venues", query_string=args), client.get("/venues", query_string=every)
    user, _ = make_booker(email="signed-in@example.org")
    login(client, user)
    signed_in = client.get("/venues", query_string=args)

    assert {few.status_code, few_every.status_code, many.status_code, many_every.status_code} == {200}
    # Of each batch, venue 0 and every 4th are closed, every 3rd of the others has its hall booked through its
    # half: 2 of the first 3 have a free space, 14 of the next 27.
    assert len(venue_names(few.get_data(as_text=True))) == 2
    assert len(venue_names(few_every.get_data(as_text=True))) == 3
    assert "16 venues found" in many.get_data(as_text=True) and "Page 1 of 1" not in many.get_data(
        as_text=True
    )
    assert len(venue_names(many.get_data(as_text=True))) == 16
    assert set(re.findall(r'data-state="([a-z_]+)"', many.get_data(as_text=True))) == {"free"}
    assert len(venue_names(many_every.get_data(as_text=True))) == 20
    found = re.findall(r'data-state="([a-z_]+)"', many_every.get_data(as_text=True))
    assert set(found) == {"free", "booked", "closed"}
    counts = {int(r.headers["X-Query-Count"]) for r in (few, few_every, many, many_every)}
    assert len(counts) == 1 and counts.pop() <= 3
    # Signing in adds the user, their memberships and the unread count: a fixed few, not one per result.
    assert int(signed_in.headers["X-Query-Count"]) <= int(many.headers["X-Query-Count"]) + 3
