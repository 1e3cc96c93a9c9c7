"""Organisation pages for members: dashboard, registration, profile, editing, resubmission."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members import bp, organisations
from foundation.members.forms import OrganisationForm
from foundation.members.models import Organisation, OrganisationStatus
from foundation.permissions import can_manage_organisation, organisation_for
from foundation.todo import Viewer, todo_for
from foundation.web import field_error, submit_form


def _form_values(form: OrganisationForm) -> dict:
    return {name: form[name].data for name in organisations.EDITABLE_FIELDS}


@bp.get("/dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    orgs = organisations.organisations_for(current_user)
    standings = {org.id: organisations.good_standing(org) for org in orgs}
    todo = todo_for(Viewer.of(current_user, orgs))
    return render_template("members/dashboard.html", orgs=orgs, standings=standings, todo=todo)


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def register_organisation() -> ResponseReturnValue:
    if not current_user.email_confirmed:
        # Told before the form, not after filling it in: the form is offered once the address is confirmed.
        refused = request.method == "POST"
        return render_template("members/confirm_first.html", refused=refused), 403 if refused else 200
    form = OrganisationForm()
    status = 200
    if form.validate_on_submit():
        try:
            org = organisations.register_organisation(current_user, _form_values(form))
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(
                f"{org.name} is registered and waiting for vetting. Upload your safeguarding policy and insurance now "
                "to speed things up.",
                "success",
            )
            return redirect(url_for("members.organisation", org_id=org.id))
    elif form.is_submitted():
        status = 422
    return render_template("members/organisation_form.html", form=form, org=None), status


@bp.get("/organisations/<int:org_id>")
@login_required
def organisation(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id)
    return render_template(
        "members/organisation.html",
        org=org,
        standing=organisations.good_standing(org),
        can_manage=can_manage_organisation(current_user, org),
    )


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    form = OrganisationForm(obj=None if request.method == "POST" else _prefill(org))
    outcome = submit_form(form, lambda: organisations.update_organisation(org, _form_values(form)))
    status = outcome.status
    if outcome.done:
        flash("Your organisation's details are saved.", "success")
        return redirect(url_for("members.organisation", org_id=org.id))
    return render_template("members/organisation_form.html", form=form, org=org), status


@bp.post("/organisations/<int:org_id>/resubmit")
@login_required
def resubmit_organisation(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    if org.status is not OrganisationStatus.CHANGES_REQUESTED:
        abort(409)
    organisations.resubmit(org, current_user)
    db.session.commit()
    flash("Thank you. Your organisation is back in the vetting queue.", "success")
    return redirect(url_for("members.organisation", org_id=org.id))


class _Prefill:
    """Form defaults from a model, with enums shown as their values."""

    def __init__(self, org: Organisation) -> None:
        for name in organisations.EDITABLE_FIELDS:
            value = getattr(org, name)
            setattr(self, name, getattr(value, "value", value))


def _prefill(org: Organisation) -> _Prefill:
    return _Prefill(org)
