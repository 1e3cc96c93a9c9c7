"""Finding spaces and showing when they are free: the public search, a space's week, and free/busy for the API.

What "busy" means: a space is held by its live occupancy rows (SpaceOccupancy exists only while an occurrence is
confirmed). A booking of a space writes rows on it and on every space inside it, so a space is busy when any
row on it or on a space inside it overlaps (a booked half makes the whole hall busy; a booked whole hall wrote
rows on the halves). Requested occurrences do not hold the slot: they show as "requested", never as busy.

The search asked about a time lists what the booking form would take then: whether a space is held, closed,
outside its opening hours or stopped by one of the venue's booking rules is decided in the SQL that selects and
pages the venues (`SlotCheck`, the booking service's one-off checks written as SQL), so the count and the pages
are of venues with a space free then. The spaces that are not free are listed only when asked for, with the
reason, computed by the same SQL.

Query counts are fixed whatever the amount of data or the number of results: every page loads its rows in a
handful of set-based queries (the search: the page of venues with its count, then every space on the page with
its features, state, closure, opening hours and requests aggregated), never one query per row. Overlap tests
are bounded on both sides of `starts_at` so they stay narrow scans of the (space_id, starts_at, ends_at) indexes
however many bookings a space has had.
"""

from __future__ import annotations

import enum
import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from threading import Lock
from time import monotonic
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session, aliased
from werkzeug.local import LocalProxy

from foundation.extensions import db
from foundation.members.models import Organisation
from foundation.types import LONDON, london_today, utcnow
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
    starts_at: sa.SQLColumnExpression[datetime],
    ends_at: sa.SQLColumnExpression[datetime],
    lo: datetime,
    hi: datetime,
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
    """Whether a space can be booked for the slot asked about; if not, the first reason, in the order
    `SlotCheck.refusals` lists them."""

    FREE = "free"
    BOOKED = "booked"
    CLOSED = "closed"  # closed that whole day: a closure, or no opening hours on that weekday
    OUTSIDE_HOURS = "outside_hours"
    SHORT_NOTICE = "short_notice"
    TOO_FAR_AHEAD = "too_far_ahead"
    TOO_LONG = "too_long"
    PAST = "past"

    @property
    def label(self) -> str:
        return _SLOT_LABELS[self]


_SLOT_LABELS = {
    SlotState.FREE: "Free",
    SlotState.BOOKED: "Booked",
    SlotState.CLOSED: "Closed that day",
    SlotState.OUTSIDE_HOURS: "Outside opening hours",
    SlotState.SHORT_NOTICE: "Too short notice",
    SlotState.TOO_FAR_AHEAD: "Too far ahead",
    SlotState.TOO_LONG: "Too long",
    SlotState.PAST: "In the past",
}


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
    # With a slot: list the matching spaces that cannot be booked then too, each with the reason.
    unavailable: bool = False

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
    detail: str = ""  # why it cannot be booked then: the closure, the opening hours that day, the rule
    pending_requests: int = 0  # requests (not holding the slot) that overlap it, on this or a related space
    part_of: str | None = None  # the name of the space it is part of

    @property
    def bookable(self) -> bool:
        """Offered for booking: no slot was asked about, or it is free then."""
        return self.state is None or self.state is SlotState.FREE

    @property
    def facilities_text(self) -> str:
        return ", ".join(f.label for f in self.facilities)

    @property
    def accessibility_text(self) -> str:
        return ", ".join(f.label for f in self.accessibility)


@dataclass
class VenueMatch:
    venue: Venue
    spaces: list[SpaceMatch]


@dataclass
class SearchResult:
    filters: SearchFilters
    venues: list[VenueMatch]
    # Venues over all pages with a space that matches every filter and, when a slot was asked about, is free
    # then (or, with `filters.unavailable`, whether free or not).
    total: int

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


