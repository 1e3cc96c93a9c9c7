"""What Members holds about a person (account, memberships, documents, vetting, invitations), and closing an
account: erase or pseudonymise the person, keep the records the Foundation must keep (vetting decisions,
bookings, later payments) linked to the same user id, whose name, email and password no longer say or open
anything. Every package adds its own sections and closing steps through foundation/privacy.py.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from foundation.errors import Conflict
from foundation.extensions import db
from foundation.members.accounts import check_password
from foundation.members.models import (
    Invitation,
    MemberRole,
    Membership,
    OrganisationDocument,
    User,
    UserSession,
    VettingDecision,
)
from foundation.privacy import (
    FORMER_USER_NAME,
    closed_email,
    export_section,
    on_close,
    plain,
    row_dict,
    run_close_steps,
)
from foundation.types import utcnow


@export_section("account")
def _account(user: User) -> dict[str, Any]:
    return row_dict(user, exclude=("password_hash",))


@export_section("sign_ins", covers=("user_session.user_id",))
def _sign_ins(user: User) -> list[dict[str, Any]]:
    # Never the token hash: it is a credential's fingerprint, not information about the person.
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at)
    )
    return [
        {
            "device": s.user_agent,
            "created_at": plain(s.created_at),
            "last_seen_at": plain(s.last_seen_at),
            "revoked_at": plain(s.revoked_at),
        }
        for s in rows
    ]


@export_section("memberships", covers=("membership.user_id",))
def _memberships(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Membership).where(Membership.user_id == user.id).order_by(Membership.created_at)
    )
    return [
        {
            "organisation_id": m.organisation_id,
            "organisation": m.organisation.name,
            "role": m.role.value,
            "joined_at": plain(m.created_at),
        }
        for m in rows
    ]


@export_section("documents_uploaded", covers=("organisation_document.uploaded_by_id",))
def _documents(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(OrganisationDocument)
        .where(OrganisationDocument.uploaded_by_id == user.id)
        .order_by(OrganisationDocument.uploaded_at)
    )
    return [
        {
            "organisation_id": d.organisation_id,
            "kind": d.kind.value,
            "original_filename": d.original_filename,
            "content_type": d.content_type,
            "size_bytes": d.size_bytes,
            "sha256": d.sha256,
            "valid_until": plain(d.valid_until),
            "uploaded_at": plain(d.uploaded_at),
        }
        for d in rows
    ]


@export_section("vetting_decisions_made", covers=("vetting_decision.decided_by_id",))
def _decisions(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(VettingDecision)
        .where(VettingDecision.decided_by_id == user.id)
        .order_by(VettingDecision.created_at)
    )
    return [
        {
            "organisation_id": d.organisation_id,
            "organisation": d.organisation.name,
            "action": d.action.value,
            "from_status": d.from_status.value,
            "to_status": d.to_status.value,
            "message": d.message,
            "created_at": plain(d.created_at),
        }
        for d in rows
    ]


@export_section("invitations", covers=("invitation.invited_by_id", "invitation.accepted_by_id"))
def _invitations(user: User) -> dict[str, list[dict[str, Any]]]:
    def shape(inv: Invitation) -> dict[str, Any]:
        return {
            "organisation_id": inv.organisation_id,
            "organisation": inv.organisation.name,
            "email": inv.email,
            "role": inv.role.value,
            "created_at": plain(inv.created_at),
            "expires_at": plain(inv.expires_at),
            "accepted_at": plain(inv.accepted_at),
            "revoked_at": plain(inv.revoked_at),
        }

    sent = db.session.scalars(
        sa.select(Invitation).where(Invitation.invited_by_id == user.id).order_by(Invitation.created_at)
    )
    received = db.session.scalars(
        sa.select(Invitation)
        .where(sa.or_(Invitation.accepted_by_id == user.id, Invitation.email == user.email))
        .order_by(Invitation.created_at)
    )
    return {"sent": [shape(i) for i in sent], "received": [shape(i) for i in received]}


# --- closing --------------------------------------------------------------------------------------------


def admin_handover_needed(user: User) -> list[str]:
    """Organisations this user is the only admin of while others still belong to them."""
    blocking = []
    for m in user.memberships:
        if m.role is not MemberRole.ADMIN:
            continue
        others = [o for o in m.organisation.memberships if o.user_id != user.id and o.user.closed_at is None]
        if others and not any(o.role is MemberRole.ADMIN for o in others):
            blocking.append(m.organisation.name)
    return sorted(blocking)


def close_account(user: User, password: str) -> None:
    """Erase or pseudonymise the person; keep the records the Foundation must keep. The caller commits."""
    if user.closed_at is not None:
        raise Conflict("This account is already closed.")
    check_password(user, password, field="current_password")
    blocking = admin_handover_needed(user)
    if blocking:
        raise Conflict(
            f"You are the only admin of {', '.join(blocking)}. Make another member an admin "
            "(on the organisation page) before closing your account."
        )
    run_close_steps(user)
    user.name = FORMER_USER_NAME
    user.email = closed_email(user)
    # Not a hash werkzeug can check ("method$salt$hash"), so no password ever matches it.
    user.password_hash = "closed!" + secrets.token_hex(16)
    user.email_confirmed_at = None
    user.is_staff = False
    user.is_panel_reviewer = False
    user.last_login_at = None
    user.closed_at = utcnow()
    db.session.flush()


@on_close
def _erase_sign_ins(user: User) -> None:
    # Every device is signed out, and when and where the person signed in is no longer kept.
    db.session.execute(
        sa.delete(UserSession)
        .where(UserSession.user_id == user.id)
        .execution_options(synchronize_session=False)
    )


@on_close
def _leave_organisations(user: User) -> None:
    # The organisations stay (they may hold bookings, grants, history); the person leaves them.
    for m in list(user.memberships):
        db.session.delete(m)
    db.session.flush()
    db.session.expire(user, ["memberships"])


@on_close
def _erase_invitation_addresses(user: User) -> None:
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.email == user.email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Invitation)
        .where(sa.or_(Invitation.email == user.email, Invitation.accepted_by_id == user.id))
        .values(email=closed_email(user))
        .execution_options(synchronize_session=False)
    )
