"""People in an organisation: invitations by signed link, roles, and removal.

An organisation always keeps at least one admin: the last one can neither step down nor be removed.
An invitation link is signed with the app's SECRET_KEY and names one Invitation row; the row decides
whether the link still works (expiry, revocation, single use), so a link can be withdrawn after sending.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app, url_for

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.accounts import find_user_by_email, make_token, read_token
from foundation.members.models import Invitation, MemberRole, Membership, Organisation, User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import email_address, notify
from foundation.types import utcnow
from foundation.web import external_url

TOKEN_SALT = "invitation"


class InvitationState(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def state_of(inv: Invitation, now: datetime | None = None) -> InvitationState:
    if inv.accepted_at is not None:
        return InvitationState.ACCEPTED
    if inv.revoked_at is not None:
        return InvitationState.REVOKED
    if inv.expires_at <= (now or utcnow()):
        return InvitationState.EXPIRED
    return InvitationState.PENDING


class InvitationRefused(DomainError):
    """The link cannot be used (broken, expired, used, revoked): a 400 page that says why."""

    status_code = 400

    def __init__(self, message: str, invitation: Invitation | None = None) -> None:
        super().__init__(message)
        self.invitation = invitation


class WrongAccount(InvitationRefused):
    status_code = 403


# --- who is in the organisation -------------------------------------------------------------------------


def _active_memberships(org: Organisation) -> list[Membership]:
    return [m for m in org.memberships if m.user.closed_at is None]


def active_admin_count(org: Organisation) -> int:
    return sum(1 for m in _active_memberships(org) if m.role is MemberRole.ADMIN)


def _require_admin(org: Organisation, by: User) -> None:
    if not by.is_admin_of(org.id):
        raise NotAllowed(f"Only an admin of {org.name} can manage its people.")


def _is_last_admin(m: Membership) -> bool:
    return m.role is MemberRole.ADMIN and active_admin_count(m.organisation) <= 1


def pending_invitations(org: Organisation) -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at)
        )
    )


# --- inviting -------------------------------------------------------------------------------------------


def invitation_token(inv: Invitation) -> str:
    return make_token(TOKEN_SALT, {"inv": inv.id, "email": inv.email})


def invite(org: Organisation, by: User, email: str, role: MemberRole) -> Invitation:
    """Record an invitation and queue the email with its link. The caller commits."""
    _require_admin(org, by)
    email = email.strip().lower()
    existing_user = find_user_by_email(email)
    if existing_user is not None and existing_user.membership_of(org.id) is not None:
        raise Conflict(f"{email} is already a member of {org.name}.", field="email")
    waiting = next((i for i in pending_invitations(org) if i.email == email), None)
    if waiting is not None:
        raise Conflict(
            f"An invitation to {email} is already waiting. Revoke it below to send a new one.", field="email"
        )
    inv = Invitation(
        organisation_id=org.id,
        email=email,
        role=role,
        invited_by_id=by.id,
        expires_at=utcnow() + timedelta(seconds=int(current_app.config["INVITATION_MAX_AGE"])),
    )
    db.session.add(inv)
    db.session.flush()
    _send_invitation(inv, org, by, existing_user)
    return inv


def _send_invitation(inv: Invitation, org: Organisation, by: User, invitee: User | None) -> None:
    token = invitation_token(inv)
    path = url_for("members.invitation", token=token)
    subject = f"{by.name} invited you to join {org.name}"
    context: dict[str, Any] = {
        "organisation_name": org.name,
        "inviter_name": by.name,
        "role_label": inv.role.label,
        "email": inv.email,
        "expires_at": inv.expires_at,
        "accept_url": external_url("members.invitation", token=token),
    }
    if invitee is not None:
        notify(invitee, NotificationKind.ORGANISATION_MEMBERS, subject, "invitation", link=path, **context)
    else:
        email_address(inv.email, NotificationKind.ORGANISATION_MEMBERS, subject, "invitation", **context)


def revoke(inv: Invitation, by: User) -> None:
    _require_admin(inv.organisation, by)
    state = state_of(inv)
    if state is InvitationState.ACCEPTED:
        raise IllegalTransition(f"The invitation to {inv.email} has already been accepted.")
    if state is InvitationState.REVOKED:
        raise IllegalTransition(f"The invitation to {inv.email} was already revoked.")
    inv.revoked_at = utcnow()


# --- following the link ---------------------------------------------------------------------------------


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link names, if the link still works; otherwise InvitationRefused saying why."""
    try:
        data = read_token(TOKEN_SALT, token, int(current_app.config["INVITATION_MAX_AGE"]))
    except DomainError as exc:
        raise InvitationRefused(exc.message) from exc
    inv = db.session.get(Invitation, data.get("inv")) if isinstance(data, dict) else None
    if inv is None or inv.email != data.get("email"):
        raise InvitationRefused("This invitation is not valid. Ask the organisation to send a new one.")
    state = state_of(inv)
    org = inv.organisation.name
    if state is InvitationState.ACCEPTED:
        raise InvitationRefused(
            f"This invitation to join {org} has already been used. Each invitation works once.", inv
        )
    if state is InvitationState.REVOKED:
        raise InvitationRefused(f"This invitation to join {org} was withdrawn by the organisation.", inv)
    if state is InvitationState.EXPIRED:
        raise InvitationRefused(
            f"This invitation to join {org} has expired. Ask one of its admins to send a new one.", inv
        )
    return inv


def check_account(inv: Invitation, user: User) -> None:
    if user.email != inv.email:
        raise WrongAccount(
            f"This invitation was sent to {inv.email}, but you are signed in as {user.email}. "
            f"Sign out, then open the link again and sign in (or create an account) as {inv.email}.",
            inv,
        )


@dataclass(frozen=True)
class Acceptance:
    membership: Membership
    organisation: Organisation


def accept(inv: Invitation, user: User) -> Acceptance:
    """Join the organisation with the invited role. The invitation is used up, even under a double click."""
    check_account(inv, user)
    org = inv.organisation
    if user.membership_of(org.id) is not None:
        raise Conflict(f"You are already a member of {org.name}.")
    now = utcnow()
    # Conditional update: of two concurrent acceptances only one finds the row still unused.
    result = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == inv.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount != 1:
        raise InvitationRefused(f"This invitation to join {org.name} can no longer be used.", inv)
    db.session.refresh(inv)
    # The link reached this address, which proves it as a confirmation link would.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    membership = Membership(user=user, organisation=org, role=inv.role)
    db.session.add(membership)
    db.session.flush()
    return Acceptance(membership, org)


# --- roles and removal ----------------------------------------------------------------------------------


def change_role(m: Membership, by: User, role: MemberRole) -> None:
    _require_admin(m.organisation, by)
    if m.role is role:
        return
    if role is MemberRole.MEMBER and _is_last_admin(m):
        who = "You are" if m.user_id == by.id else f"{m.user.name} is"
        raise Conflict(
            f"{who} the only admin of {m.organisation.name}. Make someone else an admin first, "
            "so the organisation is never left without one."
        )
    m.role = role


def remove_member(m: Membership, by: User) -> None:
    _require_admin(m.organisation, by)
    if _is_last_admin(m):
        who = "You are" if m.user_id == by.id else f"{m.user.name} is"
        raise Conflict(
            f"{who} the only admin of {m.organisation.name} and cannot be removed. "
            "Make someone else an admin first."
        )
    org, user = m.organisation, m.user
    db.session.delete(m)
    db.session.flush()
    db.session.expire(org, ["memberships"])
    db.session.expire(user, ["memberships"])