def wall_clock_minutes(start: time, end: time) -> int:
    """A slot's length as booking.check_request measures it: wall-clock minutes, whatever the clocks do."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


@dataclass(frozen=True)
class SlotCheck:
    """What the booking service refuses for a one-off request of one slot, as SQL on `Space` and `Venue`, so a
    search selects and pages only the spaces the booking form would take.

    Each refusal is the SQL twin of a check in booking.py, fed with the values it uses, computed here as it
    computes them:
    - PAST: `_rule_problems`, the slot starts at or before now (then nothing else is said).
    - CLOSED: `closure_on`, a closure covering the day; or no opening hours that weekday.
    - OUTSIDE_HOURS: `is_within_opening_hours`, no opening period of that weekday holds start to end.
    - SHORT_NOTICE: `_rule_problems`, less than `min_notice_hours` from now to the start. With whole hours h,
      "start - now < h hours" is "floor((start - now) / 1 hour) < h", so SQL compares two integers.
    - TOO_FAR_AHEAD: `_rule_problems`, the day is after London's today plus `max_days_ahead` days.
    - TOO_LONG: `check_request`, more wall-clock minutes than `max_booking_minutes`.
    - BOOKED: `live_overlaps` on `occupied_space_ids`, a live hold overlapping the slot on the space or on any
      space inside it (a recursive CTE walks up from the holds at that time: `held`).
    Archived venues and spaces are never searched (`check_can_book`); the booker's organisation and attendance
    are not about the slot. tests/venues/test_search_rules.py holds search and booking to the same answer on a
    table of cases, boundaries included.
    """

    day: date
    start: time
    end: time
    interval: Interval
    past: bool
    notice_hours: int  # whole hours from now to the start (negative once it has begun)
    days_ahead: int  # days from London's today to the day
    minutes: int

    @classmethod
    def of(cls, day: date, start: time, end: time, now: datetime) -> SlotCheck:
        interval = local_interval(day, start, end)
        return cls(
            day=day,
            start=start,
            end=end,
            interval=interval,
            past=interval.starts_at <= now,
            notice_hours=(interval.starts_at - now) // timedelta(hours=1),
            days_ahead=(day - london_today(now)).days,
            minutes=wall_clock_minutes(start, end),
        )

    def held(self, venue_ids: sa.Select[tuple[int]] | Sequence[int]) -> sa.Select[tuple[int]]:
        """The ids of the spaces of these venues that a live hold overlapping the slot makes busy: each space a
        hold is on, and every space it is part of, however deep (archived ones too).

        A booking holds its space and every space inside it, so a space is busy exactly when a hold is on it or
        on a space inside it. Walking up from the holds at that time finds the same spaces as walking down from
        every space, and reads only those few holds (by the (space_id, starts_at) index) and their parents.
        """
        slot = self.interval
        part = aliased(Space)
        busy = (
            sa.select(SpaceOccupancy.space_id.label("space_id"))
            .join(Space, Space.id == SpaceOccupancy.space_id)
            .where(
                Space.venue_id.in_(venue_ids),
                *overlapping(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at, slot.starts_at, slot.ends_at),
            )
            .cte("busy", recursive=True)
        )
        # UNION, not UNION ALL: a space reached twice is not walked again, so even a loop in the data ends.
        busy = busy.union(
            sa.select(part.parent_id).where(part.id == busy.c.space_id, part.parent_id.is_not(None))
        )
        return sa.select(busy.c.space_id)

    def refusals(
        self, venue_ids: sa.Select[tuple[int]] | Sequence[int]
    ) -> list[tuple[SlotState, sa.ColumnElement[bool]]]:
        """Each reason the slot cannot be booked, as a condition on Space and Venue that is never NULL, in the
        order they are reported. Holds are looked up in `venue_ids`, which must take in the spaces asked about."""
        open_that_day = sa.select(OpeningHours.venue_id).where(OpeningHours.weekday == self.day.weekday())
        return [
            (SlotState.PAST, sa.true() if self.past else sa.false()),
            (
                SlotState.CLOSED,
                Venue.id.in_(
                    sa.select(Closure.venue_id).where(
                        Closure.starts_on <= self.day, Closure.ends_on >= self.day
                    )
                ),
            ),
            (SlotState.CLOSED, Venue.id.not_in(open_that_day)),
            (
                SlotState.OUTSIDE_HOURS,
                Venue.id.not_in(
                    open_that_day.where(OpeningHours.opens <= self.start, OpeningHours.closes >= self.end)
                ),
            ),
            (SlotState.SHORT_NOTICE, Venue.min_notice_hours > self.notice_hours),
            (SlotState.TOO_FAR_AHEAD, Venue.max_days_ahead < self.days_ahead),
            (SlotState.TOO_LONG, Venue.max_booking_minutes < self.minutes),
            (SlotState.BOOKED, Space.id.in_(self.held(venue_ids))),
        ]

    def bookable(self, venue_ids: sa.Select[tuple[int]] | Sequence[int]) -> list[sa.ColumnElement[bool]]:
        """Conditions that hold when none of the refusals does."""
        return [sa.not_(refused) for _, refused in self.refusals(venue_ids)]

    def state(self, venue_ids: sa.Select[tuple[int]] | Sequence[int]) -> sa.ColumnElement[str]:
        """The SlotState value of the space: the first refusal that holds, else free."""
        return sa.case(
            *((refused, state.value) for state, refused in self.refusals(venue_ids)),
            else_=SlotState.FREE.value,
        )


def _space_conditions(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [Space.archived_at.is_(None)]
    if filters.min_capacity is not None:
        conds.append(Space.capacity >= filters.min_capacity)
    # Every ticked feature: one EXISTS each, answered by the (space_id, feature) unique index.
    for feature in sorted(filters.features, key=lambda f: f.value):
        conds.append(sa.exists().where(SpaceFeature.space_id == Space.id, SpaceFeature.feature == feature))
    return conds


def _venue_own_conditions(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [Venue.archived_at.is_(None)]
    if filters.town:
        conds.append(sa.func.lower(Venue.town) == filters.town.strip().lower())
    return conds


def _venue_conditions(filters: SearchFilters, check: SlotCheck | None) -> list[sa.ColumnElement[bool]]:
    """A venue that is not archived, in the town, with a space that matches every filter and, when a slot is
    asked about (and unavailable spaces are not wanted), can be booked then."""
    space_conds = _space_conditions(filters)
    wanted = [Space.venue_id == Venue.id, *space_conds]
    if check is not None and not filters.unavailable:
        # Holds are looked up at the venues the town filter leaves.
        wanted += check.bookable(sa.select(Venue.id).where(*_venue_own_conditions(filters)))
    return [*_venue_own_conditions(filters), sa.exists().where(*wanted)]


class _TownsCache:
    """The towns list of one application, in this process (see `towns_with_venues`)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._version = 0
        self._entry: tuple[weakref.ref[Flask], int, float, list[str]] | None = None

    def get(self, app: Flask, now: float) -> tuple[list[str] | None, int]:
        """The kept list if it is this application's, current and not expired; and the version to store under."""
        with self._lock:
            if self._entry is not None:
                owner, version, expires, towns = self._entry
                if owner() is app and version == self._version and now < expires:
                    return towns, version
            return None, self._version

    def put(self, app: Flask, version: int, expires: float, towns: list[str]) -> None:
        with self._lock:
            if version == self._version:  # not forgotten while it was being read
                self._entry = (weakref.ref(app), version, expires, towns)

    def forget(self) -> None:
        with self._lock:
            self._version += 1
            self._entry = None


