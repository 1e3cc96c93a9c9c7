"""Things waiting on the dashboard from notifications: unread messages; for staff, emails that did not go."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from foundation.extensions import db
from foundation.notifications.models import EmailStatus, Notification
from foundation.notifications.services import unread_count
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, todo_section


@todo_section("notifications", order=5)
def notifications_todo(viewer: Viewer) -> list[TodoGroup]:
    unread = unread_count(viewer.user)  # read with the sign-in: no query of its own
    groups = []
    if unread:
        groups.append(
            TodoGroup(
                Audience.YOU,
                "Messages",
                [
                    TodoItem(
                        f"{unread} unread message{'s' if unread != 1 else ''}", url_for("notifications.inbox")
                    )
                ],
                1,
            )
        )
    if viewer.user.is_staff:
        groups.append(_undelivered())
    return groups


def _undelivered() -> TodoGroup:
    counts = dict(
        db.session.execute(
            sa.select(Notification.email_status, sa.func.count(Notification.id))
            .where(Notification.email_status.in_([EmailStatus.FAILED, EmailStatus.UNCERTAIN]))
            .group_by(Notification.email_status)
        )
        .tuples()
        .all()
    )
    items = []
    failed, uncertain = counts.get(EmailStatus.FAILED, 0), counts.get(EmailStatus.UNCERTAIN, 0)
    if failed:
        items.append(
            TodoItem(
                f"{failed} email{'s' if failed != 1 else ''} failed",
                url_for("notifications.staff_outbox", section="failed"),
                detail="Check the address and try again",
                urgent=True,
            )
        )
    if uncertain:
        items.append(
            TodoItem(
                f"{uncertain} email{'s' if uncertain != 1 else ''} may not have arrived",
                url_for("notifications.staff_outbox", section="uncertain"),
                detail="The mail server never confirmed them",
            )
        )
    return TodoGroup(Audience.STAFF, "Emails", items, len(items))
