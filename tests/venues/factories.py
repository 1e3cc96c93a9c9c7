"""Builders for Venue Bank test data. Like tests/factories.py they flush, never commit: the test decides."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from datetime import date, time, timedelta

from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import utcnow
from foundation.venues.availability import local_interval
from foundation.venues.models import (
    Booking,
    Closure,
    Feature,
    Occurrence,
    OccurrenceStatus,
    OpeningHours,
    Recurrence,
    Space,
    SpaceFeature,
    SpaceOccupancy,
    Venue,
)

_seq = itertools.count(1)

ALL_WEEK = tuple(range(7))


def make_venue(
    org: Organisation,
    name: str | None = None,
    town: str = "Calne",
    postcode: str = "SN11 0HY",
    opens: time | None = time(7),
    closes: time | None = time(23),
    weekdays: Iterable[int] = ALL_WEEK,
    min_notice_hours: int = 0,
    max_days_ahead: int = 3 * 365,
    max_booking_minutes: int = 8 * 60,
    **fields: object,
) -> Venue:
    """A venue open every day from 07:00 to 23:00 with no notice rule, so tests only meet the rule they set."""
    n = next(_seq)
    venue = Venue(
        organisation_id=org.id,
        name=name or f"Community Centre {n}",
        address_line1=f"{n} Church Street",
        town=town,
        postcode=postcode,
        description=fields.pop("description", "Community centre by the river."),
        min_notice_hours=min_notice_hours,
        max_days_ahead=max_days_ahead,
        max_booking_minutes=max_booking_minutes,
        **fields,
    )
    db.session.add(venue)
    db.session.flush()
    if opens is not None and closes is not None:
        for weekday in weekdays:
            db.session.add(OpeningHours(venue_id=venue.id, weekday=weekday, opens=opens, closes=closes))
    db.session.flush()
    db.session.refresh(venue)
    return venue


def make_space(
    venue: Venue,
    name: str | None = None,
    parent: Space | None = None,
    capacity: int = 60,
    needs_approval: bool = False,
    price_per_hour_pence: int = 0,
    features: Iterable[Feature] = (),
    **fields: object,
) -> Space:
    n = next(_seq)
    space = Space(
        venue_id=venue.id,
        name=name or f"Room {n}",
        capacity=capacity,
        parent_id=parent.id if parent else None,
        needs_approval=needs_approval,
        price_per_hour_pence=price_per_hour_pence,
        **fields,
    )
    db.session.add(space)
    db.session.flush()
    for feature in features:
        db.session.add(SpaceFeature(space_id=space.id, feature=feature))
    db.session.flush()
    db.session.refresh(venue)
    db.session.refresh(space)
    if parent is not None:
        db.session.refresh(parent)
    return space


def add_closure(
    venue: Venue, starts_on: date, ends_on: date | None = None, reason: str = "Refurbishment"
) -> Closure:
    closure = Closure(venue_id=venue.id, starts_on=starts_on, ends_on=ends_on or starts_on, reason=reason)
    db.session.add(closure)
    db.session.flush()
    db.session.refresh(venue)
    return closure


def make_booking(
    space: Space,
    org: Organisation,
    first: date,
    last: date | None = None,
    weekdays: Iterable[int] = (),
    start: time = time(18),
    end: time = time(19, 30),
    status: OccurrenceStatus = OccurrenceStatus.CONFIRMED,
    purpose: str = "Youth club",
    attendance: int = 20,
    booked_by: User | None = None,
    skip: Iterable[date] = (),
) -> Booking:
    """A booking written straight into the tables, bypassing the booking rules (for setting the scene).

    Confirmed occurrences get their occupancy rows on the space and every space inside it, as the service does.
    """
    weekdays = tuple(weekdays)
    skip = set(skip)
    booking = Booking(
        space_id=space.id,
        organisation_id=org.id,
        booked_by_id=booked_by.id if booked_by else None,
        purpose=purpose,
        expected_attendance=attendance,
        recurrence=Recurrence.WEEKLY if weekdays else Recurrence.ONE_OFF,
        weekdays=",".join(str(d) for d in sorted(weekdays)),
        first_date=first,
        last_date=last or first,
        start_time=start,
        end_time=end,
        uid=uuid.uuid4().hex,
    )
    db.session.add(booking)
    db.session.flush()
    day = first
    while day <= booking.last_date:
        if (not weekdays or day.weekday() in weekdays) and day not in skip:
            add_occurrence(booking, day, start, end, status)
        day += timedelta(days=1)
    db.session.refresh(booking)
    return booking


def add_occurrence(
    booking: Booking,
    day: date,
    start: time | None = None,
    end: time | None = None,
    status: OccurrenceStatus = OccurrenceStatus.CONFIRMED,
) -> Occurrence:
    slot = local_interval(day, start or booking.start_time, end or booking.end_time)
    occ = Occurrence(
        booking_id=booking.id,
        space_id=booking.space_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
        decided_at=None if status is OccurrenceStatus.REQUESTED else utcnow(),
    )
    db.session.add(occ)
    db.session.flush()
    if status is OccurrenceStatus.CONFIRMED:
        space = db.session.get(Space, booking.space_id)
        assert space is not None
        for held in space.self_and_descendants():
            db.session.add(
                SpaceOccupancy(
                    occurrence_id=occ.id, space_id=held.id, starts_at=occ.starts_at, ends_at=occ.ends_at
                )
            )
        db.session.flush()
    return occ


def make_booker(
    org: Organisation | None = None, email: str | None = None, admin: bool = True, **org_fields: object
) -> tuple[User, Organisation]:
    """A user and the organisation (in good standing unless told otherwise) they book for."""
    from tests.factories import add_member, make_org, make_user

    user = make_user(email=email)
    if org is None:
        org = make_org(admin=user if admin else None, **org_fields)
        if not admin:
            add_member(org, user)
    else:
        add_member(org, user)
    db.session.refresh(user)
    return user, org


def booking_request(
    space: Space,
    org: Organisation,
    user: User,
    first: date,
    start: time = time(18),
    end: time = time(19, 30),
    weekdays: Iterable[int] = (),
    until: date | None = None,
    weeks: int | None = None,
    attendance: int = 20,
    purpose: str = "Youth club",
    skip_school: bool = False,
    skip_bank: bool = False,
):
    from foundation.venues.booking import BookingRequest

    return BookingRequest(
        space=space,
        organisation=org,
        booked_by=user,
        purpose=purpose,
        expected_attendance=attendance,
        first_date=first,
        start_time=start,
        end_time=end,
        weekdays=tuple(weekdays),
        until=until,
        weeks=weeks,
        skip_school_holidays=skip_school,
        skip_bank_holidays=skip_bank,
    )
