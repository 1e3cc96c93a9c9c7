"""Registration and fair waiting lists.

An entry (`Registration`) is one organisation's people for one event: a member registers themselves and/or
colleagues of the same organisation, one place each. Every change of places is made under the event's lock
(`steps.lock_event`) and every change of state through `steps.start` / `steps.move`, so `places_held` is always
the sum of the places of the entries holding them and places are never oversold, however many people register
at once. The unique index on a person's live places is the last word on "already registered".

The rules, as decided here:

- An entry is whole. When fewer places are left than it asks for, it waits on the waiting list for all of them;
  no partial registration is made (a team that trains together is not split without being asked: they may
  cancel and register fewer people instead).
- A new entry that fits the places left takes them. Places never stay free while a waiting entry fits them
  (freed places are offered at once), so this is the same "first that fits" rule the waiting list follows.
- When places free up (a cancellation, a declined offer or approval, a lapsed offer, more places),
  `offer_freed_places` walks the waiting list in `queue_position` order and offers the free places to each
  entry that fits, in turn; an entry that does not fit keeps its position and is passed over, never dropped.
- An offer holds its places for the event's `offer_hours` (48 by default), but never later than two hours before
  the first session starts; with under four hours left an offer lasts one hour (at most until the start). Once
  the event has started nothing more is offered.
- A lapsed offer is cancelled ("offer lapsed") and its places pass on to the next entry that fits.
- Attendees (the person who made the entry, or an admin of its organisation) cancel online until the cut-off
  (`cancel_cutoff_hours` before the first session). After it they are asked to contact the organiser, who may
  still cancel for them: that is recorded as a late cancellation. Leaving the waiting list, or declining an
  offer, is always possible before the event starts. Late cancellations and no-shows are counted per
  organisation (`reliability`).
- The online link is shown to people of entries that are registered (or, after the event, attended or marked
  as not attending): `holds_place`.

Services never commit; the view or task that calls them does, once. `event_cancelled`, `event_changed` and
`offer_freed_places` are called with the event already locked; the others lock it themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.events import steps
from foundation.events.models import (
    Event,
    EventStatus,
    LocationKind,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    RegistrationStep,
)
from foundation.extensions import db
from foundation.members.models import Membership, Organisation, User
from foundation.members.organisations import good_standing
from foundation.notifications.mailer import Attachment
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.payments.models import PaymentStatus
from foundation.types import LONDON, utcnow

S = RegistrationStatus
# Entries whose people are confirmed for the event (they see the online link and appear on the register).
CONFIRMED = frozenset({S.REGISTERED, S.ATTENDED, S.NO_SHOW})
# Entries still in play before the event: told of changes, counted against the per-organisation limit.
OPEN = frozenset({S.PENDING_APPROVAL, S.AWAITING_PAYMENT, S.REGISTERED, S.WAITLISTED, S.OFFERED})
LIVE = frozenset(set(S) - {S.CANCELLED})

OFFER_NOT_AFTER = timedelta(hours=2)  # an offer ends at least this long before the first session
SHORT_NOTICE = timedelta(hours=4)  # with less than this left before the start ...
SHORT_OFFER = timedelta(hours=1)  # ... an offer lasts this long
REMIND_AHEAD = timedelta(hours=24)  # the reminder goes the day before
FEEDBACK_WITHIN = timedelta(days=14)  # feedback is asked for within two weeks of the end
NOTE_MAX = 500


def when(value: datetime | None) -> str:
    """A time as people in Wiltshire read it: "10:00 on Tuesday 3 March 2026"."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return local.strftime("%H:%M on %A %-d %B %Y")


# --- who may do what -----------------------------------------------------------------------------------


def can_manage(user: User, event: Event) -> bool:
    """Staff, or an admin of the organiser organisation (the events module's own rule, asked of it)."""
    from foundation.events.events import can_manage as organiser_may

    return organiser_may(user, event)


