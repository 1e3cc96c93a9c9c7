"""Organisation documents: admins upload, members and staff download."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members import bp, documents, organisations
from foundation.members import tasks as _tasks  # noqa: F401  (registers `flask members send-document-reminders`)
from foundation.members.forms import DocumentForm
from foundation.members.models import DocumentKind
from foundation.permissions import can_manage_organisation, organisation_for
from foundation.uploads import send_stored
from foundation.web import field_error


@bp.app_template_global()
def document_kinds() -> list[DocumentKind]:
    return list(DocumentKind)


@bp.post("/organisations/<int:org_id>/documents")
@login_required
def upload_document(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    form = DocumentForm()
    status = 422
    if form.validate_on_submit():
        kind = form.selected_kind()
        assert kind is not None  # the choice was validated
        try:
            doc = documents.upload_document(org, current_user, kind, form.file.data, form.valid_until.data)
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                documents.discard_file(doc)
                raise
            flash(f"{kind.label} uploaded. Thank you.", "success")
            return redirect(url_for("members.organisation", org_id=org.id, _anchor="documents"), 303)
    return render_template(
        "members/organisation.html",
        org=org,
        standing=organisations.good_standing(org),
        can_manage=can_manage_organisation(current_user, org),
        doc_form=form,
    ), status


@bp.get("/organisations/<int:org_id>/documents/<int:doc_id>")
@login_required
def download_document(org_id: int, doc_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id)
    doc, path = documents.document_for_download(current_user, org, doc_id)
    return send_stored(path, doc.original_filename, doc.content_type)
