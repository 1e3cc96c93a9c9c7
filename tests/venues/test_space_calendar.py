"""The space calendar as people use it: time gone by is past (never free, never a link), each free hour starts a
booking for that hour, the page opens on the current week, offers the busy-time feed to subscribe to, and picks
one day at a time where the week does not fit."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from foundation.types import LONDON, utcnow
from foundation.venues import views_search
from foundation.venues.search import SegmentKind, week_calendar
from tests.factories import login
from tests.venues.factories import make_booker, make_booking, make_space, make_venue

BASE_URL = "https://wypf.example"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "BASE_URL": BASE_URL, "QUERY_COUNT_HEADER": True}


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Devizes Town Hall Trust")


@pytest.fixture
def hall(owner):
    # Open Monday to Saturday, 09:00-21:00; closed on Sundays.
    venue = make_venue(owner[1], "Devizes Town Hall", opens=time(9), closes=time(21), weekdays=range(6))
    return make_space(venue, "Assembly room")


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Devizes Youth Theatre")


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


def monday(weeks_ahead: int = 1) -> date:
    today = london_today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=LONDON)


@pytest.fixture
def frozen(monkeypatch):
    """Set the calendar page's "now" (a London wall-clock time)."""

    def freeze(now: datetime) -> None:
        monkeypatch.setattr(views_search, "utcnow", lambda: now)

    return freeze


def cells(html: str) -> list[tuple[str, str, str, str | None]]:
    """(kind, times, label, booking link or None) of every cell of the grid, in document order."""
    found = []
    for td in re.findall(r'<td rowspan="\d+" class="slot [^"]*"[^>]*>.*?</td>', html, re.S):
        kind = re.search(r'class="slot slot-(\w+)', td).group(1)
        times = re.search(r'<span class="slot-times">([^<]+)</span>', td).group(1)
        label = re.search(r'<span class="slot-label">([^<]+)</span>', td).group(1)
        link = re.search(r'<a class="slot-link" href="([^"]+)"', td)
        found.append((kind, times, label.strip(), link.group(1).replace("&amp;", "&") if link else None))
    return found


def inputs(html: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r'<input[^>]* id="([^"]+)"[^>]*>', html)}


# --- past time is past --------------------------------------------------------------------------------------------


def test_time_before_now_is_past_never_free(app, hall, booker):
    mon = monday()
    make_booking(hall, booker[1], mon, start=time(18), end=time(19, 30))
    now = at(mon + timedelta(days=2), 13, 20)  # Wednesday, 13:20

    cal = week_calendar(hall, mon, None, now=now)

    kinds = [(s.kind, s.times, s.label, s.past) for s in cal.days[0].segments]
    assert kinds == [
        (SegmentKind.PAST, "09:00–18:00", "Past", True),
        (SegmentKind.BOOKED, "18:00–19:30", "Booked", True),  # kept for the record, greyed
        (SegmentKind.PAST, "19:30–21:00", "Past", True),
    ]
    assert [(s.kind, s.times) for s in cal.days[1].segments] == [(SegmentKind.PAST, "09:00–21:00")]
    # Today: the hour under way has started, so the grid's row (30 minutes here) is past up to 13:30.
    assert cal.step == 30
    assert [(s.kind, s.times) for s in cal.days[2].segments] == [
        (SegmentKind.PAST, "09:00–13:30"),
        (SegmentKind.FREE, "13:30–21:00"),
    ]
    assert [(s.kind, s.times) for s in cal.days[3].segments] == [(SegmentKind.FREE, "09:00–21:00")]
    # The grid agrees: no free cell before now, on any day.
    for col, day in enumerate(cal.days):
        for row in cal.rows:
            seg = row.cells[col]
            if seg is not None and seg.kind is SegmentKind.FREE:
                assert at(day.day, 0) + timedelta(minutes=seg.start) >= now


@pytest.mark.parametrize(
    ("hour", "minute", "second", "free_from"),
    [(14, 0, 0, "14:00"), (14, 0, 1, "15:00"), (14, 59, 0, "15:00"), (8, 0, 0, "09:00"), (22, 0, 0, None)],
)
def test_the_cut_is_on_a_row_line(app, hall, hour, minute, second, free_from):
    mon = monday()

    cal = week_calendar(hall, mon, None, now=at(mon, hour, minute, second))

    assert cal.step == 60
    free = [s for s in cal.days[0].segments if s.kind is SegmentKind.FREE]
    assert [s.start_text for s in free] == ([free_from] if free_from else [])


