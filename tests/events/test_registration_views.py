"""The registration pages through their forms: registering colleagues, answering offers, the organiser's list,
and every refusal with a clear message at its field, the right status and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.events import registrations
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus, RegistrationStep
from foundation.extensions import db
from foundation.members.models import MemberRole
from foundation.types import utcnow
from tests.events.factories import make_event
from tests.events.registration_factories import fill, held_in_db, make_team, register
from tests.factories import add_member, login, make_user

S = RegistrationStatus


def online_event(**kwargs) -> Event:
    return make_event(where=LocationKind.ONLINE, **kwargs)


def entries() -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Registration).order_by(Registration.id)))


def offered_entry(event: Event, request_context_app) -> tuple[Registration, list]:
    """A waiting entry of one that has just been offered the place freed by the event's only holder."""
    with request_context_app.test_request_context("/"):
        (holder,) = fill(event)
        org, people = make_team(1)
        db.session.commit()
        entry = register(event, org, people)
        registrations.cancel(holder, holder.made_by)
        db.session.commit()
    assert db.session.get(Registration, entry.id).status is S.OFFERED
    return entry, people


def test_a_member_registers_two_colleagues_through_the_form(app, client):
    event = online_event(places=10)
    org, (me, a, b) = make_team(3)
    db.session.commit()
    login(client, me)
    page = client.get(f"/events/{event.id}/register")
    assert page.status_code == 200
    assert a.name in page.text and b.name in page.text
    answer = client.post(
        f"/events/{event.id}/register", data={"organisation": org.id, "people": [a.id, b.id]}
    )
    assert answer.status_code == 303
    (entry,) = entries()
    assert {p.user_id for p in entry.people} == {a.id, b.id}
    assert entry.made_by_id == me.id
    shown = client.get(answer.headers["Location"])
    assert "You are registered" in shown.text
    assert a.name in shown.text


def test_a_full_event_puts_the_entry_on_the_waiting_list(app, client):
    event = online_event(places=1)
    org, (me,) = make_team(1)
    db.session.commit()
    with app.test_request_context("/"):
        fill(event)
    login(client, me)
    answer = client.post(f"/events/{event.id}/register", data={"organisation": org.id, "people": [me.id]})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"])
    assert "waiting list" in shown.text
    assert "number 1 in the queue" in shown.text


def test_registering_someone_from_another_organisation_is_refused_at_the_field(app, client):
    event = online_event(places=10)
    org, (me,) = make_team(1)
    _, (stranger,) = make_team(1)
    db.session.commit()
    login(client, me)
    answer = client.post(
        f"/events/{event.id}/register", data={"organisation": org.id, "people": [me.id, stranger.id]}
    )
    assert answer.status_code == 422
    assert "Error:" in answer.text
    assert f"You can register only people from {org.name}" in answer.text
    assert 'href="#people-0"' in answer.text  # the error summary leads to the field
    assert entries() == []
    assert held_in_db(event.id) == (0, 0)


def test_registering_for_an_organisation_one_does_not_belong_to_is_refused(app, client):
    event = online_event(places=10)
    _, (me,) = make_team(1)
    other, (them,) = make_team(1)
    db.session.commit()
    login(client, me)
    answer = client.post(f"/events/{event.id}/register", data={"organisation": other.id, "people": [them.id]})
    assert answer.status_code == 422
    assert "Choose one of your own organisations." in answer.text
    assert entries() == []


@pytest.mark.parametrize("people", [[], ["abc"], ["99999999999999999999"]])
def test_nobody_or_nonsense_chosen_is_refused_clearly(app, client, people):
    event = online_event(places=10)
    org, (me,) = make_team(1)
    db.session.commit()
    login(client, me)
    answer = client.post(f"/events/{event.id}/register", data={"organisation": org.id, "people": people})
    assert answer.status_code == 422
    assert entries() == []


