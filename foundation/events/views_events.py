"""Events: the public listing and event pages, calendar files, and the organiser's pages.

/events                        published events still to come (or, with past=1, those that have ended), filtered
/events.ics                    the public calendar feed of published events still to come
/events/<id>                   an event's page (a draft: its managers only; to anyone else it does not exist)
/events/<id>.ics               the event as a file to add to a calendar (the online link only for people holding
                               places)
/events/new                    list an event (staff, or an admin of an organisation in good standing)
/events/mine                   the events of the organisations one is an admin of (staff: every event)
/events/<id>/edit              change an event (its managers: the organiser's admins and staff)
/events/<id>/manage            the organiser's page: status, sessions and their bookings, publish, cancel
/events/<id>/publish           publish a draft (POST)
/events/<id>/cancel            cancel the event (POST, with a reason)
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import contains_eager
from werkzeug.routing import BuildError

from foundation.errors import DomainError
from foundation.events import bp, events, listing, registrations
from foundation.events.calendar import event_ics, feed_ics
from foundation.events.forms_events import (
    SESSIONS_SHOWN,
    CancelEventForm,
    EventForm,
    ListingForm,
    PublishForm,
)
from foundation.events.models import Event, EventType, Topic
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation
from foundation.pagecache import public_page
from foundation.pagination import page_number
from foundation.permissions import deny, signed_in_user
from foundation.venues.models import Feature, FeatureGroup, Space, Venue
from foundation.web import submit_form

FEED_MAX_AGE = 300


def _ics(body: bytes, filename: str, private: bool) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, max-age={FEED_MAX_AGE}"
    response.add_etag()
    response.make_conditional(request)
    return response


def _visible_event(event_id: int) -> Event:
    """The event, or 404: a draft exists only for its managers."""
    event = events.load(event_id)
    if event is None:
        abort(404)
    if not events.can_see(current_user, event):
        deny(404, f"event {event_id} is a draft")
    return event


def _managed_event(event_id: int) -> Event:
    """The event for one of its managers: a published event is public, so others are refused (403)."""
    event = _visible_event(event_id)
    if not events.can_manage(signed_in_user(), event):
        deny(403, f"not a manager of event {event_id}")
    return event


# --- public ------------------------------------------------------------------------------------------------------


@bp.get("/events")
@public_page
def events_list() -> ResponseReturnValue:
    form = ListingForm(request.args)
    form.offer_towns(listing.listed_towns())
    valid = form.validate() if request.args else True
    chosen = listing.ListingFilters(
        event_type=EventType(form.event_type.data) if valid and form.event_type.data else None,
        topic=Topic(form.topic.data) if valid and form.topic.data else None,
        town=form.town.data or None if valid else None,
        date_from=form.date_from.data if valid else None,
        date_to=form.date_to.data if valid else None,
        free_only=bool(form.free_only.data),
        places_left=bool(form.places_left.data),
        past=bool(form.past.data),
    )
    result = listing.listing(chosen, page_number())
    args = {k: v for k, v in request.args.items(multi=False) if k != "page" and v and k in form}
    return render_template(
        "events/list.html",
        form=form,
        result=result,
        args=args,
        past=chosen.past,
        can_create=current_user.is_authenticated and events.can_create(signed_in_user()),
    ), (200 if valid else 400)


@bp.get("/events.ics")
def events_feed() -> ResponseReturnValue:
    return _ics(feed_ics(listing.feed_events()), "events.ics", private=False)


def accessibility_of(space: Space | None) -> list[Feature]:
    """The space's accessibility features (step-free access, hearing loop, ...), in a steady order."""
    if space is None:
        return []
    return sorted(
        (f for f in space.feature_set if f.group is FeatureGroup.ACCESSIBILITY), key=lambda f: f.label
    )


def _register_url(event: Event) -> str | None:
    """The registration page (where a full event's waiting list is joined too), when that page is served."""
    try:
        return url_for("events.register", event_id=event.id)
    except BuildError:
        return None


def _holds_place(event: Event) -> bool:
    return bool(current_user.is_authenticated and registrations.holds_place(signed_in_user(), event))


@bp.get("/events/<int:event_id>")
@public_page
def event_page(event_id: int) -> ResponseReturnValue:
    event = _visible_event(event_id)
    space = event.space
    return render_template(
        "events/event_page.html",
        event=event,
        space=space,
        accessibility=accessibility_of(space),
        show_link=_holds_place(event),
        register_url=_register_url(event),
        can_manage=events.can_manage(current_user, event),
    )


@bp.get("/events/<int:event_id>.ics")
def event_calendar(event_id: int) -> ResponseReturnValue:
    event = _visible_event(event_id)
    with_link = _holds_place(event)
    return _ics(event_ics(event, include_online_link=with_link), f"event-{event.id}.ics", private=with_link)


