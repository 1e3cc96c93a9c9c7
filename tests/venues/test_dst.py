"""Clock changes: a weekly 18:00 booking stays at 18:00 in Wiltshire when the clocks go back or forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from foundation.types import LONDON
from foundation.venues import booking as svc
from foundation.venues.booking import DateState
from foundation.venues.models import SpaceOccupancy
from tests.venues.factories import booking_request, make_booker, make_booking, make_space, make_venue

LAST_SUNDAY_OF_OCTOBER_2026 = date(2026, 10, 25)
LAST_SUNDAY_OF_MARCH_2027 = date(2027, 3, 28)


@pytest.fixture(autouse=True)
def _request_context(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def setup(db):
    user, org = make_booker()
    _, owner = make_booker()
    return make_space(make_venue(owner), "Hall"), org, user


def test_weekly_18_00_across_the_last_sunday_of_october_keeps_18_00_local(db, setup):
    space, org, user = setup
    now = datetime(2026, 9, 1, tzinfo=UTC)
    # Thursdays and Sundays, 18:00 to 19:30, from 15 October to 5 November 2026.
    req = booking_request(space, org, user, date(2026, 10, 15), weekdays=(3, 6), until=date(2026, 11, 5))
    plan = svc.plan_booking(req, now)
    booking = svc.book_space(req, [d.day for d in plan.dates], now)
    db.session.commit()

    starts = [o.starts_at for o in booking.occurrences]
    assert starts == [
        datetime(2026, 10, 15, 17, 0, tzinfo=UTC),  # BST: 18:00 local is 17:00Z
        datetime(2026, 10, 18, 17, 0, tzinfo=UTC),
        datetime(2026, 10, 22, 17, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 18, 0, tzinfo=UTC),  # the clocks went back at 02:00 that morning: GMT
        datetime(2026, 10, 29, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 5, 18, 0, tzinfo=UTC),
    ]
    for occ in booking.occurrences:
        local_start, local_end = occ.starts_at.astimezone(LONDON), occ.ends_at.astimezone(LONDON)
        assert (local_start.time(), local_end.time()) == (time(18), time(19, 30))
        assert occ.ends_at - occ.starts_at == local_end - local_start
    # The holds follow the occurrences exactly.
    hold_starts = sorted(db.session.scalars(sa.select(SpaceOccupancy.starts_at)))
    assert hold_starts == starts


def test_weekly_18_00_across_the_last_sunday_of_march_keeps_18_00_local(db, setup):
    space, org, user = setup
    now = datetime(2027, 1, 5, tzinfo=UTC)
    req = booking_request(space, org, user, date(2027, 3, 21), weekdays=(6,), weeks=2)
    booking = svc.book_space(req, [date(2027, 3, 21), LAST_SUNDAY_OF_MARCH_2027], now)
    db.session.commit()
    assert [o.starts_at for o in booking.occurrences] == [
        datetime(2027, 3, 21, 18, 0, tzinfo=UTC),  # GMT
        datetime(2027, 3, 28, 17, 0, tzinfo=UTC),  # BST from 01:00Z that morning
    ]


def test_clashes_are_found_in_local_time_across_the_change(db, setup):
    space, org, user = setup
    now = datetime(2026, 9, 1, tzinfo=UTC)
    # Another group has 18:00 to 19:00 local on the Sunday the clocks go back.
    _, rival = make_booker()
    make_booking(space, rival, LAST_SUNDAY_OF_OCTOBER_2026, start=time(18), end=time(19))
    db.session.commit()
    plan = svc.plan_booking(
        booking_request(space, org, user, date(2026, 10, 18), weekdays=(6,), weeks=2), now
    )
    assert [d.state for d in plan.dates] == [DateState.AVAILABLE, DateState.CLASH]
    assert plan.dates[1].reasons == ["Already booked: 18:00–19:00."]
    # Straight after it, 19:00 local (19:00Z in GMT), is free.
    later = svc.plan_booking(
        booking_request(space, org, user, LAST_SUNDAY_OF_OCTOBER_2026, start=time(19), end=time(20)), now
    )
    assert later.dates[0].state is DateState.AVAILABLE
