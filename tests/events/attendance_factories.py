"""Builders for the register, certificates, feedback and coverage tests. Like tests/factories.py they flush, never
commit: the test decides.

`add_entry` writes an entry straight into the tables through `steps.start` (the one place an entry's first state is
recorded), bypassing the registration rules, so an entry can be set on an event that has already happened.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from foundation.events import steps
from foundation.events.models import (
    Event,
    EventFeedback,
    EventType,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    Topic,
)
from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, User
from foundation.types import utcnow
from tests.events.factories import make_event
from tests.factories import add_member, make_org, make_user

_seq = itertools.count(1)


def add_people(org: Organisation, n: int, prefix: str = "Person") -> list[User]:
    people = []
    for _ in range(n):
        i = next(_seq)
        user = make_user(name=f"{prefix} {i}")
        add_member(org, user, MemberRole.MEMBER)
        people.append(user)
    return people


def add_entry(
    event: Event,
    org: Organisation,
    people: Sequence[User],
    status: RegistrationStatus = RegistrationStatus.REGISTERED,
    by: User | None = None,
) -> Registration:
    """An entry of `org` for `people` in `status` (holding its places in the event's `places_held`)."""
    entry = Registration(
        event=event,
        organisation_id=org.id,
        made_by_id=(by or people[0]).id,
        places=len(people),
        queue_position=next(_seq) if status is RegistrationStatus.WAITLISTED else None,
    )
    entry.people = [
        RegistrationPlace(event_id=event.id, user_id=u.id, live=status is not RegistrationStatus.CANCELLED)
        for u in people
    ]
    db.session.add(entry)
    steps.start(entry, status, by)
    db.session.flush()
    return entry


def mark_attended(entry: Registration, attended: Sequence[bool], by: User | None = None) -> None:
    """Set the register's marks straight into the tables (for scenes; the rules are tested through `mark`)."""
    now = utcnow()
    for person, came in zip(entry.people, attended, strict=True):
        person.attended, person.marked_at, person.marked_by_id = came, now, by.id if by else None
    to = RegistrationStatus.ATTENDED if any(attended) else RegistrationStatus.NO_SHOW
    steps.move(entry, to, by, note="Register marked", now=now)
    db.session.flush()


def trained(
    org: Organisation,
    people: Sequence[User],
    *,
    topics: Sequence[Topic] = (Topic.FIRST_AID,),
    starts_at: datetime,
    event_type: EventType = EventType.TRAINING,
    attended: bool = True,
    hours: float = 3,
    organiser: Organisation | None = None,
) -> tuple[Event, Registration]:
    """A past event (training in `topics` by default) with `people` of `org` marked as attending (or not)."""
    event = make_event(
        org=organiser or make_org(name=f"Trainers {next(_seq)}"),
        starts_at=starts_at,
        hours=hours,
        topics=topics,
        event_type=event_type,
    )
    entry = add_entry(event, org, people)
    mark_attended(entry, [attended] * len(people))
    return event, entry


def add_feedback(place: RegistrationPlace, rating: int, comments: str = "") -> EventFeedback:
    feedback = EventFeedback(event_id=place.event_id, place_id=place.id, rating=rating, comments=comments)
    db.session.add(feedback)
    db.session.flush()
    return feedback


# --- the permissions matrix and the query-count test ---------------------------------------------------------


def on_the_day_world(
    values: dict[str, object], member: User, org_a: Organisation, org_admin: User
) -> dict[str, object]:
    """The world's event (organised by A, not yet held) with A's member on it: `place_id` is the member's place.
    Made here when the world has no event yet."""
    from sqlalchemy import select

    event = db.session.get(Event, values["event_id"]) if "event_id" in values else None
    if event is None:
        event = make_event(org_admin, org_a, title="The world's training")
    place = db.session.scalar(
        select(RegistrationPlace).where(
            RegistrationPlace.event_id == event.id,
            RegistrationPlace.user_id == member.id,
            RegistrationPlace.live.is_(True),
        )
    )
    if place is None:
        event.places += 1
        place = add_entry(event, org_a, [member]).people[0]
    db.session.flush()
    return {"event_id": event.id, "place_id": place.id}


def grow_on_the_day(i: int, event_id: int, org_a: Organisation, member: User, org_admin: User) -> None:
    """For the query-count test: more people on the world event's register (with feedback), and more training
    attended this year by A's people, in more towns."""
    from datetime import UTC, datetime

    from foundation.types import london_today

    event = db.session.get(Event, event_id)
    assert event is not None
    town = make_org(name=f"Grown town group {i}", town=f"Grown town {i}")
    people = add_people(town, 2)
    event.places += 2
    entry = add_entry(event, town, people)
    for n, place in enumerate(entry.people):
        add_feedback(place, 1 + (i + n) % 5, f"Comment {i}.{n}")
    colleague = add_people(org_a, 1)[0]
    this_year = datetime(london_today().year, 1, 2, 10, tzinfo=UTC)
    trained(
        org_a, [member, org_admin, colleague], topics=(Topic.FIRST_AID, Topic.DIGITAL), starts_at=this_year
    )
    trained(town, people, topics=(Topic.SAFEGUARDING,), starts_at=this_year)
