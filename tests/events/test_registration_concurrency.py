"""Places are never oversold when people register at the same moment (PostgreSQL, real threads, each with its own
connection and transaction, released together by a barrier)."""

from __future__ import annotations

import threading

import pytest

from foundation.errors import DomainError
from foundation.events import registrations
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.members.models import Organisation, User
from tests.events.factories import make_event
from tests.events.registration_factories import fill, held_in_db, make_team

S = RegistrationStatus

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Twenty connections waiting on the event's lock at once, and the test's own.
    options = {**app_config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "pool_size": 25, "max_overflow": 5}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": options}


def race(app, event_id: int, teams: list[tuple[int, list[int]]]) -> list[str]:
    """Each team registers all its people at once; the status each entry got (or the refusal)."""
    barrier = threading.Barrier(len(teams))
    outcomes: list[str] = []

    def go(org_id: int, people_ids: list[int]) -> None:
        with app.app_context(), app.test_request_context("/"):
            event = db.session.get(Event, event_id)
            org = db.session.get(Organisation, org_id)
            people = [db.session.get(User, i) for i in people_ids]
            db.session.commit()
            barrier.wait(timeout=30)
            try:
                entry = registrations.register(event, org, people[0], people)  # type: ignore[arg-type]
                db.session.commit()
                outcomes.append(entry.status.value)
            except DomainError as exc:
                db.session.rollback()
                outcomes.append(f"refused: {exc.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=team) for team in teams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def teams_of(size: int, count: int) -> list[tuple[int, list[int]]]:
    teams = []
    for _ in range(count):
        org, people = make_team(size)
        teams.append((org.id, [p.id for p in people]))
    db.session.commit()
    return teams


def test_twenty_people_at_once_for_the_last_place_exactly_one_gets_it(app, request_context):  # noqa: ARG001
    event = make_event(where=LocationKind.ONLINE, places=5)
    db.session.commit()
    fill(event, 4)
    teams = teams_of(1, 20)
    outcomes = race(app, event.id, teams)
    assert sorted(outcomes) == ["registered"] + ["waitlisted"] * 19
    assert held_in_db(event.id) == (5, 5)
    positions = sorted(
        e.queue_position for e in db.session.query(Registration).filter_by(status=S.WAITLISTED)
    )
    assert positions == list(range(1, 20))  # each waiting entry has its own place in the queue


def test_twenty_entries_of_two_for_three_places_never_hold_more_than_three(app, request_context):  # noqa: ARG001
    event = make_event(where=LocationKind.ONLINE, places=10)
    db.session.commit()
    fill(event, 7)
    teams = teams_of(2, 20)
    outcomes = race(app, event.id, teams)
    assert sorted(outcomes) == ["registered"] + ["waitlisted"] * 19
    held, total = held_in_db(event.id)
    assert held == total == 9  # one entry of two took two of the three; the last place waits for a single
    assert held <= 10
