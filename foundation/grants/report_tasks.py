"""Reminders (Celery beat): end-of-grant reports and the panel's review deadline, with commands to run them by hand."""

from __future__ import annotations

from collections.abc import Callable

import click
from celery import shared_task
from flask import current_app

from foundation.db_setup import begin_write_transaction
from foundation.extensions import db
from foundation.grants import bp


def _sweep(send: Callable[[], int]) -> int:
    """Run a reminder sweep in one write transaction. Messages carry links built with url_for, which needs a
    request context outside a request."""
    with current_app.test_request_context("/"):
        begin_write_transaction()
        sent = send()
        db.session.commit()
    return sent


@shared_task(name="foundation.grants.report_tasks.send_report_reminders", ignore_result=True)
def send_report_reminders() -> int:
    """Remind organisations 14 days before their report is due and on the day. Each reminder goes once, so
    running this more often than daily only makes a late run catch up sooner."""
    from foundation.grants import reports

    return _sweep(reports.send_report_reminders)


@bp.cli.command("send-report-reminders")
def send_report_reminders_command() -> None:
    """Remind grant holders of end-of-grant reports due in 14 days or today."""
    sent = send_report_reminders.run()
    click.echo(f"{sent} end-of-grant report reminder(s) sent.")


@shared_task(name="foundation.grants.report_tasks.send_review_deadline_reminders", ignore_result=True)
def send_review_deadline_reminders() -> int:
    """Remind panel reviewers a week and two days before their round's review deadline, and on the day."""
    from foundation.grants import reviews

    return _sweep(reviews.send_deadline_reminders)


@bp.cli.command("send-review-reminders")
def send_review_deadline_reminders_command() -> None:
    """Remind panel reviewers of reviews due within a week, in two days or today."""
    sent = send_review_deadline_reminders.run()
    click.echo(f"{sent} review deadline reminder(s) sent.")
