"""Applying for a seed grant, and staff handling of applications before review.

Applicants (any member of the applying organisation): start an application in an open round, save drafts,
submit, withdraw, and see their organisation's applications. Staff: the list of applications with filters, each
application read-only, sending one back for more information, and accepting a late one.

Applicants never see who reviews their application or the scores: nothing here shows review assignments, and
staff steps in the history are shown as "Foundation staff".
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.db_setup import begin_write_transaction
from foundation.errors import DomainError, IllegalTransition
from foundation.extensions import db
from foundation.forms import SelectChoice, whole_number
from foundation.grants import applications as svc
from foundation.grants import bp
from foundation.grants.applications import (
    AREA_CHOICES,
    ApplicationProblems,
    SubmissionRefused,
    VersionConflict,
)
from foundation.grants.forms_applications import (
    AcceptLateForm,
    ApplicationForm,
    ReturnForm,
    StaffFilterForm,
    StartApplicationForm,
    WithdrawForm,
    application_form,
)
from foundation.grants.models import Application, ApplicationStatus, GrantRound, RoundStatus
from foundation.members.organisations import good_standing, organisations_for
from foundation.pagination import page_number, paginate
from foundation.permissions import deny, organisation_for, staff_required
from foundation.types import LONDON, utcnow
from foundation.web import field_error, submit_form

# --- helpers -----------------------------------------------------------------------------------------------------


def _round_link(round_: GrantRound) -> str | None:
    """The round's public page, when that page exists."""
    for endpoint in ("grants.round_public", "grants.round"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, round_id=round_.id)
    return None


def _application_or_404(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    if not svc.can_view(current_user, application):
        deny(404, f"application {application_id} not theirs")
    return application


def _applicant_only(application: Application) -> None:
    """Only the applying organisation's members change an application; staff may read it, others never see it."""
    if not svc.is_applicant(current_user, application):
        deny(403 if current_user.is_staff else 404, "not a member of the applying organisation")


def _show_problems(form: ApplicationForm, exc: DomainError) -> None:
    """Each problem at its field; budget problems above the budget table; the rest at the top of the form."""
    problems = exc.problems if isinstance(exc, ApplicationProblems) else [svc.Problem(exc.field, exc.message)]
    for problem in problems:
        if problem.field == "budget_lines":
            form.budget_problems.append(problem.message)
        elif problem.field and problem.field in form:
            form[problem.field].errors = [*form[problem.field].errors, problem.message]
        else:
            form.form_errors.append(problem.message)


def _history(application: Application, for_staff: bool) -> list[dict[str, Any]]:
    rows = []
    for event in sorted(application.events, key=lambda e: (e.created_at, e.id)):
        if event.by is None:
            who = ""
        elif for_staff or event.by.membership_of(application.organisation_id) is not None:
            who = event.by.name
        else:
            who = "Foundation staff"
        rows.append({"event": event, "who": who})
    return rows


def _render_form(
    application: Application,
    form: ApplicationForm,
    status: int = 200,
    lead: str | None = None,
    conflict: bool = False,
) -> tuple[str, int]:
    eligibility = [
        p for p in svc.submission_problems(application, closed_ok=_closed_ok(application)) if not p.field
    ]
    return (
        render_template(
            "grants/application_form.html",
            application=application,
            round=application.round,
            form=form,
            lead=lead,
            conflict=conflict,
            eligibility=eligibility,
            round_link=_round_link(application.round),
            history=_history(application, for_staff=False),
            withdraw_form=WithdrawForm(formdata=None),
        ),
        status,
    )


def _closed_ok(application: Application) -> bool:
    return application.status is ApplicationStatus.MORE_INFO_REQUESTED


def _render_view(application: Application, status: int = 200, **forms: Any) -> tuple[str, int]:
    staff = current_user.is_staff
    applicant = svc.is_applicant(current_user, application)
    round_ = application.round
    decided = application.decision is not None or round_.status is RoundStatus.DECIDED
    can_accept_late = (
        staff
        and application.status is ApplicationStatus.DRAFT
        and round_.status not in {RoundStatus.DRAFT, RoundStatus.DECIDED}
        and not svc.accepting_applications(round_)
    )
    late_problems = svc.submission_problems(application, closed_ok=True) if can_accept_late else []
    return (
        render_template(
            "grants/application_view.html",
            application=application,
            round=round_,
            applicant=applicant,
            staff=staff,
            round_link=_round_link(round_),
            history=_history(application, for_staff=staff),
            can_edit=applicant and application.status.editable,
            can_withdraw=applicant
            and application.status
            in {ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED}
            and not decided,
            can_return=staff and application.status is ApplicationStatus.SUBMITTED and not decided,
            can_accept_late=can_accept_late,
            late_problems=late_problems,
            withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
            return_form=forms.get("return_form") or ReturnForm(formdata=None),
            late_form=forms.get("late_form") or AcceptLateForm(formdata=None),
            error=forms.get("error"),
        ),
        status,
    )


def _posted_form(application: Application) -> ApplicationForm:
    return application_form(application.round)


def _already_submitted(application: Application) -> bool:
    """Submitted, and not sent back since: a submit posted now repeats one that already happened."""
    return application.submitted_at is not None and application.status in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.AWARDED,
        ApplicationStatus.DECLINED,
    )


