"""Periodic member tasks."""

from __future__ import annotations

from celery import shared_task

from foundation.extensions import db


@shared_task(name="foundation.members.tasks.send_document_reminders", ignore_result=True)
def send_document_reminders() -> int:
    from foundation.members.documents import send_expiry_reminders

    sent = send_expiry_reminders()
    db.session.commit()
    return sent
