"""Celery tasks: take ids, never ORM objects."""

from __future__ import annotations

from celery import shared_task

from foundation.notifications import services


@shared_task(name="foundation.notifications.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> str | None:
    status = services.deliver(notification_id)
    return status.value if status else None


@shared_task(name="foundation.notifications.tasks.sweep_unsent", ignore_result=True)
def sweep_unsent() -> int:
    """Run by Celery beat every NOTIFICATION_SWEEP_SECONDS: nothing unsent is left behind."""
    return services.sweep()
