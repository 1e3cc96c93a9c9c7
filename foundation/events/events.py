"""Listing events: creating and editing them with their sessions, publishing and cancelling them.

Who: foundation staff, in the name of any organisation in good standing, and the admins of an organisation in
good standing, in its name (`can_create`, `organising_organisations`). The organiser organisation's admins and
staff manage an event (`can_manage`).

Where: at a Venue Bank space each session is a one-off booking of that space, made through the Venue Bank's own
booking service (`foundation.venues.booking.book_space`) in the organiser organisation's name, confirmed or
requested as the space's own approval rules say. A clash is refused with its dates and, like every other refusal
here, leaves nothing written: the view rolls the one transaction back. Editing the sessions cancels the bookings
of the sessions that went and books the new ones; cancelling the event cancels every booking still to come.

The status moves DRAFT -> PUBLISHED -> CANCELLED (a draft may be cancelled too) in `_set_status`, the one place
it changes. Changes people registered would notice (dates, place, link) are passed on to them through the
registration service; places raised are offered to the waiting list there too; everything under the event's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.events import registrations, steps
from foundation.events.models import (
    MAX_PLACES,
    MAX_PRICE_PENCE,
    Event,
    EventSession,
    EventStatus,
    EventTopic,
    EventType,
    LocationKind,
    Topic,
)
from foundation.extensions import db
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.members.organisations import good_standing
from foundation.types import LONDON, utcnow
from foundation.venues.booking import (
    ACTIVE,
    BookingClash,
    BookingRequest,
    begin_booking_transaction,
    book_space,
    slot_label,
)
from foundation.venues.cancellations import CancelScope, cancel
from foundation.venues.models import Booking, Space
from foundation.web import external_url

MAX_SESSIONS = 8
MAX_OFFER_HOURS = 14 * 24
MAX_CUTOFF_HOURS = 28 * 24
MAX_AHEAD = timedelta(days=3 * 365)
MAX_SESSION_LENGTH = timedelta(hours=24)

STATUS_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.DRAFT: frozenset({EventStatus.PUBLISHED, EventStatus.CANCELLED}),
    EventStatus.PUBLISHED: frozenset({EventStatus.CANCELLED}),
    EventStatus.CANCELLED: frozenset(),
}


# --- who may do what ---------------------------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_manage(user: User, event: Event) -> bool:
    """Staff, or an admin of the organiser organisation."""
    return bool(user.is_authenticated and (user.is_staff or user.is_admin_of(event.organisation_id)))


def can_see(user: User, event: Event) -> bool:
    """A draft is its managers' alone; published and cancelled events are public."""
    return event.status is not EventStatus.DRAFT or can_manage(user, event)


def organising_organisations(user: User) -> list[Organisation]:
    """The organisations in good standing the person may list events for: any such organisation for staff, the
    ones they are an admin of otherwise."""
    if not user.is_authenticated:
        return []
    stmt = (
        sa.select(Organisation)
        .where(Organisation.status == OrganisationStatus.APPROVED)
        .options(selectinload(Organisation.documents))
        .order_by(sa.func.lower(Organisation.name), Organisation.id)
    )
    if not user.is_staff:
        admin_of = [m.organisation_id for m in user.memberships if user.is_admin_of(m.organisation_id)]
        if not admin_of:
            return []
        stmt = stmt.where(Organisation.id.in_(admin_of))
    return [org for org in db.session.scalars(stmt) if good_standing(org)]


def can_create(user: User) -> bool:
    return bool(organising_organisations(user))


def event_url(event: Event) -> str:
    """The event's page, on the site's public address."""
    return external_url("events.event_page", event_id=event.id)


# --- what the organiser gives ------------------------------------------------------------------------------------


