"""notifications delivery attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_notification_message_id"), ["message_id"])
    # Mail already tried went out with this Message-ID: any later attempt must carry the same one.
    op.execute(
        "UPDATE notification SET message_id = '<notification-' || id || '@wypf.org.uk>' "
        "WHERE email_status <> 'not_requested'"
    )
    # An attempt under way when the previous version stopped may have reached DATA: nobody can tell, so
    # the sweep is to treat it as possibly delivered, never send it again on its own.
    op.execute("UPDATE notification SET email_status = 'sending_data' WHERE email_status = 'sending'")


def downgrade():
    # The previous version has no uncertain state and would resend these by itself: failed rows wait
    # for staff there too.
    op.execute(
        "UPDATE notification SET email_status = 'failed', claimed_at = NULL, next_attempt_at = NULL "
        "WHERE email_status IN ('sending_data', 'uncertain')"
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_notification_message_id"), type_="unique")
        batch_op.drop_column("message_id")
