"""Periodic tasks for funding opportunities (Celery beat), with commands to run them by hand."""

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
