"""Migration 0020 on SQLite and PostgreSQL, with events already stored: they were applied as they arrived, so they
are marked applied when they were received and the worker leaves them alone; a new event waits for the worker in
the partial index; going back keeps every event and what applying it did, and refuses while one is waiting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from foundation import create_app
from foundation.extensions import db
from tests.conftest import _base_config
from tests.fundraising.test_migration_0016 import _row
from tests.test_migrations import empty_database  # noqa: F401  (the fixture: an empty database of each kind)

RECEIVED_AT = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)
NEW_COLUMNS = {"reported", "detail", "payment_reference", "status", "applied_at"}


def _event_columns(conn: sa.Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns("payment_event")}


def test_0020_marks_the_events_already_stored_applied_and_goes_back(empty_database):  # noqa: F811
    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision="0019")
        with db.engine.begin() as conn:
            naive = conn.dialect.name == "sqlite"
            received = RECEIVED_AT.replace(tzinfo=None) if naive else RECEIVED_AT
            card = _row(conn, "payment", provider="stripe", status="refunded", amount_pence=2500, fee_pence=0,
                        purpose_type="donation", purpose_id=1, payment_reference="pi_1")  # fmt: skip
            for n, (kind, outcome) in enumerate(
                [("checkout.session.completed", "succeeded"), ("charge.refunded", "refunded")], start=1
            ):
                _row(conn, "payment_event", provider="stripe", event_id=f"evt_{n}", type=kind, payment_id=card,
                     outcome=outcome, received_at=received)  # fmt: skip
        db.engine.dispose()

        upgrade(revision="0020")
        with db.engine.begin() as conn:
            assert _event_columns(conn) >= NEW_COLUMNS
            rows = conn.execute(
                sa.text("SELECT event_id, status, outcome, applied_at FROM payment_event ORDER BY id")
            ).all()
            assert [(r.event_id, r.status, r.outcome) for r in rows] == [
                ("evt_1", "applied", "succeeded"),
                ("evt_2", "applied", "refunded"),
            ]
            assert all(str(r.applied_at).startswith("2026-03-02 17:45") for r in rows)
            status = next(c for c in sa.inspect(conn).get_columns("payment_event") if c["name"] == "status")
            assert status["nullable"] is False
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("payment_event")}
            assert "ix_payment_event_received" in indexes
            # An event stored now waits for the worker; going back would strand it, so it is refused.
            _row(conn, "payment_event", provider="stripe", event_id="evt_3", type="charge.refunded",
                 payment_id=card, outcome="received", status="received", received_at=received)  # fmt: skip
        db.engine.dispose()

        with pytest.raises(
            SystemExit
        ):  # Flask-Migrate logs why ("1 payment events are stored ...") and exits
            downgrade(revision="0019")
        db.engine.dispose()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0020"
            assert _event_columns(conn) >= NEW_COLUMNS
            conn.execute(sa.text("UPDATE payment_event SET status = 'applied' WHERE event_id = 'evt_3'"))
        db.engine.dispose()

        downgrade(revision="0019")
        with db.engine.connect() as conn:
            assert not NEW_COLUMNS & _event_columns(conn)
            kept = conn.execute(
                sa.text("SELECT event_id, payment_id, outcome FROM payment_event ORDER BY id")
            ).all()
            assert [tuple(r) for r in kept] == [
                ("evt_1", card, "succeeded"),
                ("evt_2", card, "refunded"),
                ("evt_3", card, "received"),
            ]
            if naive:
                assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.engine.dispose()
