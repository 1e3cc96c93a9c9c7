"""Templates build each link once per worker and reuse it: the links are the ones Flask builds, also when the site
is mounted under a path, with an anchor, or with arguments the cache leaves to Flask."""

from __future__ import annotations

from html import unescape

from flask import render_template_string, url_for

TEMPLATE = (
    "{{ url_for('venues.search') }}|{{ url_for('venues.space_calendar', space_id=7) }}|"
    "{{ url_for('venues.space_calendar', space_id=8, _anchor='week') }}|"
    "{{ url_for('venues.search', town='Calne', page=2) }}|"
    "{{ url_for('venues.search', _external=True) }}|{{ url_for('static', filename='css/site.css') }}"
)


def expected() -> str:
    return "|".join(
        [
            url_for("venues.search"),
            url_for("venues.space_calendar", space_id=7),
            url_for("venues.space_calendar", space_id=8, _anchor="week"),
            url_for("venues.search", town="Calne", page=2),
            url_for("venues.search", _external=True),
            url_for("static", filename="css/site.css"),
        ]
    )


def test_template_links_are_flasks_links_and_are_kept(app):
    with app.test_request_context("/"):
        first = unescape(render_template_string(TEMPLATE))
        assert first == expected()
        assert first.split("|")[:4] == [
            "/venues",
            "/spaces/7/calendar",
            "/spaces/8/calendar#week",
            "/venues?town=Calne&page=2",
        ]
        kept = app.extensions["url_cache"]
        assert ("", "venues.space_calendar", ("space_id", 7)) in kept
        # `_external` is built by Flask each time (it depends on the request's address), never kept.
        assert not any("_external" in str(key) for key in kept)
        assert unescape(render_template_string(TEMPLATE)) == first


def test_a_site_mounted_under_a_path_gets_its_own_links(app):
    with app.test_request_context("/"):
        unescape(render_template_string(TEMPLATE))
    with app.test_request_context("/", base_url="http://localhost/youth/"):
        mounted = unescape(render_template_string(TEMPLATE))
        assert mounted == expected()
        assert mounted.startswith("/youth/venues|/youth/spaces/7/calendar|")
