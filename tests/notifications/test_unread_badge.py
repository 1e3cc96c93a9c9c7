"""The unread count in the navigation is read with the sign-in, and is right on the page that reads a message."""

from __future__ import annotations

from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from tests.factories import login, make_user


def badge(page: str) -> str | None:
    marker = 'class="badge" aria-label="'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split(" ", 1)[0]


def test_the_badge_counts_unread_messages_and_drops_as_they_are_read(client, db):
    user = make_user()
    notes = [notify(user, NotificationKind.GENERAL, f"News {n}", "password_changed") for n in range(3)]
    db.session.commit()
    login(client, user)

    assert badge(client.get("/inbox").get_data(as_text=True)) == "3"
    # Reading a message: its own page already counts it as read.
    assert badge(client.get(f"/inbox/{notes[0].id}").get_data(as_text=True)) == "2"
    assert badge(client.get("/dashboard").get_data(as_text=True)) == "2"

    client.post("/inbox/read-all")
    assert badge(client.get("/inbox").get_data(as_text=True)) is None

    notify(user, NotificationKind.GENERAL, "One more", "password_changed")
    db.session.commit()
    assert badge(client.get("/dashboard").get_data(as_text=True)) == "1"
