"""Listing events: who may list them, the rules for places and sessions, Venue Bank bookings made, moved and
cancelled with the event, publishing and cancelling; and the organiser's pages through their forms."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.events import events as svc
from foundation.events import steps
from foundation.events.models import (
    Event,
    EventSession,
    EventStatus,
    EventType,
    LocationKind,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    Topic,
)
from foundation.extensions import db
from foundation.notifications.models import Notification
from foundation.types import LONDON, utcnow
from foundation.venues.models import Booking, Feature, Occurrence, OccurrenceStatus, SpaceOccupancy
from tests.events.factories import make_event, make_organiser
from tests.factories import add_member, login, make_org, make_user
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.factories import make_booking, make_space, make_venue
from tests.venues.test_concurrency import all_at_once, signed_in


@pytest.fixture(autouse=True)
def _request_context(app):
    # Services build links for their messages with url_for, as they do inside a request.
    with app.test_request_context("/"):
        yield


def day_ahead(days: int = 10) -> date:
    return (utcnow() + timedelta(days=days)).astimezone(LONDON).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def details(**overrides) -> svc.EventDetails:
    day = day_ahead()
    values: dict = {
        "title": "Safeguarding essentials",
        "event_type": EventType.TRAINING,
        "topics": [Topic.SAFEGUARDING],
        "places": 20,
        "location_kind": LocationKind.ONLINE,
        "online_link": "https://meet.example.org/abc",
        "sessions": [(at(day, 10), at(day, 13))],
    }
    values.update(overrides)
    return svc.EventDetails(**values)


@pytest.fixture
def organiser(db):
    return make_organiser(name="Calne Youth Project")


@pytest.fixture
def hall(db):
    owner = make_org(name="Venue Owners")
    venue = make_venue(owner, name="Bank House Youth Centre", town="Calne")
    return make_space(venue, "Main hall", capacity=60, features=[Feature.STEP_FREE_ACCESS, Feature.KITCHEN])


def counts() -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Event, EventSession, Booking, Occurrence)
    )


# --- who may list events ----------------------------------------------------------------------------------------


def test_an_admin_lists_a_draft_at_a_venue_space_booked_in_the_organisations_name(organiser, hall):
    user, org = organiser
    db.session.commit()
    day = day_ahead()
    event = svc.create_event(
        details(location_kind=LocationKind.VENUE, space=hall, sessions=[(at(day, 10), at(day, 13))]),
        org,
        user,
    )
    db.session.commit()
    assert event.status is EventStatus.DRAFT
    assert event.town == "Calne"
    assert event.starts_at == at(day, 10) and event.ends_at == at(day, 13)
    (session,) = event.sessions
    booking = session.booking
    assert booking is not None and booking.organisation_id == org.id and booking.booked_by_id == user.id
    assert booking.space_id == hall.id and booking.purpose == "Safeguarding essentials"
    assert [o.status for o in booking.occurrences] == [OccurrenceStatus.CONFIRMED]
    assert booking.occurrences[0].starts_at == at(day, 10)


def test_staff_list_events_for_an_organisation_and_the_booking_is_made_through_its_admin(organiser, hall):
    admin, org = organiser
    staff = make_user(staff=True)
    db.session.commit()
    event = svc.create_event(details(location_kind=LocationKind.VENUE, space=hall), org, staff)
    db.session.commit()
    assert event.created_by_id == staff.id
    assert event.sessions[0].booking.booked_by_id == admin.id


def test_a_space_needing_approval_is_requested_not_confirmed(organiser, hall):
    user, org = organiser
    hall.needs_approval = True
    db.session.commit()
    event = svc.create_event(details(location_kind=LocationKind.VENUE, space=hall), org, user)
    assert [o.status for o in event.sessions[0].booking.occurrences] == [OccurrenceStatus.REQUESTED]


def test_a_plain_member_and_an_organisation_not_in_good_standing_cannot_list(organiser):
    admin, org = organiser
    member = make_user()
    add_member(org, member)
    lapsed_admin = make_user()
    lapsed = make_org(admin=lapsed_admin, valid_until=date.today() - timedelta(days=1))
    db.session.commit()
    for user, organisation in ((member, org), (lapsed_admin, lapsed), (admin, lapsed)):
        with pytest.raises(NotAllowed) as refused:
            svc.create_event(details(), organisation, user)
        assert refused.value.field == "organisation_id"
        db.session.rollback()
    assert counts()[0] == 0
    assert not svc.can_create(member) and not svc.can_create(lapsed_admin) and svc.can_create(admin)


# --- bad input, refused at its field, nothing written ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"places": 0}, "places", "between 1 and 500"),
        ({"places": 10_000}, "places", "between 1 and 500"),
        ({"title": "  "}, "title", "Enter a title"),
        ({"topics": []}, "topics", "at least one topic"),
        ({"per_organisation_limit": 30}, "per_organisation_limit", "between 1 and the number of places"),
        ({"online_link": "http://meet.example.org/x"}, "online_link", "https link"),
        ({"location_kind": LocationKind.ADDRESS, "address": "Town Hall"}, "town", "Enter the town"),
        ({"location_kind": LocationKind.VENUE}, "space_id", "Choose a Venue Bank space"),
        ({"sessions": []}, "session_1_date", "at least one session"),
    ],
)
def test_bad_details_are_refused_at_their_field(organiser, overrides, field, words):
    user, org = organiser
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        svc.create_event(details(**overrides), org, user)
    assert refused.value.field == field and words in refused.value.message
    db.session.rollback()
    assert counts() == (0, 0, 0, 0)


def test_an_end_before_its_start_a_past_session_and_overlapping_sessions_are_refused(organiser):
    user, org = organiser
    db.session.commit()
    day = day_ahead()
    yesterday = day_ahead(-1)
    cases = [
        ([(at(day, 13), at(day, 10))], "session_1_end", "end must be after the start"),
        (
            [(at(day, 10), at(day, 12)), (at(yesterday, 10), at(yesterday, 12))],
            "session_2_date",
            "has passed",
        ),
        ([(at(day, 10), at(day, 12)), (at(day, 11), at(day, 14))], "session_2_date", "overlaps session 1"),
    ]
    for sessions, field, words in cases:
        with pytest.raises(DomainError) as refused:
            svc.create_event(details(sessions=sessions), org, user)
        assert refused.value.field == field and words in refused.value.message
        db.session.rollback()
    assert counts() == (0, 0, 0, 0)


def test_a_clash_at_the_venue_is_refused_with_its_dates_and_nothing_is_written(organiser, hall):
    user, org = organiser
    other = make_org(name="Another Group")
    week = day_ahead(10)
    later = week + timedelta(weeks=1)
    make_booking(hall, other, later, start=time(11), end=time(12))
    db.session.commit()
    before = counts()
    sessions = [(at(week, 10), at(week, 13)), (at(later, 10), at(later, 13))]
    with pytest.raises(Conflict) as refused:
        svc.create_event(details(location_kind=LocationKind.VENUE, space=hall, sessions=sessions), org, user)
    db.session.rollback()
    assert refused.value.field == "session_2_date"
    assert f"{later:%-d %b %Y}" in refused.value.message and "already booked" in refused.value.message
    assert counts() == before  # the first session's booking went with the rest


def test_a_space_the_organiser_may_not_book_is_refused(organiser, hall):
    user, org = organiser
    hall.archived_at = utcnow()
    small = make_space(hall.venue, "Quiet room", capacity=8)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        svc.create_event(details(location_kind=LocationKind.VENUE, space=hall), org, user)
    assert refused.value.field == "space_id" and "no longer taking bookings" in refused.value.message
    db.session.rollback()
    with pytest.raises(DomainError) as too_many:
        svc.create_event(details(location_kind=LocationKind.VENUE, space=small, places=20), org, user)
    assert too_many.value.field == "places" and "holds up to 8" in too_many.value.message
    db.session.rollback()
    assert counts()[0] == 0


def test_a_venue_rule_is_refused_at_the_session(organiser, hall):
    user, org = organiser
    hall.venue.min_notice_hours = 24 * 30
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        svc.create_event(details(location_kind=LocationKind.VENUE, space=hall), org, user)
    assert refused.value.field == "session_1_date" and "notice" in refused.value.message


def test_a_four_week_course_books_each_session(organiser, hall):
    user, org = organiser
    db.session.commit()
    first = day_ahead(7)
    sessions = [(at(first + timedelta(weeks=n), 18), at(first + timedelta(weeks=n), 20)) for n in range(4)]
    event = svc.create_event(
        details(location_kind=LocationKind.VENUE, space=hall, sessions=sessions), org, user
    )
    db.session.commit()
    assert len(event.sessions) == 4
    assert len({s.booking_id for s in event.sessions}) == 4
    assert event.ends_at == sessions[-1][1]


# --- publishing, editing, cancelling ----------------------------------------------------------------------------


def test_publish_once_and_only_a_manager(organiser):
    user, org = organiser
    event = make_event(user, org, status=EventStatus.DRAFT)
    stranger = make_user()
    db.session.commit()
    with pytest.raises(NotAllowed):
        svc.publish(event, stranger)
    svc.publish(event, user)
    db.session.commit()
    assert event.status is EventStatus.PUBLISHED and event.published_at is not None
    with pytest.raises(IllegalTransition):
        svc.publish(event, user)


def test_moving_a_session_moves_its_booking(organiser, hall):
    user, org = organiser
    event = make_event(user, org, space=hall, sessions=2)
    old = [s.booking_id for s in event.sessions]
    db.session.commit()
    first, second = [(s.starts_at, s.ends_at) for s in event.sessions]
    moved = (second[0] + timedelta(hours=1), second[1] + timedelta(hours=1))
    changes = svc.update_event(
        event, details(location_kind=LocationKind.VENUE, space=hall, sessions=[first, moved]), user
    )
    db.session.commit()
    assert changes == ["dates and times"]
    assert event.sessions[0].booking_id == old[0]
    assert event.sessions[1].booking_id not in old and event.sessions[1].starts_at == moved[0]
    gone = db.session.get(Booking, old[1])
    assert [o.status for o in gone.occurrences] == [OccurrenceStatus.CANCELLED]
    assert event.ends_at == moved[1]


def test_fewer_places_than_are_taken_is_refused_and_more_are_offered_to_the_waiting_list(organiser):
    user, org = organiser
    event = make_event(user, org, places=2, where=LocationKind.ONLINE)
    member = make_user()
    add_member(org, member)
    holding = Registration(
        event=event, organisation_id=org.id, places=2, status=RegistrationStatus.REGISTERED
    )
    holding.people = [RegistrationPlace(event_id=event.id, user_id=u.id) for u in (user, member)]
    waiting = Registration(
        event=event, organisation_id=org.id, places=1, status=RegistrationStatus.WAITLISTED, queue_position=1
    )
    waiting.people = [RegistrationPlace(event_id=event.id, user_id=make_user().id)]
    db.session.add_all([holding, waiting])
    event.places_held = 2
    db.session.commit()
    keep = [(s.starts_at, s.ends_at) for s in event.sessions]
    with pytest.raises(DomainError) as refused:
        svc.update_event(event, details(places=1, sessions=keep), user)
    assert refused.value.field == "places" and "2 places are already taken" in refused.value.message
    db.session.rollback()
    svc.update_event(db.session.get(Event, event.id), details(places=3, sessions=keep), user)
    db.session.commit()
    assert db.session.get(Registration, waiting.id).status is RegistrationStatus.OFFERED
    assert db.session.get(Event, event.id).places_held == 3


def test_cancelling_cancels_the_bookings_and_the_registrations(organiser, hall):
    user, org = organiser
    event = make_event(user, org, space=hall, sessions=2)
    entry = Registration(event=event, organisation_id=org.id, places=1, status=RegistrationStatus.REGISTERED)
    entry.people = [RegistrationPlace(event_id=event.id, user_id=user.id)]
    db.session.add(entry)
    event.places_held = 1
    db.session.commit()
    with pytest.raises(DomainError) as no_reason:
        svc.cancel_event(event, user, " ")
    assert no_reason.value.field == "reason"
    assert svc.cancel_event(event, user, "The trainer is ill.") == 1
    db.session.commit()
    event = db.session.get(Event, event.id)
    assert event.status is EventStatus.CANCELLED and event.cancel_reason == "The trainer is ill."
    for session in event.sessions:
        assert [o.status for o in session.booking.occurrences] == [OccurrenceStatus.CANCELLED]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpaceOccupancy)) == 0
    assert db.session.get(Registration, entry.id).status is RegistrationStatus.CANCELLED
    assert event.places_held == 0
    with pytest.raises(IllegalTransition):
        svc.cancel_event(event, user, "Again")


def test_lock_event_is_the_one_way_in(organiser):
    # The services take the event's lock; a reload shows the committed places.
    user, org = organiser
    event = make_event(user, org, where=LocationKind.ONLINE)
    db.session.commit()
    assert steps.lock_event(event.id).places_held == 0


# --- the organiser's pages --------------------------------------------------------------------------------------


def _form(day: date, **fields) -> dict:
    data = {
        "organisation_id": "",
        "title": "Safeguarding essentials",
        "event_type": "training",
        "topics": ["safeguarding"],
        "places": "20",
        "offer_hours": "48",
        "cancel_cutoff_hours": "48",
        "location_kind": "online",
        "online_link": "https://meet.example.org/abc",
        "session_1_date": day.isoformat(),
        "session_1_start": "10:00",
        "session_1_end": "13:00",
    }
    data.update(fields)
    return data


def test_listing_an_event_through_the_form(app, client, organiser, hall):
    user, org = organiser
    db.session.commit()
    login(client, user)
    assert client.get("/events/new").status_code == 200
    day = day_ahead()
    response = client.post(
        "/events/new",
        data=_form(
            day, organisation_id=str(org.id), location_kind="venue", space_id=str(hall.id), price="12.50"
        ),
    )
    assert response.status_code == 302
    event = db.session.scalar(sa.select(Event))
    assert event.price_pence == 1250 and event.sessions[0].booking is not None
    manage = client.get(response.headers["Location"])
    assert manage.status_code == 200 and b"Draft" in manage.data and b"Confirmed" in manage.data
    assert client.post(f"/events/{event.id}/publish").status_code == 302
    assert db.session.get(Event, event.id).status is EventStatus.PUBLISHED


def test_the_form_shows_each_problem_at_its_field(app, client, organiser):
    user, org = organiser
    db.session.commit()
    login(client, user)
    response = client.post(
        "/events/new",
        data=_form(day_ahead(), organisation_id=str(org.id), places="10000", session_1_end="09:00"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<title>Error:" in page and "Places must be between 1 and 500." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    response = client.post(
        "/events/new", data=_form(day_ahead(), organisation_id=str(org.id), session_1_end="09:00")
    )
    assert response.status_code == 422 and 'id="session_1_end-error"' in response.get_data(as_text=True)
    response = client.post(
        "/events/new",
        data=_form(day_ahead(), organisation_id=str(org.id), session_2_date=day_ahead(12).isoformat()),
    )
    assert response.status_code == 422 and "Give a start time for this session" in response.get_data(
        as_text=True
    )
    response = client.post("/events/new", data=_form(day_ahead(-2), organisation_id=str(org.id)))
    assert response.status_code == 422 and "That time has passed" in response.get_data(as_text=True)
    response = client.post("/events/new", data=_form(date(9999, 12, 31), organisation_id=str(org.id)))
    assert response.status_code == 422 and "up to 3 years ahead" in response.get_data(as_text=True)


def test_a_clash_through_the_form_answers_409_with_the_dates(app, client, organiser, hall):
    user, org = organiser
    day = day_ahead()
    make_booking(hall, make_org(), day, start=time(9), end=time(11))
    db.session.commit()
    login(client, user)
    response = client.post(
        "/events/new",
        data=_form(day, organisation_id=str(org.id), location_kind="venue", space_id=str(hall.id)),
    )
    assert response.status_code == 409
    assert f"{day:%-d %b %Y}" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_draft_is_its_managers_alone(app, client, organiser):
    user, org = organiser
    event = make_event(user, org, status=EventStatus.DRAFT)
    member = make_user()
    add_member(org, member)
    db.session.commit()
    assert client.get(f"/events/{event.id}").status_code == 404
    assert client.get(f"/events/{event.id}.ics").status_code == 404
    login(client, member)
    assert client.get(f"/events/{event.id}").status_code == 404
    assert client.get(f"/events/{event.id}/manage").status_code == 404
    client.post("/logout")
    login(client, user)
    assert client.get(f"/events/{event.id}").status_code == 200
    assert client.get(f"/events/{event.id}/manage").status_code == 200


def test_a_published_event_is_public_but_managed_by_its_organisers_only(app, client, organiser):
    user, org = organiser
    event = make_event(user, org)
    member = make_user()
    add_member(org, member)
    db.session.commit()
    assert client.get(f"/events/{event.id}").status_code == 200
    login(client, member)
    assert client.get(f"/events/{event.id}/edit").status_code == 403
    assert client.post(f"/events/{event.id}/cancel", data={"reason": "x"}).status_code == 403
    assert db.session.get(Event, event.id).status is EventStatus.PUBLISHED


def test_the_event_page_shows_sessions_in_london_time_accessibility_and_the_organiser(
    app, client, organiser, hall
):
    user, org = organiser
    summer = day_ahead(10)
    event = make_event(user, org, space=hall, session_times=[(at(summer, 18), at(summer, 20))])
    db.session.commit()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"{at(summer, 18):%A %-d %B %Y}, 18:00 to 20:00" in page
    assert "Step-free access" in page or "Step free access" in page
    assert "Kitchen" not in page.split('id="accessibility"')[1].split("</ul>")[0]
    assert f"/members/{org.id}" in page and org.name in page
    assert "20 of 20 left" in page and "Free" in page


def test_the_online_link_is_shown_only_to_people_holding_places(app, client, organiser):
    user, org = organiser
    event = make_event(
        user, org, where=LocationKind.ONLINE, online_link="https://meet.example.org/secret-room"
    )
    attendee = make_user()
    add_member(org, attendee)
    entry = Registration(event=event, organisation_id=org.id, places=1, status=RegistrationStatus.REGISTERED)
    entry.people = [RegistrationPlace(event_id=event.id, user_id=attendee.id)]
    db.session.add(entry)
    event.places_held = 1
    db.session.commit()
    assert "secret-room" not in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert b"secret-room" not in client.get(f"/events/{event.id}.ics").data
    login(client, attendee)
    assert "secret-room" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert b"secret-room" in client.get(f"/events/{event.id}.ics").data


def test_a_full_event_says_so(app, client, organiser):
    user, org = organiser
    event = make_event(user, org, places=1, where=LocationKind.ONLINE)
    event.places_held = 1
    db.session.commit()
    assert "Full: join the waiting list" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_cancelling_through_the_manage_page(app, client, organiser, hall):
    user, org = organiser
    event = make_event(user, org, space=hall)
    db.session.commit()
    login(client, user)
    response = client.post(f"/events/{event.id}/cancel", data={"reason": ""})
    assert response.status_code == 422 and "Say why the event is cancelled" in response.get_data(as_text=True)
    response = client.post(f"/events/{event.id}/cancel", data={"reason": "Not enough takers."})
    assert response.status_code == 302
    event = db.session.get(Event, event.id)
    assert event.status is EventStatus.CANCELLED
    assert event.sessions[0].booking.occurrences[0].status is OccurrenceStatus.CANCELLED


def test_editing_through_the_form_keeps_the_booking_when_nothing_moved(app, client, organiser, hall):
    user, org = organiser
    event = make_event(user, org, space=hall)
    booking_id = event.sessions[0].booking_id
    db.session.commit()
    login(client, user)
    form = client.get(f"/events/{event.id}/edit")
    assert form.status_code == 200
    s = event.sessions[0]
    start, end = s.starts_at.astimezone(LONDON), s.ends_at.astimezone(LONDON)
    response = client.post(
        f"/events/{event.id}/edit",
        data=_form(start.date(), title="Safeguarding, updated", location_kind="venue", space_id=str(hall.id),
                   session_1_start=f"{start:%H:%M}", session_1_end=f"{end:%H:%M}"),
    )  # fmt: skip
    assert response.status_code == 302
    event = db.session.get(Event, event.id)
    assert event.title == "Safeguarding, updated" and event.sessions[0].booking_id == booking_id


def test_my_events_lists_drafts_of_my_organisations(app, client, organiser):
    user, org = organiser
    mine = make_event(user, org, status=EventStatus.DRAFT, title="Our draft")
    make_event(title="Someone else's")
    db.session.commit()
    login(client, user)
    page = client.get("/events/mine").get_data(as_text=True)
    assert "Our draft" in page and "Someone else" not in page
    assert f"/events/{mine.id}/manage" in page


def test_a_change_of_dates_is_passed_on_to_people_registered(organiser):
    user, org = organiser
    event = make_event(
        user,
        org,
        where=LocationKind.ONLINE,
        title="Governance basics",
        online_link="https://meet.example.org/abc",
    )
    attendee = make_user()
    add_member(org, attendee)
    entry = Registration(event=event, organisation_id=org.id, places=1, status=RegistrationStatus.REGISTERED)
    entry.made_by_id = attendee.id
    entry.people = [RegistrationPlace(event_id=event.id, user_id=attendee.id)]
    db.session.add(entry)
    event.places_held = 1
    db.session.commit()
    (start, end) = (event.sessions[0].starts_at, event.sessions[0].ends_at)

    def told() -> list[str]:
        return list(
            db.session.scalars(
                sa.select(Notification.subject)
                .where(Notification.user_id == attendee.id)
                .order_by(Notification.id)
            )
        )

    svc.update_event(event, details(title="Governance basics", sessions=[(start, end)], places=30), user)
    db.session.commit()
    assert told() == []  # more places, same dates and place: nothing to tell
    later = (start + timedelta(days=1), end + timedelta(days=1))
    assert svc.update_event(
        db.session.get(Event, event.id), details(title="Governance basics", sessions=[later]), user
    ) == ["dates and times"]
    db.session.commit()
    assert told() == ["Event changed: Governance basics"]


def test_moving_from_a_venue_to_online_releases_the_booking(organiser, hall):
    user, org = organiser
    event = make_event(user, org, space=hall)
    booking_id = event.sessions[0].booking_id
    db.session.commit()
    keep = [(event.sessions[0].starts_at, event.sessions[0].ends_at)]
    changes = svc.update_event(event, details(sessions=keep), user)
    db.session.commit()
    assert changes == ["where it takes place"]
    event = db.session.get(Event, event.id)
    assert event.space_id is None and event.town is None and event.sessions[0].booking_id is None
    assert db.session.get(Booking, booking_id).occurrences[0].status is OccurrenceStatus.CANCELLED


def test_organisers_racing_for_one_space_at_one_time_get_one_event(db, hall, live_server):  # noqa: F811
    """Eight organisations list an event in the same space at the same time at once: one is booked, the others
    are refused with the date, and nothing of theirs is written."""
    organisers = [make_organiser(name=f"Racing Group {i}") for i in range(8)]
    day = day_ahead(9)
    db.session.commit()
    browsers = signed_in(live_server, [user.email for user, _ in organisers])
    # Plain values for the client threads, which have no database session.
    forms = [
        _form(day, organisation_id=str(org.id), location_kind="venue", space_id=str(hall.id))
        for _, org in organisers
    ]
    jobs = [
        (lambda b=b, form=form: b.post("/events/new", form)) for b, form in zip(browsers, forms, strict=True)
    ]
    results = all_at_once(jobs)
    assert sorted(status for status, _ in results) == [302] + [409] * 7
    for status, body in results:
        if status == 409:
            assert f"{day:%-d %b %Y}" in body and "already booked" in body
    db.session.rollback()
    assert counts() == (1, 1, 1, 1)
