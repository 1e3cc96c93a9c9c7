"""Fixtures: every test that uses `app` runs on SQLite and again on PostgreSQL.

PostgreSQL is used when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432; each pytest process
creates its own database there and drops it at the end, so parallel runs never see each other's rows.
With REQUIRE_ALL_BACKENDS=1 (CI) a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import contextvars
import email
import os
import re
import socket
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from config import TestConfig
from foundation import create_app
from foundation.extensions import db as _db
from tests.payments.stripe_standin import stripe_standin  # noqa: F401  (a fixture for every test that pays)

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REQUIRE_ALL = os.environ.get("REQUIRE_ALL_BACKENDS") == "1"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked postgres_only (or sqlite_only) runs on that database alone: its other run is not collected,
    rather than collected and skipped, so a skip in the summary always means a missing service."""
    keep, drop = [], []
    for item in items:
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("database_url")
        if (item.get_closest_marker("postgres_only") and backend == "sqlite") or (
            item.get_closest_marker("sqlite_only") and backend == "postgresql"
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _pg_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return PG_DEFAULT if port_open("127.0.0.1", 5432) else None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite:///{path}"
        _create_schema(url)
        yield url
        return
    admin_url = _pg_admin_url()
    if admin_url is None:
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432 and TEST_DATABASE_URL is not set")
    name = f"wypf_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _create_schema(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _create_schema(url: str) -> None:
    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if url.startswith("postgresql"):
            _db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            _db.session.commit()
        _db.create_all()
        _db.engine.dispose()


def _base_config() -> dict:
    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Override in a test module (or update in a test before `app` is used) to change settings."""
    return {
        **_base_config(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SERVER_NAME": None,
    }


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, `g` and DB session.

    Without this, requests would share the test's pushed app context (and Flask-Login's cached user in `g`).
    The test's own session is committed first so the request sees what the test built, and the test sees the
    request's writes on its next access (commit expires every loaded object).
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            _db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(app_config: dict) -> Iterator:
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        _db.session.remove()
        _truncate()
        _db.engine.dispose()


def _truncate() -> None:
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def request_context(app) -> Iterator[None]:
    """A request context for services called directly: their messages carry links built with url_for."""
    with app.test_request_context("/"):
        yield


class Mailbox:
    """Messages the embedded mailer wrote to the mail folder, oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        if not self.folder.exists():
            return []
        files = sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in files]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, (
            f"no email to {address}; have: {[m['To'] + ': ' + m['Subject'] for m in self.messages()]}"
        )
        return found[-1]


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def link_in(msg: EmailMessage, path_fragment: str) -> str:
    """The first link in the message whose path contains the fragment, as a path for the test client."""
    for url in re.findall(r"https?://[^\s<>\"]+", text_of(msg)):
        if path_fragment in url:
            return re.sub(r"^https?://[^/]+", "", url)
    raise AssertionError(f"no link with {path_fragment!r} in: {text_of(msg)}")


@pytest.fixture
def mailbox(app_config: dict) -> Mailbox:
    return Mailbox(Path(app_config["MAIL_FOLDER"]))
