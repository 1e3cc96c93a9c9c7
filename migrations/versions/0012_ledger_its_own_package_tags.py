"""ledger: its own package; a transaction's round and grant become tags

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:50:00

The ledger serves every capability that moves money, so its transactions no longer point at grant rounds and
grants. What a transaction concerns is a tag ("round:3", "grant:9"), one row each in ledger_transaction_tag; the
round_id and grant_id columns are copied into tags and dropped.
"""

from contextlib import contextmanager, nullcontext

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_transaction_tag",
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_transaction_tag_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("tag", "transaction_id", name=op.f("pk_ledger_transaction_tag")),
    )
    op.create_index(
        op.f("ix_ledger_transaction_tag_transaction_id"),
        "ledger_transaction_tag",
        ["transaction_id"],
        unique=False,
    )
    op.execute(
        "INSERT INTO ledger_transaction_tag (tag, transaction_id) "
        "SELECT 'round:' || CAST(round_id AS VARCHAR(20)), id FROM ledger_transaction WHERE round_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO ledger_transaction_tag (tag, transaction_id) "
        "SELECT 'grant:' || CAST(grant_id AS VARCHAR(20)), id FROM ledger_transaction WHERE grant_id IS NOT NULL"
    )
    op.drop_index(op.f("ix_ledger_transaction_round_id"), table_name="ledger_transaction")
    op.drop_index(op.f("ix_ledger_transaction_grant_id"), table_name="ledger_transaction")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild_without_links()
    else:
        op.drop_constraint(
            "fk_ledger_transaction_round_id_grant_round", "ledger_transaction", type_="foreignkey"
        )
        op.drop_constraint(
            "fk_ledger_transaction_grant_id_grant_award", "ledger_transaction", type_="foreignkey"
        )
        op.drop_column("ledger_transaction", "round_id")
        op.drop_column("ledger_transaction", "grant_id")


def _sqlite_rebuild_without_links():
    """SQLite cannot drop a column that is part of a foreign key: rebuild the table without the two, in place, rows
    and ids kept."""
    with (
        _sqlite_foreign_keys_off(),
        op.batch_alter_table("ledger_transaction", recreate="always") as batch_op,
    ):
        batch_op.drop_constraint("fk_ledger_transaction_round_id_grant_round", type_="foreignkey")
        batch_op.drop_constraint("fk_ledger_transaction_grant_id_grant_award", type_="foreignkey")
        batch_op.drop_column("round_id")
        batch_op.drop_column("grant_id")


@contextmanager
def _sqlite_foreign_keys_off():
    """Rebuilding a table other rows refer to, as SQLite's own procedure says
    (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off (which takes effect only outside a
    transaction), rebuild, check every reference still holds, commit, foreign keys back on."""
    raw = op.get_bind().connection.driver_connection
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding ledger_transaction broke references: {broken[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _sqlite_foreign_keys_off() if sqlite else nullcontext(),
        op.batch_alter_table("ledger_transaction", recreate="always" if sqlite else "auto") as batch_op,
    ):
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("grant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_ledger_transaction_round_id_grant_round", "grant_round", ["round_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_ledger_transaction_grant_id_grant_award", "grant_award", ["grant_id"], ["id"]
        )
        batch_op.create_index("ix_ledger_transaction_round_id", ["round_id"], unique=False)
        batch_op.create_index("ix_ledger_transaction_grant_id", ["grant_id"], unique=False)
    for column in ("round", "grant"):
        op.execute(
            f"UPDATE ledger_transaction SET {column}_id = (SELECT MIN(CAST(SUBSTR(t.tag, 7) AS INTEGER)) "
            f"FROM ledger_transaction_tag t WHERE t.transaction_id = ledger_transaction.id "
            f"AND t.tag LIKE '{column}:%')"
        )
    op.drop_index(op.f("ix_ledger_transaction_tag_transaction_id"), table_name="ledger_transaction_tag")
    op.drop_table("ledger_transaction_tag")
