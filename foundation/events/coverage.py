"""Training records: the training each person and each organisation's people attended, and the Foundation's view
of training coverage by town and topic.

Training counts when the event is a training event that was not cancelled and the organiser marked the person as
attending. A person's town is their organisation's town (the one the entry was made for). Coverage counts people,
not places: someone at two first-aid courses in a year is one first-aid trained person. Every figure is summed in
SQL, in a fixed number of queries whatever the number of towns, events or people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from foundation.events.models import (
    Event,
    EventSession,
    EventStatus,
    EventTopic,
    EventType,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    Topic,
)
from foundation.extensions import db
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.pagination import Page, paginate
from foundation.towns import TOWNS
from foundation.types import LONDON, london_today

FIRST_YEAR = 2000


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The calendar year in London, as UTC instants (an event counts in the year its first session starts)."""
    return (
        datetime(year, 1, 1, tzinfo=LONDON),
        datetime(year + 1, 1, 1, tzinfo=LONDON),
    )


def last_year_offered(today: date | None = None) -> int:
    return (today or london_today()).year + 1


def _trained() -> list[sa.ColumnElement[bool]]:
    """The conditions for a place that counts as training attended."""
    return [
        Event.event_type == EventType.TRAINING,
        Event.status != EventStatus.CANCELLED,
        RegistrationPlace.live.is_(True),
        RegistrationPlace.attended.is_(True),
        Registration.status == RegistrationStatus.ATTENDED,
    ]


# --- a person's and an organisation's training ---------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRow:
    place: RegistrationPlace
    event: Event
    hours: float


def _training_page(where: Iterable[sa.ColumnElement[bool]], page: int) -> Page[TrainingRow]:
    stmt = (
        sa.select(RegistrationPlace)
        .join(RegistrationPlace.registration)
        .join(Registration.event)
        .join(RegistrationPlace.user)
        .where(*_trained(), *where)
        .options(
            contains_eager(RegistrationPlace.registration).contains_eager(Registration.event),
            contains_eager(RegistrationPlace.user),
        )
        .order_by(Event.starts_at.desc(), sa.func.lower(User.name), RegistrationPlace.id)
    )
    found = paginate(stmt, page)
    hours = event_hours({p.event_id for p in found.items})
    rows = [TrainingRow(p, p.registration.event, hours.get(p.event_id, 0.0)) for p in found.items]
    return Page(rows, found.page, found.per_page, found.total)


def event_hours(event_ids: Iterable[int]) -> dict[int, float]:
    """Each event's hours (the sum of its sessions' lengths), for many events in one query."""
    ids = list(event_ids)
    if not ids:
        return {}
    hours: dict[int, float] = defaultdict(float)
    for event_id, starts, ends in db.session.execute(
        sa.select(EventSession.event_id, EventSession.starts_at, EventSession.ends_at).where(
            EventSession.event_id.in_(ids)
        )
    ):
        hours[event_id] += (ends - starts).total_seconds() / 3600
    return dict(hours)


def organisation_training(org: Organisation, page: int) -> Page[TrainingRow]:
    """The training the organisation's people attended (entries made for the organisation), newest first."""
    return _training_page([Registration.organisation_id == org.id], page)


def my_training(user: User, page: int) -> Page[TrainingRow]:
    """The training the person attended, newest first."""
    return _training_page([RegistrationPlace.user_id == user.id], page)


# --- coverage by town and topic ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TownCoverage:
    town: str
    by_topic: dict[Topic, int]  # people trained in each topic (every topic present)
    people: int  # people trained in anything

    @property
    def no_first_aid(self) -> bool:
        return self.by_topic[Topic.FIRST_AID] == 0


@dataclass(frozen=True)
class Coverage:
    year: int
    topics: list[Topic]
    towns: list[TownCoverage]
    by_topic: dict[Topic, int]  # people trained in each topic, anywhere
    people: int  # people trained in anything, anywhere

    @property
    def first_aid(self) -> int:
        return self.by_topic[Topic.FIRST_AID]

    @property
    def towns_without_first_aid(self) -> list[str]:
        return [t.town for t in self.towns if t.no_first_aid]


def _town_key(column: Any) -> sa.ColumnElement[str]:
    """Towns typed by people ("chippenham ", "Chippenham") as one."""
    return sa.func.lower(sa.func.trim(column))


def coverage(year: int) -> Coverage:
    """People trained in `year` by town and topic: TOWNS and every member organisation's town are rows."""
    start, end = year_bounds(year)
    town = _town_key(Organisation.town)
    person = sa.func.count(sa.distinct(RegistrationPlace.user_id))

    def trained(*columns: Any) -> sa.Select[Any]:
        return (
            sa.select(*columns)
            .select_from(RegistrationPlace)
            .join(Registration, Registration.id == RegistrationPlace.registration_id)
            .join(Event, Event.id == Registration.event_id)
            .join(Organisation, Organisation.id == Registration.organisation_id)
            .where(*_trained(), Event.starts_at >= start, Event.starts_at < end)
        )

    by_town_topic = db.session.execute(
        trained(town, EventTopic.topic, person)
        .join(EventTopic, EventTopic.event_id == Event.id)
        .group_by(town, EventTopic.topic)
    ).all()
    by_town = db.session.execute(trained(town, person).group_by(town)).all()
    by_topic = db.session.execute(
        trained(EventTopic.topic, person)
        .join(EventTopic, EventTopic.event_id == Event.id)
        .group_by(EventTopic.topic)
    ).all()
    people = db.session.scalar(trained(person)) or 0
    # Member organisations' towns, and the spelling people used, for towns not in TOWNS.
    member_towns = db.session.execute(
        sa.select(town, sa.func.min(sa.func.trim(Organisation.town)))
        .where(Organisation.status == OrganisationStatus.APPROVED)
        .group_by(town)
    ).all()

    names = {name.lower(): name for name in TOWNS}
    for key, spelt in member_towns:
        names.setdefault(key, spelt)
    for key, _n in by_town:
        names.setdefault(key, key.title())
    topics = list(Topic)
    cells: dict[str, dict[Topic, int]] = {key: dict.fromkeys(topics, 0) for key in names}
    for key, topic, n in by_town_topic:
        cells[key][topic] = int(n)
    totals = {key: int(n) for key, n in by_town}
    towns = [
        TownCoverage(names[key], cells[key], totals.get(key, 0))
        for key in sorted(names, key=lambda k: names[k].lower())
        if key  # an empty town names nowhere
    ]
    topic_totals = dict.fromkeys(topics, 0)
    for topic, n in by_topic:
        topic_totals[topic] = int(n)
    return Coverage(year, topics, towns, topic_totals, int(people))
