"""iCalendar feeds (RFC 5545): busy times per space (public) and an organisation's bookings (private); and one
booking's dates to come as a file to import (`booking_calendar`).

A weekly series is one VEVENT with an RRULE in Europe/London wall-clock time, so a calendar app keeps 18:00 at
18:00 across clock changes exactly as the booking service does. Every date of the series pattern that has no
shown occurrence (a skipped holiday, a cancelled or declined date) becomes an EXDATE. An occurrence on a pattern
date whose times or status differ from the series becomes a RECURRENCE-ID override; an occurrence on a date the
pattern does not produce (the series was edited after it was made) is its own VEVENT with its own stable UID.
Expanding a feed therefore gives exactly the occurrences in the database, which the tests check.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

import sqlalchemy as sa
from icalendar import Calendar, Event, Timezone, vDuration, vRecur
from sqlalchemy.orm import contains_eager

from foundation.extensions import db
from foundation.members.models import Organisation
from foundation.types import LONDON, utcnow
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

PRODID = "-//Wiltshire Young People's Foundation//Venue Bank//EN"
UID_DOMAIN = "wypf.org.uk"
BUSY_SUMMARY = "Booked"
# How far back a feed reaches; calendar apps keep what they already have, so this only bounds the work.
DEFAULT_HISTORY_DAYS = 365
REFRESH_INTERVAL = timedelta(hours=1)

# Requested dates are the organisation's own pending plans, so its private feed shows them as tentative.
PRIVATE_STATUSES = (OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED)
BUSY_STATUSES = (OccurrenceStatus.CONFIRMED,)

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ICAL_STATUS = {OccurrenceStatus.CONFIRMED: "CONFIRMED", OccurrenceStatus.REQUESTED: "TENTATIVE"}


@dataclass(frozen=True)
class Look:
    """What one instance says about itself. Instances of a series that look alike share the master event."""

    summary: str
    status: str
    location: str | None = None
    description: str | None = None


Describe = Callable[[Booking, Occurrence], Look]


# --- calendar tokens -------------------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def calendar_token_for(org: Organisation) -> CalendarToken:
    """The organisation's feed token, made on first use."""
    token = db.session.scalar(sa.select(CalendarToken).where(CalendarToken.organisation_id == org.id))
    if token is None:
        token = CalendarToken(organisation_id=org.id, token=new_token())
        db.session.add(token)
        db.session.flush()
    return token


def reset_calendar_token(org: Organisation) -> CalendarToken:
    """Replace the secret, so every copy of the old feed address stops working."""
    token = calendar_token_for(org)
    token.token = new_token()
    token.created_at = utcnow()
    db.session.flush()
    return token


def organisation_for_token(token: str) -> Organisation | None:
    if not token or len(token) > 64:
        return None
    row = db.session.scalar(sa.select(CalendarToken).where(CalendarToken.token == token))
    return db.session.get(Organisation, row.organisation_id) if row else None


# --- feeds -----------------------------------------------------------------------------------------------------


def history_start(now: datetime | None = None, days: int = DEFAULT_HISTORY_DAYS) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


def blocking_space_ids(space: Space) -> list[int]:
    """The space, every space it is part of, and every space inside it: a booking of any of them makes it busy.

    Sibling spaces (the other half of the hall) do not block each other.
    """
    ids = [s.id for s in space.self_and_descendants()]
    parent = space.parent
    while parent is not None and parent.id not in ids:
        ids.append(parent.id)
        parent = parent.parent
    return ids


