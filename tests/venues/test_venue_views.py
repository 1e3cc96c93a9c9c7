"""Venue owners' pages through the real forms, the public venue page and its photos, and who may do what."""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.members.models import MemberRole, OrganisationStatus
from foundation.types import LONDON, utcnow
from foundation.venues.models import Closure, Feature, OpeningHours, Space, Venue, VenuePhoto
from tests.factories import add_member, login, make_org, make_user
from tests.venues.factories import add_closure, make_space, make_venue


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


def page(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def error_at(resp, field_id: str) -> list[str]:
    """The error messages shown under a field (the macro gives them the id `<field>-error`)."""
    return [
        html.unescape(m)
        for m in re.findall(
            rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', resp.get_data(as_text=True)
        )
    ]


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


VENUE_FORM = {
    "name": "Castlefields Community Centre",
    "address_line1": "Station Road",
    "town": "Calne",
    "postcode": "sn11 0jz",
    "description": "A bright community centre next to Castlefields park.",
    "directions": "Ten minutes' walk from the bus stop on The Strand.",
    "hire_terms": "Leave the hall as you found it.",
    "min_notice_hours": "24",
    "max_days_ahead": "180",
    "max_booking": "3",
    "max_booking_unit": "hours",
}


def space_form(**over: object) -> dict:
    data: dict = {
        "name": "Main hall",
        "description": "Sprung floor, seats 120.",
        "capacity": "120",
        "parent_id": "",
        "features": ["kitchen", "stage", "step_free_access", "hearing_loop"],
        "price": "12.50",
        "needs_approval": "y",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin(db):
    return make_user(email="admin@castlefields.example", name="Ada Admin")


@pytest.fixture
def org(admin):
    return make_org(admin=admin, name="Calne Community Trust", town="Calne")


@pytest.fixture
def venue(org):
    return make_venue(org, name="Castlefields Community Centre", opens=time(9), closes=time(22))


@pytest.fixture
def hall(venue):
    return make_space(venue, "Main hall", capacity=120, price_per_hour_pence=1250, features=[Feature.KITCHEN])


# --- listing a venue with its spaces, hours and closures ---------------------------------------------------------


def test_an_admin_lists_a_venue_with_spaces_hours_and_a_closure(client, db, admin, org):
    login(client, admin)
    resp = client.get(f"/organisations/{org.id}/venues")
    assert resp.status_code == 200 and "List a venue" in page(resp)
    assert f'href="/organisations/{org.id}/venues/new"' in page(resp) and 'href="/venues/requests"' in page(
        resp
    )

    resp = client.post(f"/organisations/{org.id}/venues/new", data=VENUE_FORM)
    assert resp.status_code == 302
    venue = db.session.scalar(sa.select(Venue))
    assert resp.headers["Location"] == f"/venues/{venue.id}/manage"
    assert (venue.postcode, venue.min_notice_hours, venue.max_days_ahead, venue.max_booking_minutes) == (
        "SN11 0JZ", 24, 180, 180,
    )  # fmt: skip
    assert "Not bookable yet" in page(client.get(f"/venues/{venue.id}/manage"))

    resp = client.post(f"/venues/{venue.id}/spaces/new", data=space_form())
    assert resp.status_code == 302
    hall = db.session.scalar(sa.select(Space).where(Space.name == "Main hall"))
    assert hall.price_per_hour_pence == 1250 and hall.needs_approval and hall.capacity == 120
    assert hall.feature_set == {
        Feature.KITCHEN,
        Feature.STAGE,
        Feature.STEP_FREE_ACCESS,
        Feature.HEARING_LOOP,
    }

    for name in ("Stage end", "Kitchen end"):
        resp = client.post(
            f"/venues/{venue.id}/spaces/new",
            data=space_form(
                name=name, capacity="60", parent_id=str(hall.id), price="0", needs_approval=None, features=[]
            ),
        )
        assert resp.status_code == 302
    halves = db.session.scalars(sa.select(Space).where(Space.parent_id == hall.id)).all()
    assert sorted(s.name for s in halves) == ["Kitchen end", "Stage end"]
    assert all(s.price_per_hour_pence == 0 and not s.needs_approval for s in halves)

    periods = {
        "periods-0-weekday": "0", "periods-0-opens": "09:00", "periods-0-closes": "12:00",
        "periods-1-weekday": "0", "periods-1-opens": "13:00", "periods-1-closes": "22:00",
        "periods-2-weekday": "5", "periods-2-opens": "10:00", "periods-2-closes": "16:00",
        "periods-3-weekday": "6", "periods-3-opens": "", "periods-3-closes": "",
    }  # fmt: skip
    resp = client.post(f"/venues/{venue.id}/hours", data=periods)
    assert resp.status_code == 302
    rows = db.session.scalars(sa.select(OpeningHours).where(OpeningHours.venue_id == venue.id)).all()
    assert sorted((r.weekday, r.opens, r.closes) for r in rows) == [
        (0, time(9), time(12)), (0, time(13), time(22)), (5, time(10), time(16)),
    ]  # fmt: skip

    start = london_today() + timedelta(days=20)
    resp = client.post(
        f"/venues/{venue.id}/closures",
        data={
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=2)).isoformat(),
            "reason": "Floor repairs",
        },
    )
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Closure.reason)) == "Floor repairs"

    client.post("/logout")
    public = page(client.get(f"/venues/{venue.id}"))
    for text in (
        "Castlefields Community Centre", "Station Road", "SN11 0JZ", "A bright community centre",
        "Ten minutes' walk", "Leave the hall as you found it.", "£12.50 an hour", "Free for community use",
        "The venue approves each request", "Confirmed at once", "<dt>Holds</dt><dd>120 people</dd>", "Hearing loop, Step free access",
        "Kitchen, Stage", "09:00–12:00, 13:00–22:00", "Floor repairs", "part of Main hall",
    ):  # fmt: skip
        assert text in public, text
    assert f'href="/spaces/{hall.id}/book"' in public
    assert f'href="/spaces/{hall.id}/calendar"' in public
    assert re.search(r"<dt>Tuesday</dt><dd>Closed</dd>", public)


