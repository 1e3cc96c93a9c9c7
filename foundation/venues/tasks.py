"""Periodic booking tasks (Celery beat): reminders the day before, and the owners' daily request digest."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from foundation.extensions import db


@shared_task(name="foundation.venues.tasks.send_booking_reminders", ignore_result=True)
def send_booking_reminders() -> int:
    from foundation.venues import booking, reminders

    # Messages carry links built with url_for, which needs a request context outside a request.
    with current_app.test_request_context("/"):
        booking.begin_booking_transaction()
        sent = reminders.send_reminders()
        db.session.commit()
    return sent


@shared_task(name="foundation.venues.tasks.send_request_digests", ignore_result=True)
def send_request_digests() -> int:
    from foundation.venues import booking, reminders

    with current_app.test_request_context("/"):
        booking.begin_booking_transaction()
        sent = reminders.send_digests()
        db.session.commit()
    return sent
