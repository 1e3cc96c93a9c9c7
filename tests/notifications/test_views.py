"""The inbox, notification settings and the staff outbox, through the real pages."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from foundation.notifications import services
from foundation.notifications.models import (
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from foundation.types import utcnow
from tests.factories import login, make_user


def note(user, subject: str, kind: NotificationKind = NotificationKind.GENERAL) -> Notification:
    return services.notify(user, kind, subject, "role_granted", link="/dashboard", roles=["panel reviewer"])


# --- inbox ----------------------------------------------------------------------------------------------


def test_inbox_lists_only_my_messages_with_unread_badge(client, db):
    me, other = make_user(), make_user()
    note(me, "Mine one")
    note(me, "Mine two")
    theirs = note(other, "Someone else's news")
    db.session.commit()
    login(client, me)

    html = client.get("/inbox").get_data(as_text=True)
    assert "Mine one" in html and "Mine two" in html
    assert "Someone else" not in html
    assert 'aria-label="2 unread"' in html  # the badge in the header
    assert client.get(f"/inbox/{theirs.id}").status_code == 404
    assert client.post(f"/inbox/{theirs.id}/read").status_code == 404
    assert client.get("/inbox/999999").status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_opening_a_message_marks_it_read(client, db):
    me = make_user()
    first = note(me, "Read me")
    note(me, "Later")
    db.session.commit()
    login(client, me)

    resp = client.get(f"/inbox/{first.id}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "panel reviewer" in page and 'href="/dashboard"' in page
    assert 'aria-label="1 unread"' in page
    assert "Read me" not in client.get("/inbox?unread=1").get_data(as_text=True)


def test_mark_one_read_from_the_list(client, db):
    me = make_user()
    n = note(me, "Quick look")
    note(me, "Still new")
    db.session.commit()
    login(client, me)
    resp = client.post(f"/inbox/{n.id}/read", data={"next": "/inbox?unread=1"})
    assert resp.status_code == 302 and resp.location.endswith("/inbox?unread=1")
    assert services.unread_count(me) == 1
    # An off-site `next` is ignored.
    resp = client.post(f"/inbox/{n.id}/read", data={"next": "https://evil.example/"})
    assert resp.location.endswith("/inbox")


def test_mark_all_read(client, db):
    me, other = make_user(), make_user()
    note(me, "One")
    note(me, "Two")
    note(other, "Theirs")
    db.session.commit()
    login(client, me)
    resp = client.post("/inbox/read-all", follow_redirects=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "All notifications are marked as read." in html
    assert 'unread"' not in html.split("<main")[0]  # no badge in the header
    assert services.unread_count(me) == 0
    assert services.unread_count(other) == 1


def test_inbox_needs_sign_in(client, db):
    assert client.get("/inbox").status_code == 302
    assert client.post("/inbox/read-all").status_code == 302
    assert client.get("/inbox/preferences").status_code == 302


# --- preferences ----------------------------------------------------------------------------------------


def test_preferences_are_saved_and_respected(client, db, mailbox):
    me = make_user(email="prefs@example.org")
    db.session.commit()
    login(client, me)
    page = client.get("/inbox/preferences").get_data(as_text=True)
    assert 'value="email" aria-label="Other announcements: email and inbox" checked' in page
    assert "Account security" not in page  # not a choice: always by email

    resp = client.post(
        "/inbox/preferences",
        data={"kind-general": "inbox", "kind-bookings": "email", "kind-account_security": "inbox"},
    )
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert "Your notification choices are saved." in page
    assert 'value="inbox" aria-label="Other announcements: inbox only" checked' in page

    note(me, "Inbox only please")
    note(me, "A booking", NotificationKind.BOOKINGS)
    db.session.commit()
    assert [m["Subject"] for m in mailbox.to("prefs@example.org")] == ["A booking"]
    prefs = db.session.scalars(
        sa.select(NotificationPreference).where(NotificationPreference.user_id == me.id)
    )
    assert NotificationKind.ACCOUNT_SECURITY not in {p.kind for p in prefs}

    # Kinds missing from the form keep their choice.
    client.post("/inbox/preferences", data={"kind-bookings": "inbox"})
    choices = services.email_choices(me)
    assert (choices[NotificationKind.GENERAL], choices[NotificationKind.BOOKINGS]) == (False, False)


def test_preferences_reject_an_unknown_choice(client, db):
    me = make_user()
    db.session.commit()
    login(client, me)
    resp = client.post(
        "/inbox/preferences", data={"kind-general": "carrier-pigeon", "kind-bookings": "inbox"}
    )
    assert resp.status_code == 422
    assert "Choose email and inbox, or inbox only." in resp.get_data(as_text=True)
    assert services.email_choices(me)[NotificationKind.BOOKINGS] is True  # nothing half-saved


# --- staff outbox ---------------------------------------------------------------------------------------


def outbox_rows(db):
    user = make_user(email="member@example.org")
    failed = note(user, "Gave up on this")
    waiting = note(user, "Still trying")
    db.session.flush()
    failed.email_status, failed.attempts = EmailStatus.FAILED, 6
    failed.last_error = "SMTPDataError: (451, b'4.3.0 mailbox busy')"
    waiting.attempts, waiting.last_error = 2, "ConnectionRefusedError: [Errno 111] Connection refused"
    waiting.next_attempt_at = utcnow() + timedelta(minutes=4)  # in its backoff
    db.session.commit()
    return failed, waiting


def test_staff_outbox_is_for_staff_only(client, db):
    failed, _ = outbox_rows(db)
    assert client.get("/staff/outbox").status_code == 302  # sign in first
    login(client, make_user())
    assert client.get("/staff/outbox").status_code == 403
    assert client.post(f"/staff/outbox/{failed.id}/retry").status_code == 403
    db.session.refresh(failed)
    assert failed.email_status is EmailStatus.FAILED


def test_staff_outbox_lists_failed_and_waiting_mail(client, db):
    failed, waiting = outbox_rows(db)
    login(client, make_user(staff=True))
    html = client.get("/staff/outbox").get_data(as_text=True)
    assert "Failed (1)" in html and "Waiting to send (1)" in html
    assert "Gave up on this" in html and "4.3.0 mailbox busy" in html and "6 of 6" in html
    assert "Still trying" in html and "Connection refused" in html and "2 of 6" in html
    assert f"/staff/outbox/{failed.id}/retry" in html
    assert f"/staff/outbox/{waiting.id}/retry" not in html
    assert "/staff/outbox" in client.get("/staff/vetting").get_data(as_text=True)  # linked from staff pages


def test_staff_retry_sends_the_failed_email(client, db, mailbox):
    failed, waiting = outbox_rows(db)
    login(client, make_user(staff=True))
    resp = client.post(f"/staff/outbox/{failed.id}/retry")
    assert resp.status_code == 302
    assert "is queued to be sent again" in client.get(resp.location).get_data(as_text=True)
    assert mailbox.last_to("member@example.org")["Subject"] == "Gave up on this"
    db.session.refresh(failed)
    assert failed.email_status is EmailStatus.SENT

    # Only failed (or uncertain) mail can be sent again; the page says why.
    resp = client.post(f"/staff/outbox/{failed.id}/retry")
    assert resp.status_code == 409
    assert (
        "Only a failed email, or one whose delivery is uncertain, can be sent again; this one is sent."
        in resp.get_data(as_text=True)
    )
    assert client.post(f"/staff/outbox/{waiting.id}/retry").status_code == 409
    assert client.post("/staff/outbox/999999/retry").status_code == 404
    assert len(mailbox.to("member@example.org")) == 1


def test_staff_outbox_explains_uncertain_mail_and_sends_it_again_only_when_asked(client, db, mailbox):
    user = make_user(email="member@example.org")
    maybe = note(user, "Did this arrive?")
    db.session.flush()
    maybe.email_status, maybe.attempts = EmailStatus.UNCERTAIN, 1
    maybe.claimed_at = utcnow() - timedelta(minutes=3)
    maybe.message_id = f"<notification-{maybe.id}-0123456789abcdef@127.0.0.1>"
    maybe.last_error = services.ANSWER_LOST.format("SMTPServerDisconnected: Connection unexpectedly closed")
    db.session.commit()
    login(client, make_user(staff=True))

    html = client.get("/staff/outbox").get_data(as_text=True)
    assert "Delivery uncertain (1)" in html and "Failed (0)" in html and "Waiting to send (0)" in html
    assert "The server may well have delivered it, so it is not sent again automatically" in html
    assert "Did this arrive?" in html and "did not confirm it" in html and "Attempt 1, begun" in html
    assert f"notification-{maybe.id}-0123456789abcdef@127.0.0.1" in html  # to look up in the mail logs
    assert f"/staff/outbox/{maybe.id}/retry" in html and "Send again" in html
    assert mailbox.messages() == []

    resp = client.post(f"/staff/outbox/{maybe.id}/retry")
    assert resp.status_code == 302
    assert "is queued to be sent again" in client.get(resp.location).get_data(as_text=True)
    (msg,) = mailbox.to("member@example.org")
    assert msg["Message-ID"] == maybe.message_id  # the same message, should the first copy turn up
    db.session.refresh(maybe)
    assert maybe.email_status is EmailStatus.SENT
    assert "Delivery uncertain (0)" in client.get("/staff/outbox").get_data(as_text=True)
