"""Public JSON API of the Venue Bank: venues and their spaces, and a space's free/busy times.

Bad parameters answer 400 with {"errors": {parameter: message}}. Times are ISO 8601 with their UTC offset, in
Europe/London. No booking titles: this is public.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from wtforms import Form

from foundation.types import LONDON, london_today
from foundation.venues import bp
from foundation.venues import search as svc
from foundation.venues.forms_search import EARLIEST_WEEK, YEARS_AHEAD, FreeBusyForm, SearchForm
from foundation.venues.models import Closure, Space, Venue
from foundation.venues.views_search import MAX_PAGE, filters_from, public_space_or_404, venue_page_url
from foundation.web import external_url


def _errors(form: Form) -> dict[str, str]:
    return {f.name: f.errors[0] for f in form if f.errors}


def _bad(errors: dict[str, str]) -> tuple[Response, int]:
    return jsonify(errors=errors), 400


def _int_arg(name: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "Give a whole number."
        return default
    if not low <= value <= high:
        errors[name] = f"Give a number from {low} to {high}."
    return value


def _space_json(match: svc.SpaceMatch) -> dict[str, Any]:
    space = match.space
    out: dict[str, Any] = {
        "id": space.id,
        "name": space.name,
        "capacity": space.capacity,
        "features": {
            "facilities": [f.value for f in match.facilities],
            "accessibility": [f.value for f in match.accessibility],
        },
        "price_per_hour_pence": space.price_per_hour_pence,
        "needs_approval": space.needs_approval,
        "part_of": space.parent_id,
        "urls": {
            "calendar": external_url("venues.space_calendar", space_id=space.id),
            "freebusy": external_url("venues.api_space_freebusy", space_id=space.id),
            "book": external_url("venues.book", space_id=space.id),
        },
    }
    if match.state is not None:
        out["availability"] = {
            "state": match.state.value,
            "label": match.state.label,
            "detail": match.detail or None,
            "pending_requests": match.pending_requests,
        }
    return out


def _venue_json(venue: Venue, spaces: list[svc.SpaceMatch]) -> dict[str, Any]:
    page = external_url("venues.venue", venue_id=venue.id) if venue_page_url(venue) else None
    return {
        "id": venue.id,
        "name": venue.name,
        "town": venue.town,
        "postcode": venue.postcode,
        "urls": {"page": page} if page else {},
        "spaces": [_space_json(m) for m in spaces],
    }


@bp.get("/api/venues")
def api_venues() -> ResponseReturnValue:
    """Venues with their matching spaces: ?town=&capacity=&feature=&feature=&date=&start=&end=&page=&per_page=.

    With a date, start and end only spaces free and bookable then are listed; &unavailable=1 lists the others too,
    each with its state (booked, closed, outside hours, notice, too far ahead, too long, past)."""
    form = SearchForm(formdata=request.args)
    valid = form.validate()
    errors = _errors(form)
    page = _int_arg("page", 1, 1, MAX_PAGE, errors)
    per_page = _int_arg("per_page", svc.PAGE_SIZE, 1, svc.MAX_PAGE_SIZE, errors)
    if not valid or errors:
        return _bad(errors)
    result = svc.search_spaces(filters_from(form, page, per_page))

    def page_link(n: int) -> str:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(n)]
        return external_url("venues.api_venues", **args)

    return jsonify(
        venues=[_venue_json(vm.venue, vm.spaces) for vm in result.venues],
        total=result.total,
        page=result.page,
        per_page=per_page,
        pages=result.pages,
        next=page_link(result.page + 1) if result.has_next else None,
        previous=page_link(min(result.page - 1, result.pages)) if result.has_previous else None,
    )


def _closure_json(closure: Closure | None) -> dict[str, str] | None:
    if closure is None:
        return None
    return {
        "reason": closure.reason,
        "starts_on": closure.starts_on.isoformat(),
        "ends_on": closure.ends_on.isoformat(),
    }


@bp.get("/api/spaces/<int:space_id>/freebusy")
def api_space_freebusy(space_id: int) -> ResponseReturnValue:
    """Busy intervals of a space, with opening hours and closures per day: ?from=YYYY-MM-DD&to=YYYY-MM-DD
    (inclusive, Europe/London dates; at most 62 days; from today for a week when not given)."""
    space: Space = public_space_or_404(space_id)
    form = FreeBusyForm(formdata=request.args)
    if not form.validate():
        return _bad(_errors(form))
    first = form.starts_on.data or london_today()
    last = form.ends_on.data or first + timedelta(days=6)
    latest = london_today() + timedelta(days=365 * YEARS_AHEAD)
    errors: dict[str, str] = {}
    if not EARLIEST_WEEK <= first <= latest:
        errors["from"] = f"Give a date from {EARLIEST_WEEK.isoformat()} to {latest.isoformat()}."
    if last < first:
        errors["to"] = "The end date must be on or after the start date."
    elif (last - first).days + 1 > svc.MAX_FREEBUSY_DAYS:
        errors["to"] = f"Ask for at most {svc.MAX_FREEBUSY_DAYS} days at a time."
    if errors:
        return _bad(errors)
    fb = svc.free_busy(space, first, last)
    return jsonify(
        space={
            "id": space.id,
            "name": space.name,
            "venue": {"id": fb.space.venue.id, "name": fb.space.venue.name, "town": fb.space.venue.town},
            "calendar_url": external_url("venues.space_calendar", space_id=space.id),
        },
        timezone="Europe/London",
        **{"from": first.isoformat(), "to": last.isoformat()},
        busy=[
            {
                "start": i.starts_at.astimezone(LONDON).isoformat(),
                "end": i.ends_at.astimezone(LONDON).isoformat(),
            }
            for i in fb.busy
        ],
        days=[
            {
                "date": d.day.isoformat(),
                "weekday": svc.WEEKDAY_NAMES[d.day.weekday()],
                "opening_hours": [{"opens": svc.hhmm(o), "closes": svc.hhmm(c)} for o, c in d.opening],
                "closure": _closure_json(d.closure),
            }
            for d in fb.days
        ],
    )
