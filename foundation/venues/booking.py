"""Booking a space, and what every booking change shares.

Here: the request and its plan (every date checked against the venue's rules, live bookings and other groups'
requests), booking the chosen dates, the occurrence state machine and the holds that follow it, the space locks,
the clash error, who may act on a booking, the booker's lists, and the messages to the venue's admins and the
booker. The owner's request queue and decisions live in `approvals`, cancelling and extending a booking in
`cancellations`, the day-before reminders and the daily digest in `reminders`.

Every change of an occurrence's state goes through `apply_transition`, which follows OCCURRENCE_TRANSITIONS and
keeps the occupancy rows in step: a confirmed occurrence holds its space and every space inside it; leaving
CONFIRMED deletes those rows.

No double booking, on two levels:
- The friendly check: before writing, a change locks the rows of the spaces it will hold (ascending id, so two
  bookings never wait on each other in a cycle) and looks for live holds that overlap. Under that lock the check
  sees every booking committed before it, so the clash message is right almost always.
- The last word: on PostgreSQL the exclusion constraint `space_occupancy_no_overlap` refuses overlapping holds
  whatever path wrote them. A violation (SQLSTATE 23P01) rolls back to a savepoint and becomes the same 409
  with the clashing dates. On SQLite, which has no such constraint, the view starts the transaction with
  BEGIN IMMEDIATE (`begin_booking_transaction`), so the check and the write run under the database's single
  write lock and no other writer can slip in between.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from foundation.db_setup import begin_write_transaction
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import Membership, Organisation, Standing, User
from foundation.members.organisations import good_standing
from foundation.notifications.models import EmailStatus, NotificationKind
from foundation.notifications.services import notify
from foundation.pagination import Page, paginate_rows
from foundation.types import LONDON, london_today, utcnow
from foundation.venues import holidays as holiday_calendar
from foundation.venues.availability import (
    Interval,
    closure_on,
    is_within_opening_hours,
    live_overlaps,
    local_interval,
    occupied_space_ids,
    opening_for,
)
from foundation.venues.cost import booking_cost
from foundation.venues.models import (
    OCCURRENCE_TRANSITIONS,
    Booking,
    BookingAlertPreference,
    Holiday,
    HolidayKind,
    Occurrence,
    OccurrenceStatus,
    Recurrence,
    RequestAlerts,
    Space,
    SpaceOccupancy,
    Venue,
)

REQUESTED = OccurrenceStatus.REQUESTED
CONFIRMED = OccurrenceStatus.CONFIRMED
DECLINED = OccurrenceStatus.DECLINED
CANCELLED = OccurrenceStatus.CANCELLED
ACTIVE = (REQUESTED, CONFIRMED)

# A weekly booking is made at most this far at a time; it can be extended later.
MAX_SERIES_DAYS = 366
EXCLUSION_VIOLATION = "23P01"

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- transactions ------------------------------------------------------------------------------------------------


def begin_booking_transaction() -> None:
    """A booking change holds the write lock before its clash check reads (see begin_write_transaction)."""
    begin_write_transaction()


def lock_spaces(space: Space) -> None:
    """Lock the rows of the spaces a hold on `space` writes to, in ascending id order (no lock cycles).

    FOR NO KEY UPDATE rather than FOR UPDATE: inserting a row that merely references a space (an occurrence, a
    hold) takes a KEY SHARE lock, which this does not block. SQLite ignores the clause; there BEGIN IMMEDIATE
    already holds the write lock.
    """
    ids = sorted(occupied_space_ids(space))
    db.session.execute(
        sa.select(Space.id).where(Space.id.in_(ids)).order_by(Space.id).with_for_update(key_share=True)
    ).all()


def is_exclusion_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) == EXCLUSION_VIOLATION


# --- errors ------------------------------------------------------------------------------------------------------


def slot_label(starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(LONDON), ends_at.astimezone(LONDON)
    return f"{start:%a %-d %b %Y}, {start:%H:%M}–{end:%H:%M}"


class BookingClash(Conflict):
    """Some dates overlap live bookings. `dates` are the local dates of ours that clash."""

    def __init__(self, dates: Sequence[date], slots: Sequence[str], field: str | None = "dates") -> None:
        listed = "; ".join(slots)
        message = (
            f"Already booked at that time: {listed}. Untick "
            f"{'that date' if len(slots) == 1 else 'those dates'} or choose another time."
        )
        super().__init__(message, field=field)
        self.dates = sorted(set(dates))


class AlreadyBooked(Conflict):
    """The form was sent before and made `booking`: the repeat is answered with that booking, not a second one."""

    def __init__(self, booking: Booking) -> None:
        super().__init__("This booking form was already sent.")
        self.booking = booking


def clash_error(
    ours: Sequence[tuple[date, Interval]], holds: Sequence[SpaceOccupancy], field: str | None = "dates"
) -> BookingClash:
    clashing = [
        (day, slot)
        for day, slot in ours
        if any(slot.overlaps(Interval(h.starts_at, h.ends_at)) for h in holds)
    ]
    return BookingClash(
        [day for day, _ in clashing],
        [slot_label(slot.starts_at, slot.ends_at) for _, slot in clashing],
        field,
    )


# --- the request and its plan ------------------------------------------------------------------------------------


@dataclass
class BookingRequest:
    """What the booker asked for. `weekdays` empty means one-off on `first_date`."""

    space: Space
    organisation: Organisation
    booked_by: User
    purpose: str
    expected_attendance: int
    first_date: date
    start_time: time
    end_time: time
    weekdays: tuple[int, ...] = ()
    until: date | None = None
    weeks: int | None = None
    skip_school_holidays: bool = False
    skip_bank_holidays: bool = False
    # The booking form's one-time key; None when the request does not come from that form (an extension).
    submission_key: str | None = None

    @property
    def weekly(self) -> bool:
        return bool(self.weekdays)

    @property
    def last_date(self) -> date:
        """The series' last date: the last chosen weekday on or before the end asked for."""
        if not self.weekly:
            return self.first_date
        if self.weeks:
            end = self.first_date + timedelta(days=7 * self.weeks - 1)
        else:
            end = self.until or self.first_date
        dates = pattern_dates(self.first_date, end, self.weekdays)
        return dates[-1] if dates else end

    @property
    def skip_kinds(self) -> list[HolidayKind]:
        kinds = []
        if self.skip_school_holidays:
            kinds.append(HolidayKind.SCHOOL)
        if self.skip_bank_holidays:
            kinds.append(HolidayKind.BANK)
        return kinds


