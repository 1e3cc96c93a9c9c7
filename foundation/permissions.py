"""Who may do what, expressed once.

Roles: anonymous, member of an organisation (member or admin), panel reviewer, foundation staff.
Another organisation's private object answers 404, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar, cast

from flask import abort
from flask_login import current_user, login_required

from foundation.auth import log_event
from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, User

P = ParamSpec("P")
R = TypeVar("R")


def signed_in_user() -> User:
    """The signed-in person as the User it is (flask-login's current_user is an untyped proxy). Only for views
    that require a sign-in."""
    return cast(User, current_user._get_current_object())


def deny(status: int = 403, why: str = "") -> NoReturn:
    uid = current_user.id if current_user.is_authenticated else "-"
    log_event("permission_denied", user=uid, status=status, why=why)
    abort(status)


def staff_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_staff:
            deny(403, "staff only")
        return view(*args, **kwargs)

    return wrapped


def panel_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not (current_user.is_panel_reviewer or current_user.is_staff):
            deny(403, "panel only")
        return view(*args, **kwargs)

    return wrapped


def can_see_organisation_private(user: Any, org: Organisation) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.membership_of(org.id) is not None))


def can_manage_organisation(user: Any, org: Organisation) -> bool:
    if not user.is_authenticated:
        return False
    m = user.membership_of(org.id)
    return m is not None and m.role is MemberRole.ADMIN


def organisation_for(org_id: int, admin: bool = False, staff_ok: bool = True) -> Organisation:
    """Load an organisation the current user belongs to (as admin if asked) or 404.

    Staff may read any organisation; only the organisation's own admins manage it.
    """
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    member = current_user.membership_of(org.id)
    if member is None and not (staff_ok and current_user.is_staff):
        deny(404, f"organisation {org_id} not theirs")
    if admin and not can_manage_organisation(current_user, org):
        if member is None and not current_user.is_staff:
            deny(404, f"organisation {org_id} not theirs")
        deny(403, f"not an admin of organisation {org_id}")
    return org
