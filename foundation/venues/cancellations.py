"""Changing a booking already made: cancelling one date, a date and those after it, or every upcoming date
(by the booking organisation, or by the venue's admins with a reason the booker is told), and extending a weekly
series past its last date.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from flask import url_for

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.types import LONDON, utcnow
from foundation.venues.booking import (
    ACTIVE,
    CANCELLED,
    BookingRequest,
    Plan,
    apply_transition,
    check_request,
    choose_dates,
    dates_text,
    fresh_occurrences,
    is_booker_member,
    is_owner_admin,
    lock_spaces,
    place_dates,
    plan_booking,
    slot_label,
    tell_booker,
)
from foundation.venues.models import Booking, Occurrence, Recurrence

# --- cancellation ------------------------------------------------------------------------------------------------


class CancelScope(enum.Enum):
    ONE = "one"
    FOLLOWING = "following"
    SERIES = "series"

    @property
    def label(self) -> str:
        return {
            CancelScope.ONE: "This date only",
            CancelScope.FOLLOWING: "This date and all following",
            CancelScope.SERIES: "Every upcoming date",
        }[self]


def cancel_targets(
    booking: Booking, scope: CancelScope, occurrence_id: int | None, now: datetime | None = None
) -> list[Occurrence]:
    """The occurrences a cancellation would touch (also shown on the confirmation page). Raises if none can be."""
    now = now or utcnow()
    fresh = fresh_occurrences(booking)
    upcoming = [o for o in fresh if o.status in ACTIVE and o.starts_at > now]
    if scope is CancelScope.SERIES:
        targets = upcoming
    else:
        anchor = next((o for o in fresh if o.id == occurrence_id), None)
        if anchor is None:
            raise DomainError("Choose a date of this booking.", field="occurrence_id")
        when = slot_label(anchor.starts_at, anchor.ends_at)
        if anchor.status not in ACTIVE:
            raise IllegalTransition(f"{when} is already {anchor.status.label.lower()}.")
        if anchor.starts_at <= now:
            raise IllegalTransition(f"{when} has already started or passed.")
        targets = (
            [anchor] if scope is CancelScope.ONE else [o for o in upcoming if o.starts_at >= anchor.starts_at]
        )
    if not targets:
        raise IllegalTransition("There are no upcoming dates left to cancel.")
    return targets


def cancel(
    booking: Booking,
    scope: CancelScope,
    user: User,
    occurrence_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Occurrence]:
    """Cancel one date, a date and those after it, or every upcoming date. Past dates stay as they were.

    The booking organisation's members may cancel; the venue's admins may too, with a reason the booker is told.
    """
    now = now or utcnow()
    reason = (reason or "").strip() or None
    by_booker = is_booker_member(user, booking)
    if not by_booker and not is_owner_admin(user, booking):
        raise NotAllowed("Only the booking organisation's members or the venue's admins can cancel it.")
    if not by_booker and reason is None:
        raise DomainError("Give the booker a reason for cancelling.", field="reason")
    lock_spaces(booking.space)
    targets = cancel_targets(booking, scope, occurrence_id, now)
    apply_transition(targets, CANCELLED, user, reason, now)
    if by_booker:
        if booking.organisation_id != booking.space.venue.organisation_id:
            _tell_owner_cancelled(booking, targets, user)
    else:
        tell_booker(booking, targets, "cancelled", reason=reason)
    return targets


def _tell_owner_cancelled(booking: Booking, occurrences: Sequence[Occurrence], user: User) -> None:
    venue = booking.space.venue
    for admin in venue.organisation.admins():
        notify(
            admin,
            NotificationKind.BOOKINGS,
            f"Booking cancelled by {booking.organisation.name}: {booking.space.name}, {venue.name}",
            "booking_cancelled",
            link=url_for("venues.booking_detail", booking_id=booking.id),
            booking=booking,
            venue=venue,
            dates=dates_text(occurrences),
            by_owner=False,
            reason=occurrences[0].status_reason,
        )


# --- extending a weekly series -----------------------------------------------------------------------------------


def extension_request(booking: Booking, user: User, until: date) -> BookingRequest:
    if booking.recurrence is not Recurrence.WEEKLY:
        raise DomainError("Only a weekly booking can be extended.")
    if until <= booking.last_date:
        raise DomainError(f"Choose a date after {booking.last_date:%-d %B %Y}.", field="until")
    return BookingRequest(
        space=booking.space,
        organisation=booking.organisation,
        booked_by=user,
        purpose=booking.purpose,
        expected_attendance=booking.expected_attendance,
        first_date=booking.last_date + timedelta(days=1),
        start_time=booking.start_time,
        end_time=booking.end_time,
        weekdays=tuple(booking.weekday_list),
        until=until,
        skip_school_holidays=booking.skip_school_holidays,
        skip_bank_holidays=booking.skip_bank_holidays,
    )


def plan_extension(booking: Booking, user: User, until: date, now: datetime | None = None) -> Plan:
    return plan_booking(extension_request(booking, user, until), now, exclude=_existing_days(booking))


def extend_booking(
    booking: Booking, user: User, until: date, dates: Iterable[date], now: datetime | None = None
) -> list[Occurrence]:
    """Add dates after the current end of a weekly series. Only new dates are generated: a cancelled or
    declined date is an existing occurrence and never comes back."""
    now = now or utcnow()
    req = extension_request(booking, user, until)
    check_request(req)
    lock_spaces(booking.space)
    plan = plan_booking(req, now, exclude=_existing_days(booking))
    chosen = choose_dates(plan, dates)
    booking.last_date = req.last_date
    return place_dates(booking, booking.space, chosen, plan.needs_approval, now)


def _existing_days(booking: Booking) -> set[date]:
    return {o.starts_at.astimezone(LONDON).date() for o in fresh_occurrences(booking)}