def test_longest_booking_in_minutes(client, db, admin, org):
    login(client, admin)
    resp = client.post(
        f"/organisations/{org.id}/venues/new",
        data={**VENUE_FORM, "max_booking": "90", "max_booking_unit": "minutes"},
    )
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Venue.max_booking_minutes)) == 90
    venue = db.session.scalar(sa.select(Venue))
    resp = client.get(f"/venues/{venue.id}/edit")
    assert 'value="90"' in page(resp) and '<option selected value="minutes">' in page(resp)


@pytest.mark.parametrize(
    "over, field_id, message",
    [
        ({"postcode": "SN99"}, "postcode", "Enter a real UK postcode, e.g. SN15 1ER."),
        ({"max_booking": "25"}, "max_booking", "between 15 minutes and 24 hours"),
        ({"min_notice_hours": "-2"}, "min_notice_hours", "from 0 to"),
        ({"name": ""}, "name", "Give the venue a name."),
    ],
)
def test_bad_venue_details_answer_422_at_the_field(client, db, admin, org, over, field_id, message):
    login(client, admin)
    resp = client.post(f"/organisations/{org.id}/venues/new", data={**VENUE_FORM, **over})
    assert resp.status_code == 422
    assert any(message in m for m in error_at(resp, field_id)), error_at(resp, field_id)
    assert count(db, Venue) == 0


@pytest.mark.parametrize(
    "price, pence",
    [("12.50", 1250), ("£7", 700), ("0", 0), ("1,000", 100000), (".5", 50)],
)
def test_price_in_pounds_is_stored_in_pence(client, db, admin, venue, price, pence):
    login(client, admin)
    resp = client.post(f"/venues/{venue.id}/spaces/new", data=space_form(price=price))
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Space.price_per_hour_pence)) == pence


@pytest.mark.parametrize(
    "price, message",
    [
        ("-1", "The price cannot be below zero. Enter 0 for free community use."),
        ("abc", "Enter the price in pounds and pence, e.g. 12.50 (0 for free community use)."),
        ("12.505", "Enter the price in pounds and pence"),
        ("", "Enter the price per hour: 0 for free community use."),
        ("5000", "The price can be at most £1,000 an hour."),
    ],
)
def test_bad_prices_are_refused_at_the_field(client, db, admin, venue, price, message):
    login(client, admin)
    resp = client.post(f"/venues/{venue.id}/spaces/new", data=space_form(price=price))
    assert resp.status_code == 422
    assert any(message in m for m in error_at(resp, "price")), error_at(resp, "price")
    assert f'value="{price}"' in resp.get_data(as_text=True)  # what was typed is kept to correct
    assert count(db, Space) == 0


