"""Venue Bank's part when an organisation leaves good standing (members' `organisation_standing_changed`).

Whatever staff choose, its pending requests stay in the owners' queues but cannot be approved until it is back in
good standing (`approvals.approve` checks), and it cannot book (`booking.check_can_book`). When staff choose to
cancel its bookings, every upcoming date it holds or has asked for is cancelled here, inside the vetting
decision's transaction: the venue owners and the organisation are each told once, with every date. Dates already
under way or past stay as they were.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.members.signals import StandingChange, organisation_standing_changed
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.types import utcnow
from foundation.venues.availability import occupied_space_ids
from foundation.venues.booking import (
    ACTIVE,
    CANCELLED,
    apply_transition,
    booker_recipients,
    dates_text,
)
from foundation.venues.models import Booking, Occurrence, Space


@organisation_standing_changed.connect
def _on_standing_changed(sender: object, change: StandingChange, **_: object) -> str | None:
    if not change.cancel_future_bookings:
        return None
    org = db.session.get(Organisation, change.organisation_id)
    staff = db.session.get(User, change.by_user_id)
    if org is None or staff is None:
        return None
    cancelled = cancel_upcoming_bookings(org, staff)
    if not cancelled:
        return "It had no upcoming bookings to cancel."
    bookings = len({o.booking_id for o in cancelled})
    return (
        f"{len(cancelled)} upcoming booking date{'s' if len(cancelled) != 1 else ''} "
        f"({bookings} booking{'s' if bookings != 1 else ''}) cancelled; the venue owners and the organisation "
        "have been told."
    )


def cancellation_reason(org: Organisation) -> str:
    # Neutral on purpose: the vetting message is for the organisation alone.
    return f"Cancelled by the Foundation: {org.name} is no longer in good standing."


def cancel_upcoming_bookings(org: Organisation, by: User, now: datetime | None = None) -> list[Occurrence]:
    """Cancel every upcoming confirmed or requested date of the organisation's bookings, and tell the owners
    of the venues and the organisation. Writes in the caller's transaction; returns the dates cancelled."""
    now = now or utcnow()
    upcoming = (
        sa.select(Occurrence)
        .join(Occurrence.booking)
        .where(Booking.organisation_id == org.id, Occurrence.status.in_(ACTIVE), Occurrence.starts_at > now)
    )
    space_ids = set(db.session.scalars(upcoming.with_only_columns(Occurrence.space_id).distinct()))
    if not space_ids:
        return []
    _lock(space_ids)
    # Read again under the locks: a booking or approval that committed meanwhile is included.
    occurrences = list(
        db.session.scalars(
            upcoming.order_by(Occurrence.starts_at)
            .options(selectinload(Occurrence.booking))
            .execution_options(populate_existing=True)
        )
    )
    if not occurrences:
        return []
    apply_transition(occurrences, CANCELLED, by, cancellation_reason(org), now)
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occ in occurrences:
        by_booking[occ.booking_id].append(occ)
    bookings = [(occs[0].booking, occs) for occs in by_booking.values()]
    _tell_owners(org, bookings)
    _tell_organisation(org, bookings)
    return occurrences


def _lock(space_ids: set[int]) -> None:
    """The spaces' rows, as booking and approving lock them (ascending id), so neither slips in meanwhile."""
    held: set[int] = set()
    for space in db.session.scalars(sa.select(Space).where(Space.id.in_(space_ids))):
        held.update(occupied_space_ids(space))
    db.session.execute(
        sa.select(Space.id)
        .where(Space.id.in_(sorted(held)))
        .order_by(Space.id)
        .with_for_update(key_share=True)
    ).all()


Cancelled = list[tuple[Booking, list[Occurrence]]]


def _tell_owners(org: Organisation, bookings: Cancelled) -> None:
    """Each venue-owning organisation's admins get one message listing its cancelled bookings."""
    by_owner: dict[int, Cancelled] = defaultdict(list)
    for booking, occs in bookings:
        owner_id = booking.space.venue.organisation_id
        if owner_id != org.id:  # its own venues: the organisation hears below
            by_owner[owner_id].append((booking, occs))
    for owner_id, owned in by_owner.items():
        owner = db.session.get(Organisation, owner_id)
        assert owner is not None
        for admin in owner.admins():
            notify(
                admin,
                NotificationKind.BOOKINGS,
                f"Bookings by {org.name} cancelled: it is no longer in good standing"[:200],
                "booking_cancelled_standing",
                link=url_for("venues.requests"),
                org=org,
                for_owner=True,
                items=_items(owned),
            )


def _tell_organisation(org: Organisation, bookings: Cancelled) -> None:
    """Its admins and the people who made the bookings, each once, with every cancelled date."""
    people: dict[int, User] = {u.id: u for u in org.admins()}
    for booking, _ in bookings:
        people.update({u.id: u for u in booker_recipients(booking)})
    for user in people.values():
        notify(
            user,
            NotificationKind.BOOKINGS,
            f"{org.name}: your upcoming bookings have been cancelled"[:200],
            "booking_cancelled_standing",
            link=url_for("venues.organisation_bookings", org_id=org.id),
            org=org,
            for_owner=False,
            items=_items(bookings),
        )


def _items(bookings: Cancelled) -> list[dict[str, object]]:
    return [
        {"booking": booking, "venue": booking.space.venue, "dates": dates_text(occs)}
        for booking, occs in sorted(bookings, key=lambda item: item[1][0].starts_at)
    ]