def _answer_already_submitted(application: Application) -> ResponseReturnValue:
    submitted_at = application.submitted_at
    assert submitted_at is not None  # answered only when _already_submitted
    flash(
        f"This application was already submitted on {submitted_at.astimezone(LONDON):%-d %B %Y} "
        f"(reference {application.reference}). Nothing was sent again.",
        "success",
    )
    return redirect(url_for("grants.application", application_id=application.id), 303)


# --- starting an application ---------------------------------------------------------------------------------------


@bp.route("/grants/rounds/<int:round_id>/apply", methods=["GET", "POST"])
@login_required
def application_new(round_id: int) -> ResponseReturnValue:
    round_ = db.session.get(GrantRound, round_id)
    if round_ is None or round_.status is RoundStatus.DRAFT:
        abort(404)
    orgs = organisations_for(current_user)
    existing = svc.applications_in_round(round_, orgs)
    form = StartApplicationForm()
    form.organisation_id.choices = [SelectChoice(org.id, org.name) for org in orgs]
    available = [org for org in orgs if existing[org.id] is None]
    if request.method == "GET" and available:
        form.organisation_id.data = available[0].id
    status = 200
    already = None
    if orgs and form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organisation_id.data)
        try:
            application = svc.start_application(round_, org, current_user)
        except svc.AlreadyApplied as exc:
            db.session.rollback()
            field_error(form, exc)
            already = exc.application
            status = exc.status_code
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(f"Application started for {org.name}. Save your draft as you go.", "success")
            return redirect(url_for("grants.application", application_id=application.id), 303)
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "grants/application_new.html",
            round=round_,
            form=form,
            orgs=orgs,
            existing=existing,
            available=available,
            already=already,
            standings={org.id: good_standing(org) for org in orgs},
            closed_reason=svc.round_closed_reason(round_),
            round_link=_round_link(round_),
        ),
        status,
    )


# --- one application -------------------------------------------------------------------------------------------


@bp.route("/grants/applications/<int:application_id>", methods=["GET", "POST"])
@login_required
def application(application_id: int) -> ResponseReturnValue:
    application = _application_or_404(application_id)
    if request.method == "GET":
        if svc.is_applicant(current_user, application) and application.status.editable:
            return _render_form(application, application_form(application.round, application))
        return _render_view(application)

    _applicant_only(application)
    form = _posted_form(application)
    if not form.validate_on_submit():
        return _render_form(application, form, 422, lead="The draft was not saved: check the fields marked.")
    try:
        svc.save_draft(application, current_user, form.values(), form.loaded_version)
    except IllegalTransition as exc:
        db.session.rollback()
        return _render_view(application, exc.status_code, error=exc.message)
    except DomainError as exc:
        db.session.rollback()
        _show_problems(form, exc)
        conflict = isinstance(exc, VersionConflict)
        lead = None if conflict else "The draft was not saved:"
        return _render_form(application, form, exc.status_code, lead=lead, conflict=conflict)
    db.session.commit()
    flash("Draft saved.", "success")
    return redirect(url_for("grants.application", application_id=application.id), 303)


