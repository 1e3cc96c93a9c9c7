"""Capacity building: training and networking events for youth-sector staff.

An event is listed by staff or by an organisation in good standing (its organiser). It has one or more sessions
(a four-week course has four), each from a start to an end in UTC (shown in Europe/London). It takes place at a
Venue Bank space, online or at another address. At a Venue Bank space each session is a one-off booking of that
space, made through the Venue Bank's own booking service in the organiser's name (`EventSession.booking_id`): the
booking is made with the event, moved or cancelled with it, and a clash is refused with the dates.

People register in entries (`Registration`): a member of an organisation registers themselves or several
colleagues, each a `RegistrationPlace` naming the person. An entry holds its places in every live state
(pending approval, registered, offered, attended, no-show); the event's `places_held` is the sum, kept in the same
transaction as every change under the event's row lock, so places are never oversold. When the event is full an
entry waits (waitlisted, in `queue_position` order); when places free up the first waiting entry that fits is
offered them until `offer_expires_at`.

Every change of an entry's state goes through the one table `REGISTRATION_TRANSITIONS` and is recorded as a
`RegistrationStep` (who, when, a note). Money is integer pence; fees are never Gift Aided. An entry for a priced
event waits for its fee (awaiting payment, holding its places until `pay_by`); the payment is taken through
foundation/payments and the entry follows it (fees.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import Organisation, User
from foundation.payments.models import Payment
from foundation.topics import Topic
from foundation.types import UTCDateTime, enum_column, utcnow
from foundation.venues.models import Booking, Space

MAX_PLACES = 500  # a conference hall; 10,000 is a slip of the keyboard
MAX_PRICE_PENCE = 1_000 * 100
DEFAULT_OFFER_HOURS = 48
DEFAULT_CANCEL_CUTOFF_HOURS = 48


class EventType(enum.Enum):
    TRAINING = "training"
    WORKSHOP = "workshop"
    NETWORK_MEETING = "network_meeting"
    CONFERENCE = "conference"

    @property
    def label(self) -> str:
        return {
            EventType.TRAINING: "Training",
            EventType.WORKSHOP: "Workshop",
            EventType.NETWORK_MEETING: "Network meeting",
            EventType.CONFERENCE: "Conference",
        }[self]


class EventStatus(enum.Enum):
    DRAFT = "draft"  # seen by its organiser only
    PUBLISHED = "published"  # listed, open for registration until it starts
    CANCELLED = "cancelled"  # everyone registered was told; its bookings were cancelled

    @property
    def label(self) -> str:
        return {
            EventStatus.DRAFT: "Draft",
            EventStatus.PUBLISHED: "Published",
            EventStatus.CANCELLED: "Cancelled",
        }[self]


class LocationKind(enum.Enum):
    VENUE = "venue"  # a Venue Bank space, booked with the event
    ONLINE = "online"  # the link is shown only to people registered
    ADDRESS = "address"  # somewhere else

    @property
    def label(self) -> str:
        return {
            LocationKind.VENUE: "A Venue Bank space",
            LocationKind.ONLINE: "Online",
            LocationKind.ADDRESS: "Another address",
        }[self]


class Event(Model):
    __tablename__ = "event"
    __table_args__ = (
        sa.CheckConstraint(f"places >= 1 AND places <= {MAX_PLACES}", name="places_in_range"),
        sa.CheckConstraint("places_held >= 0 AND places_held <= places", name="places_held_in_range"),
        sa.CheckConstraint(f"price_pence >= 0 AND price_pence <= {MAX_PRICE_PENCE}", name="price_in_range"),
        sa.CheckConstraint(
            "per_organisation_limit IS NULL OR per_organisation_limit >= 1", name="limit_positive"
        ),
        sa.CheckConstraint("offer_hours >= 1", name="offer_hours_positive"),
        sa.CheckConstraint("cancel_cutoff_hours >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint(
            "(location_kind = 'venue') = (space_id IS NOT NULL)", name="venue_events_have_a_space"
        ),
        sa.Index("ix_event_listing", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    event_type: Mapped[EventType] = mapped_column(enum_column(EventType))
    audience: Mapped[str] = mapped_column(sa.String(300), default="")
    # Who organises it: an organisation in good standing; staff may list events in any such organisation's name.
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    status: Mapped[EventStatus] = mapped_column(enum_column(EventStatus), default=EventStatus.DRAFT)
    places: Mapped[int]
    places_held: Mapped[int] = mapped_column(default=0)  # sum of the places of live entries (see module doc)
    per_organisation_limit: Mapped[int | None]  # most places one organisation may hold; None: no limit
    price_pence: Mapped[int] = mapped_column(default=0)  # 0: free
    requires_approval: Mapped[bool] = mapped_column(default=False)
    offer_hours: Mapped[int] = mapped_column(default=DEFAULT_OFFER_HOURS)
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=DEFAULT_CANCEL_CUTOFF_HOURS)
    location_kind: Mapped[LocationKind] = mapped_column(enum_column(LocationKind))
    space_id: Mapped[int | None] = mapped_column(sa.ForeignKey("space.id"), index=True)
    online_link: Mapped[str | None] = mapped_column(sa.String(500))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    # The town the listing filters on: the venue's town, or the one given with another address; None online.
    town: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    # First session's start and last session's end, kept with the sessions (the listing sorts and filters on them).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    space: Mapped[Space | None] = relationship()
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSession.starts_at"
    )
    topic_rows: Mapped[list[EventTopic]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventTopic.topic"
    )

    @property
    def topics(self) -> list[Topic]:
        return [row.topic for row in self.topic_rows]

    @property
    def is_free(self) -> bool:
        return self.price_pence == 0

    @property
    def places_left(self) -> int:
        return max(0, self.places - self.places_held)


class EventTopic(Model):
    __tablename__ = "event_topic"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[Topic] = mapped_column(enum_column(Topic), primary_key=True, index=True)

    event: Mapped[Event] = relationship(back_populates="topic_rows")


class EventSession(Model):
    """One sitting of an event; at a Venue Bank space, with its one-off booking of that space."""

    __tablename__ = "event_session"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id"), unique=True)

    event: Mapped[Event] = relationship(back_populates="sessions")
    booking: Mapped[Booking | None] = relationship()

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class RegistrationStatus(enum.Enum):
    PENDING_APPROVAL = "pending_approval"  # holds its places until the organiser decides
    AWAITING_PAYMENT = "awaiting_payment"  # holds its places until the fee is paid, or `pay_by` passes
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"  # holds nothing; waits in queue_position order
    OFFERED = "offered"  # holds the places offered until offer_expires_at
    CANCELLED = "cancelled"  # by the person, the organiser, a lapsed offer or the event's cancellation
    ATTENDED = "attended"  # the register was marked: at least one of its people came
    NO_SHOW = "no_show"  # the register was marked: none of its people came

    @property
    def label(self) -> str:
        return {
            RegistrationStatus.PENDING_APPROVAL: "Waiting for approval",
            RegistrationStatus.AWAITING_PAYMENT: "Waiting for payment",
            RegistrationStatus.REGISTERED: "Registered",
            RegistrationStatus.WAITLISTED: "On the waiting list",
            RegistrationStatus.OFFERED: "Offered a place",
            RegistrationStatus.CANCELLED: "Cancelled",
            RegistrationStatus.ATTENDED: "Attended",
            RegistrationStatus.NO_SHOW: "Did not attend",
        }[self]

    @property
    def holds_places(self) -> bool:
        return self in HOLDING


HOLDING = frozenset(
    {
        RegistrationStatus.PENDING_APPROVAL,
        RegistrationStatus.AWAITING_PAYMENT,
        RegistrationStatus.REGISTERED,
        RegistrationStatus.OFFERED,
        RegistrationStatus.ATTENDED,
        RegistrationStatus.NO_SHOW,
    }
)

_S = RegistrationStatus
# The one table of allowed moves (the services name the reason: approve, decline, offer, accept, lapse, ...).
REGISTRATION_TRANSITIONS: dict[RegistrationStatus, frozenset[RegistrationStatus]] = {
    _S.PENDING_APPROVAL: frozenset({_S.REGISTERED, _S.AWAITING_PAYMENT, _S.CANCELLED}),
    # A priced event: the places are held until the fee is paid (registered) or the payment fails or lapses.
    _S.AWAITING_PAYMENT: frozenset({_S.REGISTERED, _S.CANCELLED}),
    _S.REGISTERED: frozenset({_S.CANCELLED, _S.ATTENDED, _S.NO_SHOW}),
    _S.WAITLISTED: frozenset({_S.OFFERED, _S.CANCELLED}),
    _S.OFFERED: frozenset(
        {_S.REGISTERED, _S.PENDING_APPROVAL, _S.AWAITING_PAYMENT, _S.WAITLISTED, _S.CANCELLED}
    ),
    _S.CANCELLED: frozenset(),
    # The register can be corrected while it is open.
    _S.ATTENDED: frozenset({_S.NO_SHOW}),
    _S.NO_SHOW: frozenset({_S.ATTENDED}),
}


class Registration(Model):
    """An entry: one organisation's people for one event, holding `places` places (or waiting for them)."""

    __tablename__ = "event_registration"
    __table_args__ = (
        sa.CheckConstraint(f"places >= 1 AND places <= {MAX_PLACES}", name="places_in_range"),
        sa.CheckConstraint("fee_pence >= 0", name="fee_not_negative"),
        sa.Index("ix_event_registration_queue", "event_id", "status", "queue_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    made_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    places: Mapped[int]
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus))
    # Waiting-list order: lower first. Set when the entry joins the list; organisers may reorder (with a note).
    queue_position: Mapped[int | None]
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late_cancellation: Mapped[bool] = mapped_column(default=False)  # cancelled after the event's cut-off
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the day-before reminder went
    feedback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A priced event's fee for this entry (the price of each place when the places were taken, times the
    # places), its payment, and until when the places wait for it. `refund_due`: the entry was cancelled in
    # time (or the event was), so a fee received is paid back.
    fee_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), unique=True)
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    refund_due: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()
    organisation: Mapped[Organisation] = relationship()
    payment: Mapped[Payment | None] = relationship()
    made_by: Mapped[User | None] = relationship()
    people: Mapped[list[RegistrationPlace]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="RegistrationPlace.id"
    )
    steps: Mapped[list[RegistrationStep]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="RegistrationStep.id"
    )


