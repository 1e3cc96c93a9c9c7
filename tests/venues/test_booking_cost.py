"""What a booking costs, its reference, the venue's address and hire terms, and its dates as a calendar file:
as the booker and the venue's admins see them on the preview, the booking's page, the request queue and the
emails."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from foundation.types import LONDON, utcnow
from foundation.venues.availability import local_interval
from foundation.venues.cost import booking_cost, cost_of, plan_cost, price_for
from foundation.venues.models import Booking, OccurrenceStatus
from tests.conftest import text_of
from tests.factories import login, make_org, make_user
from tests.venues.factories import (
    add_occurrence,
    booking_request,
    make_booker,
    make_booking,
    make_space,
    make_venue,
)
from tests.venues.test_booking_views import details as booking_form

CONFIRMED, REQUESTED = OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED
CANCELLED, DECLINED = OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED
BASE_URL = "https://venues.example.org"
TERMS = "1. Leave the hall as you found it.\n2. No glitter.\n    (Really: none.)"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "BASE_URL": BASE_URL, "QUERY_COUNT_HEADER": True}


def monday(weeks_ahead: int = 2) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


def fmt(day: date) -> str:
    return f"{day:%a %-d %b %Y}"


INLINE = r"</?(?:a|span|strong|em|label)\b[^>]*>"


def text(page) -> str:
    """The page's words, without tags, as a reader meets them (a block ends a word; an inline tag does not)."""
    body = page.get_data(as_text=True) if hasattr(page, "get_data") else page
    words = re.sub(r"<[^>]+>", " ", re.sub(INLINE, "", body))
    return html_lib.unescape(re.sub(r"\s+", " ", words)).strip()


def row_of(page_html: str, day: date) -> str:
    """The words of the table row for one date."""
    for row in re.findall(r"<tr\b.*?</tr>", page_html, re.S):
        if fmt(day) in row:
            return text(row)
    raise AssertionError(f"no row for {fmt(day)}")


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Devizes Town Hall Trust")


@pytest.fixture
def venue(owner):
    return make_venue(
        owner[1],
        name="Devizes Corn Exchange",
        address_line2="Market Place",
        town="Devizes",
        postcode="SN10 1HS",
        hire_terms=TERMS,
    )


@pytest.fixture
def hall(venue):
    return make_space(venue, "Main hall", capacity=100, price_per_hour_pence=1250)


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Devizes Scouts")


def details(org, day: date, **over) -> dict:
    """Three weeks of Scout nights, 18:00 to 20:30 (two and a half hours each)."""
    return booking_form(
        org, day, **{"end_time": "20:30", "repeat": "weekly", "weekdays": [str(day.weekday())],
                     "ends": "weeks", "weeks": "3", **over}
    )  # fmt: skip


# --- the computation ---------------------------------------------------------------------------------------------


def test_two_and_a_half_hours_at_twelve_pounds_fifty_is_thirty_one_pounds_twenty_five():
    assert price_for(150, 1250) == 3125
    starts = datetime(2026, 9, 21, 17, tzinfo=UTC)
    cost = cost_of(1250, [("a", starts, starts + timedelta(hours=2, minutes=30), True)])
    assert cost.of("a").minutes == 150 and cost.of("a").pence == 3125
    assert cost.total_pence == 3125 and cost.charged_count == 1 and not cost.free


def test_each_date_is_rounded_to_the_penny_and_the_total_is_their_sum():
    # 25 minutes at £10 an hour is 416.67p: 417p, and three such dates cost what the three lines say.
    starts = datetime(2026, 9, 21, 17, tzinfo=UTC)
    slots = [
        (n, starts + timedelta(days=7 * n), starts + timedelta(days=7 * n, minutes=25), True)
        for n in range(3)
    ]
    cost = cost_of(1000, slots)
    assert [cost.of(n).pence for n in range(3)] == [417, 417, 417]
    assert cost.total_pence == 1251 and cost.charged_count == 3
    assert price_for(1, 30) == 1, "half a penny rounds up"


def test_a_free_space_costs_nothing_however_many_dates():
    starts = datetime(2026, 9, 21, 17, tzinfo=UTC)
    cost = cost_of(0, [(n, starts, starts + timedelta(hours=3), True) for n in range(4)])
    assert cost.free and cost.total_pence == 0 and cost.charged_count == 4


def test_a_date_across_the_clock_change_costs_the_hours_it_really_lasts():
    # 00:30 to 02:30 on the last Sunday of October 2026 lasts three hours: the clocks go back at 02:00.
    slot = local_interval(date(2026, 10, 25), time(0, 30), time(2, 30))
    cost = cost_of(1000, [("night", slot.starts_at, slot.ends_at, True)])
    assert cost.of("night").minutes == 180 and cost.total_pence == 3000


