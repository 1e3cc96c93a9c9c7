"""On the day and after: the register, certificates of attendance, feedback and training records.

/events/<id>/register-sheet                    the organiser marks who came (from the day of the first session)
/events/<id>/register-sheet/print              the register on paper, with a column to sign
/events/<id>/certificates/<place_id>.pdf       a certificate of attendance (training events): for the person, their
                                               organisation's admins and the organiser; to anyone else it does not
                                               exist
/events/<id>/feedback                          people who attended rate the event and comment
/events/<id>/feedback/results                  the organiser reads the feedback
/account/training                              the training a person attended, with certificates
/organisations/<id>/training                   the training an organisation's people attended
/staff/events/coverage[.csv]                   people trained by town and topic in a year (staff)
"""

from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.errors import NotAllowed
from foundation.events import attendance, bp, certificates, coverage, feedback
from foundation.events.events import can_manage, can_see
from foundation.events.forms_attendance import CoverageYearForm, FeedbackForm, RegisterForm
from foundation.events.models import Event, RegistrationPlace
from foundation.extensions import db
from foundation.navigation import staff_area
from foundation.pagination import page_number
from foundation.permissions import deny, organisation_for, signed_in_user, staff_required
from foundation.types import london_today, utcnow
from foundation.web import spreadsheet_safe, submit_form


def _visible_event(event_id: int) -> Event:
    """The event, or 404 when there is none or it is a draft the person may not see."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see(signed_in_user(), event):
        abort(404)
    return event


def _managed_event(event_id: int) -> Event:
    """The event for its organiser (staff, or an admin of the organiser organisation). The event itself is public,
    so anyone else is refused (403), as on its manage page; a draft does not exist for them (404)."""
    event = _visible_event(event_id)
    if not can_manage(signed_in_user(), event):
        deny(403, f"not an organiser of event {event_id}")
    return event


# --- the register ------------------------------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/register-sheet", methods=["GET", "POST"])
@login_required
def register_sheet(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    user = signed_in_user()
    form = RegisterForm()
    outcome = submit_form(form, lambda: attendance.mark(event, form.marks(), user, utcnow()))
    if outcome.done:
        flash("The register is saved.", "success")
        return redirect(url_for("events.register_sheet", event_id=event_id), 303)
    event = db.session.get(Event, event_id) or abort(404)
    groups = attendance.register_sheet(event)
    # A register sent again shows what was ticked, for the people on it now.
    ticked = set(form.attended.data or []) if form.is_submitted() else None
    form.shown.data = " ".join(str(p.id) for g in groups for p in g.people)
    return render_template(
        "events/register_sheet.html",
        event=event,
        groups=groups,
        form=form,
        ticked=ticked,
        totals=attendance.totals(groups),
        is_open=attendance.register_is_open(event, utcnow()),
        opens_on=attendance.register_opens_on(event),
    ), outcome.status


@bp.get("/events/<int:event_id>/register-sheet/print")
@login_required
def register_sheet_print(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    groups = attendance.register_sheet(event)
    return render_template(
        "events/register_sheet_print.html", event=event, groups=groups, totals=attendance.totals(groups)
    )


# --- certificates --------------------------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/certificates/<int:place_id>.pdf")
@login_required
def certificate(event_id: int, place_id: int) -> ResponseReturnValue:
    place = db.session.get(RegistrationPlace, place_id)
    if place is None or place.event_id != event_id:
        abort(404)
    user = signed_in_user()
    event = place.registration.event
    if not (
        place.user_id == user.id
        or user.is_admin_of(place.registration.organisation_id)
        or can_manage(user, event)
    ):
        deny(404, f"certificate {place_id} is not theirs")
    pdf = certificates.certificate_pdf(place)  # a DomainError (no certificate, and why) is the error page
    name = f"certificate-{certificates.certificate_number(place)}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- feedback ----------------------------------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback_form(event_id: int) -> ResponseReturnValue:
    event = _visible_event(event_id)
    user = signed_in_user()
    place = feedback.attended_place(event, user)
    if place is None:
        raise NotAllowed(feedback.NOT_ATTENDED)
    given = feedback.feedback_of(place)
    form = FeedbackForm(obj=given) if request.method == "GET" else FeedbackForm()
    outcome = submit_form(
        form,
        lambda: feedback.give_feedback(
            event, user, form.rating.data or 0, form.comments.data or "", utcnow()
        ),
    )
    if outcome.done:
        flash("Thank you: your feedback is saved. You can change it here at any time.", "success")
        return redirect(url_for("events.feedback_form", event_id=event_id), 303)
    return render_template("events/feedback_form.html", event=event, form=form, given=given), outcome.status


@bp.get("/events/<int:event_id>/feedback/results")
@login_required
def feedback_results(event_id: int) -> ResponseReturnValue:
    event = _managed_event(event_id)
    return render_template(
        "events/feedback_results.html",
        event=event,
        results=feedback.results(event),
        comments=feedback.comments_page(event, page_number()),
        labels=feedback.RATING_LABELS,
    )


# --- training records --------------------------------------------------------------------------------------------


@bp.get("/account/training")
@login_required
def my_training() -> ResponseReturnValue:
    user = signed_in_user()
    return render_template("events/training_mine.html", rows=coverage.my_training(user, page_number()))


@bp.get("/organisations/<int:org_id>/training")
@login_required
def organisation_training(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id)
    user = signed_in_user()
    return render_template(
        "events/training_organisation.html",
        org=org,
        rows=coverage.organisation_training(org, page_number()),
        is_admin=user.is_admin_of(org.id),
        user_id=user.id,
    )


def _coverage_year() -> tuple[CoverageYearForm, int, bool]:
    """The year asked for (this year by default), the form to show it, and whether it was a year at all."""
    this_year = london_today().year
    form = CoverageYearForm(request.args)
    form.limit_years(coverage.last_year_offered())
    valid = form.validate() if request.args.get("year") else True
    if not request.args.get("year"):
        form.year.data = this_year
    year = form.year.data if valid and form.year.data else this_year
    return form, year, valid


staff_area(
    "Training coverage",
    "events.coverage_table",
    "People trained by town and topic: where first aid is missing.",
    50,
)


@bp.get("/staff/events/coverage")
@staff_required
def coverage_table() -> ResponseReturnValue:
    form, year, valid = _coverage_year()
    return render_template("events/coverage.html", form=form, found=coverage.coverage(year), year=year), (
        200 if valid else 400
    )


@bp.get("/staff/events/coverage.csv")
@staff_required
def coverage_csv() -> ResponseReturnValue:
    form, year, valid = _coverage_year()
    if not valid:
        abort(400)
    found = coverage.coverage(year)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Town", *(t.label for t in found.topics), "People trained", "No first aid trained"])
    for town in found.towns:
        writer.writerow(
            [
                spreadsheet_safe(town.town),
                *(town.by_topic[t] for t in found.topics),
                town.people,
                "yes" if town.no_first_aid else "",
            ]
        )
    writer.writerow(["All towns", *(found.by_topic[t] for t in found.topics), found.people, ""])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="training-coverage-{year}.csv"',
            "Cache-Control": "no-store",
        },
    )