@dataclass
class EventDetails:
    """An event as the organiser describes it. Session times are aware datetimes (the form reads them in
    Europe/London), in the order the form gave them: refusals name the session by its place there."""

    title: str
    event_type: EventType
    topics: list[Topic]
    places: int
    location_kind: LocationKind
    sessions: list[tuple[datetime, datetime]]
    description: str = ""
    audience: str = ""
    per_organisation_limit: int | None = None
    price_pence: int = 0
    requires_approval: bool = False
    offer_hours: int = 48
    cancel_cutoff_hours: int = 48
    space: Space | None = None
    online_link: str | None = None
    address: str | None = None
    town: str | None = None
    # The form's position of each session (1-based), for messages at the right field; defaults to 1, 2, ...
    positions: list[int] = field(default_factory=list)

    def position(self, index: int) -> int:
        return self.positions[index] if index < len(self.positions) else index + 1


def session_field(position: int, part: str) -> str:
    """The form field of a session's part ("date", "start", "end")."""
    return f"session_{position}_{part}"


def _check(details: EventDetails, now: datetime, event: Event | None) -> None:
    """Every rule that needs no lock; raises at the field at fault."""
    if not details.title.strip():
        raise DomainError("Enter a title.", field="title")
    if len(details.title.strip()) > 200:
        raise DomainError("A title is at most 200 characters.", field="title")
    if not details.topics:
        raise DomainError("Choose at least one topic.", field="topics")
    if not 1 <= details.places <= MAX_PLACES:
        raise DomainError(f"Places must be between 1 and {MAX_PLACES}.", field="places")
    limit = details.per_organisation_limit
    if limit is not None and not 1 <= limit <= details.places:
        raise DomainError(
            f"The limit per organisation must be between 1 and the number of places ({details.places}).",
            field="per_organisation_limit",
        )
    if not 0 <= details.price_pence <= MAX_PRICE_PENCE:
        raise DomainError(
            f"The price must be between £0 (free) and £{MAX_PRICE_PENCE // 100:,}.", field="price"
        )
    if not 1 <= details.offer_hours <= MAX_OFFER_HOURS:
        raise DomainError(f"An offer lasts between 1 and {MAX_OFFER_HOURS} hours.", field="offer_hours")
    if not 0 <= details.cancel_cutoff_hours <= MAX_CUTOFF_HOURS:
        raise DomainError(
            f"The cancellation cut-off is between 0 and {MAX_CUTOFF_HOURS} hours before the start.",
            field="cancel_cutoff_hours",
        )
    _check_place(details)
    _check_sessions(details, now, event)


def _check_place(details: EventDetails) -> None:
    kind = details.location_kind
    if kind is LocationKind.VENUE:
        if details.space is None:
            raise DomainError("Choose a Venue Bank space.", field="space_id")
    elif kind is LocationKind.ONLINE:
        link = (details.online_link or "").strip()
        if not link:
            raise DomainError("Enter the link people join with.", field="online_link")
        parts = urlsplit(link)
        if parts.scheme != "https" or not parts.netloc or " " in link:
            raise DomainError(
                "Enter a full https link, e.g. https://meet.example.org/abc.", field="online_link"
            )
        if len(link) > 500:
            raise DomainError("A link is at most 500 characters.", field="online_link")
    else:
        if not (details.address or "").strip():
            raise DomainError("Enter the address.", field="address")
        if not (details.town or "").strip():
            raise DomainError("Enter the town, for the listing.", field="town")


