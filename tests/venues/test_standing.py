"""Safeguarding at Venue Bank: when the Foundation suspends an organisation, its requests cannot be approved, and
staff choose on the vetting form whether its upcoming bookings are cancelled (the owners and it are told)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError
from foundation.members.models import DocumentKind, Organisation, OrganisationDocument, OrganisationStatus
from foundation.members.signals import organisation_standing_changed
from foundation.notifications.models import Notification
from foundation.types import LONDON, london_today, utcnow
from foundation.venues.models import Occurrence, OccurrenceStatus, SpaceOccupancy
from tests.conftest import text_of
from tests.factories import login, make_user
from tests.venues.factories import add_occurrence, make_booker, make_booking, make_space, make_venue

CONFIRMED, REQUESTED = OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED
CANCELLED, DECLINED = OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED
REASON = "Safeguarding concern reported; under review."


@pytest.fixture
def staff(db):
    return make_user(email="vera@wypf.org.uk", name="Vera Vetting", staff=True)


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Corsham Town Hall Trust")


@pytest.fixture
def second_owner(db):
    return make_booker(email="scouts-hut@example.org", name="Corsham Scout Group")


@pytest.fixture
def hall(owner):
    return make_space(make_venue(owner[1], name="Corsham Town Hall"), "Main hall", needs_approval=True)


@pytest.fixture
def hut(second_owner):
    return make_space(make_venue(second_owner[1], name="Scout Hut"), "Hut")


@pytest.fixture
def group(db):
    """The organisation about to be suspended: (the member who books, the organisation)."""
    return make_booker(email="booker@example.org", name="Corsham Youth Drop-in")


def suspend(client, org, cancel: bool, message: str = REASON):
    data = {"action": "suspend", "message": message}
    if cancel:
        data["cancel_future_bookings"] = "y"
    return client.post(f"/staff/organisations/{org.id}", data=data)


def statuses(db, booking) -> list[OccurrenceStatus]:
    db.session.expire_all()
    return [o.status for o in sorted(booking.occurrences, key=lambda o: o.starts_at)]


def soon(days: int):
    return london_today() + timedelta(days=days)


@pytest.fixture
def scene(db, hall, hut, group):
    """The group's bookings: weekly at the hall (one date already past), a request at the hall, one at the hut,
    and another group's booking that must not be touched."""
    user, org = group
    weekly = make_booking(hall, org, soon(7), soon(21), weekdays=[soon(7).weekday()], booked_by=user)
    add_occurrence(weekly, london_today() - timedelta(days=7), status=CONFIRMED)  # the past stays
    request = make_booking(
        hall,
        org,
        soon(10),
        start=time(10),
        end=time(12),
        status=REQUESTED,
        booked_by=user,
        purpose="Open day",
    )
    at_hut = make_booking(hut, org, soon(5), booked_by=user, purpose="Camp planning")
    _, other_org = make_booker(name="Corsham Choir")
    other = make_booking(hall, other_org, soon(8), purpose="Choir")
    db.session.commit()
    return weekly, request, at_hut, other


def test_the_vetting_form_offers_the_choice_when_suspending(client, db, staff, group):
    login(client, staff)
    page = client.get(f"/staff/organisations/{group[1].id}").get_data(as_text=True)
    assert 'name="cancel_future_bookings"' in page
    assert "also cancel its upcoming bookings and booking requests" in page
    pending = make_booker(name="Newcomers", status=OrganisationStatus.PENDING)[1]
    db.session.commit()
    assert 'name="cancel_future_bookings"' in client.get(f"/staff/organisations/{pending.id}").get_data(
        as_text=True
    ), "rejecting offers it too"


def test_suspending_and_cancelling_cancels_every_upcoming_date_and_tells_everyone_once(
    client, db, staff, owner, second_owner, group, scene, mailbox
):
    weekly, request, at_hut, other = scene
    user, org = group
    login(client, staff)

    resp = suspend(client, org, cancel=True)

    assert resp.status_code == 302
    flashed = client.get(resp.location).get_data(as_text=True)
    assert "5 upcoming booking dates (3 bookings) cancelled" in flashed
    assert statuses(db, weekly) == [CONFIRMED, CANCELLED, CANCELLED, CANCELLED]
    assert statuses(db, request) == [CANCELLED]
    assert statuses(db, at_hut) == [CANCELLED]
    assert statuses(db, other) == [CONFIRMED], "another group's booking is untouched"
    cancelled = db.session.scalars(sa.select(Occurrence).where(Occurrence.status == CANCELLED)).all()
    assert {o.decided_by_id for o in cancelled} == {staff.id}
    assert {o.status_reason for o in cancelled} == {
        "Cancelled by the Foundation: Corsham Youth Drop-in is no longer in good standing."
    }
    held = db.session.scalars(sa.select(SpaceOccupancy.occurrence_id)).all()
    assert {o.id for o in cancelled}.isdisjoint(held), "the cancelled dates no longer hold their spaces"

    hall_owner = mailbox.to("owner@example.org")
    assert len(hall_owner) == 1, "one message for all its venue's cancelled bookings"
    assert "Bookings by Corsham Youth Drop-in cancelled" in hall_owner[0]["Subject"]
    body = text_of(hall_owner[0])
    assert "Main hall, Corsham Town Hall (Youth club)" in body and "Open day" in body
    assert REASON not in body, "the vetting message is for the organisation alone"
    assert "Camp planning" not in body, "the other venue's booking is the other owner's business"
    assert len(mailbox.to("scouts-hut@example.org")) == 1
    told = [m for m in mailbox.to("booker@example.org") if "bookings have been cancelled" in m["Subject"]]
    assert len(told) == 1
    assert "Camp planning" in text_of(told[0]) and "Open day" in text_of(told[0])


