"""Booking messages over time: the reminder the day before, and the owners' daily digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.notifications.models import EmailStatus, Notification
from foundation.venues import booking as svc
from foundation.venues import reminders, tasks
from foundation.venues.models import Occurrence, OccurrenceStatus, RequestAlerts
from tests.conftest import text_of
from tests.factories import make_user
from tests.venues.factories import booking_request, make_booker, make_booking, make_space, make_venue

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _request_context(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Marlborough Community Hall")


@pytest.fixture
def hall(owner):
    return make_space(make_venue(owner[1], name="Marlborough Hall"), "Main hall", needs_approval=True)


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Marlborough Girls Brigade")


def subject(msg) -> str:
    return str(msg["Subject"]).strip()


# --- reminders ---------------------------------------------------------------------------------------------------


def test_reminder_the_day_before_goes_once_to_the_booker(db, hall, booker, mailbox):
    user, org = booker
    tomorrow_evening = make_booking(hall, org, date(2026, 9, 2), booked_by=user, start=time(18), end=time(20))
    make_booking(hall, org, date(2026, 9, 3), booked_by=user)  # the day after: not yet
    make_booking(hall, org, date(2026, 9, 2), booked_by=user, start=time(10), end=time(11),
                 status=OccurrenceStatus.REQUESTED)  # fmt: skip
    make_booking(hall, org, date(2026, 9, 2), booked_by=user, start=time(12), end=time(13),
                 status=OccurrenceStatus.CANCELLED)  # fmt: skip
    db.session.commit()

    assert reminders.send_reminders(NOW) == 1
    db.session.commit()
    msg = mailbox.last_to("leader@example.org")
    assert subject(msg) == "Tomorrow: Main hall, Marlborough Hall at 18:00"
    assert "Wed 2 Sep 2026, 18:00–20:00" in text_of(msg)
    occ = tomorrow_evening.occurrences[0]
    db.session.refresh(occ)
    assert occ.reminder_sent_at == NOW

    assert reminders.send_reminders(NOW + timedelta(hours=1)) == 0, "sent once, however often the task runs"
    db.session.commit()
    assert len(mailbox.to("leader@example.org")) == 1


def test_tomorrow_is_the_london_date(db, hall, booker):
    user, org = booker
    make_booking(hall, org, date(2026, 9, 2), start=time(7), end=time(8), booked_by=user)
    db.session.commit()
    # 23:30 UTC on 31 August is 00:30 on 1 September in London: "tomorrow" is then the 2nd.
    assert reminders.send_reminders(datetime(2026, 8, 31, 23, 30, tzinfo=UTC)) == 1


def test_the_celery_task_sends_and_commits(app, db, hall, booker, mailbox, monkeypatch):
    user, org = booker
    make_booking(
        hall, org, svc.london_today() + timedelta(days=1), start=time(22), end=time(23), booked_by=user
    )
    db.session.commit()
    assert tasks.send_booking_reminders.run() == 1
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Occurrence.id)).where(Occurrence.reminder_sent_at.is_not(None))
        )
        == 1
    )
    assert tasks.send_booking_reminders.run() == 0
    assert len(mailbox.to("leader@example.org")) == 1


def test_reminder_goes_to_the_organisations_admins_when_the_booker_has_left(db, hall, booker, mailbox):
    user, org = booker
    gone = make_user(email="gone@example.org")
    make_booking(hall, org, date(2026, 9, 2), booked_by=gone)
    db.session.commit()
    reminders.send_reminders(NOW)
    db.session.commit()
    assert mailbox.to("gone@example.org") == []
    assert subject(mailbox.last_to("leader@example.org")).startswith("Tomorrow:")


# --- requests: one email each, or a daily digest ------------------------------------------------------------------


def test_each_request_emails_the_owner_by_default(db, hall, owner, booker, mailbox):
    user, org = booker
    svc.book_space(booking_request(hall, org, user, date(2026, 9, 7)), [date(2026, 9, 7)], NOW)
    db.session.commit()
    assert subject(mailbox.last_to("owner@example.org")).startswith("Booking request: Main hall")


def test_owner_who_prefers_the_digest_gets_inbox_entries_at_once_and_one_email_a_day(
    db, hall, owner, booker, mailbox
):
    owner_user, _ = owner
    svc.set_request_alerts(owner_user, RequestAlerts.DAILY_DIGEST)
    user, org = booker
    other_user, other = make_booker(name="Pewsey Cubs")
    svc.book_space(booking_request(hall, org, user, date(2026, 9, 7), weekdays=(0,), weeks=2),
                   [date(2026, 9, 7), date(2026, 9, 14)], NOW)  # fmt: skip
    svc.book_space(booking_request(hall, other, other_user, date(2026, 9, 8)), [date(2026, 9, 8)], NOW)
    db.session.commit()

    assert mailbox.to("owner@example.org") == [], "no email per request"
    inbox = db.session.scalars(sa.select(Notification).where(Notification.user_id == owner_user.id)).all()
    assert len(inbox) == 2 and all(n.in_inbox and n.email_status is EmailStatus.NOT_REQUESTED for n in inbox)

    next_morning = datetime(2026, 9, 2, 6, 30, tzinfo=UTC)
    assert reminders.send_digests(next_morning) == 1
    db.session.commit()
    msg = mailbox.last_to("owner@example.org")
    assert subject(msg) == "Booking requests waiting for you: 3 dates"
    body = text_of(msg)
    assert "Marlborough Girls Brigade: Youth club (new)" in body and "Pewsey Cubs" in body
    assert "/venues/requests" in body

    assert reminders.send_digests(next_morning + timedelta(hours=5)) == 0, "once a day"
    db.session.commit()
    assert len(mailbox.to("owner@example.org")) == 1
    assert reminders.send_digests(next_morning + timedelta(days=1)) == 1, "still waiting the next day"


def test_no_digest_when_nothing_is_waiting(db, hall, owner):
    svc.set_request_alerts(owner[0], RequestAlerts.DAILY_DIGEST)
    db.session.commit()
    assert reminders.send_digests(NOW) == 0


def test_the_digest_task_runs_in_its_own_transaction(app, db, hall, owner, booker, mailbox):
    svc.set_request_alerts(owner[0], RequestAlerts.DAILY_DIGEST)
    user, org = booker
    day = svc.london_today() + timedelta(days=7)
    svc.book_space(booking_request(hall, org, user, day), [day], svc.utcnow())
    db.session.commit()
    assert tasks.send_request_digests.run() == 1
    assert tasks.send_request_digests.run() == 0
    assert len(mailbox.to("owner@example.org")) == 1