class DateState(enum.Enum):
    AVAILABLE = "available"
    CLASH = "clash"  # overlaps a live booking
    REFUSED = "refused"  # breaks a venue rule (closed, notice, too far ahead, ...)
    SKIPPED = "skipped"  # a holiday the booker asked to skip


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


@dataclass
class PlannedDate:
    day: date
    slot: Interval
    state: DateState = DateState.AVAILABLE
    problems: list[Problem] = field(default_factory=list)
    clashes: list[Interval] = field(default_factory=list)
    holiday: Holiday | None = None
    pending_requests: int = 0  # other groups' requests the owner has not decided yet

    @property
    def bookable(self) -> bool:
        return self.state is DateState.AVAILABLE

    @property
    def reasons(self) -> list[str]:
        out = [p.message for p in self.problems]
        if self.clashes:
            out.append("Already booked: " + ", ".join(_times(c) for c in self.clashes) + ".")
        if self.holiday is not None:
            out.append(f"Skipped: {self.holiday.name}.")
        return out


def _times(interval: Interval) -> str:
    return f"{interval.starts_at.astimezone(LONDON):%H:%M}–{interval.ends_at.astimezone(LONDON):%H:%M}"


@dataclass
class Plan:
    space: Space
    needs_approval: bool
    dates: list[PlannedDate]

    @property
    def bookable(self) -> list[PlannedDate]:
        return [d for d in self.dates if d.bookable]

    def get(self, day: date) -> PlannedDate | None:
        return next((d for d in self.dates if d.day == day), None)


