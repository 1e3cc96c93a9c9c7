"""The fair waiting list: freed places go to the first entry that fits, an entry that does not fit keeps its
position, offers hold their places for a set time (shorter as the event nears), lapse and pass on, and
organisers reorder with a note."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, NotAllowed
from foundation.events import registrations, steps
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus, RegistrationStep
from foundation.extensions import db
from foundation.types import utcnow
from tests.events.factories import make_event
from tests.events.registration_factories import fill, held_in_db, make_team, register, subjects_to

S = RegistrationStatus

pytestmark = pytest.mark.usefixtures("request_context")


def online_event(**kwargs) -> Event:
    return make_event(where=LocationKind.ONLINE, **kwargs)


def status_of(entry: Registration) -> RegistrationStatus:
    db.session.expire_all()
    return db.session.get(Registration, entry.id).status  # type: ignore[union-attr]


def waiting_team(event: Event, size: int) -> tuple[Registration, list]:
    org, people = make_team(size)
    db.session.commit()
    entry = register(event, org, people)
    assert entry.status is S.WAITLISTED
    return entry, people


def test_an_entry_that_does_not_fit_keeps_its_place_and_the_next_that_fits_is_offered(app):
    event = online_event(places=4)
    taken = fill(event)
    three, _ = waiting_team(event, 3)
    one, people_of_one = waiting_team(event, 1)
    two, _ = waiting_team(event, 2)
    holder = taken[0]
    registrations.cancel(holder, holder.made_by)  # one place frees
    db.session.commit()
    assert status_of(three) is S.WAITLISTED
    assert status_of(one) is S.OFFERED  # the first that fits
    assert status_of(two) is S.WAITLISTED
    assert "A place is free for you" in subjects_to(people_of_one[0])[-1]
    # The entry of three keeps the head of the queue: once three places are free, it is offered them first.
    for holder in taken[1:3]:
        registrations.cancel(db.session.get(Registration, holder.id), holder.made_by)
        db.session.commit()
    assert status_of(three) is S.WAITLISTED  # only two free: the entry of two fits and is offered them
    assert status_of(two) is S.OFFERED
    registrations.cancel(db.session.get(Registration, taken[3].id), taken[3].made_by)
    db.session.commit()
    assert status_of(three) is S.WAITLISTED  # one free: nothing waiting fits
    assert held_in_db(event.id) == (3, 3)
    registrations.decline_offer(db.session.get(Registration, two.id), two.made_by)
    db.session.commit()
    assert status_of(three) is S.OFFERED  # three free now: the head of the queue gets them
    assert held_in_db(event.id) == (4, 4)


def test_freed_places_are_offered_to_several_entries_while_places_remain(app):
    event = online_event(places=3)
    fill(event, 1)
    org, people = make_team(2)
    db.session.commit()
    pair = register(event, org, people)  # places 2 and 3
    first, _ = waiting_team(event, 1)
    second, _ = waiting_team(event, 1)
    third, _ = waiting_team(event, 1)
    registrations.cancel(pair, people[0])
    db.session.commit()
    assert [status_of(e) for e in (first, second, third)] == [S.OFFERED, S.OFFERED, S.WAITLISTED]


def test_more_places_are_offered_to_the_waiting_list(app):
    event = online_event(places=2)
    fill(event)
    entry, _ = waiting_team(event, 2)
    event = steps.lock_event(event.id)
    event.places = 4
    offered = registrations.offer_freed_places(event)
    db.session.commit()
    assert [e.id for e in offered] == [entry.id]
    assert held_in_db(event.id) == (4, 4)


@pytest.mark.parametrize(
    ("hours_before_start", "offer_hours", "expected_hours"),
    [
        (24 * 7, 48, 48),  # a week ahead: the event's 48 hours
        (30, 48, 28),  # never later than two hours before the start
        (5, 48, 3),
        (3, 48, 1),  # under four hours left: one hour
        (0.5, 48, 0.5),  # ... and never past the start
        (24 * 7, 12, 12),  # the organiser's own time
    ],
)
def test_an_offer_lasts_the_events_time_shortened_as_the_event_nears(
    app, hours_before_start, offer_hours, expected_hours
):
    event = online_event(offer_hours=offer_hours)
    now = event.starts_at - timedelta(hours=hours_before_start)
    assert registrations.offer_deadline(event, now) == now + timedelta(hours=expected_hours)


def test_an_offer_holds_its_places_until_it_lapses_then_they_pass_on(app):
    event = online_event(places=1, offer_hours=48)
    (holder,) = fill(event)
    first, first_people = waiting_team(event, 1)
    second, second_people = waiting_team(event, 1)
    t0 = utcnow()
    registrations.cancel(holder, holder.made_by, now=t0)
    db.session.commit()
    first = db.session.get(Registration, first.id)
    assert first.status is S.OFFERED
    assert first.offer_expires_at == t0 + timedelta(hours=48)
    # Nothing lapses a minute early.
    assert registrations.lapse_offers(event.id, t0 + timedelta(hours=48) - timedelta(minutes=1)) == 0
    db.session.commit()
    assert status_of(first) is S.OFFERED
    assert registrations.lapse_offers(event.id, t0 + timedelta(hours=48)) == 1
    db.session.commit()
    lapsed = db.session.get(Registration, first.id)
    assert lapsed.status is S.CANCELLED
    assert lapsed.steps[-1].note == "Offer lapsed"
    assert status_of(second) is S.OFFERED
    assert "has lapsed" in subjects_to(first_people[0])[-1]
    assert "free for you" in subjects_to(second_people[0])[-1]
    # Running again changes nothing.
    assert registrations.lapse_offers(event.id, t0 + timedelta(hours=49)) == 0
    assert held_in_db(event.id) == (1, 1)


def test_an_accepted_offer_registers_the_entry(app):
    event = online_event(places=1)
    (holder,) = fill(event)
    entry, people = waiting_team(event, 1)
    registrations.cancel(holder, holder.made_by)
    db.session.commit()
    registrations.accept_offer(db.session.get(Registration, entry.id), people[0])
    db.session.commit()
    assert status_of(entry) is S.REGISTERED
    assert subjects_to(people[0])[-1] == f"You are registered: {event.title}"
    assert held_in_db(event.id) == (1, 1)


def test_an_accepted_offer_waits_for_approval_when_the_organiser_approves(app):
    event = online_event(places=1, requires_approval=True)
    organiser = event.organisation.admins()[0]
    (holder,) = fill(event)
    registrations.approve(db.session.get(Registration, holder.id), organiser)
    db.session.commit()
    entry, people = waiting_team(event, 1)
    registrations.cancel(db.session.get(Registration, holder.id), holder.made_by)
    db.session.commit()
    registrations.accept_offer(db.session.get(Registration, entry.id), people[0])
    db.session.commit()
    assert status_of(entry) is S.PENDING_APPROVAL


def test_someone_elses_offer_cannot_be_accepted(app):
    event = online_event(places=1)
    (holder,) = fill(event)
    entry, _ = waiting_team(event, 1)
    _, (stranger,) = make_team(1)
    registrations.cancel(holder, holder.made_by)
    db.session.commit()
    with pytest.raises(NotAllowed):
        registrations.accept_offer(db.session.get(Registration, entry.id), stranger)
    db.session.rollback()
    assert status_of(entry) is S.OFFERED


def test_an_expired_offer_is_refused_clearly_before_and_after_the_sweep(app):
    event = online_event(places=1, offer_hours=2)
    (holder,) = fill(event)
    entry, people = waiting_team(event, 1)
    t0 = utcnow()
    registrations.cancel(holder, holder.made_by, now=t0)
    db.session.commit()
    later = t0 + timedelta(hours=3)
    with pytest.raises(Conflict, match="lapsed"):
        registrations.accept_offer(db.session.get(Registration, entry.id), people[0], now=later)
    db.session.rollback()
    registrations.lapse_offers(event.id, later)
    db.session.commit()
    with pytest.raises(Conflict, match="lapsed"):
        registrations.accept_offer(db.session.get(Registration, entry.id), people[0], now=later)
    db.session.rollback()
    assert status_of(entry) is S.CANCELLED


def test_the_organiser_reorders_the_waiting_list_with_a_note(app):
    event = online_event(places=1)
    organiser = event.organisation.admins()[0]
    fill(event)
    a, _ = waiting_team(event, 1)
    b, _ = waiting_team(event, 1)
    c, _ = waiting_team(event, 1)
    registrations.reorder(db.session.get(Registration, c.id), 1, organiser, "Their trainee starts next week")
    db.session.commit()
    assert list(registrations.queue_places(event).items()) == [(c.id, 1), (a.id, 2), (b.id, 3)]
    step = db.session.scalars(
        sa.select(RegistrationStep)
        .where(RegistrationStep.registration_id == c.id)
        .order_by(RegistrationStep.id)
    ).all()[-1]
    assert (step.from_status, step.to_status) == (S.WAITLISTED, S.WAITLISTED)
    assert step.note == "Moved from position 3 to 1: Their trainee starts next week"
    assert step.by_id == organiser.id


def test_reordering_needs_a_note_a_position_on_the_list_and_the_organiser(app):
    event = online_event(places=1)
    organiser = event.organisation.admins()[0]
    fill(event)
    a, people = waiting_team(event, 1)
    waiting_team(event, 1)
    for position, note, field in ((1, "", "note"), (3, "Why not", "position"), (0, "Why not", "position")):
        with pytest.raises(DomainError) as refused:
            registrations.reorder(db.session.get(Registration, a.id), position, organiser, note)
        db.session.rollback()
        assert refused.value.field == field
    with pytest.raises(NotAllowed):
        registrations.reorder(db.session.get(Registration, a.id), 2, people[0], "Me first")
    db.session.rollback()
    assert registrations.queue_places(event)[a.id] == 1


def test_nothing_is_offered_once_the_event_has_started(app):
    event = online_event(places=1)
    (holder,) = fill(event)
    entry, _ = waiting_team(event, 1)
    organiser = event.organisation.admins()[0]
    registrations.cancel(holder, organiser, now=event.starts_at - timedelta(minutes=30))
    db.session.commit()
    assert status_of(entry) is S.OFFERED  # half an hour before: offered, until the start
    assert db.session.get(Registration, entry.id).offer_expires_at == event.starts_at
    registrations.lapse_offers(event.id, event.starts_at)
    db.session.commit()
    assert status_of(entry) is S.CANCELLED
    assert held_in_db(event.id) == (0, 0)  # the start has passed: nothing more is offered


def test_an_offer_waits_on_the_persons_dashboard_until_it_lapses(app):
    from foundation.events.todo import events_todo
    from foundation.members.organisations import organisations_for
    from foundation.todo import Viewer

    event = online_event(places=1, title="Inclusive youth work")
    (holder,) = fill(event)
    entry, (me,) = waiting_team(event, 1)
    registrations.cancel(holder, holder.made_by)
    db.session.commit()
    viewer = Viewer.of(me, organisations_for(me))
    (offers,) = [g for g in events_todo(viewer) if g.items]
    assert offers.items[0].text == "Places offered: Inclusive youth work"
    assert offers.items[0].url == f"/events/registrations/{entry.id}"
    expires = db.session.get(Registration, entry.id).offer_expires_at
    later = Viewer(me, viewer.organisations, viewer.admin_org_ids, now=expires + timedelta(seconds=1))
    assert not any(g.items for g in events_todo(later))


def test_the_organisers_admins_see_entries_waiting_for_approval(app):
    from foundation.events.todo import events_todo
    from foundation.members.organisations import organisations_for
    from foundation.todo import Viewer

    event = online_event(places=3, requires_approval=True, title="Trustee governance")
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1, name="Westbury Youth")
    db.session.commit()
    register(event, org, [me])
    groups = [g for g in events_todo(Viewer.of(organiser, organisations_for(organiser))) if g.items]
    assert [(g.title, g.items[0].text) for g in groups] == [
        ("Event registrations to approve", "Trustee governance: Westbury Youth")
    ]
