"""Public pages are kept briefly per worker for anonymous visitors; signed-in visitors always get a fresh page."""

from __future__ import annotations

import pytest

from foundation import pagecache
from tests.factories import login, make_org, make_user
from tests.venues.factories import make_space, make_venue


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 60}


@pytest.fixture(autouse=True)
def _empty_cache():
    pagecache.clear()
    yield
    pagecache.clear()


def _hall(db, town: str = "Devizes"):
    owner = make_org(admin=make_user(), town=town)
    venue = make_venue(owner, name=f"{town} Scout Hut", town=town)
    make_space(venue, "Main hall")
    db.session.commit()
    return venue


def test_anonymous_visitors_get_the_kept_page_until_it_expires(client, db, monkeypatch):
    _hall(db)
    first = client.get("/venues?town=Devizes")
    assert first.status_code == 200 and first.headers["X-Page-Cache"] == "miss"
    assert "Devizes Scout Hut" in first.text
    # A venue listed now is not on the kept page...
    _hall(db, "Calne")
    again = client.get("/venues?town=Devizes")
    assert again.headers["X-Page-Cache"] == "hit" and again.text == first.text
    # ...but a different question is answered afresh,
    other = client.get("/venues?town=Calne")
    assert other.headers["X-Page-Cache"] == "miss" and "Calne Scout Hut" in other.text
    # and once the time is up the page is rendered again.
    clock = pagecache.time.monotonic() + 61
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock)
    later = client.get("/venues?town=Devizes")
    assert later.headers["X-Page-Cache"] == "miss"


def test_signed_in_visitors_always_get_a_fresh_page(client, db):
    _hall(db)
    client.get("/venues?town=Devizes")
    user = make_user()
    db.session.commit()
    login(client, user)
    page = client.get("/venues?town=Devizes")
    assert page.status_code == 200 and "X-Page-Cache" not in page.headers
    assert user.name in page.text  # their own header, not the anonymous one


def test_errors_are_not_kept(client, db):
    assert client.get("/venues?capacity=abc").status_code == 400
    again = client.get("/venues?capacity=abc")
    assert again.status_code == 400 and "X-Page-Cache" not in again.headers


def test_a_setting_of_zero_turns_the_cache_off(app, client, db):
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 0
    _hall(db)
    client.get("/venues?town=Devizes")
    assert "X-Page-Cache" not in client.get("/venues?town=Devizes").headers