def _check_sessions(details: EventDetails, now: datetime, event: Event | None) -> None:
    sessions = details.sessions
    if not sessions:
        raise DomainError(
            "Give at least one session: its date, start and end.", field=session_field(1, "date")
        )
    if len(sessions) > MAX_SESSIONS:
        raise DomainError(f"An event has at most {MAX_SESSIONS} sessions.", field=session_field(1, "date"))
    # An event under way keeps the sessions already held: only new or changed ones must be in the future.
    kept = {(s.starts_at, s.ends_at) for s in event.sessions} if event is not None else set()
    for i, (starts_at, ends_at) in enumerate(sessions):
        pos = details.position(i)
        if ends_at <= starts_at:
            raise DomainError("The end must be after the start.", field=session_field(pos, "end"))
        if starts_at <= now and (starts_at, ends_at) not in kept:
            raise DomainError(
                "That time has passed: choose a date in the future.", field=session_field(pos, "date")
            )
        if starts_at > now + MAX_AHEAD:
            raise DomainError(
                f"Events are listed up to {MAX_AHEAD.days // 365} years ahead.",
                field=session_field(pos, "date"),
            )
        if ends_at - starts_at > MAX_SESSION_LENGTH:
            raise DomainError(
                "A session lasts at most a day: give a course a session for each day.",
                field=session_field(pos, "end"),
            )
    order = sorted(range(len(sessions)), key=lambda i: sessions[i][0])
    for a, b in zip(order, order[1:], strict=False):
        if sessions[b][0] < sessions[a][1]:
            raise DomainError(
                f"This session overlaps session {details.position(a)} ({slot_label(*sessions[a])}).",
                field=session_field(details.position(b), "date"),
            )


# --- creating and editing ----------------------------------------------------------------------------------------


def create_event(
    details: EventDetails, organisation: Organisation, by: User, now: datetime | None = None
) -> Event:
    """A draft event with its sessions, each booked at the Venue Bank space if it is at one. Writes nothing on
    refusal (the caller rolls back)."""
    now = now or utcnow()
    if details.location_kind is LocationKind.VENUE:
        # The booking's clash check and its write run under the write lock (SQLite; PostgreSQL locks the spaces).
        begin_booking_transaction()
    if organisation.id not in {o.id for o in organising_organisations(by)}:
        raise NotAllowed(
            "You can list events for an organisation in good standing that you are an admin of.",
            field="organisation_id",
        )
    _check(details, now, None)
    event = Event(
        organisation_id=organisation.id,
        created_by_id=by.id,
        status=EventStatus.DRAFT,
        places_held=0,
        created_at=now,
    )
    _apply(event, details, now)
    event.organisation = organisation
    db.session.add(event)
    db.session.flush()
    for starts_at, ends_at in sorted(details.sessions):
        event.sessions.append(EventSession(starts_at=starts_at, ends_at=ends_at))
    db.session.flush()
    if details.location_kind is LocationKind.VENUE:
        _book_sessions(event, event.sessions, details, by, now)
    return event


def _apply(event: Event, details: EventDetails, now: datetime) -> None:
    """Copy the details that need no booking onto the event, with its place and times kept in step."""
    event.title = details.title.strip()
    event.description = details.description.strip()
    event.event_type = details.event_type
    event.audience = details.audience.strip()
    event.places = details.places
    event.per_organisation_limit = details.per_organisation_limit
    event.price_pence = details.price_pence
    event.requires_approval = details.requires_approval
    event.offer_hours = details.offer_hours
    event.cancel_cutoff_hours = details.cancel_cutoff_hours
    event.location_kind = details.location_kind
    space = details.space if details.location_kind is LocationKind.VENUE else None
    event.space_id = space.id if space is not None else None
    event.space = space
    event.online_link = (
        details.online_link.strip()
        if details.location_kind is LocationKind.ONLINE and details.online_link
        else None
    )
    event.address = (
        details.address.strip() if details.location_kind is LocationKind.ADDRESS and details.address else None
    )
    if space is not None:
        event.town = space.venue.town
    elif details.location_kind is LocationKind.ADDRESS:
        event.town = (details.town or "").strip() or None
    else:
        event.town = None
    event.starts_at = min(s for s, _ in details.sessions)
    event.ends_at = max(e for _, e in details.sessions)
    event.updated_at = now
    wanted = list(dict.fromkeys(details.topics))
    have = {row.topic: row for row in event.topic_rows}
    event.topic_rows = [have.get(t) or EventTopic(topic=t) for t in sorted(wanted, key=lambda t: t.value)]


def _booker(organisation: Organisation, by: User) -> User:
    """Who the Venue Bank booking is made by: the person listing the event when they belong to the organiser
    organisation; otherwise (staff listing for it) one of its admins, whom the venue's messages then reach."""
    if by.membership_of(organisation.id) is not None:
        return by
    admins = organisation.admins()
    if not admins:
        raise NotAllowed(
            f"{organisation.name} has no admin to make its Venue Bank bookings.", field="space_id"
        )
    return admins[0]


