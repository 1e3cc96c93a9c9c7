"""Questions about time shared by booking and search: is the venue open, and which live holds overlap.

A booking of space S occupies S and every space inside it, so a request for S clashes with any live
occupancy row on those same spaces (a booking of a parent wrote rows on all of its descendants too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from foundation.extensions import db
from foundation.types import LONDON
from foundation.venues.models import Closure, OpeningHours, Space, SpaceOccupancy, Venue


@dataclass(frozen=True)
class Interval:
    starts_at: datetime  # aware UTC
    ends_at: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def local_interval(day: date, start: time, end: time) -> Interval:
    """A wall-clock slot in Europe/London as an aware UTC interval (18:00 stays 18:00 across clock changes)."""
    starts = datetime.combine(day, start, tzinfo=LONDON)
    ends = datetime.combine(day, end, tzinfo=LONDON)
    if ends <= starts:
        ends += timedelta(days=1)
    return Interval(starts.astimezone(UTC), ends.astimezone(UTC))


def occupied_space_ids(space: Space) -> list[int]:
    return [s.id for s in space.self_and_descendants()]


def live_overlaps(space_ids: Sequence[int], intervals: Iterable[Interval]) -> list[SpaceOccupancy]:
    """Live occupancy rows on these spaces that overlap any of the intervals, in time order."""
    intervals = list(intervals)
    if not intervals or not space_ids:
        return []
    lo = min(i.starts_at for i in intervals)
    hi = max(i.ends_at for i in intervals)
    rows = db.session.scalars(
        sa.select(SpaceOccupancy)
        .where(
            SpaceOccupancy.space_id.in_(space_ids),
            SpaceOccupancy.starts_at < hi,
            SpaceOccupancy.ends_at > lo,
        )
        .order_by(SpaceOccupancy.starts_at)
    ).all()
    return [r for r in rows if any(Interval(r.starts_at, r.ends_at).overlaps(i) for i in intervals)]


def opening_for(venue: Venue, day: date) -> list[tuple[time, time]]:
    return [(h.opens, h.closes) for h in venue.opening_hours if h.weekday == day.weekday()]


def is_within_opening_hours(venue: Venue, day: date, start: time, end: time) -> bool:
    return any(opens <= start and end <= closes for opens, closes in opening_for(venue, day))


def closure_on(venue: Venue, day: date) -> Closure | None:
    return next((c for c in venue.closures if c.starts_on <= day <= c.ends_on), None)


def opening_hours_by_weekday(venue_ids: Sequence[int]) -> dict[int, dict[int, list[tuple[time, time]]]]:
    """venue id -> weekday -> [(opens, closes)], loaded in one query for search pages."""
    out: dict[int, dict[int, list[tuple[time, time]]]] = {}
    if not venue_ids:
        return out
    for h in db.session.scalars(sa.select(OpeningHours).where(OpeningHours.venue_id.in_(venue_ids))):
        out.setdefault(h.venue_id, {}).setdefault(h.weekday, []).append((h.opens, h.closes))
    return out
