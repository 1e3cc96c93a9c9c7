"""Migration 0017 on SQLite and PostgreSQL, with payments already there: card payments already settled had their
fee read with their event, so they are marked recorded (the sweep leaves them alone); pledges and payments still
waiting are not; going back drops the column with every payment, and what refers to it, kept."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from foundation import create_app
from foundation.extensions import db
from tests.conftest import _base_config
from tests.fundraising.test_migration_0016 import _row
from tests.test_migrations import empty_database  # noqa: F401  (the fixture: an empty database of each kind)

SETTLED = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)


def _payment_columns(conn: sa.Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns("payment")}


def test_0017_marks_the_fees_already_read_and_goes_back(empty_database):  # noqa: F811
    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as conn:
            naive = conn.dialect.name == "sqlite"
            settled = SETTLED.replace(tzinfo=None) if naive else SETTLED

            def payment(provider: str, status: str, at: datetime | None) -> int:
                return _row(conn, "payment", provider=provider, status=status, amount_pence=2500, fee_pence=0,
                            purpose_type="donation", purpose_id=1, settled_at=at)  # fmt: skip

            card = payment("stripe", "succeeded", settled)
            refunded = payment("stripe", "refunded", settled)
            waiting = payment("stripe", "pending", None)
            pledge = payment("offline", "succeeded", settled)
            _row(conn, "payment_event", provider="stripe", event_id="evt_1", type="checkout.session.completed",
                 payment_id=card, outcome="succeeded")  # fmt: skip
        db.engine.dispose()

        upgrade(revision="0017")
        with db.engine.connect() as conn:
            recorded = dict(conn.execute(sa.text("SELECT id, fee_recorded_at FROM payment")).tuples().all())
            assert {pid for pid, at in recorded.items() if at is not None} == {card, refunded}
            assert recorded[waiting] is None and recorded[pledge] is None
            assert str(recorded[card]).startswith("2026-03-02 17:45")
        db.engine.dispose()

        downgrade(revision="0016")
        with db.engine.connect() as conn:
            assert "fee_recorded_at" not in _payment_columns(conn)
            assert conn.execute(sa.text("SELECT count(*) FROM payment")).scalar() == 4
            assert conn.execute(sa.text("SELECT payment_id FROM payment_event")).scalar() == card
            if naive:
                assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.engine.dispose()
