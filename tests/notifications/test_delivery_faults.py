"""At most once per attempt, against a real SMTP server that is slow to answer, refuses, or stalls.

A failure the server cannot have taken the message through is retried; a failure after the whole message was
sent leaves the row uncertain for staff, and no retry, sweep or redelivered task sends a second copy.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from foundation.notifications import services
from foundation.notifications.models import EmailStatus, Notification, NotificationKind
from foundation.types import utcnow
from tests.factories import make_user
from tests.notifications.celery_support import wait_until


@pytest.fixture
def app_config(smtp_config: dict) -> dict:
    return {**smtp_config, "NOTIFICATION_SWEEP_GRACE_SECONDS": 0}


def general(email: str) -> Notification:
    user = make_user(email=email)
    return services.notify(user, NotificationKind.GENERAL, "Your roles changed", "role_granted", roles=["x"])


def make_due(db, n: Notification) -> None:
    """Time passes: the backoff is over."""
    db.session.refresh(n)
    n.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_answer_after_mail_timeout_gives_one_copy_and_leaves_the_row_uncertain(app, db, smtp):
    app.config["MAIL_TIMEOUT"] = 1
    smtp.answer_late(1, seconds=2.5)  # the server takes the message, and confirms after MAIL_TIMEOUT
    n = general("slow@example.org")
    db.session.commit()  # attempt 1, in-process after commit: the whole message goes, no answer in time

    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.UNCERTAIN, 1)
    assert "did not confirm it" in n.last_error and "timed out" in n.last_error
    assert "may have arrived" in n.last_error
    (msg,) = smtp.wait_for(1, timeout=10)  # it did arrive
    assert msg["Message-ID"] == n.message_id

    # Nothing sends it again: a redelivered task, the sweep, the sweep once any claim would be stale.
    assert services.deliver(n.id) is None
    app.config["NOTIFICATION_STALE_SECONDS"] = 0
    make_due(db, n)
    for _ in range(3):
        services.sweep()
    assert services.deliver(n.id) is None
    assert smtp.late_answers == 1 and len(smtp.messages) == 1
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.UNCERTAIN, 1)


def test_refused_connections_then_recovery_deliver_once_with_the_first_message_id(app, db, smtp):
    smtp.stop()  # nothing listens: the server cannot have taken anything
    n = general("later@example.org")
    db.session.commit()
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
    assert "ConnectionRefusedError" in n.last_error
    first_id = n.message_id
    assert first_id and first_id.startswith(f"<notification-{n.id}-")

    make_due(db, n)
    services.sweep()  # refused again
    db.session.refresh(n)
    assert (n.email_status, n.attempts, n.message_id) == (EmailStatus.PENDING, 2, first_id)

    smtp.start()  # the server is back
    make_due(db, n)
    services.sweep()
    services.sweep()
    assert services.deliver(n.id) is None
    (msg,) = smtp.messages
    assert msg["Message-ID"] == first_id
    db.session.refresh(n)
    assert (n.email_status, n.attempts, n.message_id) == (EmailStatus.SENT, 3, first_id)


def test_temporary_refusal_at_rcpt_is_retried_and_delivered_once(app, db, smtp):
    smtp.refuse("busy@example.org", "450 4.2.1 Mailbox busy, try again later")
    n = general("busy@example.org")
    db.session.commit()
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
    assert "450" in n.last_error

    smtp.accept("busy@example.org")
    make_due(db, n)
    services.sweep()
    (msg,) = smtp.messages
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.SENT, 2)
    assert msg["Message-ID"] == n.message_id


def test_a_run_held_up_before_data_that_lost_its_claim_sends_nothing(app, db, smtp, monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda ids: len(ids))
    n = general("held@example.org")
    db.session.flush()
    nid = n.id  # read now: a read after the commit would leave this session's snapshot open (SQLite)
    db.session.commit()
    hold = smtp.hold_next_rcpt()
    outcome: list[EmailStatus | None] = []
    errors: list[BaseException] = []

    def first_run() -> None:
        try:
            with app.app_context():
                outcome.append(services.deliver(nid))
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=first_run)
    runner.start()
    try:
        wait_until(lambda: smtp.held_rcpts == 1, 10, "the first run to reach RCPT")
        # Its worker looks dead to the sweep: the attempt had not reached DATA, so the row is due again ...
        app.config["NOTIFICATION_STALE_SECONDS"] = 0
        services.sweep()
        app.config["NOTIFICATION_STALE_SECONDS"] = 600
        assert services.deliver(nid) is EmailStatus.SENT  # ... and a second run sends it
    finally:
        hold.set()
        runner.join(timeout=20)
    assert not errors, errors
    assert outcome == [None]  # the first run found its claim gone before DATA and stopped
    assert len(smtp.messages) == 1
    db.session.expire_all()
    n = db.session.get(Notification, nid)
    assert (n.email_status, n.attempts) == (EmailStatus.SENT, 2)
    assert smtp.messages[0]["Message-ID"] == n.message_id
