"""Migration 0025 on SQLite and PostgreSQL, over the demo data (entries with places, steps and fees): going back
keeps every entry, place and step (SQLite rebuilds the tables with their references checked, never cascading),
turns an entry waiting for its fee into one waiting for approval with a step saying why, and coming forward again
gives every entry a fee of nothing."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from foundation import create_app
from foundation.extensions import db
from tests.conftest import _base_config
from tests.test_migrations import empty_database  # noqa: F401  (the fixture: an empty database of each kind)

COUNTS = {
    "entries": "SELECT count(*) FROM event_registration",
    "places": "SELECT count(*) FROM event_registration_place",
    "steps": "SELECT count(*) FROM event_registration_step",
    "payments": "SELECT count(*) FROM payment",
    "donations": "SELECT count(*) FROM donation",
}


def _counts(conn: sa.Connection) -> dict[str, int]:
    return {name: int(conn.execute(sa.text(sql)).scalar_one()) for name, sql in COUNTS.items()}


def test_0025_goes_back_and_forward_over_entries_with_fees(empty_database):  # noqa: F811
    from foundation.seed import seed

    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        list(seed())
        db.session.remove()
        with db.engine.connect() as conn:
            before = _counts(conn)
            waiting = (
                conn.execute(sa.text("SELECT id FROM event_registration WHERE status = 'awaiting_payment'"))
                .scalars()
                .all()
            )
            paid = conn.execute(
                sa.text("SELECT count(*) FROM event_registration WHERE payment_id IS NOT NULL")
            ).scalar_one()
        assert waiting, "the demo has an entry waiting for its fee"
        assert paid >= 2
        db.engine.dispose()

        downgrade(revision="0024")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("event_registration")}
            assert not {"fee_pence", "payment_id", "pay_by", "refund_due"} & columns
            assert "refund_requested_at" not in {c["name"] for c in sa.inspect(conn).get_columns("payment")}
            after = _counts(conn)
            assert after == {**before, "steps": before["steps"] + len(waiting)}
            statuses = (
                conn.execute(
                    sa.text("SELECT status FROM event_registration WHERE id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": waiting},
                )
                .scalars()
                .all()
            )
            assert statuses == ["pending_approval"] * len(waiting)
            note = conn.execute(
                sa.text(
                    "SELECT note FROM event_registration_step WHERE registration_id = :id "
                    "AND to_status = 'pending_approval' AND from_status = 'awaiting_payment'"
                ),
                {"id": waiting[0]},
            ).scalar_one()
            assert "wait for the organiser again" in note
        db.engine.dispose()

        upgrade()
        with db.engine.connect() as conn:
            assert _counts(conn) == after
            fees = conn.execute(
                sa.text("SELECT DISTINCT fee_pence, refund_due FROM event_registration")
            ).all()
            assert [(int(f), bool(r)) for f, r in fees] == [(0, False)]
        db.engine.dispose()
