"""Engine-level settings per database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def configure_engine_events(engine: Engine) -> None:
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
