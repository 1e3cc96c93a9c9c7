"""Booking messages sent on a schedule rather than by a change: the reminder the day before each confirmed date,
and the daily digest of waiting requests for the venue admins who chose it over one email per request. Each run
claims what it sends with a conditional UPDATE, so running it again, or twice at once, sends nothing twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import url_for

from foundation.extensions import db
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.types import LONDON, london_today, utcnow
from foundation.venues.approvals import admin_org_ids, request_queue
from foundation.venues.booking import CONFIRMED, booker_recipients, pattern_summary, slot_label
from foundation.venues.models import BookingAlertPreference, Occurrence, RequestAlerts


def _london_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    return start, end


def send_reminders(now: datetime | None = None) -> int:
    """Remind bookers of each confirmed date starting tomorrow (Europe/London). Once per occurrence, however
    often this runs: the conditional UPDATE claims it, and of two concurrent runs only one updates the row."""
    now = now or utcnow()
    lo, hi = _london_day_bounds(london_today(now) + timedelta(days=1))
    ids = db.session.scalars(
        sa.select(Occurrence.id)
        .where(
            Occurrence.status == CONFIRMED,
            Occurrence.reminder_sent_at.is_(None),
            Occurrence.starts_at >= max(lo, now),
            Occurrence.starts_at < hi,
        )
        .order_by(Occurrence.starts_at)
    ).all()
    sent = 0
    for occ_id in ids:
        claimed = db.session.execute(
            sa.update(Occurrence)
            .where(
                Occurrence.id == occ_id, Occurrence.reminder_sent_at.is_(None), Occurrence.status == CONFIRMED
            )
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if cast("sa.CursorResult[Any]", claimed).rowcount != 1:  # an UPDATE's result
            continue
        occ = db.session.get(Occurrence, occ_id)
        assert occ is not None
        booking = occ.booking
        venue = booking.space.venue
        for user in booker_recipients(booking):
            notify(
                user,
                NotificationKind.BOOKINGS,
                f"Tomorrow: {booking.space.name}, {venue.name} at {occ.starts_at.astimezone(LONDON):%H:%M}",
                "booking_reminder",
                link=url_for("venues.booking_detail", booking_id=booking.id),
                booking=booking,
                venue=venue,
                occurrence=occ,
                when=slot_label(occ.starts_at, occ.ends_at),
            )
        sent += 1
    return sent


def send_digests(now: datetime | None = None) -> int:
    """One email a day to each admin who chose the digest, listing the requests waiting at their venues."""
    now = now or utcnow()
    today = london_today(now)
    prefs = db.session.scalars(
        sa.select(BookingAlertPreference).where(
            BookingAlertPreference.request_alerts == RequestAlerts.DAILY_DIGEST,
            sa.or_(
                BookingAlertPreference.last_digest_on.is_(None), BookingAlertPreference.last_digest_on < today
            ),
        )
    ).all()
    sent = 0
    for pref in prefs:
        user = db.session.get(User, pref.user_id)
        if user is None or user.closed_at is not None:
            continue
        queue = request_queue(admin_org_ids(user), now)
        if not queue:
            continue
        claimed = db.session.execute(
            sa.update(BookingAlertPreference)
            .where(
                BookingAlertPreference.id == pref.id,
                sa.or_(
                    BookingAlertPreference.last_digest_on.is_(None),
                    BookingAlertPreference.last_digest_on < today,
                ),
            )
            .values(last_digest_on=today)
            .execution_options(synchronize_session=False)
        )
        if cast("sa.CursorResult[Any]", claimed).rowcount != 1:  # an UPDATE's result
            continue
        since = now - timedelta(days=1)
        count = sum(len(item.occurrences) for item in queue)
        notify(
            user,
            NotificationKind.BOOKINGS,
            f"Booking requests waiting for you: {count} date{'s' if count != 1 else ''}",
            "booking_digest",
            link=url_for("venues.requests"),
            items=[
                {
                    "booking": item.booking,
                    "summary": pattern_summary(item.booking),
                    "dates": len(item.occurrences),
                    "new": item.booking.created_at >= since,
                    "standing": item.standing,
                }
                for item in queue
            ],
            count=count,
        )
        sent += 1
    return sent
