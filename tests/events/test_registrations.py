"""Registering for events: who may register whom, places held, approval, cancelling and the cut-off, the event
changing or being cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.events import registrations
from foundation.events.models import (
    Event,
    EventStatus,
    LocationKind,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
)
from foundation.extensions import db
from foundation.members.models import OrganisationStatus
from foundation.notifications.models import Notification
from tests.events.factories import make_event
from tests.events.registration_factories import fill, held_in_db, make_team, register, subjects_to
from tests.factories import make_user

S = RegistrationStatus

pytestmark = pytest.mark.usefixtures("request_context")


def online_event(**kwargs):
    return make_event(where=LocationKind.ONLINE, **kwargs)


def entries_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Registration.id))) or 0


def test_a_member_registers_themselves_and_a_colleague_and_both_are_told(app):
    event = online_event(places=10)
    org, (me, colleague) = make_team(2)
    db.session.commit()
    entry = register(event, org, [me, colleague])
    assert entry.status is S.REGISTERED
    assert entry.places == 2
    assert {p.user_id for p in entry.people} == {me.id, colleague.id}
    assert held_in_db(event.id) == (2, 2)
    for person in (me, colleague):
        assert subjects_to(person) == [f"You are registered: {event.title}"]
    assert registrations.holds_place(me, event)
    assert [p.user.name for p in registrations.attendees(event)] == sorted(
        [me.name, colleague.name], key=str.lower
    )


def test_the_confirmation_carries_the_calendar_file_and_the_online_link(app):
    event = online_event(places=10)
    org, (me,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    sent = db.session.scalars(sa.select(Notification).where(Notification.user_id == me.id)).one()
    assert f"http://127.0.0.1:5000/events/{event.id}.ics" in sent.body_text  # absolute, from BASE_URL
    assert event.online_link in sent.body_text
    # The calendar file itself goes with the email, with the online link, as the registered see it.
    assert (sent.attachment_name, sent.attachment_type) == (f"event-{event.id}.ics", "text/calendar")
    calendar = Calendar.from_ical(sent.attachment)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == event.title
    assert event.online_link in sent.attachment.decode()


def test_people_from_another_organisation_are_refused_at_the_field_and_nothing_is_written(app):
    event = online_event(places=10)
    org, (me,) = make_team(1)
    _, (stranger,) = make_team(1)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, me, [me, stranger])
    db.session.rollback()
    assert refused.value.field == "people"
    assert f"only people from {org.name}" in refused.value.message
    assert entries_count() == 0
    assert held_in_db(event.id) == (0, 0)


def test_someone_who_is_not_a_member_cannot_register_for_an_organisation(app):
    event = online_event()
    org, (member,) = make_team(1)
    outsider = make_user()
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, outsider, [member])
    assert refused.value.field == "organisation"


def test_an_organisation_not_in_good_standing_cannot_register(app):
    event = online_event()
    org, (me,) = make_team(1, status=OrganisationStatus.PENDING)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, me, [me])
    assert refused.value.field == "organisation"
    assert "not in good standing" in refused.value.message
    assert entries_count() == 0


def test_nobody_chosen_is_refused(app):
    event = online_event()
    org, (me,) = make_team(1)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, me, [])
    assert refused.value.field == "people"


def test_a_person_already_registered_is_refused_by_name(app):
    event = online_event(places=10)
    org, (me, colleague) = make_team(2)
    db.session.commit()
    register(event, org, [me])
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, colleague, [colleague, me])
    db.session.rollback()
    assert refused.value.field == "people"
    assert me.name in refused.value.message
    assert entries_count() == 1
    assert held_in_db(event.id) == (1, 1)


def test_the_unique_index_is_the_last_word_on_a_person_registered_twice(app, monkeypatch):
    # As if another request registered the same person between the check and the insert.
    event = online_event(places=10)
    org, (me,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    monkeypatch.setattr(registrations, "registered_user_ids", lambda *_: set())
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, me, [me])
    db.session.rollback()
    assert refused.value.field == "people"
    assert "Already registered" in refused.value.message
    assert entries_count() == 1
    assert held_in_db(event.id) == (1, 1)


def test_the_per_organisation_limit_counts_places_already_held_and_waiting(app):
    event = online_event(places=3, per_organisation_limit=3)
    org, people = make_team(5)
    db.session.commit()
    register(event, org, people[:2])
    fill(event)  # the last place goes to someone else: the next entry of this organisation would wait
    register(event, org, people[2:3])  # waitlisted, still counted
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, people[0], people[3:4])
    assert refused.value.field == "people"
    assert "3 places per organisation" in refused.value.message
    assert "already has 3" in refused.value.message


def test_more_people_than_the_event_has_places_is_refused(app):
    event = online_event(places=2)
    org, people = make_team(3)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        registrations.register(event, org, people[0], people)
    assert refused.value.field == "people"
    assert "2 places in all" in refused.value.message


@pytest.mark.parametrize(
    ("status", "error"), [(EventStatus.DRAFT, NotFound), (EventStatus.CANCELLED, Conflict)]
)
def test_only_published_events_take_registrations(app, status, error):
    event = online_event(status=status)
    org, (me,) = make_team(1)
    db.session.commit()
    with pytest.raises(error):
        registrations.register(event, org, me, [me])


def test_an_event_that_has_started_takes_no_registrations(app):
    event = online_event()
    org, (me,) = make_team(1)
    db.session.commit()
    with pytest.raises(Conflict, match="started"):
        registrations.register(event, org, me, [me], now=event.starts_at + timedelta(minutes=1))


def test_when_full_entries_wait_in_order_and_an_entry_larger_than_the_places_left_waits_whole(app):
    event = online_event(places=3)
    first, people = make_team(3)
    second, others = make_team(1)
    db.session.commit()
    register(event, first, people[:2])
    whole = register(event, first, people[2:3])  # the last place
    assert whole.status is S.REGISTERED
    waiting = register(event, second, others)
    assert waiting.status is S.WAITLISTED
    assert waiting.queue_position == 1
    assert subjects_to(others[0]) == [f"On the waiting list: {event.title}"]
    assert held_in_db(event.id) == (3, 3)


def test_an_entry_asking_more_than_is_left_waits_for_all_its_places(app):
    event = online_event(places=3)
    fill(event, 2)
    org, people = make_team(2)
    db.session.commit()
    entry = register(event, org, people)
    assert entry.status is S.WAITLISTED  # one place is left, and it is not split
    assert held_in_db(event.id) == (2, 2)


def test_with_approval_places_are_held_until_the_organiser_decides(app):
    event = online_event(places=2, requires_approval=True)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    assert entry.status is S.PENDING_APPROVAL
    assert held_in_db(event.id) == (1, 1)
    assert not registrations.holds_place(me, event)
    with pytest.raises(NotAllowed):
        registrations.approve(entry, me)
    db.session.rollback()
    registrations.approve(entry, organiser)
    db.session.commit()
    assert db.session.get(Registration, entry.id).status is S.REGISTERED
    assert subjects_to(me)[-1] == f"Your registration is approved: {event.title}"
    assert registrations.holds_place(me, event)


def test_declining_frees_the_places_and_offers_them_on(app):
    event = online_event(places=1, requires_approval=True)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    other, (waiting,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    queued = register(event, other, [waiting])
    assert queued.status is S.WAITLISTED
    registrations.decline(entry, organiser, "Places are for Calne groups this time")
    db.session.commit()
    assert db.session.get(Registration, entry.id).status is S.CANCELLED
    assert db.session.get(Registration, queued.id).status is S.OFFERED
    assert "not approved" in subjects_to(me)[-1]
    assert held_in_db(event.id) == (1, 1)


def test_cancelling_before_the_cut_off_frees_the_places_and_the_people_may_register_again(app):
    event = online_event(places=1)
    org, (me,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    registrations.cancel(entry, me)
    db.session.commit()
    entry = db.session.get(Registration, entry.id)
    assert entry.status is S.CANCELLED
    assert not entry.late_cancellation
    assert held_in_db(event.id) == (0, 0)
    assert not any(p.live for p in entry.people)
    again = register(event, org, [me])
    assert again.status is S.REGISTERED


def test_a_colleague_named_on_the_entry_may_not_cancel_it_but_the_maker_and_an_admin_may(app):
    event = online_event(places=5)
    org, (admin, maker, colleague) = make_team(3)
    db.session.commit()
    entry = register(event, org, [maker, colleague], by=maker)
    with pytest.raises(NotAllowed):
        registrations.cancel(entry, colleague)
    db.session.rollback()
    registrations.cancel(entry, admin)
    db.session.commit()
    assert db.session.get(Registration, entry.id).status is S.CANCELLED


def test_after_the_cut_off_attendees_are_sent_to_the_organiser_who_cancels_late(app):
    event = online_event(places=5, cancel_cutoff_hours=48)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    late = event.starts_at - timedelta(hours=47)
    with pytest.raises(Conflict) as refused:
        registrations.cancel(entry, me, now=late)
    db.session.rollback()
    assert "contact the organiser" in refused.value.message
    assert db.session.get(Registration, entry.id).status is S.REGISTERED
    registrations.cancel(entry, organiser, now=late)
    db.session.commit()
    entry = db.session.get(Registration, entry.id)
    assert entry.status is S.CANCELLED
    assert entry.late_cancellation
    assert registrations.reliability([org.id]) == {org.id: (1, 0)}


def test_leaving_the_waiting_list_is_allowed_after_the_cut_off(app):
    event = online_event(places=1)
    fill(event)
    org, (me,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    registrations.cancel(entry, me, now=event.starts_at - timedelta(hours=1))
    db.session.commit()
    entry = db.session.get(Registration, entry.id)
    assert entry.status is S.CANCELLED
    assert not entry.late_cancellation


def test_nobody_cancels_once_the_event_has_started(app):
    event = online_event(places=1)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    db.session.commit()
    entry = register(event, org, [me])
    with pytest.raises(Conflict, match="started"):
        registrations.cancel(entry, organiser, now=event.starts_at)


def test_reliability_counts_late_cancellations_and_no_shows_per_organisation_in_one_query(app):
    event = online_event(places=5)
    org, (a,) = make_team(1)
    quiet, (c,) = make_team(1)
    db.session.commit()
    first = register(event, org, [a])
    register(event, quiet, [c])
    first = db.session.get(Registration, first.id)
    first.status = S.NO_SHOW  # as the register marks it
    db.session.commit()
    assert registrations.reliability([org.id, quiet.id]) == {org.id: (0, 1), quiet.id: (0, 0)}


def test_the_event_cancelled_cancels_every_entry_and_tells_everyone(app):
    event = online_event(places=1)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    other, (waiting,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    register(event, other, [waiting])
    from foundation.events import steps

    event = steps.lock_event(event.id)
    event.status = EventStatus.CANCELLED
    assert registrations.event_cancelled(event, organiser, "The trainer is ill") == 2
    db.session.commit()
    statuses = set(db.session.scalars(sa.select(Registration.status)))
    assert statuses == {S.CANCELLED}
    assert held_in_db(event.id) == (0, 0)
    for person in (me, waiting):
        assert subjects_to(person)[-1] == f"Event cancelled: {event.title}"
    assert not db.session.scalar(sa.select(sa.func.count()).where(RegistrationPlace.live.is_(True)))


def test_a_change_to_the_event_is_told_to_everyone_registered_or_waiting(app):
    event = online_event(places=1)
    organiser = event.organisation.admins()[0]
    org, (me, colleague) = make_team(2)
    other, (waiting,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    register(event, other, [waiting])
    gone = register(event, org, [colleague])
    registrations.cancel(gone, colleague)
    db.session.commit()
    from foundation.events import steps

    event = steps.lock_event(event.id)
    assert registrations.event_changed(event, organiser, "It now starts at 11:00.") == 2
    db.session.commit()
    assert subjects_to(me)[-1] == f"Event changed: {event.title}"
    assert subjects_to(waiting)[-1] == f"Event changed: {event.title}"
    assert f"Event changed: {event.title}" not in subjects_to(colleague)


def test_the_demo_has_a_full_event_with_a_waiting_list_of_several_places_per_entry(app):
    from foundation.events.seed import FULL_EVENT_TITLE, PAST_EVENT_TITLE
    from foundation.seed import demo_logins, seed

    list(seed())
    full = db.session.scalar(sa.select(Event).where(Event.title == FULL_EVENT_TITLE))
    assert full.places_left == 0
    assert held_in_db(full.id) == (full.places, full.places)
    waiting = registrations.waiting_list(full)
    assert len(waiting) >= 3
    assert any(entry.places > 1 for entry in waiting)
    past = db.session.scalar(sa.select(Event).where(Event.title == PAST_EVENT_TITLE))
    assert registrations.attendees(past)  # the register has people (marked by the attendance demo)
    assert list(seed())[: -len(list(demo_logins()))] == []  # a second run adds nothing


def test_a_persons_export_has_their_registrations_and_feedback_and_closing_erases_the_words(app):
    from foundation.events.models import EventFeedback
    from foundation.privacy import ERASED_TEXT, export_user_data, run_close_steps

    event = online_event(places=5, title="Digital safety for youth clubs")
    org, (me, colleague) = make_team(2)
    db.session.commit()
    entry = register(event, org, [me, colleague])
    mine = next(p for p in entry.people if p.user_id == colleague.id)
    db.session.add(
        EventFeedback(event_id=event.id, place_id=mine.id, rating=4, comments="Clear and practical")
    )
    db.session.commit()
    exported = export_user_data(colleague)
    (row,) = exported["event_registrations"]
    assert row["event"] == "Digital safety for youth clubs"
    assert row["you_are_named"] and not row["made_by_you"]
    assert row["feedback"]["comments"] == "Clear and practical"
    assert "other_records" not in exported
    assert export_user_data(me)["event_registrations"][0]["made_by_you"]
    run_close_steps(colleague)
    db.session.commit()
    assert db.session.scalar(sa.select(EventFeedback.comments)) == ERASED_TEXT
