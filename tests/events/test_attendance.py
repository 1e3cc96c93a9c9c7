"""The register: the organiser marks who came, from the day of the first session; entries follow their people's
marks through the one state machine; bad marks are refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, NotAllowed
from foundation.events.attendance import mark, register_sheet
from foundation.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
    RegistrationStep,
)
from foundation.extensions import db as _db
from foundation.members.models import MemberRole
from tests.events.attendance_factories import add_entry, add_people
from tests.events.factories import make_event, make_organiser
from tests.factories import add_member, login, make_org, make_user

S = RegistrationStatus
# A Tuesday in winter (London is on UTC): the first session 10:00 to 13:00.
START = datetime(2026, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture
def scene(db):
    """A training event with two entries: Riverside's two people and Hilltop's one; one entry waiting; one
    cancelled."""
    organiser, organiser_org = make_organiser(name="Calne Youth Trust")
    event = make_event(organiser, organiser_org, starts_at=START, sessions=2, places=10)
    riverside = make_org(name="Riverside Youth Club")
    hilltop = make_org(name="Hilltop Scouts")
    ana, ben = add_people(riverside, 2, "Riverside person")
    (cara,) = add_people(hilltop, 1, "Hilltop person")
    waiting_person, gone_person = add_people(hilltop, 2, "Hilltop other")
    pair = add_entry(event, riverside, [ana, ben])
    single = add_entry(event, hilltop, [cara])
    waiting = add_entry(event, hilltop, [waiting_person], S.WAITLISTED)
    cancelled = add_entry(event, hilltop, [gone_person], S.CANCELLED)
    _db.session.commit()
    return {
        "organiser": organiser,
        "event": event,
        "pair": pair,
        "single": single,
        "waiting": waiting,
        "cancelled": cancelled,
        "riverside": riverside,
    }


def _fresh(obj):
    _db.session.expire_all()
    return _db.session.get(type(obj), obj.id)


def test_marking_moves_each_entry_by_its_people(scene):
    event, pair, single, organiser = scene["event"], scene["pair"], scene["single"], scene["organiser"]
    ana, ben = pair.people
    (cara,) = single.people
    held = event.places_held
    on_the_day = START - timedelta(hours=2)  # 08:00 on the day: the register is open
    mark(event, {ana.id: True, ben.id: False, cara.id: False}, organiser, on_the_day)
    _db.session.commit()

    assert _fresh(pair).status is S.ATTENDED  # one of its two came
    assert _fresh(single).status is S.NO_SHOW
    ana, ben, cara = (_fresh(p) for p in (ana, ben, cara))
    assert (ana.attended, ben.attended, cara.attended) == (True, False, False)
    assert {p.marked_by_id for p in (ana, ben, cara)} == {organiser.id}
    assert ana.marked_at == on_the_day
    assert _fresh(event).places_held == held  # attended and no-show entries keep their places
    step = _db.session.scalars(
        sa.select(RegistrationStep)
        .where(RegistrationStep.registration_id == pair.id)
        .order_by(RegistrationStep.id.desc())
    ).first()
    assert (step.from_status, step.to_status, step.by_id, step.note) == (
        S.REGISTERED,
        S.ATTENDED,
        organiser.id,
        "Register marked",
    )


def test_the_register_can_be_corrected_both_ways(scene):
    event, pair, organiser = scene["event"], scene["pair"], scene["organiser"]
    ana, ben = pair.people
    later = START + timedelta(days=3)
    mark(event, {ana.id: True, ben.id: True}, organiser, later)
    _db.session.commit()
    assert _fresh(pair).status is S.ATTENDED
    mark(event, {ana.id: False, ben.id: False}, organiser, later)
    _db.session.commit()
    assert _fresh(pair).status is S.NO_SHOW
    mark(event, {ben.id: True}, organiser, later)
    _db.session.commit()
    assert _fresh(pair).status is S.ATTENDED
    notes = [s.note for s in _fresh(pair).steps]
    assert notes[-2:] == ["Register corrected", "Register corrected"]


def test_the_register_opens_on_the_day_of_the_first_session_in_london(db):
    # 00:30 on 1 July in London is 23:30 on 30 June in UTC: at 23:45 UTC it is already the day in London.
    organiser, org = make_organiser()
    event = make_event(organiser, org, starts_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    (person,) = add_people(make_org(), 1)
    entry = add_entry(event, person.memberships[0].organisation, [person])
    _db.session.commit()
    place_id = entry.people[0].id
    the_evening_before = datetime(2026, 6, 30, 22, 59, tzinfo=UTC)  # 23:59 on 30 June in London
    with pytest.raises(DomainError, match="The register opens on 1 July 2026"):
        mark(event, {place_id: True}, organiser, the_evening_before)
    _db.session.rollback()
    assert _fresh(entry).status is S.REGISTERED and _fresh(entry.people[0]).attended is None
    mark(event, {place_id: True}, organiser, datetime(2026, 6, 30, 23, 1, tzinfo=UTC))
    _db.session.commit()
    assert _fresh(entry).status is S.ATTENDED


def test_marks_for_people_not_on_this_register_are_refused_with_nothing_written(scene):
    event, pair, organiser = scene["event"], scene["pair"], scene["organiser"]
    ana, _ = pair.people
    other_event = make_event(organiser, _db.session.get(Event, event.id).organisation, starts_at=START)
    (stranger,) = add_people(scene["riverside"], 1)
    elsewhere = add_entry(other_event, scene["riverside"], [stranger])
    _db.session.commit()
    later = START + timedelta(days=1)
    for not_here in (
        elsewhere.people[0].id,  # a place of another event
        scene["waiting"].people[0].id,  # waiting, not registered
        scene["cancelled"].people[0].id,  # cancelled
        10_000_000,  # nobody
    ):
        with pytest.raises(DomainError, match="not on this event's register") as refused:
            mark(event, {ana.id: True, not_here: True}, organiser, later)
        assert refused.value.field == "attended"
        _db.session.rollback()
    assert _fresh(pair).status is S.REGISTERED
    assert _fresh(ana).attended is None
    assert _fresh(elsewhere).status is S.REGISTERED


def test_only_the_organiser_marks_and_not_on_a_cancelled_event(scene):
    event, pair = scene["event"], scene["pair"]
    ana, _ = pair.people
    later = START + timedelta(days=1)
    attendee = _db.session.get(type(ana.user), ana.user_id)
    with pytest.raises(NotAllowed):
        mark(event, {ana.id: True}, attendee, later)
    _db.session.rollback()
    staff = make_user(staff=True)
    _db.session.commit()
    mark(event, {ana.id: True}, staff, later)  # staff may mark any register
    _db.session.commit()
    assert _fresh(pair).status is S.ATTENDED

    event = _fresh(event)
    event.status = EventStatus.CANCELLED
    _db.session.commit()
    with pytest.raises(DomainError, match="cancelled"):
        mark(event, {ana.id: False}, staff, later)


def test_the_sheet_groups_people_by_organisation_without_the_waiting_or_cancelled(scene):
    groups = register_sheet(scene["event"])
    assert [g.organisation.name for g in groups] == ["Hilltop Scouts", "Riverside Youth Club"]
    assert [len(g.people) for g in groups] == [1, 2]


# --- the page -----------------------------------------------------------------------------------------------------


def test_the_organiser_marks_the_register_through_the_page(app, scene, client, monkeypatch):
    event, pair, single, organiser = scene["event"], scene["pair"], scene["single"], scene["organiser"]
    ana, ben = pair.people
    (cara,) = single.people
    login(client, organiser)
    url = f"/events/{event.id}/register-sheet"
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Riverside Youth Club" in text and "Hilltop Scouts" in text
    assert ana.user.name in text and cara.user.name in text
    assert scene["waiting"].people[0].user.name not in text
    sent = client.post(url, data={"shown": f"{ana.id} {ben.id} {cara.id}", "attended": [str(ana.id)]})
    assert sent.status_code == 303
    assert _fresh(pair).status is S.ATTENDED and _fresh(single).status is S.NO_SHOW
    assert "The register is saved." in client.get(url).get_data(as_text=True)

    printed = client.get(f"/events/{event.id}/register-sheet/print").get_data(as_text=True)
    assert "Signature" in printed and ana.user.name in printed and "Hilltop Scouts" in printed


def test_a_register_marked_before_the_day_is_refused_at_the_field(app, db, client):
    organiser, org = make_organiser()
    event = make_event(organiser, org, starts_at=datetime.now(UTC) + timedelta(days=3))
    (person,) = add_people(make_org(), 1)
    entry = add_entry(event, person.memberships[0].organisation, [person])
    _db.session.commit()
    login(client, organiser)
    url = f"/events/{event.id}/register-sheet"
    assert "The register opens on" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"shown": str(entry.people[0].id), "attended": [str(entry.people[0].id)]})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        'class="error-summary"' in text and "The register opens on" in text and 'href="#attended-0"' in text
    )
    assert _fresh(entry).status is S.REGISTERED


def test_a_tampered_register_is_refused(app, scene, client):
    event, pair, organiser = scene["event"], scene["pair"], scene["organiser"]
    ana, _ = pair.people
    login(client, organiser)
    url = f"/events/{event.id}/register-sheet"
    waiting_place = scene["waiting"].people[0].id
    for data in (
        {"shown": f"{ana.id} {waiting_place}", "attended": [str(waiting_place)]},
        {"shown": f"{ana.id}", "attended": [str(waiting_place)]},
        {"shown": "12 abc", "attended": []},
        {"shown": f"{ana.id}", "attended": ["99999999999999"]},
    ):
        refused = client.post(url, data=data)
        assert refused.status_code == 422, data
        assert "error-summary" in refused.get_data(as_text=True)
    assert _fresh(pair).status is S.REGISTERED


def test_other_people_cannot_see_the_register(app, scene, client):
    event = scene["event"]
    outsider = make_user()
    make_org(admin=outsider)
    colleague = make_user()
    add_member(_db.session.get(Event, event.id).organisation, colleague, MemberRole.MEMBER)
    attendee = scene["pair"].people[0].user
    _db.session.commit()
    for user, status in ((outsider, 403), (attendee, 403), (colleague, 403)):
        client.post("/logout")
        login(client, user)
        for url in (f"/events/{event.id}/register-sheet", f"/events/{event.id}/register-sheet/print"):
            assert client.get(url).status_code == status, (user, url)
        assert client.post(f"/events/{event.id}/register-sheet", data={}).status_code == status
    assert (
        _db.session.scalar(
            sa.select(sa.func.count()).select_from(Registration).where(Registration.status == S.ATTENDED)
        )
        == 0
    )
    assert (
        _db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RegistrationPlace)
            .where(RegistrationPlace.attended.is_not(None))
        )
        == 0
    )
    draft = make_event(starts_at=START, status=EventStatus.DRAFT)
    _db.session.commit()
    assert client.get(f"/events/{draft.id}/register-sheet").status_code == 404  # a draft is not theirs to see
    assert client.get(f"/events/{draft.id}/feedback/results").status_code == 404


def test_the_demo_register_and_feedback_are_seeded_once(db):
    from foundation.events.models import EventFeedback
    from foundation.events.seed import PAST_EVENT_TITLE, STAFF
    from foundation.events.seed_attendance import seed_attendance

    staff = make_user(email=STAFF, staff=True)
    event = make_event(title=PAST_EVENT_TITLE, starts_at=START)
    club = make_org(name="Seeded club")
    people = add_people(club, 8)
    entries = [add_entry(event, club, people[i : i + 2]) for i in range(0, 8, 2)]
    _db.session.commit()
    lines = list(seed_attendance())
    _db.session.commit()
    assert lines and "6 attended, 2 not" in lines[0]
    statuses = [_fresh(e).status for e in entries]
    assert statuses.count(S.ATTENDED) == 4  # every entry has someone who came
    marked = _db.session.scalars(
        sa.select(RegistrationPlace).where(RegistrationPlace.event_id == event.id)
    ).all()
    assert all(p.attended is not None and p.marked_by_id == staff.id for p in marked)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(EventFeedback)) == 4
    assert list(seed_attendance()) == []  # nothing twice
    _db.session.commit()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(EventFeedback)) == 4


@pytest.mark.postgres_only
def test_two_people_marking_at_once_leave_each_entry_in_step_with_its_people(app, scene):
    import threading

    from foundation.members.models import User

    staff = make_user(staff=True)
    _db.session.commit()
    event_id, pair = scene["event"].id, scene["pair"]
    ana, ben = (p.id for p in pair.people)
    marks = [({ana: True, ben: False}, scene["organiser"].id), ({ana: False, ben: True}, staff.id)] * 4
    barrier = threading.Barrier(len(marks))
    outcomes: list[str] = []
    later = START + timedelta(days=1)

    def send(these: dict[int, bool], user_id: int) -> None:
        with app.app_context():
            try:
                event, me = _db.session.get(Event, event_id), _db.session.get(User, user_id)
                barrier.wait(timeout=30)
                mark(event, these, me, later)
                _db.session.commit()
                outcomes.append("saved")
            except Exception as exc:  # any failure is the finding
                _db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=send, args=m) for m in marks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["saved"] * len(marks)
    entry = _fresh(pair)
    assert entry.status is S.ATTENDED  # whichever came last, one of the two attended
    assert sorted(p.attended for p in entry.people) == [False, True]
    history = [(s.from_status, s.to_status) for s in entry.steps]
    assert history[0] == (None, S.REGISTERED)
    assert all(earlier[1] == later_[0] for earlier, later_ in zip(history, history[1:], strict=False))


def test_the_organisers_dashboard_lists_registers_to_mark(app, db, client):
    organiser, org = make_organiser()
    event = make_event(
        organiser, org, title="Youth work and the law", starts_at=datetime.now(UTC) - timedelta(days=1)
    )
    (person,) = add_people(make_org(), 1)
    entry = add_entry(event, person.memberships[0].organisation, [person])
    _db.session.commit()
    login(client, organiser)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Mark the register: Youth work and the law" in page
    assert f"/events/{event.id}/register-sheet" in page and "1 person not marked yet" in page
    mark(event, {entry.people[0].id: True}, organiser)
    _db.session.commit()
    assert "Mark the register" not in client.get("/dashboard").get_data(as_text=True)
