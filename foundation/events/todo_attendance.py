"""Things waiting on the dashboard after an event: for the admins of an organiser organisation, registers still to
mark (events that have started in the last 30 days with people not yet marked), and for the person, feedback
still to give on events they attended in the last 14 days (one query each)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.events.models import (
    Event,
    EventFeedback,
    EventStatus,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
)
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

REGISTERS_WITHIN = timedelta(days=30)
FEEDBACK_WITHIN = timedelta(days=14)


@todo_section("events-on-the-day", order=41)
def on_the_day_todo(viewer: Viewer) -> list[TodoGroup]:
    return _registers(viewer) + _feedback(viewer)


def _registers(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.admin_org_ids:
        return []
    unmarked = sa.func.count(RegistrationPlace.id)
    rows, total = first_rows(
        sa.select(Event.id, Event.title, Event.starts_at, unmarked)
        .join(Registration, Registration.event_id == Event.id)
        .join(RegistrationPlace, RegistrationPlace.registration_id == Registration.id)
        .where(
            Event.organisation_id.in_(viewer.admin_org_ids),
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at <= viewer.now,
            Event.starts_at > viewer.now - REGISTERS_WITHIN,
            Registration.status == RegistrationStatus.REGISTERED,
            RegistrationPlace.live.is_(True),
        )
        .group_by(Event.id, Event.title, Event.starts_at)
        .order_by(Event.starts_at, Event.id)
    )
    items = [
        TodoItem(
            f"Mark the register: {title}",
            url_for("events.register_sheet", event_id=event_id),
            detail=f"{n} {'person' if n == 1 else 'people'} not marked yet",
            urgent=viewer.now - starts > timedelta(days=7),
        )
        for event_id, title, starts, n in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Registers to mark", items, total)]


def _feedback(viewer: Viewer) -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(Event.id, Event.title)
        .join(RegistrationPlace, RegistrationPlace.event_id == Event.id)
        .join(Registration, Registration.id == RegistrationPlace.registration_id)
        .outerjoin(EventFeedback, EventFeedback.place_id == RegistrationPlace.id)
        .where(
            RegistrationPlace.user_id == viewer.user.id,
            RegistrationPlace.live.is_(True),
            RegistrationPlace.attended.is_(True),
            Registration.status == RegistrationStatus.ATTENDED,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > viewer.now - FEEDBACK_WITHIN,
            EventFeedback.id.is_(None),
        )
        .order_by(Event.ends_at.desc(), Event.id)
    )
    items = [
        TodoItem(
            f"How was {title}?", url_for("events.feedback_form", event_id=event_id), detail="Give feedback"
        )
        for event_id, title in rows
    ]
    return [TodoGroup(Audience.YOU, "Feedback to give", items, total)]
