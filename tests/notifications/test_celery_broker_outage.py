"""The broker stops and starts again while a real worker runs: mail is delayed, never lost, never doubled.

Uses a private redis-server (never the shared one), stopped and restarted in the middle of the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.members import accounts
from foundation.notifications.models import EmailStatus, Notification
from foundation.notifications.tasks import sweep_unsent
from tests.factories import make_user
from tests.notifications.celery_support import PrivateRedis, wait_until

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(private_redis: PrivateRedis) -> str:
    return private_redis.url


@pytest.fixture
def app_config(celery_config: dict) -> dict:
    return celery_config


def test_broker_outage_delays_mail_but_loses_none_and_doubles_none(
    app, db, smtp, celery_procs, private_redis, queue
):
    users = [make_user(email=f"member{i}@example.org") for i in range(5)]
    db.session.commit()

    def change_password(user) -> None:
        accounts.set_password(user, "another long password")
        db.session.commit()

    def rows() -> list[tuple[str, EmailStatus]]:
        db.session.commit()  # a fresh read: the worker writes from another process
        return list(
            db.session.execute(
                sa.select(Notification.email_to, Notification.email_status).order_by(Notification.id)
            )
        )

    def settled() -> None:
        # Wait for the worker's own writes to land before the test writes again: SQLite cannot turn a
        # transaction that has read into a writer once another connection has committed meanwhile.
        wait_until(lambda: all(s is EmailStatus.SENT for _, s in rows()), 10, "every row marked sent")

    celery_procs.worker(queue)
    try:
        change_password(users[0])
        smtp.wait_for(1, timeout=15)  # the worker is up and delivering
        settled()
        change_password(users[1])
        smtp.wait_for(2, timeout=15)
        settled()

        private_redis.stop()
        for user in users[2:]:
            change_password(user)  # the commit succeeds with the broker down ...
        waiting = rows()[2:]
        assert [status for _, status in waiting] == [EmailStatus.PENDING] * 3  # ... and the rows wait
        assert len(smtp.messages) == 2

        private_redis.start()  # empty: whatever it held is gone
        # Two sweeps, as beat would send them: every waiting row is handed over twice.
        sweep_unsent.delay()
        sweep_unsent.delay()
        smtp.wait_for(5, timeout=15)
        settled()
        # One worker takes tasks in order, so once this last message arrives every earlier task has run.
        change_password(users[0])
        smtp.wait_for(6, timeout=15)
        settled()
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{celery_procs.logs()}") from exc
    celery_procs.stop()

    assert sorted(m["To"] for m in smtp.messages) == sorted([u.email for u in users] + [users[0].email])
    assert set(smtp.per_message_id().values()) == {1}, "no message twice"
    assert len(rows()) == 6
