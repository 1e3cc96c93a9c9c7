"""Reminders 30 and 7 days before a document's review or expiry date: to the admins, once each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from foundation.members import tasks
from foundation.members.documents import london_today, send_document_reminders
from foundation.members.models import DocumentKind, DocumentReminder, MemberRole, OrganisationStatus
from foundation.notifications.models import Notification, NotificationKind
from tests.conftest import link_in, text_of
from tests.factories import add_document, add_member, make_org, make_user

TODAY = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def _request_context(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def admin(db):
    return make_user(email="admin@example.org", name="Alex Admin")


@pytest.fixture
def org(admin):
    return make_org(admin, name="Devizes Scouts", documents=False)


def sweep(db, today: date = TODAY) -> int:
    sent = send_document_reminders(today)
    db.session.commit()
    return sent


def reminders(db) -> list[tuple[int, int]]:
    return sorted(
        db.session.execute(sa.select(DocumentReminder.document_id, DocumentReminder.days_before)).tuples()
    )


def test_thirty_and_seven_days_before_each_go_once(db, org, mailbox):
    doc = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=30))
    db.session.commit()

    assert sweep(db, TODAY - timedelta(days=1)) == 0  # 31 days before: not yet
    assert sweep(db) == 1
    msg = mailbox.last_to("admin@example.org")
    assert msg["Subject"] == "Your public liability insurance expires in 30 days: Devizes Scouts"
    body = text_of(msg)
    assert "Devizes Scouts" in body and "1 Oct 2026" in body
    assert link_in(msg, f"/organisations/{org.id}").startswith(f"/organisations/{org.id}")

    for day in range(1, 23):  # daily sweeps until 8 days before: nothing more
        assert sweep(db, TODAY + timedelta(days=day)) == 0
    assert sweep(db, TODAY + timedelta(days=23)) == 1  # 7 days before
    assert mailbox.last_to("admin@example.org")["Subject"] == (
        "Your public liability insurance expires in 7 days: Devizes Scouts"
    )
    assert sweep(db, TODAY + timedelta(days=23)) == 0
    assert sweep(db, TODAY + timedelta(days=29)) == 0
    assert len(mailbox.to("admin@example.org")) == 2
    assert reminders(db) == [(doc.id, 7), (doc.id, 30)]


def test_reminder_goes_through_the_outbox_to_every_admin_and_not_to_members(db, org, admin, mailbox):
    second = make_user(email="second@example.org")
    add_member(org, second, MemberRole.ADMIN)
    member = make_user(email="member@example.org")
    add_member(org, member, MemberRole.MEMBER)
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, TODAY + timedelta(days=7))
    db.session.commit()

    assert sweep(db) == 1
    rows = db.session.scalars(sa.select(Notification).order_by(Notification.user_id)).all()
    assert [(n.user_id, n.kind) for n in rows] == [
        (admin.id, NotificationKind.DOCUMENT_EXPIRY),
        (second.id, NotificationKind.DOCUMENT_EXPIRY),
    ]
    assert mailbox.last_to("second@example.org")["Subject"] == (
        "Your safeguarding policy is due for review in 7 days: Devizes Scouts"
    )
    assert mailbox.to("member@example.org") == []


def test_a_missed_reminder_still_goes_once_while_the_date_is_not_past(db, org, mailbox):
    doc = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=25))
    db.session.commit()

    assert sweep(db) == 1  # the 30-day reminder, five days late
    assert "in 25 days" in mailbox.last_to("admin@example.org")["Subject"]
    assert sweep(db) == 0
    assert sweep(db, TODAY + timedelta(days=20)) == 1  # the 7-day reminder, two days late
    assert "in 5 days" in mailbox.last_to("admin@example.org")["Subject"]
    assert reminders(db) == [(doc.id, 7), (doc.id, 30)]


def test_when_both_were_missed_one_message_goes_and_both_count_as_sent(db, org, mailbox):
    doc = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=3))
    db.session.commit()

    assert sweep(db) == 1
    assert len(mailbox.to("admin@example.org")) == 1
    assert "in 3 days" in mailbox.last_to("admin@example.org")["Subject"]
    assert reminders(db) == [(doc.id, 7), (doc.id, 30)]
    assert sweep(db, TODAY + timedelta(days=1)) == 0


def test_on_the_day_itself_and_after_it(db, org, mailbox):
    add_document(org, DocumentKind.INSURANCE, TODAY)
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, TODAY - timedelta(days=1))
    db.session.commit()

    assert sweep(db) == 1  # the date is today, not yet past
    assert mailbox.last_to("admin@example.org")["Subject"] == (
        "Your public liability insurance expires today: Devizes Scouts"
    )
    assert len(mailbox.to("admin@example.org")) == 1  # the overdue policy is not reminded about


def test_only_the_current_document_of_a_kind_is_reminded_about(db, org, mailbox):
    old = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=7))
    renewed = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=372))
    renewed.uploaded_at = old.uploaded_at + timedelta(minutes=5)
    db.session.commit()

    assert sweep(db) == 0
    assert mailbox.to("admin@example.org") == []

    # Replaced by a document expiring sooner (say, an upload corrected): that one is reminded about.
    corrected = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=6))
    corrected.uploaded_at = renewed.uploaded_at + timedelta(minutes=5)
    db.session.commit()
    assert sweep(db) == 1
    assert reminders(db) == [(corrected.id, 7), (corrected.id, 30)]


def test_governing_documents_far_dates_and_rejected_organisations_get_none(db, org, admin, mailbox):
    add_document(org, DocumentKind.GOVERNING_DOCUMENT, None)
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, TODAY + timedelta(days=31))
    rejected = make_org(admin, status=OrganisationStatus.REJECTED, documents=False)
    add_document(rejected, DocumentKind.INSURANCE, TODAY + timedelta(days=7))
    db.session.commit()

    assert sweep(db) == 0
    assert mailbox.messages() == []


def test_a_reminder_already_recorded_is_not_sent_again(db, org, mailbox):
    doc = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=20))
    db.session.add(DocumentReminder(document_id=doc.id, days_before=30))
    db.session.commit()

    assert sweep(db) == 0
    assert mailbox.messages() == []


def test_the_database_refuses_a_second_row_for_the_same_reminder(db, org):
    doc = add_document(org, DocumentKind.INSURANCE, TODAY + timedelta(days=20))
    db.session.add(DocumentReminder(document_id=doc.id, days_before=30))
    db.session.commit()
    db.session.add(DocumentReminder(document_id=doc.id, days_before=30))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_celery_task_sweeps_and_commits(app, db, org, mailbox):
    add_document(org, DocumentKind.INSURANCE, london_today() + timedelta(days=7))
    db.session.commit()

    # .result rather than .get(): a Celery worker started earlier in this process (the worker tests) makes
    # .get() refuse to block, as it would inside a task.
    first = tasks.send_document_reminders.apply()
    assert first.successful() and first.result == 1
    assert "in 7 days" in mailbox.last_to("admin@example.org")["Subject"]
    again = tasks.send_document_reminders.apply()
    assert again.successful() and again.result == 0

    schedule = app.extensions["celery"].conf.beat_schedule
    assert any(e["task"] == "foundation.members.tasks.send_document_reminders" for e in schedule.values())


def test_the_command_sends_reminders(app, db, org, mailbox):
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, london_today() + timedelta(days=30))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["members", "send-document-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 document reminder(s) sent." in result.output
    assert "due for review in 30 days" in mailbox.last_to("admin@example.org")["Subject"]
