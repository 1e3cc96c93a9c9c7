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
        immediate = conn.get_execution_options().get("sqlite_begin_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
