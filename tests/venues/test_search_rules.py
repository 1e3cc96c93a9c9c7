"""The search and the booking service give the same answer for a slot: a space is listed as free exactly when the
booking form would take a one-off request for it then, and otherwise the search names the rule that stops it.

Each case builds one venue, asks the search (with and without the unavailable spaces) and plans the booking of
the same slot with the same clock. The boundaries are where SQL and Python could drift apart, so they are here
too: notice met to the minute, the last day taken, exactly the longest booking, exactly the opening hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import LONDON
from foundation.venues.booking import plan_booking
from foundation.venues.models import OccurrenceStatus, OpeningHours, Space, Venue
from foundation.venues.search import SearchFilters, SlotState, search_spaces
from tests.venues.factories import (
    add_closure,
    booking_request,
    make_booker,
    make_booking,
    make_space,
    make_venue,
)

# A fixed clock, far from any change of the clocks: Tuesday 10 June 2031, 10:00 in London.
TODAY = date(2031, 6, 10)
NOW = datetime.combine(TODAY, time(10), tzinfo=LONDON).astimezone(UTC)
CLOCKS_GO_BACK = date(2031, 10, 26)  # 01:00-02:00 happens twice


@dataclass(frozen=True)
class World:
    venue: Venue
    space: Space  # the one asked about
    other: Organisation  # another group, whose bookings set the scene


Scene = Callable[[World, date], Space | None]


def child_booked(world: World, day: date) -> Space:
    half = make_space(world.venue, "Left half", parent=world.space)
    make_booking(half, world.other, day, start=time(19), end=time(21))
    return world.space


def parent_booked(world: World, day: date) -> Space:
    half = make_space(world.venue, "Left half", parent=world.space)
    make_booking(world.space, world.other, day, start=time(17), end=time(18, 30))
    return half


def grandchild_booked(world: World, day: date) -> Space:
    half = make_space(world.venue, "Left half", parent=world.space)
    corner = make_space(world.venue, "Stage end", parent=half)
    make_booking(corner, world.other, day, start=time(18), end=time(20))
    return world.space


def sibling_booked(world: World, day: date) -> Space:
    left = make_space(world.venue, "Left half", parent=world.space)
    right = make_space(world.venue, "Right half", parent=world.space)
    make_booking(left, world.other, day, start=time(18), end=time(20))
    return right


def ends_as_ours_starts(world: World, day: date) -> None:
    make_booking(world.space, world.other, day, start=time(16), end=time(18))


def requested_only(world: World, day: date) -> None:
    make_booking(
        world.space, world.other, day, start=time(18), end=time(20), status=OccurrenceStatus.REQUESTED
    )


def cancelled_only(world: World, day: date) -> None:
    make_booking(
        world.space, world.other, day, start=time(18), end=time(20), status=OccurrenceStatus.CANCELLED
    )


def closed_for_repairs(world: World, day: date) -> None:
    add_closure(world.venue, day - timedelta(days=1), day + timedelta(days=1), reason="Roof repairs")


def closed_the_day_before(world: World, day: date) -> None:
    add_closure(world.venue, day - timedelta(days=3), day - timedelta(days=1), reason="Roof repairs")


def split_hours(world: World, day: date) -> None:
    """Open 09:00-12:00 and 13:00-17:00 that weekday (the factory's all-day hours removed)."""
    for hours in list(world.venue.opening_hours):
        if hours.weekday == day.weekday():
            db.session.delete(hours)
    db.session.add(
        OpeningHours(venue_id=world.venue.id, weekday=day.weekday(), opens=time(9), closes=time(12))
    )
    db.session.add(
        OpeningHours(venue_id=world.venue.id, weekday=day.weekday(), opens=time(13), closes=time(17))
    )
    db.session.flush()


@dataclass(frozen=True)
class Case:
    name: str
    expected: SlotState
    day: date = TODAY + timedelta(days=2)
    start: time = time(18)
    end: time = time(20)
    venue: dict[str, Any] = field(default_factory=dict)  # the venue's rules and hours (make_venue)
    scene: Scene | None = None


THURSDAY = (TODAY + timedelta(days=2)).weekday()
FREE, BOOKED, CLOSED = SlotState.FREE, SlotState.BOOKED, SlotState.CLOSED

CASES = [
    Case("free", FREE),
    Case("booked by a space inside it", BOOKED, scene=child_booked),
    Case("booked by a space two levels inside it", BOOKED, scene=grandchild_booked),
    Case("the space it is part of is booked", BOOKED, scene=parent_booked),
    Case("the other half is booked", FREE, scene=sibling_booked),
    Case("a booking ending as ours starts", FREE, scene=ends_as_ours_starts),
    Case("a request waiting (holds nothing)", FREE, scene=requested_only),
    Case("a cancelled booking", FREE, scene=cancelled_only),
    Case("a closure covering the day", CLOSED, scene=closed_for_repairs),
    Case("a closure ending the day before", FREE, scene=closed_the_day_before),
    Case("no opening hours that weekday", CLOSED, venue={"weekdays": [d for d in range(7) if d != THURSDAY]}),
    Case("outside the opening hours", SlotState.OUTSIDE_HOURS, venue={"opens": time(9), "closes": time(17)}),
    Case("exactly the opening hours", FREE, venue={"opens": time(18), "closes": time(20)}),
    Case(
        "across the gap in split hours",
        SlotState.OUTSIDE_HOURS,
        start=time(11),
        end=time(14),
        scene=split_hours,
    ),
    Case("within the second of split hours", FREE, start=time(13), end=time(17), scene=split_hours),
    Case(
        "too short notice",
        SlotState.SHORT_NOTICE,
        start=time(9, 30),
        end=time(11),
        venue={"min_notice_hours": 48},
    ),
    Case("notice met to the minute", FREE, start=time(10), end=time(11), venue={"min_notice_hours": 48}),
    Case(
        "an hour's notice is not half an hour",
        SlotState.SHORT_NOTICE,
        day=TODAY,
        start=time(10, 30),
        end=time(11),
        venue={"min_notice_hours": 1},
    ),  # fmt: skip
    Case(
        "an hour's notice, exactly",
        FREE,
        day=TODAY,
        start=time(11),
        end=time(12),
        venue={"min_notice_hours": 1},
    ),
    Case(
        "too far ahead", SlotState.TOO_FAR_AHEAD, day=TODAY + timedelta(days=31), venue={"max_days_ahead": 30}
    ),
    Case("the last day taken", FREE, day=TODAY + timedelta(days=30), venue={"max_days_ahead": 30}),
    Case("too long", SlotState.TOO_LONG, start=time(18), end=time(19, 1), venue={"max_booking_minutes": 60}),
    Case(
        "exactly the longest booking", FREE, start=time(18), end=time(19), venue={"max_booking_minutes": 60}
    ),
    # The night the clocks go back: 00:30-03:00 is 150 minutes on the clock, 210 in fact; both count the clock.
    Case(
        "the night the clocks go back",
        FREE,
        day=CLOCKS_GO_BACK,
        start=time(0, 30),
        end=time(3),
        venue={"opens": time(0), "closes": time(23), "max_booking_minutes": 150},
    ),
    Case("in the past", SlotState.PAST, day=TODAY, start=time(9), end=time(11)),
    Case("starting now", SlotState.PAST, day=TODAY, start=time(10), end=time(11)),
    Case(
        "yesterday, however long and closed",
        SlotState.PAST,
        day=TODAY - timedelta(days=1),
        venue={"max_booking_minutes": 60},
        scene=closed_for_repairs,
    ),  # fmt: skip
    Case(
        "closed and too long: the closure is named",
        CLOSED,
        venue={"max_booking_minutes": 60},
        scene=closed_for_repairs,
    ),  # fmt: skip
]


def booking_service_takes(space: Space, org: Organisation, user: User, case: Case) -> bool:
    """Whether the booking form would take a one-off request for the slot (refusals raise or mark the date)."""
    req = booking_request(space, org, user, case.day, start=case.start, end=case.end, attendance=1)
    try:
        plan = plan_booking(req, NOW)
    except DomainError:
        return False
    [planned] = plan.dates
    return planned.bookable


def search(case: Case, unavailable: bool) -> dict[str, SlotState | None]:
    filters = SearchFilters(day=case.day, start=case.start, end=case.end, unavailable=unavailable)
    result = search_spaces(filters, now=NOW)
    return {sm.space.name: sm.state for vm in result.venues for sm in vm.spaces}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_search_and_booking_agree(db, case: Case) -> None:  # noqa: ARG001
    _, owner = make_booker(email="owner@example.org", name="Melksham Community Trust")
    booker, group = make_booker(email="leader@example.org", name="Melksham Youth Theatre")
    _, other = make_booker(email="other@example.org", name="Melksham Scouts")
    venue = make_venue(owner, "Melksham Assembly Hall", town="Melksham", **case.venue)
    hall = make_space(venue, "Main hall")
    asked = (case.scene(World(venue, hall, other), case.day) if case.scene else None) or hall
    db.session.refresh(venue)
    db.session.commit()

    every = search(case, unavailable=True)
    free_only = search(case, unavailable=False)
    takes = booking_service_takes(asked, group, booker, case)

    assert every[asked.name] is case.expected
    assert (asked.name in free_only) is (case.expected is FREE)
    assert takes is (case.expected is FREE), f"the booking service {'takes' if takes else 'refuses'} it"
    # Whatever is listed without the unavailable spaces is free, and the booking service takes it.
    assert set(free_only.values()) <= {FREE}
