"""Funders and opportunities for Foundation staff.

/staff/funders                                 the register, searchable by name and type, paged
/staff/funders/new, /staff/funders/<id>/edit   add or change a funder
/staff/funding                                 opportunities by status (suggestions waiting first), each paged
/staff/funding/new, /staff/funding/<id>/edit   add (published at once) or change an opportunity
/staff/funding/<id>/review                     publish a member's suggestion, or reject it with a reason
/staff/funding/<id>/archive                    withdraw an opportunity
/staff/funders/prospecting                     upload a 360Giving file; earlier imports
/staff/funders/prospecting/<id>                an import's funders; tick some to add them to the register
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from foundation.bids import bp, funders, opportunities, prospecting
from foundation.bids.forms import (
    AddProspectsForm,
    ConfirmForm,
    FunderFilterForm,
    FunderForm,
    OpportunityForm,
    ReviewForm,
    UploadForm,
)
from foundation.bids.models import Funder, FunderType, FundingOpportunity, OpportunityStatus
from foundation.bids.threesixty import NotThreeSixtyGiving, read
from foundation.bids.views_members import render_opportunity
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.navigation import staff_area
from foundation.pagination import page_number
from foundation.permissions import signed_in_user, staff_required
from foundation.web import submit_form

# --- the register --------------------------------------------------------------------------------------------


staff_area(
    "Funders and opportunities",
    "bids.funders_list",
    "The register of funders, opportunities to publish and prospecting.",
    40,
)


@bp.route("/staff/funders")
@staff_required
def funders_list() -> ResponseReturnValue:
    form = FunderFilterForm(request.args)
    form.validate()
    kind = (
        FunderType(form.funder_type.data) if form.funder_type.data and not form.funder_type.errors else None
    )
    text = "" if form.q.errors else (form.q.data or "")
    result = funders.search(page_number(), text, kind)
    args = {k: v for k, v in (("q", text), ("funder_type", kind.value if kind else "")) if v}
    return render_template("bids/funders.html", form=form, result=result, args=args)


def _funder(funder_id: int) -> Funder:
    found = db.session.get(Funder, funder_id)
    if found is None:
        abort(404)
    return found


@bp.route("/staff/funders/new", methods=["GET", "POST"])
@staff_required
def funder_new() -> ResponseReturnValue:
    form = FunderForm()
    outcome = submit_form(form, lambda: funders.create(form.details(), signed_in_user()))
    if outcome.done:
        flash(f"{outcome.result.name} is in the register.", "success")
        return redirect(url_for("bids.funders_list", q=outcome.result.name))
    return render_template("bids/funder_form.html", form=form, found=None), outcome.status


@bp.route("/staff/funders/<int:funder_id>/edit", methods=["GET", "POST"])
@staff_required
def funder_edit(funder_id: int) -> ResponseReturnValue:
    found = _funder(funder_id)
    form = FunderForm(obj=None if request.method == "POST" else found)
    if request.method == "GET":
        form.funder_type.data = found.funder_type.value
    outcome = submit_form(form, lambda: funders.update(found, form.details()))
    if outcome.done:
        flash(f"{found.name} is saved.", "success")
        return redirect(url_for("bids.funders_list", q=found.name))
    return render_template("bids/funder_form.html", form=form, found=found), outcome.status


# --- opportunities -------------------------------------------------------------------------------------------


def funder_choices() -> list[SelectChoice]:
    return [SelectChoice(f.id, f.name) for f in funders.all_by_name()]


def _opportunity(opportunity_id: int) -> FundingOpportunity:
    found = opportunities.load(opportunity_id)
    if found is None:
        abort(404)
    return found


@bp.route("/staff/funding")
@staff_required
def staff_opportunities() -> ResponseReturnValue:
    shown = request.args.get("section", "")
    sections = []
    for status in opportunities.STAFF_SECTIONS:
        page = page_number() if shown == status.value else 1
        sections.append((status, opportunities.by_status(status, page)))
    return render_template("bids/staff_opportunities.html", sections=sections)


@bp.route("/staff/funding/new", methods=["GET", "POST"])
@staff_required
def opportunity_new() -> ResponseReturnValue:
    form = OpportunityForm()
    form.offer(funder_choices())
    outcome = submit_form(form, lambda: opportunities.create(form.details(), signed_in_user()))
    if outcome.done:
        flash("The opportunity is published: members can see it.", "success")
        return redirect(url_for("bids.opportunity", opportunity_id=outcome.result.id))
    return render_template("bids/opportunity_form.html", form=form, found=None), outcome.status


@bp.route("/staff/funding/<int:opportunity_id>/edit", methods=["GET", "POST"])
@staff_required
def opportunity_edit(opportunity_id: int) -> ResponseReturnValue:
    found = _opportunity(opportunity_id)
    form = OpportunityForm()
    form.offer(funder_choices())
    if request.method == "GET":
        form.fill(found)
    outcome = submit_form(form, lambda: opportunities.update(found, form.details()))
    if outcome.done:
        flash("The opportunity is saved.", "success")
        return redirect(url_for("bids.opportunity", opportunity_id=found.id))
    return render_template("bids/opportunity_form.html", form=form, found=found), outcome.status


@bp.route("/staff/funding/<int:opportunity_id>/review", methods=["GET", "POST"])
@staff_required
def opportunity_review(opportunity_id: int) -> ResponseReturnValue:
    found = _opportunity(opportunity_id)
    form = ReviewForm()
    if found.status is not OpportunityStatus.SUGGESTED and request.method == "GET":
        return redirect(url_for("bids.opportunity", opportunity_id=found.id))

    def decide() -> str:
        staff = signed_in_user()
        if form.decision.data == "publish":
            opportunities.publish(found, staff)
        else:
            opportunities.reject(found, staff, form.reason.data or "")
        return str(form.decision.data)

    outcome = submit_form(form, decide)
    if outcome.done:
        if outcome.result == "publish":
            flash("Published. The member who suggested it has been told.", "success")
        else:
            flash("Rejected. The member who suggested it has been told why.", "success")
        return redirect(url_for("bids.staff_opportunities"))
    return render_template("bids/opportunity_review.html", form=form, found=found), outcome.status


@bp.route("/staff/funding/<int:opportunity_id>/archive", methods=["POST"])
@staff_required
def opportunity_archive(opportunity_id: int) -> ResponseReturnValue:
    found = _opportunity(opportunity_id)
    form = ConfirmForm()
    outcome = submit_form(form, lambda: opportunities.archive(found, signed_in_user()))
    if outcome.done:
        flash("The opportunity is archived: members no longer see it.", "success")
        return redirect(url_for("bids.staff_opportunities"))
    problems = [*form.form_errors, *(e for errs in form.errors.values() for e in errs if isinstance(e, str))]
    return render_opportunity(found, outcome.status, problems or ["The opportunity could not be archived."])


# --- prospecting ---------------------------------------------------------------------------------------------


def _read_upload(upload: FileStorage) -> bytes:
    data = upload.stream.read(prospecting.MAX_FILE_BYTES + 1)
    if len(data) > prospecting.MAX_FILE_BYTES:
        raise TooLarge("The file is larger than 5 MB. Upload a smaller extract (one funder, or fewer years).")
    if not data.strip():
        raise DomainError("The file is empty.", field="grants_file")
    return data


class TooLarge(DomainError):
    status_code = 413

    def __init__(self, message: str) -> None:
        super().__init__(message, field="grants_file")


@bp.route("/staff/funders/prospecting", methods=["GET", "POST"])
@staff_required
def prospecting_upload() -> ResponseReturnValue:
    form = UploadForm()
    problems: NotThreeSixtyGiving | None = None

    def run() -> int:
        nonlocal problems
        upload: FileStorage = form.grants_file.data
        filename = (upload.filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        try:
            grant_file = read(_read_upload(upload), filename)
        except NotThreeSixtyGiving as exc:
            problems = exc
            raise DomainError(exc.summary, field="grants_file") from None
        return prospecting.record_import(grant_file, filename, signed_in_user()).id

    outcome = submit_form(form, run)
    if outcome.done:
        return redirect(url_for("bids.prospect_import", import_id=outcome.result))
    imports = prospecting.recent_imports(page_number())
    return render_template(
        "bids/prospecting.html", form=form, problems=problems, imports=imports, max_mb=5
    ), outcome.status


@bp.route("/staff/funders/prospecting/<int:import_id>", methods=["GET", "POST"])
@staff_required
def prospect_import(import_id: int) -> ResponseReturnValue:
    record = prospecting.load_import(import_id)
    if record is None:
        abort(404)
    form = AddProspectsForm()
    registered = prospecting.in_register(record.funders)
    form.prospects.choices = [SelectChoice(p.id, p.name) for p in record.funders if p.id not in registered]
    outcome = submit_form(
        form, lambda: prospecting.add_to_register(record, list(form.prospects.data or []), signed_in_user())
    )
    if outcome.done:
        added = outcome.result
        flash(
            f"Added to the register: {', '.join(f.name for f in added)}. Check each funder's type.", "success"
        )
        return redirect(url_for("bids.prospect_import", import_id=record.id))
    return render_template(
        "bids/prospect_import.html", record=record, form=form, registered=registered
    ), outcome.status
