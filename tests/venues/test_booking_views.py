"""Booking through the pages: form, preview, confirm, the request queue, cancelling, extending, holidays."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.members.models import MemberRole
from foundation.pagination import Page
from foundation.types import LONDON, utcnow
from foundation.venues import booking as svc
from foundation.venues.models import (
    Booking,
    BookingAlertPreference,
    Holiday,
    HolidayKind,
    Occurrence,
    OccurrenceStatus,
    RequestAlerts,
)
from tests.conftest import text_of
from tests.factories import add_member, login, make_org, make_user
from tests.venues.factories import add_closure, make_booker, make_booking, make_space, make_venue

CONFIRMED, REQUESTED = OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED
CANCELLED, DECLINED = OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED


def monday(weeks_ahead: int = 2) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


def fmt(day: date) -> str:
    return f"{day:%a %-d %b %Y}"


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Trowbridge Civic Trust")


@pytest.fixture
def venue(owner):
    return make_venue(owner[1], name="Trowbridge Civic Hall", opens=time(9), closes=time(21))


@pytest.fixture
def hall(venue):
    return make_space(venue, "Main hall", capacity=100)


@pytest.fixture
def approval_hall(venue):
    return make_space(venue, "Ballroom", capacity=200, needs_approval=True)


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Trowbridge Scouts")


def details(org, day: date, **over) -> dict:
    data = {
        "organisation_id": str(org.id),
        "purpose": "Scout night",
        "expected_attendance": "20",
        "first_date": day.isoformat(),
        "start_time": "18:00",
        "end_time": "19:30",
        "repeat": "one_off",
        "ends": "until",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def weekly(org, day: date, weeks: int, **over) -> dict:
    return details(
        org, day, repeat="weekly", weekdays=[str(day.weekday())], ends="weeks", weeks=str(weeks), **over
    )


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def error_at(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error at {field}"
    return found.group(1).replace("&#39;", "'")


# --- book: form, preview, confirm --------------------------------------------------------------------------------


def test_book_a_one_off_through_preview_and_confirm(client, db, hall, booker, mailbox):
    user, org = booker
    day = monday()
    db.session.commit()
    assert client.get(f"/spaces/{hall.id}/book").status_code == 302, "sign in first"
    login(client, user)
    page = client.get(f"/spaces/{hall.id}/book")
    assert page.status_code == 200 and "Book Main hall" in page.get_data(as_text=True)
    # Other organisations always see a booking as "Booked", so there is no choice about it to offer.
    assert 'name="private"' not in page.get_data(as_text=True)

    preview = client.post(f"/spaces/{hall.id}/book", data=details(org, day))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Check your dates" in html
    assert fmt(day) in html and f'name="dates" value="{day.isoformat()}"' in html
    assert "Nothing has been booked yet." in html
    assert count(db, Booking) == 0, "nothing written before confirming"

    done = client.post(
        f"/spaces/{hall.id}/book/confirm", data={**details(org, day), "dates": [day.isoformat()]}
    )
    assert done.status_code == 302
    booking = db.session.scalar(sa.select(Booking))
    assert done.location.endswith(f"/bookings/{booking.id}")
    assert [o.status for o in booking.occurrences] == [CONFIRMED]
    page = client.get(done.location).get_data(as_text=True)
    assert "Booked. The dates are yours." in page and "Scout night" in page and "Confirmed" in page
    assert "<dt>Shown to others</dt><dd>Only as “Booked”</dd>" in page
    assert "has booked Main hall" in text_of(mailbox.last_to("owner@example.org"))


def test_preview_shows_clashing_dates_and_the_booker_drops_them(client, db, hall, booker):
    user, org = booker
    first = monday()
    clash_day = first + timedelta(weeks=1)
    make_booking(hall, make_org(), clash_day, start=time(17), end=time(18, 30))
    db.session.commit()
    login(client, user)

    preview = client.post(f"/spaces/{hall.id}/book", data=weekly(org, first, 3))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2 of 3 can be booked" in html
    assert "Already booked: 17:00–18:30." in html
    assert f'value="{clash_day.isoformat()}"' not in html, "a clashing date cannot be ticked"
    assert count(db, Booking) == 1

    # Posting the clashing date anyway (an old page, or someone booked it meanwhile): 409, nothing written.
    every = [(first + timedelta(weeks=i)).isoformat() for i in range(3)]
    refused = client.post(f"/spaces/{hall.id}/book/confirm", data={**weekly(org, first, 3), "dates": every})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert f"Already booked at that time: {fmt(clash_day)}, 18:00–19:30." in html
    assert count(db, Booking) == 1

    kept = [first.isoformat(), (first + timedelta(weeks=2)).isoformat()]
    done = client.post(f"/spaces/{hall.id}/book/confirm", data={**weekly(org, first, 3), "dates": kept})
    assert done.status_code == 302
    booking = db.session.scalar(sa.select(Booking).where(Booking.organisation_id == org.id))
    assert [o.starts_at.astimezone(LONDON).date().isoformat() for o in booking.occurrences] == kept


def test_change_details_returns_to_the_filled_in_form(client, db, hall, booker):
    user, org = booker
    db.session.commit()
    login(client, user)
    page = client.post(f"/spaces/{hall.id}/book", data={**details(org, monday()), "edit": "1"})
    assert page.status_code == 200 and 'value="Scout night"' in page.get_data(as_text=True)
    assert count(db, Booking) == 0


def test_refusals_show_at_the_field_with_the_right_status(client, db, venue, hall, booker):
    user, org = booker
    day = monday()
    add_closure(venue, day + timedelta(weeks=1), reason="Polling station")
    db.session.commit()
    login(client, user)

    late = client.post(
        f"/spaces/{hall.id}/book", data=details(org, day, start_time="20:00", end_time="22:00")
    )
    assert late.status_code == 422
    assert (
        error_at(late.get_data(as_text=True), "start_time")
        == "Outside opening hours: open 09:00–21:00 on Mondays."
    )

    closed = client.post(f"/spaces/{hall.id}/book", data=details(org, day + timedelta(weeks=1)))
    assert closed.status_code == 422
    assert "Polling station" in error_at(closed.get_data(as_text=True), "first_date")

    crowd = client.post(f"/spaces/{hall.id}/book", data=details(org, day, expected_attendance="150"))
    assert crowd.status_code == 422
    assert (
        error_at(crowd.get_data(as_text=True), "expected_attendance")
        == "Main hall holds up to 100 people; you expect 150."
    )

    backwards = client.post(
        f"/spaces/{hall.id}/book", data=details(org, day, start_time="19:00", end_time="18:00")
    )
    assert backwards.status_code == 422
    assert (
        error_at(backwards.get_data(as_text=True), "end_time") == "The end time must be after the start time."
    )

    no_days = client.post(
        f"/spaces/{hall.id}/book", data=details(org, day, repeat="weekly", until=day.isoformat())
    )
    assert no_days.status_code == 422
    assert "Choose at least one day of the week." in no_days.get_data(as_text=True)

    make_booking(hall, make_org(), day)
    db.session.commit()
    taken = client.post(f"/spaces/{hall.id}/book", data=details(org, day))
    assert taken.status_code == 409
    assert "Already booked at that time" in error_at(taken.get_data(as_text=True), "start_time")
    assert count(db, Booking) == 1


def test_confirm_without_dates_is_422(client, db, hall, booker):
    user, org = booker
    db.session.commit()
    login(client, user)
    resp = client.post(f"/spaces/{hall.id}/book/confirm", data=details(org, monday()))
    assert resp.status_code == 422
    assert "Choose at least one date to book." in resp.get_data(as_text=True)
    assert count(db, Booking) == 0


def test_organisation_not_in_good_standing_is_refused_with_403(client, db, hall):
    user = make_user()
    org = make_org(admin=user, name="Lapsed Club", valid_until=date.today() - timedelta(days=3))
    db.session.commit()
    login(client, user)
    resp = client.post(f"/spaces/{hall.id}/book", data=details(org, monday()))
    assert resp.status_code == 403
    assert "Lapsed Club cannot book venues until it is in good standing" in error_at(
        resp.get_data(as_text=True), "organisation_id"
    )
    confirm = client.post(
        f"/spaces/{hall.id}/book/confirm", data={**details(org, monday()), "dates": [monday().isoformat()]}
    )
    assert confirm.status_code == 403
    assert count(db, Booking) == 0


def test_someone_without_an_organisation_is_told_how_to_book(client, db, hall, booker):
    _, org = booker
    loner = make_user()
    db.session.commit()
    login(client, loner)
    page = client.get(f"/spaces/{hall.id}/book")
    assert page.status_code == 200 and "Bookings are made by member organisations" in page.get_data(
        as_text=True
    )
    # Naming someone else's organisation does not help.
    assert client.post(f"/spaces/{hall.id}/book", data=details(org, monday())).status_code == 403
    assert (
        client.post(
            f"/spaces/{hall.id}/book/confirm",
            data={**details(org, monday()), "dates": [monday().isoformat()]},
        ).status_code
        == 403
    )
    assert count(db, Booking) == 0


def test_unknown_space_is_404(client, db, booker):
    db.session.commit()
    login(client, booker[0])
    assert client.get("/spaces/999/book").status_code == 404


# --- approval through the queue ----------------------------------------------------------------------------------


def request_slot(client, space, org, day: date, **over):
    data = details(org, day, **over)
    return client.post(f"/spaces/{space.id}/book/confirm", data={**data, "dates": [day.isoformat()]})


def test_owner_approves_a_request_from_the_queue(client, db, approval_hall, owner, booker, mailbox):
    owner_user, _ = owner
    user, org = booker
    day = monday()
    db.session.commit()
    login(client, user)
    preview = client.post(f"/spaces/{approval_hall.id}/book", data=details(org, day))
    assert "Trowbridge Civic Hall approves each request." in preview.get_data(as_text=True)
    sent = request_slot(client, approval_hall, org, day)
    assert sent.status_code == 302
    assert "Your request is with the venue" in client.get(sent.location).get_data(as_text=True)
    booking = db.session.scalar(sa.select(Booking))
    occ = booking.occurrences[0]
    assert occ.status is REQUESTED
    assert "/venues/requests" in text_of(mailbox.last_to("owner@example.org"))

    client.post("/logout")
    login(client, owner_user)
    queue = client.get("/venues/requests").get_data(as_text=True)
    assert "Scout night" in queue and "Trowbridge Scouts" in queue and "Good standing" in queue
    done = client.post(
        f"/bookings/{booking.id}/decide", data={"decision": "approve", "occurrence_ids": [str(occ.id)]}
    )
    assert done.status_code == 302
    db.session.refresh(occ)
    assert occ.status is CONFIRMED
    assert str(mailbox.last_to("leader@example.org")["Subject"]).strip().startswith("Booking approved")
    assert "No requests are waiting" in client.get("/venues/requests").get_data(as_text=True)


def test_second_conflicting_request_cannot_be_approved_409(client, db, approval_hall, owner, booker):
    owner_user, _ = owner
    user, org = booker
    rival_user, rival = make_booker(name="Trowbridge Youth Theatre")
    day = monday()
    db.session.commit()
    login(client, user)
    assert request_slot(client, approval_hall, org, day).status_code == 302
    client.post("/logout")
    login(client, rival_user)
    assert (
        request_slot(client, approval_hall, rival, day, start_time="19:00", end_time="20:00").status_code
        == 302
    )
    client.post("/logout")

    first, second = db.session.scalars(sa.select(Booking).order_by(Booking.id)).all()
    login(client, owner_user)
    queue = client.get("/venues/requests").get_data(as_text=True)
    assert "1 other request" in queue
    ok = client.post(
        f"/bookings/{first.id}/decide",
        data={"decision": "approve", "occurrence_ids": [str(first.occurrences[0].id)]},
    )
    assert ok.status_code == 302
    clash = client.post(
        f"/bookings/{second.id}/decide",
        data={"decision": "approve", "occurrence_ids": [str(second.occurrences[0].id)]},
    )
    html = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert f"Already booked at that time: {fmt(day)}, 19:00–20:00." in html
    db.session.refresh(second.occurrences[0])
    assert second.occurrences[0].status is REQUESTED

    declined = client.post(
        f"/bookings/{second.id}/decide",
        data={
            "decision": "decline",
            "occurrence_ids": [str(second.occurrences[0].id)],
            "reason": "Already taken, sorry.",
        },
    )
    assert declined.status_code == 302
    db.session.refresh(second.occurrences[0])
    assert (
        second.occurrences[0].status is DECLINED
        and second.occurrences[0].status_reason == "Already taken, sorry."
    )


def test_request_alert_preference_is_saved(client, db, approval_hall, owner):
    owner_user, _ = owner
    db.session.commit()
    login(client, owner_user)
    page = client.get("/venues/requests").get_data(as_text=True)
    assert "One summary email a day" in page
    assert client.post("/venues/requests/alerts", data={"request_alerts": "daily_digest"}).status_code == 302
    pref = db.session.scalar(sa.select(BookingAlertPreference))
    assert pref.user_id == owner_user.id and pref.request_alerts is RequestAlerts.DAILY_DIGEST
    assert client.post("/venues/requests/alerts", data={"request_alerts": "sometimes"}).status_code == 422


# --- permissions -------------------------------------------------------------------------------------------------


def test_another_organisations_booking_is_404_and_roles_are_respected(
    client, db, approval_hall, owner, booker
):
    owner_user, owner_org = owner
    user, org = booker
    booking = make_booking(approval_hall, org, monday(), booked_by=user, status=REQUESTED)
    occ_id = booking.occurrences[0].id
    outsider, _ = make_booker()
    owner_member = make_user()
    add_member(owner_org, owner_member, MemberRole.MEMBER)
    staff = make_user(staff=True)
    db.session.commit()
    paths_get = [
        f"/bookings/{booking.id}",
        f"/bookings/{booking.id}/cancel?scope=series",
        f"/bookings/{booking.id}/extend",
        f"/organisations/{org.id}/bookings",
    ]
    decide = (f"/bookings/{booking.id}/decide", {"decision": "approve", "occurrence_ids": [str(occ_id)]})
    cancel = (f"/bookings/{booking.id}/cancel", {"scope": "series", "reason": "x"})

    login(client, outsider)
    for path in paths_get:
        assert client.get(path).status_code == 404, path
    assert client.post(*decide[:1], data=decide[1]).status_code == 404
    assert client.post(cancel[0], data=cancel[1]).status_code == 404
    client.post("/logout")

    login(client, owner_member)  # sees bookings at its venue, cannot decide or cancel them
    assert client.get(f"/bookings/{booking.id}").status_code == 200
    assert client.post(decide[0], data=decide[1]).status_code == 403
    assert client.get(f"/bookings/{booking.id}/cancel?scope=series").status_code == 403
    client.post("/logout")

    login(client, user)  # the booker cannot approve its own request
    assert client.post(decide[0], data=decide[1]).status_code == 403
    client.post("/logout")

    login(client, staff)
    assert client.get(f"/bookings/{booking.id}").status_code == 200
    assert client.get(f"/organisations/{org.id}/bookings").status_code == 200
    client.post("/logout")

    assert client.get(f"/bookings/{booking.id}").status_code == 302  # anonymous: sign in
    assert db.session.get(Occurrence, occ_id).status is REQUESTED


def test_bookings_list_and_nav_link(client, db, hall, booker):
    user, org = booker
    make_booking(hall, org, monday(), weekdays=(0,), last=monday() + timedelta(weeks=1), purpose="Cub night")
    make_booking(hall, make_org(), monday(), start=time(10), end=time(11), purpose="Someone else's")
    db.session.commit()
    login(client, user)
    assert 'href="/bookings"' in client.get("/dashboard").get_data(as_text=True)
    page = client.get("/bookings").get_data(as_text=True)
    assert "Cub night" in page and "2 confirmed" in page and "Someone else" not in page
    assert "Cub night" in client.get(f"/organisations/{org.id}/bookings").get_data(as_text=True)


# --- the bookings list -------------------------------------------------------------------------------------------

LIST_NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in London


def listed(db, org_ids: list[int], now: datetime) -> tuple[list[tuple[int, datetime]], list[int]]:
    """The upcoming bookings (id, next date) soonest first and the past ones latest first, worked out from
    every date of every booking: what the list must show."""
    upcoming, past = [], []
    for booking in db.session.scalars(sa.select(Booking).where(Booking.organisation_id.in_(org_ids))):
        ahead = [
            o.starts_at
            for o in booking.occurrences
            if o.starts_at > now and o.status in (REQUESTED, CONFIRMED)
        ]
        if ahead:
            upcoming.append((min(ahead), booking.id))
        else:
            past.append((booking.last_date, booking.id))
    return (
        [(booking_id, nxt) for nxt, booking_id in sorted(upcoming)],
        [booking_id for _, booking_id in sorted(past, reverse=True)],
    )


def every_page(org_ids: list[int], past: bool, now: datetime, total: int | None) -> list[Page]:
    pages, number = [], 1
    while True:
        page = svc.booking_list(org_ids, past=past, page=number, now=now, total=total)
        pages.append(page)
        if not page.has_next:
            return pages
        number += 1


def test_the_list_and_its_totals_follow_the_dates(db, hall, booker, monkeypatch):
    _, org = booker
    _, sister = make_booker(name="Trowbridge Explorers")
    sep = date(2026, 9, 1)
    make_booking(hall, org, date(2025, 6, 3), purpose="Long ago")
    make_booking(hall, org, date(2026, 8, 20), purpose="Ended")
    make_booking(hall, org, date(2026, 8, 3), date(2026, 8, 31), weekdays=(0,), purpose="Ended yesterday")
    make_booking(hall, org, sep, start=time(8), end=time(9), purpose="This morning")
    running = make_booking(hall, sister, sep, start=time(9, 30), end=time(11), purpose="Under way")
    tonight = make_booking(hall, org, sep, purpose="Tonight")
    cancelled = make_booking(
        hall, org, date(2026, 9, 7), date(2026, 9, 21), weekdays=(0,), status=CANCELLED, purpose="Called off"
    )
    declined = make_booking(
        hall, sister, date(2026, 8, 24), date(2026, 9, 28), weekdays=(0,), status=REQUESTED, purpose="Asked"
    )
    for occ in declined.occurrences:
        if occ.starts_at > LIST_NOW and occ.starts_at.astimezone(LONDON).date() != date(2026, 9, 21):
            occ.status = DECLINED
    later = make_booking(hall, org, date(2026, 9, 14), date(2026, 10, 12), weekdays=(0,), purpose="Later")
    make_booking(hall, make_org(), sep, start=time(20), end=time(21), purpose="Someone else's")
    db.session.commit()
    org_ids = [org.id, sister.id]

    upcoming, past = listed(db, org_ids, LIST_NOW)
    assert [booking_id for booking_id, _ in upcoming] == [tonight.id, later.id, declined.id]
    assert running.id in past and cancelled.id in past and len(past) == 6
    assert svc.booking_list_totals(org_ids, LIST_NOW) == (3, 6)
    assert svc.booking_list_totals([org.id], LIST_NOW) == (2, 5)
    assert svc.booking_list_totals([], LIST_NOW) == (0, 0)

    monkeypatch.setattr(svc, "BOOKINGS_PAGE_SIZE", 2)
    for past_list, want in ((False, upcoming), (True, [(booking_id, None) for booking_id in past])):
        counted = every_page(org_ids, past_list, LIST_NOW, None)
        given = every_page(org_ids, past_list, LIST_NOW, len(want))
        for pages in (counted, given):
            assert [(i.booking.id, i.next_start) for p in pages for i in p.items] == want
            assert [p.total for p in pages] == [len(want)] * len(pages)
        # A page past the end shows the last, whether the total was counted or given.
        beyond = [svc.booking_list(org_ids, past_list, 99, LIST_NOW, t) for t in (None, len(want))]
        assert [(p.page, [i.booking.id for i in p.items]) for p in beyond] == [
            (counted[-1].page, [i.booking.id for i in counted[-1].items])
        ] * 2
    first = svc.booking_list(org_ids, page=1, now=LIST_NOW)
    assert first.items[0].counts == {CONFIRMED: 1} and first.items[0].can_cancel
    assert {CANCELLED: 3} in [i.counts for i in svc.booking_list(org_ids, True, 1, LIST_NOW).items]


def test_around_london_midnight_the_times_decide(db, hall, booker):
    _, org = booker
    now = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # already 2 July in London
    evening = make_booking(hall, org, date(2026, 7, 1), start=time(20), end=time(21))
    late = make_booking(hall, org, date(2026, 7, 1), start=time(23), end=time(23, 59))
    morning = make_booking(hall, org, date(2026, 7, 2), start=time(9), end=time(10))
    db.session.commit()
    assert svc.booking_list_totals([org.id], now) == (1, 2)
    assert [i.booking.id for i in svc.booking_list([org.id], now=now).items] == [morning.id]
    assert [i.booking.id for i in svc.booking_list([org.id], True, now=now).items] == [late.id, evening.id]
    assert listed(db, [org.id], now) == (
        [(morning.id, morning.occurrences[0].starts_at)],
        [late.id, evening.id],
    )


def test_a_booking_whose_dates_have_passed_is_never_upcoming(client, db, hall, booker):
    user, org = booker
    today = utcnow().astimezone(LONDON).date()
    ended = today - timedelta(days=7)
    make_booking(hall, org, ended - timedelta(days=14), ended, weekdays=range(7), purpose="Summer scheme")
    make_booking(hall, org, monday(), purpose="Cub night")
    db.session.commit()
    login(client, user)
    for path in ("/bookings", f"/organisations/{org.id}/bookings"):
        page = client.get(path).get_data(as_text=True)
        assert "Upcoming (1)" in page and "Past and cancelled (1)" in page
        assert "Cub night" in page and "Summer scheme" not in page
        past = client.get(path + "?when=past").get_data(as_text=True)
        assert "Summer scheme" in past and "15 confirmed" in past and "Cub night" not in past


# --- cancelling --------------------------------------------------------------------------------------------------


def test_booker_cancels_one_date_and_then_the_rest(client, db, hall, booker):
    user, org = booker
    booking = make_booking(
        hall, org, monday(), weekdays=(0,), last=monday() + timedelta(weeks=2), booked_by=user
    )
    first, second, third = booking.occurrences
    db.session.commit()
    login(client, user)
    page = client.get(f"/bookings/{booking.id}/cancel?scope=one&occurrence_id={second.id}")
    assert page.status_code == 200 and "1 date will be cancelled" in page.get_data(as_text=True)
    done = client.post(
        f"/bookings/{booking.id}/cancel", data={"scope": "one", "occurrence_id": str(second.id)}
    )
    assert done.status_code == 302
    assert [o.status for o in db.session.get(Booking, booking.id).occurrences] == [
        CONFIRMED,
        CANCELLED,
        CONFIRMED,
    ]

    again = client.post(
        f"/bookings/{booking.id}/cancel", data={"scope": "one", "occurrence_id": str(second.id)}
    )
    assert again.status_code == 409 and "already cancelled" in again.get_data(as_text=True)

    assert (
        client.post(
            f"/bookings/{booking.id}/cancel", data={"scope": "following", "occurrence_id": str(first.id)}
        ).status_code
        == 302
    )
    assert [o.status for o in db.session.get(Booking, booking.id).occurrences] == [CANCELLED] * 3


def test_owner_cancels_with_a_reason_and_the_booker_is_told(client, db, hall, owner, booker, mailbox):
    owner_user, _ = owner
    user, org = booker
    booking = make_booking(hall, org, monday(), booked_by=user)
    db.session.commit()
    login(client, owner_user)
    detail = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "In good standing." in detail and "Cancel every upcoming date" in detail
    page = client.get(f"/bookings/{booking.id}/cancel?scope=series").get_data(as_text=True)
    assert "Required: the booking organisation is told why." in page
    missing = client.post(f"/bookings/{booking.id}/cancel", data={"scope": "series", "reason": ""})
    assert missing.status_code == 422
    assert error_at(missing.get_data(as_text=True), "reason") == "Give the booker a reason for cancelling."
    assert (
        client.post(
            f"/bookings/{booking.id}/cancel", data={"scope": "series", "reason": "Heating has failed."}
        ).status_code
        == 302
    )
    msg = mailbox.last_to("leader@example.org")
    assert "Heating has failed." in text_of(msg)


# --- extending ---------------------------------------------------------------------------------------------------


def test_extending_through_the_pages_keeps_cancelled_dates_cancelled(client, db, hall, booker):
    user, org = booker
    start = monday()
    booking = make_booking(hall, org, start, weekdays=(0,), last=start + timedelta(days=13), booked_by=user)
    booking.occurrences[1].status = CANCELLED
    db.session.commit()
    login(client, user)
    until = start + timedelta(weeks=3)
    preview = client.post(f"/bookings/{booking.id}/extend", data={"until": until.isoformat()})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 of 2 can be booked" in html
    new_days = [(start + timedelta(weeks=w)).isoformat() for w in (2, 3)]
    done = client.post(
        f"/bookings/{booking.id}/extend/confirm", data={"until": until.isoformat(), "dates": new_days}
    )
    assert done.status_code == 302
    statuses = [o.status for o in db.session.get(Booking, booking.id).occurrences]
    assert statuses == [CONFIRMED, CANCELLED, CONFIRMED, CONFIRMED]

    too_early = client.post(f"/bookings/{booking.id}/extend", data={"until": start.isoformat()})
    assert too_early.status_code == 422 and error_at(too_early.get_data(as_text=True), "until").startswith(
        "Choose a date after"
    )


# --- staff: holidays ---------------------------------------------------------------------------------------------


def test_staff_edit_the_holiday_calendar(client, db, booker):
    staff = make_user(staff=True)
    db.session.commit()
    login(client, booker[0])
    assert client.get("/staff/holidays").status_code == 403
    client.post("/logout")

    login(client, staff)
    assert client.post("/staff/holidays/load").status_code == 302
    page = client.get("/staff/holidays").get_data(as_text=True)
    assert "February half term 2027" in page and "Boxing Day (substitute day)" in page

    added = client.post(
        "/staff/holidays",
        data={
            "kind": "bank",
            "name": "Extra bank holiday",
            "starts_on": "2027-06-07",
            "ends_on": "2027-06-07",
        },
    )
    assert added.status_code == 302
    backwards = client.post(
        "/staff/holidays",
        data={"kind": "school", "name": "Backwards", "starts_on": "2027-06-07", "ends_on": "2027-06-01"},
    )
    assert backwards.status_code == 422
    assert (
        error_at(backwards.get_data(as_text=True), "ends_on")
        == "The last day must be on or after the first day."
    )
    twice = client.post(
        "/staff/holidays",
        data={"kind": "bank", "name": "Twice", "starts_on": "2027-06-07", "ends_on": "2027-06-07"},
    )
    assert twice.status_code == 409

    extra = db.session.scalar(sa.select(Holiday).where(Holiday.name == "Extra bank holiday"))
    assert client.get(f"/staff/holidays/{extra.id}/edit").status_code == 200
    edited = client.post(
        f"/staff/holidays/{extra.id}/edit",
        data={
            "kind": "bank",
            "name": "Extra bank holiday",
            "starts_on": "2027-06-08",
            "ends_on": "2027-06-08",
        },
    )
    assert edited.status_code == 302
    db.session.refresh(extra)
    assert extra.starts_on == date(2027, 6, 8) and extra.kind is HolidayKind.BANK
    extra_id = extra.id
    assert client.post(f"/staff/holidays/{extra_id}/delete").status_code == 302
    assert db.session.get(Holiday, extra_id) is None


def test_a_link_prefills_the_booking_form_and_nonsense_is_left_out(client, db, hall, booker):
    user, _ = booker
    day = monday()
    db.session.commit()
    login(client, user)

    def inputs(html: str) -> dict[str, str]:
        return {m.group(1): m.group(0) for m in re.finditer(r'<input[^>]* id="([^"]+)"[^>]*>', html)}

    shown = inputs(
        client.get(
            f"/spaces/{hall.id}/book",
            query_string={
                "first_date": day.isoformat(),
                "start_time": "18:00",
                "end_time": "20:00",
                "repeat": "weekly",
                "weekdays": str(day.weekday()),
                "ends": "weeks",
                "weeks": "4",
            },
        ).get_data(as_text=True)
    )
    assert f'value="{day.isoformat()}"' in shown["first_date"]
    assert 'value="18:00"' in shown["start_time"] and 'value="20:00"' in shown["end_time"]
    assert " checked " in shown["repeat-1"] and " checked " not in shown["repeat-0"]
    assert " checked " in shown[f"weekdays-{day.weekday()}"]
    assert " checked " in shown["ends-1"] and 'value="4"' in shown["weeks"]

    odd = client.get(
        f"/spaces/{hall.id}/book",
        query_string={
            "first_date": "31/02/2030",
            "start_time": "6pm",
            "end_time": "20:00",
            "repeat": "daily",
            "weekdays": "9",
        },
    )
    html = odd.get_data(as_text=True)
    shown = inputs(html)
    assert odd.status_code == 200
    assert "31/02/2030" not in html and "6pm" not in html
    assert 'value=""' in shown["first_date"] and 'value=""' in shown["start_time"]
    assert 'value="20:00"' in shown["end_time"], "what does read is still used"
    assert " checked " in shown["repeat-0"], "an unknown choice leaves the default"
    assert not any(" checked " in tag for name, tag in shown.items() if name.startswith("weekdays-"))
    assert 'class="error"' not in html, "nothing was submitted, so nothing is wrong yet"
    assert count(db, Booking) == 0


def test_search_and_calendar_links_carry_the_wanted_date_and_times(client, db, hall, booker):
    day = monday()
    db.session.commit()
    found = client.get(
        "/venues", query_string={"date": day.isoformat(), "start": "18:00", "end": "20:00"}
    ).get_data(as_text=True)
    book = f"/spaces/{hall.id}/book?first_date={day.isoformat()}&amp;start_time=18:00&amp;end_time=20:00"
    assert f'href="{book}"' in found
    calendar = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": day.isoformat()})
    assert f'href="/spaces/{hall.id}/book?first_date={day.isoformat()}"' in calendar.get_data(as_text=True)
    past = client.get(f"/spaces/{hall.id}/calendar", query_string={"week": "2020-01-06"})
    assert f'href="/spaces/{hall.id}/book"' in past.get_data(as_text=True), "no past date is carried"


def test_bookings_split_into_upcoming_and_past_with_counts_and_pages(client, db, hall, booker):
    user, org = booker
    past_day = date.today() - timedelta(days=30)
    make_booking(hall, org, past_day, purpose="Last month's party")
    for n in range(27):
        make_booking(
            hall, org, monday() + timedelta(weeks=n), start=time(9), end=time(10), purpose=f"Club {n:02d}"
        )
    db.session.commit()
    login(client, user)

    page = client.get("/bookings").get_data(as_text=True)
    assert "Upcoming (27)" in page and "Past and cancelled (1)" in page
    assert page.count("Club ") == 25 and "Last month" not in page
    assert page.index("Club 00") < page.index("Club 24")  # soonest first
    assert "Page 1 of 2 (1 to 25 of 27 bookings)" in page
    assert "Club 26" in client.get("/bookings?page=2").get_data(as_text=True)

    past = client.get("/bookings?when=past").get_data(as_text=True)
    assert "Last month&#39;s party" in past and "Club " not in past and "1 confirmed" in past
