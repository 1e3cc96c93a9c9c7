"""A booking form is sent once: its one-time key finds the booking it made, however often it is posted again."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.notifications.models import Notification
from foundation.types import LONDON, utcnow
from foundation.venues import booking as svc
from foundation.venues.booking import AlreadyBooked
from foundation.venues.models import Booking, Occurrence, OccurrenceStatus
from tests.factories import login
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.factories import booking_request, make_booker, make_space, make_venue
from tests.venues.test_concurrency import Browser, all_at_once

KEY = re.compile(r'name="submission_key" (?:type="hidden" )?value="([^"]+)"')
REPEATED = "You already sent this booking. Here it is: nothing was booked or sent twice."
# A key as the form makes them (the pages' own keys are checked in the first test).
FORM_KEY = "Zq3pN8vR2xW5tY7uK1mB4cD6fG9hJ0aL"


def monday(weeks_ahead: int = 2) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Bradford on Avon Town Hall Trust")


@pytest.fixture
def venue(owner):
    return make_venue(owner[1], name="Bradford on Avon Town Hall")


@pytest.fixture
def ballroom(venue):
    return make_space(venue, "Ballroom", capacity=150, needs_approval=True)


@pytest.fixture
def studio(venue):
    return make_space(venue, "Studio", capacity=30)


@pytest.fixture
def booker(db):
    return make_booker(email="leader@example.org", name="Avon Valley Explorers")


def confirm_data(org, day: date, key: str | None, start: str = "18:00", end: str = "20:00") -> dict:
    data = {
        "organisation_id": str(org.id),
        "purpose": "Explorer night",
        "expected_attendance": "25",
        "first_date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "repeat": "one_off",
        "ends": "until",
        "dates": [day.isoformat()],
    }
    if key is not None:
        data["submission_key"] = key
    return data


def key_on(html: str) -> str:
    found = KEY.search(html)
    assert found, "no submission key on the page"
    return found.group(1)


def bookings(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Booking.id)))


def owner_messages(db, owner_user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == owner_user.id)
    )


def test_the_form_gets_a_key_when_shown_and_the_preview_carries_it(client, db, ballroom, booker):
    user, org = booker
    db.session.commit()
    login(client, user)
    first = key_on(client.get(f"/spaces/{ballroom.id}/book").get_data(as_text=True))
    second = key_on(client.get(f"/spaces/{ballroom.id}/book").get_data(as_text=True))
    assert first != second, "each time the form is shown it is a new booking"
    data = confirm_data(org, monday(), first)
    del data["dates"]
    preview = client.post(f"/spaces/{ballroom.id}/book", data=data).get_data(as_text=True)
    assert "Check your dates" in preview
    assert f'name="submission_key" value="{first}"' in preview
    back = client.post(f"/spaces/{ballroom.id}/book", data={**data, "edit": "1"}).get_data(as_text=True)
    assert key_on(back) == first, "changing the details keeps the same form"


def test_a_request_sent_twice_shows_the_one_made_and_tells_the_owner_once(
    client, db, ballroom, owner, booker, mailbox
):
    owner_user, _ = owner
    user, org = booker
    day = monday()
    db.session.commit()
    login(client, user)
    key = FORM_KEY

    sent = client.post(f"/spaces/{ballroom.id}/book/confirm", data=confirm_data(org, day, key))
    again = client.post(f"/spaces/{ballroom.id}/book/confirm", data=confirm_data(org, day, key))

    assert sent.status_code == again.status_code == 302
    assert again.location == sent.location
    page = client.get(again.location).get_data(as_text=True)
    assert REPEATED in page
    assert bookings(db) == 1
    booking = db.session.scalar(sa.select(Booking))
    assert booking.submission_key == key
    assert [o.status for o in booking.occurrences] == [OccurrenceStatus.REQUESTED]
    assert len(mailbox.to("owner@example.org")) == 1
    assert owner_messages(db, owner_user) == 1, "one inbox entry too"


def test_a_booking_confirmed_at_once_and_sent_again_is_not_a_clash_with_itself(client, db, studio, booker):
    user, org = booker
    day = monday()
    db.session.commit()
    login(client, user)
    key = FORM_KEY
    sent = client.post(f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, day, key))
    again = client.post(f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, day, key))
    assert (sent.status_code, again.status_code) == (302, 302)
    assert again.location == sent.location
    assert bookings(db) == 1

    # A new form is a new booking.
    fresh = key_on(client.get(f"/spaces/{studio.id}/book").get_data(as_text=True))
    other = client.post(
        f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, day, fresh, start="20:00", end="21:00")
    )
    assert other.status_code == 302 and other.location != sent.location
    assert bookings(db) == 2


def test_someone_elses_form_key_books_nothing_and_shows_nothing(client, db, studio, booker):
    user, org = booker
    stranger, stranger_org = make_booker(email="stranger@example.org", name="Somewhere Else Youth")
    day = monday()
    db.session.commit()
    login(client, user)
    key = key_on(client.get(f"/spaces/{studio.id}/book").get_data(as_text=True))
    assert (
        client.post(f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, day, key)).status_code == 302
    )
    client.post("/logout")
    login(client, stranger)
    resp = client.post(
        f"/spaces/{studio.id}/book/confirm", data=confirm_data(stranger_org, day + timedelta(days=1), key)
    )
    assert resp.status_code == 409
    assert "This booking form was already used" in resp.get_data(as_text=True)
    assert "Explorer night" not in resp.get_data(as_text=True)
    assert bookings(db) == 1


def test_a_key_that_is_not_ours_in_shape_is_refused_at_the_form(client, db, studio, booker):
    user, org = booker
    db.session.commit()
    login(client, user)
    resp = client.post(f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, monday(), "x" * 65))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "This form could not be read. Please start again." in html
    assert len(key_on(html)) < 65, "the form shown again has a fresh key"
    assert bookings(db) == 0


def test_a_confirm_without_a_key_still_books(client, db, studio, booker):
    """An old page (or a script) without the key: booked as before, only without the repeat protection."""
    user, org = booker
    db.session.commit()
    login(client, user)
    resp = client.post(f"/spaces/{studio.id}/book/confirm", data=confirm_data(org, monday(), None))
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Booking.submission_key)) is None


class TestService:
    NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)

    @pytest.fixture(autouse=True)
    def _request_context(self, app):
        with app.test_request_context("/"):
            yield

    def request(self, space, booker, day: date, key: str, start: time = time(18)):
        user, org = booker
        req = booking_request(space, org, user, day, start=start, end=time(19))
        req.submission_key = key
        return req

    def test_the_same_key_again_raises_with_the_first_booking(self, db, studio, booker):
        first = svc.book_space(
            self.request(studio, booker, date(2026, 9, 7), "k" * 32), [date(2026, 9, 7)], self.NOW
        )
        db.session.commit()
        with pytest.raises(AlreadyBooked) as exc:
            svc.book_space(
                self.request(studio, booker, date(2026, 9, 8), "k" * 32), [date(2026, 9, 8)], self.NOW
            )
        assert exc.value.booking.id == first.id and exc.value.status_code == 409
        db.session.rollback()
        assert bookings(db) == 1

    def test_the_unique_key_is_the_last_word_when_the_check_misses_it(self, db, studio, booker, monkeypatch):
        """As when two submissions pass the check before either commits: the database refuses the second."""
        first = svc.book_space(
            self.request(studio, booker, date(2026, 9, 7), "k" * 32), [date(2026, 9, 7)], self.NOW
        )
        db.session.commit()
        looked = svc.booking_with_key
        calls: list[str | None] = []

        def blind_once(key: str | None):
            calls.append(key)
            return None if len(calls) == 1 else looked(key)

        monkeypatch.setattr(svc, "booking_with_key", blind_once)
        with pytest.raises(AlreadyBooked) as exc:
            svc.book_space(
                self.request(studio, booker, date(2026, 9, 8), "k" * 32), [date(2026, 9, 8)], self.NOW
            )
        assert exc.value.booking.id == first.id
        db.session.rollback()
        assert bookings(db) == 1
        assert db.session.scalar(sa.select(sa.func.count(Occurrence.id))) == 1


@pytest.mark.postgres_only
def test_the_same_form_posted_twice_at_once_makes_one_request_and_one_email(
    db,
    backend,
    live_server,  # noqa: F811
    ballroom,
    owner,
    booker,
    mailbox,
):
    assert backend == "postgresql"
    owner_user, _ = owner
    user, org = booker
    day = monday(3)
    db.session.commit()
    path = f"/spaces/{ballroom.id}/book/confirm"
    browser = Browser(live_server)
    browser.sign_in(user.email)
    key = FORM_KEY
    data = confirm_data(org, day, key)

    results = all_at_once([lambda: browser.post(path, data), lambda: browser.post(path, data)])

    assert Counter(status for status, _ in results) == {302: 2}, [status for status, _ in results]
    db.session.rollback()
    assert bookings(db) == 1
    booking = db.session.scalar(sa.select(Booking))
    assert booking.submission_key == key and len(booking.occurrences) == 1
    assert len(mailbox.to("owner@example.org")) == 1
    assert owner_messages(db, owner_user) == 1
    assert all(f"/bookings/{booking.id}" in body for _, body in results), "both answered with the one booking"