_towns = _TownsCache()
TOWNS_CACHE_SECONDS = 60.0


def towns_with_venues() -> list[str]:
    """Towns with a venue in the bank, for the town select on every search.

    Kept per process, as the venues change far less often than people search: `forget_towns` drops the list
    when this process lists, edits, archives or restores a venue (and again once that change commits, so a
    search reading in between keeps nothing old). Another web worker does not hear of the change: its list
    lives TOWNS_CACHE_SECONDS (60) at most, so a new town reaches every worker's select within a minute. The
    search itself always reads the venues afresh; only the choice of towns can lag. The list is kept for one
    application object, so a test's fresh app starts with none.
    """
    # Flask declares current_app as the Flask it stands for; it is the proxy, which hands over the object itself.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    now = monotonic()
    towns, version = _towns.get(app, now)
    if towns is None:
        towns = list(
            db.session.scalars(
                sa.select(Venue.town).where(Venue.archived_at.is_(None)).distinct().order_by(Venue.town)
            )
        )
        _towns.put(app, version, now + TOWNS_CACHE_SECONDS, towns)
    return list(towns)


def forget_towns() -> None:
    """A venue was listed, edited, archived or restored: the towns list is read again on the next search."""
    _towns.forget()
    sa.event.listen(db.session(), "after_commit", _forget_towns_on_commit, once=True)


