"""fundraising: when each donation happened, indexes for the staff lists, who moderated a message

Each donation gets `happened_at`, worked out by the database as coalesce(succeeded_at, created_at) (a stored
generated column, so the rows already there are filled now and every later writer keeps it right), indexed with
the id for the staff list's newest-first pages, for all donations and per campaign. Partial indexes cover what
waits for staff: pledges not yet paid and messages not yet decided. A donor's message records who showed or hid
it and when (moderated_by_id, moderated_at).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00

"""

from contextlib import contextmanager, nullcontext

import sqlalchemy as sa
from alembic import op

import foundation.types

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

HAPPENED_AT = "coalesce(succeeded_at, created_at)"
PENDING = "status = 'pending'"
MESSAGE_WAITING = "message_status = 'waiting' AND status = 'succeeded'"


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite adds neither a stored generated column nor a named foreign key to a table in place: the table is
    # rebuilt, rows and ids kept, with references to it checked afterwards.
    with (
        _sqlite_foreign_keys_off() if sqlite else nullcontext(),
        op.batch_alter_table("donation", recreate="always" if sqlite else "auto") as batch_op,
    ):
        batch_op.add_column(
            sa.Column(
                "happened_at",
                foundation.types.UTCDateTime(timezone=True),
                sa.Computed(HAPPENED_AT, persisted=True),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("moderated_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("moderated_at", foundation.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_donation_moderated_by_id_user"),
            "user",
            ["moderated_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_donation_happened_at_id", "donation", ["happened_at", "id"], unique=False)
    op.create_index(
        "ix_donation_campaign_happened_at_id", "donation", ["campaign_id", "happened_at", "id"], unique=False
    )
    op.create_index(
        "ix_donation_pending_happened_at",
        "donation",
        ["happened_at", "id"],
        unique=False,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_index(
        "ix_donation_message_waiting",
        "donation",
        ["succeeded_at", "id"],
        unique=False,
        sqlite_where=sa.text(MESSAGE_WAITING),
        postgresql_where=sa.text(MESSAGE_WAITING),
    )
    op.create_index(op.f("ix_donation_moderated_at"), "donation", ["moderated_at"], unique=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(op.f("ix_donation_moderated_at"), table_name="donation")
    op.drop_index("ix_donation_message_waiting", table_name="donation")
    op.drop_index("ix_donation_pending_happened_at", table_name="donation")
    op.drop_index("ix_donation_campaign_happened_at_id", table_name="donation")
    op.drop_index("ix_donation_happened_at_id", table_name="donation")
    with (
        _sqlite_foreign_keys_off() if sqlite else nullcontext(),
        op.batch_alter_table("donation", recreate="always" if sqlite else "auto") as batch_op,
    ):
        batch_op.drop_constraint(batch_op.f("fk_donation_moderated_by_id_user"), type_="foreignkey")
        batch_op.drop_column("moderated_at")
        batch_op.drop_column("moderated_by_id")
        batch_op.drop_column("happened_at")


@contextmanager
def _sqlite_foreign_keys_off():
    """Rebuilding a table other rows refer to (Gift Aid claim items name donations), as SQLite's own procedure
    says (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off (which takes effect only outside a
    transaction), rebuild, check every reference still holds, commit, foreign keys back on."""
    raw = op.get_bind().connection.driver_connection
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding donation broke references: {broken[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
