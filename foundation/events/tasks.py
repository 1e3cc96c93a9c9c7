"""Periodic tasks for registrations (Celery beat): lapsed offers and unpaid places pass on, day-before reminders,
feedback requests; and the refunds of fees asked for after a cancellation commits.
Each has a command to run it by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from celery import shared_task
from flask import current_app

from foundation.events import bp
from foundation.extensions import db


def _moment(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None


def _each_event(event_ids: Callable[[], list[int]], release: Callable[[int], int]) -> int:
    """Run `release` on each event `event_ids` names, each in its own transaction under its lock; how many
    entries it released in all."""
    released = 0
    for event_id in event_ids():
        db.session.commit()
        released += release(event_id)
        db.session.commit()
    return released


@shared_task(name="foundation.events.tasks.lapse_offers", ignore_result=True)
def lapse_offers(at: str | None = None) -> int:
    """Cancel offers past their time and offer their places to the next entries that fit."""
    from foundation.events import registrations

    now = _moment(at)
    with current_app.test_request_context("/"):
        return _each_event(
            lambda: registrations.events_with_lapsed_offers(now),
            lambda event_id: registrations.lapse_offers(event_id, now),
        )


@shared_task(name="foundation.events.tasks.lapse_unpaid", ignore_result=True)
def lapse_unpaid(at: str | None = None) -> int:
    """Release places held for a fee not paid in time and offer them on; then ask again for any refund of a
    cancelled entry's fee that a lost task left."""
    from foundation.events import fees

    now = _moment(at)
    with current_app.test_request_context("/"):
        released = _each_event(
            lambda: fees.events_with_unpaid_places(now),
            lambda event_id: fees.lapse_unpaid(event_id, now),
        )
        owed = fees.entries_owed_refunds()
        db.session.commit()
        if owed:
            fees.refund_due_fees(owed)
            db.session.commit()
    return released


@shared_task(name="foundation.events.tasks.refund_fees", ignore_result=True)
def refund_fees(entry_ids: list[int]) -> int:
    """Ask for the fees of cancelled entries to be paid back (after the cancellation committed)."""
    from foundation.events import fees

    asked = fees.refund_due_fees(entry_ids)
    db.session.commit()
    return asked


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
    """Cancel waiting-list offers past their time, and entries whose fee was not paid in time, and pass their
    places on."""
    click.echo(f"{lapse_offers.run()} offer(s) lapsed.")
    click.echo(f"{lapse_unpaid.run()} unpaid entr(ies) released.")


@bp.cli.command("send-reminders")
def send_reminders_command() -> None:
    """Send the day-before reminders and the feedback requests that are due (nothing is sent twice)."""
    reminders = send_event_reminders.run()
    requests = send_feedback_requests.run()
    click.echo(f"{reminders} reminder(s) and {requests} feedback request(s) sent.")
