"""Builders for registration tests. Like the other factories they flush, never commit; the services lock the
event (on SQLite by starting a fresh write transaction), so a test commits what it built before calling them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from foundation.events import registrations
from foundation.events.models import Event, LocationKind, Registration, RegistrationPlace, RegistrationStatus
from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, User
from foundation.notifications.models import Notification
from tests.factories import add_member, make_org, make_user


def make_team(size: int, name: str | None = None, **org_kwargs: object) -> tuple[Organisation, list[User]]:
    """An organisation in good standing and `size` people of it; the first is its admin."""
    people = [make_user() for _ in range(size)]
    org = make_org(admin=people[0], name=name, **org_kwargs)  # type: ignore[arg-type]
    for person in people[1:]:
        add_member(org, person, MemberRole.MEMBER)
    for person in people:
        db.session.refresh(person)
    return org, people


def register(
    event: Event, org: Organisation, people: list[User], by: User | None = None, now: datetime | None = None
) -> Registration:
    """Register through the service and commit, as a view would."""
    entry = registrations.register(event, org, by or people[0], people, now)
    db.session.commit()
    return entry


def fill(event: Event, places: int | None = None, now: datetime | None = None) -> list[Registration]:
    """Take the event's places left (or `places` of them), one entry of one person each."""
    wanted = event.places_left if places is None else places
    entries = []
    for _ in range(wanted):
        org, people = make_team(1)
        db.session.commit()
        entries.append(register(event, org, people, now=now))
    return entries


def held_in_db(event_id: int) -> tuple[int, int]:
    """(the event's places_held, the sum of the places of the entries holding places), read afresh."""
    db.session.expire_all()
    held = db.session.scalar(sa.select(Event.places_held).where(Event.id == event_id))
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Registration.places), 0)).where(
            Registration.event_id == event_id,
            Registration.status.in_([s for s in RegistrationStatus if s.holds_places]),
        )
    )
    return int(held or 0), int(total or 0)


def subjects_to(user: User) -> list[str]:
    """The subjects of the messages queued for a person, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Notification.subject).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def grow_registrations(i: int, event_id: int, org_a: Organisation, org_admin: User) -> None:
    """For the query-count test: more entries of every kind on the world's event (registered, waiting, offered,
    cancelled), and more entries naming A's admin on other events. Commits (the services lock the event)."""
    from tests.events.factories import make_event

    db.session.commit()
    team, people = make_team(3, name=f"Registering group {i}")
    pair_team, pair = make_team(2, name=f"Waiting group {i}")
    single_team, single = make_team(1, name=f"Offered group {i}")
    event = db.session.get(Event, event_id)
    assert event is not None
    event.places += 3
    db.session.commit()
    register(event, team, people[:2])
    leaving = register(event, team, people[2:])
    event = db.session.get(Event, event_id)
    assert event is not None
    event.places = event.places_held
    db.session.commit()
    register(event, pair_team, pair)
    register(event, single_team, single)
    registrations.cancel(leaving, people[0])  # one place frees: the single is offered it, the pair waits
    db.session.commit()
    other = make_event(where=LocationKind.ONLINE, title=f"Another event {i}")
    db.session.commit()
    register(other, org_a, [org_admin])


def registrations_world(values: dict[str, object]) -> dict[str, object]:
    """The permissions matrix's entry: the one holding the place of A's member on the world's event."""
    place = db.session.get(RegistrationPlace, values["place_id"])
    assert place is not None
    return {"registration_id": place.registration_id}


def fees_world(org: Organisation, member: User) -> dict[str, object]:
    """For the permissions matrix: the member's entry on a priced online event, waiting for a bank transfer (its
    payment is the `payment_id` staff record). Commits (the services lock the event)."""
    from tests.events.factories import make_event

    event = make_event(where=LocationKind.ONLINE, price_pence=1_500, title="A priced workshop")
    db.session.commit()
    entry = register(event, org, [member], by=member)
    assert entry.status is RegistrationStatus.AWAITING_PAYMENT
    return {"payment_id": entry.payment_id}


def grow_fees(i: int, org_a: Organisation, staff: User) -> None:
    """For the query-count test: more fees of every kind the staff fees page, the dashboards and an entry's page
    list: an entry of A's waiting for a bank transfer (its admin sees it among the fees to pay), another group's
    waiting, and one paid and cancelled in time (a fee to pay back). Commits (the services lock the event)."""
    from foundation.payments import service as payments
    from foundation.payments.models import ReceivedBy
    from foundation.types import london_today
    from tests.events.factories import make_event

    event = make_event(where=LocationKind.ONLINE, price_pence=2_000, places=20, title=f"Priced growth {i}")
    db.session.commit()
    colleague = make_user()
    add_member(org_a, colleague, MemberRole.MEMBER)
    db.session.commit()
    register(event, org_a, [colleague])
    waiting_team, waiting_people = make_team(2, name=f"Paying group {i}")
    db.session.commit()
    register(event, waiting_team, waiting_people)
    paid_team, paid_people = make_team(1, name=f"Refunded group {i}")
    db.session.commit()
    paid = register(event, paid_team, paid_people)
    assert paid.payment_id is not None
    payments.record_received(paid.payment_id, staff, ReceivedBy.BANK_TRANSFER, london_today(), f"BACS {i}")
    db.session.commit()
    registrations.cancel(db.session.get(Registration, paid.id), paid_people[0])  # type: ignore[arg-type]
    db.session.commit()