# The Venue Bank's form fields, as this form names them.
def _venue_field(venue_field: str | None, pos: int) -> str:
    if venue_field is None:  # about the space itself (no longer taking bookings)
        return "space_id"
    if venue_field in ("expected_attendance",):
        return "places"
    if venue_field in ("organisation_id",):
        return "space_id"
    if venue_field in ("purpose",):
        return "title"
    if venue_field in ("end_time",):
        return session_field(pos, "end")
    if venue_field in ("start_time",):
        return session_field(pos, "start")
    return session_field(pos, "date")


def _book_sessions(
    event: Event, sessions: Sequence[EventSession], details: EventDetails, by: User, now: datetime
) -> None:
    space = details.space
    assert space is not None
    organisation = event.organisation
    booker = _booker(organisation, by)
    positions = {(s, e): details.position(i) for i, (s, e) in enumerate(details.sessions)}
    for session in sessions:
        pos = positions.get((session.starts_at, session.ends_at), 1)
        start, end = session.starts_at.astimezone(LONDON), session.ends_at.astimezone(LONDON)
        if end.date() != start.date():
            raise DomainError(
                "A session at a Venue Bank space starts and ends on the same day.",
                field=session_field(pos, "end"),
            )
        req = BookingRequest(
            space=space,
            organisation=organisation,
            booked_by=booker,
            purpose=event.title,
            expected_attendance=event.places,
            first_date=start.date(),
            start_time=start.time(),
            end_time=end.time(),
        )
        try:
            booking = book_space(req, [start.date()], now)
        except BookingClash:
            raise Conflict(
                f"{space.name} at {space.venue.name} is already booked at that time: "
                f"{slot_label(session.starts_at, session.ends_at)}. Choose another time or another space.",
                field=session_field(pos, "date"),
            ) from None
        except DomainError as exc:
            raise type(exc)(exc.message, field=_venue_field(exc.field, pos)) from None
        session.booking = booking
        session.booking_id = booking.id
    db.session.flush()


def _cancel_bookings(
    event: Event, sessions: Sequence[EventSession], by: User, reason: str, now: datetime
) -> None:
    """Cancel the dates still to come of these sessions' bookings; dates under way or past stay as they were."""
    for session in sessions:
        booking: Booking | None = session.booking
        if booking is None:
            continue
        ahead = [o for o in booking.occurrences if o.status in ACTIVE and o.starts_at > now]
        if not ahead:
            continue
        cancel(booking, CancelScope.SERIES, _booker(event.organisation, by), reason=reason, now=now)


def update_event(event: Event, details: EventDetails, by: User, now: datetime | None = None) -> list[str]:
    """Change an event (draft or published); returns what changed that registered people are told about.

    Sessions that stay as they were keep their bookings; the bookings of sessions that went are cancelled and the
    new sessions booked. Fewer places than are held is refused; more places are offered to the waiting list.
    """
    now = now or utcnow()
    if not can_manage(by, event):
        raise NotAllowed("Only the organiser's admins and staff can change this event.")
    event = steps.lock_event(event.id)
    if event.status is EventStatus.CANCELLED:
        raise IllegalTransition("This event was cancelled; it cannot be changed.")
    _check(details, now, event)
    if details.places < event.places_held:
        raise DomainError(
            f"{event.places_held} places are already taken: the event cannot have fewer places than that.",
            field="places",
        )
    old_space_id = event.space_id
    old_times = sorted((s.starts_at, s.ends_at) for s in event.sessions)
    old_where = (event.location_kind, event.space_id, event.online_link, event.address, event.town)
    more_places = details.places > event.places
    _apply(event, details, now)

    new_times = sorted(details.sessions)
    same_space = details.location_kind is LocationKind.VENUE and old_space_id == event.space_id
    keep = [s for s in event.sessions if same_space and (s.starts_at, s.ends_at) in set(new_times)]
    going = [s for s in event.sessions if s not in keep]
    reason = f"The event {event.title!r} changed."
    _cancel_bookings(event, going, by, reason, now)
    for session in going:
        event.sessions.remove(session)
    db.session.flush()
    kept_times = {(s.starts_at, s.ends_at) for s in keep}
    added = [EventSession(starts_at=s, ends_at=e) for s, e in new_times if (s, e) not in kept_times]
    event.sessions.extend(added)
    db.session.flush()
    if details.location_kind is LocationKind.VENUE and added:
        _book_sessions(event, added, details, by, now)

    changes: list[str] = []
    if new_times != old_times:
        changes.append("dates and times")
    new_where = (event.location_kind, event.space_id, event.online_link, event.address, event.town)
    if new_where != old_where:
        changes.append("where it takes place")
    if changes and event.status is EventStatus.PUBLISHED:
        registrations.event_changed(event, by, " and ".join(changes), now)
    if more_places and event.status is EventStatus.PUBLISHED:
        registrations.offer_freed_places(event, now)
    return changes