def test_the_plan_costs_the_dates_that_can_be_booked_and_totals_the_ticked_ones(db, hall, booker):
    user, org = booker
    first = monday()
    make_booking(
        hall, make_org(name="Earlier group"), first + timedelta(weeks=1), start=time(19), end=time(20)
    )
    from foundation.venues.booking import plan_booking

    plan = plan_booking(
        booking_request(hall, org, user, first, time(18), time(20, 30), weekdays=(first.weekday(),), weeks=3)
    )
    cost = plan_cost(plan)
    clash = first + timedelta(weeks=1)
    assert cost.of(clash) is None, "a clashing date is not priced"
    assert [cost.of(d).pence for d in (first, first + timedelta(weeks=2))] == [3125, 3125]
    assert cost.total_pence == 6250 and cost.charged_count == 2
    ticked = plan_cost(plan, ticked=[first])
    assert ticked.total_pence == 3125 and ticked.charged_count == 1
    assert ticked.of(first + timedelta(weeks=2)).pence == 3125, "an unticked date still shows its price"


def test_cancelled_and_declined_dates_are_not_charged(db, hall, booker):
    _, org = booker
    first = monday()
    booking = make_booking(hall, org, first, first + timedelta(weeks=3), weekdays=(first.weekday(),))
    booking.occurrences[1].status = CANCELLED
    booking.occurrences[2].status = DECLINED
    cost = booking_cost(booking)
    assert [cost.of(o.id).charged for o in booking.occurrences] == [True, False, False, True]
    # 18:00 to 19:30 at £12.50 is £18.75, twice.
    assert cost.total_pence == 3750 and cost.charged_count == 2
    assert booking_cost(booking, booking.occurrences[:1]).total_pence == 1875


def test_the_reference_comes_from_the_id(db, hall, booker):
    booking = make_booking(hall, booker[1], monday())
    assert booking.reference == f"VB-{booking.id:06d}"
    booking.id = 123
    assert booking.reference == "VB-000123"


# --- the preview -------------------------------------------------------------------------------------------------


def test_preview_shows_each_dates_cost_and_the_total_for_the_ticked_dates(client, db, hall, booker):
    user, org = booker
    first = monday()
    db.session.commit()
    login(client, user)
    page = client.post(f"/spaces/{hall.id}/book", data=details(org, first))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    words = text(body)
    assert "Main hall costs £12.50 an hour." in words
    for n in range(3):
        day = first + timedelta(weeks=n)
        assert "18:00–20:30" in row_of(body, day) and "£31.25" in row_of(body, day)
    assert "Total for the 3 dates ticked when the page opened: £93.75" in words
    # The script keeps the total in step with the boxes, and is loaded on this page alone.
    assert re.search(r'<script src="/static/js/booking-cost\.js[^"]*" defer>', body)
    assert 'data-pence="3125"' in body
    assert "booking-cost.js" not in client.get(f"/spaces/{hall.id}/book").get_data(as_text=True)


def test_preview_sent_back_without_dates_totals_none(client, db, hall, booker):
    user, org = booker
    first = monday()
    db.session.commit()
    login(client, user)
    page = client.post(f"/spaces/{hall.id}/book/confirm", data=details(org, first))
    assert page.status_code == 422
    words = text(page)
    assert "Choose at least one date to book." in words
    assert "Total for the 0 dates ticked when the page opened: £0" in words
    assert "£31.25" in row_of(page.get_data(as_text=True), first), "each date still shows its price"


def test_preview_of_a_free_space_says_free(client, db, venue, booker):
    user, org = booker
    room = make_space(venue, "Meeting room", price_per_hour_pence=0)
    first = monday()
    db.session.commit()
    login(client, user)
    page = client.post(f"/spaces/{room.id}/book", data=details(org, first))
    body = page.get_data(as_text=True)
    assert "Meeting room is free to hire." in text(body)
    assert "Total: Free" in text(body)
    assert ">Cost<" not in body, "no column of Free beside each date's Free"
    assert "£" not in text(body)


def test_preview_shows_the_venues_full_address_and_hire_terms(client, db, hall, booker):
    user, org = booker
    db.session.commit()
    login(client, user)
    body = client.post(f"/spaces/{hall.id}/book", data=details(org, monday())).get_data(as_text=True)
    address = re.search(r"<address>(.*?)</address>", body, re.S).group(1)
    lines = [html_lib.unescape(line.strip()) for line in address.split("<br>")]
    assert lines[1:] == [hall.venue.address_line1, "Market Place", "Devizes", "SN10 1HS"]
    terms = re.search(r'<p class="hire-terms-text">(.*?)</p>', body, re.S).group(1)
    assert html_lib.unescape(terms) == TERMS, "the terms keep their lines and indents"