@bp.post("/grants/applications/<int:application_id>/submit")
@login_required
def application_submit(application_id: int) -> ResponseReturnValue:
    # The reference counter is taken under the write lock (SQLite) / the round's row lock (PostgreSQL).
    begin_write_transaction()
    application = _application_or_404(application_id)
    _applicant_only(application)
    if _already_submitted(application):
        return _answer_already_submitted(application)
    form = _posted_form(application)
    # The edit form posts its fields with the submit button: they are saved first. A bare submit (the version
    # alone) submits the application as saved.
    with_changes = "project_title" in request.form
    if with_changes and not form.validate_on_submit():
        return _render_form(application, form, 422, lead="Not submitted: check the fields marked.")
    try:
        svc.lock_round(application.round_id)
        if with_changes:
            svc.save_draft(application, current_user, form.values(), form.loaded_version)
        elif form.loaded_version != application.version:
            raise VersionConflict()
        svc.submit_application(application, current_user)
    except SubmissionRefused as exc:
        # The draft's changes are kept; only the submission is refused (nothing of it was written).
        db.session.commit()
        form = application_form(application.round, application)
        # The save moved the version on: the page must carry the new one, or the next save would look like a
        # colleague's change had come in between (the posted form still holds the old one).
        form.version.data = str(application.version)
        _show_problems(form, exc)
        lead = "Your changes are saved, but the application was not submitted:" if with_changes else None
        return _render_form(
            application, form, exc.status_code, lead=lead or "The application was not submitted:"
        )
    except (IllegalTransition, VersionConflict) as exc:
        db.session.rollback()
        # A second click, or a colleague, submitted it while this request waited for the round's lock.
        if _already_submitted(application):
            return _answer_already_submitted(application)
        if isinstance(exc, VersionConflict):
            _show_problems(form, exc)
            return _render_form(application, form, exc.status_code, conflict=True)
        return _render_view(application, exc.status_code, error=exc.message)
    except DomainError as exc:
        db.session.rollback()
        _show_problems(form, exc)
        return _render_form(application, form, exc.status_code)
    db.session.commit()
    flash(f"Application submitted. Its reference is {application.reference}.", "success")
    return redirect(url_for("grants.application", application_id=application.id), 303)


@bp.post("/grants/applications/<int:application_id>/withdraw")
@login_required
def application_withdraw(application_id: int) -> ResponseReturnValue:
    application = _application_or_404(application_id)
    _applicant_only(application)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _render_view(application, 422, withdraw_form=form)
    try:
        svc.withdraw_application(application, current_user, form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        return _render_view(application, exc.status_code, error=exc.message)
    db.session.commit()
    flash("Application withdrawn. Your organisation cannot apply again in this round.", "success")
    return redirect(url_for("grants.application", application_id=application.id), 303)


@bp.get("/organisations/<int:org_id>/applications")
@login_required
def organisation_applications(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id)
    applications = svc.applications_for_organisation(org)
    applied = {a.round_id for a in applications}
    now = utcnow()
    open_rounds = [
        r
        for r in db.session.scalars(
            sa.select(GrantRound)
            .where(GrantRound.status == RoundStatus.OPEN, GrantRound.closes_at > now)
            .order_by(GrantRound.closes_at)
        )
        if r.id not in applied and r.opens_at <= now
    ]
    return render_template(
        "grants/application_list.html",
        org=org,
        applications=applications,
        open_rounds=open_rounds,
        member=current_user.membership_of(org.id) is not None,
    )


# --- staff -------------------------------------------------------------------------------------------------------


@bp.get("/staff/grants/applications")
@staff_required
def staff_applications() -> ResponseReturnValue:
    rounds = svc.visible_rounds()
    form = StaffFilterForm(formdata=request.args)
    form.round.choices = [
        SelectChoice("", "All rounds"),
        *[SelectChoice(str(r.id), f"{r.name} ({r.code})") for r in rounds],
    ]
    round_id = request.args.get("round", type=whole_number)
    status_value = request.args.get("status", "")
    status = next((s for s in ApplicationStatus if s.value == status_value), None)
    town = request.args.get("town", "")
    query = svc.staff_list_query(
        round_id=round_id,
        status=status,
        town=town if town in AREA_CHOICES else None,
        search=(request.args.get("q") or "").strip()[:100] or None,
    )
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "grants/application_staff_list.html",
        form=form,
        applications=paginate(query, page_number()),
        total=svc.amount_requested(query),
        filters=filters,
    )


def _staff_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    return application


@bp.post("/staff/grants/applications/<int:application_id>/return")
@staff_required
def staff_return_application(application_id: int) -> ResponseReturnValue:
    application = _staff_application(application_id)
    form = ReturnForm()
    outcome = submit_form(
        form, lambda: svc.request_more_info(application, current_user, form.message.data or "")
    )
    status = outcome.status
    if outcome.done:
        flash(
            f"{application.reference} sent back to {application.organisation.name} for more information.",
            "success",
        )
        return redirect(url_for("grants.application", application_id=application.id), 303)
    return _render_view(application, status, return_form=form)


@bp.post("/staff/grants/applications/<int:application_id>/accept-late")
@staff_required
def staff_accept_late(application_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    application = _staff_application(application_id)
    form = AcceptLateForm()
    status = 422
    if form.validate_on_submit():
        try:
            svc.accept_late(application, current_user, form.reason.data or "")
        except SubmissionRefused as exc:
            db.session.rollback()
            for problem in exc.problems:
                form.form_errors.append(problem.message)
            status = exc.status_code
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(f"Late application accepted and submitted as {application.reference}.", "success")
            return redirect(url_for("grants.application", application_id=application.id), 303)
    return _render_view(application, status, late_form=form)
