"""The in-app inbox and per-kind delivery preferences."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.extensions import db
from foundation.notifications import bp, services
from foundation.notifications.models import Notification
from foundation.pagination import page_number, paginate
from foundation.web import safe_next

PAGE_SIZE = 30
CHOICES = {"email": True, "inbox": False}


def _own(notification_id: int) -> Notification:
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != current_user.id or not n.in_inbox:
        abort(404)
    return n


@bp.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    only_unread = request.args.get("unread") == "1"
    stmt = sa.select(Notification).where(
        Notification.user_id == current_user.id, Notification.in_inbox.is_(True)
    )
    if only_unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    items = paginate(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc()), page_number(), PAGE_SIZE
    )
    return render_template("notifications/inbox.html", items=items, only_unread=only_unread)


@bp.get("/inbox/<int:notification_id>")
@login_required
def show(notification_id: int) -> ResponseReturnValue:
    n = _own(notification_id)
    if n.read_at is None:
        services.mark_read(n)
        db.session.commit()
    return render_template("notifications/show.html", n=n, link=safe_next(n.link) if n.link else None)


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> ResponseReturnValue:
    services.mark_read(_own(notification_id))
    db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("notifications.inbox"))


@bp.post("/inbox/read-all")
@login_required
def mark_all_read() -> ResponseReturnValue:
    services.mark_all_read(current_user)
    db.session.commit()
    flash("All notifications are marked as read.", "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/inbox/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    choices = services.email_choices(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        wanted = {}
        for kind in choices:
            value = request.form.get(f"kind-{kind.value}")
            if value is None:
                continue  # not on the form sent: keep what was chosen before
            if value not in CHOICES:
                errors[kind.value] = "Choose email and inbox, or inbox only."
                continue
            wanted[kind] = CHOICES[value]
        if not errors:
            services.save_email_choices(current_user, wanted)
            db.session.commit()
            flash("Your notification choices are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", choices=choices, errors=errors), (
        422 if errors else 200
    )
