"""A payment asked for by a capability, and every provider event heard about it (each stored once)."""

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
    # When the provider's fee was read and recorded (None: not yet, or a provider that charges none).
    fee_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User | None] = relationship()


class PaymentEvent(Model):
    """A provider's event, kept once by its id: a repeat is answered without being applied again. Only ids, type
    and outcome are kept, never the payload (which may hold card or personal details)."""

    __tablename__ = "payment_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="uq_payment_event_provider_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(200))  # what it did: "succeeded", "already refunded", ...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
