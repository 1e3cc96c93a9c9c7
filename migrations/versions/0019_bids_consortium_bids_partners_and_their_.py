"""bids: consortium bids, partners and their parts, budgets, tasks, reminders, shared documents

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 05:31:57.594255

"""
from alembic import op
import sqlalchemy as sa

import foundation.types


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('case_for_support', sa.Text(), nullable=False),
    sa.Column('lead_organisation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('idea', 'forming', 'drafting', 'sign_off', 'submitted', 'awarded', 'part_awarded', 'declined', 'withdrawn', name='bidstatus', native_enum=False, length=32), nullable=False),
    sa.Column('fee_basis_points', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('asked_pence', sa.BigInteger(), nullable=True),
    sa.Column('funder_feedback', sa.Text(), nullable=True),
    sa.CheckConstraint('fee_basis_points >= 0 AND fee_basis_points <= 2500', name=op.f('ck_bid_fee_in_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_bid_created_by_id_user')),
    sa.ForeignKeyConstraint(['lead_organisation_id'], ['organisation.id'], name=op.f('fk_bid_lead_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['funding_opportunity.id'], name=op.f('fk_bid_opportunity_id_funding_opportunity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid'))
    )
    with op.batch_alter_table('bid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_lead_organisation_id'), ['lead_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index('ix_bid_status_id', ['status', 'id'], unique=False)

    op.create_table('bid_deadline_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_deadline_reminder_bid_id_bid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_deadline_reminder')),
    sa.UniqueConstraint('bid_id', 'days_before', name='uq_bid_deadline_reminder')
    )
    with op.batch_alter_table('bid_deadline_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_deadline_reminder_bid_id'), ['bid_id'], unique=False)

    op.create_table('bid_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_document_bid_id_bid')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_bid_document_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_bid_document_stored_name'))
    )
    with op.batch_alter_table('bid_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_document_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_document_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('bid_partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('invited', 'accepted', 'declined', name='bidpartnerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('activities', sa.Text(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('part_updated_by_id', sa.Integer(), nullable=True),
    sa.Column('part_updated_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_partner_bid_id_bid')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_bid_partner_invited_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_bid_partner_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['part_updated_by_id'], ['user.id'], name=op.f('fk_bid_partner_part_updated_by_id_user')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['user.id'], name=op.f('fk_bid_partner_responded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_partner')),
    sa.UniqueConstraint('bid_id', 'organisation_id', name='uq_bid_partner_org')
    )
    with op.batch_alter_table('bid_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_partner_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_partner_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('bid_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('idea', 'forming', 'drafting', 'sign_off', 'submitted', 'awarded', 'part_awarded', 'declined', 'withdrawn', name='bidstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('idea', 'forming', 'drafting', 'sign_off', 'submitted', 'awarded', 'part_awarded', 'declined', 'withdrawn', name='bidstatus', native_enum=False, length=32), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_step_bid_id_bid')),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_bid_step_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_step'))
    )
    with op.batch_alter_table('bid_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_step_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_step_by_id'), ['by_id'], unique=False)

    op.create_table('bid_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_task_bid_id_bid')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_bid_task_created_by_id_user')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_bid_task_done_by_id_user')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_bid_task_owner_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_task'))
    )
    with op.batch_alter_table('bid_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_task_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_task_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_task_owner_id'), ['owner_id'], unique=False)

    op.create_table('bid_budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('staff', 'activity', 'venue_hire', 'overheads', name='budgetcategory', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence <= 1000000000', name=op.f('ck_bid_budget_line_amount_not_absurd')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_bid_budget_line_amount_positive')),
    sa.ForeignKeyConstraint(['partner_id'], ['bid_partner.id'], name=op.f('fk_bid_budget_line_partner_id_bid_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_budget_line'))
    )
    with op.batch_alter_table('bid_budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_budget_line_partner_id'), ['partner_id'], unique=False)

    op.create_table('bid_part_reach',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('town', sa.String(length=60), nullable=False),
    sa.Column('young_people', sa.Integer(), nullable=False),
    sa.CheckConstraint('young_people > 0', name=op.f('ck_bid_part_reach_young_people_positive')),
    sa.ForeignKeyConstraint(['partner_id'], ['bid_partner.id'], name=op.f('fk_bid_part_reach_partner_id_bid_partner')),
    sa.PrimaryKeyConstraint('partner_id', 'town', name=op.f('pk_bid_part_reach'))
    )
    op.create_table('bid_task_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['bid_task.id'], name=op.f('fk_bid_task_reminder_task_id_bid_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_task_reminder')),
    sa.UniqueConstraint('task_id', 'days_before', name='uq_bid_task_reminder')
    )
    with op.batch_alter_table('bid_task_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_task_reminder_task_id'), ['task_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bid_task_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_task_reminder_task_id'))

    op.drop_table('bid_task_reminder')
    op.drop_table('bid_part_reach')
    with op.batch_alter_table('bid_budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_budget_line_partner_id'))

    op.drop_table('bid_budget_line')
    with op.batch_alter_table('bid_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_task_owner_id'))
        batch_op.drop_index(batch_op.f('ix_bid_task_due'))
        batch_op.drop_index(batch_op.f('ix_bid_task_bid_id'))

    op.drop_table('bid_task')
    with op.batch_alter_table('bid_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_step_by_id'))
        batch_op.drop_index(batch_op.f('ix_bid_step_bid_id'))

    op.drop_table('bid_step')
    with op.batch_alter_table('bid_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_partner_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_bid_partner_bid_id'))

    op.drop_table('bid_partner')
    with op.batch_alter_table('bid_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_document_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_bid_document_bid_id'))

    op.drop_table('bid_document')
    with op.batch_alter_table('bid_deadline_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_deadline_reminder_bid_id'))

    op.drop_table('bid_deadline_reminder')
    with op.batch_alter_table('bid', schema=None) as batch_op:
        batch_op.drop_index('ix_bid_status_id')
        batch_op.drop_index(batch_op.f('ix_bid_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_bid_lead_organisation_id'))

    op.drop_table('bid')