def pattern_dates(first: date, last: date, weekdays: Iterable[int]) -> list[date]:
    days = set(weekdays)
    if not days:
        return [first]
    out, day = [], first
    while day <= last:
        if day.weekday() in days:
            out.append(day)
        day += timedelta(days=1)
    return out


def needs_approval(space: Space, org: Organisation) -> bool:
    # An owner booking its own space has nobody to ask.
    return space.needs_approval and org.id != space.venue.organisation_id


def check_can_book(space: Space, org: Organisation, user: User) -> Standing:
    """Refusals that do not depend on the dates asked for."""
    if space.venue.is_archived or space.archived_at is not None:
        raise DomainError(f"{space.venue.name}: {space.name} is no longer taking bookings.")
    if user.membership_of(org.id) is None:
        raise NotAllowed(f"You are not a member of {org.name}.", field="organisation_id")
    standing = good_standing(org)
    if not standing:
        raise NotAllowed(
            f"{org.name} cannot book venues until it is in good standing. " + " ".join(standing.reasons),
            field="organisation_id",
        )
    return standing


def check_request(req: BookingRequest) -> None:
    space, venue = req.space, req.space.venue
    check_can_book(space, req.organisation, req.booked_by)
    if not req.purpose.strip():
        raise DomainError("Say what the booking is for.", field="purpose")
    if req.expected_attendance < 1:
        raise DomainError("Expected attendance must be at least 1.", field="expected_attendance")
    if req.expected_attendance > space.capacity:
        raise DomainError(
            f"{space.name} holds up to {space.capacity} people; you expect {req.expected_attendance}.",
            field="expected_attendance",
        )
    if req.end_time <= req.start_time:
        raise DomainError("The end time must be after the start time.", field="end_time")
    minutes = (req.end_time.hour * 60 + req.end_time.minute) - (
        req.start_time.hour * 60 + req.start_time.minute
    )
    if minutes > venue.max_booking_minutes:
        raise DomainError(
            f"The longest single booking at {venue.name} is {_duration(venue.max_booking_minutes)}.",
            field="end_time",
        )
    if req.weekly:
        if req.weeks is None and req.until is None:
            raise DomainError("Say when the weekly booking ends: a date or a number of weeks.", field="until")
        if req.weeks is not None and req.weeks < 1:
            raise DomainError("Book for at least one week.", field="weeks")
        if req.last_date < req.first_date:
            raise DomainError("The end date must be on or after the first date.", field="until")
        if (req.last_date - req.first_date).days > MAX_SERIES_DAYS:
            raise DomainError(
                "A weekly booking can run for up to a year at a time. You can extend it later.",
                field="weeks" if req.weeks else "until",
            )
        if not pattern_dates(req.first_date, req.last_date, req.weekdays):
            raise DomainError("None of the chosen weekdays falls between those dates.", field="weekdays")


def _duration(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if mins:
        parts.append(f"{mins} minutes")
    return " ".join(parts) or "0 minutes"


def _rule_problems(
    venue: Venue, day: date, slot: Interval, req: BookingRequest, now: datetime
) -> list[Problem]:
    problems: list[Problem] = []
    if slot.starts_at <= now:
        return [Problem("first_date", "That time has passed.")]
    closure = closure_on(venue, day)
    if closure is not None:
        problems.append(
            Problem("first_date", f"{venue.name} is closed on {day:%-d %B %Y}: {closure.reason}.")
        )
    elif not is_within_opening_hours(venue, day, req.start_time, req.end_time):
        hours = opening_for(venue, day)
        weekday = WEEKDAY_NAMES[day.weekday()]
        if not hours:
            problems.append(Problem("first_date", f"{venue.name} is closed on {weekday}s."))
        else:
            ranges = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in hours)
            problems.append(Problem("start_time", f"Outside opening hours: open {ranges} on {weekday}s."))
    if slot.starts_at - now < timedelta(hours=venue.min_notice_hours):
        problems.append(
            Problem("first_date", f"{venue.name} needs at least {venue.min_notice_hours} hours' notice.")
        )
    latest = london_today(now) + timedelta(days=venue.max_days_ahead)
    if day > latest:
        problems.append(
            Problem(
                "first_date",
                f"{venue.name} takes bookings up to {venue.max_days_ahead} days ahead "
                f"(until {latest:%-d %B %Y}).",
            )
        )
    return problems


