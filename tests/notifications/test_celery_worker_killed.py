"""A real worker killed with SIGKILL in the middle of a send: the next worker and beat never send a second copy."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from foundation.notifications import services
from foundation.notifications.models import EmailStatus, Notification, NotificationKind
from tests.factories import make_user
from tests.notifications.celery_support import kill_now, require_shared_redis, wait_until

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def broker() -> str:
    return require_shared_redis()


@pytest.fixture
def celery_config(celery_config: dict) -> dict:
    # Beat sweeps every second; an attempt older than 2 s belongs to a dead worker.
    return {**celery_config, "MAIL_TIMEOUT": 10, "NOTIFICATION_STALE_SECONDS": 2}


@pytest.fixture
def app_config(celery_config: dict) -> dict:
    return celery_config


def row(db, nid: int) -> tuple[EmailStatus, int, str | None]:
    db.session.commit()  # a fresh read: the workers write from other processes
    found = db.session.execute(
        sa.select(Notification.email_status, Notification.attempts, Notification.message_id).where(
            Notification.id == nid
        )
    ).one()
    return found.email_status, found.attempts, found.message_id


def queue_one(db, email: str) -> int:
    user = make_user(email=email)
    n = services.notify(user, NotificationKind.GENERAL, "Your roles changed", "role_granted", roles=["x"])
    db.session.commit()  # handed to Redis after the commit
    return n.id


def test_worker_killed_while_waiting_for_the_data_answer_leaves_it_uncertain(
    app, db, smtp, celery_procs, queue
):
    smtp.answer_late(1, seconds=4)
    worker = celery_procs.worker(queue)
    nid = queue_one(db, "killed@example.org")
    try:
        wait_until(lambda: smtp.late_answers == 1, 20, "the worker to hand the message over")
        kill_now(worker)
        status, attempts, message_id = row(db, nid)
        assert (status, attempts) == (EmailStatus.SENDING_DATA, 1)  # recorded before the message went

        celery_procs.worker(queue)
        celery_procs.beat()
        wait_until(
            lambda: row(db, nid)[0] is EmailStatus.UNCERTAIN, 20, "the sweep to judge the dead attempt"
        )
        (msg,) = smtp.wait_for(1, timeout=15)  # the server delivers what it was given
        time.sleep(3)  # several more sweeps: none sends it again
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{celery_procs.logs()}") from exc
    celery_procs.stop()

    assert len(smtp.messages) == 1
    assert msg["Message-ID"] == message_id
    assert row(db, nid) == (EmailStatus.UNCERTAIN, 1, message_id)


def test_worker_killed_before_data_is_retried_once_with_the_same_message_id(
    app, db, smtp, celery_procs, queue
):
    hold = smtp.hold_next_rcpt()
    worker = celery_procs.worker(queue)
    nid = queue_one(db, "stalled@example.org")
    try:
        wait_until(lambda: smtp.held_rcpts == 1, 20, "the worker to reach RCPT")
        kill_now(worker)
        hold.set()
        status, attempts, message_id = row(db, nid)
        assert (status, attempts) == (EmailStatus.SENDING, 1)

        celery_procs.worker(queue)
        celery_procs.beat()
        (msg,) = smtp.wait_for(1, timeout=20)
        wait_until(lambda: row(db, nid)[0] is EmailStatus.SENT, 10, "the row to be marked sent")
        time.sleep(3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{celery_procs.logs()}") from exc
    celery_procs.stop()

    assert len(smtp.messages) == 1
    assert msg["Message-ID"] == message_id
    assert row(db, nid) == (EmailStatus.SENT, 2, message_id)
