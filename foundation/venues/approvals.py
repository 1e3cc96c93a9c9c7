"""The venue owner's side of booking: which venues a user's organisations own, the queue of requests waiting
for a decision (with the clashes and competing requests the owner should weigh), the confirmed dates coming up,
and approving or declining requested dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager

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
from foundation.venues.search import LONGEST_OCCURRENCE

# --- the queue ---------------------------------------------------------------------------------------------------


def admin_org_ids(user: User) -> list[int]:
    return [m.organisation_id for m in user.memberships if m.role is MemberRole.ADMIN]


def owns_venues(org_ids: Sequence[int]) -> bool:
    if not org_ids:
        return False
    venues = sa.select(sa.func.count(Venue.id)).where(Venue.organisation_id.in_(org_ids))
    return db.session.execute(venues).scalar_one() > 0


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
    return _queue_items(list(db.session.scalars(waiting_bookings(org_ids, now))), now)


def request_queue_page(org_ids: Sequence[int], page: int, now: datetime | None = None) -> Page[QueueItem]:
    """One page of the queue, with how many bookings wait in all."""
    now = now or utcnow()
    if not org_ids:
        return Page([], 1, QUEUE_PAGE_SIZE, 0)
    ids = paginate(waiting_bookings(org_ids, now), page, QUEUE_PAGE_SIZE)
    return Page(_queue_items(ids.items, now), ids.page, ids.per_page, ids.total)


def _waiting_dates(
    occ: type[Occurrence], booking_ids: Sequence[int], now: datetime
) -> list[sa.ColumnElement[bool]]:
    """The dates of these bookings the owner is asked about: requested, and still to come."""
    return [occ.booking_id.in_(booking_ids), occ.status == REQUESTED, occ.starts_at > now]


def _queue_items(booking_ids: Sequence[int], now: datetime) -> list[QueueItem]:
    """The bookings' requested dates with their clashes and competing requests, in a fixed number of queries."""
    if not booking_ids:
        return []
    occurrences = db.session.scalars(
        sa.select(Occurrence)
        .join(Occurrence.booking)
        .where(*_waiting_dates(Occurrence, booking_ids, now))
        .order_by(Booking.created_at, Booking.id, Occurrence.starts_at)
        .options(
            contains_eager(Occurrence.booking).joinedload(Booking.space).joinedload(Space.venue),
            contains_eager(Occurrence.booking).joinedload(Booking.booked_by),
            contains_eager(Occurrence.booking)
            .joinedload(Booking.organisation)
            .selectinload(Organisation.documents),
        )
    ).all()
    if not occurrences:
        return []
    grouped: dict[int, list[Occurrence]] = {}
    for occ in occurrences:
        grouped.setdefault(occ.booking_id, []).append(occ)
    space_ids = sorted({occ.space_id for occ in occurrences})
    clashes = _clashes(booking_ids, space_ids, now)
    competing = _competing(booking_ids, space_ids, now)
    return [
        QueueItem(
            occs[0].booking,
            occs,
            good_standing(occs[0].booking.organisation),
            {occ.id: clashes.get(occ.id, []) for occ in occs},
            {occ.id: competing.get(occ.id, 0) for occ in occs},
        )
        for occs in grouped.values()
    ]


def _clashes(
    booking_ids: Sequence[int], space_ids: Sequence[int], now: datetime
) -> dict[int, list[Interval]]:
    """Requested date id -> the times of the live holds it overlaps, in time order (each time once).

    A booking of a space occupies the space and every space inside it, so a date clashes with a hold on any of
    those; a booking of a space this one is part of wrote its holds on this one too.
    """
    mine = aliased(Occurrence)
    inside = _spaces_inside(space_ids)
    rows = db.session.execute(
        sa.select(mine.id, SpaceOccupancy.starts_at, SpaceOccupancy.ends_at)
        .select_from(mine)
        .join(inside, inside.c.space_id == mine.space_id)
        .join(
            SpaceOccupancy,
            sa.and_(
                SpaceOccupancy.space_id == inside.c.member_id,
                *_overlapping_each(SpaceOccupancy.starts_at, SpaceOccupancy.ends_at, mine),
            ),
        )
        .where(*_waiting_dates(mine, booking_ids, now))
        .distinct()
        .order_by(mine.id, SpaceOccupancy.starts_at, SpaceOccupancy.ends_at)
    )
    out: dict[int, list[Interval]] = {}
    for occ_id, starts_at, ends_at in rows:
        out.setdefault(occ_id, []).append(Interval(starts_at, ends_at))
    return out


