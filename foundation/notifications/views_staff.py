"""Staff view of the email outbox: what may have arrived, what failed and why, what is waiting; sending again."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from foundation.auth import log_event
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.notifications import bp, services
from foundation.notifications.models import EmailStatus, Notification
from foundation.permissions import staff_required

SHOWN = 100
WAITING = (EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.SENDING_DATA)


def _rows(*statuses: EmailStatus) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.email_status.in_(statuses))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(SHOWN)
        )
    )


def _render_outbox(error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    counts: dict[EmailStatus, int] = {
        status: count
        for status, count in db.session.execute(
            sa.select(Notification.email_status, sa.func.count(Notification.id))
            .where(Notification.email_status.in_([*WAITING, EmailStatus.FAILED, EmailStatus.UNCERTAIN]))
            .group_by(Notification.email_status)
        )
    }
    return render_template(
        "notifications/staff_outbox.html",
        uncertain=_rows(EmailStatus.UNCERTAIN),
        failed=_rows(EmailStatus.FAILED),
        waiting=_rows(*WAITING),
        uncertain_count=counts.get(EmailStatus.UNCERTAIN, 0),
        failed_count=counts.get(EmailStatus.FAILED, 0),
        waiting_count=sum(counts.get(status, 0) for status in WAITING),
        shown=SHOWN,
        error=error,
        max_attempts=services.max_attempts(),
    ), status


@bp.get("/staff/outbox")
@staff_required
def staff_outbox():  # type: ignore[no-untyped-def]
    return _render_outbox()


@bp.post("/staff/outbox/<int:notification_id>/retry")
@staff_required
def staff_retry(notification_id: int):  # type: ignore[no-untyped-def]
    n = db.get_or_404(Notification, notification_id)
    was = n.email_status
    try:
        services.retry(n)
    except DomainError as exc:
        db.session.rollback()
        return _render_outbox(error=exc.message, status=exc.status_code)
    db.session.commit()
    log_event("notification_retry", user=current_user.id, notification=notification_id, was=was.value)
    flash(f"The email “{n.subject}” to {n.email_to} is queued to be sent again.", "success")
    return redirect(url_for("notifications.staff_outbox"))
