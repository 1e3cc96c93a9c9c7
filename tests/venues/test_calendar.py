"""A space's week calendar: opening hours, closures, bookings and requests, who sees titles, weeks, query counts."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from foundation.members.models import MemberRole
from foundation.types import LONDON, utcnow
from foundation.venues.models import OccurrenceStatus
from foundation.venues.search import SegmentKind, week_calendar
from tests.factories import add_member, login, make_user
from tests.venues.factories import add_closure, make_booker, make_booking, make_space, make_venue

REQUESTED = OccurrenceStatus.REQUESTED


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUERY_COUNT_HEADER": True}


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


def monday(weeks_ahead: int = 1) -> date:
    today = london_today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Melksham Town Trust")


@pytest.fixture
def venue(owner):
    # Open Monday to Saturday, 09:00-21:00; closed on Sundays.
    return make_venue(owner[1], "Melksham Assembly Hall", opens=time(9), closes=time(21), weekdays=range(6))


@pytest.fixture
def hall(venue):
    return make_space(venue, "Main hall", capacity=150)


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Melksham Scouts")


def slots(html: str) -> list[tuple[str, str, str]]:
    """(kind, times, label) of every block in the grid, in document order."""
    return [
        (kind, times, re.sub(r"\s+", " ", label).strip())
        for kind, times, label in re.findall(
            r'class="slot slot-(\w+)[^"]*"[^>]*>\s*(?:<a [^>]*>)?<span class="slot-times">([^<]+)</span>\s*'
            r'<span class="slot-label">([^<]+)</span>',
            html,
        )
    ]


def day_segments(cal, index: int) -> list[tuple[SegmentKind, str, str]]:
    return [(s.kind, s.times, s.label) for s in cal.days[index].segments]


# --- what the week shows ------------------------------------------------------------------------------------------


def test_week_shows_free_hours_bookings_closures_and_closed_days(app, hall, venue, booker):
    mon = monday()
    make_booking(hall, booker[1], mon, start=time(18), end=time(19, 30), purpose="Scout night")
    add_closure(venue, mon + timedelta(days=2), reason="Polling station")

    cal = week_calendar(hall, mon + timedelta(days=3), None)

    assert cal.week_start == mon  # any day of the week gives its Monday
    assert [d.day for d in cal.days] == [mon + timedelta(days=i) for i in range(7)]
    assert day_segments(cal, 0) == [
        (SegmentKind.FREE, "09:00–18:00", "Free"),
        (SegmentKind.BOOKED, "18:00–19:30", "Booked"),
        (SegmentKind.FREE, "19:30–21:00", "Free"),
    ]
    assert day_segments(cal, 1) == [(SegmentKind.FREE, "09:00–21:00", "Free")]
    assert day_segments(cal, 2) == [(SegmentKind.CLOSED, "09:00–21:00", "Closed: Polling station")]
    assert day_segments(cal, 6) == [(SegmentKind.CLOSED, "09:00–21:00", "Closed")]
    assert cal.step == 30 and cal.rows[0].label == "09:00" and cal.rows[-1].label == "20:30"


def test_the_page_is_public_and_gives_times_as_text(client, hall, venue, booker):
    mon = monday()
    make_booking(hall, booker[1], mon, start=time(18), end=time(19, 30), purpose="Scout night")
    add_closure(venue, mon + timedelta(days=2), reason="Polling station")

    r = client.get(
        f"/spaces/{hall.id}/calendar", query_string={"week": (mon + timedelta(days=1)).isoformat()}
    )

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f"Week of {mon:%A %-d %B %Y}" in html
    found = slots(html)
    assert ("booked", "18:00–19:30", "Booked") in found
    # A free stretch shows (and links to the booking form) by the hour.
    hours = [f"{h:02d}:00–{h + 1:02d}:00" for h in range(9, 18)] + ["19:30–20:00", "20:00–21:00"]
    assert all(("free", times, "Free") in found for times in hours)
    assert ("free", "09:00–18:00", "Free") not in found
    assert ("closed", "09:00–21:00", "Closed: Polling station") in found
    assert "Scout night" not in html
    # Every cell is either a block start or spanned by one above: 7 days of 24 half-hour rows.
    spans = [int(n) for n in re.findall(r'<td rowspan="(\d+)" class="slot', html)]
    assert sum(spans) == 7 * 24


def test_a_booking_of_a_part_or_of_the_whole_shows_on_the_other(client, venue, booker):
    whole = make_space(venue, "Whole hall")
    left = make_space(venue, "Left half", parent=whole)
    right = make_space(venue, "Right half", parent=whole)
    mon = monday()
    make_booking(left, booker[1], mon, start=time(10), end=time(11))
    make_booking(whole, booker[1], mon, start=time(14), end=time(15))

    whole_cal = week_calendar(whole, mon, None)
    right_cal = week_calendar(right, mon, None)

    booked_whole = [s for s in day_segments(whole_cal, 0) if s[0] is SegmentKind.BOOKED]
    booked_right = [s for s in day_segments(right_cal, 0) if s[0] is SegmentKind.BOOKED]
    assert booked_whole == [
        (SegmentKind.BOOKED, "10:00–11:00", "Booked (Left half)"),
        (SegmentKind.BOOKED, "14:00–15:00", "Booked"),
    ]
    assert booked_right == [(SegmentKind.BOOKED, "14:00–15:00", "Booked (Whole hall)")]


def test_requests_show_as_requested_not_booked(client, hall, booker):
    mon = monday()
    make_booking(hall, booker[1], mon, start=time(10), end=time(12), status=REQUESTED, purpose="Fun day")

    html = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": mon.isoformat()}).get_data(
        as_text=True
    )

    assert ("requested", "10:00–12:00", "Requested, not confirmed") in slots(html)
    assert not [s for s in slots(html) if s[0] == "booked"]


def test_clock_change_week_keeps_wall_clock_times(app, hall, booker):
    # The next last Sunday of October, when the clocks go back.
    year = london_today().year
    change = date(year, 10, 31)
    change -= timedelta(days=(change.weekday() + 1) % 7)
    if change < london_today():
        change = date(year + 1, 10, 31)
        change -= timedelta(days=(change.weekday() + 1) % 7)
    make_booking(hall, booker[1], change - timedelta(days=1), change + timedelta(days=1), weekdays=(5, 0),
                 start=time(18), end=time(19, 30))  # fmt: skip

    before = week_calendar(hall, change - timedelta(days=1), None)
    after = week_calendar(hall, change + timedelta(days=1), None)

    assert (SegmentKind.BOOKED, "18:00–19:30", "Booked") in day_segments(before, 5)
    assert (SegmentKind.BOOKED, "18:00–19:30", "Booked") in day_segments(after, 0)


# --- who sees what a booking is for -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees_title"),
    [
        ("anonymous", False),
        ("booker member", True),
        ("owner admin", True),
        ("owner member", False),
        ("other organisation", False),
        ("staff", True),
    ],
)
def test_titles_only_for_the_booking_organisation_owner_admins_and_staff(
    client, hall, owner, booker, viewer, sees_title
):
    mon = monday()
    booking = make_booking(hall, booker[1], mon, start=time(18), end=time(19, 30), purpose="Scout night")
    user = None
    if viewer == "booker member":
        user = make_user(email="cub@example.org")
        add_member(booker[1], user, MemberRole.MEMBER)
    elif viewer == "owner admin":
        user = owner[0]
    elif viewer == "owner member":
        user = make_user(email="caretaker@example.org")
        add_member(owner[1], user, MemberRole.MEMBER)
    elif viewer == "other organisation":
        user, _ = make_booker(email="rival@example.org")
    elif viewer == "staff":
        user = make_user(email="staff@example.org", staff=True)
    if user is not None:
        login(client, user)

    r = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": mon.isoformat()})

    assert r.status_code == 200
    html = r.get_data(as_text=True)
    booked = [s for s in slots(html) if s[0] == "booked"]
    if sees_title:
        assert booked == [("booked", "18:00–19:30", "Booked: Scout night, Melksham Scouts")]
        assert f'href="/bookings/{booking.id}"' in html
    else:
        assert booked == [("booked", "18:00–19:30", "Booked")]
        assert "Scout night" not in html and f"/bookings/{booking.id}" not in html


# --- weeks, links and bad input -----------------------------------------------------------------------------------


def test_week_navigation_date_picker_and_booking_link(client, hall):
    mon = monday(3)

    html = client.get(
        f"/spaces/{hall.id}/calendar", query_string={"week": (mon + timedelta(days=4)).isoformat()}
    ).get_data(as_text=True)

    assert (
        f'href="/spaces/{hall.id}/calendar?week={(mon - timedelta(days=7)).isoformat()}" rel="prev"' in html
    )
    assert (
        f'href="/spaces/{hall.id}/calendar?week={(mon + timedelta(days=7)).isoformat()}" rel="next"' in html
    )
    assert re.search(r'<input [^>]*\bid="week" name="week" type="date" value="[0-9-]+"', html)
    day = (mon + timedelta(days=4)).isoformat()
    assert f'href="/spaces/{hall.id}/book?first_date={day}">Book this space</a>' in html


def test_without_a_week_it_shows_the_current_week(client, hall):
    this_monday = monday(0)

    html = client.get(f"/spaces/{hall.id}/calendar").get_data(as_text=True)

    assert f"Week of {this_monday:%A %-d %B %Y}" in html


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2025-13-45", "Enter a date as year-month-day, like 2025-03-18."),
        ("soon", "Enter a date as year-month-day, like 2025-03-18."),
        ("1900-01-01", "Choose a date between 3 January 2000 and"),
    ],
)
def test_a_bad_week_shows_the_message_and_the_current_week(client, hall, week, message):
    r = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": week})

    assert r.status_code == 400
    html = r.get_data(as_text=True)
    error = re.search(r'<p class="error" id="week-error">([^<]+)</p>', html)
    assert error and message in error.group(1)
    assert f"Week of {monday(0):%A %-d %B %Y}" in html


def test_archived_or_unknown_spaces_are_not_found(client, venue, hall, owner):
    old_room = make_space(venue, "Old room", archived_at=utcnow())
    closed_venue = make_venue(owner[1], "Closed venue", archived_at=utcnow())
    room_in_closed = make_space(closed_venue, "Room")

    assert client.get(f"/spaces/{old_room.id}/calendar").status_code == 404
    assert client.get(f"/spaces/{room_in_closed.id}/calendar").status_code == 404
    assert client.get("/spaces/999999/calendar").status_code == 404
    assert client.get(f"/spaces/{hall.id}/calendar").status_code == 200


# --- queries per page ---------------------------------------------------------------------------------------------


def _book_many(space, org, mon: date, n: int) -> None:
    for i in range(n):
        day = mon + timedelta(days=i % 6)
        hour = 9 + (i // 6)
        status = REQUESTED if i % 5 == 4 else OccurrenceStatus.CONFIRMED
        make_booking(
            space, org, day, start=time(hour), end=time(hour, 45), status=status, purpose=f"Session {i}"
        )


def test_query_count_does_not_grow_with_the_bookings_in_the_week(client, venue, booker):
    whole = make_space(venue, "Whole hall")
    half = make_space(venue, "Half hall", parent=whole)
    quiet, busy = monday(1), monday(2)
    _book_many(half, booker[1], quiet, 2)
    _book_many(whole, booker[1], busy, 20)
    for i in range(20):  # and 20 on the half, after the whole hall's
        make_booking(
            half, booker[1], busy + timedelta(days=i % 6), start=time(17 + i // 6), end=time(17 + i // 6, 30)
        )

    def counts() -> tuple[int, int]:
        a = client.get(f"/spaces/{whole.id}/calendar", query_string={"week": quiet.isoformat()})
        b = client.get(f"/spaces/{whole.id}/calendar", query_string={"week": busy.isoformat()})
        assert a.status_code == b.status_code == 200
        assert len(slots(a.get_data(as_text=True))) < len(slots(b.get_data(as_text=True)))
        return int(a.headers["X-Query-Count"]), int(b.headers["X-Query-Count"])

    quiet_count, busy_count = counts()
    assert quiet_count == busy_count <= 8
    login(client, booker[0])  # sees every title: still no query per booking
    quiet_signed_in, busy_signed_in = counts()
    assert quiet_signed_in == busy_signed_in