def test_a_part_cannot_hold_more_than_its_whole_nor_contain_it(client, db, admin, venue, hall):
    login(client, admin)
    resp = client.post(
        f"/venues/{venue.id}/spaces/new",
        data=space_form(name="Stage end", capacity="200", parent_id=str(hall.id)),
    )
    assert resp.status_code == 422
    assert error_at(resp, "capacity") == [
        "Stage end is part of Main hall, which holds 120; a part cannot hold more than the whole."
    ]
    assert count(db, Space) == 1
    half = make_space(venue, "Stage end", parent=hall, capacity=60)

    # the edit form offers neither the hall itself nor its parts
    form = page(client.get(f"/spaces/{hall.id}/edit"))
    assert f'<option value="{half.id}">' not in form and f'<option value="{hall.id}">' not in form
    # ... and a forged choice is refused
    resp = client.post(f"/spaces/{hall.id}/edit", data=space_form(parent_id=str(half.id)))
    assert resp.status_code == 422
    assert error_at(resp, "parent_id") == ["Not a valid choice."]
    resp = client.post(f"/spaces/{hall.id}/edit", data=space_form(capacity="40"))
    assert resp.status_code == 422
    assert error_at(resp, "capacity") == [
        "Stage end is part of Main hall and holds 60; Main hall must hold at least as many."
    ]
    assert db.session.get(Space, hall.id).capacity == 120


def test_opening_hours_errors_are_shown_at_the_period(client, db, admin, venue):
    login(client, admin)
    resp = client.get(f"/venues/{venue.id}/hours")
    assert resp.status_code == 200 and 'value="09:00"' in page(resp)
    resp = client.post(
        f"/venues/{venue.id}/hours",
        data={"periods-0-weekday": "2", "periods-0-opens": "18:00", "periods-0-closes": "09:00"},
    )
    assert resp.status_code == 422
    assert error_at(resp, "periods-0-closes") == ["The closing time must be after the opening time."]
    resp = client.post(
        f"/venues/{venue.id}/hours",
        data={
            "periods-0-weekday": "1",
            "periods-0-opens": "09:00",
            "periods-0-closes": "13:00",
            "periods-1-weekday": "1",
            "periods-1-opens": "12:00",
            "periods-1-closes": "20:00",
            "periods-2-weekday": "3",
            "periods-2-opens": "10:00",
            "periods-2-closes": "",
        },  # fmt: skip
    )
    assert resp.status_code == 422
    assert error_at(resp, "periods-1-opens") == ["Overlaps 09:00–13:00 on Tuesday."]
    assert error_at(resp, "periods-2-closes") == ["Enter the closing time too."]
    assert len(db.session.get(Venue, venue.id).opening_hours) == 7  # unchanged


def test_closure_end_before_start_is_refused(client, db, admin, venue):
    login(client, admin)
    start = london_today() + timedelta(days=10)
    resp = client.post(
        f"/venues/{venue.id}/closures",
        data={
            "starts_on": start.isoformat(),
            "ends_on": (start - timedelta(days=1)).isoformat(),
            "reason": "Works",
        },
    )
    assert resp.status_code == 422
    assert error_at(resp, "ends_on") == ["The last day must be on or after the first day."]
    resp = client.post(f"/venues/{venue.id}/closures", data={"starts_on": start.isoformat(), "reason": ""})
    assert resp.status_code == 422
    assert error_at(resp, "reason") == ["Say why the venue is closed; bookers see the reason."]
    assert count(db, Closure) == 0

    closure = add_closure(venue, start, reason="Polling station")
    resp = client.post(f"/venues/{venue.id}/closures/{closure.id}/delete")
    assert resp.status_code == 302 and count(db, Closure) == 0


# --- good standing -----------------------------------------------------------------------------------------------