def test_preview_says_when_the_venue_has_no_hire_terms(client, db, owner, booker):
    user, org = booker
    room = make_space(make_venue(owner[1], hire_terms=None), "Studio")
    db.session.commit()
    login(client, user)
    page = client.post(f"/spaces/{room.id}/book", data=details(org, monday()))
    assert "The venue has not published hire terms." in text(page)


# --- booking, and the booking's page -----------------------------------------------------------------------------


def test_booking_flashes_the_reference_and_the_page_shows_cost_address_and_terms(
    client, db, hall, owner, booker, mailbox
):
    user, org = booker
    first = monday()
    db.session.commit()
    login(client, user)
    days = [first + timedelta(weeks=n) for n in range(3)]
    done = client.post(
        f"/spaces/{hall.id}/book/confirm",
        data={**details(org, first), "dates": [d.isoformat() for d in days]},
    )
    assert done.status_code == 302
    booking = db.session.scalar(sa.select(Booking))
    reference = f"VB-{booking.id:06d}"
    page = client.get(done.location)
    body = page.get_data(as_text=True)
    words = text(body)
    assert f"Booked. The dates are yours. Your reference is {reference}." in words
    assert f"Reference {reference}" in words
    for day in days:
        assert "£31.25" in row_of(body, day)
    assert "Total for the 3 requested or confirmed dates £93.75" in words
    assert "Devizes Corn Exchange" in words and "Market Place" in words and "SN10 1HS" in words
    assert html_lib.unescape(re.search(r'<p class="hire-terms-text">(.*?)</p>', body, re.S).group(1)) == TERMS
    assert f'href="/bookings/{booking.id}/calendar.ics"' in body and "Add to calendar" in words

    # The venue's admins hear of it with the reference and what it costs.
    mail = text_of(mailbox.last_to("owner@example.org"))
    assert f"Reference: {reference}" in mail and "Cost: £93.75 for 3 dates at £12.50 an hour" in mail

    # Cancelled and declined dates stay listed, not charged.
    client.post(
        f"/bookings/{booking.id}/cancel",
        data={"scope": "one", "occurrence_id": str(booking.occurrences[1].id), "reason": ""},
    )
    cancelled = mailbox.last_to("owner@example.org")
    assert str(cancelled["Subject"]).startswith("Booking cancelled")
    assert f"Reference: {reference}" in text_of(cancelled)
    body = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Cancelled" in row_of(body, days[1]) and "Not charged" in row_of(body, days[1])
    assert "£31.25" not in row_of(body, days[1])
    assert "Total for the 2 requested or confirmed dates £62.50" in text(body)


def test_a_request_flashes_its_reference_which_the_owner_sees_in_the_queue_and_emails(
    client, db, venue, owner, booker, mailbox
):
    owner_user, _ = owner
    user, org = booker
    ballroom = make_space(venue, "Ballroom", capacity=200, needs_approval=True, price_per_hour_pence=2000)
    first = monday()
    db.session.commit()
    login(client, user)
    sent = client.post(
        f"/spaces/{ballroom.id}/book/confirm",
        data={**details(org, first, repeat="one_off"), "dates": [first.isoformat()]},
    )
    booking = db.session.scalar(sa.select(Booking))
    reference = booking.reference
    assert f"Your reference is {reference}." in text(client.get(sent.location))
    request_mail = text_of(mailbox.last_to("owner@example.org"))
    assert f"Reference: {reference}" in request_mail and "Cost: £50 for 1 date at £20 an hour" in request_mail

    client.post("/logout")
    login(client, owner_user)
    queue = client.get("/venues/requests").get_data(as_text=True)
    section = re.search(rf'<section[^>]*id="booking-{booking.id}".*?</section>', queue, re.S).group(0)
    assert f"Reference {reference}" in text(section)
    client.post(
        f"/bookings/{booking.id}/decide",
        data={"decision": "approve", "occurrence_ids": [str(booking.occurrences[0].id)]},
    )
    approved = text_of(mailbox.last_to("leader@example.org"))
    assert f"Reference: {reference}" in approved and "Cost: £50 for 1 date at £20 an hour" in approved


def test_the_booking_page_of_a_free_space_says_free(client, db, venue, booker):
    user, org = booker
    room = make_space(venue, "Meeting room")
    booking = make_booking(room, org, monday())
    db.session.commit()
    login(client, user)
    words = text(client.get(f"/bookings/{booking.id}"))
    assert "Meeting room is free to hire." in words
    assert "Total for the 1 requested or confirmed date Free" in words


