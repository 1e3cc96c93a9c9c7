"""The venue owner's request queue in the signed-in navigation, with the number of bookings waiting."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.members.models import MemberRole, Membership, User
from foundation.navigation import nav_count
from foundation.types import utcnow
from foundation.venues.models import Occurrence, OccurrenceStatus, Space, Venue


@nav_count("booking-requests", "Requests", "venues.requests", order=10)
def waiting_requests() -> sa.ColumnElement[Any]:
    """For admins of an organisation with venues: the bookings with upcoming dates waiting for their answer
    (as the request queue counts them); nothing for anyone else."""
    admin_venues = (
        sa.select(Venue.id)
        .join(Membership, Membership.organisation_id == Venue.organisation_id)
        .where(Membership.user_id == User.id, Membership.role == MemberRole.ADMIN)
        .correlate(User)
    )
    waiting = (
        sa.select(sa.func.count(sa.distinct(Occurrence.booking_id)))
        .join(Space, Space.id == Occurrence.space_id)
        .where(
            Space.venue_id.in_(admin_venues),
            Occurrence.status == OccurrenceStatus.REQUESTED,
            Occurrence.starts_at > utcnow(),
        )
        .correlate(User)
        .scalar_subquery()
    )
    return sa.case((admin_venues.exists(), waiting), else_=sa.null())
