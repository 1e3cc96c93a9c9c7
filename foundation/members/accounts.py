"""Accounts: registration, email confirmation, sign-in, password reset, email and password changes."""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from foundation.auth import end_sessions
from foundation.db_setup import begin_write_transaction
from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import email_address, notify
from foundation.types import utcnow
from foundation.web import external_url

# A hash to compare against when the email is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(salt: str, payload: Any) -> str:
    return _serializer(salt).dumps(payload)


def read_token(salt: str, token: str, max_age: int) -> Any:
    """Return the payload, or raise DomainError saying whether the link expired or is broken."""
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise DomainError("This link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise DomainError("This link is not valid. Check you copied all of it.") from exc


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


class Registration(NamedTuple):
    """What a sign-up did: for the security log only, as the person is answered the same either way."""

    user: User | None  # the new account, or the one that already had the address (None if closed)
    created: bool


def register_user(name: str, email: str, password: str) -> Registration:
    """Create an account and send its confirmation link; if the address already has an account, tell its owner
    instead (with a reset link). The caller answers both alike, so sign-up does not reveal who has an account."""
    email = email.strip().lower()
    # Hashed whichever way it goes, so the answer takes as long for an address that has an account.
    password_hash = hash_password(password)
    # SQLite: the lookup waits for a sign-up in progress, then sees its account.
    begin_write_transaction()
    existing = find_user_by_email(email)
    if existing is None:
        user = User(name=name.strip(), email=email, password_hash=password_hash)
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:
            # PostgreSQL: another sign-up with the address (a double click) committed between lookup and insert.
            existing = find_user_by_email(email)
        else:
            send_confirmation(user)
            return Registration(user, created=True)
    if existing is None or existing.closed_at is not None:
        return Registration(None, created=False)
    notify(
        existing,
        NotificationKind.ACCOUNT_SECURITY,
        "Someone tried to create an account with your email address",
        "sign_up_attempt",
        in_inbox=False,
        reset_url=reset_url(existing),
    )
    return Registration(existing, created=False)


def send_confirmation(user: User) -> None:
    token = make_token("confirm-email", {"uid": user.id, "email": user.email})
    notify(
        user,
        NotificationKind.ACCOUNT_SECURITY,
        "Confirm your email address",
        "confirm_email",
        in_inbox=False,
        confirm_url=external_url("members.confirm_email", token=token),
    )


def confirm_email(token: str) -> User:
    data = read_token("confirm-email", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or user.closed_at is not None:
        raise DomainError("This link is not valid any more.")
    if user.email != data.get("email"):
        raise DomainError("This link was for an email address that is no longer on the account.")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None or user.closed_at is not None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def record_sign_in(user_id: int) -> User:
    """Stamp the sign-in, in a transaction that holds the write lock first.

    The password check above only reads; on SQLite a read transaction that then writes fails with "database is
    locked" when another sign-in committed in between, so the write gets its own transaction.
    """
    begin_write_transaction()
    user = db.session.get(User, user_id)
    if user is None or user.closed_at is not None:
        raise DomainError("This account is closed.", field="email")
    user.last_login_at = utcnow()
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; say nothing either way (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or user.closed_at is not None:
        return
    notify(
        user,
        NotificationKind.ACCOUNT_SECURITY,
        "Reset your password",
        "reset_password",
        in_inbox=False,
        reset_url=reset_url(user),
    )


def reset_url(user: User) -> str:
    # The current hash is part of the token, so the link works once: a new password invalidates it.
    token = make_token("reset-password", {"uid": user.id, "h": user.password_hash[-16:]})
    return external_url("members.reset_password", token=token)


def user_for_reset_token(token: str) -> User:
    data = read_token("reset-password", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or user.closed_at is not None or user.password_hash[-16:] != data.get("h"):
        raise DomainError("This link has already been used. Ask for a new one.")
    return user


def set_password(user: User, password: str, reason: str = "changed", keep_session: int | None = None) -> None:
    """Set a new password and end every sign-in of the account but `keep_session` (the device that changed it)."""
    user.password_hash = hash_password(password)
    end_sessions(user, keep=keep_session)
    notify(
        user,
        NotificationKind.ACCOUNT_SECURITY,
        "Your password was changed",
        "password_changed",
        reason=reason,
    )


def check_password(user: User, password: str, field: str = "current_password") -> None:
    if not check_password_hash(user.password_hash, password):
        raise DomainError("That is not your current password.", field=field)


def change_password(user: User, current: str, new: str, keep_session: int | None = None) -> None:
    check_password(user, current)
    set_password(user, new, keep_session=keep_session)


def request_email_change(user: User, new_email: str, current_password: str) -> None:
    check_password(user, current_password)
    new_email = new_email.strip().lower()
    if new_email == user.email:
        raise DomainError("That is already your email address.", field="email")
    if find_user_by_email(new_email) is not None:
        raise Conflict("Another account already uses that email address.", field="email")
    token = make_token("change-email", {"uid": user.id, "old": user.email, "new": new_email})
    email_address(
        new_email,
        NotificationKind.ACCOUNT_SECURITY,
        "Confirm your new email address",
        "confirm_new_email",
        user=user,
        confirm_url=external_url("members.confirm_email_change", token=token),
        new_email=new_email,
    )


def confirm_email_change(token: str) -> User:
    data = read_token("change-email", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or user.closed_at is not None or user.email != data.get("old"):
        raise DomainError("This link is not valid any more.")
    new_email = data["new"]
    if find_user_by_email(new_email) is not None:
        raise Conflict("Another account now uses that email address.")
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    # The old address is told, so a hijacked account is noticed.
    email_address(
        old_email,
        NotificationKind.ACCOUNT_SECURITY,
        "Your email address was changed",
        "email_changed",
        user=user,
        old_email=old_email,
        new_email=new_email,
    )
    return user
