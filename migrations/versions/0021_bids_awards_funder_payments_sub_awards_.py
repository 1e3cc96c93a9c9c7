"""bids: awards, funder payments, sub-awards and instalments, monitoring returns

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 06:01:38.955114

"""
from alembic import op
import sqlalchemy as sa

import foundation.types


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bid_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('fee_pence', sa.BigInteger(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_pence <= 1000000000', name=op.f('ck_bid_award_amount_not_absurd')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_bid_award_amount_positive')),
    sa.CheckConstraint('fee_pence >= 0 AND fee_pence < amount_pence', name=op.f('ck_bid_award_fee_within_amount')),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_award_bid_id_bid')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_bid_award_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_award')),
    sa.UniqueConstraint('bid_id', name=op.f('uq_bid_award_bid_id'))
    )
    op.create_table('bid_award_reporting_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['bid_award.id'], name=op.f('fk_bid_award_reporting_date_award_id_bid_award')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_award_reporting_date')),
    sa.UniqueConstraint('award_id', 'due', name='uq_bid_award_reporting_date')
    )
    with op.batch_alter_table('bid_award_reporting_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_award_reporting_date_award_id'), ['award_id'], unique=False)

    op.create_table('bid_funder_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('fee_pence', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_bid_funder_payment_amount_positive')),
    sa.ForeignKeyConstraint(['award_id'], ['bid_award.id'], name=op.f('fk_bid_funder_payment_award_id_bid_award')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transaction.id'], name=op.f('fk_bid_funder_payment_ledger_transaction_id_ledger_transaction')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_bid_funder_payment_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_funder_payment'))
    )
    with op.batch_alter_table('bid_funder_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_funder_payment_award_id'), ['award_id'], unique=False)

    op.create_table('bid_sub_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_bid_sub_award_amount_not_negative')),
    sa.ForeignKeyConstraint(['award_id'], ['bid_award.id'], name=op.f('fk_bid_sub_award_award_id_bid_award')),
    sa.ForeignKeyConstraint(['partner_id'], ['bid_partner.id'], name=op.f('fk_bid_sub_award_partner_id_bid_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_sub_award')),
    sa.UniqueConstraint('award_id', 'partner_id', name='uq_bid_sub_award_partner')
    )
    with op.batch_alter_table('bid_sub_award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_sub_award_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_sub_award_partner_id'), ['partner_id'], unique=False)

    op.create_table('bid_monitoring_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporting_date_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('sessions_delivered', sa.Integer(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('sessions_delivered >= 0', name=op.f('ck_bid_monitoring_return_sessions_not_negative')),
    sa.ForeignKeyConstraint(['partner_id'], ['bid_partner.id'], name=op.f('fk_bid_monitoring_return_partner_id_bid_partner')),
    sa.ForeignKeyConstraint(['reporting_date_id'], ['bid_award_reporting_date.id'], name=op.f('fk_bid_monitoring_return_reporting_date_id_bid_award_reporting_date')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_bid_monitoring_return_submitted_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_monitoring_return')),
    sa.UniqueConstraint('reporting_date_id', 'partner_id', name='uq_bid_monitoring_return')
    )
    with op.batch_alter_table('bid_monitoring_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_monitoring_return_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_monitoring_return_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_monitoring_return_reporting_date_id'), ['reporting_date_id'], unique=False)

    op.create_table('bid_sub_award_instalment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sub_award_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_bid_sub_award_instalment_amount_positive')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transaction.id'], name=op.f('fk_bid_sub_award_instalment_ledger_transaction_id_ledger_transaction')),
    sa.ForeignKeyConstraint(['paid_by_id'], ['user.id'], name=op.f('fk_bid_sub_award_instalment_paid_by_id_user')),
    sa.ForeignKeyConstraint(['sub_award_id'], ['bid_sub_award.id'], name=op.f('fk_bid_sub_award_instalment_sub_award_id_bid_sub_award')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_sub_award_instalment'))
    )
    with op.batch_alter_table('bid_sub_award_instalment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_sub_award_instalment_sub_award_id'), ['sub_award_id'], unique=False)

    op.create_table('bid_return_reach',
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('town', sa.String(length=60), nullable=False),
    sa.Column('young_people', sa.Integer(), nullable=False),
    sa.CheckConstraint('young_people > 0', name=op.f('ck_bid_return_reach_young_people_positive')),
    sa.ForeignKeyConstraint(['return_id'], ['bid_monitoring_return.id'], name=op.f('fk_bid_return_reach_return_id_bid_monitoring_return')),
    sa.PrimaryKeyConstraint('return_id', 'town', name=op.f('pk_bid_return_reach'))
    )
    op.create_table('bid_return_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['bid_monitoring_return.id'], name=op.f('fk_bid_return_reminder_return_id_bid_monitoring_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_return_reminder')),
    sa.UniqueConstraint('return_id', 'days_before', name='uq_bid_return_reminder')
    )
    with op.batch_alter_table('bid_return_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_return_reminder_return_id'), ['return_id'], unique=False)

    op.create_table('bid_return_spend',
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('staff', 'activity', 'venue_hire', 'overheads', name='budgetcategory', native_enum=False, length=32), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_bid_return_spend_amount_not_negative')),
    sa.ForeignKeyConstraint(['return_id'], ['bid_monitoring_return.id'], name=op.f('fk_bid_return_spend_return_id_bid_monitoring_return')),
    sa.PrimaryKeyConstraint('return_id', 'category', name=op.f('pk_bid_return_spend'))
    )


def downgrade():
    op.drop_table('bid_return_spend')
    with op.batch_alter_table('bid_return_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_return_reminder_return_id'))

    op.drop_table('bid_return_reminder')
    op.drop_table('bid_return_reach')
    with op.batch_alter_table('bid_sub_award_instalment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_sub_award_instalment_sub_award_id'))

    op.drop_table('bid_sub_award_instalment')
    with op.batch_alter_table('bid_monitoring_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_monitoring_return_reporting_date_id'))
        batch_op.drop_index(batch_op.f('ix_bid_monitoring_return_partner_id'))
        batch_op.drop_index(batch_op.f('ix_bid_monitoring_return_due'))

    op.drop_table('bid_monitoring_return')
    with op.batch_alter_table('bid_sub_award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_sub_award_partner_id'))
        batch_op.drop_index(batch_op.f('ix_bid_sub_award_award_id'))

    op.drop_table('bid_sub_award')
    with op.batch_alter_table('bid_funder_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_funder_payment_award_id'))

    op.drop_table('bid_funder_payment')
    with op.batch_alter_table('bid_award_reporting_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_award_reporting_date_award_id'))

    op.drop_table('bid_award_reporting_date')
    op.drop_table('bid_award')