def test_listing_needs_good_standing_and_says_why(client, db):
    admin = make_user()
    org = make_org(admin=admin, name="Devizes Skaters", valid_until=london_today() - timedelta(days=3))
    login(client, admin)
    resp = client.get(f"/organisations/{org.id}/venues/new")
    assert "Devizes Skaters is not in good standing yet" in page(resp)
    assert "The public liability insurance expired on" in page(resp)
    resp = client.post(f"/organisations/{org.id}/venues/new", data=VENUE_FORM)
    assert resp.status_code == 403
    assert "Devizes Skaters can list a venue once it is in good standing." in page(resp)
    assert "The safeguarding policy was due for review on" in page(resp)
    assert count(db, Venue) == 0
    assert "List a venue" not in page(client.get(f"/organisations/{org.id}/venues"))


def test_an_admin_still_edits_a_venue_when_standing_lapses(client, db, admin, org, venue):
    org.status = OrganisationStatus.SUSPENDED
    login(client, admin)
    resp = client.post(f"/venues/{venue.id}/edit", data={**VENUE_FORM, "name": "Castlefields Centre"})
    assert resp.status_code == 302
    assert db.session.get(Venue, venue.id).name == "Castlefields Centre"


# --- who may do what ---------------------------------------------------------------------------------------------


def _manage_urls(org, venue, space, photo, closure) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/organisations/{org.id}/venues", {}),
        ("GET", f"/organisations/{org.id}/venues/new", {}),
        ("POST", f"/organisations/{org.id}/venues/new", VENUE_FORM),
        ("GET", f"/venues/{venue.id}/manage", {}),
        ("GET", f"/venues/{venue.id}/edit", {}),
        ("POST", f"/venues/{venue.id}/edit", VENUE_FORM),
        ("GET", f"/venues/{venue.id}/hours", {}),
        ("POST", f"/venues/{venue.id}/hours", {}),
        ("POST", f"/venues/{venue.id}/closures", {"starts_on": "2030-01-01", "reason": "x"}),
        ("POST", f"/venues/{venue.id}/closures/{closure.id}/delete", {}),
        ("POST", f"/venues/{venue.id}/archive", {}),
        ("POST", f"/venues/{venue.id}/unarchive", {}),
        ("GET", f"/venues/{venue.id}/spaces/new", {}),
        ("POST", f"/venues/{venue.id}/spaces/new", space_form(name="Annexe")),
        ("GET", f"/spaces/{space.id}/edit", {}),
        ("POST", f"/spaces/{space.id}/edit", space_form()),
        ("POST", f"/spaces/{space.id}/archive", {}),
        ("POST", f"/spaces/{space.id}/unarchive", {}),
        ("POST", f"/venues/{venue.id}/photos", {"caption": "x"}),
        ("POST", f"/venues/{venue.id}/photos/{photo.id}/delete", {}),
        ("POST", f"/venues/{venue.id}/photos/{photo.id}/move", {"direction": "down"}),
    ]


@pytest.mark.parametrize("who, expected", [("other_admin", 404), ("member", 403), ("anonymous", 302)])
def test_only_the_owners_admins_manage(client, db, org, venue, hall, who, expected):
    photo = VenuePhoto(venue_id=venue.id, stored_name="x.png", content_type="image/png", caption="x")
    db.session.add(photo)
    closure = add_closure(venue, london_today() + timedelta(days=5))
    if who == "other_admin":
        other = make_user()
        make_org(admin=other, name="Another Youth Club")
        login(client, other)
    elif who == "member":
        member = make_user()
        add_member(org, member, MemberRole.MEMBER)
        login(client, member)
    before = (count(db, Venue), count(db, Space), count(db, Closure), count(db, VenuePhoto))
    for method, url, data in _manage_urls(org, venue, hall, photo, closure):
        resp = client.open(url, method=method, data=data)
        assert resp.status_code == expected, (method, url, resp.status_code)
        if expected == 302:
            assert "/login" in resp.headers["Location"]
    assert (count(db, Venue), count(db, Space), count(db, Closure), count(db, VenuePhoto)) == before
    assert not db.session.get(Venue, venue.id).is_archived


def test_staff_manage_any_venue(client, db, venue, hall):
    login(client, make_user(staff=True))
    assert client.get(f"/venues/{venue.id}/manage").status_code == 200
    resp = client.post(f"/spaces/{hall.id}/edit", data=space_form(name="Great hall"))
    assert resp.status_code == 302
    assert db.session.get(Space, hall.id).name == "Great hall"


