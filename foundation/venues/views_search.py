"""Public Venue Bank pages: the search, and a space's week calendar. No sign-in needed; nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.pagecache import public_page
from foundation.types import london_today, utcnow
from foundation.venues import bp
from foundation.venues import search as svc
from foundation.venues.forms_search import SearchForm, WeekForm
from foundation.venues.models import FeatureGroup, Space, Venue
from foundation.web import external_url


def public_space_or_404(space_id: int) -> Space:
    """A space the public may look at: it and its venue are not archived."""
    space = db.session.get(Space, space_id, options=[joinedload(Space.venue)])
    if space is None or space.archived_at is not None or space.venue.archived_at is not None:
        abort(404)
    return space


def venue_page_url(venue: Venue, **kwargs: Any) -> str | None:
    """The public venue page, where the application has one."""
    if "venues.venue" not in current_app.view_functions:
        return None
    return url_for("venues.venue", venue_id=venue.id, **kwargs)


MAX_PAGE = 1_000_000


def page_arg(default: int = 1) -> int:
    """The page asked for; nonsense gives the first page rather than an error (it only comes from edited links)."""
    try:
        return min(MAX_PAGE, max(1, int(request.args.get("page", default))))
    except ValueError:
        return default


def filters_from(form: SearchForm, page: int = 1, per_page: int = svc.PAGE_SIZE) -> svc.SearchFilters:
    slot = form.slot
    return svc.SearchFilters(
        town=form.town.data or None,
        min_capacity=form.capacity.data,
        features=form.feature.features,
        day=slot[0] if slot else None,
        start=slot[1] if slot else None,
        end=slot[2] if slot else None,
        page=page,
        per_page=per_page,
        unavailable=bool(form.unavailable.data),
    )


def canonical_town(value: str | None, towns: list[str]) -> str | None:
    if not value:
        return value
    wanted = value.strip().lower()
    return next((t for t in towns if t.lower() == wanted), value.strip())


_ID_MARK = 918_273_645  # stands for a row's id in a URL built once per page


def url_around_id(endpoint: str, key: str, **values: Any) -> tuple[Markup, Markup] | None:
    """`endpoint`'s URL for any row, as the (escaped) text before and after the row's id `key`, so a page of
    rows builds it once and joins the id in; None when the application has no such page."""
    if endpoint not in current_app.view_functions:
        return None
    id_value: dict[str, Any] = {key: _ID_MARK}  # any key, as far as url_for's own keyword arguments go
    url = url_for(endpoint, **id_value, **values)
    before, mark, after = url.partition(str(_ID_MARK))
    if not mark:
        raise ValueError(f"{endpoint} does not put {key} in its URL as given")
    return Markup.escape(before), Markup.escape(after)


def result_links(result: svc.SearchResult) -> dict[str, Any]:
    """What the results template needs once per page rather than once per row: the links to a venue, a
    space's calendar and its booking form (with the slot asked about), the slot in words, and prices."""
    f = result.filters
    slot = None
    calendar_args: dict[str, str] = {}
    book_args: dict[str, str] = {}
    if f.day is not None and f.start is not None and f.end is not None:
        slot = f"{f.day:%A %-d %B %Y}, {f.start:%H:%M}–{f.end:%H:%M}"
        calendar_args = {"week": f.day.isoformat()}
        book_args = {
            "first_date": f.day.isoformat(),
            "start_time": f"{f.start:%H:%M}",
            "end_time": f"{f.end:%H:%M}",
        }
    pounds = current_app.jinja_env.filters["pounds"]
    prices = {sm.space.price_per_hour_pence for vm in result.venues for sm in vm.spaces}
    return {
        "slot": slot,
        "venue_url": url_around_id("venues.venue", "venue_id"),
        "calendar_url": url_around_id("venues.space_calendar", "space_id", **calendar_args),
        "book_url": url_around_id("venues.book", "space_id", **book_args),
        "prices": {pence: pounds(pence) for pence in prices if pence},
    }


@bp.get("/venues")
@public_page
def search() -> ResponseReturnValue:
    towns = svc.towns_with_venues()
    form = SearchForm(formdata=request.args)
    form.town.choices = [SelectChoice("", "Any town"), *(SelectChoice(t, t) for t in towns)]
    result = None
    status = 200
    if form.validate():
        form.town.data = canonical_town(form.town.data, towns)
        result = svc.search_spaces(filters_from(form, page_arg()))
    else:
        status = 400

    def page_url(page: int) -> str:
        args: dict[str, Any] = request.args.to_dict(flat=False)
        args["page"] = [str(page)]
        return url_for("venues.search", **args)

    return (
        render_template(
            "venues/search.html",
            form=form,
            result=result,
            links=result_links(result) if result is not None else None,
            groups=[(FeatureGroup.FACILITY, "Facilities"), (FeatureGroup.ACCESSIBILITY, "Accessibility")],
            page_url=page_url,
        ),
        status,
    )


@bp.get("/spaces/<int:space_id>/calendar")
@public_page
def space_calendar(space_id: int) -> ResponseReturnValue:
    """A space's week (the current one unless `week` names a day of another), each free hour a link to the
    booking form for it. `day` (0 = Monday) picks the day shown where only one fits; wide screens show all.

    The links are built once and the slots' query strings joined on in the template, and the page's
    statements do not depend on how much the week holds. The busy-time feed's address is offered for
    calendar apps, on the site's public address (BASE_URL)."""
    space = public_space_or_404(space_id)
    form = WeekForm(formdata=request.args)
    status = 200
    now = utcnow()
    week: date = london_today(now)
    if form.validate():
        week = form.week.data or week
    else:
        status = 400
    calendar = svc.week_calendar(space, week, current_user, now=now)
    day = request.args.get("day", type=int)
    return (
        render_template(
            "venues/space_calendar.html",
            cal=calendar,
            form=form,
            today=calendar.today,
            venue_url=venue_page_url(calendar.venue),
            calendar_url=url_for("venues.space_calendar", space_id=space.id),
            book_url=url_for("venues.book", space_id=space.id),
            feed_url=external_url("venues.space_busy_feed", space_id=space.id),
            shown_day=day if day is not None and 0 <= day <= 6 else calendar.first_day,
        ),
        status,
    )
