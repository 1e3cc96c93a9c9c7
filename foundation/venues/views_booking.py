"""Booking pages: book a space (form, preview, confirm), our bookings, a booking (and its dates as a calendar
file), cancelling, extending, the owners' request queue, and the staff holiday editor.

A write view that books, decides or cancels starts with `begin_booking_transaction()` (the write lock on SQLite)
and commits once at the end; a refusal rolls back and answers with the message at the field.

The booking form gets a one-time key when it is first shown, carried through the preview to the confirm. A confirm
posted again with that key (a double click, the back button, a retried request) is answered with the booking the
first one made, and nothing is booked or sent again.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation
from foundation.members.organisations import Standing, good_standing, organisations_for
from foundation.pagination import page_number
from foundation.permissions import deny, organisation_for, staff_required
from foundation.types import utcnow
from foundation.venues import approvals, bp, cancellations, ical
from foundation.venues import booking as svc
from foundation.venues import holidays as holiday_svc
from foundation.venues.booking import AlreadyBooked, BookingClash, BookingRequest, DateState, Plan
from foundation.venues.cancellations import CancelScope
from foundation.venues.cost import booking_cost, plan_cost
from foundation.venues.forms import (
    BookingForm,
    CancelForm,
    ConfirmBookingForm,
    ConfirmExtendForm,
    DecisionForm,
    ExtendForm,
    HolidayForm,
    RequestAlertsForm,
    new_submission_key,
)
from foundation.venues.models import Booking, Holiday, HolidayKind, RequestAlerts, Space
from foundation.venues.views_ical import ics_response
from foundation.web import external_url, field_error, submit_form


@bp.app_template_filter("booking_pattern")
def _booking_pattern(booking: Booking) -> str:
    return svc.pattern_summary(booking)


# --- helpers -----------------------------------------------------------------------------------------------------


def _space_or_404(space_id: int) -> Space:
    space = db.session.get(Space, space_id)
    if space is None:
        abort(404)
    return space


def _booking_or_404(booking_id: int) -> Booking:
    """A booking the signed-in user may see: the booking organisation's, the venue owner's, or staff."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    if not svc.can_view(current_user, booking):
        deny(404, f"booking {booking_id} not theirs")
    return booking


def _with_org_choices(form: BookingForm) -> list[Organisation]:
    # With their documents, so the form can say up front which of them can book (good standing).
    orgs = organisations_for(current_user)
    form.organisation_id.choices = [SelectChoice(o.id, o.name) for o in orgs]
    return orgs


def _standings(orgs: list[Organisation]) -> dict[int, Standing]:
    return {o.id: good_standing(o) for o in orgs}


def _book_form(form: BookingForm, space: Space, orgs: list[Organisation]) -> str:
    """The booking form, saying up front which of the person's organisations cannot book and why."""
    standings = _standings(orgs)
    blocked = [(o, standings[o.id].reasons) for o in orgs if not standings[o.id].ok]
    return render_template("venues/book_form.html", form=form, space=space, orgs=orgs, blocked=blocked)


def _request_from(form: BookingForm, space: Space) -> BookingRequest:
    org = db.session.get(Organisation, form.organisation_id.data)
    if org is None:  # the choices were checked; only a deleted organisation gets here
        abort(404)
    weekly = form.weekly
    # Required fields of a form that passed validation (the confirm step's dates aside).
    first_date, start_time, end_time = form.first_date.data, form.start_time.data, form.end_time.data
    assert first_date is not None and start_time is not None and end_time is not None
    return BookingRequest(
        space=space,
        organisation=org,
        booked_by=current_user,
        purpose=form.purpose.data or "",
        expected_attendance=form.expected_attendance.data or 0,
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        weekdays=tuple(sorted(set(form.weekdays.data or []))) if weekly else (),
        until=form.until.data if weekly and form.ends.data == "until" else None,
        weeks=form.weeks.data if weekly and form.ends.data == "weeks" else None,
        skip_school_holidays=weekly and form.skip_school_holidays.data,
        skip_bank_holidays=weekly and form.skip_bank_holidays.data,
        submission_key=form.submission_key.data or None,
    )


