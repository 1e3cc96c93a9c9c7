"""Cross-cutting web behaviour: security headers, error pages, template helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map
from wtforms import Form

from foundation import navigation
from foundation.db_setup import database_busy
from foundation.errors import DomainError
from foundation.forms import DB_INT_MAX, DB_INT_MIN, has_control_characters
from foundation.types import LONDON

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def csp_with_form_action(*origins: str) -> str:
    """The site's policy, letting this page's forms also lead to the given origins (a form whose answer
    redirects to a payment provider's checkout: Chromium applies form-action to the redirect too)."""
    extra = " ".join(o for o in origins if o)
    return CSP.replace("form-action 'self'", f"form-action 'self' {extra}".rstrip())


# How long a "busy, try again" answer (503) asks the client to wait: about one lock timeout.
BUSY_RETRY_AFTER_SECONDS = 5


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of a page on the site's public address (BASE_URL), for every link that leaves the
    site: emails, calendar feeds, open data, API responses.

    Never from the request's Host header, which the client writes: a reset requested with `Host: evil.example`
    must not mail a link to evil.example. Works outside a request too (tasks, commands)."""
    base = urlsplit(current_app.config["BASE_URL"])
    current_app.inject_url_defaults(endpoint, values)
    anchor = values.pop("_anchor", None)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


URL_CACHE_SIZE = 20_000


def cached_url_for(endpoint: str, **values: Any) -> str:
    """`url_for` for templates, remembering each address it builds: a page links the same few dozen endpoints
    (the navigation on every page, a row's link per id), and building each again costs more than the lookup.

    Only plain relative addresses are kept (string and number arguments; `_anchor` is added afterwards): they
    depend on nothing but the endpoint, its arguments and where the site is mounted (SCRIPT_NAME), which is
    part of the key. Anything else (`_external`, `_method`, other values) goes to Flask's `url_for`."""
    anchor = values.pop("_anchor", None)
    if any(k.startswith("_") or type(v) not in (int, str) for k, v in values.items()):
        url = current_app.url_for(endpoint, **values)
    else:
        cache: dict[tuple[Any, ...], str] = current_app.extensions["url_cache"]
        key = (request.script_root if has_request_context() else None, endpoint, *sorted(values.items()))
        cached = cache.get(key)
        if cached is not None:
            url = cached
        else:
            url = current_app.url_for(endpoint, **values)
            if len(cache) >= URL_CACHE_SIZE:
                cache.clear()
            cache[key] = url
    return f"{url}#{anchor}" if anchor else url


def trusted_hosts(config: dict[str, Any]) -> list[str]:
    """The hosts this site answers to: the TRUSTED_HOSTS setting, or else the BASE_URL host and this machine."""
    if config.get("TRUSTED_HOSTS"):
        return list(config["TRUSTED_HOSTS"])
    public = urlsplit(config.get("BASE_URL") or "").hostname
    return [h for h in (public, "localhost", "127.0.0.1") if h]


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` limited to what a database integer holds: a larger number in a URL names nothing (404), where
    it would otherwise overflow the database driver (500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.min = DB_INT_MIN if self.min is None else max(self.min, DB_INT_MIN)
        self.max = DB_INT_MAX if self.max is None else min(self.max, DB_INT_MAX)


def init_app(app: Flask) -> None:
    # Before any blueprint is registered: each rule takes its converter when it is added.
    app.url_map.converters["int"] = DatabaseIntConverter
    if app.config.get("QUERY_COUNT_HEADER"):
        _count_queries(app)
    # A request naming any other Host answers 400 (Flask checks it before routing), so nothing built from the
    # request's address, a redirect or a link, can point elsewhere.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.extensions["url_cache"] = {}
    app.jinja_env.globals["url_for"] = cached_url_for
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies > 0:
        # Behind that many reverse proxies the client's address is in X-Forwarded-For; without this setting the
        # header is ignored, as any client can send it. Only the address is taken: Host and scheme are not.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # the documented way to wrap the WSGI app
            app.wsgi_app, x_for=proxies, x_proto=0, x_host=0, x_port=0, x_prefix=0
        )

    @app.after_request
    def private_pages_are_not_stored(response: Response) -> Response:
        # Whatever is sent to a signed-in person (their name, bookings, messages) must not stay in a shared or
        # back-button cache. Stylesheets and images are the same for everyone.
        if request.endpoint != "static" and current_user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    def render_error(status: int, title: str, message: str) -> ResponseReturnValue:
        if wants_json():
            return jsonify(error=title, message=message), status
        if isinstance(request.routing_exception, SecurityError):
            # A Host we do not serve: no page can be rendered, as no link can be built for it.
            return app.response_class(f"{title}: {message}\n", status=status, mimetype="text/plain")
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
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
    def domain_error(exc: DomainError) -> ResponseReturnValue:
        return render_error(exc.status_code, "Could not do that", exc.message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "Something went wrong", "An unexpected error happened. It has been logged.")

    @app.errorhandler(OperationalError)
    def database_gave_up(exc: OperationalError) -> ResponseReturnValue:
        """A lock or statement timeout: the row is busy (a long transaction elsewhere), nothing is wrong with the
        request. Roll back what this request did and ask for a retry; anything else is still a 500."""
        if not database_busy(exc):
            return unexpected(exc)
        from foundation.extensions import db

        db.session.rollback()
        g.database_busy = True
        log.warning("database busy on %s %s: %s", request.method, request.path, exc.orig)
        response = make_response(
            render_error(503, "Busy just now", "The site is busy just now. Please try again in a moment.")
        )
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def inject() -> dict[str, Any]:
        unread = 0
        nav: list[navigation.NavEntry] = []
        # current_user is None when templates render outside a request (emails rendered by workers); the busy page
        # asks the database nothing more.
        if current_user and current_user.is_authenticated and not g.get("database_busy"):
            from foundation.notifications.services import unread_count

            unread = unread_count(current_user)
            nav = navigation.entries()
        return {"unread_notifications": unread, "today": date.today(), "signed_in_nav": nav}

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
    """Only same-site relative paths: no scheme, no host, no protocol-relative or backslash tricks, and no control
    characters (a line break cannot go into the Location header, and the browser would drop a tab anyway); None
    means the caller's own default page."""
    if not target:
        return None
    target = target.strip()
    if has_control_characters(target):
        return None
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


def field_error(form: Form, exc: DomainError) -> None:
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


def submit_form(form: FlaskForm, action: Callable[[], Any]) -> FormOutcome:
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
    def _header(response: Response) -> Response:
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