def test_suspending_without_cancelling_keeps_bookings_but_requests_cannot_be_approved(
    client, app, db, staff, owner, group, scene
):
    weekly, request, _, _ = scene
    _, org = group
    login(client, staff)
    assert suspend(client, org, cancel=False).status_code == 302
    assert statuses(db, weekly) == [CONFIRMED] * 4
    assert statuses(db, request) == [REQUESTED]

    owner_client = app.test_client()
    login(owner_client, owner[0])
    queue = owner_client.get("/venues/requests").get_data(as_text=True)
    assert "Corsham Youth Drop-in is not in good standing, so these dates cannot be approved" in queue
    assert "The organisation is not approved (it is suspended)." in queue
    assert "Approve ticked dates" not in queue and "Decline ticked dates" in queue

    occ_id = str(request.occurrences[0].id)
    refused = owner_client.post(
        f"/bookings/{request.id}/decide", data={"decision": "approve", "occurrence_ids": [occ_id]}
    )
    assert refused.status_code == 409
    assert "Corsham Youth Drop-in is not in good standing, so its requests cannot be approved." in (
        refused.get_data(as_text=True)
    )
    assert statuses(db, request) == [REQUESTED]
    declined = owner_client.post(
        f"/bookings/{request.id}/decide",
        data={"decision": "decline", "occurrence_ids": [occ_id], "reason": "Sorry."},
    )
    assert declined.status_code == 302 and statuses(db, request) == [DECLINED]


def test_back_in_good_standing_its_requests_can_be_approved_again(
    client, app, db, staff, owner, group, scene
):
    _, request, _, _ = scene
    _, org = group
    login(client, staff)
    assert suspend(client, org, cancel=False).status_code == 302
    assert client.post(f"/staff/organisations/{org.id}", data={"action": "approve"}).status_code == 302
    owner_client = app.test_client()
    login(owner_client, owner[0])
    approved = owner_client.post(
        f"/bookings/{request.id}/decide",
        data={"decision": "approve", "occurrence_ids": [str(request.occurrences[0].id)]},
    )
    assert approved.status_code == 302 and statuses(db, request) == [CONFIRMED]


def test_a_lapsed_safeguarding_policy_also_stops_approval(client, db, owner, group, scene):
    _, request, _, _ = scene
    _, org = group
    policy = db.session.scalar(
        sa.select(OrganisationDocument).where(
            OrganisationDocument.organisation_id == org.id,
            OrganisationDocument.kind == DocumentKind.SAFEGUARDING_POLICY,
        )
    )
    policy.valid_until = london_today() - timedelta(days=1)
    db.session.commit()
    login(client, owner[0])
    refused = client.post(
        f"/bookings/{request.id}/decide",
        data={"decision": "approve", "occurrence_ids": [str(request.occurrences[0].id)]},
    )
    assert refused.status_code == 409 and "safeguarding policy was due for review" in refused.get_data(
        as_text=True
    )


def test_the_cancellations_stand_or_fall_with_the_vetting_decision(client, db, staff, group, scene, mailbox):
    """A later receiver refuses: the decision and every cancellation roll back together, and nobody is told."""
    weekly, request, at_hut, _ = scene
    _, org = group

    def refuse(sender, **_):
        raise DomainError("Not now.")

    organisation_standing_changed.connect(refuse)
    try:
        login(client, staff)
        resp = suspend(client, org, cancel=True)
    finally:
        organisation_standing_changed.disconnect(refuse)

    assert resp.status_code == 422 and "Not now." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).status is OrganisationStatus.APPROVED
    assert statuses(db, weekly)[1:] == [CONFIRMED] * 3
    assert statuses(db, request) == [REQUESTED] and statuses(db, at_hut) == [CONFIRMED]
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    assert mailbox.messages() == []


def test_nothing_to_cancel_is_said_plainly(client, db, staff, group):
    _, org = group
    login(client, staff)
    resp = suspend(client, org, cancel=True)
    assert "It had no upcoming bookings to cancel." in client.get(resp.location).get_data(as_text=True)


def test_a_date_already_under_way_is_left_as_it_is(client, db, staff, hall, group):
    user, org = group
    started = utcnow().astimezone(LONDON) - timedelta(minutes=30)
    booking = make_booking(
        hall,
        org,
        started.date(),
        start=started.time().replace(second=0, microsecond=0),
        end=time(23, 59),
        booked_by=user,
    )
    db.session.commit()
    login(client, staff)
    suspend(client, org, cancel=True)
    assert statuses(db, booking) == [CONFIRMED]
