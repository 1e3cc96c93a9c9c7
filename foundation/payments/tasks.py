"""Applying stored provider events, reading the provider's fee once a payment has succeeded, and the sweeps that
pick up whatever a lost task left behind."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError
from flask import current_app

from foundation.extensions import db
from foundation.payments import service
from foundation.types import utcnow

log = logging.getLogger(__name__)

# A provider settles its fee within minutes; ask again after 1, 2, 4 ... minutes, then leave it to the sweep.
FEE_RETRIES = 6
# An event still waiting this long after it was stored lost its wake-up: beat's sweep applies it.
EVENT_GRACE = timedelta(seconds=30)
# A worker's run looks for more events this often, and ends after this long without any.
APPLY_POLL = timedelta(milliseconds=100)
APPLY_LINGER = timedelta(seconds=1)


@shared_task(name="foundation.payments.tasks.apply_events", bind=True, ignore_result=True)
def apply_events(self: Task, event_ids: Sequence[int] | None = None) -> int:
    """Woken after events are stored: apply every stored event not yet applied, oldest first, a batch per
    transaction, until none is left (`event_ids`, those that woke it, among them). During a burst the run keeps
    going while events keep coming (until APPLY_LINGER of quiet), rather than waiting for its next wake-up behind
    the receipts and fee reads its batches queued: the money is counted first. How many were applied."""
    service.lower_wake_flag()
    applied = apply_all()
    if self.request.is_eager:
        return applied
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < APPLY_LINGER.total_seconds():
        time.sleep(APPLY_POLL.total_seconds())
        waiting = service.waiting_events(1)
        db.session.rollback()
        if not waiting:
            continue
        more = apply_all()
        if not more:  # what waits cannot be applied now (it failed): the next run tries it again
            break
        applied += more
        quiet_since = time.monotonic()
    return applied


def apply_all(batch_size: int = service.APPLY_BATCH) -> int:
    """Apply stored events until none is left, committing each batch. A batch that fails (a lock timeout, a bug)
    is rolled back and its events are tried one at a time: one that fails alone stays stored, with the later
    events of its payment, for the next run, and the others are applied. How many were applied."""
    applied = 0
    held_back: set[int] = set()  # payments whose next event failed in this run
    while True:
        try:
            done = service.apply_next_batch(batch_size, held_back)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("a batch of payment events failed; applying them one at a time")
            moved = _one_at_a_time(batch_size, held_back)
            if moved is None:
                return applied
            applied += moved
            continue
        applied += done
        if done < batch_size:
            return applied


def _one_at_a_time(count: int, held_back: set[int]) -> int | None:
    """Apply up to `count` events one per transaction; how many were applied, or None if nothing moved (no event
    applied and no payment newly held back)."""
    done = 0
    held_before = len(held_back)
    for _ in range(count):
        waiting = service.waiting_events(1, held_back)
        db.session.rollback()
        if not waiting:
            break
        event_id, payment_id = waiting[0]
        try:
            done += service.apply_next_batch(1, held_back)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("payment event %s could not be applied; it waits for the next run", event_id)
            if payment_id is None:
                break
            held_back.add(payment_id)
    return done if done or len(held_back) > held_before else None


@shared_task(name="foundation.payments.tasks.sweep_events", ignore_result=True)
def sweep_events() -> int:
    """Run by Celery beat: apply any stored event whose wake-up was lost (the broker was down when it was stored,
    or a worker died mid-run)."""
    waiting = service.events_waiting_since(utcnow() - EVENT_GRACE)
    db.session.commit()
    if not waiting:
        return 0
    log.warning("%s stored payment events were waiting: applying them", waiting)
    return apply_all()


@shared_task(
    name="foundation.payments.tasks.record_fees", bind=True, ignore_result=True, max_retries=FEE_RETRIES
)
def record_fees(self: Task, payment_ids: list[int]) -> dict[int, str]:
    """Read and record the provider's fee on payments that succeeded; ask again later for those it has not
    settled yet."""
    try:
        done = service.read_fees(payment_ids)
        db.session.commit()
    except Exception as exc:  # nothing was recorded; ask again later
        db.session.rollback()
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    waiting = [payment_id for payment_id, what in done.items() if what == service.NOT_YET]
    if waiting and not self.request.is_eager:
        try:
            raise self.retry(args=(waiting,), countdown=60 * 2**self.request.retries)
        except MaxRetriesExceededError:
            log.info("fees of %s payments still unread: left for the sweep", len(waiting))
    return done


@shared_task(
    name="foundation.payments.tasks.record_fee", bind=True, ignore_result=True, max_retries=FEE_RETRIES
)
def record_fee(self: Task, payment_id: int) -> str:
    """One payment's fee (`record_fees`); kept for tasks queued before fees were read in batches."""
    try:
        done = service.record_fee(payment_id)
        db.session.commit()
    except Exception as exc:  # the provider's network or API: nothing was recorded; ask again later
        db.session.rollback()
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    if done == service.NOT_YET and not self.request.is_eager:
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
    task = current_app.extensions["celery"].tasks[record_fees.name]
    for at in range(0, len(ids), service.FEES_PER_TASK):
        task.delay(ids[at : at + service.FEES_PER_TASK])
    return len(ids)


@shared_task(name="foundation.payments.tasks.ask_refunds", ignore_result=True)
def ask_refunds(payment_ids: list[int]) -> dict[int, str]:
    """Ask the provider to refund payments a capability wants paid back (each once: the provider's idempotency
    key). Those it could not be asked about now are asked again by the sweep."""
    return service.ask_refunds(payment_ids)


@shared_task(name="foundation.payments.tasks.sweep_refunds", ignore_result=True)
def sweep_refunds() -> int:
    """Run by Celery beat: ask again for every refund requested a while ago that the provider has not made yet
    (the task was lost, or the provider could not be reached)."""
    ids = service.refunds_to_ask(utcnow() - timedelta(minutes=service.ASK_AGAIN_AFTER_MINUTES))
    db.session.commit()
    if ids:
        service.ask_refunds(ids)
    return len(ids)
