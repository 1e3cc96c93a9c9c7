"""Venue Bank: venues, bookable spaces, opening hours, closures, bookings and their occurrences.

No double booking: a confirmed occurrence writes one `SpaceOccupancy` row for its space and for every space
inside it (the whole hall blocks both halves, a half blocks the whole). On PostgreSQL an exclusion constraint
(btree_gist) forbids two occupancy rows of the same space with overlapping time ranges, so the database has the
last word under concurrency. On SQLite the booking service takes the write lock before it checks.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import Organisation, User
from foundation.types import UTCDateTime, enum_column, utcnow


class FeatureGroup(enum.Enum):
    FACILITY = "facility"
    ACCESSIBILITY = "accessibility"


class Feature(enum.Enum):
    """What a space offers. Each belongs to one group, shown and searched separately."""

    KITCHEN = "kitchen"
    SPORTS_EQUIPMENT = "sports_equipment"
    PROJECTOR = "projector"
    WIFI = "wifi"
    PARKING = "parking"
    OUTDOOR_SPACE = "outdoor_space"
    STAGE = "stage"
    SOUND_SYSTEM = "sound_system"
    TABLES_CHAIRS = "tables_chairs"
    CHANGING_ROOMS = "changing_rooms"
    STEP_FREE_ACCESS = "step_free_access"
    ACCESSIBLE_TOILET = "accessible_toilet"
    HEARING_LOOP = "hearing_loop"
    ACCESSIBLE_PARKING = "accessible_parking"
    LIFT = "lift"
    QUIET_ROOM = "quiet_room"

    @property
    def group(self) -> FeatureGroup:
        return FeatureGroup.ACCESSIBILITY if self in _ACCESSIBILITY else FeatureGroup.FACILITY

    @property
    def label(self) -> str:
        return _FEATURE_LABELS.get(self, self.value.replace("_", " ").capitalize())


_ACCESSIBILITY = {
    Feature.STEP_FREE_ACCESS,
    Feature.ACCESSIBLE_TOILET,
    Feature.HEARING_LOOP,
    Feature.ACCESSIBLE_PARKING,
    Feature.LIFT,
    Feature.QUIET_ROOM,
}
_FEATURE_LABELS = {Feature.WIFI: "Wi-Fi", Feature.TABLES_CHAIRS: "Tables and chairs"}


class Venue(Model):
    __tablename__ = "venue"
    __table_args__ = (
        sa.CheckConstraint("min_notice_hours >= 0", name="min_notice_non_negative"),
        sa.CheckConstraint("max_days_ahead > 0", name="max_days_ahead_positive"),
        sa.CheckConstraint("max_booking_minutes > 0", name="max_booking_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address_line1: Mapped[str] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    town: Mapped[str] = mapped_column(sa.String(100), index=True)
    postcode: Mapped[str] = mapped_column(sa.String(8))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    directions: Mapped[str | None] = mapped_column(sa.Text)
    hire_terms: Mapped[str | None] = mapped_column(sa.Text)
    min_notice_hours: Mapped[int] = mapped_column(default=48)
    max_days_ahead: Mapped[int] = mapped_column(default=365)
    max_booking_minutes: Mapped[int] = mapped_column(default=8 * 60)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    spaces: Mapped[list[Space]] = relationship(back_populates="venue", order_by="Space.name")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="venue",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
    )
    closures: Mapped[list[Closure]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="Closure.starts_on"
    )
    photos: Mapped[list[VenuePhoto]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="VenuePhoto.position"
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Space(Model):
    __tablename__ = "space"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("price_per_hour_pence >= 0", name="price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id"), index=True)
    # A space can be part of another (the two halves of a hall); booking either blocks the other.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("space.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    capacity: Mapped[int]
    price_per_hour_pence: Mapped[int] = mapped_column(default=0)
    needs_approval: Mapped[bool] = mapped_column(default=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    venue: Mapped[Venue] = relationship(back_populates="spaces")
    parent: Mapped[Space | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Space]] = relationship(back_populates="parent")
    features: Mapped[list[SpaceFeature]] = relationship(back_populates="space", cascade="all, delete-orphan")

    @property
    def feature_set(self) -> set[Feature]:
        return {f.feature for f in self.features}

    def self_and_descendants(self) -> list[Space]:
        """The spaces a booking of this one occupies."""
        out, stack = [], [self]
        while stack:
            space = stack.pop()
            out.append(space)
            stack.extend(space.children)
        return out


class SpaceFeature(Model):
    __tablename__ = "space_feature"
    __table_args__ = (sa.UniqueConstraint("space_id", "feature", name="uq_space_feature_space_feature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("space.id"), index=True)
    feature: Mapped[Feature] = mapped_column(enum_column(Feature), index=True)

    space: Mapped[Space] = relationship(back_populates="features")


class OpeningHours(Model):
    """Opening hours per weekday (0 = Monday), in Europe/London wall-clock time. No row: closed that day."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("opens < closes", name="opens_before_closes"),
        # "Open on this weekday between these times" for every venue a search looks at.
        sa.Index(
            "ix_opening_hours_weekday_venue", "weekday", "venue_id", postgresql_include=["opens", "closes"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id"), index=True)
    weekday: Mapped[int]
    opens: Mapped[time] = mapped_column(sa.Time)
    closes: Mapped[time] = mapped_column(sa.Time)

    venue: Mapped[Venue] = relationship(back_populates="opening_hours")


class Closure(Model):
    __tablename__ = "closure"
    __table_args__ = (sa.CheckConstraint("starts_on <= ends_on", name="closure_dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id"), index=True)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200))

    venue: Mapped[Venue] = relationship(back_populates="closures")