# --- publishing and cancelling -----------------------------------------------------------------------------------


def _set_status(event: Event, to: EventStatus, now: datetime) -> None:
    """The one place an event's status changes."""
    if to not in STATUS_TRANSITIONS[event.status]:
        raise IllegalTransition(
            f"This event is {event.status.label.lower()}; it cannot be {to.label.lower()} now."
        )
    event.status = to
    event.updated_at = now
    if to is EventStatus.PUBLISHED:
        event.published_at = now
    if to is EventStatus.CANCELLED:
        event.cancelled_at = now


def publish(event: Event, by: User, now: datetime | None = None) -> None:
    """List a draft publicly. Its sessions must still be ahead, and its organiser still in good standing."""
    now = now or utcnow()
    if not can_manage(by, event):
        raise NotAllowed("Only the organiser's admins and staff can publish this event.")
    event = steps.lock_event(event.id)
    if event.status is EventStatus.DRAFT:
        if event.starts_at <= now:
            raise DomainError("The first session has passed: change the dates before publishing.")
        standing = good_standing(event.organisation)
        if not standing:
            raise NotAllowed(
                f"{event.organisation.name} cannot publish events until it is in good standing. "
                + " ".join(standing.reasons)
            )
    _set_status(event, EventStatus.PUBLISHED, now)


def cancel_event(event: Event, by: User, reason: str, now: datetime | None = None) -> int:
    """Cancel the event: its bookings still to come are cancelled and everyone registered is told. Returns how
    many entries were cancelled."""
    now = now or utcnow()
    if not can_manage(by, event):
        raise NotAllowed("Only the organiser's admins and staff can cancel this event.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the event is cancelled: everyone registered is told.", field="reason")
    if len(reason) > 500:
        raise DomainError("A reason is at most 500 characters.", field="reason")
    event = steps.lock_event(event.id)
    was_published = event.status is EventStatus.PUBLISHED
    _set_status(event, EventStatus.CANCELLED, now)
    event.cancelled_by_id = by.id
    event.cancel_reason = reason
    _cancel_bookings(event, event.sessions, by, f"The event {event.title!r} was cancelled: {reason}", now)
    if was_published:
        return registrations.event_cancelled(event, by, reason, now)
    return 0


# --- reading -----------------------------------------------------------------------------------------------------


def load(event_id: int) -> Event | None:
    """An event with what its page shows: organiser, sessions and their bookings, space, venue and features."""
    return db.session.scalar(
        sa.select(Event)
        .where(Event.id == event_id)
        .options(
            selectinload(Event.organisation),
            selectinload(Event.sessions).selectinload(EventSession.booking).selectinload(Booking.occurrences),
            selectinload(Event.topic_rows),
            selectinload(Event.space).selectinload(Space.venue),
            selectinload(Event.space).selectinload(Space.features),
        )
    )
