"""Things waiting on the dashboard from events: offers of places waiting for the person's answer (the soonest to
lapse first), and for the admins of an organiser organisation the registrations waiting for their approval
(one query each)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.events.models import Event, EventStatus, Registration, RegistrationPlace, RegistrationStatus
from foundation.events.registrations import when
from foundation.members.models import Organisation
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

URGENT_WITHIN = timedelta(hours=12)


@todo_section("events", order=40)
def events_todo(viewer: Viewer) -> list[TodoGroup]:
    return _offers(viewer) + _approvals(viewer)


def _offers(viewer: Viewer) -> list[TodoGroup]:
    named = sa.select(RegistrationPlace.registration_id).where(RegistrationPlace.user_id == viewer.user.id)
    rows, total = first_rows(
        sa.select(Registration.id, Registration.places, Registration.offer_expires_at, Event.title)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status == RegistrationStatus.OFFERED,
            Registration.offer_expires_at > viewer.now,
            sa.or_(Registration.id.in_(named), Registration.made_by_id == viewer.user.id),
        )
        .order_by(Registration.offer_expires_at, Registration.id)
    )
    items = [
        TodoItem(
            f"Places offered: {title}",
            url_for("events.registration", registration_id=rid),
            detail=f"{places} place{'s' if places != 1 else ''}, answer by {when(expires)}",
            urgent=expires - viewer.now <= URGENT_WITHIN,
        )
        for rid, places, expires, title in rows
    ]
    return [
        TodoGroup(
            Audience.YOU,
            "Event places offered to you",
            items,
            total,
            url_for("events.my_registrations"),
            "All your events",
        )
    ]


def _approvals(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.admin_org_ids:
        return []
    rows, total = first_rows(
        sa.select(Registration.id, Registration.places, Event.title, Organisation.name)
        .join(Event, Event.id == Registration.event_id)
        .join(Organisation, Organisation.id == Registration.organisation_id)
        .where(
            Registration.status == RegistrationStatus.PENDING_APPROVAL,
            Event.organisation_id.in_(viewer.admin_org_ids),
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > viewer.now,
        )
        .order_by(Registration.created_at, Registration.id)
    )
    items = [
        TodoItem(
            f"{title}: {org}",
            url_for("events.registration", registration_id=rid),
            detail=f"{places} place{'s' if places != 1 else ''} waiting for approval",
        )
        for rid, places, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Event registrations to approve", items, total)]
