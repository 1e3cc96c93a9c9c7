"""The search page asked about a time: only what can be booked then is listed, counted and paged; the rest on
request, greyed, with the reason; and the towns list, kept per process, follows the venues' changes."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from foundation.types import LONDON, utcnow
from foundation.venues import search
from foundation.venues import venues as venue_svc
from foundation.venues.models import OccurrenceStatus
from tests.venues.factories import make_booker, make_booking, make_space, make_venue


@pytest.fixture
def app_config(app_config):
    # Every request renders afresh here: the towns are what is kept, not the page.
    return {**app_config, "QUERY_COUNT_HEADER": True, "PUBLIC_PAGE_CACHE_SECONDS": 0}


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Bradford on Avon Halls Trust")


def today() -> date:
    return utcnow().astimezone(LONDON).date()


def slot(day: date, start: str = "18:00", end: str = "20:00", **extra: str) -> dict[str, str]:
    return {"date": day.isoformat(), "start": start, "end": end, **extra}


def rows(html: str) -> dict[str, tuple[bool, str]]:
    """Space name -> (greyed, the text of its row)."""
    out = {}
    for attrs, row in re.findall(r"<tr([^>]*)>(.*?)</tr>", html, re.S):
        name = re.search(r'calendar[^"]*">([^<]+)</a>', row)
        if name:
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip().replace("&#39;", "'")
            out[name.group(1)] = ('class="muted"' in attrs, text)
    return out


def venue_names(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", h).strip()
        for h in re.findall(r'<section class="panel venue-result">\s*<h3>(.*?)</h3>', html, re.S)
    ]


def town_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="town"[^>]*>(.*?)</select>', html, re.S)
    assert select
    return re.findall(r"<option[^>]*>([^<]+)</option>", select.group(1))


# --- the reasons --------------------------------------------------------------------------------------------------


def test_each_rule_that_stops_a_booking_is_named_and_the_space_greyed(client, owner):
    org = owner[1]
    _, other = make_booker(email="club@example.org")
    tomorrow = today() + timedelta(days=1)
    make_space(make_venue(org, "A Open Hall", town="Bradford on Avon"), "Open room")
    busy = make_venue(org, "B Busy Hall", town="Bradford on Avon")
    hall = make_space(busy, "Whole hall")
    make_booking(make_space(busy, "Stage end", parent=hall), other, tomorrow, start=time(19), end=time(21))
    make_space(make_venue(org, "C Notice Hall", town="Bradford on Avon", min_notice_hours=48), "Notice room")
    make_space(make_venue(org, "D Short Hall", town="Bradford on Avon", max_booking_minutes=60), "Short room")

    free_only = client.get("/venues", query_string=slot(tomorrow)).get_data(as_text=True)
    every = client.get("/venues", query_string=slot(tomorrow, unavailable="1")).get_data(as_text=True)
    unticked = client.get("/venues", query_string=slot(tomorrow, unavailable="0")).get_data(as_text=True)

    assert venue_names(free_only) == ["A Open Hall"] and "1 venue found" in free_only
    assert venue_names(unticked) == ["A Open Hall"]
    assert list(rows(free_only)) == ["Open room"]
    assert "4 venues found" in every
    found = rows(every)
    assert found["Open room"][0] is False and "Free" in found["Open room"][1]
    # The stage end is booked, so the whole hall it is part of is too.
    assert found["Whole hall"][0] is True and "Booked" in found["Whole hall"][1]
    assert found["Stage end"][0] is True and "Booked" in found["Stage end"][1]
    assert found["Notice room"][0] is True and found["Short room"][0] is True
    assert "Too short notice" in found["Notice room"][1] and "Needs 2 days' notice" in found["Notice room"][1]
    assert "Too long" in found["Short room"][1] and "Longer than the 1 hour allowed" in found["Short room"][1]
    # A greyed space offers its calendar, never the booking form.
    assert every.count("/book?") == 1


def test_too_far_ahead_and_in_the_past_are_named(client, owner):
    venue = make_venue(owner[1], "Holt Village Hall", town="Holt", max_days_ahead=30)
    make_space(venue, "Hall")

    ahead = client.get("/venues", query_string=slot(today() + timedelta(days=40), unavailable="1"))
    past = client.get("/venues", query_string=slot(today(), "00:00", "00:01", unavailable="1"))
    past_free_only = client.get("/venues", query_string=slot(today(), "00:00", "00:01"))

    assert ahead.status_code == past.status_code == 200
    hall = rows(ahead.get_data(as_text=True))["Hall"]
    assert hall[0] and "Too far ahead" in hall[1] and "Takes bookings up to 30 days ahead" in hall[1]
    hall = rows(past.get_data(as_text=True))["Hall"]
    assert hall[0] and "In the past" in hall[1]
    html = past_free_only.get_data(as_text=True)
    assert "0 venues found" in html and "No venue has a matching space free then" in html


def test_requests_on_a_related_space_are_mentioned_for_a_free_space(client, owner):
    _, other = make_booker(email="waiting@example.org")
    venue = make_venue(owner[1], "Atworth Hall", town="Atworth")
    whole = make_space(venue, "Whole hall", needs_approval=True)
    make_space(venue, "Left half", parent=whole, needs_approval=True)
    day = today() + timedelta(days=3)
    make_booking(whole, other, day, start=time(19), end=time(20), status=OccurrenceStatus.REQUESTED)

    found = rows(client.get("/venues", query_string=slot(day)).get_data(as_text=True))

    assert set(found) == {"Whole hall", "Left half"}
    assert "1 request waiting for the venue (not confirmed)" in found["Left half"][1]
    assert "Free" in found["Whole hall"][1] and "1 request waiting" in found["Whole hall"][1]


# --- counting and paging ------------------------------------------------------------------------------------------


def test_the_count_and_the_pages_are_of_venues_with_a_free_space(client, owner):
    _, other = make_booker(email="many@example.org")
    day = today() + timedelta(days=5)
    for n in range(27):
        room = make_space(make_venue(owner[1], f"Hall {n:02d}", town="Trowbridge"), "Room")
        if n % 9 == 0:  # 0, 9 and 18 are booked then
            make_booking(room, other, day, start=time(17), end=time(19))

    first = client.get("/venues", query_string=slot(day, town="Trowbridge")).get_data(as_text=True)
    second = client.get("/venues", query_string=slot(day, town="Trowbridge", page="2")).get_data(as_text=True)
    every = client.get("/venues", query_string=slot(day, town="Trowbridge", unavailable="1", page="2"))

    free = [f"Hall {n:02d}" for n in range(27) if n % 9]
    assert "24 venues found" in first and "Page 1 of 2" in first
    assert venue_names(first) == free[:20]
    assert venue_names(second) == free[20:] and "Page 2 of 2" in second
    html = every.get_data(as_text=True)
    assert "27 venues found" in html and venue_names(html) == [f"Hall {n}" for n in range(20, 27)]
    # The page links keep the question, the box included.
    prev = re.search(r'<a href="([^"]+)" rel="prev">', html)
    assert prev and "unavailable=1" in prev.group(1) and "page=1" in prev.group(1)


def test_a_slot_search_runs_two_statements(client, owner, backend):
    _, other = make_booker(email="counted@example.org")
    day = today() + timedelta(days=5)
    for n in range(4):
        whole = make_space(make_venue(owner[1], f"Corsham Hall {n}", town="Corsham"), "Hall")
        make_booking(make_space(whole.venue, "Half", parent=whole), other, day, start=time(18), end=time(19))
        make_space(whole.venue, "Office")
    client.get("/venues")  # reads the towns, which are then kept

    counts = {
        int(client.get("/venues", query_string=args).headers["X-Query-Count"])
        for args in (slot(day), slot(day, unavailable="1"), {"town": "Corsham"})
    }

    # The page of venues with its count, the spaces of that page with their state (and BEGIN on SQLite).
    assert counts == {3 if backend == "sqlite" else 2}


# --- the towns list -----------------------------------------------------------------------------------------------


def _values(**over: object) -> dict:
    values: dict = {
        "name": "Warminster Youth Centre",
        "address_line1": "Station Road",
        "town": "Warminster",
        "postcode": "BA12 9BR",
        "description": "A youth centre.",
        "min_notice_hours": 0,
        "max_days_ahead": 365,
        "max_booking_minutes": 480,
    }
    values.update(over)
    return values


def test_the_towns_follow_venues_listed_edited_archived_and_restored(client, owner, db):
    make_space(make_venue(owner[1], "Calne Town Hall", town="Calne"), "Hall")
    db.session.commit()
    assert town_options(client.get("/venues").get_data(as_text=True)) == ["Any town", "Calne"]

    venue = venue_svc.create_venue(owner[1], _values())
    db.session.commit()
    assert town_options(client.get("/venues").get_data(as_text=True)) == ["Any town", "Calne", "Warminster"]

    venue_svc.update_venue(venue, _values(town="Westbury"))
    db.session.commit()
    assert town_options(client.get("/venues").get_data(as_text=True)) == ["Any town", "Calne", "Westbury"]

    venue_svc.archive_venue(venue)
    db.session.commit()
    assert town_options(client.get("/venues").get_data(as_text=True)) == ["Any town", "Calne"]

    venue_svc.unarchive_venue(venue)
    db.session.commit()
    assert town_options(client.get("/venues").get_data(as_text=True)) == ["Any town", "Calne", "Westbury"]


def test_the_towns_are_kept_a_minute_then_read_again(client, owner, db, monkeypatch):
    make_space(make_venue(owner[1], "Calne Town Hall", town="Calne"), "Hall")
    db.session.commit()
    first = client.get("/venues")
    # Written by another process (here: straight into the tables), which this one does not hear of.
    make_space(make_venue(owner[1], "Devizes Corn Exchange", town="Devizes"), "Hall")
    db.session.commit()
    kept = client.get("/venues")
    clock = search.monotonic() + search.TOWNS_CACHE_SECONDS + 1
    monkeypatch.setattr(search, "monotonic", lambda: clock)
    later = client.get("/venues")

    assert town_options(first.get_data(as_text=True)) == ["Any town", "Calne"]
    # Kept: the select lags, one statement fewer; the results never do.
    assert town_options(kept.get_data(as_text=True)) == ["Any town", "Calne"]
    assert venue_names(kept.get_data(as_text=True)) == ["Calne Town Hall", "Devizes Corn Exchange"]
    assert int(kept.headers["X-Query-Count"]) == int(first.headers["X-Query-Count"]) - 1
    assert town_options(later.get_data(as_text=True)) == ["Any town", "Calne", "Devizes"]
    # Searching the new town works before the select shows it.
    html = client.get("/venues", query_string={"town": "devizes"}).get_data(as_text=True)
    assert venue_names(html) == ["Devizes Corn Exchange"]