def test_missing_things_answer_404(client, db, admin, venue):
    login(client, admin)
    for url in (
        "/venues/999999",
        "/venues/999999/manage",
        "/spaces/999999/edit",
        f"/venues/{venue.id}/photos/999999",
    ):
        assert client.get(url).status_code == 404, url


# --- photos ------------------------------------------------------------------------------------------------------


def test_photo_upload_by_content_served_reordered_and_deleted(client, db, app, admin, venue):
    login(client, admin)
    resp = client.post(
        f"/venues/{venue.id}/photos",
        data={
            "photo": (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "hall.png"),
            "caption": "Main hall",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert error_at(resp, "photo") == ["This file is not one we accept. Upload JPEG, PNG."]
    assert count(db, VenuePhoto) == 0
    resp = client.post(
        f"/venues/{venue.id}/photos",
        data={"photo": (io.BytesIO(png_bytes()), "hall.png"), "caption": ""},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and error_at(resp, "caption")

    for caption in ("Main hall set for a party", "The kitchen"):
        resp = client.post(
            f"/venues/{venue.id}/photos",
            data={"photo": (io.BytesIO(png_bytes()), "photo.png"), "caption": caption},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 302
    first, second = db.session.scalars(sa.select(VenuePhoto).order_by(VenuePhoto.position)).all()

    client.post("/logout")
    resp = client.get(f"/venues/{venue.id}/photos/{first.id}")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data == png_bytes()
    public = page(client.get(f"/venues/{venue.id}"))
    assert f'src="/venues/{venue.id}/photos/{first.id}" alt="Main hall set for a party"' in public

    login(client, admin)
    assert (
        client.post(f"/venues/{venue.id}/photos/{second.id}/move", data={"direction": "up"}).status_code
        == 302
    )
    captions = [p.caption for p in db.session.scalars(sa.select(VenuePhoto).order_by(VenuePhoto.position))]
    assert captions == ["The kitchen", "Main hall set for a party"]
    resp = client.post(f"/venues/{venue.id}/photos/{second.id}/move", data={"direction": "up"})
    assert resp.status_code == 422 and "That photo is already first." in page(resp)

    stored = Path(app.config["UPLOAD_FOLDER"]) / "venue-photos" / first.stored_name
    assert stored.read_bytes() == png_bytes()
    first_id = first.id
    resp = client.post(f"/venues/{venue.id}/photos/{first_id}/delete")
    assert resp.status_code == 302
    assert count(db, VenuePhoto) == 1
    assert not stored.exists()
    assert client.get(f"/venues/{venue.id}/photos/{first_id}").status_code == 404


# --- archiving ---------------------------------------------------------------------------------------------------


def test_archived_spaces_and_venues_leave_the_public_pages(client, db, admin, venue, hall):
    room = make_space(venue, "Committee room", capacity=12)
    photo = VenuePhoto(venue_id=venue.id, stored_name="y.png", content_type="image/png", caption="Hall")
    db.session.add(photo)
    login(client, admin)
    resp = client.post(f"/spaces/{room.id}/archive")
    assert resp.status_code == 302
    client.post("/logout")
    public = page(client.get(f"/venues/{venue.id}"))
    assert f'id="space-{hall.id}"' in public and f'id="space-{room.id}"' not in public
    assert f"/spaces/{room.id}/book" not in public

    login(client, admin)
    assert client.post(f"/venues/{venue.id}/archive").status_code == 302
    assert client.post(f"/venues/{venue.id}/archive").status_code == 409  # already archived
    manage = page(client.get(f"/venues/{venue.id}/manage"))
    assert "Bring the venue back into use" in manage and "Committee room" in manage
    resp = client.get(f"/venues/{venue.id}")
    assert resp.status_code == 200 and "This venue is archived" in page(resp)
    assert f"/spaces/{hall.id}/book" not in page(resp)
    mine = page(client.get(f"/organisations/{venue.organisation_id}/venues"))
    assert "Archived" in mine

    client.post("/logout")
    assert client.get(f"/venues/{venue.id}").status_code == 404
    assert client.get(f"/venues/{venue.id}/photos/{photo.id}").status_code == 404

    login(client, admin)
    assert client.post(f"/venues/{venue.id}/unarchive").status_code == 302
    client.post("/logout")
    assert client.get(f"/venues/{venue.id}").status_code == 200
