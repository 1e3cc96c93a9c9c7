"""The migrations build the same schema as the models, on SQLite and on PostgreSQL, and upgrade/downgrade cleanly."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from foundation import create_app
from foundation.extensions import db
from tests.conftest import _base_config, _pg_admin_url, skip_or_fail


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin_url = _pg_admin_url()
    if admin_url is None:
        skip_or_fail("PostgreSQL is not reachable")
    name = f"wypf_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models_and_round_trip(empty_database):
    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade()
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        assert {"user", "organisation", "notification", "venue", "space_occupancy"} <= tables
        if db.engine.dialect.name == "postgresql":
            # compare_metadata does not see exclusion constraints: check the one that forbids double booking.
            with db.engine.connect() as conn:
                kinds = (
                    conn.execute(
                        sa.text(
                            "SELECT contype FROM pg_constraint WHERE conname = 'space_occupancy_no_overlap'"
                        )
                    )
                    .scalars()
                    .all()
                )
            assert kinds == ["x"]
        db.engine.dispose()


def test_scorecard_totals_are_filled_from_the_grants_already_decided(empty_database):
    """0007 works the stored totals out of the grants decided before it, as the application does afterwards."""
    from foundation.grants.models import GrantRound, ScorecardTotal
    from foundation.grants.scorecard import computed_totals, stored_totals
    from foundation.seed import seed

    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        list(seed())
        round_ids = list(db.session.scalars(sa.select(GrantRound.id)))
        expected = computed_totals(round_ids)
        assert any(row["grants"] for row in expected), "the demo data decides rounds with grants"
        db.session.remove()

        downgrade(revision="0006")
        upgrade()

        def key(row):
            return (row["round_id"], row["dimension"].value, row["name"])

        assert sorted(stored_totals(round_ids), key=key) == sorted(expected, key=key)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScorecardTotal)) == len(expected)
        db.session.remove()
        db.engine.dispose()


def test_the_rounds_and_grants_of_ledger_transactions_become_tags_and_back(empty_database):
    """0012 turns each transaction's round and grant into tags, rows and ids kept; going back restores them."""
    from foundation.ledger.models import LedgerTag
    from foundation.seed import seed

    app = create_app({**_base_config(), "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        list(seed())
        # Campaigns' tags came after 0012 and go with their tables when it is undone; rounds' and grants' return.
        grant_tags = sa.select(LedgerTag.transaction_id, LedgerTag.tag).where(
            sa.or_(LedgerTag.tag.like("round:%"), LedgerTag.tag.like("grant:%"))
        )
        tags = set(db.session.execute(grant_tags).tuples())
        transactions = db.session.scalar(sa.text("SELECT count(*) FROM ledger_transaction"))
        assert {tag.split(":")[0] for _, tag in tags} == {"round", "grant"}
        db.session.remove()

        downgrade(revision="0011")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, round_id, grant_id FROM ledger_transaction")).all()
        linked = {(i, f"round:{r}") for i, r, _ in rows if r} | {(i, f"grant:{g}") for i, _, g in rows if g}
        assert linked == tags and len(rows) == transactions

        upgrade()
        assert set(db.session.execute(grant_tags).tuples()) == tags
        if db.engine.dialect.name == "sqlite":
            # The rebuild turned foreign keys off for itself only.
            assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.remove()
        db.engine.dispose()
