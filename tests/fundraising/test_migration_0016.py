"""Migration 0016 on SQLite and PostgreSQL, with donations already there: each gets `happened_at` (when its money
arrived, or else when it was given), the staff lists' indexes appear, messages can record who decided, and going
back removes all of it with every row (and the Gift Aid claim item pointing at a donation) kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from foundation import create_app
from foundation.extensions import db
from tests.conftest import _base_config
from tests.test_migrations import empty_database  # noqa: F401  (the fixture: an empty database of each kind)

GIVEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 2, 17, 45, 12, 345678, tzinfo=UTC)
INDEXES = {
    "ix_donation_happened_at_id",
    "ix_donation_campaign_happened_at_id",
    "ix_donation_pending_happened_at",
    "ix_donation_message_waiting",
    "ix_donation_moderated_at",
}


def _row(conn: sa.Connection, table: str, **values: Any) -> int:
    """Insert a row with the given values, anything else the table requires filled with a plain value of its type
    (the tables as they are at this revision, read from the database)."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, sa.Boolean):
            row[column.name] = False
        elif isinstance(kind, sa.DateTime):
            row[column.name] = GIVEN.replace(tzinfo=None) if conn.dialect.name == "sqlite" else GIVEN
        elif isinstance(kind, sa.Date):
            row[column.name] = date(2026, 3, 1)
        elif isinstance(kind, sa.Integer):
            row[column.name] = 1
        else:
            row[column.name] = f"{table} {column.name}"[: getattr(kind, "length", None) or 200]
    if "id" not in reflected.c:
        conn.execute(reflected.insert().values(row))
        return 0
    return int(conn.execute(reflected.insert().values(row).returning(reflected.c.id)).scalar_one())


def _columns(conn: sa.Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns("donation")}


def test_0016_adds_when_each_donation_happened_and_who_moderated_and_goes_back(empty_database):  # noqa: F811
    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision="0015")
        with db.engine.begin() as conn:
            staff = _row(conn, "user", email="staff@example.org", name="Fay Funds", is_staff=True)
            org = _row(conn, "organisation", name="Calne Youth Project", status="approved")
            fund = _row(conn, "ledger_account", code="fund", name="Fund", kind="fund")
            campaign = _row(
                conn, "campaign", slug="c", status="live", lead_organisation_id=org, destination_id=fund,
                target_pence=1000, starts_on=date(2026, 3, 1), ends_on=date(2026, 4, 1),
            )  # fmt: skip
            naive = conn.dialect.name == "sqlite"

            def moment(value: datetime) -> datetime:
                return value.replace(tzinfo=None) if naive else value

            pledge = _row(conn, "donation", campaign_id=campaign, amount_pence=500, status="pending",
                          donor_name="P", donor_email="p@example.org", message_status="none",
                          created_at=moment(GIVEN))  # fmt: skip
            gift = _row(conn, "donation", campaign_id=campaign, amount_pence=700, status="succeeded",
                        donor_name="G", donor_email="g@example.org", message="Go!", message_status="shown",
                        created_at=moment(GIVEN), succeeded_at=moment(RECEIVED))  # fmt: skip
            claim = _row(conn, "gift_aid_claim", status="submitted", donations_pence=700, adjustment_pence=0)
            _row(conn, "gift_aid_claim_item", donation_id=gift, claim_id=claim, amount_pence=700)
        db.engine.dispose()

        upgrade(revision="0016")
        with db.engine.begin() as conn:
            assert {"happened_at", "moderated_by_id", "moderated_at"} <= _columns(conn)
            happened = dict(conn.execute(sa.text("SELECT id, happened_at FROM donation")).tuples().all())
            assert {i["name"] for i in sa.inspect(conn).get_indexes("donation")} >= INDEXES
            [moderator] = [
                fk for fk in sa.inspect(conn).get_foreign_keys("donation") if fk["constrained_columns"] == [
                    "moderated_by_id"]
            ]  # fmt: skip
            assert moderator["referred_table"] == "user"
            assert moderator["options"].get("ondelete") == "SET NULL"
            conn.execute(
                sa.text("UPDATE donation SET moderated_by_id = :u, moderated_at = :at WHERE id = :d"),
                {"u": staff, "at": moment(RECEIVED), "d": gift},
            )
            # The database keeps happened_at itself: a pledge received later moves to when its money arrived.
            conn.execute(
                sa.text("UPDATE donation SET status = 'succeeded', succeeded_at = :at WHERE id = :d"),
                {"at": moment(RECEIVED), "d": pledge},
            )
            moved = conn.execute(
                sa.text("SELECT happened_at FROM donation WHERE id = :d"), {"d": pledge}
            ).scalar()
            if naive:
                assert str(happened[pledge]).startswith("2026-03-01 09:30:00")
                assert str(happened[gift]).startswith("2026-03-02 17:45:12.345678")
                assert str(moved).startswith("2026-03-02 17:45:12.345678")
            else:
                assert happened == {pledge: GIVEN, gift: RECEIVED} and moved == RECEIVED
        db.engine.dispose()

        downgrade(revision="0015")
        with db.engine.connect() as conn:
            assert not {"happened_at", "moderated_by_id", "moderated_at"} & _columns(conn)
            assert not INDEXES & {i["name"] for i in sa.inspect(conn).get_indexes("donation")}
            assert conn.execute(sa.text("SELECT count(*) FROM donation")).scalar() == 2
            assert conn.execute(sa.text("SELECT donation_id FROM gift_aid_claim_item")).scalar() == gift
            if naive:
                assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.engine.dispose()

        upgrade(revision="0016")
        with db.engine.connect() as conn:
            assert {"happened_at", "moderated_by_id", "moderated_at"} <= _columns(conn)
            assert (
                conn.execute(sa.text("SELECT count(*) FROM donation WHERE happened_at IS NULL")).scalar() == 0
            )
            assert (
                conn.execute(
                    sa.text("SELECT moderated_by_id FROM donation WHERE id = :d"), {"d": gift}
                ).scalar()
                is None
            )
        db.engine.dispose()
