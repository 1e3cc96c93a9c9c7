"""Delivery over real SMTP (aiosmtpd): multipart mail, temporary failures with backoff, giving up, races."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.members import accounts
from foundation.notifications import services
from foundation.notifications.models import EmailStatus, Notification, NotificationKind
from foundation.types import utcnow
from tests.factories import make_user
from tests.notifications.smtp import parts


@pytest.fixture
def app_config(smtp_config: dict) -> dict:
    return smtp_config


def reset_mail(app, email: str) -> Notification:
    # The reset link is built with url_for(_external=True), as in a request.
    with app.test_request_context():
        accounts.request_password_reset(email)
    from foundation.extensions import db

    return db.session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first()


def make_due(db, n: Notification) -> None:
    """Time passes: the backoff is over."""
    db.session.refresh(n)
    n.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_email_has_text_and_html_parts(app, db, smtp):
    make_user(email="parts@example.org", name="Pat Parts")
    reset_mail(app, "parts@example.org")
    db.session.commit()

    (msg,) = smtp.wait_for(1)
    assert msg["To"] == "parts@example.org"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    assert "Hello Pat Parts" in text and "/password/reset/" in text
    assert "<a href=" in html and "/password/reset/" in html
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Date"]


def test_smtp_failing_then_recovering_delivers_exactly_once(app, db, smtp):
    smtp.fail_next(2)  # 451 twice, then the server recovers
    make_user(email="flaky@example.org")
    n = reset_mail(app, "flaky@example.org")
    db.session.commit()  # attempt 1, in-process after commit: refused

    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
    assert "451" in n.last_error and "try again later" in n.last_error

    make_due(db, n)
    services.sweep()  # attempt 2: refused again
    make_due(db, n)
    services.sweep()  # attempt 3: accepted
    services.sweep()  # nothing is due any more
    assert services.deliver(n.id) is None

    assert smtp.refused_data == 2
    (msg,) = smtp.messages
    text, html = parts(msg)
    assert "/password/reset/" in text and "/password/reset/" in html
    db.session.refresh(n)
    assert (n.email_status, n.attempts, n.last_error) == (EmailStatus.SENT, 3, None)


def test_smtp_failures_back_off_then_give_up(app, db, smtp):
    smtp.fail_next(100)
    user = make_user(email="down@example.org")
    n = services.notify(user, NotificationKind.GENERAL, "Hello", "role_granted", roles=["x"])
    before = utcnow()
    db.session.commit()
    after = utcnow()

    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
    wait = timedelta(seconds=60)  # NOTIFICATION_RETRY_AFTER_SECONDS
    assert before + wait <= n.next_attempt_at <= after + wait
    assert services.deliver(n.id) is None  # not due yet: no early retry
    assert smtp.refused_data == 1

    make_due(db, n)
    before = utcnow()
    assert services.deliver(n.id) is EmailStatus.PENDING
    after = utcnow()
    db.session.refresh(n)
    assert n.attempts == 2
    assert before + 2 * wait <= n.next_attempt_at <= after + 2 * wait  # doubled

    make_due(db, n)
    assert services.deliver(n.id) is EmailStatus.FAILED  # NOTIFICATION_MAX_ATTEMPTS = 3
    db.session.refresh(n)
    assert (n.attempts, n.next_attempt_at) == (3, None)
    assert n.last_error.startswith("SMTPDataError") and "451" in n.last_error

    services.sweep()
    assert services.deliver(n.id) is None  # failed rows wait for staff
    assert smtp.refused_data == 3 and smtp.messages == []


def test_refused_recipient_fails_at_once(app, db, smtp):
    smtp.refuse("nobody@example.org")
    user = make_user(email="nobody@example.org")
    n = services.notify(user, NotificationKind.GENERAL, "Hello", "role_granted", roles=["x"])
    db.session.commit()
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.FAILED, 1)
    assert "550" in n.last_error


def test_unreachable_smtp_server_keeps_the_error(app, db, smtp):
    smtp.stop()  # nothing listens on the port now
    user = make_user(email="later@example.org")
    n = services.notify(user, NotificationKind.GENERAL, "Hello", "role_granted", roles=["x"])
    db.session.commit()
    db.session.refresh(n)
    assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
    assert "ConnectionRefusedError" in n.last_error


def test_concurrent_claims_have_one_winner(app, db, monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda ids: len(ids))
    user = make_user()
    ids = [
        services.notify(user, NotificationKind.GENERAL, f"n{i}", "role_granted", roles=["x"])
        for i in range(8)
    ]
    db.session.commit()
    ids = [n.id for n in ids]
    wins: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    threads = 4
    barrier = threading.Barrier(threads)

    def worker() -> None:
        try:
            with app.app_context():
                for nid in ids:
                    barrier.wait(timeout=20)  # every thread claims the same row at the same moment
                    if services.claim(nid):
                        with lock:
                            wins.append(nid)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(wins) == sorted(ids), "each row is claimed exactly once"


def test_concurrent_deliveries_send_each_email_once(app, db, smtp, monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda ids: len(ids))
    users = [make_user(email=f"race{i}@example.org") for i in range(5)]
    notes = [services.notify(u, NotificationKind.GENERAL, "Race", "role_granted", roles=["x"]) for u in users]
    db.session.commit()
    ids = [n.id for n in notes]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            with app.app_context():
                barrier.wait(timeout=20)
                for nid in order:
                    services.deliver(nid)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(m["To"] for m in smtp.messages) == sorted(u.email for u in users)
    assert set(smtp.per_message_id().values()) == {1}
    db.session.commit()  # a fresh snapshot (SQLite keeps the old one for an open read)
    assert {(n.email_status, n.attempts) for n in notes} == {(EmailStatus.SENT, 1)}
