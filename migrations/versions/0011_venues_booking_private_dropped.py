"""venues: the booking's "private" flag dropped

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:20:00

Other organisations always see a booking as "Booked" (its purpose and organisation only reach the two
organisations involved), so the flag changed nothing and the form no longer offers it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Plain DROP/ADD COLUMN on both databases: rebuilding booking on SQLite would trip over the rows that refer to it.


def upgrade():
    op.execute("ALTER TABLE booking DROP COLUMN private")


def downgrade():
    op.add_column("booking", sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))
