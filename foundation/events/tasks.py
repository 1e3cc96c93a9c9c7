"""Periodic tasks for registrations (Celery beat): lapsed offers pass on, day-before reminders, feedback requests.
Each has a command to run it by hand."""

from __future__ import annotations

from datetime import datetime

import click
from celery import shared_task
from flask import current_app

from foundation.events import bp
from foundation.extensions import db


def _moment(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None


@shared_task(name="foundation.events.tasks.lapse_offers", ignore_result=True)
def lapse_offers(at: str | None = None) -> int:
    """Cancel offers past their time and offer their places to the next entries that fit (each event in its own
    transaction, under its lock)."""
    from foundation.events import registrations

    now = _moment(at)
    lapsed = 0
    with current_app.test_request_context("/"):
        for event_id in registrations.events_with_lapsed_offers(now):
            db.session.commit()
            lapsed += registrations.lapse_offers(event_id, now)
            db.session.commit()
    return lapsed


@shared_task(name="foundation.events.tasks.send_event_reminders", ignore_result=True)
def send_event_reminders(at: str | None = None) -> int:
    """The day-before reminder to everyone registered (each entry once)."""
    from foundation.events import registrations

    with current_app.test_request_context("/"):
        sent = registrations.send_reminders(_moment(at))
        db.session.commit()
    return sent


@shared_task(name="foundation.events.tasks.send_feedback_requests", ignore_result=True)
def send_feedback_requests(at: str | None = None) -> int:
    """Ask the people who attended an event that has ended for their feedback (each entry once)."""
    from foundation.events import registrations

    with current_app.test_request_context("/"):
        sent = registrations.send_feedback_requests(_moment(at))
        db.session.commit()
    return sent


@bp.cli.command("lapse-offers")
def lapse_offers_command() -> None:
    """Cancel waiting-list offers past their time and pass their places on."""
    click.echo(f"{lapse_offers.run()} offer(s) lapsed.")


@bp.cli.command("send-reminders")
def send_reminders_command() -> None:
    """Send the day-before reminders and the feedback requests that are due (nothing is sent twice)."""
    reminders = send_event_reminders.run()
    requests = send_feedback_requests.run()
    click.echo(f"{reminders} reminder(s) and {requests} feedback request(s) sent.")