def plan_booking(req: BookingRequest, now: datetime | None = None, exclude: Iterable[date] = ()) -> Plan:
    """Every date the request covers, each with its state and reasons. Writes nothing. Raises for request rules."""
    now = now or utcnow()
    check_request(req)
    space, venue = req.space, req.space.venue
    excluded = set(exclude)
    days = [d for d in pattern_dates(req.first_date, req.last_date, req.weekdays) if d not in excluded]
    cal = holiday_calendar.holidays_between(req.first_date, req.last_date) if req.skip_kinds else None
    planned = [PlannedDate(day, local_interval(day, req.start_time, req.end_time)) for day in days]
    held_ids = occupied_space_ids(space)
    holds = live_overlaps(held_ids, [p.slot for p in planned])
    requests = pending_overlapping(space, [p.slot for p in planned], exclude_booking_id=None)
    for p in planned:
        if cal is not None:
            p.holiday = cal.holiday_on(p.day, req.skip_kinds)
            if p.holiday is not None:
                p.state = DateState.SKIPPED
                continue
        p.problems = _rule_problems(venue, p.day, p.slot, req, now)
        p.clashes = [
            Interval(h.starts_at, h.ends_at)
            for h in holds
            if p.slot.overlaps(Interval(h.starts_at, h.ends_at))
        ]
        p.clashes = sorted(set(p.clashes), key=lambda i: i.starts_at)
        p.pending_requests = sum(1 for o in requests if p.slot.overlaps(Interval(o.starts_at, o.ends_at)))
        if p.problems:
            p.state = DateState.REFUSED
        elif p.clashes:
            p.state = DateState.CLASH
    return Plan(space=space, needs_approval=needs_approval(space, req.organisation), dates=planned)


def _related_space_ids(space: Space) -> list[int]:
    """The space, the spaces inside it and the spaces it is part of: any two requests among these compete."""
    ids = occupied_space_ids(space)
    parent = space.parent
    while parent is not None:
        ids.append(parent.id)
        parent = parent.parent
    return ids


def pending_overlapping(
    space: Space, slots: Sequence[Interval], exclude_booking_id: int | None
) -> list[Occurrence]:
    if not slots:
        return []
    lo, hi = min(s.starts_at for s in slots), max(s.ends_at for s in slots)
    stmt = sa.select(Occurrence).where(
        Occurrence.space_id.in_(_related_space_ids(space)),
        Occurrence.status == REQUESTED,
        Occurrence.starts_at < hi,
        Occurrence.ends_at > lo,
    )
    if exclude_booking_id is not None:
        stmt = stmt.where(Occurrence.booking_id != exclude_booking_id)
    rows = db.session.scalars(stmt).all()
    return [o for o in rows if any(Interval(o.starts_at, o.ends_at).overlaps(s) for s in slots)]


def choose_dates(plan: Plan, dates: Iterable[date]) -> list[PlannedDate]:
    """The planned dates the booker kept, refused with a message at `dates` if any can no longer be booked."""
    chosen_days = sorted(set(dates))
    if not chosen_days:
        raise DomainError("Choose at least one date to book.", field="dates")
    chosen: list[PlannedDate] = []
    for day in chosen_days:
        planned = plan.get(day)
        if planned is None:
            raise DomainError(f"{day:%-d %B %Y} is not one of the dates of this booking.", field="dates")
        chosen.append(planned)
    skipped = [p for p in chosen if p.state is DateState.SKIPPED]
    if skipped:
        raise DomainError(
            "These dates are holidays you asked to skip: "
            + ", ".join(f"{p.day:%-d %b %Y}" for p in skipped)
            + ".",
            field="dates",
        )
    refused = [p for p in chosen if p.state is DateState.REFUSED]
    if refused:
        detail = "; ".join(f"{p.day:%-d %b %Y}: {' '.join(x.message for x in p.problems)}" for p in refused)
        raise DomainError(f"These dates cannot be booked. {detail}", field="dates")
    clashing = [p for p in chosen if p.state is DateState.CLASH]
    if clashing:
        raise BookingClash(
            [p.day for p in clashing], [slot_label(p.slot.starts_at, p.slot.ends_at) for p in clashing]
        )
    return chosen


