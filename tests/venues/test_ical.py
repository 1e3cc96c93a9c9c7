"""iCalendar feeds: what a calendar app gets when it expands them must be exactly the bookings in the database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
import recurring_ical_events
import sqlalchemy as sa

from foundation.members.models import MemberRole
from foundation.types import LONDON, utcnow
from foundation.venues import ical
from foundation.venues.availability import local_interval
from foundation.venues.models import (
    Booking,
    CalendarToken,
    Occurrence,
    OccurrenceStatus,
    Recurrence,
    Space,
    Venue,
)
from tests.factories import add_member, login, make_org, make_user

CONFIRMED = OccurrenceStatus.CONFIRMED
REQUESTED = OccurrenceStatus.REQUESTED
CANCELLED = OccurrenceStatus.CANCELLED
DECLINED = OccurrenceStatus.DECLINED
LAST_SUNDAY_OCTOBER_2026 = date(2026, 10, 25)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # The fixed dates below (around the October 2026 clock change) must stay inside the feed's history window.
    return {**app_config, "CALENDAR_FEED_HISTORY_DAYS": 20 * 365, "BASE_URL": "https://venues.example.org"}


# --- building bookings straight into the tables ------------------------------------------------------------------


def make_venue(org, name: str = "Calne Youth Centre") -> Venue:
    from foundation.extensions import db

    venue = Venue(
        organisation_id=org.id,
        name=name,
        address_line1="1 Church Street",
        town="Calne",
        postcode="SN11 0HY",
        description="Community centre by the river.",
    )
    db.session.add(venue)
    db.session.flush()
    return venue


def make_space(venue: Venue, name: str, parent: Space | None = None, capacity: int = 60) -> Space:
    from foundation.extensions import db

    space = Space(venue_id=venue.id, name=name, capacity=capacity, parent_id=parent.id if parent else None)
    db.session.add(space)
    db.session.flush()
    db.session.refresh(venue)
    if parent is not None:
        db.session.refresh(parent)
    return space


def add_occurrence(
    booking: Booking, day: date, start: time, end: time, status: OccurrenceStatus = CONFIRMED
) -> Occurrence:
    from foundation.extensions import db

    slot = local_interval(day, start, end)
    occ = Occurrence(
        booking_id=booking.id,
        space_id=booking.space_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
        decided_at=None if status is REQUESTED else utcnow(),
    )
    db.session.add(occ)
    db.session.flush()
    return occ


def book(
    space: Space,
    org,
    first: date,
    last: date | None = None,
    weekdays: tuple[int, ...] = (),
    start: time = time(18),
    end: time = time(19, 30),
    purpose: str = "Youth club",
    skip: frozenset[date] = frozenset(),
    statuses: dict[date, OccurrenceStatus] | None = None,
    status: OccurrenceStatus = CONFIRMED,
) -> Booking:
    """A booking with one occurrence per pattern date, except the skipped ones (holidays)."""
    from foundation.extensions import db

    weekly = bool(weekdays)
    booking = Booking(
        space_id=space.id,
        organisation_id=org.id,
        purpose=purpose,
        expected_attendance=20,
        recurrence=Recurrence.WEEKLY if weekly else Recurrence.ONE_OFF,
        weekdays=",".join(str(d) for d in weekdays),
        first_date=first,
        last_date=last or first,
        start_time=start,
        end_time=end,
        skip_school_holidays=bool(skip),
        uid=uuid.uuid4().hex,
    )
    db.session.add(booking)
    db.session.flush()
    day = first
    while day <= booking.last_date:
        if (not weekly or day.weekday() in weekdays) and day not in skip:
            add_occurrence(booking, day, start, end, (statuses or {}).get(day, status))
        day += timedelta(days=1)
    db.session.refresh(booking)
    return booking


# --- reading feeds -----------------------------------------------------------------------------------------------


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def expand(body: bytes) -> list[tuple[datetime, datetime]]:
    """Every instance a calendar app would show, as UTC (start, end)."""
    events = recurring_ical_events.of(parse(body)).between(date(2020, 1, 1), date(2035, 1, 1))
    return sorted((e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in events)


def expanded_events(body: bytes) -> list:
    return sorted(
        recurring_ical_events.of(parse(body)).between(date(2020, 1, 1), date(2035, 1, 1)),
        key=lambda e: e.start,
    )


def in_db(
    db, space_ids: list[int] | None = None, org=None, statuses=(CONFIRMED,)
) -> list[tuple[datetime, datetime]]:
    query = sa.select(Occurrence.starts_at, Occurrence.ends_at).join(Occurrence.booking)
    query = query.where(Occurrence.status.in_(statuses))
    if space_ids is not None:
        query = query.where(Occurrence.space_id.in_(space_ids))
    if org is not None:
        query = query.where(Booking.organisation_id == org.id)
    return sorted((s, e) for s, e in db.session.execute(query).all())


def vevents(body: bytes) -> list[icalendar.Event]:
    return list(parse(body).walk("VEVENT"))


def busy(client, space: Space):
    return client.get(f"/spaces/{space.id}/busy.ics")


@pytest.fixture
def venue_setup(db):
    owner_admin = make_user(email="owner@example.org")
    owner = make_org(admin=owner_admin, name="Calne Community Trust")
    venue = make_venue(owner)
    hall = make_space(venue, "Main hall", capacity=120)
    return owner, venue, hall


# --- public busy feeds ------------------------------------------------------------------------------------------


def test_weekly_series_across_october_clock_change_stays_at_18_00_local(client, db, venue_setup):
    owner, venue, hall = venue_setup
    group = make_org(name="Chippenham Scouts")
    booking = book(
        hall, group, date(2026, 10, 5), date(2026, 11, 11), weekdays=(0, 2), start=time(18), end=time(19, 30)
    )
    db.session.commit()

    resp = busy(client, hall)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "max-age=" in resp.headers["Cache-Control"] and "public" in resp.headers["Cache-Control"]
    assert resp.headers.get("ETag")

    body = resp.data
    cal = parse(body)
    assert cal["VERSION"] == "2.0"
    assert cal["CALSCALE"] == "GREGORIAN"
    assert "Wiltshire Young People's Foundation" in str(cal["PRODID"])
    tz = cal.walk("VTIMEZONE")
    assert [t["TZID"] for t in tz] == ["Europe/London"]
    assert {c.name for c in tz[0].subcomponents} == {"STANDARD", "DAYLIGHT"}

    # One VEVENT for the whole series, in London wall-clock time, with UNTIL in UTC.
    (event,) = vevents(body)
    assert str(event["UID"]) == f"{booking.uid}@wypf.org.uk"
    assert event.get("DTSTAMP") is not None
    text = body.decode()
    assert "DTSTART;TZID=Europe/London:20261005T180000" in text
    assert "DTEND;TZID=Europe/London:20261005T193000" in text
    rrule = re.search(r"RRULE:(.*)", text).group(1).strip()
    assert dict(part.split("=") for part in rrule.split(";")) == {
        "FREQ": "WEEKLY",
        "BYDAY": "MO,WE",
        "UNTIL": "20261111T180000Z",  # 18:00 GMT on the last date
    }
    assert "EXDATE" not in text

    expanded = expand(body)
    assert expanded == in_db(db, [hall.id])
    assert len(expanded) == 12  # six Mondays and six Wednesdays
    for start, end in expanded:
        assert start.astimezone(LONDON).time() == time(18)
        assert end.astimezone(LONDON).time() == time(19, 30)
    before = [s for s, _ in expanded if s.date() < LAST_SUNDAY_OCTOBER_2026]
    after = [s for s, _ in expanded if s.date() > LAST_SUNDAY_OCTOBER_2026]
    assert before and after
    assert {s.time() for s in before} == {time(17)}  # BST: 18:00 local is 17:00 UTC
    assert {s.time() for s in after} == {time(18)}  # GMT


def test_skipped_holiday_cancelled_declined_and_requested_dates_are_excluded(client, db, venue_setup):
    owner, venue, hall = venue_setup
    group = make_org(name="Devizes Youth Theatre")
    half_term = date(2027, 2, 16)
    cancelled, declined, requested = date(2027, 1, 19), date(2027, 3, 2), date(2027, 3, 16)
    booking = book(
        hall,
        group,
        date(2027, 1, 5),
        date(2027, 3, 30),
        weekdays=(1,),
        start=time(17, 30),
        end=time(19),
        skip=frozenset({half_term}),
        statuses={cancelled: CANCELLED, declined: DECLINED, requested: REQUESTED},
    )
    db.session.commit()

    body = busy(client, hall).data
    (event,) = vevents(body)
    exdates = {dt.dt for prop in _as_list(event.get("EXDATE")) for dt in prop.dts}
    expected = {
        datetime.combine(d, time(17, 30), tzinfo=LONDON) for d in (half_term, cancelled, declined, requested)
    }
    assert exdates == expected
    assert all(dt.tzinfo is not None and str(dt.tzinfo) == "Europe/London" for dt in exdates)
    assert "EXDATE;TZID=Europe/London:" in body.decode()

    expanded = expand(body)
    assert expanded == in_db(db, [hall.id])
    assert len(expanded) == 13 - 4
    shown_days = {s.astimezone(LONDON).date() for s, _ in expanded}
    assert not shown_days & {half_term, cancelled, declined, requested}
    assert booking.uid in str(event["UID"])


def test_series_starting_and_ending_on_excluded_dates_is_trimmed_not_shifted(client, db, venue_setup):
    owner, venue, hall = venue_setup
    group = make_org()
    book(
        hall,
        group,
        date(2027, 5, 3),
        date(2027, 6, 28),
        weekdays=(0,),
        statuses={date(2027, 5, 3): CANCELLED, date(2027, 6, 28): DECLINED, date(2027, 5, 31): CANCELLED},
        skip=frozenset({date(2027, 6, 21)}),
    )
    db.session.commit()

    body = busy(client, hall).data
    assert expand(body) == in_db(db, [hall.id])
    assert "DTSTART;TZID=Europe/London:20270510T180000" in body.decode()


def test_one_off_booking_is_a_single_event(client, db, venue_setup):
    owner, venue, hall = venue_setup
    group = make_org()
    booking = book(hall, group, date(2027, 4, 10), start=time(10), end=time(16))
    db.session.commit()

    body = busy(client, hall).data
    (event,) = vevents(body)
    assert "RRULE" not in event and "EXDATE" not in event
    assert str(event["UID"]) == f"{booking.uid}@wypf.org.uk"
    assert event.start == datetime(2027, 4, 10, 10, tzinfo=LONDON)
    assert event.end == datetime(2027, 4, 10, 16, tzinfo=LONDON)
    assert (
        expand(body)
        == in_db(db, [hall.id])
        == [(datetime(2027, 4, 10, 9, tzinfo=UTC), datetime(2027, 4, 10, 15, tzinfo=UTC))]
    )


def test_a_booking_of_the_whole_hall_makes_each_half_busy_and_a_half_makes_the_hall_busy(
    client, db, venue_setup
):
    owner, venue, hall = venue_setup
    half_a = make_space(venue, "Hall, stage end", parent=hall, capacity=60)
    half_b = make_space(venue, "Hall, kitchen end", parent=hall, capacity=60)
    meeting_room = make_space(venue, "Meeting room", capacity=12)
    group = make_org()
    book(hall, group, date(2027, 4, 17), start=time(9), end=time(12))  # whole hall, one Saturday
    book(half_a, group, date(2027, 4, 6), date(2027, 4, 27), weekdays=(1,))  # stage end, Tuesdays
    book(half_b, group, date(2027, 4, 8), start=time(14), end=time(15))  # kitchen end, one Thursday
    book(meeting_room, group, date(2027, 4, 9))
    db.session.commit()

    hall_feed = expand(busy(client, hall).data)
    a_feed = expand(busy(client, half_a).data)
    b_feed = expand(busy(client, half_b).data)
    room_feed = expand(busy(client, meeting_room).data)

    assert hall_feed == in_db(db, [hall.id, half_a.id, half_b.id])
    assert a_feed == in_db(db, [hall.id, half_a.id])  # the other half does not block this one
    assert b_feed == in_db(db, [hall.id, half_b.id])
    assert room_feed == in_db(db, [meeting_room.id])
    saturday = (datetime(2027, 4, 17, 8, tzinfo=UTC), datetime(2027, 4, 17, 11, tzinfo=UTC))
    assert saturday in a_feed and saturday in b_feed and saturday not in room_feed
    assert len(a_feed) == 5 and len(b_feed) == 2 and len(hall_feed) == 6


def test_a_date_moved_to_another_time_is_an_override_and_an_off_pattern_date_its_own_event(
    client, db, venue_setup
):
    owner, venue, hall = venue_setup
    group = make_org()
    booking = book(hall, group, date(2027, 1, 4), date(2027, 2, 22), weekdays=(0,))
    moved = next(o for o in booking.occurrences if o.starts_at.astimezone(LONDON).date() == date(2027, 1, 25))
    moved.starts_at, moved.ends_at = (
        datetime(2027, 1, 25, 19, tzinfo=UTC),
        datetime(2027, 1, 25, 20, 45, tzinfo=UTC),
    )
    extra = add_occurrence(
        booking, date(2027, 2, 5), time(18), time(19, 30)
    )  # a Friday the pattern never makes
    db.session.commit()

    body = busy(client, hall).data
    events = vevents(body)
    master = next(e for e in events if "RRULE" in e)
    overrides = [e for e in events if "RECURRENCE-ID" in e]
    assert len(overrides) == 1
    assert overrides[0]["UID"] == master["UID"] == f"{booking.uid}@wypf.org.uk"
    assert overrides[0]["RECURRENCE-ID"].dt == datetime(2027, 1, 25, 18, tzinfo=LONDON)
    (own,) = [e for e in events if "RRULE" not in e and "RECURRENCE-ID" not in e]
    assert str(own["UID"]) == f"{booking.uid}-{extra.id}@wypf.org.uk"
    assert len({str(e["UID"]) for e in events}) == 2

    expanded = expand(body)
    assert expanded == in_db(db, [hall.id])
    assert (datetime(2027, 1, 25, 19, tzinfo=UTC), datetime(2027, 1, 25, 20, 45, tzinfo=UTC)) in expanded
    assert datetime(2027, 1, 25, 18, tzinfo=UTC) not in [s for s, _ in expanded]


def test_public_feed_never_shows_purposes_organisation_names_or_requests(client, db, venue_setup):
    owner, venue, hall = venue_setup
    group = make_org(name="Swindon Young Carers")
    book(
        hall,
        group,
        date(2027, 3, 1),
        date(2027, 3, 29),
        weekdays=(0,),
        purpose="Bereavement support circle",
    )
    book(hall, group, date(2027, 3, 3), purpose="Open youth club night")
    book(hall, group, date(2027, 3, 5), purpose="Pending request for a disco", status=REQUESTED)
    db.session.commit()

    body = busy(client, hall).data
    text = body.decode()
    for secret in (
        "Bereavement",
        "Open youth club",
        "disco",
        "Swindon Young Carers",
        "Calne Community Trust",
    ):
        assert secret not in text
    assert {str(e["SUMMARY"]) for e in vevents(body)} == {"Booked"}
    assert all("DESCRIPTION" not in e for e in vevents(body))
    expanded = expand(body)
    assert expanded == in_db(db, [hall.id])  # confirmed only
    assert datetime(2027, 3, 5, 18, tzinfo=UTC) not in [s for s, _ in expanded]


def test_unknown_space_feed_is_404(client, db):
    assert client.get("/spaces/999999/busy.ics").status_code == 404


def test_unchanged_feed_answers_304_to_its_etag_and_changes_when_a_date_is_cancelled(client, db, venue_setup):
    owner, venue, hall = venue_setup
    booking = book(hall, make_org(), date(2027, 1, 4), date(2027, 1, 25), weekdays=(0,))
    db.session.commit()

    first = busy(client, hall)
    assert busy(client, hall).data == first.data  # deterministic, so the ETag means something
    assert (
        client.get(
            f"/spaces/{hall.id}/busy.ics", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )

    booking.occurrences[1].status = CANCELLED
    db.session.commit()
    changed = client.get(f"/spaces/{hall.id}/busy.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "EXDATE" in changed.data.decode()


def test_feeds_reach_back_only_over_the_history_window(app, db, venue_setup):
    owner, venue, hall = venue_setup
    book(hall, make_org(), date(2027, 1, 4), date(2027, 3, 29), weekdays=(0,))
    db.session.flush()
    since = datetime(2027, 2, 1, tzinfo=UTC)

    body = ical.space_busy_calendar(hall, since).to_ical()
    expanded = expand(body)
    assert expanded == [(s, e) for s, e in in_db(db, [hall.id]) if e > since]
    assert expanded[0][0] == datetime(2027, 2, 1, 18, tzinfo=UTC)


# --- the organisation's private feed ----------------------------------------------------------------------------


@pytest.fixture
def booker(db, venue_setup):
    owner, venue, hall = venue_setup
    admin = make_user(email="admin@scouts.example.org")
    org = make_org(admin=admin, name="Chippenham Scouts")
    return org, admin


def feed_path_from_page(client, org) -> str:
    page = client.get(f"/organisations/{org.id}/calendars")
    assert page.status_code == 200
    url = re.search(
        r'value="(https://venues\.example\.org/calendars/[^"]+\.ics)"', page.get_data(as_text=True)
    )
    assert url, "the page shows the secret feed address"
    return url.group(1).removeprefix("https://venues.example.org")


def test_private_feed_shows_the_organisations_bookings_with_details_and_status(
    client, db, venue_setup, booker
):
    owner, venue, hall = venue_setup
    org, admin = booker
    series = book(
        hall,
        org,
        date(2026, 10, 7),
        date(2026, 11, 18),
        weekdays=(2,),
        purpose="Scouts weekly meeting",
        statuses={date(2026, 11, 4): CANCELLED, date(2026, 11, 18): REQUESTED},
    )
    one_off = book(
        hall,
        org,
        date(2026, 12, 12),
        start=time(10),
        end=time(13),
        purpose="Christmas fair",
        status=REQUESTED,
    )
    book(hall, make_org(name="Other Group"), date(2026, 10, 8), purpose="Another group's disco")
    db.session.commit()

    login(client, admin)
    resp = client.get(feed_path_from_page(client, org))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in resp.headers["Cache-Control"]
    body = resp.data

    # Requested dates are the organisation's own plans: shown, as tentative.
    expanded = expand(body)
    assert expanded == in_db(db, org=org, statuses=(CONFIRMED, REQUESTED))
    assert len(expanded) == 7 - 1 + 1
    assert "Another group's disco" not in body.decode()

    instances = expanded_events(body)
    by_start = {e.start: e for e in instances}
    wednesday = by_start[datetime(2026, 10, 28, 18, tzinfo=LONDON)]  # just after the clock change
    assert str(wednesday["SUMMARY"]) == "Scouts weekly meeting"
    assert str(wednesday["STATUS"]) == "CONFIRMED"
    assert str(wednesday["LOCATION"]) == "Main hall, Calne Youth Centre, 1 Church Street, Calne, SN11 0HY"
    assert "Main hall at Calne Youth Centre" in str(wednesday["DESCRIPTION"])
    pending = by_start[datetime(2026, 11, 18, 18, tzinfo=LONDON)]
    assert str(pending["STATUS"]) == "TENTATIVE"
    assert "awaiting approval" in str(pending["SUMMARY"])
    fair = by_start[datetime(2026, 12, 12, 10, tzinfo=LONDON)]
    assert str(fair["STATUS"]) == "TENTATIVE" and "Christmas fair" in str(fair["SUMMARY"])
    assert str(fair["UID"]) == f"{one_off.uid}@wypf.org.uk"

    events = vevents(body)
    master = next(e for e in events if "RRULE" in e)
    assert str(master["UID"]) == f"{series.uid}@wypf.org.uk"
    assert [e["RECURRENCE-ID"].dt for e in events if "RECURRENCE-ID" in e] == [
        datetime(2026, 11, 18, 18, tzinfo=LONDON)
    ]


def test_private_feed_is_404_for_a_wrong_token(client, db, booker):
    org, admin = booker
    book_space = make_space(make_venue(org, "Scout hut"), "Hut")
    book(book_space, org, date(2027, 1, 9), purpose="Jumble sale")
    db.session.commit()
    login(client, admin)
    good = feed_path_from_page(client, org)
    client.post("/logout")

    assert client.get(good).status_code == 200
    for wrong in ("/calendars/not-the-token.ics", good[:-5] + "x.ics", "/calendars/" + "a" * 100 + ".ics"):
        resp = client.get(wrong)
        assert resp.status_code == 404
        assert "Jumble sale" not in resp.get_data(as_text=True)


def test_admin_resets_the_secret_link_and_the_old_address_stops_working(client, db, booker):
    org, admin = booker
    space = make_space(make_venue(org, "Scout hut"), "Hut")
    book(space, org, date(2027, 1, 9), purpose="Jumble sale")
    db.session.commit()
    login(client, admin)

    org_page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert f'href="/organisations/{org.id}/calendars"' in org_page
    old = feed_path_from_page(client, org)
    assert feed_path_from_page(client, org) == old  # viewing again keeps the same address
    assert "Jumble sale" in client.get(old).get_data(as_text=True)

    page = client.get(f"/organisations/{org.id}/calendars").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*<button[^>]*>Reset the secret link</button>',
        page,
    )
    assert form, "the page has a reset button"
    resp = client.post(form.group(1))
    assert resp.status_code == 302
    assert "old one has stopped working" in client.get(resp.location).get_data(as_text=True)

    new = feed_path_from_page(client, org)
    assert new != old
    assert client.get(old).status_code == 404
    assert "Jumble sale" in client.get(new).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CalendarToken.id))) == 1


def test_feeds_page_is_only_for_the_organisations_admins(client, db, booker):
    org, admin = booker
    other_admin = make_user(email="other-admin@example.org")
    make_org(admin=other_admin, name="Other Group")
    plain_member = make_user(email="member@scouts.example.org")
    add_member(org, plain_member, MemberRole.MEMBER)
    staff = make_user(email="staff@wypf.org.uk", staff=True)
    db.session.commit()
    page, reset = f"/organisations/{org.id}/calendars", f"/organisations/{org.id}/calendars/reset"

    assert client.get(page).status_code == 302  # signed out: sent to sign in
    assert client.post(reset).status_code == 302

    login(client, other_admin)
    assert client.get(page).status_code == 404
    assert client.post(reset).status_code == 404
    client.post("/logout")

    login(client, plain_member)
    assert client.get(page).status_code == 403
    assert client.post(reset).status_code == 403
    assert f'href="{page}"' not in client.get(f"/organisations/{org.id}").get_data(as_text=True)
    client.post("/logout")

    login(client, staff)
    assert client.get(page).status_code == 403
    client.post("/logout")

    # Nobody but the admin made or changed a token.
    assert db.session.scalar(sa.select(sa.func.count(CalendarToken.id))) == 0
    login(client, admin)
    assert client.get(page).status_code == 200
    token = db.session.scalar(sa.select(CalendarToken.token).where(CalendarToken.organisation_id == org.id))
    client.post("/logout")
    login(client, other_admin)
    client.post(reset)
    assert (
        db.session.scalar(sa.select(CalendarToken.token).where(CalendarToken.organisation_id == org.id))
        == token
    )


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
