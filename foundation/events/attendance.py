"""The register: who came to an event.

From the day of the first session (Europe/London) the organiser marks each person of every registered entry as
attended or not. Each person keeps the mark, who made it and when; each entry then moves, through the one state
machine (`steps.move`), to ATTENDED when at least one of its people came and to NO_SHOW when none did. The
register stays open for corrections: an entry moves between ATTENDED and NO_SHOW as its marks change. Everything
happens under the event's lock, so two people marking at once cannot leave an entry's state out of step with its
people's marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from foundation.errors import DomainError, NotAllowed
from foundation.events import steps
from foundation.events.events import can_manage
from foundation.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
)
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import LONDON, london_today, utcnow

# The entries on the register: registered, and those already marked (which may be corrected).
ON_THE_REGISTER = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)


def register_opens_on(event: Event) -> date:
    """The day (in London) from which the register can be marked: the day of the first session."""
    return event.starts_at.astimezone(LONDON).date()


def register_is_open(event: Event, now: datetime | None = None) -> bool:
    return event.status is not EventStatus.CANCELLED and london_today(now) >= register_opens_on(event)


@dataclass
class SheetGroup:
    """One organisation's people on the register."""

    organisation: Organisation
    people: list[RegistrationPlace] = field(default_factory=list)


def register_places(event_id: int) -> list[RegistrationPlace]:
    """The people on the register, with their entries, organisations and users loaded in one query, in the
    order the register lists them: by organisation, then by name."""
    stmt = (
        sa.select(RegistrationPlace)
        .join(RegistrationPlace.registration)
        .join(Registration.organisation)
        .join(RegistrationPlace.user)
        .where(
            RegistrationPlace.event_id == event_id,
            RegistrationPlace.live.is_(True),
            Registration.status.in_(ON_THE_REGISTER),
        )
        .options(
            contains_eager(RegistrationPlace.registration).contains_eager(Registration.organisation),
            contains_eager(RegistrationPlace.user),
            selectinload(RegistrationPlace.marked_by),
        )
        .order_by(
            sa.func.lower(Organisation.name), Organisation.id, sa.func.lower(User.name), RegistrationPlace.id
        )
    )
    return list(db.session.scalars(stmt).unique())


def register_sheet(event: Event) -> list[SheetGroup]:
    """The register grouped by organisation."""
    groups: dict[int, SheetGroup] = {}
    for place in register_places(event.id):
        org = place.registration.organisation
        groups.setdefault(org.id, SheetGroup(org)).people.append(place)
    return list(groups.values())


def mark(event: Event, marks: Mapping[int, bool], by: User, now: datetime | None = None) -> None:
    """Mark people (place id -> attended) and move each entry touched to ATTENDED or NO_SHOW.

    Refused, with nothing written: someone who may not manage the event, a cancelled event, a register marked
    before the day of the first session, and any place that is not on this event's register."""
    now = now or utcnow()
    event = steps.lock_event(event.id)
    if not can_manage(by, event):
        raise NotAllowed("Only the event's organiser can mark the register.")
    if event.status is EventStatus.CANCELLED:
        raise DomainError("This event was cancelled: there is no register to mark.", field="attended")
    opens = register_opens_on(event)
    if london_today(now) < opens:
        raise DomainError(
            f"The register opens on {opens:%-d %B %Y}, the day of the first session.", field="attended"
        )
    if not marks:
        raise DomainError("There is nobody on the register to mark.", field="attended")
    places = {p.id: p for p in register_places(event.id)}
    strangers = [place_id for place_id in marks if place_id not in places]
    if strangers:
        raise DomainError(
            "Some of the people marked are not on this event's register (they may have cancelled). "
            "Reload the register and mark it again.",
            field="attended",
        )
    touched: dict[int, Registration] = {}
    for place_id, attended in marks.items():
        place = places[place_id]
        if place.attended is not bool(attended):
            place.attended = bool(attended)
            place.marked_by_id = by.id
            place.marked_at = now
        elif place.marked_at is None:
            place.marked_by_id, place.marked_at = by.id, now
        touched[place.registration_id] = place.registration
    # The history each move appends to, loaded for all the entries at once.
    db.session.scalars(
        sa.select(Registration).where(Registration.id.in_(touched)).options(selectinload(Registration.steps))
    ).all()
    for registration in touched.values():
        came = any(p.attended for p in places.values() if p.registration_id == registration.id)
        to = RegistrationStatus.ATTENDED if came else RegistrationStatus.NO_SHOW
        if registration.status is not to:
            note = (
                "Register marked"
                if registration.status is RegistrationStatus.REGISTERED
                else "Register corrected"
            )
            steps.move(registration, to, by, note=note, now=now)
    db.session.flush()


@dataclass(frozen=True)
class RegisterTotals:
    people: int
    attended: int
    absent: int
    unmarked: int


def totals(groups: list[SheetGroup]) -> RegisterTotals:
    people = [p for g in groups for p in g.people]
    return RegisterTotals(
        people=len(people),
        attended=sum(1 for p in people if p.attended is True),
        absent=sum(1 for p in people if p.attended is False),
        unmarked=sum(1 for p in people if p.attended is None),
    )