def space_busy_calendar(space: Space, since: datetime) -> Calendar:
    """Public busy times of a space: no purposes, no organisation names, confirmed occurrences only."""
    occurrences = db.session.scalars(
        sa.select(Occurrence)
        .join(Occurrence.booking)
        .options(contains_eager(Occurrence.booking))
        .where(
            Occurrence.space_id.in_(blocking_space_ids(space)),
            Occurrence.status.in_(BUSY_STATUSES),
            Occurrence.ends_at > since,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    ).all()
    venue = space.venue
    cal = new_calendar(
        name=f"{space.name}, {venue.name}: busy times",
        description=f"Times when {space.name} at {venue.name} is booked.",
    )
    _add_events(cal, occurrences, _describe_busy)
    return cal


def organisation_calendar(org: Organisation, since: datetime) -> Calendar:
    """An organisation's own bookings: purpose, space, venue, address and status of each date."""
    occurrences = db.session.scalars(
        sa.select(Occurrence)
        .join(Occurrence.booking)
        .options(contains_eager(Occurrence.booking).selectinload(Booking.space).selectinload(Space.venue))
        .where(
            Booking.organisation_id == org.id,
            Occurrence.status.in_(PRIVATE_STATUSES),
            Occurrence.ends_at > since,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    ).all()
    cal = new_calendar(
        name=f"{org.name}: venue bookings", description=f"Venue Bank bookings made by {org.name}."
    )
    _add_events(cal, occurrences, _describe_private)
    return cal


def booking_calendar(booking: Booking, now: datetime, link: str | None = None) -> Calendar:
    """One booking's requested and confirmed dates still to come, for a calendar app to import once: an event per
    date (UID stable per date, so importing again updates rather than doubles), times in UTC, `link` (the
    booking's page) in each description."""
    space: Space = booking.space
    occurrences = [o for o in booking.occurrences if o.status in PRIVATE_STATUSES and o.starts_at > now]
    cal = new_calendar(
        name=f"{booking.purpose}: {space.name}, {space.venue.name}",
        description=f"Venue Bank booking {booking.reference} by {booking.organisation.name}.",
        subscription=False,
    )
    cal.add("method", "PUBLISH")
    for occ in occurrences:
        look = _describe_private(booking, occ)
        extra = [f"Reference: {booking.reference}", *([f"Booking: {link}"] if link else [])]
        look = replace(
            look,
            summary=_summary(f"{booking.purpose}: {space.name}", occ),
            description="\n".join((look.description or "", *extra)),
        )
        cal.add_component(_single(uid_for(booking, occ), occ, look, now, tz=UTC))
    return cal


def _describe_busy(booking: Booking, occ: Occurrence) -> Look:
    return Look(summary=BUSY_SUMMARY, status="CONFIRMED")


def _summary(title: str, occ: Occurrence) -> str:
    return f"{title} (awaiting approval)" if occ.status is OccurrenceStatus.REQUESTED else title


def space_location(space: Space) -> str:
    """Where a space is, on one line: the space, its venue and the venue's full address."""
    venue: Venue = space.venue
    parts = (space.name, venue.name, venue.address_line1, venue.address_line2, venue.town, venue.postcode)
    return ", ".join(part for part in parts if part)


def _describe_private(booking: Booking, occ: Occurrence) -> Look:
    space: Space = booking.space
    venue: Venue = space.venue
    pending = occ.status is OccurrenceStatus.REQUESTED
    status_line = "Requested: waiting for the venue's approval" if pending else "Confirmed"
    return Look(
        summary=_summary(booking.purpose, occ),
        status=_ICAL_STATUS[occ.status],
        location=space_location(space),
        description="\n".join(
            (
                f"{space.name} at {venue.name}",
                f"Status: {status_line}",
                f"Expected attendance: {booking.expected_attendance}",
            )
        ),
    )


# --- building --------------------------------------------------------------------------------------------------


def new_calendar(name: str, description: str, subscription: bool = True, prodid: str = PRODID) -> Calendar:
    """An empty VCALENDAR with its name and description; a subscription also says how often to look again."""
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("description", description)
    if subscription:  # how often a subscribed app should look again; an imported file is read once
        cal.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    return cal


def _add_events(cal: Calendar, occurrences: Sequence[Occurrence], describe: Describe) -> None:
    by_booking: dict[int, list[Occurrence]] = {}
    for occ in occurrences:
        by_booking.setdefault(occ.booking_id, []).append(occ)
    if not by_booking:
        return
    stamps = _last_revised(by_booking)
    events: list[Event] = []
    years: list[int] = []
    for occs in by_booking.values():
        booking = occs[0].booking
        events.extend(_booking_events(booking, occs, describe, stamps.get(booking.id) or booking.created_at))
        years.extend((occs[0].starts_at.astimezone(LONDON).year, occs[-1].ends_at.astimezone(LONDON).year))
    cal.add_component(_london_vtimezone(min(years), max(years)))
    for event in events:
        cal.add_component(event)


def _last_revised(by_booking: dict[int, list[Occurrence]]) -> dict[int, datetime]:
    """When each booking last changed, as far as we know: its latest decision on any date, or its creation.

    Deterministic (never "now"), so an unchanged feed keeps its ETag.
    """
    rows = db.session.execute(
        sa.select(Occurrence.booking_id, sa.func.max(Occurrence.decided_at))
        .where(Occurrence.booking_id.in_(list(by_booking)))
        .group_by(Occurrence.booking_id)
    ).all()
    out: dict[int, datetime] = {}
    for booking_id, decided in rows:
        created = by_booking[booking_id][0].booking.created_at
        out[booking_id] = max(created, decided) if decided else created
    return out


def uid_for(booking: Booking, occurrence: Occurrence | None = None) -> str:
    suffix = f"-{occurrence.id}" if occurrence is not None else ""
    return f"{booking.uid}{suffix}@{UID_DOMAIN}"


def _in_pattern(booking: Booking, day: date) -> bool:
    return booking.first_date <= day <= booking.last_date and day.weekday() in booking.weekday_list


def _booking_events(
    booking: Booking, occs: list[Occurrence], describe: Describe, stamp: datetime
) -> list[Event]:
    """The VEVENTs for one booking's shown occurrences (given in time order)."""
    matched: dict[date, Occurrence] = {}
    extra: list[Occurrence] = []
    weekly = booking.recurrence is Recurrence.WEEKLY and booking.weekday_list
    for occ in occs:
        day = occ.starts_at.astimezone(LONDON).date()
        if weekly and _in_pattern(booking, day) and day not in matched:
            matched[day] = occ
        else:
            extra.append(occ)

    events: list[Event] = []
    if len(matched) > 1:
        events.extend(_series(booking, matched, describe, stamp))
    else:
        # A one-off, or a series down to a single date: a plain event under the booking's own UID.
        extra = sorted([*matched.values(), *extra], key=lambda o: (o.starts_at, o.id))
        first, extra = extra[0], extra[1:]
        events.append(_single(uid_for(booking), first, describe(booking, first), stamp))
    events.extend(_single(uid_for(booking, occ), occ, describe(booking, occ), stamp) for occ in extra)
    return events


def _series(
    booking: Booking, matched: dict[date, Occurrence], describe: Describe, stamp: datetime
) -> list[Event]:
    days = sorted(matched)
    looks = {day: describe(booking, matched[day]) for day in days}
    master_look = Counter(looks[day] for day in days).most_common(1)[0][0]
    first_slot = local_interval(days[0], booking.start_time, booking.end_time)
    # RFC 5545 3.8.5.3: every instance lasts the master's exact duration, so an instance whose real length
    # differs (a slot spanning a clock change) needs an override too.
    duration = first_slot.ends_at - first_slot.starts_at
    uid = uid_for(booking)

    master = _event(uid, first_slot.starts_at, first_slot.ends_at, master_look, stamp)
    last_start = local_interval(days[-1], booking.start_time, booking.end_time).starts_at
    master.add(
        "rrule",
        vRecur(
            freq="WEEKLY",
            byday=[_BYDAY[d] for d in sorted(set(booking.weekday_list))],
            # UNTIL must be UTC when DTSTART carries a TZID (RFC 5545 3.3.10); it is inclusive.
            until=last_start.astimezone(UTC),
        ),
    )
    excluded = [
        local_interval(day, booking.start_time, booking.end_time).starts_at.astimezone(LONDON)
        for day in _days_between(days[0], days[-1])
        if _in_pattern(booking, day) and day not in matched
    ]
    if excluded:
        master.add("exdate", excluded)

    overrides = []
    for day in days:
        occ = matched[day]
        slot_start = local_interval(day, booking.start_time, booking.end_time).starts_at
        same_time = occ.starts_at == slot_start and occ.ends_at == slot_start + duration
        if same_time and looks[day] == master_look:
            continue
        override = _single(uid, occ, looks[day], stamp)
        override.add("recurrence-id", slot_start.astimezone(LONDON))
        overrides.append(override)
    return [master, *overrides]


def _days_between(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _single(uid: str, occ: Occurrence, look: Look, stamp: datetime, tz: tzinfo = LONDON) -> Event:
    return _event(uid, occ.starts_at, occ.ends_at, look, stamp, tz)


def _event(
    uid: str, starts_at: datetime, ends_at: datetime, look: Look, stamp: datetime, tz: tzinfo = LONDON
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", look.summary)
    event.add("status", look.status)
    event.add("transp", "OPAQUE")
    if look.location:
        event.add("location", look.location)
    if look.description:
        event.add("description", look.description)
    return event


@lru_cache(maxsize=32)
def _london_vtimezone(first_year: int, last_year: int) -> Timezone:
    """The Europe/London VTIMEZONE covering the feed's years (cached: building it walks the transitions).

    The cached component is shared, so it is only ever serialised, never changed.
    """
    return Timezone.from_tzinfo(
        LONDON,
        tzid="Europe/London",
        first_date=date(first_year - 1, 1, 1),
        last_date=date(last_year + 1, 12, 31),
    )
