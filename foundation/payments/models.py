"""A payment asked for by a capability, and every provider event heard about it (each stored once, then applied)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import User
from foundation.types import UTCDateTime, enum_column, utcnow


class PaymentStatus(enum.Enum):
    PENDING = "pending"  # checkout started (Stripe) or pledge recorded (offline): no money yet
    SUCCEEDED = "succeeded"  # the money arrived
    FAILED = "failed"  # the payer gave up, the checkout expired or the bank said no
    REFUNDED = "refunded"  # paid back in full

    @property
    def label(self) -> str:
        return {
            PaymentStatus.PENDING: "Waiting for payment",
            PaymentStatus.SUCCEEDED: "Received",
            PaymentStatus.FAILED: "Not completed",
            PaymentStatus.REFUNDED: "Refunded",
        }[self]


class Outcome(enum.Enum):
    """What a provider says happened to a payment."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class EventStatus(enum.Enum):
    """A stored provider event: answered as soon as it is stored, applied to its payment afterwards.

    received -> applied   its outcome was applied to the payment (or found to change nothing: "already ...")
    received -> refused   it did not fit its payment once applied (another payment's references): nothing changed
    """

    RECEIVED = "received"
    APPLIED = "applied"
    REFUSED = "refused"


class ReceivedBy(enum.Enum):
    """How money recorded by staff arrived (the offline provider)."""

    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"
    CASH = "cash"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Payment(Model):
    __tablename__ = "payment"
    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint("fee_pence >= 0", name="fee_not_negative"),
        sa.Index("ix_payment_purpose", "purpose_type", "purpose_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))  # "stripe" or "offline"
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3), default="gbp")
    description: Mapped[str] = mapped_column(sa.String(200))
    # What it is for, as a (type, id) pair owned by the capability that asked: ("donation", 5).
    purpose_type: Mapped[str] = mapped_column(sa.String(40))
    purpose_id: Mapped[int]
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING, index=True
    )
    # The provider's names for it: a Checkout Session id, then the PaymentIntent it made.
    checkout_reference: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.String(1000))
    payment_reference: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    fee_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # Recorded by staff for money that came offline.
    received_by: Mapped[ReceivedBy | None] = mapped_column(enum_column(ReceivedBy))
    received_on: Mapped[date | None]
    received_reference: Mapped[str | None] = mapped_column(sa.String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it succeeded or failed
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The capability that asked for it wants it paid back: online, the provider is asked (and its event moves it
    # to refunded); offline, staff pay it back and record it (`refund_offline`).
    refund_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the provider's fee was read and recorded (None: not yet, or a provider that charges none).
    fee_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User | None] = relationship()


class PaymentEvent(Model):
    """A provider's event, kept once by its id: a repeat is answered without being stored or applied again. What
    the event said is kept parsed (the outcome it reports, the provider's reason, its payment reference), never the
    payload, which may hold card or personal details. The endpoint stores it and answers; a worker applies stored
    events in the order they were stored (`service.apply_next_batch`)."""

    __tablename__ = "payment_event"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_payment_event_provider_event_id"),
        # The worker's queue: events stored and not yet applied, oldest first. Small whatever the history.
        sa.Index(
            "ix_payment_event_received",
            "id",
            postgresql_where=sa.text("status = 'received'"),
            sqlite_where=sa.text("status = 'received'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    # What the provider says happened (None: nothing to do, such as a bank debit still on its way) and why.
    reported: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    detail: Mapped[str | None] = mapped_column(sa.String(200))
    # The provider's name for the payment it made (a PaymentIntent), recorded on the payment when applied.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[EventStatus] = mapped_column(enum_column(EventStatus), default=EventStatus.RECEIVED)
    outcome: Mapped[str] = mapped_column(
        sa.String(200)
    )  # what applying it did: "succeeded", "already refunded"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
