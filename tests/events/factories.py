"""Builders for events test data. Like tests/factories.py they flush, never commit: the test decides.

`make_event` writes straight into the tables, bypassing the event rules (for setting the scene): sessions may be
in the past, and a venue event's sessions are one-off confirmed bookings of a fresh space, written the way
tests/venues/factories.make_booking writes them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta

from foundation.events.models import (
    Event,
    EventSession,
    EventStatus,
    EventTopic,
    EventType,
    LocationKind,
    Topic,
)
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import LONDON, utcnow
from foundation.venues.models import Space
from tests.factories import make_org, make_user
from tests.venues.factories import make_booking, make_space, make_venue

_seq = itertools.count(1)


def next_week_at(hour: int = 10, days: int = 7, now: datetime | None = None) -> datetime:
    """A time `days` days from now at `hour`:00 in London, in UTC."""
    day = ((now or utcnow()) + timedelta(days=days)).astimezone(LONDON).date()
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(LONDON)


def make_organiser(name: str | None = None, town: str = "Calne") -> tuple[User, Organisation]:
    """An admin and the organisation in good standing they organise events for."""
    user = make_user()
    org = make_org(admin=user, name=name, town=town)
    db.session.refresh(user)
    return user, org


def make_event(
    organiser: User | None = None,
    org: Organisation | None = None,
    *,
    title: str | None = None,
    places: int = 20,
    where: LocationKind = LocationKind.VENUE,
    starts_at: datetime | None = None,
    hours: float = 3,
    sessions: int = 1,
    session_times: Sequence[tuple[datetime, datetime]] | None = None,
    status: EventStatus = EventStatus.PUBLISHED,
    event_type: EventType = EventType.TRAINING,
    topics: Iterable[Topic] = (Topic.SAFEGUARDING,),
    per_organisation_limit: int | None = None,
    price_pence: int = 0,
    requires_approval: bool = False,
    offer_hours: int = 48,
    cancel_cutoff_hours: int = 48,
    space: Space | None = None,
    town: str = "Calne",
    audience: str = "Youth workers and volunteers",
    online_link: str = "https://meet.example.org/wypf-event",
    address: str = "The Old School, 1 Market Place",
) -> Event:
    """An event (published unless told otherwise) organised by `org` (made, with `organiser` as its admin, when
    not given).

    `sessions` sessions a week apart, each `hours` long, the first at `starts_at` (default: a week from now at
    10:00 London); or exactly `session_times`. At a venue (the default) each session is a confirmed one-off
    booking of `space` (default: a fresh space at a fresh venue in `town`, owned by another organisation), made
    in the organiser organisation's name; online events have `online_link`, other addresses `address` and
    `town`.
    """
    n = next(_seq)
    if org is None:
        if organiser is None:
            organiser, org = make_organiser(town=town)
        else:
            org = make_org(admin=organiser, town=town)
            db.session.refresh(organiser)
    if session_times is None:
        first = starts_at or next_week_at()
        session_times = [
            (first + timedelta(weeks=i), first + timedelta(weeks=i, hours=hours)) for i in range(sessions)
        ]
    times = sorted((s.astimezone(LONDON), e.astimezone(LONDON)) for s, e in session_times)
    if where is LocationKind.VENUE and space is None:
        owner = make_org(name=f"Venue Owners {n}", town=town)
        space = make_space(make_venue(owner, town=town), capacity=max(places, 60))
    event = Event(
        title=title or f"Safeguarding essentials {n}",
        description="An introduction for youth workers and volunteers.",
        event_type=event_type,
        audience=audience,
        organisation_id=org.id,
        created_by_id=organiser.id if organiser else None,
        status=status,
        places=places,
        places_held=0,
        per_organisation_limit=per_organisation_limit,
        price_pence=price_pence,
        requires_approval=requires_approval,
        offer_hours=offer_hours,
        cancel_cutoff_hours=cancel_cutoff_hours,
        location_kind=where,
        space_id=space.id if where is LocationKind.VENUE and space is not None else None,
        online_link=online_link if where is LocationKind.ONLINE else None,
        address=address if where is LocationKind.ADDRESS else None,
        town=(space.venue.town if space is not None and where is LocationKind.VENUE else None)
        if where is not LocationKind.ADDRESS
        else town,
        starts_at=times[0][0],
        ends_at=times[-1][1],
        published_at=utcnow() if status is not EventStatus.DRAFT else None,
        cancelled_at=utcnow() if status is EventStatus.CANCELLED else None,
    )
    event.topic_rows = [EventTopic(topic=t) for t in dict.fromkeys(topics)]
    db.session.add(event)
    db.session.flush()
    for start, end in times:
        booking_id = None
        if where is LocationKind.VENUE and space is not None:
            booking = make_booking(
                space,
                org,
                start.date(),
                start=start.time(),
                end=end.time(),
                purpose=event.title,
                attendance=min(places, space.capacity),
                booked_by=organiser,
            )
            booking_id = booking.id
        db.session.add(EventSession(event_id=event.id, starts_at=start, ends_at=end, booking_id=booking_id))
    db.session.flush()
    db.session.refresh(event)
    return event


def events_world(org_a: Organisation, org_admin: User) -> dict[str, object]:
    """The permissions matrix's events: a published online event organised by organisation A (its admin listed
    it), a week ahead, with nobody registered yet."""
    event = make_event(org_admin, org_a, title="Matrix event", where=LocationKind.ONLINE, places=10)
    return {"event_id": event.id}


def grow_events(i: int, org_a: Organisation, org_admin: User, other: Organisation) -> None:
    """For the query-count guard: more events of every kind, status and place, for A and another organisation,
    with several sessions and topics each; one full, one past."""
    first = next_week_at(hour=9, days=10 + i)
    topics = (Topic.SAFEGUARDING, Topic.FIRST_AID, Topic.DIGITAL)
    make_event(org_admin, org_a, title=f"Growth course {i}", sessions=3, starts_at=first, topics=topics)
    make_event(
        org_admin, org_a, title=f"Growth draft {i}", status=EventStatus.DRAFT, starts_at=first, topics=topics
    )
    make_event(
        org_admin, org_a, title=f"Growth online {i}", where=LocationKind.ONLINE, starts_at=first, topics=topics,
        event_type=EventType.WORKSHOP, price_pence=1_500,
    )  # fmt: skip
    full = make_event(
        None, other, title=f"Growth meeting {i}", where=LocationKind.ADDRESS, town="Calne", starts_at=first,
        topics=topics, event_type=EventType.NETWORK_MEETING, places=2,
    )  # fmt: skip
    full.places_held = 2
    make_event(None, other, title=f"Growth cancelled {i}", status=EventStatus.CANCELLED, starts_at=first)
    make_event(None, other, title=f"Growth past {i}", starts_at=next_week_at(days=-30 - i), topics=topics)
