"""Reading the provider's fee once a payment has succeeded, and a sweep for fees nobody has read."""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from flask import current_app

from foundation.extensions import db
from foundation.payments import service
from foundation.types import utcnow

# A provider settles its fee within minutes; ask again after 1, 2, 4 ... minutes, then leave it to the sweep.
FEE_RETRIES = 6


@shared_task(
    name="foundation.payments.tasks.record_fee", bind=True, ignore_result=True, max_retries=FEE_RETRIES
)
def record_fee(self: Task, payment_id: int) -> str:
    try:
        done = service.record_fee(payment_id)
        db.session.commit()
    except Exception as exc:  # the provider's network or API: nothing was recorded; ask again later
        db.session.rollback()
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    if done == "not yet" and not self.request.is_eager:
        raise self.retry(countdown=60 * 2**self.request.retries)
    return done


@shared_task(name="foundation.payments.tasks.sweep_fees", ignore_result=True)
def sweep_fees() -> int:
    """Run by Celery beat: ask again for the fee of every payment of the last 30 days whose fee is unread."""
    now = utcnow()
    ids = service.fees_to_read(
        settled_before=now - timedelta(minutes=10), settled_after=now - timedelta(days=30)
    )
    db.session.commit()
    task = current_app.extensions["celery"].tasks[record_fee.name]
    for payment_id in ids:
        task.delay(payment_id)
    return len(ids)