def can_see(user: User, registration: Registration) -> bool:
    """The entry's organisation's people, the event's organiser and staff."""
    return (
        user.is_staff
        or user.membership_of(registration.organisation_id) is not None
        or can_manage(user, registration.event)
    )


def is_attendee_side(user: User, registration: Registration) -> bool:
    """A member of the entry's organisation: they answer its offers."""
    return user.membership_of(registration.organisation_id) is not None


def may_cancel_for_organisation(user: User, registration: Registration) -> bool:
    """The person who made the entry, or an admin of its organisation."""
    return is_attendee_side(user, registration) and (
        registration.made_by_id == user.id or user.is_admin_of(registration.organisation_id)
    )


# --- reading -------------------------------------------------------------------------------------------


def load(registration_id: int) -> Registration | None:
    return db.session.scalar(
        sa.select(Registration)
        .where(Registration.id == registration_id)
        .options(
            joinedload(Registration.event).selectinload(Event.sessions),
            joinedload(Registration.organisation),
            joinedload(Registration.made_by),
            joinedload(Registration.payment),
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
            selectinload(Registration.steps).joinedload(RegistrationStep.by),
        )
    )


def holds_place(user: User, event: Event) -> bool:
    """Whether the person is named on an entry registered for the event (so may see its online link)."""
    if not getattr(user, "is_authenticated", False):
        return False
    found = db.session.scalar(
        sa.select(RegistrationPlace.id)
        .join(Registration, Registration.id == RegistrationPlace.registration_id)
        .where(
            RegistrationPlace.event_id == event.id,
            RegistrationPlace.user_id == user.id,
            RegistrationPlace.live.is_(True),
            Registration.status.in_(CONFIRMED),
        )
        .limit(1)
    )
    return found is not None


def attendees(event: Event) -> list[RegistrationPlace]:
    """The people of the entries registered, attended or marked absent, by name, with their users and entries."""
    return list(
        db.session.scalars(
            sa.select(RegistrationPlace)
            .join(Registration, Registration.id == RegistrationPlace.registration_id)
            .join(User, User.id == RegistrationPlace.user_id)
            .where(Registration.event_id == event.id, Registration.status.in_(CONFIRMED))
            .options(
                contains_eager(RegistrationPlace.user),
                contains_eager(RegistrationPlace.registration).joinedload(Registration.organisation),
            )
            .order_by(sa.func.lower(User.name), RegistrationPlace.id)
        )
    )


def entries_of(event: Event) -> list[Registration]:
    """Every entry for the event, with its organisation, maker and people (the organiser's page)."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id)
            .options(
                joinedload(Registration.organisation),
                joinedload(Registration.made_by),
                selectinload(Registration.people).joinedload(RegistrationPlace.user),
            )
            .order_by(
                sa.case((Registration.status == S.WAITLISTED, Registration.queue_position), else_=None),
                Registration.created_at,
                Registration.id,
            )
        )
    )


def waiting_list(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
            .order_by(Registration.queue_position, Registration.id)
        )
    )


def of_person(user: User) -> list[Registration]:
    """The entries naming the person, or made by them, newest event first (the person's own page)."""
    named = sa.select(RegistrationPlace.registration_id).where(RegistrationPlace.user_id == user.id)
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(sa.or_(Registration.id.in_(named), Registration.made_by_id == user.id))
            .options(
                contains_eager(Registration.event),
                joinedload(Registration.organisation),
                selectinload(Registration.people).joinedload(RegistrationPlace.user),
            )
            .order_by(Event.starts_at.desc(), Registration.id.desc())
        )
    )


def members_of(organisation: Organisation) -> list[User]:
    """The organisation's people with open accounts, by name: those a colleague may register."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation.id, User.closed_at.is_(None))
            .order_by(sa.func.lower(User.name), User.id)
        )
    )


def people_by_id(user_ids: list[int]) -> list[User]:
    """The users with these ids, in the order given (unknown ids are left out)."""
    if not user_ids:
        return []
    found = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
    return [found[i] for i in dict.fromkeys(user_ids) if i in found]


def registered_user_ids(event: Event, user_ids: list[int]) -> set[int]:
    """Those of the people already named on a live entry for the event."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(RegistrationPlace.user_id).where(
                RegistrationPlace.event_id == event.id,
                RegistrationPlace.user_id.in_(user_ids),
                RegistrationPlace.live.is_(True),
            )
        )
    )


