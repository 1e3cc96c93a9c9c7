"""What Venue Bank holds about a person (bookings made, requests decided, alert settings), and what closing
their account erases. Bookings themselves stay: the venue and the organisation still need them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from foundation.extensions import db
from foundation.members.models import User
from foundation.privacy import export_section, on_close, plain
from foundation.venues.models import Booking, BookingAlertPreference, Occurrence, Space


@export_section("bookings_made", covers=("booking.booked_by_id", "occurrence.decided_by_id"))
def _bookings(user: User) -> dict[str, list[dict[str, Any]]]:
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.booked_by_id == user.id)
        .order_by(Booking.created_at)
        .options(
            joinedload(Booking.organisation),
            joinedload(Booking.space).joinedload(Space.venue),
            selectinload(Booking.occurrences),
        )
    )
    made = [
        {
            "id": b.id,
            "organisation_id": b.organisation_id,
            "organisation": b.organisation.name,
            "venue": b.space.venue.name,
            "space": b.space.name,
            "purpose": b.purpose,
            "expected_attendance": b.expected_attendance,
            "recurrence": b.recurrence.value,
            "weekdays": b.weekday_list,
            "first_date": plain(b.first_date),
            "last_date": plain(b.last_date),
            "start_time": plain(b.start_time),
            "end_time": plain(b.end_time),
            "created_at": plain(b.created_at),
            "dates": [
                {"starts_at": plain(o.starts_at), "ends_at": plain(o.ends_at), "status": o.status.value}
                for o in b.occurrences
            ],
        }
        for b in bookings
    ]
    decided = db.session.scalars(
        sa.select(Occurrence).where(Occurrence.decided_by_id == user.id).order_by(Occurrence.decided_at)
    )
    decisions = [
        {
            "booking_id": o.booking_id,
            "starts_at": plain(o.starts_at),
            "status": o.status.value,
            "reason": o.status_reason,
            "decided_at": plain(o.decided_at),
        }
        for o in decided
    ]
    return {"made": made, "decisions_on_requests": decisions}


@export_section("booking_alert_preference", covers=("booking_alert_preference.user_id",))
def _booking_alerts(user: User) -> dict[str, Any] | None:
    pref = db.session.scalar(
        sa.select(BookingAlertPreference).where(BookingAlertPreference.user_id == user.id)
    )
    return None if pref is None else {"request_alerts": pref.request_alerts.value}


@on_close
def _erase_booking_alerts(user: User) -> None:
    db.session.execute(
        sa.delete(BookingAlertPreference)
        .where(BookingAlertPreference.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