# What a link may fill in (a search's date and times, say); the organisation is always the booker's choice.
_PREFILLED = (
    "purpose",
    "expected_attendance",
    "first_date",
    "start_time",
    "end_time",
    "repeat",
    "weekdays",
    "ends",
    "until",
    "weeks",
)


# The search's own names for a slot, read too where the form's names are not given.
_PREFILL_ALIASES = {"date": "first_date", "start": "start_time", "end": "end_time"}


def _prefill(form: BookingForm) -> None:
    """Fill the empty form from the query string, by the form's own field names (or the search's `date`,
    `start` and `end`); a value that does not read (a mistyped date, an unknown choice) is left out rather than
    shown back, since nobody typed it here."""
    args = request.args.copy()
    for alias, name in _PREFILL_ALIASES.items():
        if alias in args and name not in args:
            args.setlist(name, args.getlist(alias))
    given = BookingForm(formdata=args, meta={"csrf": False})
    for name in _PREFILLED:
        field = given[name]
        if name not in args or field.process_errors or field.data in (None, "", []):
            continue
        choices = getattr(field, "choices", None)
        if choices is not None:
            known = {value for value, *_ in choices}
            values = field.data if isinstance(field.data, list) else [field.data]
            if not set(values) <= known:
                continue
        form[name].data = field.data
    if form.start_time.data and form.end_time.data and form.end_time.data <= form.start_time.data:
        form.end_time.data = None  # an end that is not after the start is no slot: left for the booker


def _carry(form: BookingForm) -> list[tuple[str, str]]:
    """The booking details as hidden fields, so the confirm step posts exactly what was previewed."""
    # A previewed form passed validation, and these fields are required.
    first_date, start_time, end_time = form.first_date.data, form.start_time.data, form.end_time.data
    assert first_date is not None and start_time is not None and end_time is not None
    pairs: list[tuple[str, str]] = [
        ("organisation_id", str(form.organisation_id.data)),
        ("purpose", form.purpose.data or ""),
        ("expected_attendance", str(form.expected_attendance.data)),
        ("first_date", first_date.isoformat()),
        ("start_time", start_time.strftime("%H:%M")),
        ("end_time", end_time.strftime("%H:%M")),
        ("repeat", form.repeat.data),
        ("ends", form.ends.data or "until"),
        ("submission_key", form.submission_key.data or ""),
    ]
    if form.weekly:
        pairs += [("weekdays", str(d)) for d in sorted(set(form.weekdays.data or []))]
        if form.until.data:
            pairs.append(("until", form.until.data.isoformat()))
        if form.weeks.data:
            pairs.append(("weeks", str(form.weeks.data)))
        for name in ("skip_school_holidays", "skip_bank_holidays"):
            if form[name].data:
                pairs.append((name, "y"))
    return pairs


def _problems_to_fields(form: BookingForm, plan: Plan) -> int:
    """Nothing in the plan can be booked: put the reasons at the fields. Returns the status (409 if clashes only)."""
    seen: set[tuple[str, str]] = set()
    refused = [d for d in plan.dates if d.state is DateState.REFUSED]
    clashing = [d for d in plan.dates if d.state is DateState.CLASH]
    for planned in refused:
        for problem in planned.problems:
            message = (
                problem.message if len(plan.dates) == 1 else f"{planned.day:%-d %b %Y}: {problem.message}"
            )
            if (problem.field, problem.message) in seen:
                continue
            seen.add((problem.field, problem.message))
            form[problem.field].errors = [*form[problem.field].errors, message]
    if clashing:
        slots = [svc.slot_label(d.slot.starts_at, d.slot.ends_at) for d in clashing]
        clash = BookingClash([d.day for d in clashing], slots, field="start_time")
        form.start_time.errors = [*form.start_time.errors, clash.message]
    if not refused and not clashing:
        form.skip_school_holidays.errors = [
            *form.skip_school_holidays.errors,
            "Every date falls in a holiday you asked to skip.",
        ]
        return 422
    return 409 if clashing and not refused else 422


