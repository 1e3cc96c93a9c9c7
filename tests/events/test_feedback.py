"""Feedback: people marked as attending rate the event and comment, once each (sending again replaces it); anyone
else is refused clearly; the organiser reads the count, average, spread and comments, without names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, NotAllowed
from foundation.events.feedback import give_feedback, results
from foundation.events.models import EventFeedback
from foundation.extensions import db as _db
from tests.events.attendance_factories import add_entry, add_feedback, add_people, mark_attended
from tests.events.factories import make_event, make_organiser
from tests.factories import login, make_org, make_user

START = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def scene(db):
    organiser, organiser_org = make_organiser(name="Melksham Youth Network")
    event = make_event(organiser, organiser_org, title="Governance for trustees", starts_at=START)
    club = make_org(name="Corsham Youth Club")
    came, also_came, absent = add_people(club, 3)
    entry = add_entry(event, club, [came, also_came, absent])
    mark_attended(entry, [True, True, False], by=organiser)
    (registered,) = add_people(club, 1)
    add_entry(event, club, [registered])  # registered, register not marked for them
    _db.session.commit()
    return {
        "organiser": organiser,
        "event": event,
        "came": came,
        "also_came": also_came,
        "absent": absent,
        "registered": registered,
        "places": entry.people,
    }


def _count() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(EventFeedback)) or 0


def test_an_attendee_gives_feedback_and_sending_again_replaces_it(scene):
    event, came = scene["event"], scene["came"]
    give_feedback(event, came, 4, "  Clear and practical.  ")
    _db.session.commit()
    give_feedback(event, came, 5, "Even better on reflection.")
    _db.session.commit()
    rows = _db.session.scalars(sa.select(EventFeedback)).all()
    assert [(r.rating, r.comments) for r in rows] == [(5, "Even better on reflection.")]


def test_people_who_did_not_attend_are_refused(scene):
    event = scene["event"]
    outsider = make_user()
    _db.session.commit()
    for who in (scene["absent"], scene["registered"], outsider, scene["organiser"]):
        with pytest.raises(NotAllowed, match="Only people marked as attending"):
            give_feedback(event, who, 5, "")
        _db.session.rollback()
    assert _count() == 0


def test_ratings_off_the_scale_and_long_comments_are_refused_at_their_field(scene):
    event, came = scene["event"], scene["came"]
    for rating in (0, 6, -1):
        with pytest.raises(DomainError) as refused:
            give_feedback(event, came, rating, "")
        assert refused.value.field == "rating"
        _db.session.rollback()
    with pytest.raises(DomainError) as refused:
        give_feedback(event, came, 3, "x" * 2_001)
    assert refused.value.field == "comments"
    _db.session.rollback()
    give_feedback(event, came, 3, "x" * 2_000)
    _db.session.commit()
    assert _count() == 1


def test_results_count_average_and_spread(scene):
    event = scene["event"]
    assert results(event).count == 0 and results(event).average is None
    first, second, _absent = scene["places"]
    add_feedback(first, 5, "Great trainer.")
    add_feedback(second, 2)
    _db.session.commit()
    found = results(event)
    assert found.count == 2 and found.attended == 2
    assert found.average == 3.5
    assert found.distribution == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert found.share(5) == 50


# --- the pages ----------------------------------------------------------------------------------------------------


def test_an_attendee_sends_the_form_and_the_organiser_reads_the_results(app, scene, client):
    event, came = scene["event"], scene["came"]
    url = f"/events/{event.id}/feedback"
    login(client, came)
    page = client.get(url)
    assert page.status_code == 200 and "How was Governance for trustees?" in page.get_data(as_text=True)
    missing = client.post(url, data={"comments": "No rating"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "<title>Error:" in text and "Choose a rating from 1 to 5." in text and 'href="#rating-0"' in text
    assert client.post(url, data={"rating": "9"}).status_code == 422
    too_long = client.post(url, data={"rating": "4", "comments": "y" * 2_001})
    assert too_long.status_code == 422 and "2,000 characters or fewer" in too_long.get_data(as_text=True)
    assert _count() == 0
    sent = client.post(url, data={"rating": "4", "comments": "Loved the case studies."})
    assert sent.status_code == 303
    again = client.get(url).get_data(as_text=True)
    assert "Update my feedback" in again and "Loved the case studies." in again
    client.post(url, data={"rating": "5", "comments": "Loved the case studies!"})
    assert _count() == 1

    client.post("/logout")
    login(client, scene["organiser"])
    shown = client.get(f"{url}/results").get_data(as_text=True)
    assert "Loved the case studies!" in shown
    assert 'id="feedback-count">1<' in shown and 'id="feedback-average">5.0<' in shown
    assert came.name not in shown  # feedback is shown without names


def test_the_form_is_refused_clearly_to_people_who_did_not_attend(app, scene, client):
    url = f"/events/{scene['event'].id}/feedback"
    for who in (scene["absent"], scene["registered"]):
        client.post("/logout")
        login(client, who)
        refused = client.get(url)
        assert refused.status_code == 403
        assert "Only people marked as attending this event can give feedback" in refused.get_data(
            as_text=True
        )
        assert client.post(url, data={"rating": "5"}).status_code == 403
    assert _count() == 0
    client.post("/logout")
    assert "/login" in client.get(url).headers["Location"]


def test_only_the_organiser_reads_the_results(app, scene, client):
    url = f"/events/{scene['event'].id}/feedback/results"
    outsider = make_user()
    make_org(admin=outsider)
    _db.session.commit()
    for who, status in ((scene["came"], 403), (outsider, 403), (make_user(staff=True), 200)):
        _db.session.commit()
        client.post("/logout")
        login(client, who)
        assert client.get(url).status_code == status


@pytest.mark.postgres_only
def test_the_same_feedback_sent_at_once_from_several_tabs_makes_one_row(app, scene):
    import threading

    from foundation.events.models import Event
    from foundation.members.models import User

    event_id, user_id = scene["event"].id, scene["came"].id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def send(rating: int) -> None:
        with app.app_context():
            try:
                event, me = _db.session.get(Event, event_id), _db.session.get(User, user_id)
                barrier.wait(timeout=30)
                give_feedback(event, me, rating, f"Sent from tab {rating}")
                _db.session.commit()
                outcomes.append("saved")
            except Exception as exc:  # any failure is the finding
                _db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=send, args=(1 + n % 5,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["saved"] * 8
    _db.session.expire_all()
    assert _count() == 1


def test_the_dashboard_asks_attendees_for_feedback_until_they_give_it(app, db, client):
    from datetime import timedelta

    from tests.events.attendance_factories import trained

    org = make_org(name="Pewsey Youth Club", town="Pewsey")
    (person,) = add_people(org, 1)
    event, _ = trained(org, [person], starts_at=datetime.now(UTC) - timedelta(days=2))
    _db.session.commit()
    login(client, person)
    page = client.get("/dashboard").get_data(as_text=True)
    assert f"How was {event.title}?" in page and f"/events/{event.id}/feedback" in page
    client.post(f"/events/{event.id}/feedback", data={"rating": "5"})
    assert f"How was {event.title}?" not in client.get("/dashboard").get_data(as_text=True)
