"""Panel reviewing pages (my assignments; declare, then score) and the staff pages for reviewers, ranking and
the review export.

Write views lock first (`reviews.lock_round` / `reviews.lock_assignment`), call one service, and commit once;
a refusal rolls back and shows the message at the field that caused it.
"""

from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.utils import secure_filename

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.grants import bp, ranking, reviews
from foundation.grants.forms_reviews import (
    AssignForm,
    BulkAssignForm,
    DeclarationForm,
    RemindForm,
    ScoreForm,
    UnassignForm,
    score_form,
)
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    GrantRound,
    ReviewAssignment,
    RoundStatus,
)
from foundation.members.models import User
from foundation.permissions import deny, panel_required, signed_in_user, staff_required
from foundation.types import LONDON, utcnow
from foundation.web import field_error, spreadsheet_safe, submit_form


@bp.app_template_filter("score1")
def _score1(value: float | None) -> str:
    """A 0-100 score with one decimal place ("—" when there is none)."""
    return "—" if value is None else f"{value:.1f}"


@bp.app_template_filter("z2")
def _z2(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


# --- the panel ---------------------------------------------------------------------------------------------------


def review_state(assignment: ReviewAssignment) -> str:
    """What the reviewer has left to do, in words."""
    if assignment.conflict is ConflictDeclaration.EXCLUDED:
        return "Excluded: you belong to the applicant"
    if assignment.conflict is ConflictDeclaration.CONFLICT:
        return "Conflict of interest declared"
    if assignment.submitted_at is not None:
        return "Submitted"
    if assignment.application.status is not ApplicationStatus.SUBMITTED:
        return f"Application {assignment.application.status.label.lower()}"
    if assignment.conflict is ConflictDeclaration.UNDECLARED:
        return "Declare any conflict of interest"
    return "Scoring in progress" if assignment.scores else "Ready to score"


@bp.get("/panel")
@panel_required
def panel_home() -> ResponseReturnValue:
    assignments = reviews.my_assignments(signed_in_user())
    todo = [
        a
        for a in assignments
        if a.active and a.submitted_at is None and a.application.status is ApplicationStatus.SUBMITTED
    ]
    return render_template(
        "grants/review_panel_home.html", assignments=assignments, todo=todo, state=review_state
    )


def _assignment_for_reviewer(assignment_id: int, lock: bool) -> ReviewAssignment:
    """The signed-in reviewer's own assignment; anyone else's (or none) is not found."""
    if lock:
        assignment = reviews.lock_assignment(assignment_id)
    else:
        assignment = db.session.get(ReviewAssignment, assignment_id)
    if assignment is None or assignment.reviewer_id != current_user.id:
        deny(404, f"review assignment {assignment_id} not theirs")
    return assignment


def _existing_scores(assignment: ReviewAssignment) -> dict[str, object]:
    data: dict[str, object] = {}
    for s in assignment.scores:
        data[reviews.score_field(s.criterion_id)] = s.score
        data[f"na_{s.criterion_id}"] = s.not_applicable
        data[reviews.na_reason_field(s.criterion_id)] = s.na_reason or ""
        data[f"comment_{s.criterion_id}"] = s.comment
    return data


def _save_scores(assignment: ReviewAssignment, me: User, scoring: ScoreForm, submit: bool) -> int | None:
    """Validate, save (and submit) the scores and commit; None when done, else the status to answer with."""
    if not scoring.validate_on_submit():
        db.session.rollback()
        return 422
    try:
        reviews.save_scores(assignment, me, scoring.entries(), complete=submit)
        if submit:
            reviews.submit_review(assignment, me)
    except reviews.ScoresInvalid as exc:
        db.session.rollback()
        for name, message in exc.problems.items():
            if name in scoring and message not in scoring[name].errors:
                scoring[name].errors = [*scoring[name].errors, message]
        return exc.status_code
    except DomainError as exc:
        db.session.rollback()
        field_error(scoring, exc)
        return exc.status_code
    db.session.commit()
    return None


_DECLARED = {
    ConflictDeclaration.NONE: ("Thank you. You can now read and score the application.", "success"),
    ConflictDeclaration.CONFLICT: (
        "Your conflict of interest is recorded. Staff will ask someone else to review.",
        "info",
    ),
    ConflictDeclaration.EXCLUDED: (
        "You belong to the applying organisation, so you cannot review this application.",
        "info",
    ),
}


@bp.route("/panel/assignments/<int:assignment_id>", methods=["GET", "POST"])
@panel_required
def review(assignment_id: int) -> ResponseReturnValue:
    posting = request.method == "POST"
    assignment = _assignment_for_reviewer(assignment_id, lock=posting)
    me = signed_in_user()
    action = request.form.get("action", "") if posting else ""
    if posting and action not in {"declare", "save", "submit"}:
        abort(400)
    criteria = list(assignment.application.round.criteria)
    declaration = DeclarationForm(prefix="declare", formdata=request.form if action == "declare" else None)
    scoring = score_form(
        criteria,
        formdata=request.form if action in {"save", "submit"} else None,
        data=_existing_scores(assignment),
    )
    status = 200
    if action == "declare":

        def run_declare() -> ConflictDeclaration:
            reviews.declare(assignment, me, declaration.conflict.data == "conflict", declaration.reason.data)
            return assignment.conflict

        outcome = submit_form(declaration, run_declare)
        if outcome.done:
            flash(*_DECLARED[outcome.result])
            return redirect(url_for("grants.review", assignment_id=assignment_id), 303)
        status = outcome.status
    elif action in {"save", "submit"}:
        # Every problem at once (each at its field, 422), and nothing written unless there is none.
        scoring.complete = action == "submit"
        refused_status = _save_scores(assignment, me, scoring, submit=action == "submit")
        if refused_status is None:
            flash(
                "Your review is submitted. Thank you."
                if action == "submit"
                else "Your scores are saved. You can come back and change them until you submit.",
                "success",
            )
            return redirect(url_for("grants.review", assignment_id=assignment_id), 303)
        status = refused_status
    application = assignment.application
    round_ = application.round
    member = reviews.is_member(me.id, application.organisation_id)
    excluded = member or assignment.conflict is ConflictDeclaration.EXCLUDED
    closed = round_.status is RoundStatus.DECIDED or application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.MORE_INFO_REQUESTED,
    )
    # The application's details only after declaring no conflict (and never to the applicant's own people).
    show_details = not excluded and assignment.conflict is ConflictDeclaration.NONE and not closed
    can_score = (
        show_details and assignment.submitted_at is None and application.status is ApplicationStatus.SUBMITTED
    )
    return render_template(
        "grants/review_assignment.html",
        assignment=assignment,
        application=application,
        round_=round_,
        criteria=criteria,
        excluded=excluded,
        closed=closed,
        show_details=show_details,
        can_score=can_score,
        declaration=declaration,
        scoring=scoring,
        own_weighted=reviews.review_weighted_score(assignment) if show_details else None,
        others=reviews.other_reviews(assignment, me) if show_details else [],
        own_scores={s.criterion_id: s for s in assignment.scores} if show_details else {},
    ), status


