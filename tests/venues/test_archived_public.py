"""Archived spaces and venues are gone from every public route: pages, photos, the JSON API and the busy feed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from foundation.types import london_today, utcnow
from foundation.venues.models import VenuePhoto
from tests.factories import login
from tests.venues.factories import make_booker, make_booking, make_space, make_venue


@pytest.fixture
def world(db):
    owner, org = make_booker()
    live_venue = make_venue(org, "Calne Community Hall")
    live = make_space(live_venue, "Main hall")
    archived_space = make_space(live_venue, "Old store", archived_at=utcnow())
    closed_venue = make_venue(org, "Closed Chapel", archived_at=utcnow())
    in_closed_venue = make_space(closed_venue, "Chapel room")
    photo = VenuePhoto(
        venue_id=closed_venue.id, stored_name="x.png", content_type="image/png", caption="Chapel"
    )
    db.session.add(photo)
    day = london_today() + timedelta(days=3)
    for space in (live, archived_space, in_closed_venue):
        make_booking(space, org, day)
    db.session.flush()
    return {"owner": owner, "live": live, "archived_space": archived_space, "closed_venue": closed_venue,
            "in_closed_venue": in_closed_venue, "photo": photo}  # fmt: skip


def space_routes(space_id: int) -> list[str]:
    return [
        f"/spaces/{space_id}/calendar",
        f"/spaces/{space_id}/busy.ics",
        f"/api/spaces/{space_id}/freebusy",
    ]


@pytest.mark.parametrize("visitor", ["anonymous", "other_member"])
def test_every_public_route_of_an_archived_space_or_venue_is_404(client, db, world, visitor):
    if visitor == "other_member":
        member, _ = make_booker()
        login(client, member)
    gone = [
        *space_routes(world["archived_space"].id),
        *space_routes(world["in_closed_venue"].id),
        f"/venues/{world['closed_venue'].id}",
        f"/venues/{world['closed_venue'].id}/photos/{world['photo'].id}",
    ]
    assert {path: client.get(path).status_code for path in gone} == dict.fromkeys(gone, 404)
    # the live space next to them still answers
    assert {client.get(path).status_code for path in space_routes(world["live"].id)} == {200}


def test_the_busy_feed_of_an_archived_space_is_404_json_free_and_cache_free(client, db, world):
    resp = client.get(f"/spaces/{world['archived_space'].id}/busy.ics")
    assert resp.status_code == 404
    assert "BEGIN:VCALENDAR" not in resp.get_data(as_text=True)
    assert "max-age" not in resp.headers.get("Cache-Control", "")


def test_archived_spaces_and_venues_are_not_listed_by_the_api_or_search(client, db, world):
    listed = client.get("/api/venues").get_json()
    names = {(v["name"], s["name"]) for v in listed["venues"] for s in v["spaces"]}
    assert names == {("Calne Community Hall", "Main hall")}
    page = client.get("/venues?town=Calne").get_data(as_text=True)
    assert "Main hall" in page and "Old store" not in page and "Closed Chapel" not in page


def test_a_space_feed_comes_back_when_the_space_is_unarchived(client, db, world):
    space = world["archived_space"]
    assert client.get(f"/spaces/{space.id}/busy.ics").status_code == 404
    space.archived_at = None
    db.session.flush()
    assert client.get(f"/spaces/{space.id}/busy.ics").status_code == 200
