"""indexes for signed-in pages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNREAD = "in_inbox IS TRUE AND read_at IS NULL"
IN_INBOX = "in_inbox IS TRUE"


def upgrade():
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        # (booking_id, starts_at) leads the new index and the unique constraint: the single column is not needed.
        batch_op.drop_index("ix_occurrence_booking_id")
        batch_op.create_index(
            "ix_occurrence_booking_time", ["booking_id", "starts_at"], postgresql_include=["status"]
        )
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.create_index(
            "ix_opening_hours_weekday_venue", ["weekday", "venue_id"], postgresql_include=["opens", "closes"]
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_unread",
            ["user_id"],
            postgresql_where=sa.text(UNREAD),
            sqlite_where=sa.text(UNREAD),
        )
        batch_op.create_index(
            "ix_notification_inbox",
            ["user_id", "created_at", "id"],
            postgresql_where=sa.text(IN_INBOX),
            sqlite_where=sa.text(IN_INBOX),
        )


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_inbox")
        batch_op.drop_index("ix_notification_unread")
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_opening_hours_weekday_venue")
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrence_booking_time")
        batch_op.create_index("ix_occurrence_booking_id", ["booking_id"], unique=False)
