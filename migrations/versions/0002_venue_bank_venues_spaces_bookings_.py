"""venue bank: venues, spaces, bookings, occurrences, holidays, calendars

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:16:12.484171

"""
from alembic import op
import sqlalchemy as sa

import foundation.types

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    if is_postgresql:
        # btree_gist lets one GiST index combine "same space" (=) with "overlapping times" (&&).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('school', 'bank', name='holidaykind', native_enum=False, length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_holiday_holiday_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('kind', 'starts_on', name='uq_holiday_kind_start')
    )
    op.create_table('booking_alert_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('request_alerts', sa.Enum('each', 'daily_digest', name='requestalerts', native_enum=False, length=32), nullable=False),
    sa.Column('last_digest_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_booking_alert_preference_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_alert_preference')),
    sa.UniqueConstraint('user_id', name=op.f('uq_booking_alert_preference_user_id'))
    )
    op.create_table('calendar_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_calendar_token_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_token')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_calendar_token_organisation_id')),
    sa.UniqueConstraint('token', name=op.f('uq_calendar_token_token'))
    )
    op.create_table('venue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address_line1', sa.String(length=200), nullable=False),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('town', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('directions', sa.Text(), nullable=True),
    sa.Column('hire_terms', sa.Text(), nullable=True),
    sa.Column('min_notice_hours', sa.Integer(), nullable=False),
    sa.Column('max_days_ahead', sa.Integer(), nullable=False),
    sa.Column('max_booking_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('max_booking_minutes > 0', name=op.f('ck_venue_max_booking_positive')),
    sa.CheckConstraint('max_days_ahead > 0', name=op.f('ck_venue_max_days_ahead_positive')),
    sa.CheckConstraint('min_notice_hours >= 0', name=op.f('ck_venue_min_notice_non_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_venue_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venue'))
    )
    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_venue_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_venue_town'), ['town'], unique=False)

    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_closure_closure_dates')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_closure_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure'))
    )
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closure_venue_id'), ['venue_id'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.CheckConstraint('opens < closes', name=op.f('ck_opening_hours_opens_before_closes')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday_range')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_opening_hours_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_venue_id'), ['venue_id'], unique=False)

    op.create_table('space',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('price_per_hour_pence', sa.Integer(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('archived_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_space_capacity_positive')),
    sa.CheckConstraint('price_per_hour_pence >= 0', name=op.f('ck_space_price_non_negative')),
    sa.ForeignKeyConstraint(['parent_id'], ['space.id'], name=op.f('fk_space_parent_id_space')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_space_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space'))
    )
    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_venue_id'), ['venue_id'], unique=False)

    op.create_table('venue_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('caption', sa.String(length=200), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_venue_photo_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venue_photo')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_venue_photo_stored_name'))
    )
    with op.batch_alter_table('venue_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_venue_photo_venue_id'), ['venue_id'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('expected_attendance', sa.Integer(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('recurrence', sa.Enum('one_off', 'weekly', name='recurrence', native_enum=False, length=32), nullable=False),
    sa.Column('weekdays', sa.String(length=13), nullable=False),
    sa.Column('first_date', sa.Date(), nullable=False),
    sa.Column('last_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('skip_school_holidays', sa.Boolean(), nullable=False),
    sa.Column('skip_bank_holidays', sa.Boolean(), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('created_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expected_attendance > 0', name=op.f('ck_booking_attendance_positive')),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_booking_start_before_end')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['user.id'], name=op.f('fk_booking_booked_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_booking_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], name=op.f('fk_booking_space_id_space')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking')),
    sa.UniqueConstraint('uid', name=op.f('uq_booking_uid'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_space_id'), ['space_id'], unique=False)

    op.create_table('space_feature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('feature', sa.Enum('kitchen', 'sports_equipment', 'projector', 'wifi', 'parking', 'outdoor_space', 'stage', 'sound_system', 'tables_chairs', 'changing_rooms', 'step_free_access', 'accessible_toilet', 'hearing_loop', 'accessible_parking', 'lift', 'quiet_room', name='feature', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], name=op.f('fk_space_feature_space_id_space')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_feature')),
    sa.UniqueConstraint('space_id', 'feature', name='uq_space_feature_space_feature')
    )
    with op.batch_alter_table('space_feature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_feature_feature'), ['feature'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_feature_space_id'), ['space_id'], unique=False)

    op.create_table('occurrence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('requested', 'confirmed', 'declined', 'cancelled', name='occurrencestatus', native_enum=False, length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminder_sent_at', foundation.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_occurrence_starts_before_ends')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_occurrence_booking_id_booking')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_occurrence_decided_by_id_user')),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], name=op.f('fk_occurrence_space_id_space')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occurrence')),
    sa.UniqueConstraint('booking_id', 'starts_at', name='uq_occurrence_booking_start')
    )
    with op.batch_alter_table('occurrence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_occurrence_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_occurrence_space_time', ['space_id', 'starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_occurrence_status'), ['status'], unique=False)

    op.create_table('space_occupancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', foundation.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_space_occupancy_occupancy_times')),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrence.id'], name=op.f('fk_space_occupancy_occurrence_id_occurrence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], name=op.f('fk_space_occupancy_space_id_space')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_occupancy')),
    sa.UniqueConstraint('occurrence_id', 'space_id', name='uq_space_occupancy_occurrence_space')
    )
    with op.batch_alter_table('space_occupancy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_occupancy_occurrence_id'), ['occurrence_id'], unique=False)
        batch_op.create_index('ix_space_occupancy_space_time', ['space_id', 'starts_at', 'ends_at'], unique=False)

    if is_postgresql:
        # No two live holds on one space may overlap: the database's last word on double booking.
        op.execute(
            "ALTER TABLE space_occupancy ADD CONSTRAINT space_occupancy_no_overlap "
            "EXCLUDE USING gist (space_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )


def downgrade():
    with op.batch_alter_table('space_occupancy', schema=None) as batch_op:
        batch_op.drop_index('ix_space_occupancy_space_time')
        batch_op.drop_index(batch_op.f('ix_space_occupancy_occurrence_id'))

    op.drop_table('space_occupancy')
    with op.batch_alter_table('occurrence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occurrence_status'))
        batch_op.drop_index('ix_occurrence_space_time')
        batch_op.drop_index(batch_op.f('ix_occurrence_booking_id'))

    op.drop_table('occurrence')
    with op.batch_alter_table('space_feature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_feature_space_id'))
        batch_op.drop_index(batch_op.f('ix_space_feature_feature'))

    op.drop_table('space_feature')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_space_id'))
        batch_op.drop_index(batch_op.f('ix_booking_organisation_id'))

    op.drop_table('booking')
    with op.batch_alter_table('venue_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_venue_photo_venue_id'))

    op.drop_table('venue_photo')
    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_venue_id'))
        batch_op.drop_index(batch_op.f('ix_space_parent_id'))

    op.drop_table('space')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_venue_id'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closure_venue_id'))

    op.drop_table('closure')
    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_venue_town'))
        batch_op.drop_index(batch_op.f('ix_venue_organisation_id'))

    op.drop_table('venue')
    op.drop_table('calendar_token')
    op.drop_table('booking_alert_preference')
    op.drop_table('holiday')
