"""The notification outbox: one row per message, written in the transaction that causes it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
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
    FUNDRAISING = "fundraising"
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
            NotificationKind.FUNDRAISING: "Fundraising campaigns and donations",
            NotificationKind.GENERAL: "Other announcements",
        }[self]

    @property
    def email_mandatory(self) -> bool:
        return self is NotificationKind.ACCOUNT_SECURITY


class EmailStatus(enum.Enum):
    """Where a row's email stands. The moves between them are EMAIL_TRANSITIONS, and nothing else."""

    NOT_REQUESTED = "not_requested"  # inbox only
    PENDING = "pending"  # waits for its next attempt (next_attempt_at)
    # Attempt n is claimed by one delivery run and under way: connecting, or giving the sender and
    # recipient. Nothing the server could deliver has been sent, so if the run dies it is safe to try again.
    SENDING = "sending"
    # The run has begun handing the message itself over (SMTP DATA). From here on, a run that dies or
    # hears no answer cannot know whether the server kept the message.
    SENDING_DATA = "sending_data"
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts: staff can retry it
    # The server had the whole message but its answer never came back: it may well have arrived. Never
    # sent again on its own, so nobody gets it twice; staff decide.
    UNCERTAIN = "uncertain"

    @property
    def label(self) -> str:
        if self is EmailStatus.UNCERTAIN:
            return "delivery uncertain"
        if self is EmailStatus.SENDING_DATA:
            return "sending"
        return str(self.value).replace("_", " ")


class EmailStep(enum.Enum):
    """The moves of the email state machine, each from a set of states to one (EMAIL_TRANSITIONS)."""

    CLAIMED = "claimed"  # a run takes a due row and counts the attempt, before connecting
    HANDING_OVER = "handing_over"  # recorded before the DATA command, so a dead run's row says so
    ACCEPTED = "accepted"  # the server answered the message with 2xx
    REFUSED = "refused"  # the server did not take it (or was not reached): try again after a backoff
    GIVEN_UP = "given_up"  # refused for good (5xx), or that was the last attempt
    ANSWER_LOST = "answer_lost"  # the whole message was sent, then a timeout or a dropped connection
    INTERRUPTED_BEFORE_DATA = "interrupted_before_data"  # the run died before DATA: try again
    INTERRUPTED_LAST_ATTEMPT = "interrupted_last_attempt"  # ... and that was the last attempt
    INTERRUPTED_IN_DATA = "interrupted_in_data"  # the run died during DATA: it may have arrived
    STAFF_RETRY = "staff_retry"  # staff send a failed email again, with a fresh set of attempts
    STAFF_RESEND = "staff_resend"  # staff decide an uncertain email did not arrive: send it again


_ATTEMPT_UNDER_WAY = frozenset({EmailStatus.SENDING, EmailStatus.SENDING_DATA})
# An attempt's own outcome still counts when the sweep has meanwhile judged the row uncertain (the
# attempt outlived NOTIFICATION_STALE_SECONDS): the run that hears the answer knows better. The claim's
# timestamp must match, so an outcome never lands on a later attempt or on a row staff have resent.
_ATTEMPT_OUTCOME_FROM = frozenset({EmailStatus.SENDING_DATA, EmailStatus.UNCERTAIN})

EMAIL_TRANSITIONS: dict[EmailStep, tuple[frozenset[EmailStatus], EmailStatus]] = {
    EmailStep.CLAIMED: (frozenset({EmailStatus.PENDING}), EmailStatus.SENDING),
    EmailStep.HANDING_OVER: (frozenset({EmailStatus.SENDING}), EmailStatus.SENDING_DATA),
    EmailStep.ACCEPTED: (_ATTEMPT_OUTCOME_FROM, EmailStatus.SENT),
    EmailStep.REFUSED: (_ATTEMPT_UNDER_WAY | _ATTEMPT_OUTCOME_FROM, EmailStatus.PENDING),
    EmailStep.GIVEN_UP: (_ATTEMPT_UNDER_WAY | _ATTEMPT_OUTCOME_FROM, EmailStatus.FAILED),
    EmailStep.ANSWER_LOST: (_ATTEMPT_OUTCOME_FROM, EmailStatus.UNCERTAIN),
    EmailStep.INTERRUPTED_BEFORE_DATA: (frozenset({EmailStatus.SENDING}), EmailStatus.PENDING),
    EmailStep.INTERRUPTED_LAST_ATTEMPT: (frozenset({EmailStatus.SENDING}), EmailStatus.FAILED),
    EmailStep.INTERRUPTED_IN_DATA: (frozenset({EmailStatus.SENDING_DATA}), EmailStatus.UNCERTAIN),
    EmailStep.STAFF_RETRY: (frozenset({EmailStatus.FAILED}), EmailStatus.PENDING),
    EmailStep.STAFF_RESEND: (frozenset({EmailStatus.UNCERTAIN}), EmailStatus.PENDING),
}


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_outbox", "email_status", "next_attempt_at"),
        # The unread count every signed-in page shows, and the inbox newest first: both stay small reads however
        # much mail a person has had.
        sa.Index(
            "ix_notification_unread",
            "user_id",
            postgresql_where=sa.text("in_inbox IS TRUE AND read_at IS NULL"),
            sqlite_where=sa.text("in_inbox IS TRUE AND read_at IS NULL"),
        ),
        sa.Index(
            "ix_notification_inbox",
            "user_id",
            "created_at",
            "id",
            postgresql_where=sa.text("in_inbox IS TRUE"),
            sqlite_where=sa.text("in_inbox IS TRUE"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    email_to: Mapped[str | None] = mapped_column(sa.String(254))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    # One file sent with the email (an event's calendar entry, say): its name, MIME type and content.
    attachment_name: Mapped[str | None] = mapped_column(sa.String(100))
    attachment_type: Mapped[str | None] = mapped_column(sa.String(100))
    attachment: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    in_inbox: Mapped[bool] = mapped_column(default=True)
    email_status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus), default=EmailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the current (or, for an uncertain row, the last) attempt began: SENDING "since".
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Made by the first attempt and kept: every attempt, and any resend by staff, carries the same one.
    message_id: Mapped[str | None] = mapped_column(sa.String(300), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class NotificationPreference(Model):
    """Per user and kind: email as well as the inbox (the default), or the inbox only."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", name="uq_notification_preference_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    email: Mapped[bool] = mapped_column(default=True)
