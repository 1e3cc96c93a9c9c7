"""The venue owner's side of booking: which venues a user's organisations own, the queue of requests waiting
for a decision (with the clashes and competing requests the owner should weigh), the confirmed dates coming up,
and approving or declining requested dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, Standing, User
from foundation.members.organisations import good_standing
from foundation.pagination import Page, paginate
from foundation.types import LONDON, utcnow
from foundation.venues.availability import Interval, live_overlaps, occupied_space_ids
from foundation.venues.booking import (
    CONFIRMED,
    DECLINED,
    REQUESTED,
    apply_transition,
    clash_error,
    fresh_occurrences,
    is_owner_admin,
    lock_spaces,
    slot_label,
    tell_booker,
)
from foundation.venues.models import Booking, Occurrence, Space, SpaceOccupancy, Venue

# --- the queue ---------------------------------------------------------------------------------------------------


def admin_org_ids(user: User) -> list[int]:
    return [m.organisation_id for m in user.memberships if m.role is MemberRole.ADMIN]


def owns_venues(org_ids: Sequence[int]) -> bool:
    if not org_ids:
        return False
    return db.session.scalar(sa.select(sa.func.count(Venue.id)).where(Venue.organisation_id.in_(org_ids))) > 0


@dataclass
class QueueItem:
    """A booking with dates waiting for the owner's decision, and what the owner needs to decide."""

    booking: Booking
    occurrences: list[Occurrence]
    standing: Standing
    clashes: dict[int, list[Interval]]  # occurrence id -> live bookings it overlaps
    competing: dict[int, int]  # occurrence id -> other pending requests it overlaps


QUEUE_PAGE_SIZE = 20


def waiting_bookings(org_ids: Sequence[int], now: datetime) -> sa.Select[tuple[int]]:
    """Ids of bookings with upcoming requested dates at these organisations' venues, oldest request first."""
    return (
        sa.select(Booking.id)
        .join(Booking.space)
        .join(Space.venue)
        .where(
            Venue.organisation_id.in_(org_ids),
            sa.exists().where(
                Occurrence.booking_id == Booking.id,
                Occurrence.status == REQUESTED,
                Occurrence.starts_at > now,
            ),
        )
        .order_by(Booking.created_at, Booking.id)
    )


def request_queue(org_ids: Sequence[int], now: datetime | None = None) -> list[QueueItem]:
    """Every booking with upcoming requested dates at venues of these organisations, oldest request first."""
    now = now or utcnow()
    if not org_ids:
        return []
    return _queue_items(list(db.session.scalars(waiting_bookings(org_ids, now))), org_ids, now)


def request_queue_page(org_ids: Sequence[int], page: int, now: datetime | None = None) -> Page[QueueItem]:
    """One page of the queue, with how many bookings wait in all."""
    now = now or utcnow()
    if not org_ids:
        return Page([], 1, QUEUE_PAGE_SIZE, 0)
    ids = paginate(waiting_bookings(org_ids, now), page, QUEUE_PAGE_SIZE)
    return Page(_queue_items(ids.items, org_ids, now), ids.page, ids.per_page, ids.total)


def _queue_items(booking_ids: Sequence[int], org_ids: Sequence[int], now: datetime) -> list[QueueItem]:
    """The bookings' requested dates with their clashes and competing requests, in a fixed number of queries."""
    if not booking_ids:
        return []
    occurrences = db.session.scalars(
        sa.select(Occurrence)
        .join(Occurrence.booking)
        .where(
            Occurrence.booking_id.in_(booking_ids), Occurrence.status == REQUESTED, Occurrence.starts_at > now
        )
        .order_by(Booking.created_at, Booking.id, Occurrence.starts_at)
        .options(
            contains_eager(Occurrence.booking).joinedload(Booking.space).joinedload(Space.venue),
            contains_eager(Occurrence.booking).joinedload(Booking.booked_by),
            contains_eager(Occurrence.booking)
            .joinedload(Booking.organisation)
            .selectinload(Organisation.documents),
        )
    ).all()
    grouped: dict[int, list[Occurrence]] = {}
    for occ in occurrences:
        grouped.setdefault(occ.booking_id, []).append(occ)
    # The owners' spaces, so each booking's whole family of spaces (its parts, what it is part of) is known
    # without a query per booking.
    spaces = db.session.scalars(
        sa.select(Space).join(Space.venue).where(Venue.organisation_id.in_(org_ids))
    ).all()
    children: dict[int, list[int]] = {}
    parent_of: dict[int, int | None] = {}
    for space in spaces:
        parent_of[space.id] = space.parent_id
        if space.parent_id is not None:
            children.setdefault(space.parent_id, []).append(space.id)

    def occupied(space_id: int) -> set[int]:
        out, stack = set(), [space_id]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(children.get(current, []))
        return out

    def related(space_id: int) -> set[int]:
        out = occupied(space_id)
        up = parent_of.get(space_id)
        while up is not None:
            out.add(up)
            up = parent_of.get(up)
        return out

    windows = []
    for occs in grouped.values():
        space_id = occs[0].booking.space_id
        lo, hi = min(o.starts_at for o in occs), max(o.ends_at for o in occs)
        windows.append((occupied(space_id), related(space_id), lo, hi))
    holds = db.session.scalars(
        sa.select(SpaceOccupancy).where(
            sa.or_(
                *(
                    sa.and_(
                        SpaceOccupancy.space_id.in_(occ_ids),
                        SpaceOccupancy.starts_at < hi,
                        SpaceOccupancy.ends_at > lo,
                    )
                    for occ_ids, _, lo, hi in windows
                )
            )
        )
    ).all()
    pending = db.session.scalars(
        sa.select(Occurrence).where(
            Occurrence.status == REQUESTED,
            sa.or_(
                *(
                    sa.and_(
                        Occurrence.space_id.in_(rel_ids), Occurrence.starts_at < hi, Occurrence.ends_at > lo
                    )
                    for _, rel_ids, lo, hi in windows
                )
            ),
        )
    ).all()
    items = []
    for occs, (occ_ids, rel_ids, _, _) in zip(grouped.values(), windows, strict=True):
        booking = occs[0].booking
        clashes, competing = {}, {}
        for occ in occs:
            slot = Interval(occ.starts_at, occ.ends_at)
            clashes[occ.id] = sorted(
                {
                    Interval(h.starts_at, h.ends_at)
                    for h in holds
                    if h.space_id in occ_ids and slot.overlaps(Interval(h.starts_at, h.ends_at))
                },
                key=lambda i: i.starts_at,
            )
            competing[occ.id] = sum(
                1
                for o in pending
                if o.booking_id != booking.id
                and o.space_id in rel_ids
                and slot.overlaps(Interval(o.starts_at, o.ends_at))
            )
        items.append(QueueItem(booking, occs, good_standing(booking.organisation), clashes, competing))
    return items


