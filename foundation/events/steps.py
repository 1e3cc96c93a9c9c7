"""The one place an entry's state changes, and the event lock every change of places is made under.

`lock_event` takes the event's row lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the database's write lock,
BEGIN IMMEDIATE) and reloads it, so `places_held` read after it is the truth until the commit. `move` checks
REGISTRATION_TRANSITIONS, records the step (who, when, from, to, note), keeps `places_held` in step with the
places the entry holds, and clears the people's `live` flag when the entry is cancelled (so they may register
again). Every service that calls `start` or `move` locks the event first with `lock_event`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from foundation.db_setup import begin_write_transaction
from foundation.errors import IllegalTransition, NotFound
from foundation.events.models import (
    REGISTRATION_TRANSITIONS,
    Event,
    Registration,
    RegistrationStatus,
    RegistrationStep,
)
from foundation.extensions import db
from foundation.members.models import User
from foundation.types import utcnow


def lock_event(event_id: int) -> Event:
    """The event, locked for a change of its places and reloaded as committed."""
    if db.session.get_bind().dialect.name != "postgresql":
        begin_write_transaction()
    event = db.session.get(Event, event_id, with_for_update=True, populate_existing=True)
    if event is None:
        raise NotFound("There is no such event.")
    return event


def lock_events_already_writing(event_ids: list[int]) -> dict[int, Event]:
    """The events, locked and reloaded, inside a transaction that has already written (a payment's change, heard
    through its handler): on PostgreSQL SELECT ... FOR UPDATE in id order; SQLite's writer already holds the
    database's write lock, and starting over (`lock_event`) would undo what it wrote."""
    if not event_ids:
        return {}
    return {
        event.id: event
        for event in db.session.scalars(
            sa.select(Event)
            .where(Event.id.in_(event_ids))
            .order_by(Event.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


def move(
    registration: Registration,
    to: RegistrationStatus,
    by: User | None,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move an entry to `to`, as REGISTRATION_TRANSITIONS allows; the event must be locked (`lock_event`)."""
    old = registration.status
    if to not in REGISTRATION_TRANSITIONS[old]:
        raise IllegalTransition(
            f"This registration is {old.label.lower()}; it cannot be {to.label.lower()} now."
        )
    now = now or utcnow()
    event = registration.event
    change = (registration.places if to.holds_places else 0) - (
        registration.places if old.holds_places else 0
    )
    event.places_held += change
    registration.status = to
    if to is RegistrationStatus.CANCELLED:
        registration.cancelled_at = now
        for person in registration.people:
            person.live = False
    if to is not RegistrationStatus.OFFERED:
        registration.offer_expires_at = None
    registration.steps.append(
        RegistrationStep(from_status=old, to_status=to, by_id=by.id if by else None, at=now, note=note)
    )


def start(
    registration: Registration, status: RegistrationStatus, by: User | None, now: datetime | None = None
) -> None:
    """Record a new entry's first state (registered, pending approval or waitlisted) and the places it holds."""
    now = now or utcnow()
    registration.status = status
    if status.holds_places:
        registration.event.places_held += registration.places
    registration.steps.append(
        RegistrationStep(from_status=None, to_status=status, by_id=by.id if by else None, at=now)
    )
