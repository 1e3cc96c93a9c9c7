"""A person's own data: the privacy page, the JSON download, and closing the account."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from foundation.auth import log_event
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members import bp, privacy
from foundation.members.forms import CloseAccountForm
from foundation.privacy import export_user_data
from foundation.types import utcnow
from foundation.web import field_error


def _page(form: CloseAccountForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "members/privacy.html", form=form, handover=privacy.admin_handover_needed(current_user)
    ), status


@bp.get("/account/privacy", endpoint="privacy")
@login_required
def privacy_page() -> ResponseReturnValue:
    return _page(CloseAccountForm())


@bp.get("/account/privacy/export")
@login_required
def export_data() -> ResponseReturnValue:
    data = export_user_data(current_user)
    log_event("data_exported", user=current_user.id)
    filename = f"wypf-my-data-{utcnow():%Y-%m-%d}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.post("/account/close")
@login_required
def close_account() -> ResponseReturnValue:
    form = CloseAccountForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    user_id = current_user.id
    try:
        privacy.close_account(current_user, form.current_password.data or "")
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _page(form, exc.status_code)
    db.session.commit()
    logout_user()
    log_event("account_closed", user=user_id)
    flash(
        "Your account is closed and your personal details have been removed. Thank you for taking part.",
        "info",
    )
    return redirect(url_for("public.home"))