def upcoming_at_venues(
    org_ids: Sequence[int], days: int = 28, now: datetime | None = None
) -> list[Occurrence]:
    now = now or utcnow()
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Occurrence)
            .join(Occurrence.booking)
            .join(Booking.space)
            .join(Space.venue)
            .where(
                Venue.organisation_id.in_(org_ids),
                Occurrence.status == CONFIRMED,
                Occurrence.starts_at > now,
                Occurrence.starts_at < now + timedelta(days=days),
            )
            .order_by(Occurrence.starts_at)
            .options(
                contains_eager(Occurrence.booking).contains_eager(Booking.space).contains_eager(Space.venue),
                contains_eager(Occurrence.booking).joinedload(Booking.organisation),
            )
        )
    )


# --- decisions ---------------------------------------------------------------------------------------------------


def approve(
    booking: Booking, occurrence_ids: Iterable[int] | None, user: User, now: datetime | None = None
) -> list[Occurrence]:
    """Confirm requested dates (all upcoming ones when `occurrence_ids` is None). All or nothing: a clash with a
    live booking refuses the lot with a 409 naming the dates, so the owner can decline those or approve the rest.
    A request from an organisation not in good standing is refused (409) until it is back in good standing."""
    now = now or utcnow()
    if not is_owner_admin(user, booking):
        raise NotAllowed("Only the venue's admins can approve requests.")
    lock_spaces(booking.space)
    check_requester_standing(booking)
    targets = _requested_targets(booking, occurrence_ids)
    decided = [o for o in targets if o.status is not REQUESTED]
    if decided:
        # Before the clash check: an already confirmed date would otherwise "clash" with its own hold.
        raise IllegalTransition(
            "Already decided: "
            + ", ".join(f"{slot_label(o.starts_at, o.ends_at)} ({o.status.label.lower()})" for o in decided)
            + "."
        )
    passed = [o for o in targets if o.starts_at <= now]
    if passed:
        raise DomainError(
            "These dates have passed and can only be declined: "
            + ", ".join(slot_label(o.starts_at, o.ends_at) for o in passed)
            + ".",
            field="occurrence_ids",
        )
    ours = [(o.starts_at.astimezone(LONDON).date(), Interval(o.starts_at, o.ends_at)) for o in targets]
    holds = live_overlaps(occupied_space_ids(booking.space), [slot for _, slot in ours])
    if holds:
        raise clash_error(ours, holds, field="occurrence_ids")
    apply_transition(targets, CONFIRMED, user, None, now)
    tell_booker(booking, targets, "approved")
    return targets


def check_requester_standing(booking: Booking) -> None:
    """Safeguarding: nothing is confirmed for an organisation the Foundation has suspended or whose safeguarding
    policy or insurance has lapsed. Read after the space lock, so a suspension committed meanwhile counts."""
    org = booking.organisation
    db.session.refresh(org, ["status"])
    standing = good_standing(org)
    if not standing:
        raise Conflict(
            f"{org.name} is not in good standing, so its requests cannot be approved. "
            + " ".join(standing.reasons)
            + " You can decline them, or wait until it is back in good standing.",
            field="occurrence_ids",
        )


def decline(
    booking: Booking,
    occurrence_ids: Iterable[int] | None,
    user: User,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Occurrence]:
    now = now or utcnow()
    if not is_owner_admin(user, booking):
        raise NotAllowed("Only the venue's admins can decline requests.")
    lock_spaces(booking.space)
    targets = _requested_targets(booking, occurrence_ids)
    apply_transition(targets, DECLINED, user, (reason or "").strip() or None, now)
    tell_booker(booking, targets, "declined", reason=(reason or "").strip() or None)
    return targets


def _requested_targets(booking: Booking, occurrence_ids: Iterable[int] | None) -> list[Occurrence]:
    ids = None if occurrence_ids is None else {int(i) for i in occurrence_ids}
    if ids is not None and not ids:
        raise DomainError("Choose at least one date.", field="occurrence_ids")
    fresh = fresh_occurrences(booking, ids)
    if ids is None:
        targets = [o for o in fresh if o.status is REQUESTED]
        if not targets:
            raise IllegalTransition("This booking has no requests waiting for a decision.")
        return targets
    if len(fresh) != len(ids):
        raise DomainError("Some of those dates are not part of this booking.", field="occurrence_ids")
    return fresh
