"""payments: the webhook inbox

A provider's event is stored with what it reports (the outcome, the provider's reason, its payment reference) and
answered; a worker applies stored events afterwards. Each event now has a status (received, applied, refused) and
when it was applied, and a partial index lists those waiting. Events already stored were applied as they arrived:
they are marked applied when they were received. Going back drops the new columns; the events, and what applying
them did, are kept. It refuses while events are still waiting to be applied (the code before this revision could
never apply them): apply them first (`flask payments apply-events`).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import foundation.types

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'received'")


def upgrade():
    # Plain ADD COLUMNs on both databases, then one rebuild on SQLite to make status required (nothing refers to
    # payment_event, so SQLite may rebuild it).
    op.add_column(
        "payment_event",
        sa.Column(
            "reported",
            sa.Enum("succeeded", "failed", "refunded", name="outcome", native_enum=False, length=32),
            nullable=True,
        ),
    )
    op.add_column("payment_event", sa.Column("detail", sa.String(length=200), nullable=True))
    op.add_column("payment_event", sa.Column("payment_reference", sa.String(length=255), nullable=True))
    op.add_column(
        "payment_event",
        sa.Column(
            "status",
            sa.Enum("received", "applied", "refused", name="eventstatus", native_enum=False, length=32),
            nullable=True,
        ),
    )
    op.add_column(
        "payment_event", sa.Column("applied_at", foundation.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE payment_event SET status = 'applied', applied_at = received_at")
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.Enum("received", "applied", "refused", name="eventstatus", native_enum=False, length=32),
            nullable=False,
        )
        batch_op.create_index(
            "ix_payment_event_received", ["id"], unique=False, postgresql_where=WAITING, sqlite_where=WAITING
        )


def downgrade():
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM payment_event WHERE status = 'received'")).scalar()
    if waiting:
        raise RuntimeError(
            f"{waiting} payment events are stored but not applied yet: run `flask payments apply-events` first"
        )
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_event_received", postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.drop_column("applied_at")
        batch_op.drop_column("status")
        batch_op.drop_column("payment_reference")
        batch_op.drop_column("detail")
        batch_op.drop_column("reported")
