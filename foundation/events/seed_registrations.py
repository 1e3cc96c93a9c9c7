"""Demo registrations: colleagues in the demo organisations; the full demo event taken by entries of several
people, with a waiting list of multi-place entries behind it; entries on other events (one waiting for the
organiser's approval); and the past demo event's entries, registered, for its register to be marked (the attendance
seed runs next). Future entries are made through the registration service; the past event's are written directly,
as it has already taken place. An event that already has entries is left as it is, so running the seed again adds
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from foundation.errors import DomainError
from foundation.events import registrations, steps
from foundation.events.models import Event, Registration, RegistrationPlace, RegistrationStatus
from foundation.events.seed import (
    COURSE_TITLE,
    FULL_EVENT_TITLE,
    ONLINE_EVENT_TITLE,
    PAST_EVENT_TITLE,
    VENUE_EVENT_TITLE,
)
from foundation.extensions import db
from foundation.members.models import MemberRole, Membership, Organisation, User
from foundation.members.seed import add_demo_user
from foundation.payments import service as payments
from foundation.payments.models import ReceivedBy
from foundation.seed import demo_data
from foundation.types import london_today

CALNE = "Calne Youth Project"
SWINDON = "Swindon Sports Trust"
TROWBRIDGE = "Trowbridge Town Council Youth Service"
SALISBURY = "Salisbury Arts for Young People CIC"

# Colleagues added to the demo organisations (the first of an organisation without an admin becomes its admin).
COLLEAGUES: dict[str, list[tuple[str, str]]] = {
    CALNE: [
        ("casey@calne-youth.example", "Casey Clarke"),
        ("dev@calne-youth.example", "Dev Sharma"),
        ("ellis@calne-youth.example", "Ellis Green"),
        ("frankie@calne-youth.example", "Frankie Ward"),
    ],
    SWINDON: [
        ("gemma@swindon-sports.example", "Gemma Hall"),
        ("harpreet@swindon-sports.example", "Harpreet Kaur"),
        ("isaac@swindon-sports.example", "Isaac Bell"),
        ("jade@swindon-sports.example", "Jade Morris"),
        ("kwame@swindon-sports.example", "Kwame Mensah"),
    ],
    TROWBRIDGE: [
        ("lena@trowbridge-youth.example", "Lena Fischer"),
        ("marcus@trowbridge-youth.example", "Marcus Reid"),
        ("nia@trowbridge-youth.example", "Nia Evans"),
        ("owen@trowbridge-youth.example", "Owen Price"),
    ],
    SALISBURY: [
        ("priya@salisbury-arts.example", "Priya Nair"),
        ("quinn@salisbury-arts.example", "Quinn Taylor"),
        ("rosa@salisbury-arts.example", "Rosa Lopez"),
        ("sam@salisbury-arts.example", "Sam O'Neill"),
    ],
}

# (organisation, how many of its people, counted from the first) entries, in the order they register.
FULL_EVENT_ENTRIES = [(SWINDON, 4), (TROWBRIDGE, 3), (SALISBURY, 3), (CALNE, 2)]
# Behind them on the waiting list: entries of several places each (taking the organisations' next people).
FULL_EVENT_WAITING = [(CALNE, 3), (TROWBRIDGE, 1), (SALISBURY, 1), (SWINDON, 2)]
OTHER_ENTRIES = {
    ONLINE_EVENT_TITLE: [(CALNE, 2), (TROWBRIDGE, 1), (SWINDON, 1)],
    VENUE_EVENT_TITLE: [(SALISBURY, 2), (SWINDON, 1)],
    # The course approves entries and charges a fee: the first is approved and paid by bank transfer, the second
    # approved and waiting for its transfer, the third waiting for approval.
    COURSE_TITLE: [(TROWBRIDGE, 2), (SALISBURY, 1), (SWINDON, 1)],
}
PAST_EVENT_ENTRIES = [(CALNE, 3), (SWINDON, 3), (TROWBRIDGE, 2), (SALISBURY, 2)]


@demo_data("events-registrations", order=62)
def seed_registrations() -> Iterator[str]:
    with current_app.test_request_context("/"):  # the services link to pages in their notifications
        yield from _colleagues()
        db.session.commit()
        people = _people()
        yield from _full_event(people)
        for title, entries in OTHER_ENTRIES.items():
            yield from _register_all(title, entries, people)
        yield from _approve_and_pay(COURSE_TITLE)
        yield from _past_event(people)


def _colleagues() -> Iterator[str]:
    for name, colleagues in COLLEAGUES.items():
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        if org is None:
            continue
        has_admin = any(m.role is MemberRole.ADMIN for m in org.memberships)
        for email, full_name in colleagues:
            if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
                continue
            user = add_demo_user(email, full_name)
            role = MemberRole.MEMBER if has_admin else MemberRole.ADMIN
            has_admin = True
            db.session.add(Membership(user=user, organisation=org, role=role))
            yield f"colleague {email} ({name})"


def _people() -> dict[str, tuple[Organisation, list[User]]]:
    """Each demo organisation with its people, admins first, in a steady order."""
    found: dict[str, tuple[Organisation, list[User]]] = {}
    for name in COLLEAGUES:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        if org is None:
            continue
        members = sorted(org.memberships, key=lambda m: (m.role is not MemberRole.ADMIN, m.id))
        found[name] = (org, [m.user for m in members])
    return found


def _event(title: str) -> Event | None:
    return db.session.scalar(sa.select(Event).where(Event.title == title))


def _has_entries(event: Event) -> bool:
    return (
        db.session.scalar(sa.select(Registration.id).where(Registration.event_id == event.id).limit(1))
        is not None
    )


def _register(event_id: int, org: Organisation, people: list[User], title: str) -> Iterator[str]:
    event = db.session.get(Event, event_id)
    if event is None or not people:
        return
    try:
        entry = registrations.register(event, org, people[0], people)
    except DomainError as exc:  # demo data changed by hand since: say so and go on
        db.session.rollback()
        yield f"{title}: {org.name} not registered ({exc.message})"
        return
    db.session.commit()
    yield f"{title}: {org.name}, {entry.places} place{'s' if entry.places != 1 else ''} ({entry.status.label.lower()})"


def _full_event(people: dict[str, tuple[Organisation, list[User]]]) -> Iterator[str]:
    event = _event(FULL_EVENT_TITLE)
    if event is None or _has_entries(event):
        return
    used = dict.fromkeys(people, 0)
    event_id = event.id
    for name, count in FULL_EVENT_ENTRIES + FULL_EVENT_WAITING:
        if name not in people:
            continue
        org, staff = people[name]
        chosen = staff[used[name] : used[name] + count]
        used[name] += count
        yield from _register(event_id, org, chosen, FULL_EVENT_TITLE)


def _register_all(
    title: str, entries: list[tuple[str, int]], people: dict[str, tuple[Organisation, list[User]]]
) -> Iterator[str]:
    event = _event(title)
    if event is None or _has_entries(event):
        return
    event_id = event.id
    for name, count in entries:
        if name in people:
            org, staff = people[name]
            # Their last people, so the full event's people come to these too only now and then.
            yield from _register(event_id, org, staff[-count:], title)


def _approve_and_pay(title: str) -> Iterator[str]:
    event = _event(title)
    if event is None:
        return
    waiting = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.PENDING_APPROVAL)
        .order_by(Registration.id)
    ).all()
    organiser = next(iter(event.organisation.admins()), None)
    decided = db.session.scalar(
        sa.select(Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.AWAITING_PAYMENT]),
        )
        .limit(1)
    )
    if len(waiting) < 2 or organiser is None or decided is not None:
        return
    first, second = waiting[0], waiting[1]
    for entry in (first, second):
        registrations.approve(entry, organiser)
        db.session.commit()
        yield f"{title}: approved {entry.organisation.name}'s entry"
    staff = db.session.scalar(sa.select(User).where(User.is_staff.is_(True)).order_by(User.id).limit(1))
    if first.payment_id is None or staff is None:
        return
    try:
        payments.record_received(
            first.payment_id, staff, ReceivedBy.BANK_TRANSFER, london_today(), "BACS TROW-COURSE"
        )
    except DomainError as exc:  # the fee was asked for online (Stripe is set up): it is paid there
        db.session.rollback()
        yield f"{title}: {first.organisation.name}'s fee is left to pay online ({exc.message})"
        return
    db.session.commit()
    yield f"{title}: {first.organisation.name}'s fee received by bank transfer"


def _past_event(people: dict[str, tuple[Organisation, list[User]]]) -> Iterator[str]:
    event = _event(PAST_EVENT_TITLE)
    if event is None or _has_entries(event):
        return
    event = steps.lock_event(event.id)
    for name, count in PAST_EVENT_ENTRIES:
        if name not in people:
            continue
        org, staff = people[name]
        chosen = staff[:count]
        if event.places_left < len(chosen):
            break
        entry = Registration(
            event=event,
            organisation_id=org.id,
            made_by_id=chosen[0].id,
            places=len(chosen),
            created_at=event.starts_at - timedelta(weeks=2),
            people=[RegistrationPlace(event_id=event.id, user_id=u.id) for u in chosen],
        )
        db.session.add(entry)
        steps.start(entry, RegistrationStatus.REGISTERED, chosen[0], entry.created_at)
        yield f"{PAST_EVENT_TITLE}: {org.name}, {len(chosen)} places (registered)"
    db.session.commit()