# --- booking -----------------------------------------------------------------------------------------------------


def booking_with_key(submission_key: str | None) -> Booking | None:
    """The booking a form with this one-time key already made, if any."""
    if not submission_key:
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.submission_key == submission_key))


def book_space(req: BookingRequest, dates: Iterable[date], now: datetime | None = None) -> Booking:
    """Book the chosen dates of the request: confirmed at once, or requested when the space needs approval.

    Checks everything again under the space lock (the preview may be minutes old). Raises DomainError (422),
    NotAllowed (403) or BookingClash (409, with the clashing dates); writes nothing then. A form sent again
    (the same `submission_key`) raises AlreadyBooked with the booking it made the first time: nothing is
    booked or sent twice.
    """
    now = now or utcnow()
    check_request(req)
    lock_spaces(req.space)
    # Under the space lock: a repeat that waited for the first submission's commit sees its booking here.
    earlier = booking_with_key(req.submission_key)
    if earlier is not None:
        raise AlreadyBooked(earlier)
    plan = plan_booking(req, now)
    chosen = choose_dates(plan, dates)
    booking = Booking(
        space_id=req.space.id,
        organisation_id=req.organisation.id,
        booked_by_id=req.booked_by.id,
        purpose=req.purpose.strip(),
        expected_attendance=req.expected_attendance,
        recurrence=Recurrence.WEEKLY if req.weekly else Recurrence.ONE_OFF,
        weekdays=",".join(str(d) for d in sorted(set(req.weekdays))),
        first_date=req.first_date,
        last_date=req.last_date,
        start_time=req.start_time,
        end_time=req.end_time,
        skip_school_holidays=req.skip_school_holidays,
        skip_bank_holidays=req.skip_bank_holidays,
        uid=uuid.uuid4().hex,
        submission_key=req.submission_key or None,
        created_at=now,
    )
    _add_keyed(booking)
    place_dates(booking, req.space, chosen, plan.needs_approval, now)
    return booking


def _add_keyed(booking: Booking) -> None:
    """Write the booking; if another request with the same form key committed first, that one stands.

    The unique key is the last word: two submissions of one form on different spaces' locks, or on a database
    without them, still make one booking. The savepoint keeps the transaction usable for the friendly answer.
    """
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError:
        earlier = booking_with_key(booking.submission_key)
        if earlier is None:
            raise
        raise AlreadyBooked(earlier) from None


def place_dates(
    booking: Booking, space: Space, chosen: Sequence[PlannedDate], approval: bool, now: datetime
) -> list[Occurrence]:
    """Add the chosen dates to a booking, new or extended: confirmed and holding the space at once, or requested
    when the space needs approval. The venue's admins hear of them unless the booking is their own."""
    occurrences = [
        Occurrence(
            booking=booking,
            space_id=space.id,
            starts_at=p.slot.starts_at,
            ends_at=p.slot.ends_at,
            status=REQUESTED if approval else CONFIRMED,
            decided_at=None if approval else now,
        )
        for p in chosen
    ]
    db.session.add_all(occurrences)
    db.session.flush()
    if not approval:
        _write_holds(space, occurrences)
    if booking.organisation_id != space.venue.organisation_id:
        _tell_owner(booking, occurrences, requested=approval)
    return occurrences


def _write_holds(space: Space, occurrences: Sequence[Occurrence]) -> None:
    """Write the occupancy rows of newly confirmed occurrences; an exclusion violation becomes a BookingClash."""
    if not occurrences:
        return
    held = occupied_space_ids(space)
    try:
        with db.session.begin_nested():
            db.session.add_all(
                SpaceOccupancy(occurrence_id=o.id, space_id=sid, starts_at=o.starts_at, ends_at=o.ends_at)
                for o in occurrences
                for sid in held
            )
    except IntegrityError as exc:
        if not is_exclusion_violation(exc):
            raise
        # The savepoint is gone, the transaction lives on: the constraint waited for the other booking to
        # commit, so under READ COMMITTED this query sees the rows we clashed with.
        ours = [
            (o.starts_at.astimezone(LONDON).date(), Interval(o.starts_at, o.ends_at)) for o in occurrences
        ]
        holds = live_overlaps(held, [slot for _, slot in ours])
        raise clash_error(ours, holds) from None


