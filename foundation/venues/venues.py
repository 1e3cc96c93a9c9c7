"""Venue owners' rules: listing venues and their spaces, opening hours, closures, archiving and photos.

Only organisations in good standing list a new venue; their admins keep editing it if the standing lapses
(search and booking check the standing of the booker, not of the owner). Archiving stops new bookings and hides a
venue or space from search; bookings already made stay, and so does their history.

Spaces nest (the whole hall and its two halves). A booking holds its space and every space inside it, written
when the booking is confirmed, so:
- a new part of a space copies the upcoming holds of the space it joins (the whole hall booked on Friday means
  its new half is booked on Friday too);
- an existing space cannot join or leave another while either side's enclosing spaces hold upcoming bookings,
  since the holds already written would no longer match the nesting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption
from werkzeug.datastructures import FileStorage

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import Organisation
from foundation.members.organisations import good_standing
from foundation.members.validation import normalise_postcode
from foundation.types import LONDON, london_today, utcnow
from foundation.uploads import IMAGE_TYPES, remove_stored, store_upload
from foundation.venues.models import (
    Closure,
    Feature,
    Occurrence,
    OccurrenceStatus,
    OpeningHours,
    Space,
    SpaceFeature,
    SpaceOccupancy,
    Venue,
    VenuePhoto,
)
from foundation.venues.search import forget_towns

PHOTO_FOLDER = "venue-photos"
MAX_PHOTOS = 12
MAX_NOTICE_HOURS = 24 * 90
MAX_DAYS_AHEAD = 3 * 366
MIN_BOOKING_MINUTES = 15
MAX_BOOKING_MINUTES = 24 * 60
MAX_CAPACITY = 10_000
MAX_PRICE_PENCE = 100_000  # £1,000 an hour
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

VENUE_FIELDS = (
    "name", "address_line1", "address_line2", "town", "postcode", "description", "directions", "hire_terms",
    "min_notice_hours", "max_days_ahead", "max_booking_minutes",
)  # fmt: skip
REQUIRED_TEXT = {
    "name": "Give the venue a name.",
    "address_line1": "Enter the address.",
    "town": "Enter the town.",
}
OPTIONAL_TEXT = ("address_line2", "directions", "hire_terms")


# --- venues ------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _clean_venue(values: dict[str, Any]) -> dict[str, Any]:
    """The venue's fields, tidied and checked; raises DomainError at the first field at fault."""
    data: dict[str, Any] = {}
    for key, message in REQUIRED_TEXT.items():
        data[key] = _text(values.get(key))
        if not data[key]:
            raise DomainError(message, field=key)
    postcode = normalise_postcode(_text(values.get("postcode")))
    if postcode is None:
        raise DomainError("Enter a real UK postcode, e.g. SN15 1ER.", field="postcode")
    data["postcode"] = postcode
    data["description"] = _text(values.get("description"))
    for key in OPTIONAL_TEXT:
        data[key] = _text(values.get(key)) or None
    data.update(
        check_booking_rules(
            values.get("min_notice_hours"), values.get("max_days_ahead"), values.get("max_booking_minutes")
        )
    )
    return data


def check_booking_rules(notice: Any, days_ahead: Any, longest: Any) -> dict[str, int]:
    if not isinstance(notice, int) or not 0 <= notice <= MAX_NOTICE_HOURS:
        raise DomainError(
            f"Minimum notice is a number of hours from 0 to {MAX_NOTICE_HOURS}.", field="min_notice_hours"
        )
    if not isinstance(days_ahead, int) or not 1 <= days_ahead <= MAX_DAYS_AHEAD:
        raise DomainError(
            f"Bookings can be taken from 1 to {MAX_DAYS_AHEAD} days ahead.", field="max_days_ahead"
        )
    if not isinstance(longest, int) or not MIN_BOOKING_MINUTES <= longest <= MAX_BOOKING_MINUTES:
        raise DomainError(
            f"The longest single booking must be between {MIN_BOOKING_MINUTES} minutes and 24 hours.",
            field="max_booking",
        )
    return {"min_notice_hours": notice, "max_days_ahead": days_ahead, "max_booking_minutes": longest}


def create_venue(org: Organisation, values: dict[str, Any]) -> Venue:
    """List a new venue for an organisation in good standing (the reasons are given when it is not)."""
    standing = good_standing(org)
    if not standing:
        raise NotAllowed(
            f"{org.name} can list a venue once it is in good standing. " + " ".join(standing.reasons)
        )
    venue = Venue(organisation_id=org.id, **_clean_venue(values))
    db.session.add(venue)
    db.session.flush()
    forget_towns()
    return venue


def update_venue(venue: Venue, values: dict[str, Any]) -> Venue:
    for key, value in _clean_venue(values).items():
        setattr(venue, key, value)
    db.session.flush()
    forget_towns()
    return venue


