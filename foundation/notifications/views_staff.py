"""Staff view of the email outbox: what may have arrived, what failed and why, what is waiting; sending again."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from foundation.auth import log_event
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.navigation import staff_area
from foundation.notifications import bp, services
from foundation.notifications.models import EmailStatus, Notification
from foundation.pagination import PER_PAGE, page_number, paginate
from foundation.permissions import staff_required

SHOWN = 20  # newest of each kind on the overview; each kind has its own pages too
SECTIONS: dict[str, tuple[EmailStatus, ...]] = {
    "uncertain": (EmailStatus.UNCERTAIN,),
    "failed": (EmailStatus.FAILED,),
    "waiting": (EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.SENDING_DATA),
}
WAITING = SECTIONS["waiting"]


def _rows(statuses: tuple[EmailStatus, ...]) -> sa.Select[tuple[Notification]]:
    return (
        sa.select(Notification)
        .where(Notification.email_status.in_(statuses))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def _render_outbox(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    counts: dict[EmailStatus, int] = {
        status: count
        for status, count in db.session.execute(
            sa.select(Notification.email_status, sa.func.count(Notification.id))
            .where(Notification.email_status.in_([*WAITING, EmailStatus.FAILED, EmailStatus.UNCERTAIN]))
            .group_by(Notification.email_status)
        )
    }
    section = request.args.get("section")
    if section not in SECTIONS:
        section = None
    # The overview shows the newest of each kind; one kind alone comes a page at a time.
    pages = {
        name: paginate(
            _rows(statuses), page_number() if name == section else 1, PER_PAGE if section else SHOWN
        )
        for name, statuses in SECTIONS.items()
        if section in (None, name)
    }
    return render_template(
        "notifications/staff_outbox.html",
        section=section,
        pages=pages,
        uncertain_count=counts.get(EmailStatus.UNCERTAIN, 0),
        failed_count=counts.get(EmailStatus.FAILED, 0),
        waiting_count=sum(counts.get(status, 0) for status in WAITING),
        error=error,
        max_attempts=services.max_attempts(),
    ), status


staff_area("Outbox", "notifications.staff_outbox", "Messages sent, waiting and failed, with retries.", 80)


@bp.get("/staff/outbox")
@staff_required
def staff_outbox() -> ResponseReturnValue:
    return _render_outbox()


@bp.post("/staff/outbox/<int:notification_id>/retry")
@staff_required
def staff_retry(notification_id: int) -> ResponseReturnValue:
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