def reliability(organisation_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per organisation: (late cancellations, entries marked as not attending), in one query."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Registration.organisation_id,
            sa.func.count().filter(Registration.late_cancellation.is_(True)),
            sa.func.count().filter(Registration.status == S.NO_SHOW),
        )
        .where(Registration.organisation_id.in_(organisation_ids))
        .group_by(Registration.organisation_id)
    ).all()
    found = {org_id: (int(late), int(absent)) for org_id, late, absent in rows}
    return {org_id: found.get(org_id, (0, 0)) for org_id in organisation_ids}


def cutoff(event: Event) -> datetime:
    """Until when attendees may cancel online."""
    return event.starts_at - timedelta(hours=event.cancel_cutoff_hours)


def offer_deadline(event: Event, now: datetime) -> datetime:
    """Until when an offer made now holds its places (the rule in the module's docstring)."""
    left = event.starts_at - now
    if left < SHORT_NOTICE:
        return min(now + SHORT_OFFER, event.starts_at)
    return min(now + timedelta(hours=event.offer_hours), event.starts_at - OFFER_NOT_AFTER)


# --- telling people ------------------------------------------------------------------------------------


def _recipients(registration: Registration) -> list[User]:
    """The entry's people and whoever made it, each once, open accounts only."""
    people = [p.user for p in registration.people]
    if registration.made_by is not None:
        people.append(registration.made_by)
    seen: dict[int, User] = {}
    for user in people:
        if user.closed_at is None:
            seen.setdefault(user.id, user)
    return list(seen.values())


def calendar_path(event: Event) -> str:
    """The event's calendar file (for people registered, with the online link)."""
    return url_for("events.event_calendar", event_id=event.id)


def tell(
    registration: Registration,
    subject: str,
    template: str,
    attachment: Attachment | None = None,
    **context: Any,
) -> int:
    event = registration.event
    link = url_for("events.registration", registration_id=registration.id)
    people = _recipients(registration)
    for user in people:
        notify(
            user,
            NotificationKind.GENERAL,
            subject,
            f"events/{template}",
            link=link,
            attachment=attachment,
            event=event,
            registration=registration,
            starts=when(event.starts_at),
            event_link=url_for("events.event_page", event_id=event.id),
            calendar_link=calendar_path(event),
            online_link=event.online_link if event.location_kind is LocationKind.ONLINE else None,
            **context,
        )
    return len(people)


def confirm(registration: Registration) -> None:
    event = registration.event
    if registration.status is S.REGISTERED:
        # The calendar entry travels with the confirmation (with the online link: these people hold places).
        # Imported here: the calendar builds its links with the event services, which call this module.
        from foundation.events import calendar

        entry = Attachment(
            f"event-{event.id}.ics", "text/calendar", calendar.event_ics(event, include_online_link=True)
        )
        tell(registration, f"You are registered: {event.title}", "registered", attachment=entry)
    elif registration.status is S.PENDING_APPROVAL:
        tell(registration, f"Waiting for the organiser's approval: {event.title}", "pending")
    elif registration.status is S.AWAITING_PAYMENT:
        tell(
            registration,
            f"Your places are held until the fee is paid: {event.title}",
            "awaiting_payment",
            pay_by=when(registration.pay_by),
        )


def _approved_status(event: Event) -> RegistrationStatus:
    """What an entry becomes when it takes places the organiser has approved (or needs no approval for): it waits
    for its fee at a priced event (fees.py), else it is registered."""
    return S.AWAITING_PAYMENT if event.price_pence > 0 else S.REGISTERED


