"""Periodic member tasks (Celery beat), with a command to run them by hand."""

from __future__ import annotations

import click
from celery import shared_task
from flask import current_app

from foundation.extensions import db
from foundation.members import bp


@shared_task(name="foundation.members.tasks.send_document_reminders", ignore_result=True)
def send_document_reminders() -> int:
    """Remind admins of documents expiring in 30 and 7 days. Each reminder goes once, so running this more
    often than daily only makes a late run catch up sooner."""
    from foundation.members.documents import send_document_reminders as sweep

    # Messages carry links built with url_for, which needs a request context outside a request.
    with current_app.test_request_context("/"):
        sent = sweep()
        db.session.commit()
    return sent


@bp.cli.command("send-document-reminders")
def send_document_reminders_command() -> None:
    """Remind organisations' admins of safeguarding policies and insurance about to expire."""
    sent = send_document_reminders.run()
    click.echo(f"{sent} document reminder(s) sent.")
