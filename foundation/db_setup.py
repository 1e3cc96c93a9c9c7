"""Engine-level settings per database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import Engine, event


def session_timeouts(config: Mapping[str, Any]) -> tuple[int, int]:
    """(lock_timeout, statement_timeout) in milliseconds for this process's PostgreSQL sessions; 0 is no limit.

    A web request gives up soon: a row held by a long transaction must not tie up every worker (and then the
    health check and public pages) while its requests wait. Celery workers and `flask` commands (migrations,
    seeding, which Flask marks with FLASK_RUN_FROM_CLI) do longer work nobody is waiting on in a browser.
    """
    profile = config.get("DB_TIMEOUT_PROFILE") or (
        "worker" if os.environ.get("FLASK_RUN_FROM_CLI") == "true" else "web"
    )
    if profile == "worker":
        return int(config["DB_WORKER_LOCK_TIMEOUT_MS"]), int(config["DB_WORKER_STATEMENT_TIMEOUT_MS"])
    return int(config["DB_LOCK_TIMEOUT_MS"]), int(config["DB_STATEMENT_TIMEOUT_MS"])


def configure_engine_events(engine: Engine, config: Mapping[str, Any] | None = None) -> None:
    if engine.dialect.name == "postgresql":
        _postgresql_timeouts(engine, *session_timeouts(current_app.config if config is None else config))
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let Python's sqlite3 leave transactions to us so BEGIN IMMEDIATE can take the write lock.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # A booking change asks for IMMEDIATE (foundation.venues.booking.begin_booking_transaction): the write
        # lock is taken before its clash check reads, so two bookers cannot both see the slot free.
        immediate = conn.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_timeouts(engine: Engine, lock_ms: int, statement_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _set_timeouts(dbapi_conn: Any, _record: Any) -> None:
        # Session settings, made once per pooled connection: they hold for every later transaction on it.
        with dbapi_conn.cursor() as cur:
            cur.execute(
                "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                (f"{lock_ms}ms", f"{statement_ms}ms"),
            )
        dbapi_conn.commit()


def database_busy(exc: BaseException) -> bool:
    """True when the database gave up waiting: PostgreSQL's lock_timeout (55P03) or statement_timeout (57014),
    or SQLite's busy_timeout ("database is locked"). Worth trying again in a moment; not a bug."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in {"55P03", "57014"}:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)


SQLITE_BEGIN_IMMEDIATE = "sqlite_begin_immediate"


def begin_write_transaction() -> None:
    """Start a transaction that holds the write lock before it checks anything (check-then-write services).

    On SQLite a plain BEGIN is deferred: two requests could both read "free" (or "budget left") and then both
    write. BEGIN IMMEDIATE takes the write lock first; the second request waits (busy_timeout) until the first
    commits and then sees its change. The transaction opened so far in this request has only read (loading the
    signed-in user), so it is ended here and a new one begun, with the option the begin listener turns into
    IMMEDIATE. Objects loaded so far are expired and reload inside the new transaction.

    On PostgreSQL nothing is needed here: services lock the rows they guard (SELECT ... FOR UPDATE).
    """
    from foundation.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin the write transaction before changing anything")
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={SQLITE_BEGIN_IMMEDIATE: True})


@contextmanager
def sqlite_foreign_keys_off(connection: sa.Connection, table: str) -> Iterator[None]:
    """For a migration rebuilding a SQLite table that other rows refer to, as SQLite's own procedure says
    (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off (which takes effect only outside a
    transaction; with them on, dropping the old table would delete or refuse the rows that refer to it), rebuild,
    check every reference still holds, commit, foreign keys back on."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding {table} broke references: {broken[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