def _took_places(entry: Registration, event: Event, now: datetime) -> None:
    """An entry has just taken places: one waiting for its fee starts its payment."""
    if entry.status is S.AWAITING_PAYMENT:
        # Imported here: fees follow payments through this module's messages and waiting list.
        from foundation.events import fees

        fees.ask_for_fee(entry, event, now)


# --- registering ---------------------------------------------------------------------------------------


def _check_open(event: Event, now: datetime) -> None:
    if event.status is EventStatus.CANCELLED:
        raise Conflict("This event has been cancelled.")
    if event.status is not EventStatus.PUBLISHED:
        raise NotFound("There is no such event.")
    if event.starts_at <= now:
        raise Conflict("Registration has closed: the event has started.")


def register(
    event: Event,
    organisation: Organisation,
    made_by: User,
    people: list[User],
    now: datetime | None = None,
) -> Registration:
    """Register people of one organisation: REGISTERED (or PENDING_APPROVAL) when the places are left, else
    WAITLISTED at the end of the queue. The entry is whole (see the module's docstring)."""
    now = now or utcnow()
    event_id, org_id, maker_id = event.id, organisation.id, made_by.id
    person_ids = list(dict.fromkeys(p.id for p in people))
    event = steps.lock_event(event_id)
    _check_open(event, now)
    found_org = db.session.get(Organisation, org_id)
    maker = db.session.get(User, maker_id)
    if found_org is None or maker is None or maker.membership_of(org_id) is None:
        raise DomainError("Choose one of your own organisations.", field="organisation")
    organisation, made_by = found_org, maker
    standing = good_standing(organisation)
    if not standing:
        raise DomainError(
            f"{organisation.name} is not in good standing, so cannot register: {' '.join(standing.reasons)}",
            field="organisation",
        )
    if not person_ids:
        raise DomainError("Choose at least one person to register.", field="people")
    members = {u.id: u for u in members_of(organisation)}
    strangers = [i for i in person_ids if i not in members]
    if strangers:
        raise DomainError(
            f"You can register only people from {organisation.name}: "
            f"{len(strangers)} of the people chosen {'is' if len(strangers) == 1 else 'are'} not a member.",
            field="people",
        )
    chosen = [members[i] for i in person_ids]
    already = registered_user_ids(event, person_ids)
    if already:
        names = ", ".join(u.name for u in chosen if u.id in already)
        raise DomainError(
            f"Already registered for this event (or on its waiting list): {names}.", field="people"
        )
    places = len(chosen)
    if places > event.places:
        raise DomainError(
            f"This event has {event.places} place{'s' if event.places != 1 else ''} in all: "
            f"choose no more people than that.",
            field="people",
        )
    if event.per_organisation_limit is not None:
        taken = (
            db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Registration.places), 0)).where(
                    Registration.event_id == event.id,
                    Registration.organisation_id == org_id,
                    Registration.status.in_(OPEN),
                )
            )
            or 0
        )
        if taken + places > event.per_organisation_limit:
            left = max(0, event.per_organisation_limit - taken)
            raise DomainError(
                f"The organiser allows {event.per_organisation_limit} place"
                f"{'s' if event.per_organisation_limit != 1 else ''} per organisation; {organisation.name} "
                f"already has {taken}, so you may register {left} more.",
                field="people",
            )
    registration = Registration(
        event=event,
        organisation_id=org_id,
        made_by_id=maker_id,
        places=places,
        created_at=now,
        people=[RegistrationPlace(event_id=event.id, user_id=u.id) for u in chosen],
    )
    if event.places_left >= places:
        status = S.PENDING_APPROVAL if event.requires_approval else _approved_status(event)
    else:
        status = S.WAITLISTED
        registration.queue_position = _next_queue_position(event)
    try:
        with db.session.begin_nested():
            db.session.add(registration)
            steps.start(registration, status, made_by, now)
            db.session.flush()
    except IntegrityError:
        # Someone registered one of these people a moment ago: the unique index on live places caught it.
        raise DomainError(
            "Already registered for this event (or on its waiting list): one of the people chosen.",
            field="people",
        ) from None
    _took_places(registration, event, now)
    if status is S.WAITLISTED:
        ahead = _waiting_ahead(registration)
        tell(registration, f"On the waiting list: {event.title}", "waitlisted", ahead=ahead)
    else:
        confirm(registration)
    return registration


