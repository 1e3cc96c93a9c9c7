"""Finding spaces and showing when they are free: the public search, a space's week, and free/busy for the API.

What "busy" means: a space is held by its live occupancy rows (SpaceOccupancy exists only while an occurrence is
confirmed). A booking of a space writes rows on it and on every space inside it, so a space is busy when any
row on it or on a space inside it overlaps (a booked half makes the whole hall busy; a booked whole hall wrote
rows on the halves). Requested occurrences do not hold the slot: they show as "requested", never as busy.

Query counts are fixed whatever the amount of data or the number of results: every page loads its rows in a
handful of set-based queries (the spaces of a page with their features aggregated; holds and requests together;
opening hours; closures: each one query for all the spaces on the page), never one query per row. Overlap
tests are bounded on both sides of `starts_at` so they stay narrow scans of the (space_id, starts_at, ends_at)
indexes however many bookings a space has had.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import Organisation
from foundation.types import LONDON
from foundation.venues.availability import Interval, local_interval, opening_hours_by_weekday
from foundation.venues.models import (
    Booking,
    Closure,
    Feature,
    FeatureGroup,
    Occurrence,
    OccurrenceStatus,
    OpeningHours,
    Space,
    SpaceFeature,
    SpaceOccupancy,
    Venue,
)

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_FREEBUSY_DAYS = 62
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_MINUTES = 24 * 60
# An occurrence lasts less than a day (one date, start before end: booking.check_request). Bounding the start
# from below too turns "overlaps" into a narrow range scan of the (space_id, starts_at, ends_at) indexes
# instead of reading every past booking of each space. Two days leaves room for clock changes and then some.
LONGEST_OCCURRENCE = timedelta(days=2)


def overlapping(
    starts_at: sa.ColumnElement[datetime], ends_at: sa.ColumnElement[datetime], lo: datetime, hi: datetime
) -> list[sa.ColumnElement[bool]]:
    """Rows whose [starts_at, ends_at) overlaps [lo, hi), in a form the time indexes answer quickly."""
    return [starts_at < hi, starts_at > lo - LONGEST_OCCURRENCE, ends_at > lo]


def hhmm(value: time) -> str:
    return f"{value:%H:%M}"


def sorted_features(features: Iterable[Feature], group: FeatureGroup) -> list[Feature]:
    order = list(Feature)
    return sorted((f for f in features if f.group is group), key=order.index)


# --- search ------------------------------------------------------------------------------------------------------


class SlotState(enum.Enum):
    """Whether a space can be had for the slot asked about."""

    FREE = "free"
    BOOKED = "booked"
    CLOSED = "closed"  # closed that whole day: a closure, or no opening hours on that weekday
    OUTSIDE_HOURS = "outside_hours"

    @property
    def label(self) -> str:
        return {
            SlotState.FREE: "Free",
            SlotState.BOOKED: "Booked",
            SlotState.CLOSED: "Closed that day",
            SlotState.OUTSIDE_HOURS: "Outside opening hours",
        }[self]


@dataclass(frozen=True)
class SearchFilters:
    town: str | None = None
    min_capacity: int | None = None
    features: frozenset[Feature] = frozenset()
    day: date | None = None
    start: time | None = None
    end: time | None = None
    page: int = 1
    per_page: int = PAGE_SIZE

    @property
    def has_slot(self) -> bool:
        return self.day is not None and self.start is not None and self.end is not None

    @property
    def slot(self) -> Interval | None:
        if self.day is None or self.start is None or self.end is None:
            return None
        return local_interval(self.day, self.start, self.end)


@dataclass
class SpaceMatch:
    space: Space
    facilities: list[Feature]
    accessibility: list[Feature]
    state: SlotState | None = None  # None when no slot was asked about
    detail: str = ""  # why it is closed, or the opening hours that day
    pending_requests: int = 0  # requests (not holding the slot) that overlap it, on this or a related space
    part_of: str | None = None  # the name of the space it is part of


@dataclass
class VenueMatch:
    venue: Venue
    spaces: list[SpaceMatch]


@dataclass
class SearchResult:
    filters: SearchFilters
    venues: list[VenueMatch]
    total: int  # matching venues, over all pages

    @property
    def page(self) -> int:
        return self.filters.page

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filters.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _space_conditions(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [Space.archived_at.is_(None)]
    if filters.min_capacity is not None:
        conds.append(Space.capacity >= filters.min_capacity)
    # Every ticked feature: one EXISTS each, answered by the (space_id, feature) unique index.
    for feature in sorted(filters.features, key=lambda f: f.value):
        conds.append(sa.exists().where(SpaceFeature.space_id == Space.id, SpaceFeature.feature == feature))
    return conds


def _venue_conditions(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [Venue.archived_at.is_(None)]
    if filters.town:
        conds.append(sa.func.lower(Venue.town) == filters.town.strip().lower())
    conds.append(sa.exists().where(Space.venue_id == Venue.id, *_space_conditions(filters)))
    return conds


def towns_with_venues() -> list[str]:
    """Towns with a venue in the bank, for the town select (a plain scan: there are a few thousand venues)."""
    return list(
        db.session.scalars(
            sa.select(Venue.town).where(Venue.archived_at.is_(None)).distinct().order_by(Venue.town)
        )
    )


class _Tree:
    """The spaces of some venues as a tree, to answer "what is inside" and "what is it part of" without queries."""

    def __init__(self, rows: Iterable[tuple[int, int | None, str]]) -> None:
        self.parent: dict[int, int | None] = {}
        self.children: dict[int, list[int]] = {}
        self.names: dict[int, str] = {}
        for space_id, parent_id, name in rows:
            self.parent[space_id] = parent_id
            self.names[space_id] = name
            if parent_id is not None:
                self.children.setdefault(parent_id, []).append(space_id)

    def subtree(self, space_id: int) -> list[int]:
        """The space and every space inside it: where a hold makes it busy."""
        out, stack, seen = [], [space_id], set()
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            out.append(sid)
            stack.extend(self.children.get(sid, []))
        return out

    def related(self, space_id: int) -> list[int]:
        """The subtree plus the spaces it is part of: requests on any of these compete for it."""
        out = self.subtree(space_id)
        parent = self.parent.get(space_id)
        while parent is not None and parent not in out:
            out.append(parent)
            parent = self.parent.get(parent)
        return out


def search_spaces(filters: SearchFilters) -> SearchResult:
    """Venues (a page of them, by name) with their spaces that match every filter, and each space's state for
    the slot if one was asked about. Archived venues and spaces never appear.

    Queries: the page of venues with the total count, their spaces with features, and with a slot: holds and
    requests, opening hours, closures. Never a query per venue or space.
    """
    venue_conds = _venue_conditions(filters)
    page_rows = db.session.execute(
        sa.select(Venue, sa.func.count().over().label("total"))
        .where(*venue_conds)
        .order_by(Venue.name, Venue.id)
        .limit(filters.per_page)
        .offset((filters.page - 1) * filters.per_page)
    ).all()
    if not page_rows:
        total = 0
        if filters.page > 1:  # past the last page: say how many there are
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Venue).where(*venue_conds)) or 0
        return SearchResult(filters, [], total)
    total = page_rows[0].total
    venues = [row[0] for row in page_rows]
    venue_ids = [v.id for v in venues]

    # Every space of these venues (archived ones too: a hold on an archived half still makes the hall busy),
    # with whether it matches and its features, so the tree, the matches and the features come in one query.
    matches = sa.type_coerce(sa.and_(*_space_conditions(filters)), sa.Boolean).label("matches")
    features = (
        sa.select(sa.func.aggregate_strings(SpaceFeature.feature, ","))
        .where(SpaceFeature.space_id == Space.id)
        .scalar_subquery()
        .label("features")
    )
    rows = db.session.execute(
        sa.select(Space, matches, features)
        .where(Space.venue_id.in_(venue_ids))
        .order_by(Space.name, Space.id)
    ).all()
    tree = _Tree((space.id, space.parent_id, space.name) for space, _, _ in rows)
    by_venue: dict[int, list[SpaceMatch]] = {vid: [] for vid in venue_ids}
    for space, matched, feature_values in rows:
        if not matched:
            continue
        offered = _parse_features(feature_values)
        by_venue[space.venue_id].append(
            SpaceMatch(
                space,
                sorted_features(offered, FeatureGroup.FACILITY),
                sorted_features(offered, FeatureGroup.ACCESSIBILITY),
                part_of=tree.names.get(space.parent_id) if space.parent_id else None,
            )
        )

    if filters.has_slot:
        _mark_slot(filters, venues, by_venue, tree)
    return SearchResult(filters, [VenueMatch(v, by_venue[v.id]) for v in venues], total)


_FEATURES_BY_VALUE = {f.value: f for f in Feature}


def _parse_features(values: str | None) -> set[Feature]:
    return {_FEATURES_BY_VALUE[v] for v in (values or "").split(",") if v in _FEATURES_BY_VALUE}


def _mark_slot(
    filters: SearchFilters, venues: Sequence[Venue], by_venue: dict[int, list[SpaceMatch]], tree: _Tree
) -> None:
    slot = filters.slot
    assert (
        slot is not None and filters.day is not None and filters.start is not None and filters.end is not None
    )
    day, start, end = filters.day, filters.start, filters.end
    venue_ids = [v.id for v in venues]
    all_ids = list(tree.parent)

    # Live holds and open requests overlapping the slot, in one round trip (both use their (space, time) index).
    holds = sa.select(
        sa.literal(Hold.BOOKED.value).label("kind"), SpaceOccupancy.space_id, SpaceOccupancy.occurrence_id
    ).where(
        SpaceOccupancy.space_id.in_(all_ids),
        *overlapping(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at, slot.starts_at, slot.ends_at),
    )
    requests = sa.select(sa.literal(Hold.REQUESTED.value), Occurrence.space_id, Occurrence.id).where(
        Occurrence.space_id.in_(all_ids),
        Occurrence.status == OccurrenceStatus.REQUESTED,
        *overlapping(Occurrence.starts_at, Occurrence.ends_at, slot.starts_at, slot.ends_at),
    )
    held: set[int] = set()
    requested: dict[int, set[int]] = {}
    for kind, space_id, occurrence_id in db.session.execute(sa.union_all(holds, requests)):
        if kind == Hold.BOOKED.value:
            held.add(space_id)
        else:
            requested.setdefault(space_id, set()).add(occurrence_id)
    hours: dict[int, list[tuple[time, time]]] = {}
    for venue_id, opens, closes in db.session.execute(
        sa.select(OpeningHours.venue_id, OpeningHours.opens, OpeningHours.closes).where(
            OpeningHours.venue_id.in_(venue_ids), OpeningHours.weekday == day.weekday()
        )
    ):
        hours.setdefault(venue_id, []).append((opens, closes))
    closures: dict[int, str] = {}
    for venue_id, reason in db.session.execute(
        sa.select(Closure.venue_id, Closure.reason)
        .where(Closure.venue_id.in_(venue_ids), Closure.starts_on <= day, Closure.ends_on >= day)
        .order_by(Closure.starts_on, Closure.id)
    ):
        closures.setdefault(venue_id, reason)

    weekday = WEEKDAY_NAMES[day.weekday()]
    for venue in venues:
        ranges = sorted(hours.get(venue.id, []))
        closure = closures.get(venue.id)
        for match in by_venue[venue.id]:
            if closure is not None:
                match.state, match.detail = SlotState.CLOSED, f"Closed: {closure}"
            elif not ranges:
                match.state, match.detail = SlotState.CLOSED, f"Closed on {weekday}s"
            elif not any(opens <= start and end <= closes for opens, closes in ranges):
                match.state = SlotState.OUTSIDE_HOURS
                match.detail = "Open " + ", ".join(f"{hhmm(o)}–{hhmm(c)}" for o, c in ranges)
            elif held.intersection(tree.subtree(match.space.id)):
                match.state = SlotState.BOOKED
            else:
                match.state = SlotState.FREE
            if match.state is SlotState.FREE:
                competing: set[int] = set()
                for sid in tree.related(match.space.id):
                    competing |= requested.get(sid, set())
                match.pending_requests = len(competing)


# --- who may see what a booking is for ---------------------------------------------------------------------------


def can_see_titles(viewer: Any, booking_org_id: int, owner_org_id: int) -> bool:
    """A booking's purpose is for the booking organisation's members, the venue owner's admins and staff."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return bool(
        viewer.is_staff
        or viewer.membership_of(booking_org_id) is not None
        or viewer.is_admin_of(owner_org_id)
    )


