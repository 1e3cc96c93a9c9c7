"""End-of-grant report reminders (Celery beat), with a command to run them by hand."""

from __future__ import annotations

import click
from celery import shared_task
from flask import current_app

from foundation.db_setup import begin_write_transaction
from foundation.extensions import db
from foundation.grants import bp


@shared_task(name="foundation.grants.report_tasks.send_report_reminders", ignore_result=True)
def send_report_reminders() -> int:
    """Remind organisations 14 days before their report is due and on the day. Each reminder goes once, so
    running this more often than daily only makes a late run catch up sooner."""
    from foundation.grants import reports

    # Messages carry links built with url_for, which needs a request context outside a request.
    with current_app.test_request_context("/"):
        begin_write_transaction()
        sent = reports.send_report_reminders()
        db.session.commit()
    return sent


@bp.cli.command("send-report-reminders")
def send_report_reminders_command() -> None:
    """Remind grant holders of end-of-grant reports due in 14 days or today."""
    sent = send_report_reminders.run()
    click.echo(f"{sent} end-of-grant report reminder(s) sent.")