def apply_transition(
    occurrences: Sequence[Occurrence],
    to: OccurrenceStatus,
    user: User | None,
    reason: str | None,
    now: datetime,
) -> None:
    """The one place an occurrence changes state. Illegal moves raise; holds follow the state."""
    for occ in occurrences:
        if to not in OCCURRENCE_TRANSITIONS[occ.status]:
            raise IllegalTransition(
                f"{slot_label(occ.starts_at, occ.ends_at)} is {occ.status.label.lower()}; "
                f"it cannot be {to.label.lower()} now."
            )
    leaving = [o.id for o in occurrences if o.status.is_live and not to.is_live]
    entering = [o for o in occurrences if not o.status.is_live and to.is_live]
    for occ in occurrences:
        occ.status = to
        occ.status_reason = reason
        occ.decided_by_id = user.id if user is not None else None
        occ.decided_at = now
    if leaving:
        db.session.execute(
            sa.delete(SpaceOccupancy)
            .where(SpaceOccupancy.occurrence_id.in_(leaving))
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    if entering:
        by_space: dict[int, list[Occurrence]] = {}
        for occ in entering:
            by_space.setdefault(occ.space_id, []).append(occ)
        for space_id, occs in by_space.items():
            space = db.session.get(Space, space_id)
            assert space is not None
            _write_holds(space, occs)


def fresh_occurrences(booking: Booking, ids: Iterable[int] | None = None) -> list[Occurrence]:
    """Re-read a booking's occurrences after taking the lock: another request may have changed them meanwhile."""
    stmt = (
        sa.select(Occurrence)
        .where(Occurrence.booking_id == booking.id)
        .order_by(Occurrence.starts_at)
        .execution_options(populate_existing=True)
    )
    if ids is not None:
        stmt = stmt.where(Occurrence.id.in_(list(ids)))
    return list(db.session.scalars(stmt))


# --- who may do what ---------------------------------------------------------------------------------------------


def is_booker_member(user: User, booking: Booking) -> bool:
    return bool(user.is_authenticated and user.membership_of(booking.organisation_id) is not None)


def is_owner_admin(user: User, booking: Booking) -> bool:
    return bool(user.is_authenticated and user.is_admin_of(booking.space.venue.organisation_id))


def can_view(user: User, booking: Booking) -> bool:
    if not user.is_authenticated:
        return False
    return (
        user.is_staff
        or is_booker_member(user, booking)
        or user.membership_of(booking.space.venue.organisation_id) is not None
    )


# --- the booker's lists ------------------------------------------------------------------------------------------


BOOKINGS_PAGE_SIZE = 25


@dataclass(frozen=True)
class BookingSummary:
    """A booking as a list shows it: how many of its dates are in each state, and whether any is still ahead."""

    booking: Booking
    counts: dict[OccurrenceStatus, int]
    next_start: datetime | None  # the next requested or confirmed date, if any is still to come

    @property
    def can_cancel(self) -> bool:
        return self.next_start is not None

    @property
    def tally(self) -> list[tuple[OccurrenceStatus, int]]:
        """Dates in each state that has any, in the order a booker reads them."""
        order = (CONFIRMED, REQUESTED, OccurrenceStatus.DECLINED, OccurrenceStatus.CANCELLED)
        return [(status, self.counts[status]) for status in order if self.counts.get(status)]


def booking_list(
    org_ids: Sequence[int],
    past: bool = False,
    page: int = 1,
    now: datetime | None = None,
    total: int | None = None,
) -> Page[BookingSummary]:
    """The organisations' bookings with a date still to come (soonest first), or with none (latest first), a
    page at a time; the dates are counted in SQL, never loaded. `total` is how many bookings the list has in
    all when the caller knows it already (`booking_list_totals` at the same `now`); otherwise it is counted.

    Only a booking whose last date has not passed can have a date to come (`_may_be_ahead`), so the next date is
    looked for among those alone: the bookings of years gone by are listed as past without a look at their
    dates. The page is chosen on the bookings alone, then its bookings are loaded with their spaces, venues and
    organisations.
    """
    now = now or utcnow()
    if not org_ids:
        return Page([], 1, BOOKINGS_PAGE_SIZE, 0)
    # (booking id, its next start): NULL in the past list, a time in the other; Select is invariant in its row.
    chosen: sa.Select[Any]
    if past:
        chosen = (
            sa.select(Booking.id, sa.null().label("next_start"))
            .where(Booking.organisation_id.in_(org_ids), sa.or_(~_may_be_ahead(now), ~_has_date_ahead(now)))
            .order_by(Booking.last_date.desc(), Booking.id.desc())
        )
    else:
        next_start = (
            sa.select(sa.func.min(Occurrence.starts_at))
            .where(Occurrence.booking_id == Booking.id, *_ahead(now))
            .correlate(Booking)
            .scalar_subquery()
        )
        chosen = (
            sa.select(Booking.id, next_start.label("next_start"))
            .where(Booking.organisation_id.in_(org_ids), _may_be_ahead(now), next_start.is_not(None))
            .order_by(next_start, Booking.id)
        )
    if total is None:
        rows = paginate_rows(chosen, page, BOOKINGS_PAGE_SIZE)
    else:
        page = min(max(1, page), max(1, math.ceil(total / BOOKINGS_PAGE_SIZE)))
        offset = (page - 1) * BOOKINGS_PAGE_SIZE
        rows = Page(
            list(db.session.execute(chosen.limit(BOOKINGS_PAGE_SIZE).offset(offset)).all()),
            page,
            BOOKINGS_PAGE_SIZE,
            total,
        )
    ids = [booking_id for booking_id, _ in rows.items]
    bookings: dict[int, Booking] = {}
    counts: dict[int, dict[OccurrenceStatus, int]] = {booking_id: {} for booking_id in ids}
    if ids:
        bookings = {
            b.id: b
            for b in db.session.scalars(
                sa.select(Booking)
                .where(Booking.id.in_(ids))
                .options(
                    joinedload(Booking.space).joinedload(Space.venue),
                    joinedload(Booking.organisation),
                )
            )
        }
        for booking_id, status, n in db.session.execute(
            sa.select(Occurrence.booking_id, Occurrence.status, sa.func.count())
            .where(Occurrence.booking_id.in_(ids))
            .group_by(Occurrence.booking_id, Occurrence.status)
        ):
            counts[booking_id][status] = n
    # A booking gone between the two reads is left out rather than failing the page.
    items = [
        BookingSummary(bookings[booking_id], counts[booking_id], nxt)
        for booking_id, nxt in rows.items
        if booking_id in bookings
    ]
    return Page(items, rows.page, rows.per_page, rows.total)


def booking_list_totals(org_ids: Sequence[int], now: datetime | None = None) -> tuple[int, int]:
    """How many of the organisations' bookings have a date still to come, and how many have none: one pass over
    the bookings, looking for a date to come only in those whose last date has not passed."""
    now = now or utcnow()
    if not org_ids:
        return 0, 0
    # CASE tries its conditions in order: the EXISTS runs for recent bookings only, once each.
    ahead = sa.case((~_may_be_ahead(now), 0), (_has_date_ahead(now), 1), else_=0)
    total, upcoming = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ahead), 0)).where(
            Booking.organisation_id.in_(org_ids)
        )
    ).one()
    return int(upcoming), int(total) - int(upcoming)