def _forget_towns_on_commit(session: Session) -> None:  # noqa: ARG001
    _towns.forget()


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


def search_spaces(filters: SearchFilters, now: datetime | None = None) -> SearchResult:
    """Venues (a page of them, by name) with their spaces that match every filter. Archived venues and spaces
    never appear.

    With a slot (a day, a start and an end), a space is listed when the booking form would take a one-off
    request for it then (`SlotCheck`: not held, open, and within the venue's rules), and a venue when it has
    such a space; the total and the pages count those venues. With `filters.unavailable` the venues with any
    matching space are listed, and their spaces that cannot be booked then come after the free ones with
    their state and its reason. Free spaces mention the requests waiting for the venue that overlap the slot.

    Queries: the page of venues with the total count (every condition in it), then every space of those
    venues with its features and, with a slot, its state, the day's closure and opening hours and the
    overlapping requests. Two statements whatever the number of results (three past the last page).
    """
    now = now or utcnow()
    check: SlotCheck | None = None
    if filters.day is not None and filters.start is not None and filters.end is not None:
        if filters.end <= filters.start:
            raise ValueError("the slot must end after it starts")
        check = SlotCheck.of(filters.day, filters.start, filters.end, now)
    venue_conds = _venue_conditions(filters, check)
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
    venues = {row[0].id: row[0] for row in page_rows}
    by_venue = _page_spaces(filters, check, venues)
    return SearchResult(filters, [VenueMatch(v, by_venue[v.id]) for v in venues.values()], total)


_FEATURES_BY_VALUE = {f.value: f for f in Feature}


def _parse_features(values: str | None) -> set[Feature]:
    return {_FEATURES_BY_VALUE[v] for v in (values or "").split(",") if v in _FEATURES_BY_VALUE}


