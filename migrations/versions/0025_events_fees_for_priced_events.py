"""events: fees for priced events, taken through payments

An entry for a priced event records its fee, the payment that takes it and until when its places wait for the
payment; `refund_due` marks an entry cancelled in time, whose fee is paid back. A payment records when its
capability asked for it to be refunded. Entries already made have no fee (every event so far was taken free).

Going back forgets the fees (each payment still names its entry, as its purpose). An entry waiting for its fee
becomes one waiting for the organiser's approval, which also holds its places, with a step saying why.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 14:22:07.444577

"""

from contextlib import nullcontext

from alembic import op
import sqlalchemy as sa

import foundation.types
from foundation.db_setup import sqlite_foreign_keys_off


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _rebuilding(table):
    """SQLite rebuilds a table to add a foreign key or drop a column, and other rows refer to these (places and
    steps to registrations, with ON DELETE CASCADE; donations and registrations to payments)."""
    bind = op.get_bind()
    return sqlite_foreign_keys_off(bind, table) if bind.dialect.name == "sqlite" else nullcontext()


def upgrade():
    with _rebuilding("event_registration"), op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_pence", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pay_by", foundation.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refund_due", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_event_registration_pay_by"), ["pay_by"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_event_registration_payment_id"), ["payment_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_event_registration_payment_id_payment"), "payment", ["payment_id"], ["id"]
        )
        batch_op.create_check_constraint(batch_op.f("ck_event_registration_fee_not_negative"), "fee_pence >= 0")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refund_requested_at", foundation.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    from datetime import UTC, datetime

    registration = sa.table(
        "event_registration", sa.column("id", sa.Integer), sa.column("status", sa.String)
    )
    step = sa.table(
        "event_registration_step",
        sa.column("registration_id", sa.Integer),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("at", foundation.types.UTCDateTime(timezone=True)),
        sa.column("note", sa.String),
    )
    op.execute(
        step.insert().from_select(
            ["registration_id", "from_status", "to_status", "at", "note"],
            sa.select(
                registration.c.id,
                sa.literal("awaiting_payment"),
                sa.literal("pending_approval"),
                sa.literal(datetime.now(UTC), foundation.types.UTCDateTime(timezone=True)),
                sa.literal("Fees were taken out of the platform: the places wait for the organiser again"),
            ).where(registration.c.status == "awaiting_payment"),
        )
    )
    op.execute(
        registration.update()
        .where(registration.c.status == "awaiting_payment")
        .values(status="pending_approval")
    )
    with _rebuilding("event_registration"), op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_event_registration_fee_not_negative"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_event_registration_payment_id_payment"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_event_registration_payment_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_event_registration_pay_by"))
        batch_op.drop_column("refund_due")
        batch_op.drop_column("pay_by")
        batch_op.drop_column("payment_id")
        batch_op.drop_column("fee_pence")

    with _rebuilding("payment"), op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("refund_requested_at")
