"""People in an organisation: invite colleagues, accept an invitation, change roles, remove members."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.auth import log_event
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members import bp, invitations, organisations
from foundation.members.accounts import find_user_by_email
from foundation.members.forms import InviteForm, RoleForm
from foundation.members.models import Invitation, MemberRole, Membership, Organisation
from foundation.permissions import can_manage_organisation, organisation_for
from foundation.types import LONDON
from foundation.web import field_error


@bp.app_template_global()
def invite_form_for() -> InviteForm:
    """An empty invitation form for the organisation page (its own data never comes from another form)."""
    return InviteForm(formdata=None)


@bp.app_template_global()
def pending_invitations_for(org: Organisation) -> list[Invitation]:
    return invitations.pending_invitations(org)


@bp.app_template_global()
def member_roles() -> list[MemberRole]:
    return list(MemberRole)


def _org_page(org: Organisation, status: int, **extra: Any) -> tuple[str, int]:
    """The organisation page again, with the people section showing what went wrong."""
    return render_template(
        "members/organisation.html",
        org=org,
        standing=organisations.good_standing(org),
        can_manage=can_manage_organisation(current_user, org),
        **extra,
    ), status


def _people_url(org: Organisation) -> str:
    return url_for("members.organisation", org_id=org.id) + "#people"


def _membership_in(org: Organisation, membership_id: int) -> Membership:
    m = db.session.get(Membership, membership_id)
    if m is None or m.organisation_id != org.id:
        abort(404)
    return m


@bp.post("/organisations/<int:org_id>/invitations")
@login_required
def invite_colleague(org_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    form = InviteForm()
    if not form.validate_on_submit():
        return _org_page(org, 422, invite_form=form)
    try:
        inv = invitations.invite(org, current_user, form.email.data or "", MemberRole(form.role.data))
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _org_page(org, exc.status_code, invite_form=form)
    db.session.commit()
    log_event("invitation_sent", user=current_user.id, org=org.id, invitation=inv.id)
    until = inv.expires_at.astimezone(LONDON).strftime("%-d %b %Y, %H:%M")
    flash(f"Invitation sent to {inv.email}. The link works once, until {until}.", "success")
    return redirect(_people_url(org))


@bp.post("/organisations/<int:org_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(org_id: int, invitation_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.organisation_id != org.id:
        abort(404)
    try:
        invitations.revoke(inv, current_user)
    except DomainError as exc:
        db.session.rollback()
        return _org_page(org, exc.status_code, people_error=exc.message)
    db.session.commit()
    flash(f"The invitation to {inv.email} is withdrawn; its link no longer works.", "success")
    return redirect(_people_url(org))


@bp.post("/organisations/<int:org_id>/members/<int:membership_id>/role")
@login_required
def change_member_role(org_id: int, membership_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    m = _membership_in(org, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _org_page(org, 422, people_error="Choose admin or member.")
    try:
        invitations.change_role(m, current_user, MemberRole(form.role.data))
    except DomainError as exc:
        db.session.rollback()
        return _org_page(org, exc.status_code, people_error=exc.message)
    db.session.commit()
    log_event("member_role_changed", user=m.user_id, org=org.id, role=m.role.value, by=current_user.id)
    flash(f"{m.user.name} is now {m.role.label.lower()} of {org.name}.", "success")
    return redirect(_people_url(org))


@bp.post("/organisations/<int:org_id>/members/<int:membership_id>/remove")
@login_required
def remove_member(org_id: int, membership_id: int) -> ResponseReturnValue:
    org = organisation_for(org_id, admin=True)
    m = _membership_in(org, membership_id)
    name, user_id, was_self = m.user.name, m.user_id, m.user_id == current_user.id
    try:
        invitations.remove_member(m, current_user)
    except DomainError as exc:
        db.session.rollback()
        return _org_page(org, exc.status_code, people_error=exc.message)
    db.session.commit()
    log_event("member_removed", user=user_id, org=org.id, by=current_user.id)
    if was_self:
        flash(f"You have left {org.name}.", "success")
        return redirect(url_for("members.dashboard"))
    flash(f"{name} is no longer a member of {org.name}.", "success")
    return redirect(_people_url(org))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    try:
        inv = invitations.invitation_for_token(token)
        if current_user.is_authenticated:
            invitations.check_account(inv, current_user)
    except invitations.InvitationRefused as exc:
        return render_template(
            "members/invitation_problem.html", message=exc.message, invitation=exc.invitation
        ), exc.status_code
    here = url_for("members.invitation", token=token)
    if not current_user.is_authenticated:
        if request.method == "POST":
            return redirect(url_for("members.login", next=here))
        has_account = find_user_by_email(inv.email) is not None
        return render_template("members/invitation.html", inv=inv, here=here, has_account=has_account)
    if request.method == "GET":
        return render_template("members/invitation.html", inv=inv, here=here, has_account=True)
    try:
        joined = invitations.accept(inv, current_user)
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "members/invitation_problem.html", message=exc.message, invitation=None
        ), exc.status_code
    db.session.commit()
    log_event("invitation_accepted", user=current_user.id, org=joined.organisation.id, invitation=inv.id)
    flash(
        f"Welcome to {joined.organisation.name}. You are {joined.membership.role.label.lower()}.", "success"
    )
    return redirect(url_for("members.organisation", org_id=joined.organisation.id))