# --- staff: reviewers, progress, reminders -------------------------------------------------------------------------


def _staff_forms(
    round_: GrantRound, action: str
) -> tuple[AssignForm, BulkAssignForm, RemindForm, UnassignForm]:
    assign = AssignForm(prefix="assign", formdata=request.form if action == "assign" else None)
    bulk = BulkAssignForm(prefix="bulk", formdata=request.form if action == "bulk" else None)
    remind = RemindForm(prefix="remind", formdata=request.form if action == "remind" else None)
    unassign = UnassignForm(prefix="unassign", formdata=request.form if action == "unassign" else None)
    return assign, bulk, remind, unassign


@bp.route("/staff/grants/rounds/<int:round_id>/reviewers", methods=["GET", "POST"])
@staff_required
def round_reviewers(round_id: int) -> ResponseReturnValue:
    posting = request.method == "POST"
    action = request.form.get("action", "") if posting else ""
    if posting and action not in {"assign", "bulk", "remind", "unassign"}:
        abort(400)
    round_ = reviews.lock_round(round_id) if posting else db.get_or_404(GrantRound, round_id)
    me = signed_in_user()
    panel = reviews.eligible_reviewers()
    assign, bulk, remind, unassign = _staff_forms(round_, action)
    submitted = [
        a
        for a in db.session.scalars(
            db.select(Application)
            .where(Application.round_id == round_.id, Application.status == ApplicationStatus.SUBMITTED)
            .order_by(Application.reference, Application.id)
        )
    ]
    assign.application_id.choices = [
        SelectChoice(a.id, f"{a.reference} · {a.project_title}") for a in submitted
    ]
    assign.reviewer_id.choices = [SelectChoice(u.id, u.name) for u in panel]
    back = redirect(url_for("grants.round_reviewers", round_id=round_id), 303)
    status = 200
    if action == "assign":

        def run_assign() -> ReviewAssignment:
            application = db.session.get(Application, assign.application_id.data)
            reviewer = db.session.get(User, assign.reviewer_id.data)
            if application is None or reviewer is None:  # the choices were checked
                abort(404)
            reviews.refresh_exclusions(round_.id)
            return reviews.assign(application, reviewer, me)

        outcome = submit_form(assign, run_assign)
        if outcome.done:
            created: ReviewAssignment = outcome.result
            reviewer, application = created.reviewer, created.application
            if created.active:
                flash(f"{reviewer.name} will review {application.reference}.", "success")
            else:
                flash(
                    f"{reviewer.name} belongs to {application.organisation.name}, so they are excluded from "
                    f"{application.reference}. Choose someone else.",
                    "warning",
                )
            return back
        status = outcome.status
    elif action == "bulk":

        def run_bulk() -> reviews.BulkResult:
            per_application = bulk.per_application.data
            assert per_application is not None  # InputRequired: the form has validated
            return reviews.bulk_assign(round_, per_application, me)

        outcome = submit_form(bulk, run_bulk)
        if outcome.done:
            result: reviews.BulkResult = outcome.result
            flash(
                f"{len(result.created)} review{'s' if len(result.created) != 1 else ''} assigned.", "success"
            )
            if result.short:
                listed = ", ".join(f"{a.reference} ({n} more)" for a, n in result.short[:10])
                more = f" and {len(result.short) - 10} more" if len(result.short) > 10 else ""
                flash(
                    f"Not enough eligible reviewers for {len(result.short)} application"
                    f"{'s' if len(result.short) != 1 else ''}: {listed}{more}. Add panel reviewers, or lower "
                    "the number per application.",
                    "warning",
                )
            return back
        status = outcome.status
    elif action == "remind":
        outcome = submit_form(remind, lambda: reviews.remind(round_, me, remind.reviewer_id.data))
        if outcome.done:
            flash(f"Reminder sent to {', '.join(u.name for u in outcome.result)}.", "success")
            return back
        status = outcome.status
    elif action == "unassign":

        def run_unassign() -> str:
            target = db.session.get(ReviewAssignment, unassign.assignment_id.data)
            if target is None or target.application.round_id != round_.id:
                abort(404)
            said = f"{target.reviewer.name} no longer reviews {target.application.reference}."
            reviews.unassign(target)
            return said

        outcome = submit_form(unassign, run_unassign)
        if outcome.done:
            flash(outcome.result, "success")
            return back
        status = outcome.status
    if status >= 400 and action in {"remind", "unassign"}:
        # These are buttons, not forms with fields: say why at the top of the page.
        for message in [*remind.form_errors, *unassign.form_errors, *remind.reviewer_id.errors]:
            flash(message, "error")
    return render_template(
        "grants/review_reviewers.html",
        round_=round_,
        progress=reviews.progress(round_, panel),
        panel=panel,
        assign=assign,
        bulk=bulk,
        remind=remind,
        unassign=unassign,
        assignable=round_.status in reviews.ASSIGNABLE_ROUND_STATUSES,
        submitted=submitted,
    ), status


