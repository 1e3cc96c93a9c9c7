"""grants review deadline

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:30:00

"""

import sqlalchemy as sa
from alembic import op

import foundation.types

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("grant_round", sa.Column("review_deadline", sa.Date(), nullable=True))
    op.create_table(
        "grant_review_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("sent_at", foundation.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["grant_review_assignment.id"],
            name=op.f("fk_grant_review_reminder_assignment_id_grant_review_assignment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_review_reminder")),
        sa.UniqueConstraint("assignment_id", "window", name="uq_grant_review_reminder_assignment_window"),
    )
    with op.batch_alter_table("grant_review_reminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grant_review_reminder_assignment_id"), ["assignment_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("grant_review_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_review_reminder_assignment_id"))
    op.drop_table("grant_review_reminder")
    # A plain DROP COLUMN (SQLite 3.35+): rebuilding grant_round would trip over the rows that refer to it.
    op.execute("ALTER TABLE grant_round DROP COLUMN review_deadline")