class RegistrationPlace(Model):
    """One person of an entry: a member of the entry's organisation. `live` is cleared when the entry is
    cancelled, so a person is in at most one live entry per event (a partial unique index)."""

    __tablename__ = "event_registration_place"
    __table_args__ = (
        sa.Index(
            "uq_event_place_person_live",
            "event_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("live"),
            postgresql_where=sa.text("live"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_registration.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    live: Mapped[bool] = mapped_column(default=True)
    attended: Mapped[bool | None]  # None until the register is marked
    marked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    registration: Mapped[Registration] = relationship(back_populates="people")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    marked_by: Mapped[User | None] = relationship(foreign_keys=[marked_by_id])


class RegistrationStep(Model):
    """Who moved an entry, when, from what to what, and why (an organiser's reorder note, a lapse, ...)."""

    __tablename__ = "event_registration_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_registration.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[RegistrationStatus | None] = mapped_column(enum_column(RegistrationStatus))
    to_status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    registration: Mapped[Registration] = relationship(back_populates="steps")
    by: Mapped[User | None] = relationship()


class EventFeedback(Model):
    """One attendee's feedback on an event they attended: a rating from 1 to 5 and comments."""

    __tablename__ = "event_feedback"
    __table_args__ = (
        sa.UniqueConstraint("place_id", name="uq_event_feedback_place"),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name="rating_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("event_registration_place.id"))
    rating: Mapped[int]
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    place: Mapped[RegistrationPlace] = relationship()