def _ahead(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """An occurrence still to come: requested or confirmed, starting after now."""
    return Occurrence.starts_at > now, Occurrence.status.in_([REQUESTED, CONFIRMED])


def _has_date_ahead(now: datetime) -> sa.Exists:
    return sa.exists().where(Occurrence.booking_id == Booking.id, *_ahead(now))


def _may_be_ahead(now: datetime) -> sa.ColumnElement[bool]:
    """Whether a booking's last date leaves room for a date still to come.

    Every date of a booking lies between its first and last dates (`last_date` is set when it is made and moved
    on when a series is extended), so a date after now is on or after today in London and its booking's last
    date is too. A day to spare, so the test can only ever let through more bookings than need looking at."""
    return Booking.last_date >= london_today(now) - timedelta(days=1)


def organisations_with_membership(user: User) -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id)
            .order_by(Organisation.name)
        )
    )


def pattern_summary(booking: Booking) -> str:
    times = f"{booking.start_time:%H:%M}–{booking.end_time:%H:%M}"
    if booking.recurrence is Recurrence.ONE_OFF:
        return f"{booking.first_date:%a %-d %b %Y}, {times}"
    days = booking.weekday_list
    names = [WEEKDAY_NAMES[d] + "s" for d in days]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed}, {times}, {booking.first_date:%-d %b %Y} to {booking.last_date:%-d %b %Y}"


