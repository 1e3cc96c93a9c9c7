"""Periodic tasks for funding opportunities and bids (Celery beat), with commands to run them by hand."""

from __future__ import annotations

from datetime import date

import click
from celery import shared_task
from flask import current_app

from foundation.bids import bp
from foundation.extensions import db


@shared_task(name="foundation.bids.tasks.close_due_opportunities", ignore_result=True)
def close_due_opportunities() -> int:
    """Close published opportunities whose deadline has passed. Running it again changes nothing."""
    from foundation.bids.opportunities import close_due

    closed = close_due()
    db.session.commit()
    return len(closed)


@shared_task(name="foundation.bids.tasks.send_weekly_digest", ignore_result=True)
def send_weekly_digest(on: str | None = None) -> int:
    """This week's digest to everyone interested who has not had it (each person once a week)."""
    from foundation.bids.interests import send_weekly_digests

    # Messages carry links built with url_for, which needs a request context outside a request.
    with current_app.test_request_context("/"):
        sent = send_weekly_digests(date.fromisoformat(on) if on else None)
        db.session.commit()
    return sent


@bp.cli.command("send-digest")
@click.option("--on", help="Send as if today were this date (YYYY-MM-DD).")
def send_digest_command(on: str | None) -> None:
    """Send this week's funding digest to members whose interests match (nobody gets a week twice)."""
    sent = send_weekly_digest.run(on)
    click.echo(f"{sent} funding digest(s) sent.")


@bp.cli.command("close-due-opportunities")
def close_due_opportunities_command() -> None:
    """Close funding opportunities whose deadline has passed."""
    closed = close_due_opportunities.run()
    click.echo(f"{closed} opportunit{'y' if closed == 1 else 'ies'} closed.")


@shared_task(name="foundation.bids.tasks.send_bid_reminders", ignore_result=True)
def send_bid_reminders(on: str | None = None) -> tuple[int, int]:
    """Remind task owners before their tasks are due and bid teams before the funder's deadline (each once)."""
    from foundation.bids.teamwork import send_deadline_reminders, send_task_reminders

    today = date.fromisoformat(on) if on else None
    with current_app.test_request_context("/"):
        tasks = send_task_reminders(today)
        deadlines = send_deadline_reminders(today)
        db.session.commit()
    return tasks, deadlines


@bp.cli.command("send-bid-reminders")
@click.option("--on", help="Send as if today were this date (YYYY-MM-DD).")
def send_bid_reminders_command(on: str | None) -> None:
    """Remind task owners and bid teams of what is due (nothing is sent twice)."""
    tasks, deadlines = send_bid_reminders.run(on)
    click.echo(f"{tasks} task reminder(s) and {deadlines} deadline reminder(s) sent.")


@shared_task(name="foundation.bids.tasks.send_return_reminders", ignore_result=True)
def send_return_reminders(on: str | None = None) -> int:
    """Remind partners of monitoring returns due in 14 and 3 days, and of overdue ones (each reminder once)."""
    from foundation.bids.monitoring import send_return_reminders as remind

    today = date.fromisoformat(on) if on else None
    with current_app.test_request_context("/"):
        sent = remind(today)
        db.session.commit()
    return sent


@bp.cli.command("send-return-reminders")
@click.option("--on", help="Send as if today were this date (YYYY-MM-DD).")
def send_return_reminders_command(on: str | None) -> None:
    """Remind partners of the monitoring returns they owe (nothing is sent twice)."""
    sent = send_return_reminders.run(on)
    click.echo(f"{sent} monitoring return reminder(s) sent.")
