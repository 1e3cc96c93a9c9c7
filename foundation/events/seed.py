"""Events demo data: a term of training and networking events at demo venues, online and at another address,
listed by demo organisations and by staff, and a past event (for registrations, attendance and feedback, which
the registration seed adds after this one). Future events are made and published through the services, so their
Venue Bank bookings follow the venues' rules; the past event is written directly, as the venues seed writes its
bookings. Every event is looked up by title first, so running the seed again adds nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from foundation.events import events as svc
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
from foundation.seed import demo_data
from foundation.types import LONDON, utcnow
from foundation.venues.availability import local_interval
from foundation.venues.models import (
    Booking,
    Occurrence,
    OccurrenceStatus,
    Recurrence,
    Space,
    SpaceOccupancy,
    Venue,
)

# Titles the registration seed finds the demo events by.
FULL_EVENT_TITLE = "Emergency first aid for youth settings"
PAST_EVENT_TITLE = "Safeguarding refresher for youth club volunteers"
COURSE_TITLE = "Youth mental health first aid: a four-week course"
ONLINE_EVENT_TITLE = "Fundraising for small youth groups (online)"
# Listed by staff; its venue's page shows accessibility features.
VENUE_EVENT_TITLE = "Safeguarding essentials for youth workers"


@dataclass(frozen=True)
class DemoEvent:
    title: str
    event_type: EventType
    topics: tuple[Topic, ...]
    organisation: str
    by: str  # the email of who lists it
    weekday: int  # 0 Monday
    weeks_ahead: int
    start: time
    end: time
    places: int
    sessions: int = 1
    price_pence: int = 0
    where: LocationKind = LocationKind.VENUE
    venue: str | None = None
    space: str | None = None
    address: str | None = None
    town: str | None = None
    per_organisation_limit: int | None = None
    requires_approval: bool = False
    description: str = ""
    audience: str = "Youth workers and volunteers"


STAFF = "staff@wypf.example"
CALNE_ADMIN = "admin@calne-youth.example"
SWINDON_ADMIN = "youthworker@wypf.example"

DEMO_EVENTS = [
    DemoEvent(
        VENUE_EVENT_TITLE, EventType.TRAINING, (Topic.SAFEGUARDING,),
        "Calne Youth Project", STAFF, 2, 2, time(10), time(13), 24, venue="Bank House Youth Centre",
        space="Main hall", per_organisation_limit=4,
        description="Recognising and responding to concerns, record keeping and making referrals in Wiltshire. "
        "Meets the Level 2 standard the Foundation asks of seed-grant holders.",
    ),
    DemoEvent(
        FULL_EVENT_TITLE, EventType.TRAINING, (Topic.FIRST_AID,), "Calne Youth Project", CALNE_ADMIN, 3, 3,
        time(13, 30), time(17), 12, venue="Monkton Park Community Hall", space="Meeting room",
        description="Emergency first aid for people running youth sessions: CPR, choking, bleeding, burns and "
        "head injuries, with the paperwork a club needs. A certificate for three years.",
    ),
    DemoEvent(
        "Youth voice network meeting", EventType.NETWORK_MEETING, (Topic.YOUTH_VOICE, Topic.INCLUSION),
        "Swindon Sports Trust", SWINDON_ADMIN, 1, 2, time(18), time(20), 40, venue="Old Town Sports Pavilion",
        space="Clubroom", audience="Youth workers and young people on youth councils",
        description="Groups across Swindon and Wiltshire share how young people shape their clubs. Young people "
        "are welcome with their youth workers.",
    ),
    DemoEvent(
        COURSE_TITLE, EventType.TRAINING, (Topic.MENTAL_HEALTH,), "Calne Youth Project", CALNE_ADMIN, 0, 3,
        time(18, 30), time(20, 30), 12, sessions=4, price_pence=4_000, venue="Bank House Youth Centre",
        space="Music room", requires_approval=True,
        description="Four evenings on spotting the signs of anxiety, depression and self-harm in young people, "
        "having the conversation, and where to refer. Come to all four sessions.",
    ),
    DemoEvent(
        ONLINE_EVENT_TITLE, EventType.WORKSHOP, (Topic.FUNDRAISING, Topic.GOVERNANCE), "Swindon Sports Trust",
        STAFF, 3, 1, time(12, 30), time(13, 30), 60, where=LocationKind.ONLINE,
        description="A lunchtime workshop: finding funders, writing a case for support, and the Foundation's seed "
        "grants and consortium bids.",
    ),
    DemoEvent(
        "Staying safe online: digital skills for youth clubs", EventType.WORKSHOP,
        (Topic.DIGITAL, Topic.SAFEGUARDING), "Calne Youth Project", CALNE_ADMIN, 4, 4, time(10), time(12, 30), 30,
        where=LocationKind.ADDRESS, address="Devizes Town Hall, St John's Street, SN10 1BN", town="Devizes",
        description="Social media, group chats and online safety for youth clubs, with a plain-English policy to "
        "take away.",
    ),
]  # fmt: skip

ONLINE_LINK = "https://meet.example.org/wypf-fundraising"


@demo_data("events", order=60)
def seed_events(today: date | None = None) -> Iterator[str]:
    with current_app.test_request_context("/"):  # the services link to pages in their notifications
        yield from _seed(today or utcnow().astimezone(LONDON).date())


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _org(name: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


def _space(venue: str | None, space: str | None) -> Space | None:
    if venue is None or space is None:
        return None
    return db.session.scalar(
        sa.select(Space).join(Space.venue).where(Venue.name == venue, Space.name == space)
    )


def _exists(title: str) -> bool:
    return db.session.scalar(sa.select(Event.id).where(Event.title == title)) is not None


def _first(weekday: int, weeks_ahead: int, today: date) -> date:
    after = today + timedelta(weeks=weeks_ahead)
    return after + timedelta(days=(weekday - after.weekday()) % 7)


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


def _seed(today: date) -> Iterator[str]:
    for demo in DEMO_EVENTS:
        if _exists(demo.title):
            continue
        by, org = _user(demo.by), _org(demo.organisation)
        space = _space(demo.venue, demo.space)
        if by is None or org is None or (demo.where is LocationKind.VENUE and space is None):
            continue
        first = _first(demo.weekday, demo.weeks_ahead, today)
        days = [first + timedelta(weeks=n) for n in range(demo.sessions)]
        details = svc.EventDetails(
            title=demo.title,
            event_type=demo.event_type,
            topics=list(demo.topics),
            places=demo.places,
            location_kind=demo.where,
            sessions=[(_at(d, demo.start), _at(d, demo.end)) for d in days],
            description=demo.description,
            audience=demo.audience,
            per_organisation_limit=demo.per_organisation_limit,
            price_pence=demo.price_pence,
            requires_approval=demo.requires_approval,
            space=space,
            online_link=ONLINE_LINK if demo.where is LocationKind.ONLINE else None,
            address=demo.address,
            town=demo.town,
        )
        db.session.commit()  # the services take the write lock first (see steps.lock_event)
        event = svc.create_event(details, org, by)
        db.session.commit()
        svc.publish(event, by)
        db.session.commit()
        yield f"event {demo.title}"
    yield from _seed_past(today)


def _seed_past(today: date) -> Iterator[str]:
    """A published event three weeks ago at Bank House, its booking written as already made."""
    if _exists(PAST_EVENT_TITLE):
        return
    by, org = _user(CALNE_ADMIN), _org("Calne Youth Project")
    space = _space("Bank House Youth Centre", "Main hall")
    if by is None or org is None or space is None:
        return
    day = _first(2, 0, today) - timedelta(weeks=3)
    slot = local_interval(day, time(10), time(13))
    created = slot.starts_at - timedelta(weeks=5)
    booking = Booking(
        space=space, organisation=org, booked_by=by, purpose=PAST_EVENT_TITLE, expected_attendance=20,
        recurrence=Recurrence.ONE_OFF, weekdays="", first_date=day, last_date=day, start_time=time(10),
        end_time=time(13), uid=f"demo-event-{uuid.uuid4().hex}", created_at=created,
    )  # fmt: skip
    occurrence = Occurrence(
        booking=booking, space_id=space.id, starts_at=slot.starts_at, ends_at=slot.ends_at,
        status=OccurrenceStatus.CONFIRMED, decided_at=created,
    )  # fmt: skip
    db.session.add_all([booking, occurrence])
    db.session.flush()
    db.session.add_all(
        SpaceOccupancy(occurrence_id=occurrence.id, space_id=held.id, starts_at=slot.starts_at, ends_at=slot.ends_at)
        for held in space.self_and_descendants()
    )  # fmt: skip
    event = Event(
        title=PAST_EVENT_TITLE, description="The yearly refresher: what changed in safeguarding this year, and "
        "case studies from Wiltshire youth clubs.", event_type=EventType.TRAINING, audience="Youth club volunteers",
        organisation_id=org.id, created_by_id=by.id, status=EventStatus.PUBLISHED, places=20, places_held=0,
        location_kind=LocationKind.VENUE, space_id=space.id, town=space.venue.town, starts_at=slot.starts_at,
        ends_at=slot.ends_at, created_at=created, updated_at=created, published_at=created,
    )  # fmt: skip
    event.topic_rows = [EventTopic(topic=Topic.SAFEGUARDING)]
    event.sessions = [EventSession(starts_at=slot.starts_at, ends_at=slot.ends_at, booking=booking)]
    db.session.add(event)
    db.session.flush()
    yield f"event {PAST_EVENT_TITLE} (past)"
