"""Venue pages: the public venue page and its photos, and the owners' pages to list and manage venues and spaces.

Managing a venue is for the admins of the organisation that owns it, and for foundation staff. Another
organisation's management pages answer 404; a member who is not an admin of the owner gets 403.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation
from foundation.members.organisations import good_standing
from foundation.pagecache import public_page
from foundation.permissions import organisation_for
from foundation.uploads import content_disposition, download_name, remove_stored, stored_path
from foundation.venues import booking as booking_svc
from foundation.venues import bp
from foundation.venues import venues as svc
from foundation.venues.forms_venues import (
    ClosureForm,
    MovePhotoForm,
    OpeningHoursForm,
    PeriodForm,
    PhotoForm,
    SpaceForm,
    VenueForm,
)
from foundation.venues.models import Closure, Feature, FeatureGroup, Space, Venue, VenuePhoto
from foundation.web import field_error, submit_form

# --- access ------------------------------------------------------------------------------------------------------


def _managed_org(org_id: int) -> Organisation:
    """An organisation whose venues the signed-in user manages: its admins, or staff. Others: 404 or 403."""
    if current_user.is_staff:
        org = db.session.get(Organisation, org_id)
        if org is None:
            abort(404)
        return org
    return organisation_for(org_id, admin=True)


def _managed_venue(venue_id: int, page: bool = False) -> Venue:
    venue = db.session.get(Venue, venue_id, options=svc.venue_page_options() if page else ())
    if venue is None:
        abort(404)
    _managed_org(venue.organisation_id)
    return venue


def _managed_space(space_id: int) -> Space:
    space = db.session.get(Space, space_id)
    if space is None:
        abort(404)
    _managed_org(space.venue.organisation_id)
    return space


def can_manage_venue(venue: Venue) -> bool:
    if not current_user.is_authenticated:
        return False
    return bool(current_user.is_staff or current_user.is_admin_of(venue.organisation_id))


def _feature_groups() -> list[tuple[str, FeatureGroup]]:
    return [("Facilities", FeatureGroup.FACILITY), ("Accessibility", FeatureGroup.ACCESSIBILITY)]


# --- public ------------------------------------------------------------------------------------------------------


@bp.get("/venues/<int:venue_id>")
@public_page
def venue(venue_id: int) -> ResponseReturnValue:
    venue = db.session.get(Venue, venue_id, options=svc.venue_page_options())
    manager = venue is not None and can_manage_venue(venue)
    if venue is None or (venue.is_archived and not manager):
        abort(404)
    return render_template(
        "venues/venue.html",
        venue=venue,
        spaces=svc.space_tree(venue),
        hours=svc.hours_by_weekday(venue),
        closures=svc.upcoming_closures(venue),
        manager=manager,
        has_calendar="venues.space_calendar" in current_app.view_functions,
        feature_groups=_feature_groups(),
    )


@bp.get("/venues/<int:venue_id>/photos/<int:photo_id>")
def venue_photo(venue_id: int, photo_id: int) -> ResponseReturnValue:
    photo = db.session.get(VenuePhoto, photo_id)
    if photo is None or photo.venue_id != venue_id:
        abort(404)
    if photo.venue.is_archived and not can_manage_venue(photo.venue):
        abort(404)
    path = stored_path(svc.PHOTO_FOLDER, photo.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=photo.content_type, max_age=3600, conditional=True)
    # Saved from the browser, a photo is named for what it is, never by anything its uploader chose.
    name = download_name(f"venue-{venue_id}-photo-{photo.id}", photo.content_type)
    response.headers["Content-Disposition"] = content_disposition(name, "inline")
    return response


# --- an organisation's venues ------------------------------------------------------------------------------------


@bp.get("/organisations/<int:org_id>/venues")
@login_required
def my_venues(org_id: int) -> ResponseReturnValue:
    org = _managed_org(org_id)
    venues = sorted(
        db.session.scalars(
            db.select(Venue)
            .where(Venue.organisation_id == org.id)
            .options(selectinload(Venue.spaces), selectinload(Venue.photos))
        ),
        key=lambda v: (v.is_archived, v.name.casefold()),
    )
    return render_template("venues/my_venues.html", org=org, venues=venues, standing=good_standing(org))


@bp.route("/organisations/<int:org_id>/venues/new", methods=["GET", "POST"])
@login_required
def venue_new(org_id: int) -> ResponseReturnValue:
    org = _managed_org(org_id)
    standing = good_standing(org)
    form = VenueForm()
    outcome = submit_form(form, lambda: svc.create_venue(org, form.values()))
    status = outcome.status
    if outcome.done:
        venue = outcome.result
        flash(f"{venue.name} is listed. Now add its spaces and set its opening hours.", "success")
        return redirect(url_for("venues.venue_manage", venue_id=venue.id))
    return render_template(
        "venues/venue_form.html", form=form, org=org, venue=None, standing=standing
    ), status


@bp.get("/venues/<int:venue_id>/manage")
@login_required
def venue_manage(venue_id: int) -> ResponseReturnValue:
    return _render_manage(_managed_venue(venue_id, page=True))


def _render_manage(
    venue: Venue,
    closure_form: ClosureForm | None = None,
    photo_form: PhotoForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template(
            "venues/venue_manage.html",
            venue=venue,
            spaces=svc.space_tree(venue, include_archived=True),
            hours=svc.hours_by_weekday(venue),
            closures=svc.upcoming_closures(venue),
            closure_form=closure_form or ClosureForm(formdata=None),
            photo_form=photo_form or PhotoForm(formdata=None),
            standing=good_standing(venue.organisation),
            max_photos=svc.MAX_PHOTOS,
        ),
        status,
    )


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@login_required
def venue_edit(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    form = VenueForm(data=None if request.method == "POST" else VenueForm.data_from(venue))
    outcome = submit_form(form, lambda: svc.update_venue(venue, form.values()))
    status = outcome.status
    if outcome.done:
        flash(f"{venue.name}: details saved.", "success")
        return redirect(url_for("venues.venue_manage", venue_id=venue.id))
    return (
        render_template(
            "venues/venue_form.html", form=form, org=venue.organisation, venue=venue, standing=None
        ),
        status,
    )


@bp.post("/venues/<int:venue_id>/archive")
@login_required
def venue_archive(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    svc.archive_venue(venue)
    db.session.commit()
    flash(
        f"{venue.name} is archived: it no longer appears in search and takes no new bookings. "
        "Bookings already made stay; cancel any that cannot go ahead.",
        "success",
    )
    return redirect(url_for("venues.venue_manage", venue_id=venue.id))


@bp.post("/venues/<int:venue_id>/unarchive")
@login_required
def venue_unarchive(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    svc.unarchive_venue(venue)
    db.session.commit()
    flash(f"{venue.name} is back in use and open for bookings.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=venue.id))


# --- opening hours and closures ----------------------------------------------------------------------------------


def _hours_data(venue: Venue) -> dict:
    rows = []
    for weekday, (_name, periods) in enumerate(svc.hours_by_weekday(venue)):
        for opens, closes in periods:
            rows.append({"weekday": weekday, "opens": opens, "closes": closes})
        for _blank in range(max(1, 2 - len(periods))):
            rows.append({"weekday": weekday, "opens": None, "closes": None})
    return {"periods": rows}


def _hours_field_error(form: OpeningHoursForm, exc: DomainError) -> None:
    """A service message about one period goes to that period's field ("periods-3-closes")."""
    parts = (exc.field or "").split("-")
    if len(parts) == 3 and parts[0] == "periods" and parts[1].isdigit():
        index, name = int(parts[1]), parts[2]
        if index < len(form.periods.entries) and name in form.periods.entries[index].form:
            sub = form.periods.entries[index].form[name]
            sub.errors = [*sub.errors, exc.message]
            return
    form.form_errors.append(exc.message)