def _page_spaces(
    filters: SearchFilters, check: SlotCheck | None, venues: dict[int, Venue]
) -> dict[int, list[SpaceMatch]]:
    """The spaces to list for each venue of a page, in one query.

    Every space of these venues is read (archived ones too: a hold on an archived half still makes the hall
    busy, and requests on any related space compete), with whether it matches, its features and, with a slot,
    its state computed by the same SQL as the page's conditions.
    """
    in_page = Space.venue_id.in_(list(venues))
    matches = sa.type_coerce(sa.and_(*_space_conditions(filters)), sa.Boolean).label("matches")
    features = (
        sa.select(sa.func.aggregate_strings(SpaceFeature.feature, ","))
        .where(SpaceFeature.space_id == Space.id)
        .scalar_subquery()
        .label("features")
    )
    stmt = sa.select(Space, matches, features).where(in_page).order_by(Space.name, Space.id)
    if check is not None:
        slot = check.interval
        closure = (
            sa.select(Closure.reason)
            .where(
                Closure.venue_id == Space.venue_id,
                Closure.starts_on <= check.day,
                Closure.ends_on >= check.day,
            )
            .order_by(Closure.starts_on, Closure.id)
            .limit(1)
            .scalar_subquery()
        )
        period = sa.cast(OpeningHours.opens, sa.String) + "/" + sa.cast(OpeningHours.closes, sa.String)
        hours = (
            sa.select(sa.func.aggregate_strings(period, ","))
            .where(OpeningHours.venue_id == Space.venue_id, OpeningHours.weekday == check.day.weekday())
            .scalar_subquery()
        )
        requests = (
            sa.select(sa.func.aggregate_strings(sa.cast(Occurrence.id, sa.String), ","))
            .where(
                Occurrence.space_id == Space.id,
                Occurrence.status == OccurrenceStatus.REQUESTED,
                *overlapping(Occurrence.starts_at, Occurrence.ends_at, slot.starts_at, slot.ends_at),
            )
            .scalar_subquery()
        )
        stmt = stmt.join(Venue, Venue.id == Space.venue_id).add_columns(
            check.state(list(venues)).label("state"),
            closure.label("closure"),
            hours.label("hours"),
            requests.label("requests"),
        )
    rows = db.session.execute(stmt).all()

    tree = _Tree((row[0].id, row[0].parent_id, row[0].name) for row in rows)
    requested: dict[int, set[str]] = {}
    by_venue: dict[int, list[SpaceMatch]] = {vid: [] for vid in venues}
    for row in rows:
        space, matched, feature_values = row[0], row[1], row[2]
        if check is not None and row.requests:
            requested[space.id] = set(row.requests.split(","))
        if not matched:
            continue
        state = SlotState(row.state) if check is not None else None
        if state not in (None, SlotState.FREE) and not filters.unavailable:
            continue
        offered = _parse_features(feature_values)
        by_venue[space.venue_id].append(
            SpaceMatch(
                space,
                sorted_features(offered, FeatureGroup.FACILITY),
                sorted_features(offered, FeatureGroup.ACCESSIBILITY),
                state=state,
                detail=_state_detail(state, venues[space.venue_id], check, row) if check is not None else "",
                part_of=tree.names.get(space.parent_id) if space.parent_id else None,
            )
        )
    for matches_of_venue in by_venue.values():
        for match in matches_of_venue:
            if match.state is SlotState.FREE:
                competing: set[str] = set()
                for sid in tree.related(match.space.id):
                    competing |= requested.get(sid, set())
                match.pending_requests = len(competing)
        matches_of_venue.sort(key=lambda m: not m.bookable)  # stable: by name within the free, then the rest
    return by_venue


def _state_detail(state: SlotState | None, venue: Venue, check: SlotCheck, row: sa.Row[Any]) -> str:
    """Why a space cannot be booked for the slot, in a few words."""
    if state is SlotState.CLOSED:
        return (
            f"Closed: {row.closure}"
            if row.closure is not None
            else f"Closed on {WEEKDAY_NAMES[check.day.weekday()]}s"
        )
    if state is SlotState.OUTSIDE_HOURS:
        periods = sorted(_parse_period(p) for p in (row.hours or "").split(",") if p)
        return "Open " + ", ".join(f"{hhmm(o)}–{hhmm(c)}" for o, c in periods)
    if state is SlotState.SHORT_NOTICE:
        return f"Needs {_notice(venue.min_notice_hours)} notice"
    if state is SlotState.TOO_FAR_AHEAD:
        days = venue.max_days_ahead
        return f"Takes bookings up to {days} day{'' if days == 1 else 's'} ahead"
    if state is SlotState.TOO_LONG:
        return f"Longer than the {_duration(venue.max_booking_minutes)} allowed"
    return ""


def _parse_period(text: str) -> tuple[time, time]:
    opens, closes = text.split("/")
    return time.fromisoformat(opens), time.fromisoformat(closes)


def _notice(hours: int) -> str:
    """48 -> "2 days'", 24 -> "1 day's", 36 -> "36 hours'"."""
    if hours and hours % 24 == 0:
        days = hours // 24
        return "1 day's" if days == 1 else f"{days} days'"
    return "1 hour's" if hours == 1 else f"{hours} hours'"


