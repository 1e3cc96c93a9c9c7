"""Fixtures: every test that uses `app` runs on SQLite and again on PostgreSQL.

PostgreSQL is used when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432; each pytest process
creates its own database there and drops it at the end, so parallel runs never see each other's rows.
With REQUIRE_ALL_BACKENDS=1 (CI) a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import contextvars
import email
import inspect
import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket

from config import TestConfig
from foundation import create_app
from foundation.extensions import db as _db
from tests.payments.stripe_standin import stripe_standin  # noqa: F401  (a fixture for every test that pays)

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REQUIRE_ALL = os.environ.get("REQUIRE_ALL_BACKENDS") == "1"


def _share_url_builders() -> None:
    """Let every application of this process share Werkzeug's generated URL builders.

    Creating an application compiles two small Python functions per route (to build its URLs with and without
    extra query arguments): three quarters of `create_app`'s time, and the suite creates an application for
    nearly every test. The code generated depends only on the rule's parsed parts, and the function looks up the
    rule's own converters when called, so one compiled function serves every application's copy of the rule.
    Rules with defaults (whose values are folded into the code through their converters) are compiled as usual,
    and so is everything if this Werkzeug's builder is not the one described here.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or list(inspect.signature(compile_builder).parameters) != [
        "self",
        "append_unknown",
    ]:
        return
    built: dict[tuple[object, ...], object] = {}

    def _compile_builder(self: Rule, append_unknown: bool = True) -> object:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = _compile_builder  # type: ignore[method-assign]


_share_url_builders()


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
        folder = _memory_folder() or tmp_path_factory.mktemp("sqlite")
        url = f"sqlite:///{folder / 'test.db'}"
        _create_schema(url)
        yield url
        if folder.parent == SHM:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin_url = _pg_admin_url()
    if admin_url is None:
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432 and TEST_DATABASE_URL is not set")
    name = f"wypf_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A throwaway database: a commit need not wait for the disk (visibility and locking are unchanged).
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _create_schema(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


SHM = Path("/dev/shm")


def _memory_folder() -> Path | None:
    """A folder in memory (tmpfs) for the SQLite test database, where a commit does not wait for the disk; None
    where the machine has no /dev/shm."""
    if not (SHM.is_dir() and os.access(SHM, os.W_OK)):
        return None
    return Path(tempfile.mkdtemp(prefix="wypf-test-", dir=SHM))


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


def settings_for(database_url: str, folder: Path) -> dict:
    """The test settings on one database, with mail and uploads kept under `folder`."""
    return {
        **_base_config(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_FOLDER": str(folder / "mail"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "SERVER_NAME": None,
    }


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Override in a test module (or update in a test before `app` is used) to change settings."""
    return settings_for(database_url, tmp_path)


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


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates, kept in memory for every test application of this process (with the same Jinja
    settings), so each template is compiled once per process rather than once per test. Jinja keeps each
    template's source checksum with its code and compiles a changed template again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_template_code: dict[tuple[object, ...], _SharedTemplateCode] = {}


def _compiled_alike(env: Environment) -> tuple[object, ...]:
    """The settings of a Jinja environment that shape the code it compiles a template to."""
    autoescape = getattr(env.autoescape, "__func__", env.autoescape)
    return (
        type(env),
        env.code_generator_class,
        autoescape,
        env.finalize,
        env.optimized,
        env.is_async,
        tuple((name, type(ext)) for name, ext in sorted(env.extensions.items())),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
    )


def make_test_app(config: dict) -> Flask:
    app = create_app(config)
    app.test_client_class = IsolatedClient
    env = app.jinja_env
    env.bytecode_cache = _template_code.setdefault(_compiled_alike(env), _SharedTemplateCode())
    return app


@pytest.fixture
def app(app_config: dict) -> Iterator:
    app = make_test_app(app_config)
    with app.app_context():
        yield app
        _db.session.remove()
        clear_tables()
        _db.engine.dispose()


def clear_tables(conn: sa.Connection | None = None) -> None:
    """Empty every table, and on PostgreSQL start every sequence used since again, as TRUNCATE ... RESTART
    IDENTITY would. DELETE is used there too: a few rows go at once, where TRUNCATE makes new files for every
    table and index (over a second per test). Runs in `conn`'s transaction when given, else in its own."""
    if conn is None:
        with _db.engine.begin() as conn:
            clear_tables(conn)
        return
    if conn.dialect.name == "postgresql":
        deletes = "".join(f'DELETE FROM "{t.name}";' for t in reversed(_db.metadata.sorted_tables))
        conn.exec_driver_sql(
            deletes + "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))::regclass,"
            " start_value, false) FROM pg_sequences WHERE last_value IS NOT NULL"
        )
    else:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


class DatabaseSnapshot:
    """What a test world consists of, taken once it is built: every table's rows, the PostgreSQL sequences'
    positions, and the files under the upload folder.

    `restore()` puts all of it back in one transaction, ids included, so ids and addresses saved with the world
    name the same objects again. Building a world of a few hundred rows through the services takes a second or
    more; putting it back takes a few hundredths, so a module can build its world once and give every test that
    world exactly as it was built. Use it inside the application's context.
    """

    def __init__(self, upload_folder: Path) -> None:
        self.uploads = upload_folder
        self.tables = [
            (table, [c for c in table.columns if c.computed is None]) for table in _db.metadata.sorted_tables
        ]
        with _db.engine.connect() as conn:
            self.rows = {
                table.name: [dict(row) for row in conn.execute(sa.select(*columns)).mappings()]
                for table, columns in self.tables
            }
            self.sequences = (
                conn.execute(
                    sa.text(
                        "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value,"
                        " start_value FROM pg_sequences"
                    )
                ).all()
                if conn.dialect.name == "postgresql"
                else []
            )
        self.files = {
            path.relative_to(upload_folder): path.read_bytes()
            for path in sorted(upload_folder.rglob("*"))
            if path.is_file()
        }

    def restore(self) -> None:
        from foundation.venues.search import forget_towns

        _db.session.remove()
        with _db.engine.begin() as conn:
            clear_tables(conn)
            for table, _ in self.tables:
                if self.rows[table.name]:
                    conn.execute(sa.insert(table), self.rows[table.name])
            if self.sequences:
                positions = {}
                for i, (name, last, start) in enumerate(self.sequences):
                    positions |= {
                        f"s{i}": name,
                        f"v{i}": start if last is None else last,
                        f"c{i}": last is not None,
                    }
                calls = ", ".join(f"setval(:s{i}, :v{i}, :c{i})" for i in range(len(self.sequences)))
                conn.execute(sa.text(f"SELECT {calls}"), positions)
        shutil.rmtree(self.uploads, ignore_errors=True)
        for relative, data in self.files.items():
            (self.uploads / relative).parent.mkdir(parents=True, exist_ok=True)
            (self.uploads / relative).write_bytes(data)
        # The towns venue search offers are kept per application: read them again from the restored venues.
        forget_towns()


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
