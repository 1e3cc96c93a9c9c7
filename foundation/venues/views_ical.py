"""Calendar feeds: public busy times per space, an organisation's private feed, and the page to manage it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from icalendar import Calendar
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from foundation.auth import log_event
from foundation.extensions import db
from foundation.permissions import organisation_for
from foundation.venues import bp, ical
from foundation.venues.models import Space, Venue
from foundation.venues.views_search import public_space_or_404
from foundation.web import external_url

# Calendar apps poll; a few minutes of caching spares the database without hiding a change for long.
FEED_MAX_AGE = 300


def _since() -> datetime:
    return ical.history_start(
        days=current_app.config.get("CALENDAR_FEED_HISTORY_DAYS", ical.DEFAULT_HISTORY_DAYS)
    )


def ics_response(cal: Calendar, filename: str, private: bool, download: bool = False) -> Response:
    """A calendar as a feed to subscribe to, or (`download`) as a file to save and import."""
    response = Response(cal.to_ical(), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # A signed-in person's download is never stored whatever this says (private_pages_are_not_stored).
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, max-age={FEED_MAX_AGE}"
    if private:
        # The address is the secret: keep it out of search engines and other sites' logs.
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
    # The body is deterministic for unchanged bookings, so its hash is a cheap validator for polling clients.
    response.add_etag()
    response.make_conditional(request)  # in place (it returns this same response, typed as werkzeug's)
    return response


@bp.get("/spaces/<int:space_id>/busy.ics")
def space_busy_feed(space_id: int) -> ResponseReturnValue:
    # An archived space (or one in an archived venue) is gone from every public page, its feed included.
    space = public_space_or_404(space_id)
    return ics_response(
        ical.space_busy_calendar(space, _since()), f"space-{space.id}-busy.ics", private=False
    )


@bp.get("/calendars/<token>.ics")
def organisation_feed(token: str) -> ResponseReturnValue:
    org = ical.organisation_for_token(token)
    if org is None:
        abort(404)
    return ics_response(ical.organisation_calendar(org, _since()), "bookings.ics", private=True)


@bp.get("/organisations/<int:org_id>/calendars")
@login_required
def calendar_feeds(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    token = ical.calendar_token_for(org)
    try:
        db.session.commit()
    except IntegrityError:
        # Two first views at once: the other request made the token; use that one.
        db.session.rollback()
        token = ical.calendar_token_for(org)
    spaces = db.session.scalars(
        sa.select(Space)
        .join(Space.venue)
        .where(Venue.organisation_id == org.id, Venue.archived_at.is_(None), Space.archived_at.is_(None))
        .order_by(Venue.name, Space.name)
        .options(contains_eager(Space.venue))
    ).all()
    return render_template(
        "venues/calendar_feeds.html",
        org=org,
        feed_url=external_url("venues.organisation_feed", token=token.token),
        token_created_at=token.created_at,
        space_feeds=[(s, external_url("venues.space_busy_feed", space_id=s.id)) for s in spaces],
    )


@bp.post("/organisations/<int:org_id>/calendars/reset")
@login_required
def reset_calendar_link(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    ical.reset_calendar_token(org)
    db.session.commit()
    log_event("calendar_link_reset", user=current_user.id, organisation=org.id)
    flash(
        "There is a new secret link. The old one has stopped working: "
        "give the new link to any calendar app that should keep showing your bookings.",
        "success",
    )
    return redirect(url_for("venues.calendar_feeds", org_id=org.id))
