"""The outbox in-process (no broker): rows written with the change, delivered after commit, never twice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import IllegalTransition
from foundation.members import accounts, roles
from foundation.notifications import services
from foundation.notifications.mailer import Attachment
from foundation.notifications.models import (
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from foundation.types import utcnow
from tests.conftest import text_of
from tests.factories import make_user


class Recorder:
    """Stands in for the Celery hand-off: records the ids it is given, delivers nothing."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, ids: list[int]) -> int:
        self.calls.append(list(ids))
        return len(ids)

    @property
    def ids(self) -> list[int]:
        return [i for call in self.calls for i in call]


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(services, "enqueue", recorder)
    return recorder


def rows(db) -> list[Notification]:
    db.session.commit()  # end any open read, so the rows are read afresh
    return list(db.session.scalars(sa.select(Notification).order_by(Notification.id)))


def general(user, subject="Your roles changed"):
    return services.notify(user, NotificationKind.GENERAL, subject, "role_granted", roles=["panel reviewer"])


# --- writing: preferences, inbox only, closed accounts ---------------------------------------------------


def test_notify_after_commit_emails_and_fills_the_inbox(db, mailbox):
    user = make_user(email="ada@example.org")
    n = general(user)
    db.session.commit()

    msg = mailbox.last_to("ada@example.org")
    assert msg["Subject"] == "Your roles changed"
    assert "panel reviewer" in text_of(msg)
    db.session.refresh(n)
    # Made once for the row, from the site's own host, and kept on it.
    assert re.fullmatch(rf"<notification-{n.id}-[0-9a-f]{{16}}@127\.0\.0\.1>", n.message_id)
    assert msg["Message-ID"] == n.message_id
    assert n.email_status is EmailStatus.SENT and n.sent_at is not None and n.attempts == 1
    assert services.unread_count(user) == 1


def test_an_attachment_goes_with_the_email(db, mailbox):
    user = make_user(email="cal@example.org")
    entry = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    n = services.notify(
        user,
        NotificationKind.GENERAL,
        "Your roles changed",
        "role_granted",
        attachment=Attachment("event-1.ics", "text/calendar", entry),
        roles=["panel reviewer"],
    )
    db.session.commit()

    msg = mailbox.last_to("cal@example.org")
    assert msg.get_content_type() == "multipart/mixed"
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == "event-1.ics"
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_payload(decode=True) == entry
    assert "panel reviewer" in text_of(msg)
    db.session.refresh(n)
    assert n.email_status is EmailStatus.SENT


def test_inbox_only_preference_is_respected_and_never_emailed(db, mailbox):
    user = make_user(email="quiet@example.org")
    other = make_user(email="default@example.org")
    db.session.add(NotificationPreference(user_id=user.id, kind=NotificationKind.GENERAL, email=False))
    quiet = general(user)
    loud = general(other)
    db.session.commit()

    assert [m["To"] for m in mailbox.messages()] == ["default@example.org"]
    db.session.refresh(quiet)
    assert quiet.email_status is EmailStatus.NOT_REQUESTED and quiet.in_inbox
    assert services.unread_count(user) == 1
    # Neither a direct delivery nor the sweep ever emails an inbox-only row.
    assert services.deliver(quiet.id) is None
    services.sweep()
    assert [m["To"] for m in mailbox.messages()] == ["default@example.org"]
    assert db.session.get(Notification, loud.id).email_status is EmailStatus.SENT


def test_account_security_always_goes_by_email(db, mailbox):
    user = make_user(email="secure@example.org")
    # Even a stored preference (which the settings page never offers) cannot stop these.
    db.session.add(
        NotificationPreference(user_id=user.id, kind=NotificationKind.ACCOUNT_SECURITY, email=False)
    )
    services.save_email_choices(
        user, {NotificationKind.ACCOUNT_SECURITY: False, NotificationKind.GENERAL: False}
    )
    accounts.set_password(user, "a brand new password")
    db.session.commit()
    assert mailbox.last_to("secure@example.org")["Subject"] == "Your password was changed"
    assert NotificationKind.ACCOUNT_SECURITY not in services.email_choices(user)
    assert services.email_choices(user)[NotificationKind.GENERAL] is False


def test_message_kept_out_of_the_inbox_is_emailed_whatever_the_preference(db, mailbox):
    user = make_user(email="only-mail@example.org")
    services.save_email_choices(user, {NotificationKind.GENERAL: False})
    services.notify(user, NotificationKind.GENERAL, "Hello", "role_granted", in_inbox=False, roles=["x"])
    db.session.commit()
    assert mailbox.last_to("only-mail@example.org")["Subject"] == "Hello"
    assert services.unread_count(user) == 0


def test_closed_account_gets_no_email(db, mailbox):
    user = make_user(email="gone@example.org")
    user.closed_at = utcnow()
    n = general(user)
    db.session.commit()
    assert mailbox.messages() == []
    db.session.refresh(n)
    assert n.email_status is EmailStatus.NOT_REQUESTED


