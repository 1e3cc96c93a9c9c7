"""Waking the worker through a real Redis broker: one wake-up while a run is queued and has not started, however
many events are stored meanwhile; the next event after a run starts wakes it again; a Redis that cannot keep the
flag never stops a wake-up."""

from __future__ import annotations

import uuid

import pytest
import redis
import sqlalchemy as sa

from foundation.payments import service, tasks
from foundation.payments.models import EventStatus, PaymentEvent
from tests.notifications.celery_support import forget_queue, require_shared_redis
from tests.notifications.smtp import free_port


@pytest.fixture
def queue() -> str:
    return f"wypf-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config(app_config: dict, queue: str) -> dict:
    return {**app_config, "CELERY_BROKER_URL": require_shared_redis(), "CELERY_TASK_QUEUE": queue}


@pytest.fixture
def wakes(app, monkeypatch, queue):
    """Each wake-up handed to the broker (the event ids), without a worker to take it."""
    woken: list[list[int]] = []
    task = app.extensions["celery"].tasks[tasks.apply_events.name]
    monkeypatch.setattr(task, "delay", lambda ids: woken.append(list(ids)))
    flag = redis.Redis.from_url(app.config["CELERY_BROKER_URL"])
    key = f"wypf:payments:apply-queued:{queue}"
    yield woken, flag, key
    flag.delete(key)
    forget_queue(app.config["CELERY_BROKER_URL"], queue)


def stored_ids(db) -> list[int]:
    db.session.rollback()
    assert set(db.session.scalars(sa.select(PaymentEvent.status))) == {EventStatus.RECEIVED}
    return list(db.session.scalars(sa.select(PaymentEvent.id).order_by(PaymentEvent.id)))


def test_one_wake_up_while_a_run_is_queued_and_another_once_it_starts(
    db, stripe_standin, checkout, webhook, wakes
):
    woken, flag, key = wakes
    sessions = [checkout(2500)[1] for _ in range(4)]
    for session_id in sessions[:3]:
        assert webhook(stripe_standin.completed_event(session_id)).text == "Received."
    first = stored_ids(db)
    assert woken == [first[:1]], "the later events are read by the run already queued"
    assert 0 < flag.ttl(key) <= service.WAKE_FLAG_SECONDS

    service.lower_wake_flag()  # what a run does as it starts, before it reads the events
    assert flag.exists(key) == 0
    assert webhook(stripe_standin.completed_event(sessions[3])).text == "Received."
    assert woken == [first[:1], stored_ids(db)[3:]]


def test_a_redis_that_cannot_keep_the_flag_never_stops_a_wake_up(
    app, db, stripe_standin, checkout, webhook, wakes
):
    woken, _, _ = wakes
    app.config["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for _ in range(2):
        assert webhook(stripe_standin.completed_event(checkout(2500)[1])).text == "Received."
    assert woken == [[i] for i in stored_ids(db)]