def _keyed(form: BookingForm) -> BookingForm:
    """Give a form shown without a submission key its one-time key (kept while it goes back and forth)."""
    if not form.submission_key.data or form.submission_key.errors:
        form.submission_key.data = new_submission_key()
    return form


def _already_booked(booking: Booking) -> ResponseReturnValue:
    """A booking form sent again: show the booking it made the first time, and send nothing more."""
    db.session.rollback()
    if not svc.can_view(current_user, booking):
        # Someone else's form: nothing of theirs to show, and nothing booked.
        raise Conflict(
            "This booking form was already used. Open the booking page again to make a new booking."
        )
    flash("You already sent this booking. Here it is: nothing was booked or sent twice.", "success")
    return redirect(url_for("venues.booking_detail", booking_id=booking.id))


# --- booking a space ---------------------------------------------------------------------------------------------


@bp.route("/spaces/<int:space_id>/book", methods=["GET", "POST"])
@login_required
def book(space_id: int) -> ResponseReturnValue:
    space = _space_or_404(space_id)
    form = BookingForm()
    orgs = _with_org_choices(form)
    status = 200
    standings = _standings(orgs)
    if request.method == "GET" and orgs:
        # The first organisation that can book: nobody has to notice that the first by name cannot.
        form.organisation_id.data = next((o.id for o in orgs if standings[o.id].ok), orgs[0].id)
        _prefill(form)
    _keyed(form)
    if request.method == "POST" and "edit" in request.form:
        # "Change details" on the preview: back to the form, filled in, nothing checked yet.
        return _book_form(form, space, orgs)
    if orgs and form.validate_on_submit():
        req = _request_from(form, space)
        try:
            plan = svc.plan_booking(req)
        except DomainError as exc:
            field_error(form, exc)
            status = exc.status_code
        else:
            if plan.bookable:
                return _render_preview(space, form, plan)
            status = _problems_to_fields(form, plan)
    elif form.is_submitted():
        status = 422 if orgs else 403
    return _book_form(_keyed(form), space, orgs), status