# --- notifications -----------------------------------------------------------------------------------------------


def booker_recipients(booking: Booking) -> list[User]:
    """The person who booked, while they can still act for the organisation; otherwise its admins."""
    user = booking.booked_by
    if (
        user is not None
        and user.closed_at is None
        and user.membership_of(booking.organisation_id) is not None
    ):
        return [user]
    return booking.organisation.admins()


def request_alerts_for(user: User) -> RequestAlerts:
    pref = db.session.scalar(
        sa.select(BookingAlertPreference).where(BookingAlertPreference.user_id == user.id)
    )
    return pref.request_alerts if pref is not None else RequestAlerts.EACH


def set_request_alerts(user: User, choice: RequestAlerts) -> None:
    pref = db.session.scalar(
        sa.select(BookingAlertPreference).where(BookingAlertPreference.user_id == user.id)
    )
    if pref is None:
        db.session.add(BookingAlertPreference(user_id=user.id, request_alerts=choice))
    else:
        pref.request_alerts = choice


def dates_text(occurrences: Sequence[Occurrence]) -> list[str]:
    return [slot_label(o.starts_at, o.ends_at) for o in sorted(occurrences, key=lambda o: o.starts_at)]


def _tell_owner(booking: Booking, occurrences: Sequence[Occurrence], requested: bool) -> None:
    venue = booking.space.venue
    verb = "Booking request" if requested else "New booking"
    subject = f"{verb}: {booking.space.name}, {venue.name}, from {booking.organisation.name}"
    link = (
        url_for("venues.requests") if requested else url_for("venues.booking_detail", booking_id=booking.id)
    )
    for admin in venue.organisation.admins():
        n = notify(
            admin,
            NotificationKind.BOOKINGS,
            subject,
            "booking_request",
            link=link,
            booking=booking,
            venue=venue,
            requested=requested,
            dates=dates_text(occurrences),
            summary=pattern_summary(booking),
            cost=booking_cost(booking, occurrences),
        )
        if request_alerts_for(admin) is RequestAlerts.DAILY_DIGEST:
            # In the inbox now; by email only in the daily digest. Changed before the row is flushed, so the
            # outbox never hands it to delivery.
            n.email_status = EmailStatus.NOT_REQUESTED
            n.next_attempt_at = None


def tell_booker(
    booking: Booking, occurrences: Sequence[Occurrence], what: str, reason: str | None = None
) -> None:
    venue = booking.space.venue
    subjects = {
        "approved": f"Booking approved: {booking.space.name}, {venue.name}",
        "declined": f"Booking declined: {booking.space.name}, {venue.name}",
        "cancelled": f"Booking cancelled by {venue.organisation.name}: {booking.space.name}, {venue.name}",
    }
    for user in booker_recipients(booking):
        notify(
            user,
            NotificationKind.BOOKINGS,
            subjects[what],
            f"booking_{what}",
            link=url_for("venues.booking_detail", booking_id=booking.id),
            booking=booking,
            venue=venue,
            dates=dates_text(occurrences),
            cost=booking_cost(booking, occurrences),
            reason=reason,
            by_owner=True,
        )