def test_a_person_in_several_organisations_chooses_which_one(app, client):
    event = online_event(places=10)
    _, (me, colleague) = make_team(2, name="Alpha Youth")
    second, (other_admin,) = make_team(1, name="Beta Youth")
    add_member(second, me, MemberRole.MEMBER)
    db.session.commit()
    login(client, me)
    page = client.get(f"/events/{event.id}/register?organisation={second.id}")
    assert 'id="organisation"' in page.text
    assert other_admin.name in page.text
    assert colleague.name not in page.text
    answer = client.post(
        f"/events/{event.id}/register", data={"organisation": second.id, "people": [me.id, other_admin.id]}
    )
    assert answer.status_code == 303
    assert entries()[0].organisation_id == second.id


def test_someone_without_an_organisation_is_refused(app, client):
    event = online_event()
    loner = make_user()
    db.session.commit()
    login(client, loner)
    assert client.get(f"/events/{event.id}/register").status_code == 403


def test_the_offer_is_accepted_from_the_entry_page(app, client):
    event = online_event(places=1)
    db.session.commit()
    entry, (me,) = offered_entry(event, app)
    login(client, me)
    page = client.get(f"/events/registrations/{entry.id}")
    assert "Accept the places" in page.text
    answer = client.post(f"/events/registrations/{entry.id}/accept")
    assert answer.status_code == 303
    assert db.session.get(Registration, entry.id).status is S.REGISTERED


def test_someone_elses_offer_is_not_theirs_to_see_or_accept(app, client):
    event = online_event(places=1)
    db.session.commit()
    entry, _ = offered_entry(event, app)
    _, (stranger,) = make_team(1)
    staff = make_user(staff=True)
    db.session.commit()
    login(client, stranger)
    assert client.get(f"/events/registrations/{entry.id}").status_code == 404
    assert client.post(f"/events/registrations/{entry.id}/accept").status_code == 404
    client.get("/logout")
    staff_client = app.test_client()
    login(staff_client, staff)
    assert staff_client.get(f"/events/registrations/{entry.id}").status_code == 200  # staff may look ...
    assert staff_client.post(f"/events/registrations/{entry.id}/accept").status_code == 403  # ... not answer
    assert db.session.get(Registration, entry.id).status is S.OFFERED


def test_an_expired_offer_link_says_the_offer_has_lapsed(app, client):
    event = online_event(places=1, offer_hours=1)
    db.session.commit()
    entry, (me,) = offered_entry(event, app)
    row = db.session.get(Registration, entry.id)
    row.offer_expires_at = utcnow() - timedelta(minutes=1)  # an hour later, before the sweep
    db.session.commit()
    login(client, me)
    page = client.get(f"/events/registrations/{entry.id}")
    assert "The offer has lapsed" in page.text
    assert "Accept the places" not in page.text
    answer = client.post(f"/events/registrations/{entry.id}/accept")
    assert answer.status_code == 409
    assert "This offer has lapsed" in answer.text
    assert db.session.get(Registration, entry.id).status is S.OFFERED  # nothing written; the sweep cancels it
    with app.test_request_context("/"):
        registrations.lapse_offers(event.id)
        db.session.commit()
    page = client.get(f"/events/registrations/{entry.id}")
    assert "The offer has lapsed" in page.text
    assert client.post(f"/events/registrations/{entry.id}/accept").status_code == 409


def test_cancelling_after_the_cut_off_points_to_the_organiser(app, client):
    starts = utcnow() + timedelta(hours=10)
    event = online_event(places=5, starts_at=starts, cancel_cutoff_hours=24)
    org, (me,) = make_team(1)
    db.session.commit()
    with app.test_request_context("/"):
        entry = register(event, org, [me])
    login(client, me)
    page = client.get(f"/events/registrations/{entry.id}")
    assert "contact the organiser" in page.text
    assert "Cancel this registration" not in page.text
    answer = client.post(f"/events/registrations/{entry.id}/cancel")
    assert answer.status_code == 409
    assert "contact the organiser" in answer.text
    assert db.session.get(Registration, entry.id).status is S.REGISTERED