def _render_preview(
    space: Space,
    form: BookingForm,
    plan: Plan,
    chosen: set[date] | None = None,
    dates_error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if chosen is None:
        chosen = {d.day for d in plan.bookable}
    return (
        render_template(
            "venues/book_preview.html",
            space=space,
            form=form,
            plan=plan,
            cost=plan_cost(plan, chosen),
            carry=_carry(form),
            chosen=chosen,
            dates_error=dates_error,
            confirm_url=url_for("venues.book_confirm", space_id=space.id),
            edit_url=url_for("venues.book", space_id=space.id),
            org=db.session.get(Organisation, form.organisation_id.data),
        ),
        status,
    )


@bp.post("/spaces/<int:space_id>/book/confirm")
@login_required
def book_confirm(space_id: int) -> ResponseReturnValue:
    svc.begin_booking_transaction()
    space = _space_or_404(space_id)
    form = ConfirmBookingForm()
    orgs = _with_org_choices(form)
    if not orgs:
        deny(403, "no organisation to book for")
    # Before anything else is checked: the booking made by the first submission now holds those very dates.
    earlier = svc.booking_with_key(form.submission_key.data)
    if earlier is not None:
        return _already_booked(earlier)
    valid = form.validate_on_submit()
    if not valid and set(form.errors) - {"dates"}:
        # Details altered since the preview: show the form again.
        return _book_form(_keyed(form), space, orgs), 422
    req = _request_from(form, space)
    if not valid:
        db.session.rollback()
        return _preview_again(space, form, req, set(), form.dates.errors[0], 422)
    chosen = set(form.dates.parsed)
    try:
        new = svc.book_space(req, chosen)
    except AlreadyBooked as exc:
        return _already_booked(exc.booking)
    except DomainError as exc:
        db.session.rollback()
        if exc.field == "dates":
            keep = chosen - set(exc.dates) if isinstance(exc, BookingClash) else chosen
            return _preview_again(space, form, req, keep, exc.message, exc.status_code)
        field_error(form, exc)
        return _book_form(form, space, orgs), exc.status_code
    db.session.commit()
    if new.occurrences and new.occurrences[0].status is svc.REQUESTED:
        flash(
            "Your request is with the venue. We will let you know when they decide. "
            f"Your reference is {new.reference}.",
            "success",
        )
    else:
        flash(f"Booked. The dates are yours. Your reference is {new.reference}.", "success")
    return redirect(url_for("venues.booking_detail", booking_id=new.id))


def _preview_again(
    space: Space, form: BookingForm, req: BookingRequest, chosen: set[date], message: str, status: int
) -> tuple[str, int]:
    try:
        plan = svc.plan_booking(req)
    except DomainError as exc:
        field_error(form, exc)
        orgs = _with_org_choices(form)
        return _book_form(form, space, orgs), exc.status_code
    return _render_preview(space, form, plan, chosen=chosen, dates_error=message, status=status)


# --- our bookings ------------------------------------------------------------------------------------------------


@bp.get("/bookings")
@login_required
def my_bookings() -> ResponseReturnValue:
    orgs = svc.organisations_with_membership(current_user)
    return _bookings_page(orgs, None, "venues.my_bookings", {})


@bp.get("/organisations/<int:org_id>/bookings")
@login_required
def organisation_bookings(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id)
    return _bookings_page([org], org, "venues.organisation_bookings", {"org_id": org.id})


def _bookings_page(
    orgs: list[Organisation], single_org: Organisation | None, endpoint: str, args: dict[str, int]
) -> str:
    past = request.args.get("when") == "past"
    org_ids = [o.id for o in orgs]
    now = utcnow()
    upcoming_total, past_total = svc.booking_list_totals(org_ids, now)
    bookings = svc.booking_list(
        org_ids, past=past, page=page_number(), now=now, total=past_total if past else upcoming_total
    )
    return render_template(
        "venues/bookings.html",
        orgs=orgs,
        bookings=bookings,
        past=past,
        upcoming_total=upcoming_total,
        past_total=past_total,
        single_org=single_org,
        endpoint=endpoint,
        args=args,
        owner=approvals.owns_venues(approvals.admin_org_ids(current_user)),
    )


@bp.get("/bookings/<int:booking_id>")
@login_required
def booking_detail(booking_id: int) -> ResponseReturnValue:
    booking = _booking_or_404(booking_id)
    return render_template(
        "venues/booking_detail.html",
        booking=booking,
        cost=booking_cost(booking),
        now=utcnow(),
        is_booker=svc.is_booker_member(current_user, booking),
        is_owner=svc.is_owner_admin(current_user, booking),
        standing=good_standing(booking.organisation),
    )


@bp.get("/bookings/<int:booking_id>/calendar.ics")
@login_required
def booking_calendar(booking_id: int) -> ResponseReturnValue:
    """The booking's dates to come as a file for the person's calendar app: for whoever may see the booking."""
    booking = _booking_or_404(booking_id)
    cal = ical.booking_calendar(
        booking, utcnow(), link=external_url("venues.booking_detail", booking_id=booking.id)
    )
    return ics_response(cal, f"{booking.reference}.ics", private=True, download=True)


# --- cancelling --------------------------------------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def booking_cancel(booking_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        svc.begin_booking_transaction()
    booking = _booking_or_404(booking_id)
    by_booker = svc.is_booker_member(current_user, booking)
    if not by_booker and not svc.is_owner_admin(current_user, booking):
        deny(403, f"cannot cancel booking {booking_id}")
    form = CancelForm(request.form if request.method == "POST" else request.args)
    status = 200
    scope = (
        CancelScope(form.scope.data)
        if form.scope.data in {s.value for s in CancelScope}
        else CancelScope.SERIES
    )
    occurrence_id = form.occurrence_id.data
    if request.method == "POST" and form.validate_on_submit():
        try:
            done = cancellations.cancel(booking, scope, current_user, occurrence_id, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(f"Cancelled {len(done)} date{'s' if len(done) != 1 else ''}.", "success")
            return redirect(url_for("venues.booking_detail", booking_id=booking.id))
    elif request.method == "POST":
        status = 422
    try:
        targets = cancellations.cancel_targets(booking, scope, occurrence_id)
    except DomainError as exc:
        if status == 200:
            status = exc.status_code
        if not form.errors:
            field_error(form, exc)
        targets = []
    return (
        render_template(
            "venues/booking_cancel.html",
            booking=booking,
            form=form,
            scope=scope,
            targets=targets,
            by_booker=by_booker,
        ),
        status,
    )


# --- extending a weekly series -----------------------------------------------------------------------------------


def _booker_booking(booking_id: int) -> Booking:
    booking = _booking_or_404(booking_id)
    if not svc.is_booker_member(current_user, booking):
        deny(403, f"not the booker of booking {booking_id}")
    return booking


@bp.route("/bookings/<int:booking_id>/extend", methods=["GET", "POST"])
@login_required
def booking_extend(booking_id: int) -> ResponseReturnValue:
    booking = _booker_booking(booking_id)
    form = ExtendForm()
    status = 200
    if form.validate_on_submit():
        until = form.until.data
        assert until is not None  # a required field of a valid form
        try:
            plan = cancellations.plan_extension(booking, current_user, until)
        except DomainError as exc:
            field_error(form, exc)
            status = exc.status_code
        else:
            if plan.bookable:
                return _render_extend_preview(booking, form, plan)
            form.until.errors = [*form.until.errors, "None of the new dates can be booked."]
            status = 409 if any(d.state is DateState.CLASH for d in plan.dates) else 422
    elif form.is_submitted():
        status = 422
    return render_template("venues/booking_extend.html", booking=booking, form=form), status


def _render_extend_preview(
    booking: Booking,
    form: ExtendForm,
    plan: Plan,
    chosen: set[date] | None = None,
    dates_error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if chosen is None:
        chosen = {d.day for d in plan.bookable}
    until = form.until.data
    assert until is not None  # the dates were planned from it
    return (
        render_template(
            "venues/book_preview.html",
            space=booking.space,
            form=form,
            plan=plan,
            cost=plan_cost(plan, chosen),
            carry=[("until", until.isoformat())],
            chosen=chosen,
            dates_error=dates_error,
            confirm_url=url_for("venues.booking_extend_confirm", booking_id=booking.id),
            edit_url=None,
            org=booking.organisation,
            extending=booking,
        ),
        status,
    )


@bp.post("/bookings/<int:booking_id>/extend/confirm")
@login_required
def booking_extend_confirm(booking_id: int) -> ResponseReturnValue:
    svc.begin_booking_transaction()
    booking = _booker_booking(booking_id)
    form = ConfirmExtendForm()
    valid = form.validate_on_submit()
    if form.until.errors or form.until.data is None:
        return render_template("venues/booking_extend.html", booking=booking, form=form), 422
    chosen: set[date] = set(form.dates.parsed) if valid else set()
    error: DomainError | None = None
    if valid:
        try:
            added = cancellations.extend_booking(booking, current_user, form.until.data, chosen)
        except DomainError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            flash(f"Added {len(added)} date{'s' if len(added) != 1 else ''} to the booking.", "success")
            return redirect(url_for("venues.booking_detail", booking_id=booking.id))
    else:
        db.session.rollback()
    message = error.message if error else form.dates.errors[0]
    status = error.status_code if error else 422
    if error is not None and error.field != "dates":
        field_error(form, error)
        return render_template("venues/booking_extend.html", booking=booking, form=form), status
    try:
        plan = cancellations.plan_extension(booking, current_user, form.until.data)
    except DomainError as exc:
        field_error(form, exc)
        return render_template("venues/booking_extend.html", booking=booking, form=form), exc.status_code
    keep = chosen - set(error.dates) if isinstance(error, BookingClash) else chosen
    return _render_extend_preview(booking, form, plan, chosen=keep, dates_error=message, status=status)


# --- the owners' request queue -----------------------------------------------------------------------------------


def _render_requests(errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    admin_ids = approvals.admin_org_ids(current_user)
    alerts = RequestAlertsForm(request_alerts=svc.request_alerts_for(current_user).value)
    return (
        render_template(
            "venues/requests.html",
            queue=approvals.request_queue_page(admin_ids, page_number()),
            upcoming=approvals.upcoming_at_venues(admin_ids),
            owner=approvals.owns_venues(admin_ids),
            alerts_form=alerts,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/venues/requests")
@login_required
def requests() -> ResponseReturnValue:
    return _render_requests()


@bp.post("/bookings/<int:booking_id>/decide")
@login_required
def booking_decide(booking_id: int) -> ResponseReturnValue:
    svc.begin_booking_transaction()
    booking = _booking_or_404(booking_id)
    if not svc.is_owner_admin(current_user, booking):
        deny(403, f"not an admin of the venue of booking {booking_id}")
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_requests({booking.id: "Tick the dates, then approve or decline them."}, 422)
    ids = form.occurrence_ids.data or []
    try:
        if form.decision.data == "approve":
            done = approvals.approve(booking, ids, current_user)
        else:
            done = approvals.decline(booking, ids, current_user, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        return _render_requests({booking.id: exc.message}, exc.status_code)
    db.session.commit()
    verb = "Approved" if form.decision.data == "approve" else "Declined"
    flash(
        f"{verb} {len(done)} date{'s' if len(done) != 1 else ''} for {booking.organisation.name}.", "success"
    )
    return redirect(url_for("venues.requests"))


@bp.post("/venues/requests/alerts")
@login_required
def request_alerts() -> ResponseReturnValue:
    form = RequestAlertsForm()
    if not form.validate_on_submit():
        return _render_requests(status=422)
    svc.set_request_alerts(current_user, RequestAlerts(form.request_alerts.data))
    db.session.commit()
    flash("Your choice for request emails is saved.", "success")
    return redirect(url_for("venues.requests"))


# --- staff: holidays ---------------------------------------------------------------------------------------------


def _save_holiday(holiday: Holiday | None, form: HolidayForm) -> Holiday:
    """Add (holiday=None) or change a holiday from its validated form."""
    name, starts_on, ends_on = form.name.data, form.starts_on.data, form.ends_on.data
    assert name is not None and starts_on is not None and ends_on is not None  # required fields
    return holiday_svc.save_holiday(holiday, HolidayKind(form.kind.data), name, starts_on, ends_on)


@bp.route("/staff/holidays", methods=["GET", "POST"])
@staff_required
def holidays() -> ResponseReturnValue:
    form = HolidayForm()
    outcome = submit_form(
        form,
        lambda: _save_holiday(None, form),
    )
    status = outcome.status
    if outcome.done:
        flash("Holiday added.", "success")
        return redirect(url_for("venues.holidays"))
    return render_template("venues/holidays.html", form=form, holidays=holiday_svc.all_holidays()), status


@bp.route("/staff/holidays/<int:holiday_id>/edit", methods=["GET", "POST"])
@staff_required
def holiday_edit(holiday_id: int) -> ResponseReturnValue:
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        abort(404)
    form = HolidayForm(obj=None if request.method == "POST" else _HolidayPrefill(holiday))
    outcome = submit_form(
        form,
        lambda: _save_holiday(holiday, form),
    )
    status = outcome.status
    if outcome.done:
        flash("Holiday saved.", "success")
        return redirect(url_for("venues.holidays"))
    return render_template("venues/holidays_edit.html", form=form, holiday=holiday), status


class _HolidayPrefill:
    def __init__(self, holiday: Holiday) -> None:
        self.kind = holiday.kind.value
        self.name = holiday.name
        self.starts_on = holiday.starts_on
        self.ends_on = holiday.ends_on


@bp.post("/staff/holidays/<int:holiday_id>/delete")
@staff_required
def holiday_delete(holiday_id: int) -> ResponseReturnValue:
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        abort(404)
    name = holiday.name
    holiday_svc.delete_holiday(holiday)
    db.session.commit()
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("venues.holidays"))


@bp.post("/staff/holidays/load")
@staff_required
def holidays_load() -> ResponseReturnValue:
    added = holiday_svc.load_builtin_holidays()
    db.session.commit()
    flash(
        f"Added {added} built-in holiday{'s' if added != 1 else ''}." if added else "Nothing missing.",
        "success",
    )
    return redirect(url_for("venues.holidays"))
