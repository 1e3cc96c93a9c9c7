"""Sign-in plumbing: Flask-Login setup and security logging (never passwords or tokens)."""

from __future__ import annotations

import logging

from flask import Flask, request

from foundation.extensions import db, login_manager

security_log = logging.getLogger("foundation.security")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):  # type: ignore[no-untyped-def]
        from foundation.members.models import User

        try:
            raw_id, raw_version = user_id.split(":", 1)
            uid, version = int(raw_id), int(raw_version)
        except ValueError:
            return None
        user = db.session.get(User, uid)
        # A password change or account closure bumps the version and so ends every other session.
        if user is None or user.session_version != version or user.closed_at is not None:
            return None
        return user


def client_address() -> str:
    return request.remote_addr or "-"


def log_event(event: str, **fields: object) -> None:
    detail = " ".join(f"{k}={v}" for k, v in fields.items())
    security_log.info("%s ip=%s %s", event, client_address(), detail)