class VenuePhoto(Model):
    __tablename__ = "venue_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id"), index=True)
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(50))
    caption: Mapped[str | None] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    venue: Mapped[Venue] = relationship(back_populates="photos")


class Recurrence(enum.Enum):
    ONE_OFF = "one_off"
    WEEKLY = "weekly"


class OccurrenceStatus(enum.Enum):
    REQUESTED = "requested"  # waits for the owner; does not hold the slot
    CONFIRMED = "confirmed"  # live: holds the slot
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_live(self) -> bool:
        return self is OccurrenceStatus.CONFIRMED


# The occurrence state machine, in one place.
OCCURRENCE_TRANSITIONS: dict[OccurrenceStatus, frozenset[OccurrenceStatus]] = {
    OccurrenceStatus.REQUESTED: frozenset(
        {OccurrenceStatus.CONFIRMED, OccurrenceStatus.DECLINED, OccurrenceStatus.CANCELLED}
    ),
    OccurrenceStatus.CONFIRMED: frozenset({OccurrenceStatus.CANCELLED}),
    OccurrenceStatus.DECLINED: frozenset(),
    OccurrenceStatus.CANCELLED: frozenset(),
}


class Booking(Model):
    """A request to use a space: one-off, or weekly on chosen weekdays, in Europe/London wall-clock time."""

    __tablename__ = "booking"
    __table_args__ = (
        sa.CheckConstraint("expected_attendance > 0", name="attendance_positive"),
        sa.CheckConstraint("start_time < end_time", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("space.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    purpose: Mapped[str] = mapped_column(sa.String(200))
    expected_attendance: Mapped[int]
    recurrence: Mapped[Recurrence] = mapped_column(enum_column(Recurrence), default=Recurrence.ONE_OFF)
    weekdays: Mapped[str] = mapped_column(sa.String(13), default="")  # "0,2" = Mondays and Wednesdays
    first_date: Mapped[date] = mapped_column(sa.Date)
    last_date: Mapped[date] = mapped_column(sa.Date)
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    skip_school_holidays: Mapped[bool] = mapped_column(default=False)
    skip_bank_holidays: Mapped[bool] = mapped_column(default=False)
    # Stable identifier for calendar feeds (iCalendar UID).
    uid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The one-time key of the form that made it: a repeated or doubled submission finds this booking instead
    # of making a second one (unique, so the database decides when two arrive at once).
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    space: Mapped[Space] = relationship()
    organisation: Mapped[Organisation] = relationship()
    booked_by: Mapped[User | None] = relationship()
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Occurrence.starts_at"
    )

    @property
    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d != ""]

    @property
    def reference(self) -> str:
        """What the booker and the venue quote to each other: "VB-000123", from the id (never reused)."""
        return f"VB-{self.id:06d}"


class Occurrence(Model):
    """One dated use of a space. Each has its own state; cancelled dates never come back."""

    __tablename__ = "occurrence"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.UniqueConstraint("booking_id", "starts_at", name="uq_occurrence_booking_start"),
        sa.Index("ix_occurrence_space_time", "space_id", "starts_at", "ends_at"),
        # A booking's dates in time order with their state, read without the table (bookings lists, the
        # request queue, what is coming up).
        sa.Index("ix_occurrence_booking_time", "booking_id", "starts_at", postgresql_include=["status"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("booking.id"))
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("space.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OccurrenceStatus] = mapped_column(enum_column(OccurrenceStatus), index=True)
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship(back_populates="occurrences")
    space: Mapped[Space] = relationship()
    decided_by: Mapped[User | None] = relationship()


class SpaceOccupancy(Model):
    """A live occurrence's hold on one space. Exists only while the occurrence is confirmed."""

    __tablename__ = "space_occupancy"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="occupancy_times"),
        sa.UniqueConstraint("occurrence_id", "space_id", name="uq_space_occupancy_occurrence_space"),
        sa.Index("ix_space_occupancy_space_time", "space_id", "starts_at", "ends_at"),
        postgresql.ExcludeConstraint(
            (sa.column("space_id"), "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at"), "[)"), "&&"),
            name="space_occupancy_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(sa.ForeignKey("occurrence.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("space.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HolidayKind(enum.Enum):
    SCHOOL = "school"
    BANK = "bank"

    @property
    def label(self) -> str:
        return {HolidayKind.SCHOOL: "School holiday", HolidayKind.BANK: "Bank holiday"}[self]


class Holiday(Model):
    """English school holidays and bank holidays; built in for this and next school year, editable by staff."""

    __tablename__ = "holiday"
    __table_args__ = (
        sa.CheckConstraint("starts_on <= ends_on", name="holiday_dates"),
        sa.UniqueConstraint("kind", "starts_on", name="uq_holiday_kind_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[HolidayKind] = mapped_column(enum_column(HolidayKind))
    name: Mapped[str] = mapped_column(sa.String(120))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)


class CalendarToken(Model):
    """Secret token for an organisation's private iCalendar feed; resetting it replaces the row's token."""

    __tablename__ = "calendar_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), unique=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RequestAlerts(enum.Enum):
    """How a venue owner's admin hears about new booking requests."""

    EACH = "each"  # an email per request (the default, when no row exists)
    DAILY_DIGEST = "daily_digest"  # inbox entries at once, one summary email a day

    @property
    def label(self) -> str:
        return {
            RequestAlerts.EACH: "An email for each new request",
            RequestAlerts.DAILY_DIGEST: "One summary email a day (requests still appear in the inbox at once)",
        }[self]


class BookingAlertPreference(Model):
    """A user's choice for booking-request emails, across every organisation they administer.

    `last_digest_on` is the Europe/London date of the last digest sent, so a digest goes at most once a day
    however often the task runs.
    """

    __tablename__ = "booking_alert_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), unique=True)
    request_alerts: Mapped[RequestAlerts] = mapped_column(
        enum_column(RequestAlerts), default=RequestAlerts.EACH
    )
    last_digest_on: Mapped[date | None] = mapped_column(sa.Date)