def _duration(minutes: int) -> str:
    """480 -> "8 hours", 90 -> "1 hour 30 minutes", 45 -> "45 minutes"."""
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
    if mins:
        parts.append(f"{mins} minute{'' if mins == 1 else 's'}")
    return " ".join(parts)


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
    FREE = "free"  # open, not held, and still to come: the only kind the booking form is offered for
    PAST = "past"  # would have been free, but the time has gone (or started: see _past_until)
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
    past: bool = False  # over by now (a booking or closure kept for the record, greyed)

    @property
    def times(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"

    @property
    def start_text(self) -> str:
        return _clock(self.start)

    @property
    def end_text(self) -> str:
        return _clock(self.end)


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
    today: date  # in London, when the calendar was made

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def is_past(self) -> bool:
        """The whole week is over: nothing in it can be booked."""
        return self.week_end < self.today

    @property
    def is_current(self) -> bool:
        return self.week_start <= self.today <= self.week_end

    @property
    def first_day(self) -> int:
        """The day shown first where only one fits (phones): today in this week, otherwise Monday."""
        return (self.today - self.week_start).days if self.is_current else 0

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
    return _Tree(rows.tuples().all())


def _closures_between(venue_id: int, first: date, last: date) -> list[Closure]:
    return list(
        db.session.scalars(
            sa.select(Closure)
            .where(Closure.venue_id == venue_id, Closure.starts_on <= last, Closure.ends_on >= first)
            .order_by(Closure.starts_on, Closure.id)
        )
    )


def week_calendar(space: Space, week_start: date, viewer: Any, now: datetime | None = None) -> WeekCalendar:
    """Monday to Sunday (Europe/London) of the week containing `week_start`: opening hours, closures, bookings
    and requests. Titles only for viewers who may see them; everyone else sees "Booked".

    Time before `now` (default: the current time) is past: what would be free there shows as `PAST`, never as
    free, and bookings and closures that are over are marked `past`. So a `FREE` segment is always open, not
    held and still to come, and the grid offers the booking form for each hour of it (see `_grid_cells`)."""
    now = now or utcnow()
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
    rows, step = _build_grid(days, now.astimezone(LONDON))
    return WeekCalendar(space, venue, week_start, days, rows, step, titles_shown, london_today(now))


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


def _past_until(day: date, now: datetime, step: int) -> int:
    """Up to which minute of `day` the grid shows time as past, given `now` in London: all of an earlier day,
    none of a later one, and today up to now rounded up to the grid's step (a row that has started is past,
    so every free cell starts at a row line and no free cell holds time that has gone)."""
    if day < now.date():
        return DAY_MINUTES
    if day > now.date():
        return 0
    minutes = now.hour * 60 + now.minute + (1 if now.second or now.microsecond else 0)
    return min(DAY_MINUTES, -(-minutes // step) * step)


def _mark_past(segments: list[Segment], until: int) -> list[Segment]:
    """Free time before `until` becomes past; bookings and closures that are over are marked so."""
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= until:
            seg.past = True
            if seg.kind is SegmentKind.FREE:
                seg.kind, seg.label = SegmentKind.PAST, "Past"
        elif seg.start < until and seg.kind is SegmentKind.FREE:
            out.append(Segment(SegmentKind.PAST, seg.start, until, "Past", past=True))
            seg.start = until
        out.append(seg)
    return out


def _grid_cells(seg: Segment) -> list[Segment]:
    """What the grid shows of a segment: a free stretch as one cell per clock hour (the part of the hour that is
    free), so each cell can offer the booking form for that hour; anything else as one cell."""
    if seg.kind is not SegmentKind.FREE:
        return [seg]
    cells: list[Segment] = []
    start = seg.start
    while start < seg.end:
        end = min(seg.end, (start // 60 + 1) * 60)
        cells.append(Segment(SegmentKind.FREE, start, end, seg.label))
        start = end
    return cells


def _build_grid(days: list[CalendarDay], now: datetime) -> tuple[list[GridRow], int]:
    """Rows of `step` minutes from the first opening or booking of the week to the last, whole hours; each day's
    segments placed in the row where they start, spanning as many rows as they last. `now` (in London) splits
    past from free on a row line, so it never changes the step; free stretches are cut at each hour (hours
    are whole numbers of rows too)."""
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
    for day in days:
        day.segments = _mark_past(day.segments, _past_until(day.day, now, step))
    n_rows = (hi - lo) // step
    rows = [GridRow(lo + i * step, [None] * len(days)) for i in range(n_rows)]
    for col, day in enumerate(days):
        for seg in (cell for whole in day.segments for cell in _grid_cells(whole)):
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