def archive_venue(venue: Venue) -> None:
    if venue.is_archived:
        raise IllegalTransition(f"{venue.name} is already archived.")
    venue.archived_at = utcnow()
    forget_towns()


def unarchive_venue(venue: Venue) -> None:
    if not venue.is_archived:
        raise IllegalTransition(f"{venue.name} is not archived.")
    venue.archived_at = None
    forget_towns()


# --- opening hours and closures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One opening period on a weekday (0 = Monday). `row` is its place in the form, for the error message."""

    weekday: int
    opens: time
    closes: time
    row: int | None = None


def _period_field(period: Period, name: str) -> str | None:
    return f"periods-{period.row}-{name}" if period.row is not None else "periods"


def set_opening_hours(venue: Venue, periods: Iterable[Period]) -> list[OpeningHours]:
    """Replace the venue's opening hours. A weekday with no period is closed all day."""
    periods = sorted(periods, key=lambda p: (p.weekday, p.opens))
    for period in periods:
        if not 0 <= period.weekday <= 6:
            raise DomainError("Choose a day of the week.", field=_period_field(period, "weekday"))
        if period.closes <= period.opens:
            raise DomainError(
                f"{WEEKDAYS[period.weekday]}: the closing time must be after the opening time.",
                field=_period_field(period, "closes"),
            )
    for before, after in zip(periods, periods[1:], strict=False):
        if before.weekday == after.weekday and after.opens < before.closes:
            raise DomainError(
                f"{WEEKDAYS[after.weekday]}: {after.opens:%H:%M}–{after.closes:%H:%M} overlaps "
                f"{before.opens:%H:%M}–{before.closes:%H:%M}.",
                field=_period_field(after, "opens"),
            )
    venue.opening_hours.clear()
    db.session.flush()
    rows = [OpeningHours(weekday=p.weekday, opens=p.opens, closes=p.closes) for p in periods]
    venue.opening_hours.extend(rows)
    db.session.flush()
    return rows


def hours_by_weekday(venue: Venue) -> list[tuple[str, list[tuple[time, time]]]]:
    """[(weekday name, [(opens, closes), ...])] for Monday to Sunday; an empty list means closed."""
    out: list[tuple[str, list[tuple[time, time]]]] = [(name, []) for name in WEEKDAYS]
    for h in sorted(venue.opening_hours, key=lambda h: (h.weekday, h.opens)):
        out[h.weekday][1].append((h.opens, h.closes))
    return out


def add_closure(
    venue: Venue, starts_on: date | None, ends_on: date | None, reason: str | None, today: date | None = None
) -> Closure:
    today = today or london_today()
    if starts_on is None:
        raise DomainError("Enter the first day of the closure.", field="starts_on")
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise DomainError("The last day must be on or after the first day.", field="ends_on")
    if ends_on < today:
        raise DomainError("That closure is already over.", field="ends_on")
    reason = _text(reason)
    if not reason:
        raise DomainError("Say why the venue is closed; bookers see the reason.", field="reason")
    closure = Closure(starts_on=starts_on, ends_on=ends_on, reason=reason[:200])
    venue.closures.append(closure)
    db.session.flush()
    return closure


def remove_closure(closure: Closure) -> None:
    closure.venue.closures.remove(closure)
    db.session.flush()


def upcoming_closures(venue: Venue, today: date | None = None) -> list[Closure]:
    today = today or london_today()
    return [c for c in venue.closures if c.ends_on >= today]


# --- spaces ------------------------------------------------------------------------------------------------------


def _clean_space(values: dict[str, Any]) -> dict[str, Any]:
    name = _text(values.get("name"))
    if not name:
        raise DomainError("Give the space a name, e.g. Main hall.", field="name")
    capacity = values.get("capacity")
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(f"Capacity is a number of people from 1 to {MAX_CAPACITY:,}.", field="capacity")
    price = values.get("price_per_hour_pence")
    if not isinstance(price, int) or price < 0:
        raise DomainError("Enter a price of £0 or more (0 for free community use).", field="price")
    if price > MAX_PRICE_PENCE:
        raise DomainError(f"The price can be at most £{MAX_PRICE_PENCE // 100:,} an hour.", field="price")
    features = {f if isinstance(f, Feature) else Feature(f) for f in values.get("features") or ()}
    parent_id = values.get("parent_id") or None
    return {
        "name": name[:120],
        "description": _text(values.get("description")) or None,
        "capacity": capacity,
        "price_per_hour_pence": price,
        "needs_approval": bool(values.get("needs_approval")),
        "features": features,
        "parent_id": parent_id,
    }


def _ancestors(space: Space | None) -> list[Space]:
    out = []
    while space is not None:
        out.append(space)
        space = space.parent
    return out