# --- a space's week ----------------------------------------------------------------------------------------------


class Hold(enum.Enum):
    BOOKED = "booked"
    REQUESTED = "requested"


@dataclass(frozen=True)
class Block:
    """A booking (confirmed) or request on this space, or on a space inside it or that it is part of."""

    occurrence_id: int
    kind: Hold
    starts_at: datetime  # aware UTC
    ends_at: datetime
    booking_id: int | None = None  # only for viewers who may see the booking
    title: str | None = None
    organisation_name: str | None = None
    other_space: str | None = None  # the space booked, when it is not this one

    @property
    def label(self) -> str:
        base = "Booked" if self.kind is Hold.BOOKED else "Requested, not confirmed"
        if self.other_space:
            base += f" ({self.other_space})"
        if self.title:
            base += f": {self.title}"
            if self.organisation_name:
                base += f", {self.organisation_name}"
        return base


class SegmentKind(enum.Enum):
    FREE = "free"
    BOOKED = "booked"
    REQUESTED = "requested"
    CLOSED = "closed"


@dataclass
class Segment:
    """A stretch of one day (local wall-clock minutes) in one state."""

    kind: SegmentKind
    start: int
    end: int
    label: str
    blocks: tuple[Block, ...] = ()
    rows: int = 1  # grid rows it spans

    @property
    def times(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


@dataclass
class CalendarDay:
    day: date
    opening: list[tuple[time, time]]
    closure: Closure | None
    blocks: list[Block]
    segments: list[Segment] = field(default_factory=list)

    @property
    def name(self) -> str:
        return WEEKDAY_NAMES[self.day.weekday()]

    @property
    def hours_text(self) -> str:
        if self.closure is not None:
            return f"Closed: {self.closure.reason}"
        if not self.opening:
            return "Closed"
        return ", ".join(f"{hhmm(o)}–{hhmm(c)}" for o, c in self.opening)


@dataclass
class GridRow:
    start: int
    cells: list[Segment | None]  # per day: the segment starting in this row, None where one above spans it

    @property
    def label(self) -> str:
        return _clock(self.start)

    @property
    def on_the_hour(self) -> bool:
        return self.start % 60 == 0


@dataclass
class WeekCalendar:
    space: Space
    venue: Venue
    week_start: date
    days: list[CalendarDay]
    rows: list[GridRow]
    step: int  # minutes per grid row
    titles_shown: bool  # whether the viewer saw the purpose of any booking

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def venue_tree(venue_id: int) -> _Tree:
    rows = db.session.execute(
        sa.select(Space.id, Space.parent_id, Space.name).where(Space.venue_id == venue_id)
    )
    return _Tree(rows.all())


def _closures_between(venue_id: int, first: date, last: date) -> list[Closure]:
    return list(
        db.session.scalars(
            sa.select(Closure)
            .where(Closure.venue_id == venue_id, Closure.starts_on <= last, Closure.ends_on >= first)
            .order_by(Closure.starts_on, Closure.id)
        )
    )


def week_calendar(space: Space, week_start: date, viewer: Any) -> WeekCalendar:
    """Monday to Sunday (Europe/London) of the week containing `week_start`: opening hours, closures, bookings
    and requests. Titles only for viewers who may see them; everyone else sees "Booked"."""
    week_start = monday_of(week_start)
    days_in_week = [week_start + timedelta(days=i) for i in range(7)]
    lo, hi = _london_midnight(week_start), _london_midnight(week_start + timedelta(days=7))
    venue = space.venue
    tree = venue_tree(venue.id)
    subtree = tree.subtree(space.id)
    related = tree.related(space.id)

    blocks: list[Block] = []
    seen: set[int] = set()
    titles_shown = False
    booking_cols = (
        Occurrence.id,
        Occurrence.starts_at,
        Occurrence.ends_at,
        Booking.id,
        Booking.purpose,
        Booking.organisation_id,
        Booking.space_id,
        Organisation.name,
    )
    live = (
        sa.select(*booking_cols)
        .select_from(SpaceOccupancy)
        .join(Occurrence, Occurrence.id == SpaceOccupancy.occurrence_id)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(Organisation, Organisation.id == Booking.organisation_id)
        .where(
            SpaceOccupancy.space_id.in_(subtree),
            *overlapping(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at, lo, hi),
        )
    )
    pending = (
        sa.select(*booking_cols)
        .select_from(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(Organisation, Organisation.id == Booking.organisation_id)
        .where(
            Occurrence.space_id.in_(related),
            Occurrence.status == OccurrenceStatus.REQUESTED,
            *overlapping(Occurrence.starts_at, Occurrence.ends_at, lo, hi),
        )
    )
    for kind, stmt in ((Hold.BOOKED, live), (Hold.REQUESTED, pending)):
        for (
            occ_id,
            starts_at,
            ends_at,
            booking_id,
            purpose,
            org_id,
            booked_space_id,
            org_name,
        ) in db.session.execute(stmt.order_by(Occurrence.starts_at, Occurrence.id)):
            if occ_id in seen:  # a booking of a hall holds each of its parts: one row per part
                continue
            seen.add(occ_id)
            visible = can_see_titles(viewer, org_id, venue.organisation_id)
            titles_shown = titles_shown or visible
            blocks.append(
                Block(
                    occurrence_id=occ_id,
                    kind=kind,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    booking_id=booking_id if visible else None,
                    title=purpose if visible else None,
                    organisation_name=org_name if visible else None,
                    other_space=tree.names.get(booked_space_id) if booked_space_id != space.id else None,
                )
            )

    hours = opening_hours_by_weekday([venue.id]).get(venue.id, {})
    closures = _closures_between(venue.id, days_in_week[0], days_in_week[-1])
    days = []
    for day in days_in_week:
        day_lo, day_hi = _london_midnight(day), _london_midnight(day + timedelta(days=1))
        days.append(
            CalendarDay(
                day=day,
                opening=sorted(hours.get(day.weekday(), [])),
                closure=next((c for c in closures if c.starts_on <= day <= c.ends_on), None),
                blocks=[b for b in blocks if b.starts_at < day_hi and b.ends_at > day_lo],
            )
        )
    rows, step = _build_grid(days)
    return WeekCalendar(space, venue, week_start, days, rows, step, titles_shown)


def _block_minutes(block: Block, day: date) -> tuple[int, int]:
    """A block's stretch of one local day, in wall-clock minutes (clipped at midnight)."""
    start = block.starts_at.astimezone(LONDON)
    end = block.ends_at.astimezone(LONDON)
    a = 0 if start.date() < day else _minutes(start.time())
    b = DAY_MINUTES if end.date() > day else _minutes(end.time())
    return a, max(a, b)


def _day_segments(day: CalendarDay, lo: int, hi: int) -> list[Segment]:
    opening = [(_minutes(o), _minutes(c)) for o, c in day.opening]
    spans = [(blk, *_block_minutes(blk, day.day)) for blk in day.blocks]
    cuts = {lo, hi}
    for a, b in opening:
        cuts.update((a, b))
    for _, a, b in spans:
        cuts.update((a, b))
    points = sorted(c for c in cuts if lo <= c <= hi)
    out: list[Segment] = []
    for a, b in zip(points, points[1:], strict=False):
        covering = tuple(blk for blk, x, y in spans if x < b and a < y)
        booked = tuple(blk for blk in covering if blk.kind is Hold.BOOKED)
        if booked:
            seg = Segment(SegmentKind.BOOKED, a, b, "; ".join(blk.label for blk in booked), booked)
        elif covering:
            seg = Segment(SegmentKind.REQUESTED, a, b, "; ".join(blk.label for blk in covering), covering)
        elif day.closure is not None:
            seg = Segment(SegmentKind.CLOSED, a, b, f"Closed: {day.closure.reason}")
        elif any(x <= a and b <= y for x, y in opening):
            seg = Segment(SegmentKind.FREE, a, b, "Free")
        else:
            seg = Segment(SegmentKind.CLOSED, a, b, "Closed")
        prev = out[-1] if out else None
        if prev and prev.kind is seg.kind and prev.label == seg.label and prev.blocks == seg.blocks:
            prev.end = b
        else:
            out.append(seg)
    return out


def _build_grid(days: list[CalendarDay]) -> tuple[list[GridRow], int]:
    """Rows of `step` minutes from the first opening or booking of the week to the last, whole hours; each day's
    segments placed in the row where they start, spanning as many rows as they last."""
    starts, ends = [], []
    for day in days:
        for o, c in day.opening:
            starts.append(_minutes(o))
            ends.append(_minutes(c) or DAY_MINUTES)
        for blk in day.blocks:
            a, b = _block_minutes(blk, day.day)
            starts.append(a)
            ends.append(b)
    lo = (min(starts) // 60) * 60 if starts else 9 * 60
    hi = min(DAY_MINUTES, -(-max(ends) // 60) * 60) if ends else 17 * 60
    if hi <= lo:
        hi = min(DAY_MINUTES, lo + 60)
    for day in days:
        day.segments = _day_segments(day, lo, hi)
    boundaries = {m for day in days for seg in day.segments for m in (seg.start, seg.end)}
    step = next((s for s in (60, 30, 15, 5) if all(m % s == 0 for m in boundaries)), 5)
    n_rows = (hi - lo) // step
    rows = [GridRow(lo + i * step, [None] * len(days)) for i in range(n_rows)]
    for col, day in enumerate(days):
        for seg in day.segments:
            first = round((seg.start - lo) / step)
            last = round((seg.end - lo) / step)
            if last <= first or first >= n_rows:
                continue  # shorter than a grid row once rounded: still listed in the day's text
            if rows[first].cells[col] is not None:
                continue
            seg.rows = min(last, n_rows) - first
            rows[first].cells[col] = seg
    return rows, step


# --- free/busy for the API ---------------------------------------------------------------------------------------


@dataclass
class DayHours:
    day: date
    opening: list[tuple[time, time]]
    closure: Closure | None


@dataclass
class FreeBusy:
    space: Space
    first: date
    last: date
    busy: list[Interval]  # merged, in time order
    days: list[DayHours]


def free_busy(space: Space, start: date, end: date) -> FreeBusy:
    """Busy intervals (live holds on the space or inside it, merged) from `start` to `end` inclusive, with each
    day's opening hours and closure. No titles: this is public."""
    if end < start:
        raise ValueError("end before start")
    lo, hi = _london_midnight(start), _london_midnight(end + timedelta(days=1))
    venue = space.venue
    subtree = venue_tree(venue.id).subtree(space.id)
    rows = db.session.execute(
        sa.select(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at)
        .where(
            SpaceOccupancy.space_id.in_(subtree),
            *overlapping(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at, lo, hi),
        )
        .order_by(SpaceOccupancy.starts_at)
    ).all()
    busy: list[Interval] = []
    for starts_at, ends_at in rows:
        if busy and starts_at <= busy[-1].ends_at:
            if ends_at > busy[-1].ends_at:
                busy[-1] = Interval(busy[-1].starts_at, ends_at)
        else:
            busy.append(Interval(starts_at, ends_at))
    hours = opening_hours_by_weekday([venue.id]).get(venue.id, {})
    closures = _closures_between(venue.id, start, end)
    days = []
    day = start
    while day <= end:
        days.append(
            DayHours(
                day,
                sorted(hours.get(day.weekday(), [])),
                next((c for c in closures if c.starts_on <= day <= c.ends_on), None),
            )
        )
        day += timedelta(days=1)
    return FreeBusy(space, start, end, busy, days)
