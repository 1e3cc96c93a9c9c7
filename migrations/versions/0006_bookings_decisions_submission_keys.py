"""bookings decisions submission keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 01:20:00

"""
from alembic import op
import sqlalchemy as sa

import foundation.types


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_booking_submission_key'), ['submission_key'])

    with op.batch_alter_table('grant_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade():
    with op.batch_alter_table('grant_decision', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_booking_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')
