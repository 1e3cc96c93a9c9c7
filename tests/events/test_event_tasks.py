"""The registration beat tasks with a frozen clock: lapsed offers pass on, the day-before reminder and the feedback
request each go once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from foundation.events import tasks
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.notifications.models import Notification
from tests.events.factories import make_event
from tests.events.registration_factories import fill, make_team, register, subjects_to

S = RegistrationStatus


def online_event(**kwargs) -> Event:
    return make_event(where=LocationKind.ONLINE, **kwargs)


def messages_with(subject_part: str) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(Notification.subject.contains(subject_part))
        )
        or 0
    )


def test_the_beat_runs_each_task_on_its_schedule(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["lapse-event-offers"]["schedule"] == 300.0
    assert schedule["event-reminders"]["task"] == tasks.send_event_reminders.name
    assert schedule["event-feedback-requests"]["task"] == tasks.send_feedback_requests.name


def test_lapse_task_cancels_lapsed_offers_and_offers_the_places_on(app, request_context):  # noqa: ARG001
    event = online_event(places=1, offer_hours=24)
    (holder,) = fill(event)
    first_org, (first,) = make_team(1)
    second_org, (second,) = make_team(1)
    db.session.commit()
    waiting = register(event, first_org, [first])
    nxt = register(event, second_org, [second])
    from foundation.events import registrations

    t0 = event.starts_at - timedelta(days=3)
    registrations.cancel(holder, holder.made_by, now=t0)
    db.session.commit()
    assert tasks.lapse_offers.run((t0 + timedelta(hours=23)).isoformat()) == 0
    assert tasks.lapse_offers.run((t0 + timedelta(hours=24)).isoformat()) == 1
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status is S.CANCELLED
    assert db.session.get(Registration, nxt.id).status is S.OFFERED
    assert tasks.lapse_offers.run((t0 + timedelta(hours=25)).isoformat()) == 0
    assert subjects_to(first)[-1].startswith("Your offer of places has lapsed")


def test_the_day_before_reminder_goes_once_to_registered_people_only(app, request_context):  # noqa: ARG001
    event = online_event(places=1, title="First aid at work")
    org, (me,) = make_team(1)
    waiting_org, (waiting,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    register(event, waiting_org, [waiting])
    two_days = event.starts_at - timedelta(hours=48)
    assert tasks.send_event_reminders.run(two_days.isoformat()) == 0
    day_before = event.starts_at - timedelta(hours=23)
    assert tasks.send_event_reminders.run(day_before.isoformat()) == 1
    assert tasks.send_event_reminders.run((day_before + timedelta(hours=1)).isoformat()) == 0
    assert messages_with("Reminder: First aid at work") == 1
    assert subjects_to(me)[-1].startswith("Reminder: First aid at work starts")
    assert not any(s.startswith("Reminder") for s in subjects_to(waiting))


def test_a_cancelled_event_sends_no_reminder(app, request_context):  # noqa: ARG001
    event = online_event(places=2)
    org, (me,) = make_team(1)
    db.session.commit()
    register(event, org, [me])
    from foundation.events import steps
    from foundation.events.models import EventStatus

    event = steps.lock_event(event.id)
    event.status = EventStatus.CANCELLED
    db.session.commit()
    assert tasks.send_event_reminders.run((event.starts_at - timedelta(hours=2)).isoformat()) == 0


def test_feedback_is_asked_of_the_people_who_came_once_the_event_has_ended(app, request_context):  # noqa: ARG001
    event = online_event(places=3, title="Youth voice workshop")
    org, (came, absent) = make_team(2)
    db.session.commit()
    entry = register(event, org, [came, absent])
    entry = db.session.get(Registration, entry.id)
    # The register marked: one came, one did not (as the register page records it).
    entry.status = S.ATTENDED
    for person in entry.people:
        person.attended = person.user_id == came.id
    db.session.commit()
    during = event.starts_at + timedelta(minutes=30)
    assert tasks.send_feedback_requests.run(during.isoformat()) == 0
    after = event.ends_at + timedelta(hours=1)
    assert tasks.send_feedback_requests.run(after.isoformat()) == 1
    assert tasks.send_feedback_requests.run((after + timedelta(hours=1)).isoformat()) == 0
    assert subjects_to(came)[-1] == "How was Youth voice workshop?"
    assert "How was Youth voice workshop?" not in subjects_to(absent)
    body = db.session.scalar(
        sa.select(Notification.body_text)
        .where(Notification.user_id == came.id)
        .order_by(Notification.id.desc())
    )
    assert f"/events/{event.id}/feedback" in body
    # Weeks later nothing more is asked.
    assert tasks.send_feedback_requests.run((after + timedelta(days=30)).isoformat()) == 0
