"""payments: when the provider's fee was recorded

The provider's fee is read after the payment succeeds, by a task, so the webhook answers without calling the
provider; the column says the fee has been read (and the sweep asks again for those it has not). Payments already
settled had their fee read with the event: they are marked recorded.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

import foundation.types


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: other tables refer to payment, so SQLite must not rebuild it.
    op.add_column("payment", sa.Column("fee_recorded_at", foundation.types.UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE payment SET fee_recorded_at = settled_at "
        "WHERE provider <> 'offline' AND status IN ('succeeded', 'refunded')"
    )


def downgrade():
    # SQLite (3.35 and later) drops a plain column in place, without rebuilding the table others refer to.
    op.execute("ALTER TABLE payment DROP COLUMN fee_recorded_at")