def test_the_booking_page_runs_the_same_queries_for_two_dates_or_twenty(client, db, hall, booker):
    user, org = booker
    first = monday()
    small = make_booking(hall, org, first, first + timedelta(weeks=1), weekdays=(first.weekday(),))
    large = make_booking(
        hall,
        org,
        first,
        first + timedelta(weeks=19),
        weekdays=(first.weekday(),),
        start=time(10),
        end=time(11),
    )
    db.session.commit()
    login(client, user)
    counts = []
    for booking in (small, large):
        for url in (f"/bookings/{booking.id}", f"/bookings/{booking.id}/calendar.ics"):
            client.get(url)
            counts.append(int(client.get(url).headers["X-Query-Count"]))
    assert counts[:2] == counts[2:]


# --- the calendar file -------------------------------------------------------------------------------------------


def test_calendar_file_has_one_event_per_date_to_come(client, db, hall, owner, booker):
    user, org = booker
    today = utcnow().astimezone(LONDON).date()
    first = today - timedelta(days=15)  # three dates gone by, four to come
    booking = make_booking(
        hall, org, first, first + timedelta(weeks=6), weekdays=(first.weekday(),), booked_by=user,
        purpose="Scout night", start=time(18), end=time(20, 30),
    )  # fmt: skip
    occs = booking.occurrences
    occs[3].status = CANCELLED
    occs[4].status = REQUESTED
    add_occurrence(booking, first + timedelta(weeks=7), status=DECLINED)
    db.session.commit()
    login(client, user)
    response = client.get(f"/bookings/{booking.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{booking.reference}.ics"'
    assert "no-store" in response.headers["Cache-Control"], "a signed-in person's file is kept nowhere"
    cal = icalendar.Calendar.from_ical(response.data)
    events = cal.walk("VEVENT")
    upcoming = [o for o in occs if o.starts_at > utcnow() and o.status in (CONFIRMED, REQUESTED)]
    assert len(upcoming) == 3 and len(events) == 3, "past, cancelled and declined dates are left out"
    assert [e.decoded("dtstart") for e in events] == [o.starts_at for o in upcoming]
    assert [e.decoded("dtend") for e in events] == [o.ends_at for o in upcoming]
    times = [line for line in response.get_data(as_text=True).splitlines() if line.startswith("DT")]
    times = [line for line in times if not line.startswith("DTSTAMP")]
    assert len(times) == 6 and all(re.fullmatch(r"DT(START|END):\d{8}T\d{6}Z", t) for t in times), "in UTC"
    summaries = [str(e["summary"]) for e in events]
    pending = "Scout night: Main hall (awaiting approval)"
    assert summaries == ["Scout night: Main hall" if o.status is CONFIRMED else pending for o in upcoming]
    venue = hall.venue
    location = f"Main hall, Devizes Corn Exchange, {venue.address_line1}, Market Place, Devizes, SN10 1HS"
    assert {str(e["location"]) for e in events} == {location}
    description = str(events[0]["description"])
    assert f"Reference: {booking.reference}" in description
    assert f"{BASE_URL}/bookings/{booking.id}" in description
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == 3, "each date its own event"
    again = icalendar.Calendar.from_ical(client.get(f"/bookings/{booking.id}/calendar.ics").data)
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == uids, "the same date keeps its UID"


def test_calendar_file_is_for_those_who_may_see_the_booking(client, db, hall, owner, booker):
    owner_user, _ = owner
    user, org = booker
    stranger, _ = make_booker(email="stranger@example.org", name="Another group")
    staff = make_user(email="staff@example.org", staff=True)
    booking = make_booking(hall, org, monday(), booked_by=user)
    db.session.commit()
    url = f"/bookings/{booking.id}/calendar.ics"
    assert "/login" in client.get(url).location
    for person, status in ((stranger, 404), (owner_user, 200), (staff, 200), (user, 200)):
        login(client, person)
        assert client.get(url).status_code == status, person.email
        client.post("/logout")
    assert client.get(f"/bookings/{booking.id + 1000}/calendar.ics").status_code in (302, 404)


def test_the_booking_page_offers_no_calendar_file_when_no_date_is_to_come(client, db, hall, booker):
    user, org = booker
    past = utcnow().astimezone(LONDON).date() - timedelta(days=3)
    booking = make_booking(hall, org, past, booked_by=user)
    db.session.commit()
    login(client, user)
    assert "Add to calendar" not in text(client.get(f"/bookings/{booking.id}"))
    cal = icalendar.Calendar.from_ical(client.get(f"/bookings/{booking.id}/calendar.ics").data)
    assert cal.walk("VEVENT") == []