def _check_name(venue: Venue, name: str, space: Space | None) -> None:
    for other in venue.spaces:
        if other is not space and other.name.casefold() == name.casefold():
            raise Conflict(f"{venue.name} already has a space called {other.name}.", field="name")


def _check_parent(venue: Venue, space: Space | None, data: dict[str, Any]) -> Space | None:
    """The space this one is to be part of, checked: same venue, not archived, no cycle, big enough."""
    if data["parent_id"] is None:
        return None
    parent = db.session.get(Space, data["parent_id"])
    if parent is None or parent.venue_id != venue.id:
        raise DomainError("Choose one of this venue's spaces.", field="parent_id")
    name = data["name"]
    if space is not None and any(a.id == space.id for a in _ancestors(parent)):
        if parent.id == space.id:
            raise DomainError("A space cannot be part of itself.", field="parent_id")
        raise DomainError(
            f"{parent.name} is already part of {name}, so {name} cannot be part of {parent.name}.",
            field="parent_id",
        )
    if parent.archived_at is not None and (space is None or space.parent_id != parent.id):
        raise DomainError(f"{parent.name} is archived; choose a space still in use.", field="parent_id")
    if data["capacity"] > parent.capacity:
        raise DomainError(
            f"{name} is part of {parent.name}, which holds {parent.capacity}; "
            f"a part cannot hold more than the whole.",
            field="capacity",
        )
    return parent


def _check_children(space: Space, capacity: int) -> None:
    biggest = max(space.children, key=lambda c: c.capacity, default=None)
    if biggest is not None and biggest.capacity > capacity:
        raise DomainError(
            f"{biggest.name} is part of {space.name} and holds {biggest.capacity}; "
            f"{space.name} must hold at least as many.",
            field="capacity",
        )


def _first_upcoming_hold(spaces: Sequence[Space], now: datetime) -> tuple[Space, SpaceOccupancy] | None:
    ids = {s.id: s for s in spaces}
    if not ids:
        return None
    hold = db.session.scalar(
        sa.select(SpaceOccupancy)
        .where(SpaceOccupancy.space_id.in_(list(ids)), SpaceOccupancy.ends_at > now)
        .order_by(SpaceOccupancy.starts_at)
        .limit(1)
    )
    return (ids[hold.space_id], hold) if hold is not None else None


def _lock(spaces: Iterable[Space]) -> None:
    """Serialise with bookings of these spaces (the booking service locks the same rows the same way)."""
    ids = sorted({s.id for s in spaces})
    if ids:
        db.session.execute(
            sa.select(Space.id).where(Space.id.in_(ids)).order_by(Space.id).with_for_update(key_share=True)
        ).all()


def _set_features(space: Space, features: set[Feature]) -> None:
    keep = [f for f in space.features if f.feature in features]
    have = {f.feature for f in keep}
    space.features[:] = keep + [
        SpaceFeature(feature=f) for f in sorted(features - have, key=lambda f: f.value)
    ]


def add_space(venue: Venue, values: dict[str, Any], now: datetime | None = None) -> Space:
    now = now or utcnow()
    data = _clean_space(values)
    _check_name(venue, data["name"], None)
    parent = _check_parent(venue, None, data)
    features = data.pop("features")
    data.pop("parent_id")
    space = Space(venue=venue, parent=parent, **data)
    db.session.add(space)
    _set_features(space, features)
    db.session.flush()
    if parent is not None:
        _lock(_ancestors(parent))
        _copy_holds(parent, space, now)
    return space


def _copy_holds(parent: Space, space: Space, now: datetime) -> None:
    """A new part is booked whenever the whole it joins is: copy the whole's upcoming holds onto it."""
    holds = db.session.scalars(
        sa.select(SpaceOccupancy).where(SpaceOccupancy.space_id == parent.id, SpaceOccupancy.ends_at > now)
    ).all()
    db.session.add_all(
        SpaceOccupancy(
            occurrence_id=h.occurrence_id, space_id=space.id, starts_at=h.starts_at, ends_at=h.ends_at
        )
        for h in holds
    )
    db.session.flush()


def update_space(space: Space, values: dict[str, Any], now: datetime | None = None) -> Space:
    now = now or utcnow()
    venue = space.venue
    data = _clean_space(values)
    _check_name(venue, data["name"], space)
    parent = _check_parent(venue, space, data)
    _check_children(space, data["capacity"])
    if data["parent_id"] != space.parent_id:
        enclosing = _ancestors(space.parent) + _ancestors(parent)
        _lock([*enclosing, *space.self_and_descendants()])
        found = _first_upcoming_hold(enclosing, now)
        if found is not None:
            held, hold = found
            raise Conflict(
                f"{held.name} has confirmed bookings from {hold.starts_at.astimezone(LONDON):%-d %B %Y}. "
                f"{data['name']} can join or leave it once those bookings are over or cancelled.",
                field="parent_id",
            )
    _set_features(space, data.pop("features"))
    data.pop("parent_id")
    space.parent = parent
    for key, value in data.items():
        setattr(space, key, value)
    db.session.flush()
    return space


