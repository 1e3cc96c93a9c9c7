"""The good-practice library.

/library                                  approved resources: search by words, topic and kind (anyone sees titles)
/library/share                            share a resource (a member of an organisation in good standing)
/library/ours                             every resource the person's organisations shared, in any state
/library/<id>                             a resource with its versions and history
/library/<id>/download                    its file (the latest approved version) or its link, counted
/library/<id>/versions/<version_id>       any version's file (the organisation and staff)
/library/<id>/edit, /replace, /withdraw   the organisation's admins (staff may withdraw too)
/staff/library                            resources waiting for review
/staff/library/<id>/review                approve, or reject with a reason
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.library import bp, services
from foundation.library.forms import (
    ConfirmForm,
    DetailsForm,
    LibraryFilterForm,
    ReplaceForm,
    ReviewForm,
    SubmitForm,
)
from foundation.library.models import LibraryResource, ResourceStatus, ResourceVersion
from foundation.members.models import Organisation
from foundation.navigation import staff_area
from foundation.pagecache import public_page
from foundation.pagination import page_number
from foundation.permissions import deny, signed_in_user, staff_required
from foundation.uploads import remove_stored, send_stored
from foundation.web import FormOutcome, field_error, submit_form


@bp.route("/library")
@public_page
def index() -> ResponseReturnValue:
    form = LibraryFilterForm(request.args)
    valid = form.validate() if request.args else True
    result = services.search(page_number(), form.chosen())
    args = {k: v for k, v in request.args.items(multi=False) if k != "page" and v and k in form}
    user = current_user
    signed_in = bool(user.is_authenticated)
    return render_template(
        "library/index.html",
        form=form,
        result=result,
        args=args,
        reader=signed_in and services.can_read(user),
        has_organisations=signed_in and bool(user.memberships),
        waiting=services.waiting_count() if signed_in and user.is_staff else 0,
    ), (200 if valid else 400)


def _resource(resource_id: int) -> LibraryResource:
    """The resource if the signed-in person may see it: 403 for an approved one they may not open (the list shows
    it exists), 404 for one that is not approved and not theirs."""
    found = services.load(resource_id)
    if found is None:
        abort(404)
    user = signed_in_user()
    if user.is_staff or services.is_owner(user, found):
        return found
    if found.status is ResourceStatus.APPROVED:
        if services.can_read(user):
            return found
        deny(403, "the library is for members of organisations in good standing")
    deny(404, f"library resource {resource_id} is not approved")


def _managed(resource_id: int) -> LibraryResource:
    found = _resource(resource_id)
    if not services.can_manage(signed_in_user(), found):
        deny(403, "only the organisation's admins change a resource")
    return found


def render_resource(
    found: LibraryResource, status: int = 200, problems: list[str] | None = None
) -> ResponseReturnValue:
    user = signed_in_user()
    return render_template(
        "library/resource.html",
        found=found,
        can_manage=services.can_manage(user, found),
        can_withdraw=found.status is not ResourceStatus.WITHDRAWN
        and (user.is_staff or services.can_manage(user, found)),
        sees_history=services.can_see_old_versions(user, found),
        needs_review=services.needs_review(found),
        withdraw_form=ConfirmForm(),
        problems=problems or [],
    ), status


@bp.route("/library/<int:resource_id>")
@login_required
def resource(resource_id: int) -> ResponseReturnValue:
    return render_resource(_resource(resource_id))


@bp.route("/library/<int:resource_id>/download")
@login_required
def download(resource_id: int) -> ResponseReturnValue:
    """The file (the latest approved version) or the link. Only an approved resource's downloads are counted: the
    organisation and staff open a resource not yet approved (its newest upload) without counting."""
    found = _resource(resource_id)
    if found.is_link:
        response = redirect(found.link or "", 303)
    else:
        version = found.public_version or (found.versions[0] if found.versions else None)
        if version is None:
            abort(404)
        path = services.version_file(found, version)
        response = send_stored(path, version.original_filename, version.content_type)
    if found.status is ResourceStatus.APPROVED:
        services.count_download(found.id)
        db.session.commit()
    return response


@bp.route("/library/<int:resource_id>/versions/<int:version_id>")
@login_required
def version_download(resource_id: int, version_id: int) -> ResponseReturnValue:
    found = services.load(resource_id)
    if found is None or not services.can_see_old_versions(signed_in_user(), found):
        deny(404, "old versions are for the resource's organisation and staff")
    version = next((v for v in found.versions if v.id == version_id), None)
    if version is None:
        abort(404)
    return send_stored(services.version_file(found, version), version.original_filename, version.content_type)


def _submit_upload(form: FlaskForm, action: Callable[[], tuple[object, list[str]]]) -> FormOutcome:
    """submit_form for forms carrying a file: a stored file whose row is not saved is removed again."""
    if not form.validate_on_submit():
        return FormOutcome(False, 422 if form.is_submitted() else 200)
    try:
        result, stored = action()
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return FormOutcome(False, exc.status_code)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        for name in stored:
            remove_stored(services.FOLDER, name)
        raise
    return FormOutcome(True, 200, result)


@bp.route("/library/share", methods=["GET", "POST"])
@login_required
def share() -> ResponseReturnValue:
    user = signed_in_user()
    organisations = services.reading_organisations(user)
    if not organisations:
        deny(403, "only members of an organisation in good standing share resources")
    form = SubmitForm()
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in organisations]
    if request.method == "GET" and len(organisations) == 1:
        form.organisation.data = organisations[0].id

    def run() -> tuple[object, list[str]]:
        org = db.session.get(Organisation, form.organisation.data)
        if org is None or org.id not in {o.id for o in organisations}:
            raise DomainError("Choose one of your organisations.", field="organisation")
        created = services.submit(form.details(), form.file.data, user, org)
        return created, [v.stored_name for v in created.versions]

    outcome = _submit_upload(form, run)
    if outcome.done:
        assert isinstance(outcome.result, LibraryResource)
        flash(
            "Thank you. Foundation staff will check it; we will tell you when members can see it.", "success"
        )
        return redirect(url_for("library.resource", resource_id=outcome.result.id), 303)
    return render_template("library/share.html", form=form), outcome.status


@bp.route("/library/ours")
@login_required
def ours() -> ResponseReturnValue:
    user = signed_in_user()
    org_ids = [m.organisation_id for m in user.memberships]
    return render_template(
        "library/ours.html",
        result=services.of_organisations(org_ids, page_number()),
        has_organisations=bool(org_ids),
    )


@bp.route("/library/<int:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit(resource_id: int) -> ResponseReturnValue:
    found = _managed(resource_id)
    form = DetailsForm()
    if request.method == "GET":
        form.fill(found)
    outcome = submit_form(form, lambda: services.update_details(found, form.details(), signed_in_user()))
    if outcome.done:
        flash("The resource is saved.", "success")
        return redirect(url_for("library.resource", resource_id=found.id), 303)
    return render_template("library/edit.html", form=form, found=found), outcome.status


@bp.route("/library/<int:resource_id>/replace", methods=["GET", "POST"])
@login_required
def replace(resource_id: int) -> ResponseReturnValue:
    found = _managed(resource_id)
    form = ReplaceForm()

    def run() -> tuple[object, list[str]]:
        version = services.replace_file(found, form.file.data, form.note.data or "", signed_in_user())
        return version, [version.stored_name]

    outcome = _submit_upload(form, run)
    if outcome.done:
        assert isinstance(outcome.result, ResourceVersion)
        if found.status is ResourceStatus.APPROVED:
            flash(
                f"Version {outcome.result.number} is uploaded. Members keep the current version until Foundation "
                "staff have checked the new one.",
                "success",
            )
        else:
            flash(f"Version {outcome.result.number} is uploaded.", "success")
        return redirect(url_for("library.resource", resource_id=found.id, _anchor="versions"), 303)
    return render_template("library/replace.html", form=form, found=found), outcome.status


@bp.route("/library/<int:resource_id>/withdraw", methods=["POST"])
@login_required
def withdraw(resource_id: int) -> ResponseReturnValue:
    found = _resource(resource_id)
    user = signed_in_user()
    if not (user.is_staff or services.can_manage(user, found)):
        deny(403, "only the organisation's admins or staff withdraw a resource")
    form = ConfirmForm()
    outcome = submit_form(form, lambda: services.withdraw(found, user))
    if outcome.done:
        flash("The resource is withdrawn: members no longer see it.", "success")
        return redirect(url_for("library.resource", resource_id=found.id), 303)
    problems = [*form.form_errors, *(e for errs in form.errors.values() for e in errs if isinstance(e, str))]
    return render_resource(found, outcome.status, problems or ["The resource could not be withdrawn."])


staff_area(
    "Library review", "library.review_queue", "Resources members have shared, waiting for approval.", 55
)


@bp.route("/staff/library")
@staff_required
def review_queue() -> ResponseReturnValue:
    return render_template("library/queue.html", waiting=services.review_queue())


@bp.route("/staff/library/<int:resource_id>/review", methods=["GET", "POST"])
@staff_required
def review(resource_id: int) -> ResponseReturnValue:
    found = services.load(resource_id)
    if found is None:
        abort(404)
    if request.method == "GET" and not services.needs_review(found):
        return redirect(url_for("library.resource", resource_id=found.id))
    form = ReviewForm()

    def decide() -> str:
        staff = signed_in_user()
        if form.decision.data == "approve":
            services.approve(found, staff)
        else:
            services.reject(found, staff, form.reason.data or "")
        return str(form.decision.data)

    outcome = submit_form(form, decide)
    if outcome.done:
        if outcome.result == "approve":
            flash("Approved. The member who shared it has been told.", "success")
        else:
            flash("Not approved. The member who shared it has been told why.", "success")
        return redirect(url_for("library.review_queue"), 303)
    return render_template("library/review.html", form=form, found=found), outcome.status
