"""bids: the funder register, funding opportunities with their themes and areas, members' interests and the
weekly digests sent, and funder prospecting imports (the summary of each 360Giving file, not the file)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 03:09:06.031673

"""
from alembic import op
import sqlalchemy as sa

import foundation.types


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('funder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('funder_type', sa.Enum('trust_or_foundation', 'lottery', 'statutory', 'police_and_crime_commissioner', 'business', 'individual', name='fundertype', native_enum=False, length=32), nullable=False),
    sa.Column('org_id', sa.String(length=80), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_funder_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder')),
    sa.UniqueConstraint('name_key', name=op.f('uq_funder_name_key')),
    sa.UniqueConstraint('org_id', name=op.f('uq_funder_org_id'))
    )
    with op.batch_alter_table('funder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funder_funder_type'), ['funder_type'], unique=False)

    op.create_table('funder_prospect_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=4), nullable=False),
    sa.Column('grant_count', sa.Integer(), nullable=False),
    sa.Column('matched_grant_count', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_funder_prospect_import_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder_prospect_import'))
    )
    with op.batch_alter_table('funder_prospect_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funder_prospect_import_uploaded_at'), ['uploaded_at'], unique=False)

    op.create_table('funding_digest_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('week_starting', sa.Date(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('closing_count', sa.Integer(), nullable=False),
    sa.Column('sent_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_funding_digest_sent_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_digest_sent')),
    sa.UniqueConstraint('user_id', 'week_starting', name='uq_funding_digest_user_week')
    )
    op.create_table('funding_interest_area',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_funding_interest_area_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', 'area', name=op.f('pk_funding_interest_area'))
    )
    op.create_table('funding_interest_theme',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.Enum('mental_health', 'sport', 'arts', 'employability', 'youth_voice', 'safeguarding', 'inclusion', 'digital', 'outdoor_learning', 'detached_youth_work', 'crime_prevention', 'core_costs', name='theme', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_funding_interest_theme_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', 'theme', name=op.f('pk_funding_interest_theme'))
    )
    op.create_table('funder_prospect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('grant_count', sa.Integer(), nullable=False),
    sa.Column('local_grant_count', sa.Integer(), nullable=False),
    sa.Column('youth_grant_count', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('first_award', sa.Date(), nullable=True),
    sa.Column('last_award', sa.Date(), nullable=True),
    sa.Column('added_funder_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_funder_id'], ['funder.id'], name=op.f('fk_funder_prospect_added_funder_id_funder')),
    sa.ForeignKeyConstraint(['import_id'], ['funder_prospect_import.id'], name=op.f('fk_funder_prospect_import_id_funder_prospect_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder_prospect'))
    )
    with op.batch_alter_table('funder_prospect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funder_prospect_import_id'), ['import_id'], unique=False)

    op.create_table('funding_opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('min_pence', sa.BigInteger(), nullable=False),
    sa.Column('max_pence', sa.BigInteger(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('eligibility', sa.Text(), nullable=False),
    sa.Column('accepts_consortium', sa.Boolean(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('status', sa.Enum('suggested', 'published', 'closed', 'rejected', 'archived', name='opportunitystatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('suggested_by_id', sa.Integer(), nullable=True),
    sa.Column('suggested_for_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.String(length=1000), nullable=True),
    sa.Column('published_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('max_pence <= 1000000000', name=op.f('ck_funding_opportunity_max_not_absurd')),
    sa.CheckConstraint('max_pence >= min_pence', name=op.f('ck_funding_opportunity_max_at_least_min')),
    sa.CheckConstraint('min_pence > 0', name=op.f('ck_funding_opportunity_min_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_funding_opportunity_created_by_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_funding_opportunity_decided_by_id_user')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_funding_opportunity_funder_id_funder')),
    sa.ForeignKeyConstraint(['suggested_by_id'], ['user.id'], name=op.f('fk_funding_opportunity_suggested_by_id_user')),
    sa.ForeignKeyConstraint(['suggested_for_id'], ['organisation.id'], name=op.f('fk_funding_opportunity_suggested_for_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_opportunity'))
    )
    with op.batch_alter_table('funding_opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_opportunity_funder_id'), ['funder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_opportunity_published_at'), ['published_at'], unique=False)
        batch_op.create_index('ix_funding_opportunity_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_opportunity_suggested_by_id'), ['suggested_by_id'], unique=False)

    op.create_table('funding_opportunity_area',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['funding_opportunity.id'], name=op.f('fk_funding_opportunity_area_opportunity_id_funding_opportunity')),
    sa.PrimaryKeyConstraint('opportunity_id', 'area', name=op.f('pk_funding_opportunity_area'))
    )
    with op.batch_alter_table('funding_opportunity_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_opportunity_area_area'), ['area'], unique=False)

    op.create_table('funding_opportunity_theme',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.Enum('mental_health', 'sport', 'arts', 'employability', 'youth_voice', 'safeguarding', 'inclusion', 'digital', 'outdoor_learning', 'detached_youth_work', 'crime_prevention', 'core_costs', name='theme', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['funding_opportunity.id'], name=op.f('fk_funding_opportunity_theme_opportunity_id_funding_opportunity')),
    sa.PrimaryKeyConstraint('opportunity_id', 'theme', name=op.f('pk_funding_opportunity_theme'))
    )
    with op.batch_alter_table('funding_opportunity_theme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_opportunity_theme_theme'), ['theme'], unique=False)



def downgrade():
    with op.batch_alter_table('funding_opportunity_theme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_opportunity_theme_theme'))

    op.drop_table('funding_opportunity_theme')
    with op.batch_alter_table('funding_opportunity_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_opportunity_area_area'))

    op.drop_table('funding_opportunity_area')
    with op.batch_alter_table('funding_opportunity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_opportunity_suggested_by_id'))
        batch_op.drop_index('ix_funding_opportunity_status_deadline')
        batch_op.drop_index(batch_op.f('ix_funding_opportunity_published_at'))
        batch_op.drop_index(batch_op.f('ix_funding_opportunity_funder_id'))

    op.drop_table('funding_opportunity')
    with op.batch_alter_table('funder_prospect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funder_prospect_import_id'))

    op.drop_table('funder_prospect')
    op.drop_table('funding_interest_theme')
    op.drop_table('funding_interest_area')
    op.drop_table('funding_digest_sent')
    with op.batch_alter_table('funder_prospect_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funder_prospect_import_uploaded_at'))

    op.drop_table('funder_prospect_import')
    with op.batch_alter_table('funder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funder_funder_type'))

    op.drop_table('funder')
