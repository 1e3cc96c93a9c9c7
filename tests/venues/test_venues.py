"""Venue owners' services: listing venues, spaces and their nesting, opening hours, closures, archiving, photos."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.members.models import OrganisationStatus
from foundation.members.organisations import good_standing
from foundation.venues import booking as booking_svc
from foundation.venues import venues as svc
from foundation.venues.booking import DateState
from foundation.venues.models import (
    Closure,
    Feature,
    OccurrenceStatus,
    OpeningHours,
    Space,
    SpaceOccupancy,
    Venue,
    VenuePhoto,
)
from foundation.venues.venues import Period
from tests.factories import make_org, make_user
from tests.venues.factories import booking_request, make_booker, make_booking, make_space, make_venue

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a Tuesday
FRI = date(2026, 9, 4)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, filename: str = "hall.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def venue_values(**over: object) -> dict:
    values: dict = {
        "name": "Monkton Park Youth Centre",
        "address_line1": "Monkton Park",
        "town": "Chippenham",
        "postcode": "sn15 3pe",
        "description": "A youth centre by the river with a hall and two meeting rooms.",
        "directions": "Park in the Monkton Park car park.",
        "hire_terms": "",
        "min_notice_hours": 48,
        "max_days_ahead": 365,
        "max_booking_minutes": 480,
    }
    values.update(over)
    return values


def space_values(**over: object) -> dict:
    values: dict = {
        "name": "Main hall",
        "capacity": 120,
        "price_per_hour_pence": 1250,
        "needs_approval": True,
        "features": [Feature.KITCHEN, Feature.STEP_FREE_ACCESS],
        "parent_id": None,
    }
    values.update(over)
    return values


@pytest.fixture
def org(db):
    return make_org(admin=make_user(email="owner@example.org"), name="Chippenham Youth Trust")


@pytest.fixture
def venue(org):
    return make_venue(org, name="Monkton Park Youth Centre", opens=time(9), closes=time(22))


# --- venues ------------------------------------------------------------------------------------------------------


def test_create_venue_normalises_postcode_and_keeps_optional_text_empty(db, org):
    venue = svc.create_venue(org, venue_values(hire_terms="   "))
    db.session.commit()
    assert venue.postcode == "SN15 3PE"
    assert venue.hire_terms is None
    assert venue.organisation_id == org.id and not venue.is_archived


@pytest.mark.parametrize(
    "org_fields, reason",
    [
        ({"status": OrganisationStatus.PENDING}, "not approved (it is pending)"),
        ({"valid_until": date(2020, 1, 1)}, "expired on 1 January 2020"),
        ({"documents": False}, "No safeguarding policy has been uploaded"),
    ],
)
def test_listing_a_venue_needs_good_standing_and_says_why(db, org_fields, reason):
    org = make_org(name="Devizes Skaters", **org_fields)
    with pytest.raises(NotAllowed) as err:
        svc.create_venue(org, venue_values())
    assert "Devizes Skaters can list a venue once it is in good standing" in err.value.message
    assert reason.lower() in err.value.message.lower()
    assert db.session.scalar(sa.select(sa.func.count(Venue.id))) == 0


def test_an_admin_edits_a_venue_after_standing_lapses(db, venue):
    for doc in venue.organisation.documents:
        doc.valid_until = date(2020, 1, 1)
    assert not good_standing(venue.organisation)
    svc.update_venue(venue, venue_values(name="Monkton Park Centre", postcode="SN153PE"))
    db.session.commit()
    assert venue.name == "Monkton Park Centre" and venue.postcode == "SN15 3PE"


@pytest.mark.parametrize(
    "over, field",
    [
        ({"postcode": "not a postcode"}, "postcode"),
        ({"name": "  "}, "name"),
        ({"town": ""}, "town"),
        ({"min_notice_hours": -1}, "min_notice_hours"),
        ({"max_days_ahead": 0}, "max_days_ahead"),
        ({"max_booking_minutes": 10}, "max_booking"),
        ({"max_booking_minutes": 25 * 60}, "max_booking"),
    ],
)
def test_bad_venue_details_are_refused_at_the_field(db, org, over, field):
    with pytest.raises(DomainError) as err:
        svc.create_venue(org, venue_values(**over))
    assert err.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(Venue.id))) == 0


def test_archive_and_unarchive_a_venue(db, venue):
    svc.archive_venue(venue)
    assert venue.is_archived
    with pytest.raises(IllegalTransition):
        svc.archive_venue(venue)
    svc.unarchive_venue(venue)
    assert not venue.is_archived
    with pytest.raises(IllegalTransition):
        svc.unarchive_venue(venue)


# --- opening hours and closures ----------------------------------------------------------------------------------


def test_opening_hours_replace_the_old_ones_with_several_periods_a_day(db, venue):
    svc.set_opening_hours(
        venue,
        [Period(0, time(9), time(12)), Period(0, time(13), time(22)), Period(5, time(10), time(16))],
    )
    db.session.commit()
    rows = db.session.scalars(sa.select(OpeningHours).where(OpeningHours.venue_id == venue.id)).all()
    assert sorted((r.weekday, r.opens, r.closes) for r in rows) == [
        (0, time(9), time(12)),
        (0, time(13), time(22)),
        (5, time(10), time(16)),
    ]
    hours = dict(svc.hours_by_weekday(venue))
    assert hours["Monday"] == [(time(9), time(12)), (time(13), time(22))]
    assert hours["Tuesday"] == []


def test_opening_hours_refuse_closing_before_opening_and_overlaps(db, venue):
    with pytest.raises(DomainError) as err:
        svc.set_opening_hours(venue, [Period(2, time(18), time(9), row=4)])
    assert err.value.field == "periods-4-closes"
    assert "Wednesday: the closing time must be after the opening time" in err.value.message
    with pytest.raises(DomainError) as err:
        svc.set_opening_hours(
            venue, [Period(1, time(9), time(13), row=0), Period(1, time(12), time(20), row=1)]
        )
    assert err.value.field == "periods-1-opens"
    assert "Tuesday: 12:00–20:00 overlaps 09:00–13:00" in err.value.message
    db.session.commit()
    assert len(db.session.get(Venue, venue.id).opening_hours) == 7  # the old hours stay


def test_closures(db, venue):
    today = date(2026, 9, 1)
    with pytest.raises(DomainError) as err:
        svc.add_closure(venue, date(2026, 10, 5), date(2026, 10, 1), "Refurbishment", today=today)
    assert err.value.field == "ends_on"
    with pytest.raises(DomainError) as err:
        svc.add_closure(venue, date(2026, 8, 1), date(2026, 8, 2), "Too late", today=today)
    assert err.value.field == "ends_on"
    with pytest.raises(DomainError) as err:
        svc.add_closure(venue, date(2026, 10, 1), None, " ", today=today)
    assert err.value.field == "reason"
    closure = svc.add_closure(venue, date(2026, 10, 1), None, "Polling station", today=today)
    db.session.commit()
    assert (closure.starts_on, closure.ends_on) == (date(2026, 10, 1), date(2026, 10, 1))
    assert svc.upcoming_closures(venue, today=today) == [closure]
    assert svc.upcoming_closures(venue, today=date(2026, 10, 2)) == []
    svc.remove_closure(closure)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Closure.id))) == 0


# --- spaces ------------------------------------------------------------------------------------------------------


def test_add_space_with_features_and_price(db, venue):
    space = svc.add_space(venue, space_values())
    db.session.commit()
    space = db.session.get(Space, space.id)
    assert space.feature_set == {Feature.KITCHEN, Feature.STEP_FREE_ACCESS}
    assert space.price_per_hour_pence == 1250 and space.needs_approval
    svc.update_space(space, space_values(features=[Feature.WIFI, Feature.KITCHEN], needs_approval=False))
    db.session.commit()
    assert db.session.get(Space, space.id).feature_set == {Feature.WIFI, Feature.KITCHEN}


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": ""}, "name"),
        ({"capacity": 0}, "capacity"),
        ({"price_per_hour_pence": -1}, "price"),
        ({"price_per_hour_pence": svc.MAX_PRICE_PENCE + 1}, "price"),
    ],
)
def test_bad_space_details_are_refused_at_the_field(db, venue, over, field):
    with pytest.raises(DomainError) as err:
        svc.add_space(venue, space_values(**over))
    assert err.value.field == field


def test_space_names_are_unique_within_a_venue(db, venue):
    make_space(venue, "Main hall")
    with pytest.raises(Conflict) as err:
        svc.add_space(venue, space_values(name="main HALL"))
    assert err.value.field == "name"
    assert "already has a space called Main hall" in err.value.message


def test_a_part_must_be_of_the_same_venue_and_not_bigger(db, org, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    elsewhere = make_space(make_venue(org, name="Other"), "Hall", capacity=100)
    with pytest.raises(DomainError) as err:
        svc.add_space(venue, space_values(name="Half", capacity=50, parent_id=elsewhere.id))
    assert err.value.field == "parent_id"
    with pytest.raises(DomainError) as err:
        svc.add_space(venue, space_values(name="Half", capacity=150, parent_id=hall.id))
    assert err.value.field == "capacity"
    assert "part of Main hall, which holds 100" in err.value.message
    half = svc.add_space(venue, space_values(name="Half", capacity=50, parent_id=hall.id))
    assert half.parent is hall and half in hall.children


def test_no_cycles_and_a_whole_cannot_shrink_below_its_parts(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    half = make_space(venue, "Stage end", parent=hall, capacity=60)
    corner = make_space(venue, "Stage", parent=half, capacity=20)
    with pytest.raises(DomainError) as err:
        svc.update_space(hall, space_values(name="Main hall", capacity=100, parent_id=corner.id))
    assert err.value.field == "parent_id"
    assert "Stage is already part of Main hall" in err.value.message
    with pytest.raises(DomainError) as err:
        svc.update_space(hall, space_values(name="Main hall", capacity=100, parent_id=hall.id))
    assert err.value.message == "A space cannot be part of itself."
    with pytest.raises(DomainError) as err:
        svc.update_space(hall, space_values(name="Main hall", capacity=50))
    assert err.value.field == "capacity"
    assert "Stage end is part of Main hall and holds 60" in err.value.message
    # the choices offered leave out the space itself and its parts
    assert [s.name for s in svc.parent_choices(venue, hall)] == []
    assert [s.name for s in svc.parent_choices(venue, corner)] == ["Main hall", "Stage end"]


def test_space_tree_lists_parts_under_their_whole(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    make_space(venue, "Kitchen end", parent=hall, capacity=50)
    make_space(venue, "Stage end", parent=hall, capacity=50)
    make_space(venue, "Committee room", capacity=12)
    gone = make_space(venue, "Old store", capacity=5)
    svc.archive_space(gone)
    assert [(s.name, d) for s, d in svc.space_tree(venue)] == [
        ("Committee room", 0),
        ("Main hall", 0),
        ("Kitchen end", 1),
        ("Stage end", 1),
    ]
    assert ("Old store", 0) in [(s.name, d) for s, d in svc.space_tree(venue, include_archived=True)]


def test_a_new_half_is_booked_whenever_the_whole_hall_is(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    booker, group = make_booker()
    make_booking(hall, group, FRI, start=time(18), end=time(20))
    half = svc.add_space(
        venue, space_values(name="Stage end", capacity=50, parent_id=hall.id, needs_approval=False), now=NOW
    )
    db.session.commit()
    holds = db.session.scalars(sa.select(SpaceOccupancy).where(SpaceOccupancy.space_id == half.id)).all()
    assert len(holds) == 1
    plan = booking_svc.plan_booking(
        booking_request(half, group, booker, FRI, start=time(19), end=time(21)), now=NOW
    )
    assert plan.dates[0].state is DateState.CLASH


def test_a_space_cannot_join_a_whole_with_upcoming_bookings(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    room = make_space(venue, "Side room", capacity=30)
    _booker, group = make_booker()
    make_booking(hall, group, FRI, start=time(18), end=time(20))
    with pytest.raises(Conflict) as err:
        svc.update_space(room, space_values(name="Side room", capacity=30, parent_id=hall.id), now=NOW)
    assert err.value.field == "parent_id"
    assert "Main hall has confirmed bookings from 4 September 2026" in err.value.message
    # once they are over, it can
    svc.update_space(
        room, space_values(name="Side room", capacity=30, parent_id=hall.id), now=NOW + timedelta(days=7)
    )
    db.session.commit()
    assert db.session.get(Space, room.id).parent_id == hall.id


def test_archived_spaces_and_venues_take_no_bookings_but_keep_past_ones(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    booker, group = make_booker()
    past = make_booking(hall, group, date(2026, 8, 3))
    svc.archive_space(hall)
    with pytest.raises(IllegalTransition):
        svc.archive_space(hall)
    with pytest.raises(DomainError) as err:
        booking_svc.plan_booking(booking_request(hall, group, booker, FRI), now=NOW)
    assert "no longer taking bookings" in err.value.message
    svc.unarchive_space(hall)
    svc.archive_venue(venue)
    with pytest.raises(DomainError):
        booking_svc.plan_booking(booking_request(hall, group, booker, FRI), now=NOW)
    db.session.commit()
    assert past.occurrences[0].status is OccurrenceStatus.CONFIRMED


def test_upcoming_bookings_count(db, venue):
    hall = make_space(venue, "Main hall", capacity=100)
    _booker, group = make_booker()
    make_booking(hall, group, date(2026, 8, 3))
    make_booking(hall, group, FRI, weekdays=[4], last=FRI + timedelta(days=7))
    make_booking(hall, group, FRI + timedelta(days=1), status=OccurrenceStatus.REQUESTED)
    assert svc.upcoming_bookings_count(hall, now=NOW) == 3


# --- photos ------------------------------------------------------------------------------------------------------


def test_photos_are_checked_by_content_stored_ordered_and_deleted(db, app, venue):
    folder = Path(app.config["UPLOAD_FOLDER"]) / svc.PHOTO_FOLDER
    with pytest.raises(DomainError) as err:
        svc.add_photo(venue, upload(b"GIF89a not a photo we take", "hall.png"), "Main hall")
    assert err.value.field == "photo" and "JPEG, PNG" in err.value.message
    with pytest.raises(DomainError) as err:
        svc.add_photo(venue, upload(png_bytes()), "  ")
    assert err.value.field == "caption"
    assert not folder.exists() or not any(folder.iterdir())

    first = svc.add_photo(venue, upload(png_bytes()), "Main hall set for a party")
    second = svc.add_photo(venue, upload(png_bytes()), "Kitchen")
    third = svc.add_photo(venue, upload(png_bytes()), "Car park")
    db.session.commit()
    assert (folder / first.stored_name).read_bytes() == png_bytes()
    assert first.content_type == "image/png"

    svc.move_photo(third, -1)
    db.session.commit()
    assert [p.caption for p in db.session.get(Venue, venue.id).photos] == [
        "Main hall set for a party",
        "Car park",
        "Kitchen",
    ]
    with pytest.raises(DomainError):
        svc.move_photo(first, -1)

    stored = svc.delete_photo(first)
    db.session.commit()
    assert stored == first.stored_name
    photos = db.session.get(Venue, venue.id).photos
    assert [(p.caption, p.position) for p in photos] == [("Car park", 0), ("Kitchen", 1)]
    assert db.session.scalar(sa.select(sa.func.count(VenuePhoto.id))) == 2
    assert second in photos


def test_a_venue_has_at_most_a_dozen_photos(db, venue, monkeypatch):
    monkeypatch.setattr(svc, "MAX_PHOTOS", 2)
    svc.add_photo(venue, upload(png_bytes()), "One")
    svc.add_photo(venue, upload(png_bytes()), "Two")
    with pytest.raises(DomainError) as err:
        svc.add_photo(venue, upload(png_bytes()), "Three")
    assert "up to 2 photos" in err.value.message