def _next_queue_position(event: Event) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(Registration.queue_position)).where(Registration.event_id == event.id)
    )
    return (highest or 0) + 1


def _waiting_ahead(registration: Registration) -> int:
    """How many waiting entries are before this one."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.event_id == registration.event_id,
                Registration.status == S.WAITLISTED,
                Registration.queue_position < (registration.queue_position or 0),
            )
        )
        or 0
    )


def queue_places(event: Event) -> dict[int, int]:
    """Each waiting entry's place in the queue (1 = next), by entry id, in one query."""
    ids = db.session.scalars(
        sa.select(Registration.id)
        .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
        .order_by(Registration.queue_position, Registration.id)
    )
    return {rid: n for n, rid in enumerate(ids, start=1)}


# --- the waiting list ----------------------------------------------------------------------------------


def offer_freed_places(event: Event, now: datetime | None = None) -> list[Registration]:
    """Offer the free places to the waiting entries that fit, in queue order; the event must be locked.

    An entry asking for more places than are free keeps its position and is passed over; the next one that fits
    is offered. Returns the entries offered places."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED or event.starts_at <= now:
        return []
    free = event.places_left
    offered: list[Registration] = []
    if free <= 0:
        return offered
    expires = offer_deadline(event, now)
    for entry in db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
        .order_by(Registration.queue_position, Registration.id)
        .options(selectinload(Registration.people).joinedload(RegistrationPlace.user))
    ).all():
        if free <= 0:
            break
        if entry.places > free:
            continue
        steps.move(entry, S.OFFERED, None, note="Places freed up", now=now)
        entry.offered_at = now
        entry.offer_expires_at = expires
        free -= entry.places
        offered.append(entry)
        tell(
            entry,
            f"{'A place is' if entry.places == 1 else f'{entry.places} places are'} free for you: {event.title}",
            "offer",
            expires=when(expires),
        )
    return offered


def _locked_entry(registration: Registration) -> tuple[Event, Registration]:
    """The entry's event locked, and the entry reloaded after the lock."""
    registration_id, event_id = registration.id, registration.event_id
    event = steps.lock_event(event_id)
    entry = db.session.get(Registration, registration_id, populate_existing=True)
    if entry is None:
        raise NotFound("There is no such registration.")
    return event, entry


def offer_lapsed(entry: Registration, now: datetime) -> bool:
    """An offer past its time (not yet swept by the beat), or one the beat cancelled as lapsed."""
    if entry.status is S.OFFERED:
        return entry.offer_expires_at is not None and entry.offer_expires_at <= now
    return entry.status is S.CANCELLED and any(
        s.note == LAPSED for s in entry.steps if s.to_status is S.CANCELLED
    )


def _check_offer(entry: Registration, by: User, now: datetime) -> None:
    if not is_attendee_side(by, entry):
        raise NotAllowed("Only people of the organisation the places were offered to can answer this offer.")
    if offer_lapsed(entry, now):
        raise Conflict(
            "This offer has lapsed: the places were offered to the next people on the waiting list. "
            "You can register again if places are left."
        )
    if entry.status is not S.OFFERED:
        raise Conflict(f"There is no offer waiting: this registration is {entry.status.label.lower()}.")


LAPSED = "Offer lapsed"


def accept_offer(registration: Registration, by: User, now: datetime | None = None) -> Registration:
    """Take the places offered: REGISTERED, or PENDING_APPROVAL when the organiser approves entries."""
    now = now or utcnow()
    event, entry = _locked_entry(registration)
    _check_offer(entry, by, now)
    if event.status is not EventStatus.PUBLISHED or event.starts_at <= now:
        raise Conflict("The event is no longer open for registration.")
    steps.move(
        entry,
        S.PENDING_APPROVAL if event.requires_approval else _approved_status(event),
        by,
        "Offer accepted",
        now,
    )
    _took_places(entry, event, now)
    confirm(entry)
    return entry