def _competing(booking_ids: Sequence[int], space_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Requested date id -> how many requested dates of other bookings overlap it on a space it shares.

    Two requests compete when one space is, is inside, or contains the other's: approving one of them makes
    the other clash.
    """
    mine, theirs = aliased(Occurrence), aliased(Occurrence)
    inside, around = _spaces_inside(space_ids), _spaces_around(space_ids)
    related = sa.union(
        sa.select(inside.c.space_id, inside.c.member_id), sa.select(around.c.space_id, around.c.member_id)
    ).subquery("related")
    rows = db.session.execute(
        sa.select(mine.id, sa.func.count(sa.distinct(theirs.id)))
        .select_from(mine)
        .join(related, related.c.space_id == mine.space_id)
        .join(
            theirs,
            sa.and_(
                theirs.space_id == related.c.member_id,
                theirs.status == REQUESTED,
                theirs.booking_id != mine.booking_id,
                *_overlapping_each(theirs.starts_at, theirs.ends_at, mine),
            ),
        )
        .where(*_waiting_dates(mine, booking_ids, now))
        .group_by(mine.id)
    )
    return {occ_id: int(n) for occ_id, n in rows}


def _spaces_inside(space_ids: Sequence[int]) -> sa.CTE:
    """(space_id, member_id): each of these spaces with itself and every space inside it, at any depth."""
    tree = (
        sa.select(Space.id.label("space_id"), Space.id.label("member_id"))
        .where(Space.id.in_(space_ids))
        .cte("spaces_inside", recursive=True)
    )
    part = aliased(Space)
    # UNION, not UNION ALL: each pair once, so the walk ends even if the tree were ever cut wrongly.
    return tree.union(sa.select(tree.c.space_id, part.id).where(part.parent_id == tree.c.member_id))


def _spaces_around(space_ids: Sequence[int]) -> sa.CTE:
    """(space_id, member_id): each of these spaces with every space it is part of, at any depth."""
    tree = (
        sa.select(Space.id.label("space_id"), Space.parent_id.label("member_id"))
        .where(Space.id.in_(space_ids), Space.parent_id.is_not(None))
        .cte("spaces_around", recursive=True)
    )
    whole = aliased(Space)
    return tree.union(
        sa.select(tree.c.space_id, whole.parent_id).where(
            whole.id == tree.c.member_id, whole.parent_id.is_not(None)
        )
    )


def _overlapping_each(
    starts_at: sa.SQLColumnExpression[datetime],
    ends_at: sa.SQLColumnExpression[datetime],
    occ: type[Occurrence],
) -> list[sa.ColumnElement[bool]]:
    """Rows whose [starts_at, ends_at) overlaps the date `occ` of the same query: `search.overlapping` with the
    bounds taken from each row of `occ`, so every date is a narrow range scan of a (space_id, starts_at, ...)
    index rather than a read of everything its booking's whole span touches."""
    return [
        starts_at < occ.ends_at,
        starts_at > _earlier(occ.starts_at, LONGEST_OCCURRENCE),
        ends_at > occ.starts_at,
    ]


def _earlier(moment: sa.SQLColumnExpression[datetime], by: timedelta) -> sa.ColumnElement[datetime]:
    """A time column moved back, in SQL. SQLite keeps times as ISO text (UTC, no offset) and compares them as
    text; its datetime() gives the same form to the second, which is all a bound with days to spare needs."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.datetime(moment, f"-{int(by.total_seconds())} seconds")
    return moment - sa.literal(by, sa.Interval())


UPCOMING_SHOWN = 25


@dataclass
class Upcoming:
    """The first confirmed dates coming up at the owner's venues, and how many there are in all."""

    occurrences: list[Occurrence]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.occurrences)


def upcoming_at_venues(
    org_ids: Sequence[int], days: int = 28, now: datetime | None = None, limit: int = UPCOMING_SHOWN
) -> Upcoming:
    """The next `limit` confirmed dates at these organisations' venues within `days`, soonest first, with the
    number of all of them (counted in the same query)."""
    now = now or utcnow()
    if not org_ids:
        return Upcoming([], 0)
    rows = db.session.execute(
        sa.select(Occurrence, sa.func.count().over())
        .join(Occurrence.booking)
        .join(Booking.space)
        .join(Space.venue)
        .where(
            Venue.organisation_id.in_(org_ids),
            Occurrence.status == CONFIRMED,
            Occurrence.starts_at > now,
            Occurrence.starts_at < now + timedelta(days=days),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(limit)
        .options(
            contains_eager(Occurrence.booking).contains_eager(Booking.space).contains_eager(Space.venue),
            contains_eager(Occurrence.booking).joinedload(Booking.organisation),
        )
    ).all()
    return Upcoming([occ for occ, _ in rows], int(rows[0][1]) if rows else 0)


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
