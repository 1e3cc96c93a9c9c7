"""Cross-cutting web behaviour: security headers, error pages, template helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from foundation.errors import DomainError
from foundation.types import LONDON

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    if app.config.get("QUERY_COUNT_HEADER"):
        _count_queries(app)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    def render_error(status: int, title: str, message: str) -> Any:
        if wants_json():
            return jsonify(error=title, message=message), status
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        titles = {
            400: ("Bad request", "The request could not be understood. Please check the form and try again."),
            403: ("Not allowed", "You do not have permission to do that."),
            404: ("Not found", "There is nothing here. It may have been moved, or you may not have access."),
            405: ("Method not allowed", "That action is not available here."),
            409: ("Conflict", "That clashes with something that already exists."),
            413: ("File too large", "The file is larger than the 10 MB limit."),
            422: ("Could not process", "Some of the information given could not be used."),
            429: ("Too many attempts", "Too many attempts. Please wait a few minutes and try again."),
        }
        title, message = titles.get(exc.code or 500, (exc.name, exc.description or ""))
        if isinstance(exc, CSRFError):
            title, message = "Form expired", "The form expired or was sent from elsewhere. Please try again."
        return render_error(exc.code or 500, title, message)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
        return render_error(exc.status_code, "Could not do that", exc.message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "Something went wrong", "An unexpected error happened. It has been logged.")

    @app.context_processor
    def inject() -> dict[str, Any]:
        unread = 0
        # current_user is None when templates render outside a request (emails rendered by workers)
        if current_user and current_user.is_authenticated:
            from foundation.notifications.services import unread_count

            unread = unread_count(current_user)
        return {"unread_notifications": unread, "today": date.today()}

    @app.template_filter("london")
    def london(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(LONDON).strftime(fmt)

    @app.template_filter("day")
    def day(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(LONDON).date()
        return value.strftime("%-d %b %Y")

    @app.template_filter("pounds")
    def pounds(pence: int | None) -> str:
        if pence is None:
            return ""
        sign = "-" if pence < 0 else ""
        pence = abs(pence)
        whole, part = divmod(pence, 100)
        return f"{sign}£{whole:,}" if part == 0 else f"{sign}£{whole:,}.{part:02d}"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or "\\" in target
    ):
        return None
    return target


def field_error(form, exc: DomainError) -> None:  # type: ignore[no-untyped-def]
    """Put a service's message at the field that caused it (or at the top of the form)."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)


# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Text for a CSV cell that a spreadsheet shows as text: a formula-like start gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass
class FormOutcome:
    """What became of a submitted form: `done` when the action ran and was committed."""

    done: bool
    status: int
    result: Any = None


def submit_form(form, action: Callable[[], Any]) -> FormOutcome:  # type: ignore[no-untyped-def]
    """The one way a view runs a form: validate, run the service, commit once, or show the error at its field.

    A first GET answers 200; invalid input 422 with messages at the fields; a refused action the domain error's
    status (422, 403, 409, 413...) with its message at the field named by the error, and nothing written.
    """
    from foundation.extensions import db

    if not form.validate_on_submit():
        return FormOutcome(False, 422 if form.is_submitted() else 200)
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return FormOutcome(False, exc.status_code)
    db.session.commit()
    return FormOutcome(True, 200, result)


def _count_queries(app: Flask) -> None:
    """Benchmark aid: report the number of SQL statements a request ran in an X-Query-Count header."""
    from sqlalchemy import event

    from foundation.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        if has_request_context():
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def _header(response):  # type: ignore[no-untyped-def]
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