def test_a_past_week_says_so_and_offers_nothing_to_book(client, hall):
    last_week = monday(-1)

    r = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": last_week.isoformat()})

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "This week is over: all of its times are past" in html
    found = cells(html)
    assert found and all(
        kind != "free" and label != "Free" and link is None for kind, _, label, link in found
    )
    assert ("past", "09:00–21:00", "Past", None) in found
    assert "/book?first_date=" not in html
    assert f'href="/spaces/{hall.id}/book">Book this space</a>' in html, "no past date is carried"


def test_the_earlier_part_of_today_is_past_on_the_page(client, hall, frozen):
    wednesday = monday() + timedelta(days=2)
    now = at(wednesday, 11, 45)
    frozen(now)

    html = client.get(f"/spaces/{hall.id}/calendar").get_data(as_text=True)

    assert "Times before now are shown as past." in html
    found = cells(html)
    assert ("past", "09:00–12:00", "Past", None) in found
    links = [link for kind, _, _, link in found if kind == "free"]
    assert links and all(link for link in links), "every free cell is a link"
    for link in links:
        args = parse_qs(urlsplit(link).query)
        assert (
            at(date.fromisoformat(args["first_date"][0]), *map(int, args["start_time"][0].split(":"))) >= now
        )
    assert not [c for c in found if c[2] == "Free" and c[0] != "free"]


# --- free hours start a booking -----------------------------------------------------------------------------------


def test_each_free_hour_links_to_the_booking_form_for_it(client, hall, booker):
    mon = monday()
    make_booking(hall, booker[1], mon, start=time(10, 30), end=time(12))

    html = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": mon.isoformat()}).get_data(
        as_text=True
    )

    found = cells(html)
    monday_cells = [c for c in found if c[3] and f"first_date={mon.isoformat()}" in c[3]]
    assert [(times, link) for _, times, _, link in monday_cells][:3] == [
        ("09:00–10:00", f"/spaces/{hall.id}/book?first_date={mon}&start_time=09:00&end_time=10:00"),
        ("10:00–10:30", f"/spaces/{hall.id}/book?first_date={mon}&start_time=10:00&end_time=10:30"),
        ("12:00–13:00", f"/spaces/{hall.id}/book?first_date={mon}&start_time=12:00&end_time=13:00"),
    ]
    assert ("booked", "10:30–12:00", "Booked", None) in found
    assert len(monday_cells) == 1 + 1 + 9  # 09-10, 10-10:30, then every hour from 12:00 to 21:00
    # Nothing but a free cell links to the form; a closed day has no link.
    assert all((kind == "free") == bool(link) for kind, _, _, link in found)
    sunday = (mon + timedelta(days=6)).isoformat()
    assert f"first_date={sunday}" not in html


def test_the_link_opens_the_form_filled_in(client, hall, booker):
    user, _ = booker
    mon = monday()
    html = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": mon.isoformat()}).get_data(
        as_text=True
    )
    link = next(link for kind, times, _, link in cells(html) if kind == "free" and times == "15:00–16:00")
    login(client, user)

    r = client.get(link)

    assert r.status_code == 200
    shown = inputs(r.get_data(as_text=True))
    assert f'value="{mon.isoformat()}"' in shown["first_date"]
    assert 'value="15:00"' in shown["start_time"] and 'value="16:00"' in shown["end_time"]


def test_the_form_reads_date_start_and_end_too(client, hall, booker):
    login(client, booker[0])
    day = monday() + timedelta(days=1)

    r = client.get(
        f"/spaces/{hall.id}/book", query_string={"date": day.isoformat(), "start": "09:30", "end": "11:00"}
    )

    assert r.status_code == 200
    shown = inputs(r.get_data(as_text=True))
    assert f'value="{day.isoformat()}"' in shown["first_date"]
    assert 'value="09:30"' in shown["start_time"] and 'value="11:00"' in shown["end_time"]


@pytest.mark.parametrize(
    "args",
    [
        {"first_date": "2030-02-31", "start_time": "25:00", "end_time": "noon"},
        {"date": "31/12/2030", "start": "9am", "end": "24:00"},
        {"first_date": "", "start_time": "", "end_time": ""},
        {"first_date": "2030-1-1x", "start_time": "10:00:00:00", "end_time": "\x00"},
    ],
)
def test_bad_prefill_values_are_ignored(client, hall, booker, args):
    login(client, booker[0])

    r = client.get(f"/spaces/{hall.id}/book", query_string=args)

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    shown = inputs(html)
    for name in ("first_date", "start_time", "end_time"):
        assert 'value=""' in shown[name] or "value=" not in shown[name], name
    assert 'class="error"' not in html


