"""What the outbox and inbox hold about a person, and what closing their account erases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import User
from foundation.notifications.models import EmailStatus, Notification, NotificationPreference
from foundation.privacy import ERASED_TEXT, closed_email, export_section, on_close, plain


def _notification_filter(user: User) -> sa.ColumnElement[bool]:
    # Mail sent to the address before it had an account (an invitation, say) is theirs too.
    return sa.or_(
        Notification.user_id == user.id,
        sa.and_(Notification.user_id.is_(None), Notification.email_to == user.email),
    )


@export_section("notifications", covers=("notification.user_id",))
def _notifications(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Notification).where(_notification_filter(user)).order_by(Notification.created_at)
    )
    keep = (
        "id", "kind", "subject", "body_text", "link", "in_inbox", "email_to", "email_status",
        "sent_at", "read_at", "created_at",
    )  # fmt: skip
    return [{k: plain(getattr(n, k)) for k in keep} for n in rows]


@export_section("notification_preferences", covers=("notification_preference.user_id",))
def _preferences(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.id)
    )
    return [{"kind": p.kind.value, "by_email": p.email} for p in rows]


@on_close
def _erase_notifications(user: User) -> None:
    mine = _notification_filter(user)
    db.session.execute(
        sa.delete(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    # Unsent mail and inbox-only messages go; what was (or may have been) sent stays as a bare record
    # without the content.
    maybe_sent = [EmailStatus.SENT, EmailStatus.SENDING, EmailStatus.SENDING_DATA, EmailStatus.UNCERTAIN]
    db.session.execute(
        sa.delete(Notification)
        .where(mine, Notification.email_status.notin_(maybe_sent))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Notification)
        .where(mine)
        .values(
            email_to=closed_email(user),
            body_text=ERASED_TEXT,
            body_html=None,
            link=None,
            attachment=None,
            attachment_name=None,
            attachment_type=None,
        )
        .execution_options(synchronize_session=False)
    )
