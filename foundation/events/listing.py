"""The public listing of events and the organiser's list of their own, each a page at a time in a fixed number
of queries (the page's events, then their organisers, topics and venues, each in one query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from foundation.events.models import Event, EventStatus, EventTopic, EventType, Topic
from foundation.extensions import db
from foundation.pagination import Page, paginate
from foundation.types import LONDON, utcnow
from foundation.venues.models import Space

PER_PAGE = 20
FEED_LIMIT = 500  # the feed's upcoming events, soonest first; far more than a term's programme


@dataclass(frozen=True)
class ListingFilters:
    event_type: EventType | None = None
    topic: Topic | None = None
    town: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    free_only: bool = False
    places_left: bool = False
    past: bool = False


def london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _with_cards(stmt: sa.Select[tuple[Event]]) -> sa.Select[tuple[Event]]:
    """What a card in the list shows, loaded for the whole page at once."""
    return stmt.options(
        selectinload(Event.organisation),
        selectinload(Event.topic_rows),
        selectinload(Event.space).selectinload(Space.venue),
    )


def listing(filters: ListingFilters, page: int = 1, now: datetime | None = None) -> Page[Event]:
    """Published events still to finish, soonest first; or, with `past`, those that have ended, latest first."""
    now = now or utcnow()
    stmt = sa.select(Event).where(Event.status == EventStatus.PUBLISHED)
    if filters.past:
        stmt = stmt.where(Event.ends_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        stmt = stmt.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)
    if filters.event_type is not None:
        stmt = stmt.where(Event.event_type == filters.event_type)
    if filters.topic is not None:
        stmt = stmt.where(
            sa.exists().where(EventTopic.event_id == Event.id, EventTopic.topic == filters.topic)
        )
    if filters.town:
        stmt = stmt.where(sa.func.lower(Event.town) == filters.town.strip().lower())
    if filters.date_from is not None:
        stmt = stmt.where(Event.ends_at > london_midnight(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(Event.starts_at < london_midnight(filters.date_to + timedelta(days=1)))
    if filters.free_only:
        stmt = stmt.where(Event.price_pence == 0)
    if filters.places_left:
        stmt = stmt.where(Event.places_held < Event.places)
    return paginate(_with_cards(stmt), page, PER_PAGE)


def listed_towns(now: datetime | None = None) -> list[str]:
    """The towns of published events still to come, for the town filter."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Event.town)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now, Event.town.is_not(None))
            .distinct()
            .order_by(Event.town)
        )
    )


def organisation_events(org_ids: Sequence[int], page: int = 1, all_events: bool = False) -> Page[Event]:
    """The events of these organisations (every event for staff with `all_events`), any status, latest first."""
    stmt = sa.select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    if not all_events:
        if not org_ids:
            return Page([], 1, PER_PAGE, 0)
        stmt = stmt.where(Event.organisation_id.in_(list(org_ids)))
    return paginate(_with_cards(stmt), page, PER_PAGE)


def feed_events(now: datetime | None = None, limit: int = FEED_LIMIT) -> list[Event]:
    """Published events still to finish, with their sessions and places, for the public calendar feed."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            _with_cards(
                sa.select(Event)
                .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
                .order_by(Event.starts_at, Event.id)
                .limit(limit)
            ).options(selectinload(Event.sessions))
        )
    )