def test_real_service_call_writes_the_row_in_its_transaction(db, mailbox):
    staff = make_user(staff=True)
    user = make_user(email="new-reviewer@example.org")
    roles.set_roles(user, staff, panel=True, staff=False)
    db.session.commit()
    assert "panel reviewer" in text_of(mailbox.last_to("new-reviewer@example.org"))


# --- the after-commit hand-off --------------------------------------------------------------------------


def test_rollback_leaves_no_row_and_enqueues_nothing(db, handed_over):
    user = make_user()
    db.session.commit()
    general(user)
    db.session.flush()  # the row was INSERTed inside the transaction ...
    db.session.rollback()  # ... which then failed
    make_user()
    db.session.commit()  # a later, unrelated commit must not hand the rolled-back id over
    assert rows(db) == []
    assert handed_over.calls == []


def test_closing_the_session_without_commit_enqueues_nothing(db, handed_over):
    user = make_user()
    db.session.commit()
    general(user)
    db.session.flush()
    db.session.close()
    make_user()
    db.session.commit()
    assert rows(db) == []
    assert handed_over.calls == []


def test_only_committed_rows_are_handed_over_once(db, handed_over):
    user = make_user()
    first = general(user, "one")
    second = general(user, "two")
    db.session.commit()
    assert handed_over.calls == [[first.id, second.id]]
    db.session.commit()  # nothing new: nothing more
    assert handed_over.calls == [[first.id, second.id]]


def test_savepoint_release_waits_for_the_outer_commit(db, handed_over):
    user = make_user()
    with db.session.begin_nested():
        n = general(user)
    # Released savepoint: the row is still invisible to any worker, so nothing is handed over yet.
    assert handed_over.calls == []
    db.session.commit()
    assert handed_over.ids == [n.id]


def test_notification_made_inside_a_savepoint_is_delivered_in_process(db, mailbox):
    user = make_user(email="nested@example.org")
    db.session.commit()
    with db.session.begin_nested():
        n = general(user)
    db.session.commit()
    assert mailbox.last_to("nested@example.org")
    assert db.session.get(Notification, n.id).email_status is EmailStatus.SENT


