"""`flask seed-demo`: demo data in every town, and a second run adds nothing."""

from __future__ import annotations

import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.seed import seed
from foundation.venues.models import Booking, Closure, Holiday, OccurrenceStatus, Space, SpaceOccupancy, Venue

TOWNS = {
    "Calne", "Chippenham", "Cricklade", "Devizes", "Malmesbury", "Marlborough", "Melksham", "Salisbury", "Swindon",
    "Trowbridge", "Warminster", "Westbury",
}  # fmt: skip


def row_counts() -> dict[str, int]:
    return {
        t.name: _db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in _db.metadata.sorted_tables
    }


def test_seed_twice_adds_nothing_the_second_time(app, db):  # type: ignore[no-untyped-def]
    first_run = list(seed())
    first = row_counts()
    assert any(line.startswith("venue ") for line in first_run)
    second_run = list(seed())
    assert row_counts() == first
    assert not any(line.startswith(("venue ", "booking ", "organisation ", "user ")) for line in second_run)


def test_demo_venues_cover_the_twelve_towns(app, db):  # type: ignore[no-untyped-def]
    list(seed())
    venues = db.session.scalars(sa.select(Venue)).all()
    assert {v.town for v in venues} == TOWNS
    assert all(v.organisation.is_approved and v.opening_hours and v.spaces for v in venues)

    spaces = db.session.scalars(sa.select(Space)).all()
    assert any(s.price_per_hour_pence == 0 for s in spaces) and any(
        s.price_per_hour_pence > 0 for s in spaces
    )
    assert any(s.needs_approval for s in spaces) and any(not s.needs_approval for s in spaces)
    wholes = [s for s in spaces if len(s.children) == 2]
    assert wholes, "a hall with two halves"
    assert all(c.capacity <= wholes[0].capacity for c in wholes[0].children)
    assert db.session.scalar(sa.select(sa.func.count(Closure.id))) >= 1
    assert db.session.scalar(sa.select(sa.func.count(Holiday.id))) > 0

    bookings = db.session.scalars(sa.select(Booking)).all()
    statuses = {o.status for b in bookings for o in b.occurrences}
    assert {OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED} <= statuses
    # a confirmed booking of the whole hall holds both halves too
    whole_booking = next(b for b in bookings if b.space.children)
    held = set(db.session.scalars(sa.select(SpaceOccupancy.space_id).where(
        SpaceOccupancy.occurrence_id == whole_booking.occurrences[0].id
    )))  # fmt: skip
    assert held == {s.id for s in whole_booking.space.self_and_descendants()}


def test_demo_venue_pages_render(app, db, client):  # type: ignore[no-untyped-def]
    list(seed())
    for venue in db.session.scalars(sa.select(Venue)).all():
        resp = client.get(f"/venues/{venue.id}")
        assert resp.status_code == 200 and venue.name in resp.get_data(as_text=True)
