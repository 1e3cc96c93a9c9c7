"""Sign-in plumbing: Flask-Login setup, server-side sign-ins, and security logging (never passwords or tokens).

Every sign-in is a UserSession row. The session cookie (and the remember-me cookie, which Flask-Login writes from
the same value) carries the row's random token; the row keeps only its hash. A request is signed in while its
row is neither revoked nor older than REMEMBER_COOKIE_DAYS, so signing out, a password change or closing the
account ends a sign-in on the server, and a copied cookie stops working with it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from foundation.db_setup import begin_write_transaction
from foundation.extensions import db, login_manager
from foundation.members.models import User, UserSession
from foundation.navigation import figure_columns
from foundation.navigation import remember as remember_nav_figures
from foundation.notifications.models import Notification
from foundation.notifications.services import remember_unread_count
from foundation.types import utcnow

security_log = logging.getLogger("foundation.security")
log = logging.getLogger(__name__)

# last_seen_at is written at most this often per sign-in: a write on every page would queue every signed-in
# request behind SQLite's single writer.
LAST_SEEN_EVERY = timedelta(minutes=5)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(app.config["REMEMBER_COOKIE_DAYS"]))

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        return _user_for_token(token)

    @app.after_request
    def note_last_seen(response: Any) -> Any:
        seen = g.get("user_session_seen")
        if seen is None or utcnow() - seen < LAST_SEEN_EVERY or response.is_streamed:
            return response
        try:
            # The view has committed what it meant to keep; this small write gets a transaction of its own.
            db.session.rollback()
            db.session.execute(
                sa.update(UserSession)
                .where(UserSession.id == g.user_session_id)
                .values(last_seen_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("could not note when sign-in %s was last seen", g.user_session_id, exc_info=True)
        return response


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=int(current_app.config["REMEMBER_COOKIE_DAYS"]))


def _user_for_token(token: str) -> User | None:
    # The navigation shows the unread count on every page: read with the sign-in, not by a query of its own.
    unread = (
        sa.select(sa.func.count(Notification.id))
        .where(
            Notification.user_id == User.id, Notification.in_inbox.is_(True), Notification.read_at.is_(None)
        )
        .correlate(User)
        .scalar_subquery()
    )
    figures = figure_columns()
    row = db.session.execute(
        sa.select(UserSession, User, unread, *figures)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == _digest(token),
            UserSession.revoked_at.is_(None),
            UserSession.created_at > utcnow() - _lifetime(),
            User.closed_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    user_session: UserSession = row[0]
    user: User = row[1]
    unread_count, *nav_figures = row[2:]
    remember_nav_figures(nav_figures)
    g.user_session_id = user_session.id
    g.user_session_seen = user_session.last_seen_at
    remember_unread_count(user, int(unread_count or 0))
    return user


def current_session_id() -> int | None:
    """The UserSession this request is signed in with, if any."""
    session_id: int | None = g.get("user_session_id")
    return session_id


def open_session(user: User, device: str = "") -> tuple[UserSession, str]:
    """Record a new sign-in and return it with its token, which exists nowhere else; the caller commits."""
    token = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, token_hash=_digest(token), user_agent=device)
    db.session.add(row)
    db.session.flush()
    return row, token


def sign_in(user: User, remember: bool = False) -> None:
    """Start a sign-in on this device; the caller commits (before that, the cookie's token opens nothing)."""
    row, token = open_session(user, device_summary(request.user_agent.string))
    login_user(user, remember=remember, duration=_lifetime())
    # Flask-Login keeps user.get_id() here and writes the remember-me cookie from it: the token instead.
    session["_user_id"] = token
    g.user_session_id = row.id


def sign_out() -> None:
    """End this device's sign-in on the server, so a copy of its cookies opens nothing, and clear the cookies.

    Commits: signing out is a transaction of its own."""
    session_id = current_session_id()
    if session_id is not None:
        begin_write_transaction()
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    logout_user()
    g.pop("user_session_seen", None)


def end_sessions(user: User, keep: int | None = None) -> None:
    """Revoke every sign-in of the user but `keep` (this device's, after a password change); the caller commits."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    db.session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_summary(user_agent: str) -> str:
    """A short name for the device, e.g. "Firefox on Windows": enough to recognise a sign-in, not to single anyone
    out."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def client_address() -> str:
    return request.remote_addr or "-"


def log_event(event: str, **fields: object) -> None:
    detail = " ".join(f"{k}={v}" for k, v in fields.items())
    security_log.info("%s ip=%s %s", event, client_address(), detail)
