"""A real `celery -A make_celery worker` (and beat) against Redis, delivering to a real SMTP server."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.members import accounts
from foundation.notifications import services
from foundation.notifications.models import EmailStatus, Notification, NotificationKind
from tests.factories import make_user
from tests.notifications.celery_support import require_shared_redis, wait_until
from tests.notifications.smtp import parts

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def broker() -> str:
    return require_shared_redis()


@pytest.fixture
def app_config(celery_config: dict) -> dict:
    return celery_config


def statuses(db) -> list[tuple[EmailStatus, int]]:
    db.session.commit()  # a fresh read: the worker writes from another process
    return list(
        db.session.execute(
            sa.select(Notification.email_status, Notification.attempts).order_by(Notification.id)
        )
    )


def all_sent(db) -> bool:
    return all(status is EmailStatus.SENT for status, _ in statuses(db))


def test_worker_delivers_what_a_service_commits(app, db, smtp, celery_procs, queue):
    celery_procs.worker(queue)
    ada, ben, cas = (
        make_user(email=f"{name}@example.org", name=name.title()) for name in ("ada", "ben", "cas")
    )
    db.session.commit()

    with app.test_request_context():
        accounts.request_password_reset("ada@example.org")
        accounts.request_password_reset("ben@example.org")
    accounts.set_password(cas, "a brand new password")
    assert smtp.messages == []
    db.session.commit()  # one transaction, three messages, handed to Redis once it commits

    try:
        smtp.wait_for(3, timeout=15)
        wait_until(lambda: all_sent(db), 10, "the worker to mark every row sent")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{celery_procs.logs()}") from exc
    assert sorted(m["To"] for m in smtp.messages) == ["ada@example.org", "ben@example.org", "cas@example.org"]
    text, html = parts(smtp.to("ada@example.org")[0])
    assert "Hello Ada" in text and "/password/reset/" in text and "/password/reset/" in html
    assert smtp.to("cas@example.org")[0]["Subject"] == "Your password was changed"
    assert statuses(db) == [(EmailStatus.SENT, 1)] * 3


def test_beat_sweeps_up_lost_hand_offs_and_retries_smtp_failures(
    app, db, smtp, celery_procs, queue, monkeypatch
):
    # The web process dies between its commit and the hand-off: the rows are there, no task is queued.
    monkeypatch.setattr(services, "enqueue", lambda ids: 0)
    users = [make_user(email=f"swept{i}@example.org") for i in range(3)]
    for user in users:
        services.notify(user, NotificationKind.GENERAL, "Your roles changed", "role_granted", roles=["staff"])
    db.session.commit()
    monkeypatch.undo()
    assert statuses(db) == [(EmailStatus.PENDING, 0)] * 3

    smtp.fail_next(2)  # and the SMTP server refuses the first two tries
    celery_procs.worker(queue)
    celery_procs.beat()  # sweeps every NOTIFICATION_SWEEP_SECONDS (1 s here)
    try:
        smtp.wait_for(3, timeout=15)
        wait_until(lambda: all_sent(db), 10, "the worker to mark every row sent")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{celery_procs.logs()}") from exc
    celery_procs.stop()  # nothing can arrive after this

    assert sorted(m["To"] for m in smtp.messages) == [u.email for u in users]
    assert set(smtp.per_message_id().values()) == {1}, "no message twice"
    assert smtp.refused_data == 2
    assert sum(attempts for _, attempts in statuses(db)) == 3 + 2