# --- staff: ranking and export ---------------------------------------------------------------------------------


@bp.get("/staff/grants/rounds/<int:round_id>/ranking", endpoint="ranking")
@staff_required
def ranking_page(round_id: int) -> ResponseReturnValue:
    # Endpoint `grants.ranking`; the function is named apart so it does not shadow the ranking module.
    round_ = db.get_or_404(GrantRound, round_id)
    sort = next((s for s in ranking.SortBy if s.value == request.args.get("sort")), ranking.SortBy.CALIBRATED)
    result = ranking.round_ranking(round_, sort)
    return render_template("grants/ranking.html", round_=round_, ranking=result, sorts=list(ranking.SortBy))


def csv_safe(value: object) -> object:
    """Text a spreadsheet could run as a formula gets a leading apostrophe; numbers we computed are left alone."""
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return "" if value is None else value


@bp.get("/staff/grants/rounds/<int:round_id>/export.csv")
@staff_required
def export_reviews(round_id: int) -> ResponseReturnValue:
    round_ = db.get_or_404(GrantRound, round_id)
    header, rows = ranking.review_export(round_)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    stamp = utcnow().astimezone(LONDON).strftime("%Y-%m-%d")
    filename = secure_filename(f"{round_.code}-reviews-{stamp}.csv") or "reviews.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
