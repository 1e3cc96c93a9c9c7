"""grants withdrawn and ended early

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import foundation.types

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The grant status column is a VARCHAR(32) without a CHECK of its values, so "withdrawn" and "ended" need no
# change to it. Plain ADD/DROP COLUMN on both databases: rebuilding grant_award on SQLite would trip over the rows
# that refer to it (instalments, reports, ledger transactions).


def upgrade():
    op.add_column(
        "grant_award", sa.Column("closed_at", foundation.types.UTCDateTime(timezone=True), nullable=True)
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE grant_award ADD COLUMN closed_by_id INTEGER REFERENCES "user" (id)')
    else:
        op.add_column("grant_award", sa.Column("closed_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_grant_award_closed_by_id_user"), "grant_award", "user", ["closed_by_id"], ["id"]
        )
    op.add_column("grant_award", sa.Column("closed_reason", sa.Text(), nullable=True))
    op.add_column("grant_award", sa.Column("awarded_before_end_pence", sa.BigInteger(), nullable=True))
    op.add_column(
        "grant_instalment",
        sa.Column("cancelled_at", foundation.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.execute("ALTER TABLE grant_instalment DROP COLUMN cancelled_at")
    op.execute("ALTER TABLE grant_award DROP COLUMN awarded_before_end_pence")
    op.execute("ALTER TABLE grant_award DROP COLUMN closed_reason")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_grant_award_closed_by_id_user"), "grant_award", type_="foreignkey")
    op.execute("ALTER TABLE grant_award DROP COLUMN closed_by_id")
    op.execute("ALTER TABLE grant_award DROP COLUMN closed_at")