def test_an_end_not_after_the_start_is_left_out(client, hall, booker):
    login(client, booker[0])
    day = monday()

    r = client.get(
        f"/spaces/{hall.id}/book",
        query_string={"first_date": day.isoformat(), "start_time": "15:00", "end_time": "14:00"},
    )

    shown = inputs(r.get_data(as_text=True))
    assert r.status_code == 200
    assert 'value="15:00"' in shown["start_time"] and 'value="14:00"' not in shown["end_time"]


# --- which week ---------------------------------------------------------------------------------------------------


def test_without_a_week_it_opens_on_the_current_london_week(client, hall, frozen):
    # Sunday 23:30 in UTC during British Summer Time is already Monday 00:30 in London: a new week.
    year = london_today().year + 1
    sunday = date(year, 7, 7) - timedelta(days=(date(year, 7, 7).weekday() + 1) % 7)
    new_monday = sunday + timedelta(days=1)
    frozen(at(new_monday, 0, 30))

    html = client.get(f"/spaces/{hall.id}/calendar").get_data(as_text=True)

    assert f"Week of {new_monday:%A %-d %B %Y}" in html
    prev_week, next_week = new_monday - timedelta(days=7), new_monday + timedelta(days=7)
    assert f'href="/spaces/{hall.id}/calendar?week={prev_week.isoformat()}" rel="prev"' in html
    assert f'href="/spaces/{hall.id}/calendar?week={next_week.isoformat()}" rel="next"' in html
    assert "Times before now are shown as past." in html
    assert re.search(r'<th scope="col" id="cal-d0" class="day-col day-0 today">', html)


def test_the_default_week_is_this_week(client, hall):
    r = client.get(f"/spaces/{hall.id}/calendar")

    assert r.status_code == 200
    assert f"Week of {monday(0):%A %-d %B %Y}" in r.get_data(as_text=True)


# --- one day at a time where the week does not fit ----------------------------------------------------------------


@pytest.mark.parametrize(("day", "shown"), [("3", 3), ("0", 0), ("6", 6), ("7", 0), ("-1", 0), ("x", 0)])
def test_the_day_picker(client, hall, day, shown):
    mon = monday()

    r = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": mon.isoformat(), "day": day})

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'class="week-grid step-60 show-day-{shown}"' in html
    current = re.findall(r'<a href="([^"]+)" aria-current="true">', html)
    assert current == [f"/spaces/{hall.id}/calendar?week={mon.isoformat()}&amp;day={shown}#days"]
    # Every cell names its day and time for screen readers, whichever days are on show.
    for td in re.findall(r"<td [^>]*>", html):
        assert re.search(r'headers="cal-t\d+ cal-d[0-6]"', td)


def test_today_is_the_day_shown_first_in_the_current_week(client, hall, frozen):
    thursday = monday() + timedelta(days=3)
    frozen(at(thursday, 8))

    html = client.get(f"/spaces/{hall.id}/calendar").get_data(as_text=True)

    assert "show-day-3" in html


# --- subscribing --------------------------------------------------------------------------------------------------


def test_subscribe_link_is_the_public_feed_on_base_url(client, hall, booker):
    make_booking(hall, booker[1], monday(), purpose="Rehearsal")

    r = client.get(f"/spaces/{hall.id}/calendar", headers={"Host": "localhost"})

    html = r.get_data(as_text=True)
    section = re.search(r'<section class="panel subscribe".*?</section>', html, re.S)
    assert section and "Subscribe to this space's calendar" in section.group(0)
    assert re.search(r"Outlook, Google Calendar or Apple Calendar", section.group(0))
    assert "busy times only" in section.group(0) and "never who booked" in section.group(0)
    href = re.search(r'<a href="([^"]+)">', section.group(0)).group(1)
    assert href == f"{BASE_URL}/spaces/{hall.id}/busy.ics"
    assert "localhost" not in section.group(0)

    feed = client.get(urlsplit(href).path)

    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in body and "Rehearsal" not in body and "Devizes Youth Theatre" not in body


# --- statements ---------------------------------------------------------------------------------------------------


def test_statements_do_not_grow_with_the_free_hours_or_bookings(client, hall, booker):
    quiet, busy = monday(1), monday(2)
    for i in range(12):
        make_booking(
            hall, booker[1], busy + timedelta(days=i % 6), start=time(9 + i // 6), end=time(10 + i // 6)
        )

    a = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": quiet.isoformat()})
    b = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": busy.isoformat()})
    c = client.get(f"/spaces/{hall.id}/calendar")

    links = [len([x for x in cells(r.get_data(as_text=True)) if x[3]]) for r in (a, b)]
    assert links == [6 * 12, 6 * 12 - 12]
    assert a.headers["X-Query-Count"] == b.headers["X-Query-Count"] == c.headers["X-Query-Count"]