def test_broker_down_commit_still_succeeds_and_the_row_waits(app_config, db, mailbox, caplog):
    # A broker on a port where nothing listens: publishing fails, the commit must not.
    from foundation import create_app
    from tests.notifications.smtp import free_port

    broken = create_app({**app_config, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        with broken.app_context():
            user = make_user(email="waiting@example.org")
            general(user)
            db.session.commit()
            waiting = rows(db)
            assert [(n.email_status, n.attempts) for n in waiting] == [(EmailStatus.PENDING, 0)]
            db.session.remove()
            db.engine.dispose()
    finally:
        broken.extensions["celery"].close()
    assert mailbox.messages() == []
    assert "left for the sweep" in caplog.text


# --- delivery: idempotent, backoff, give up, sweep -------------------------------------------------------


def test_deliver_twice_sends_one_email(db, mailbox, handed_over):
    user = make_user(email="once@example.org")
    n = general(user)
    db.session.commit()
    assert services.deliver(n.id) is EmailStatus.SENT
    assert services.deliver(n.id) is None
    assert len(mailbox.to("once@example.org")) == 1
    assert db.session.get(Notification, n.id).attempts == 1


def test_deliver_of_a_missing_row_is_a_no_op(db, mailbox):
    assert services.deliver(12345) is None
    assert mailbox.messages() == []


def test_row_in_backoff_is_not_sent_early(db, mailbox, handed_over):
    user = make_user()
    n = general(user)
    n.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert services.deliver(n.id) is None
    assert services.due_ids() == []
    assert mailbox.messages() == []


def test_sweep_waits_a_grace_period_for_a_row_never_tried(app, db, handed_over):
    app.config["NOTIFICATION_SWEEP_GRACE_SECONDS"] = 30
    user = make_user()
    fresh = general(user, "fresh")
    old = general(user, "old")
    retried = general(user, "retried")
    db.session.flush()
    old.next_attempt_at = utcnow() - timedelta(seconds=31)
    retried.attempts = 1  # failed once, its backoff is over: no grace
    db.session.commit()
    assert services.due_ids() == [old.id, retried.id]
    app.config["NOTIFICATION_SWEEP_GRACE_SECONDS"] = 0
    assert services.due_ids() == [fresh.id, old.id, retried.id]


def test_sweep_delivers_rows_that_were_never_handed_over(app, db, mailbox, handed_over, monkeypatch):
    app.config["NOTIFICATION_SWEEP_GRACE_SECONDS"] = 0
    users = [make_user(email=f"swept{i}@example.org") for i in range(3)]
    for u in users:
        general(u)
    db.session.commit()
    assert mailbox.messages() == []  # the hand-off was lost (say, the broker was down)

    monkeypatch.undo()  # the real, in-process hand-off again
    assert services.sweep() == 3
    assert sorted(m["To"] for m in mailbox.messages()) == [u.email for u in users]
    assert services.sweep() == 0  # all sent: nothing more, nothing twice
    assert len(mailbox.messages()) == 3


def test_sweep_settles_a_dead_workers_attempt_by_how_far_it_got(app, db, mailbox, handed_over, monkeypatch):
    """A worker killed mid-send leaves its row in SENDING or SENDING_DATA; the sweep judges it once stale."""
    user = make_user(email="stale@example.org")
    early, late, busy, dead = (general(user, s) for s in ("early", "late", "busy", "dead"))
    db.session.flush()
    long_ago = utcnow() - services.stale_after() - timedelta(minutes=1)
    for n in (early, late, busy, dead):
        n.email_status, n.claimed_at, n.attempts = EmailStatus.SENDING, long_ago, 1
        n.message_id = f"<notification-{n.id}-0123456789abcdef@127.0.0.1>"
    late.email_status = EmailStatus.SENDING_DATA  # it died while handing the message over
    busy.claimed_at = utcnow()  # a live attempt belongs to its worker
    dead.attempts = app.config["NOTIFICATION_MAX_ATTEMPTS"]
    db.session.commit()
    assert services.deliver(busy.id) is None

    monkeypatch.undo()
    services.sweep()
    services.sweep()
    db.session.expire_all()
    # Died before DATA: nothing was sent, so it is sent now, with the Message-ID of the first attempt.
    (msg,) = mailbox.messages()
    assert (msg["Subject"], msg["Message-ID"]) == ("early", early.message_id)
    assert (early.email_status, early.attempts) == (EmailStatus.SENT, 2)
    # Died during DATA: the server may have it, so it is never sent again on its own.
    assert (late.email_status, late.attempts) == (EmailStatus.UNCERTAIN, 1)
    assert late.last_error == services.INTERRUPTED_IN_DATA
    assert services.deliver(late.id) is None
    assert busy.email_status is EmailStatus.SENDING
    # A message that stopped its worker on every attempt is given up and shown to staff.
    assert dead.email_status is EmailStatus.FAILED
    assert dead.last_error == services.INTERRUPTED_LAST
    assert len(mailbox.messages()) == 1


def test_staff_retry_of_a_failed_email(db, mailbox):
    user = make_user(email="retry@example.org")
    n = general(user)
    n.email_status, n.attempts, n.last_error = EmailStatus.FAILED, 6, "SMTPDataError: (451, b'later')"
    db.session.commit()
    services.retry(n)
    db.session.commit()
    assert mailbox.last_to("retry@example.org")
    db.session.refresh(n)
    assert (n.email_status, n.attempts, n.last_error) == (EmailStatus.SENT, 1, None)

    with pytest.raises(IllegalTransition):
        services.retry(n)


def test_staff_resend_of_an_uncertain_email_keeps_its_message_id(db, mailbox):
    user = make_user(email="maybe@example.org")
    n = general(user)
    db.session.flush()
    n.email_status, n.attempts, n.message_id = EmailStatus.UNCERTAIN, 1, "<notification-1-x@127.0.0.1>"
    n.last_error = services.INTERRUPTED_IN_DATA
    db.session.commit()
    services.sweep()
    assert mailbox.messages() == []  # never on its own

    services.retry(n)  # staff decide it did not arrive
    db.session.commit()
    (msg,) = mailbox.messages()
    assert msg["Message-ID"] == "<notification-1-x@127.0.0.1>"
    db.session.refresh(n)
    assert (n.email_status, n.attempts, n.message_id) == (EmailStatus.SENT, 1, "<notification-1-x@127.0.0.1>")


def test_retry_rolled_back_hands_nothing_over(db, handed_over):
    n = general(make_user())
    n.email_status = EmailStatus.FAILED
    db.session.commit()
    handed_over.calls.clear()
    services.retry(n)
    db.session.rollback()
    db.session.commit()
    assert handed_over.calls == []
    assert db.session.get(Notification, n.id).email_status is EmailStatus.FAILED


def test_cli_sweep_sends_what_is_due(app, db, mailbox, handed_over, monkeypatch):
    app.config["NOTIFICATION_SWEEP_GRACE_SECONDS"] = 0
    general(make_user(email="cli@example.org"))
    db.session.commit()
    monkeypatch.undo()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 notification(s)" in result.output
    assert mailbox.last_to("cli@example.org")


def test_inbox_mark_all_read_touches_only_that_user(db):
    me, other = make_user(), make_user()
    for user in (me, me, other):
        general(user)
    db.session.commit()
    assert services.mark_all_read(me) == 2
    db.session.commit()
    assert (services.unread_count(me), services.unread_count(other)) == (0, 1)