def _hours_by_day(form: OpeningHoursForm) -> list[tuple[str, list]]:
    days: list[tuple[str, list]] = [(name, []) for name in svc.WEEKDAYS]
    for index, entry in enumerate(form.periods.entries):
        weekday = entry.form.weekday.data
        if isinstance(weekday, int) and 0 <= weekday <= 6:
            days[weekday][1].append((index, entry.form))
    return days


def _period(row: PeriodForm, index: int) -> svc.Period:
    """A used row of a valid opening-hours form."""
    weekday, opens, closes = row.weekday.data, row.opens.data, row.closes.data
    assert weekday is not None and opens is not None and closes is not None  # validated, and used
    return svc.Period(weekday, opens, closes, row=index)


@bp.route("/venues/<int:venue_id>/hours", methods=["GET", "POST"])
@login_required
def venue_hours(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    form = OpeningHoursForm(data=None if request.method == "POST" else _hours_data(venue))
    status = 200
    if form.validate_on_submit():
        periods = [_period(e.form, index) for index, e in enumerate(form.periods.entries) if e.form.used]
        try:
            svc.set_opening_hours(venue, periods)
        except DomainError as exc:
            db.session.rollback()
            _hours_field_error(form, exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(f"{venue.name}: opening hours saved.", "success")
            return redirect(url_for("venues.venue_manage", venue_id=venue.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "venues/venue_hours.html", venue=venue, form=form, days=_hours_by_day(form)
    ), status


@bp.post("/venues/<int:venue_id>/closures")
@login_required
def closure_add(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    form = ClosureForm()
    if not form.validate_on_submit():
        return _render_manage(venue, closure_form=form, status=422)
    try:
        closure = svc.add_closure(venue, form.starts_on.data, form.ends_on.data, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _render_manage(venue, closure_form=form, status=exc.status_code)
    db.session.commit()
    flash(f"Closure added: {closure.reason}.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#closures")


@bp.post("/venues/<int:venue_id>/closures/<int:closure_id>/delete")
@login_required
def closure_delete(venue_id: int, closure_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    closure = db.session.get(Closure, closure_id)
    if closure is None or closure.venue_id != venue.id:
        abort(404)
    svc.remove_closure(closure)
    db.session.commit()
    flash("Closure removed.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#closures")


# --- spaces ------------------------------------------------------------------------------------------------------


def _space_form(venue: Venue, space: Space | None) -> SpaceForm:
    form = SpaceForm(data=None if request.method == "POST" or space is None else SpaceForm.data_from(space))
    form.parent_id.choices = [SelectChoice("", "Not part of another space")] + [
        SelectChoice(s.id, s.name) for s in svc.parent_choices(venue, space)
    ]
    return form


def _render_space_form(
    venue: Venue, space: Space | None, form: SpaceForm, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "venues/space_form.html",
            venue=venue,
            space=space,
            form=form,
            feature_groups=_feature_groups(),
            features_by_value={f.value: f for f in Feature},
        ),
        status,
    )


@bp.route("/venues/<int:venue_id>/spaces/new", methods=["GET", "POST"])
@login_required
def space_new(venue_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        booking_svc.begin_booking_transaction()  # a new part copies the holds of its whole: no booking slips in
    venue = _managed_venue(venue_id)
    form = _space_form(venue, None)
    outcome = submit_form(form, lambda: svc.add_space(venue, form.values()))
    status = outcome.status
    if outcome.done:
        space = outcome.result
        flash(f"{space.name} is added to {venue.name}.", "success")
        return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#spaces")
    return _render_space_form(venue, None, form, status)


@bp.route("/spaces/<int:space_id>/edit", methods=["GET", "POST"])
@login_required
def space_edit(space_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        booking_svc.begin_booking_transaction()
    space = _managed_space(space_id)
    venue = space.venue
    form = _space_form(venue, space)
    outcome = submit_form(form, lambda: svc.update_space(space, form.values()))
    status = outcome.status
    if outcome.done:
        flash(f"{space.name}: changes saved.", "success")
        return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#spaces")
    return _render_space_form(venue, space, form, status)


@bp.post("/spaces/<int:space_id>/archive")
@login_required
def space_archive(space_id: int) -> ResponseReturnValue:
    space = _managed_space(space_id)
    svc.archive_space(space)
    upcoming = svc.upcoming_bookings_count(space)
    db.session.commit()
    message = f"{space.name} is archived: it no longer appears in search and takes no new bookings."
    if upcoming:
        message += (
            f" {upcoming} upcoming date{'s' if upcoming != 1 else ''} already booked or requested stay;"
            " cancel or decline any that cannot go ahead."
        )
    flash(message, "success")
    return redirect(url_for("venues.venue_manage", venue_id=space.venue_id) + "#spaces")


@bp.post("/spaces/<int:space_id>/unarchive")
@login_required
def space_unarchive(space_id: int) -> ResponseReturnValue:
    space = _managed_space(space_id)
    svc.unarchive_space(space)
    db.session.commit()
    flash(f"{space.name} is back in use.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=space.venue_id) + "#spaces")


# --- photos ------------------------------------------------------------------------------------------------------


def _venue_photo(venue: Venue, photo_id: int) -> VenuePhoto:
    photo = db.session.get(VenuePhoto, photo_id)
    if photo is None or photo.venue_id != venue.id:
        abort(404)
    return photo


@bp.post("/venues/<int:venue_id>/photos")
@login_required
def photo_add(venue_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        return _render_manage(venue, photo_form=form, status=422)
    try:
        svc.add_photo(venue, form.photo.data, form.caption.data)
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _render_manage(venue, photo_form=form, status=exc.status_code)
    db.session.commit()
    flash("Photo added.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#photos")


@bp.post("/venues/<int:venue_id>/photos/<int:photo_id>/delete")
@login_required
def photo_delete(venue_id: int, photo_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    stored_name = svc.delete_photo(_venue_photo(venue, photo_id))
    db.session.commit()
    remove_stored(svc.PHOTO_FOLDER, stored_name)  # only once the row is gone for good
    flash("Photo deleted.", "success")
    return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#photos")


@bp.post("/venues/<int:venue_id>/photos/<int:photo_id>/move")
@login_required
def photo_move(venue_id: int, photo_id: int) -> ResponseReturnValue:
    venue = _managed_venue(venue_id)
    photo = _venue_photo(venue, photo_id)
    form = MovePhotoForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.move_photo(photo, -1 if form.direction.data == "up" else 1)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render_manage(venue, status=exc.status_code)
    db.session.commit()
    return redirect(url_for("venues.venue_manage", venue_id=venue.id) + "#photos")
