"""Staff pages: the vetting queue, reviewing an organisation, decisions, and user roles."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from foundation.auth import log_event
from foundation.db_setup import begin_write_transaction
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members import bp, organisations, roles
from foundation.members.forms import VettingForm
from foundation.members.models import (
    VETTING_TRANSITIONS,
    Organisation,
    OrganisationDocument,
    OrganisationStatus,
    User,
    VettingAction,
)
from foundation.navigation import staff_area, staff_areas
from foundation.pagination import page_number, paginate
from foundation.permissions import signed_in_user, staff_required
from foundation.web import field_error

staff_area("Vetting", "members.vetting_queue", "Organisations waiting to be vetted, and those decided.", 10)
staff_area("Users", "members.staff_users", "Everyone with an account, and their organisations.", 90)


@bp.get("/staff")
@staff_required
def staff_home() -> ResponseReturnValue:
    """Every package's staff pages, on one page: the navigation's "Staff" entry."""
    return render_template("members/staff_home.html", areas=staff_areas())


@bp.get("/staff/vetting")
@staff_required
def vetting_queue() -> ResponseReturnValue:
    status_value = request.args.get("status", OrganisationStatus.PENDING.value)
    status = next((s for s in OrganisationStatus if s.value == status_value), OrganisationStatus.PENDING)
    orgs = paginate(
        sa.select(Organisation)
        .where(Organisation.status == status)
        .order_by(Organisation.submitted_at, Organisation.id)
        # The list shows each document's state, not who uploaded it: no join to every user.
        .options(selectinload(Organisation.documents).raiseload(OrganisationDocument.uploaded_by)),
        page_number(),
    )
    counts = dict(
        db.session.execute(sa.select(Organisation.status, sa.func.count()).group_by(Organisation.status))
        .tuples()
        .all()
    )
    return render_template(
        "members/staff_queue.html",
        orgs=orgs,
        status=status,
        statuses=list(OrganisationStatus),
        counts=counts,
    )


@bp.route("/staff/organisations/<int:org_id>", methods=["GET", "POST"])
@staff_required
def vetting_review(org_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        # A suspension may cancel bookings across many venues: their checks and writes go under the write lock.
        begin_write_transaction()
    org = db.get_or_404(Organisation, org_id)
    form = VettingForm()
    status = 200
    if form.validate_on_submit():
        action_value = request.form.get("action", "")
        action = next((a for a in VettingAction if a.value == action_value), None)
        if action is None:
            form.form_errors.append("Choose a decision.")
            status = 422
        else:
            try:
                outcome = organisations.decide(
                    org, signed_in_user(), action, form.message.data, form.cancel_future_bookings.data
                )
            except DomainError as exc:
                db.session.rollback()
                field_error(form, exc)
                status = exc.status_code
            else:
                db.session.commit()
                flash(" ".join([f"{org.name}: {action.label.lower()}.", *outcome.consequences]), "success")
                return redirect(url_for("members.vetting_queue"))
    elif form.is_submitted():
        status = 422
    allowed = [a for a in VettingAction if a is not VettingAction.SUBMIT and org.status in _from(a)]
    return render_template(
        "members/staff_review.html",
        org=org,
        form=form,
        allowed=allowed,
        leaves_standing=[a for a in allowed if a in organisations.LEAVES_STANDING],
        standing=organisations.good_standing(org),
    ), status


def _from(action: VettingAction) -> frozenset[OrganisationStatus]:
    return VETTING_TRANSITIONS[action][0]


USERS_PAGE_SIZE = 50


@bp.get("/staff/users")
@staff_required
def staff_users() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(User).where(User.closed_at.is_(None))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    users = db.session.scalars(
        stmt.order_by(User.name).limit(USERS_PAGE_SIZE).options(selectinload(User.memberships))
    ).all()
    return render_template("members/staff_users.html", users=users, q=q)


@bp.post("/staff/users/<int:user_id>/roles")
@staff_required
def set_user_roles(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    try:
        roles.set_roles(
            user,
            by=signed_in_user(),
            panel=request.form.get("panel") == "1",
            staff=request.form.get("staff") == "1",
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("members.staff_users")), 303
    db.session.commit()
    log_event(
        "roles_changed",
        user=user.id,
        by=signed_in_user().id,
        panel=user.is_panel_reviewer,
        staff=user.is_staff,
    )
    flash(f"Roles for {user.name} are saved.", "success")
    return redirect(url_for("members.staff_users"))
