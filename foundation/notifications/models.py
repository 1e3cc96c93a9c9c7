"""The notification outbox: one row per message, written in the transaction that causes it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import db
from foundation.members.models import User
from foundation.types import UTCDateTime, enum_column, utcnow


class NotificationKind(enum.Enum):
    """Kinds a user can route to email or inbox only. Account-security kinds always go by email."""

    ACCOUNT_SECURITY = "account_security"
    ORGANISATION_VETTING = "organisation_vetting"
    ORGANISATION_MEMBERS = "organisation_members"
    DOCUMENT_EXPIRY = "document_expiry"
    STAFF_QUEUE = "staff_queue"
    BOOKINGS = "bookings"
    GRANTS = "grants"
    GENERAL = "general"

    @property
    def label(self) -> str:
        return {
            NotificationKind.ACCOUNT_SECURITY: "Account security (sign-in details, email changes)",
            NotificationKind.ORGANISATION_VETTING: "Vetting decisions about your organisation",
            NotificationKind.ORGANISATION_MEMBERS: "Invitations and membership changes",
            NotificationKind.DOCUMENT_EXPIRY: "Document expiry reminders",
            NotificationKind.STAFF_QUEUE: "Staff work queues",
            NotificationKind.BOOKINGS: "Venue bookings",
            NotificationKind.GRANTS: "Seed grants",
            NotificationKind.GENERAL: "Other announcements",
        }[self]

    @property
    def email_mandatory(self) -> bool:
        return self is NotificationKind.ACCOUNT_SECURITY


class EmailStatus(enum.Enum):
    NOT_REQUESTED = "not_requested"  # inbox only
    PENDING = "pending"
    SENDING = "sending"  # claimed by one delivery run
    SENT = "sent"
    FAILED = "failed"  # gave up after the bounded number of attempts

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_outbox", "email_status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    email_to: Mapped[str | None] = mapped_column(sa.String(254))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    in_inbox: Mapped[bool] = mapped_column(default=True)
    email_status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus), default=EmailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class NotificationPreference(db.Model):
    """Per user and kind: email as well as the inbox (the default), or the inbox only."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", name="uq_notification_preference_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    email: Mapped[bool] = mapped_column(default=True)