# --- the organiser's pages ---------------------------------------------------------------------------------------


def _spaces() -> list[Space]:
    """Spaces taking bookings, for the event form (one query)."""
    return list(
        db.session.scalars(
            sa.select(Space)
            .join(Space.venue)
            .options(contains_eager(Space.venue))
            .where(Space.archived_at.is_(None), Venue.archived_at.is_(None))
            .order_by(Venue.town, Venue.name, Space.name)
        )
    )


def _chosen_space(form: EventForm) -> Space | None:
    space_id = form.space_id.data
    if not space_id:
        return None
    space = db.session.get(Space, space_id)
    if space is None or space.archived_at is not None or space.venue.archived_at is not None:
        raise DomainError("Choose a space from the list.", field="space_id")
    return space


def _form_page(form: EventForm, event: Event | None, status: int) -> ResponseReturnValue:
    filled = max(
        (n for n, d, s, e in form.session_rows() if d.data or s.data or e.data or d.errors), default=0
    )
    return render_template(
        "events/event_form.html",
        form=form,
        event=event,
        shown=max(SESSIONS_SHOWN, filled),
    ), status


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def event_new() -> ResponseReturnValue:
    user = signed_in_user()
    organisations = events.organising_organisations(user)
    if not organisations:
        deny(403, "only staff and admins of organisations in good standing list events")
    form = EventForm()
    form.organisation_id.choices = [SelectChoice(o.id, o.name) for o in organisations]
    form.offer_spaces(_spaces())
    if request.method == "GET" and len(organisations) == 1:
        form.organisation_id.data = organisations[0].id

    def run() -> Event:
        org = db.session.get(Organisation, form.organisation_id.data)
        if org is None or org.id not in {o.id for o in organisations}:
            raise DomainError("Choose one of your organisations.", field="organisation_id")
        return events.create_event(form.details(_chosen_space(form)), org, user)

    outcome = submit_form(form, run)
    if outcome.done:
        flash("Saved as a draft. Check it, then publish it from this page.", "success")
        return redirect(url_for("events.event_manage", event_id=outcome.result.id))
    return _form_page(form, None, outcome.status)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def event_edit(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    user = signed_in_user()
    form = EventForm()
    del form.organisation_id  # the organiser stays who it is
    form.offer_spaces(_spaces())
    if request.method == "GET":
        form.fill_from(event)

    def run() -> list[str]:
        return events.update_event(event, form.details(_chosen_space(form)), user)

    outcome = submit_form(form, run)
    if outcome.done:
        told = " Everyone registered has been told." if outcome.result and event.published_at else ""
        flash(f"Saved.{told}", "success")
        return redirect(url_for("events.event_manage", event_id=event.id))
    return _form_page(form, event, outcome.status)


def _manage_page(
    event: Event, cancel_form: CancelEventForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "events/manage.html",
        event=event,
        publish_form=PublishForm(),
        cancel_form=cancel_form or CancelEventForm(formdata=None),
    ), status


@bp.get("/events/<int:event_id>/manage")
@login_required
def event_manage(event_id: int) -> ResponseReturnValue:
    return _manage_page(_managed_event(event_id))


@bp.post("/events/<int:event_id>/publish")
@login_required
def event_publish(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    form = PublishForm()
    outcome = submit_form(form, lambda: events.publish(event, signed_in_user()))
    if outcome.done:
        flash("Published: the event is listed.", "success")
        return redirect(url_for("events.event_manage", event_id=event.id))
    if form.form_errors:
        for message in form.form_errors:
            flash(message, "error")
    elif form.errors:
        flash("The form had expired. Please try again.", "error")
    return _manage_page(events.load(event_id) or event, status=outcome.status)


@bp.post("/events/<int:event_id>/cancel")
@login_required
def event_cancel(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    form = CancelEventForm()
    outcome = submit_form(form, lambda: events.cancel_event(event, signed_in_user(), form.reason.data or ""))
    if outcome.done:
        n = outcome.result
        told = (
            f" {n} registration{'s' if n != 1 else ''} cancelled; everyone registered has been told."
            if n
            else ""
        )
        flash(f"The event is cancelled and its venue bookings released.{told}", "success")
        return redirect(url_for("events.event_manage", event_id=event.id))
    return _manage_page(events.load(event_id) or event, cancel_form=form, status=outcome.status)


@bp.get("/events/mine")
@login_required
def events_mine() -> ResponseReturnValue:
    user = signed_in_user()
    org_ids = [m.organisation_id for m in user.memberships if user.is_admin_of(m.organisation_id)]
    result = listing.organisation_events(org_ids, page_number(), all_events=user.is_staff)
    return render_template(
        "events/event_mine.html", result=result, can_create=events.can_create(user), staff=user.is_staff
    )
