"""Things waiting on the dashboard from the Venue Bank: the organisations' bookings coming up, and the booking
requests waiting for them as venue owners."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.members.models import Organisation
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section
from foundation.types import LONDON
from foundation.venues.approvals import waiting_bookings
from foundation.venues.models import Booking, Occurrence, OccurrenceStatus, Space, Venue

COMING_UP = timedelta(days=14)


@todo_section("venues", order=30)
def venues_todo(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.organisations:
        return []
    groups = [_coming_up(viewer)]
    if viewer.admin_org_ids:
        groups.insert(0, _requests(viewer))
    return groups


def _coming_up(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Occurrence.starts_at, Occurrence.status, Booking.id, Space.name, Venue.name)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(Space, Space.id == Occurrence.space_id)
        .join(Venue, Venue.id == Space.venue_id)
        .where(
            Booking.organisation_id.in_(viewer.org_ids),
            Occurrence.status.in_([OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED]),
            Occurrence.starts_at > viewer.now,
            Occurrence.starts_at <= viewer.now + COMING_UP,
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    items = [
        TodoItem(
            f"{space} at {venue}, {starts_at.astimezone(LONDON):%a %-d %b, %H:%M}",
            url_for("venues.booking_detail", booking_id=booking_id),
            detail="waiting for the venue's answer" if status is OccurrenceStatus.REQUESTED else "confirmed",
        )
        for starts_at, status, booking_id, space, venue in rows
    ]
    return TodoGroup(
        Audience.ORGANISATIONS,
        "Bookings in the next two weeks",
        items,
        total,
        url_for("venues.my_bookings"),
        "All your bookings",
    )


def _requests(viewer: Viewer) -> TodoGroup:
    waiting = waiting_bookings(viewer.admin_org_ids, viewer.now)
    rows, total = first_rows(
        sa.select(Booking.id, Booking.purpose, Organisation.name, Space.name)
        .join(Organisation, Organisation.id == Booking.organisation_id)
        .join(Space, Space.id == Booking.space_id)
        .where(Booking.id.in_(waiting.order_by(None)))
        .order_by(Booking.created_at, Booking.id)
    )
    items = [
        TodoItem(
            f"{org} asks for {space}: {purpose}", url_for("venues.requests", _anchor=f"booking-{booking_id}")
        )
        for booking_id, purpose, org, space in rows
    ]
    return TodoGroup(
        Audience.ORGANISATIONS,
        "Booking requests to answer",
        items,
        total,
        url_for("venues.requests"),
        "The request queue",
    )