def archive_space(space: Space) -> None:
    if space.archived_at is not None:
        raise IllegalTransition(f"{space.name} is already archived.")
    space.archived_at = utcnow()


def unarchive_space(space: Space) -> None:
    if space.archived_at is None:
        raise IllegalTransition(f"{space.name} is not archived.")
    space.archived_at = None


def upcoming_bookings_count(space: Space, now: datetime | None = None) -> int:
    """Requested or confirmed dates still to come in this space (archiving keeps them: the owner decides)."""
    now = now or utcnow()
    return (
        db.session.scalar(
            sa.select(sa.func.count(Occurrence.id)).where(
                Occurrence.space_id == space.id,
                Occurrence.status.in_([OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED]),
                Occurrence.ends_at > now,
            )
        )
        or 0
    )


def venue_page_options() -> tuple[LoaderOption, ...]:
    """What a venue's page shows (its spaces with their facilities and parts, hours, closures, photos)."""
    spaces = selectinload(Venue.spaces)
    return (
        spaces.selectinload(Space.features),
        spaces.selectinload(Space.children),
        selectinload(Venue.opening_hours),
        selectinload(Venue.closures),
        selectinload(Venue.photos),
    )


def space_tree(venue: Venue, include_archived: bool = False) -> list[tuple[Space, int]]:
    """The venue's spaces, each followed by its parts, with their depth (0 for a space that is part of none)."""
    spaces = [s for s in venue.spaces if include_archived or s.archived_at is None]
    ids = {s.id for s in spaces}
    children: dict[int | None, list[Space]] = {}
    for s in spaces:
        key = s.parent_id if s.parent_id in ids else None
        children.setdefault(key, []).append(s)
    out: list[tuple[Space, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for s in sorted(children.get(parent_id, []), key=lambda s: s.name.casefold()):
            out.append((s, depth))
            walk(s.id, depth + 1)

    walk(None, 0)
    return out


def parent_choices(venue: Venue, space: Space | None) -> list[Space]:
    """Spaces this one may be part of: the venue's spaces in use, other than itself and its own parts."""
    excluded = {s.id for s in space.self_and_descendants()} if space is not None else set()
    return [
        s
        for s, _depth in space_tree(venue)
        if s.id not in excluded or (space is not None and s.id == space.parent_id)
    ]


# --- photos ------------------------------------------------------------------------------------------------------


def add_photo(venue: Venue, upload: FileStorage | None, caption: str | None) -> VenuePhoto:
    """Store a JPEG or PNG (checked by content) as the venue's last photo. `caption` is its alt text."""
    caption = _text(caption)
    if not caption:
        raise DomainError(
            "Describe the photo for people who cannot see it, e.g. Main hall set out with tables.",
            field="caption",
        )
    if len(venue.photos) >= MAX_PHOTOS:
        raise DomainError(f"A venue can have up to {MAX_PHOTOS} photos. Delete one first.", field="photo")
    stored = store_upload(upload, IMAGE_TYPES, PHOTO_FOLDER, "photo")
    photo = VenuePhoto(
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        caption=caption[:200],
        position=max((p.position for p in venue.photos), default=-1) + 1,
    )
    try:
        venue.photos.append(photo)
        db.session.flush()
    except Exception:
        remove_stored(PHOTO_FOLDER, stored.stored_name)
        raise
    return photo


def delete_photo(photo: VenuePhoto) -> str:
    """Remove the photo's row; returns its stored name, for the caller to delete the file after committing."""
    venue = photo.venue
    stored_name = photo.stored_name
    venue.photos.remove(photo)
    db.session.flush()
    _renumber(venue)
    return stored_name


def move_photo(photo: VenuePhoto, offset: int) -> None:
    """Move a photo earlier (negative offset) or later in the venue's order; the first photo leads."""
    photos = sorted(photo.venue.photos, key=lambda p: (p.position, p.id))
    index = photos.index(photo)
    target = index + offset
    if offset == 0 or not 0 <= target < len(photos):
        where = "first" if offset < 0 else "last"
        raise DomainError(f"That photo is already {where}.", field="photo")
    photos.insert(target, photos.pop(index))
    for position, p in enumerate(photos):
        p.position = position
    db.session.flush()


def _renumber(venue: Venue) -> None:
    for position, p in enumerate(sorted(venue.photos, key=lambda p: (p.position, p.id))):
        p.position = position
    db.session.flush()