def test_the_organiser_sees_entries_by_state_and_reorders_the_waiting_list(app, client):
    event = online_event(places=2)
    organiser = event.organisation.admins()[0]
    db.session.commit()
    with app.test_request_context("/"):
        fill(event)
        first_org, first = make_team(2, name="First Group")
        second_org, second = make_team(1, name="Second Group")
        db.session.commit()
        a = register(event, first_org, first)
        b = register(event, second_org, second)
    login(client, organiser)
    page = client.get(f"/events/{event.id}/registrations")
    assert page.status_code == 200
    assert "First Group" in page.text and "Second Group" in page.text
    refused = client.post(f"/events/registrations/{b.id}/move", data={f"move-{b.id}-position": "1"})
    assert refused.status_code == 422
    assert "Say why the entry is moved" in refused.text
    answer = client.post(
        f"/events/registrations/{b.id}/move",
        data={f"move-{b.id}-position": "1", f"move-{b.id}-note": "Their new starters need it first"},
    )
    assert answer.status_code == 303
    with app.test_request_context("/"):
        assert list(registrations.queue_places(event)) == [b.id, a.id]
    note = db.session.scalars(
        sa.select(RegistrationStep.note)
        .where(RegistrationStep.registration_id == b.id)
        .order_by(RegistrationStep.id)
    ).all()[-1]
    assert note == "Moved from position 2 to 1: Their new starters need it first"
    bad = client.post(
        f"/events/registrations/{b.id}/move", data={f"move-{b.id}-position": "5", f"move-{b.id}-note": "x"}
    )
    assert bad.status_code == 422
    assert "Choose a position from 1 to 2." in bad.text


def test_the_organisers_page_is_refused_to_others(app, client):
    event = online_event()
    _, (me,) = make_team(1)
    db.session.commit()
    login(client, me)
    assert client.get(f"/events/{event.id}/registrations").status_code == 403


def test_approval_from_the_organisers_page(app, client):
    event = online_event(places=2, requires_approval=True)
    organiser = event.organisation.admins()[0]
    org, (me,) = make_team(1)
    db.session.commit()
    with app.test_request_context("/"):
        entry = register(event, org, [me])
    login(client, organiser)
    page = client.get(f"/events/{event.id}/registrations")
    assert "Waiting for approval" in page.text
    assert client.post(f"/events/registrations/{entry.id}/approve").status_code == 303
    assert db.session.get(Registration, entry.id).status is S.REGISTERED
    again = client.post(f"/events/registrations/{entry.id}/approve")
    assert again.status_code == 409
    assert "not waiting for approval" in again.text


def test_a_person_sees_their_registrations(app, client):
    event = online_event(places=5, title="Governance for trustees")
    org, (me, colleague) = make_team(2)
    db.session.commit()
    with app.test_request_context("/"):
        register(event, org, [colleague], by=me)
    login(client, colleague)
    page = client.get("/account/events")
    assert page.status_code == 200
    assert "Governance for trustees" in page.text


def test_the_organiser_declines_with_a_reason_and_cancels_late_on_behalf(app, client):
    starts = utcnow() + timedelta(hours=20)
    event = online_event(places=3, requires_approval=True, starts_at=starts, cancel_cutoff_hours=24)
    organiser = event.organisation.admins()[0]
    first_org, (first,) = make_team(1, name="Amesbury Youth")
    second_org, (second,) = make_team(1, name="Bradford Youth")
    db.session.commit()
    with app.test_request_context("/"):
        declined = register(event, first_org, [first])
        kept = register(event, second_org, [second])
        registrations.approve(db.session.get(Registration, kept.id), organiser)
        db.session.commit()
    login(client, organiser)
    too_long = client.post(f"/events/registrations/{declined.id}/decline", data={"reason": "x" * 401})
    assert too_long.status_code == 422
    assert "Keep the reason under 400 characters." in too_long.text
    assert db.session.get(Registration, declined.id).status is S.PENDING_APPROVAL
    answer = client.post(f"/events/registrations/{declined.id}/decline", data={"reason": "For Calne groups"})
    assert answer.status_code == 303
    assert db.session.get(Registration, declined.id).status is S.CANCELLED
    late = client.post(f"/events/registrations/{kept.id}/cancel")
    assert late.status_code == 303
    entry = db.session.get(Registration, kept.id)
    assert entry.status is S.CANCELLED
    assert entry.late_cancellation
    page = client.get(f"/events/{event.id}/registrations")
    assert "Late" in page.text