def decline_offer(registration: Registration, by: User, now: datetime | None = None) -> Registration:
    """Turn the offer down: the entry is cancelled and the places go to the next entry that fits."""
    now = now or utcnow()
    event, entry = _locked_entry(registration)
    _check_offer(entry, by, now)
    steps.move(entry, S.CANCELLED, by, "Offer declined", now)
    offer_freed_places(event, now)
    return entry


# What holds places until a deadline, and the deadline: an offer, and places waiting for their fee (fees.py).
_DEADLINES = {S.OFFERED: Registration.offer_expires_at, S.AWAITING_PAYMENT: Registration.pay_by}


def events_past_deadline(status: RegistrationStatus, now: datetime | None = None) -> list[int]:
    """The events with an entry in `status` (offered, or awaiting payment) past its deadline."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Registration.event_id)
            .where(Registration.status == status, _DEADLINES[status] <= now)
            .distinct()
            .order_by(Registration.event_id)
        )
    )


def release_past_deadline(
    event_id: int,
    status: RegistrationStatus,
    note: str,
    subject: str,
    template: str,
    now: datetime | None = None,
) -> int:
    """Cancel the event's entries in `status` past their deadline (with `note`, telling their people) and pass
    their places on to the next entries that fit; how many. Running it again changes nothing."""
    now = now or utcnow()
    event = steps.lock_event(event_id)
    due = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event_id, Registration.status == status, _DEADLINES[status] <= now)
        .order_by(Registration.queue_position, Registration.id)
        .options(
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
            joinedload(Registration.made_by),
        )
    ).all()
    for entry in due:
        steps.move(entry, S.CANCELLED, None, note, now)
        tell(entry, f"{subject}: {event.title}", template)
    if due:
        offer_freed_places(event, now)
    return len(due)


def events_with_lapsed_offers(now: datetime | None = None) -> list[int]:
    """The events with an offer past its time."""
    return events_past_deadline(S.OFFERED, now)


def lapse_offers(event_id: int, now: datetime | None = None) -> int:
    """Cancel the event's offers past their time ("offer lapsed") and pass their places on to the next entries
    that fit; how many lapsed."""
    return release_past_deadline(
        event_id, S.OFFERED, LAPSED, "Your offer of places has lapsed", "offer_lapsed", now
    )


def reorder(
    registration: Registration, position: int, by: User, note: str, now: datetime | None = None
) -> Registration:
    """Move a waiting entry to `position` (1 = next) in the waiting list, with a note saying why."""
    now = now or utcnow()
    note = (note or "").strip()
    event, entry = _locked_entry(registration)
    if not can_manage(by, event):
        raise NotAllowed("Only the organiser can reorder the waiting list.")
    if entry.status is not S.WAITLISTED:
        raise Conflict(f"Only waiting entries can be moved: this one is {entry.status.label.lower()}.")
    if not note:
        raise DomainError("Say why the entry is moved: the note is kept with it.", field="note")
    if len(note) > NOTE_MAX - 40:
        raise DomainError(f"Keep the note under {NOTE_MAX - 40} characters.", field="note")
    queue = waiting_list(event)
    if not 1 <= position <= len(queue):
        raise DomainError(f"Choose a position from 1 to {len(queue)}.", field="position")
    old = queue.index(entry) + 1
    if old == position:
        raise DomainError(f"The entry is already at position {position}.", field="position")
    queue.remove(entry)
    queue.insert(position - 1, entry)
    for n, waiting in enumerate(queue, start=1):
        waiting.queue_position = n
    # Not a change of state: a step from waiting to waiting records who moved it, when and why.
    entry.steps.append(
        RegistrationStep(
            from_status=S.WAITLISTED,
            to_status=S.WAITLISTED,
            by_id=by.id,
            at=now,
            note=f"Moved from position {old} to {position}: {note}",
        )
    )
    return entry


# --- approval and cancellation -------------------------------------------------------------------------


def _waiting_for_decision(registration: Registration, by: User, verb: str) -> tuple[Event, Registration]:
    """The entry's event locked and the entry reloaded, checked to be waiting for `by` (its organiser) to
    `verb` it."""
    event, entry = _locked_entry(registration)
    if not can_manage(by, event):
        raise NotAllowed(f"Only the organiser can {verb} registrations.")
    if entry.status is not S.PENDING_APPROVAL:
        raise Conflict(f"This registration is not waiting for approval: it is {entry.status.label.lower()}.")
    return event, entry


def approve(registration: Registration, by: User, now: datetime | None = None) -> Registration:
    now = now or utcnow()
    event, entry = _waiting_for_decision(registration, by, "approve")
    to = _approved_status(event)
    steps.move(entry, to, by, "Approved", now)
    _took_places(entry, event, now)
    if to is S.AWAITING_PAYMENT:
        confirm(entry)  # approved: the places are held for the fee
    else:
        tell(entry, f"Your registration is approved: {event.title}", "approved")
    return entry


def decline(
    registration: Registration, by: User, reason: str = "", now: datetime | None = None
) -> Registration:
    """The organiser turns an entry down: it is cancelled and its places are offered on."""
    now = now or utcnow()
    reason = (reason or "").strip()
    event, entry = _waiting_for_decision(registration, by, "decline")
    if len(reason) > NOTE_MAX - 40:
        raise DomainError(f"Keep the reason under {NOTE_MAX - 40} characters.", field="reason")
    steps.move(entry, S.CANCELLED, by, f"Declined{': ' + reason if reason else ''}", now)
    tell(entry, f"Your registration was not approved: {event.title}", "declined", reason=reason)
    offer_freed_places(event, now)
    return entry


def cancel_allowed(user: User, entry: Registration, now: datetime) -> bool:
    """Whether the page offers the person a cancel button (the service has the last word)."""
    if entry.status not in OPEN or entry.event.starts_at <= now:
        return False
    if can_manage(user, entry.event):
        return True
    if not may_cancel_for_organisation(user, entry):
        return False
    return not is_late(entry, now)


def is_late(entry: Registration, now: datetime) -> bool:
    """Whether cancelling the entry now is a late cancellation: a registered (or pending) entry after the
    cut-off. It is counted against its organisation, and keeps its fee."""
    return now >= cutoff(entry.event) and entry.status in (S.REGISTERED, S.PENDING_APPROVAL)


def refund_expected(entry: Registration, now: datetime) -> bool:
    """Whether cancelling the entry now pays its fee back (a late cancellation keeps it)."""
    return entry.fee_pence > 0 and not is_late(entry, now)


def cancel(registration: Registration, by: User, now: datetime | None = None) -> Registration:
    """Cancel an entry: by the person who made it or an admin of its organisation until the cut-off, by the
    organiser at any time before the event starts (after the cut-off recorded as a late cancellation)."""
    now = now or utcnow()
    event, entry = _locked_entry(registration)
    organiser = can_manage(by, event)
    attendee = may_cancel_for_organisation(by, entry)
    if not (organiser or attendee):
        raise NotAllowed(
            "Only the person who made this registration, an admin of its organisation or the organiser can cancel it."
        )
    if entry.status not in OPEN:
        raise Conflict(f"This registration is {entry.status.label.lower()}: there is nothing to cancel.")
    if event.starts_at <= now:
        raise Conflict("The event has started: it is too late to cancel. The organiser marks the register.")
    late = is_late(entry, now)
    if late and not organiser:
        raise Conflict(
            f"Cancelling online closed at {when(cutoff(event))}. Please contact the organiser, "
            f"{event.organisation.name}, who can cancel for you."
        )
    held = entry.status.holds_places
    note = "Cancelled by the organiser" if organiser and not attendee else "Cancelled"
    if late:
        entry.late_cancellation = True
        note += " after the cut-off"
    steps.move(entry, S.CANCELLED, by, note, now)
    if not late:
        from foundation.events import fees

        fees.refund_when_committed(entry)
    tell(
        entry,
        f"Registration cancelled: {event.title}",
        "cancelled",
        late=late,
        by_organiser=note.startswith("Cancelled by"),
        refund=entry.refund_due
        and entry.payment is not None
        and entry.payment.status is PaymentStatus.SUCCEEDED,
    )
    if held:
        offer_freed_places(event, now)
    return entry


# --- the event changes ---------------------------------------------------------------------------------


def event_cancelled(event: Event, by: User, reason: str, now: datetime | None = None) -> int:
    """Cancel every entry still in play and tell its people; the event must be locked. How many entries."""
    now = now or utcnow()
    entries = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(OPEN))
        .options(
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
            joinedload(Registration.made_by),
        )
        .order_by(Registration.id)
    ).all()
    from foundation.events import fees

    for entry in entries:
        steps.move(entry, S.CANCELLED, by, f"The event was cancelled: {reason}"[:NOTE_MAX], now)
        fees.refund_when_committed(entry)
        tell(
            entry,
            f"Event cancelled: {event.title}",
            "event_cancelled",
            reason=reason,
            refund=entry.payment is not None and entry.payment.status is PaymentStatus.SUCCEEDED,
        )
    return len(entries)


def event_changed(event: Event, by: User, what: str, now: datetime | None = None) -> int:
    """Tell everyone holding or waiting for places what changed; how many people were told."""
    entries = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(OPEN))
        .options(
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
            joinedload(Registration.made_by),
        )
        .order_by(Registration.id)
    ).all()
    told = 0
    for entry in entries:
        told += tell(entry, f"Event changed: {event.title}", "event_changed", what=what)
    return told


# --- reminders and feedback (beat) ---------------------------------------------------------------------


def _claim(
    entry: Registration, sent_at: sa.orm.InstrumentedAttribute[datetime | None], now: datetime
) -> bool:
    """Record that a message about the entry went at `now`, unless another run already did: whether this run may
    send it (each message once, however many runs overlap)."""
    claimed = db.session.execute(
        sa.update(Registration)
        .where(Registration.id == entry.id, sent_at.is_(None))
        .values({sent_at: now})
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined, no-any-return]  # an UPDATE's result has a rowcount


def send_reminders(now: datetime | None = None) -> int:
    """The day-before reminder to each registered entry of events starting in the next 24 hours, once each
    (recorded in `reminded_at` by a conditional update, so two runs never send it twice)."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status == S.REGISTERED,
            Registration.reminded_at.is_(None),
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.starts_at <= now + REMIND_AHEAD,
        )
        .options(
            contains_eager(Registration.event),
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
            joinedload(Registration.made_by),
        )
        .order_by(Registration.id)
    ).all()
    sent = 0
    for entry in due:
        if not _claim(entry, Registration.reminded_at, now):
            continue
        tell(entry, f"Reminder: {entry.event.title} starts {when(entry.event.starts_at)}", "reminder")
        sent += 1
    return sent


def send_feedback_requests(now: datetime | None = None) -> int:
    """Ask the people who attended for feedback once the event has ended (each entry once, within two weeks)."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status == S.ATTENDED,
            Registration.feedback_requested_at.is_(None),
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at <= now,
            Event.ends_at > now - FEEDBACK_WITHIN,
        )
        .options(
            contains_eager(Registration.event),
            selectinload(Registration.people).joinedload(RegistrationPlace.user),
        )
        .order_by(Registration.id)
    ).all()
    sent = 0
    for entry in due:
        if not _claim(entry, Registration.feedback_requested_at, now):
            continue
        event = entry.event
        for person in entry.people:
            if person.attended and person.user.closed_at is None:
                notify(
                    person.user,
                    NotificationKind.GENERAL,
                    f"How was {event.title}?",
                    "events/feedback_request",
                    link=url_for("events.feedback_form", event_id=event.id),
                    event=event,
                )
                sent += 1
    return sent
