"""No double booking under real concurrency: many threads, one running app, the same slot at the same moment.

The app runs in Werkzeug's threaded server (tests/livesupport.py); each request has its own thread, app context
and database session, as in production. Every client thread signs in first, then all wait at a barrier and
send their confirm together.

On PostgreSQL the space lock makes the check right and the exclusion constraint is the last word. On SQLite the
booking transaction starts with BEGIN IMMEDIATE, so the requests queue for the write lock (busy_timeout) and
each checks only after the previous one committed.
"""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from foundation.types import LONDON, utcnow
from foundation.venues.models import Occurrence, OccurrenceStatus, SpaceOccupancy
from tests.factories import PASSWORD
from tests.livesupport import LiveServer, live_server  # noqa: F401  (fixture)
from tests.venues.factories import make_booker, make_booking, make_space, make_venue

THREADS = 50
CLASH_MESSAGE = "Already booked at that time"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 comes back as the answer


class Browser:
    """One signed-in person: their own cookies, no redirects followed."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )

    def post(self, path: str, data: dict | list) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        try:
            with self.opener.open(self.server(path), data=body, timeout=120) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def sign_in(self, email: str) -> None:
        status, _ = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 302, f"{email} could not sign in"


def next_monday(weeks_ahead: int = 2) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


def confirm_data(org_id: int, day: date) -> dict:
    return {
        "organisation_id": str(org_id),
        "purpose": "Holiday club",
        "expected_attendance": "30",
        "first_date": day.isoformat(),
        "start_time": "18:00",
        "end_time": "20:00",
        "repeat": "one_off",
        "ends": "until",
        "dates": [day.isoformat()],
    }


def all_at_once(jobs: list) -> list[tuple[int, str]]:
    """Run each job in its own thread, released together by a barrier; their answers in job order."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[int, str] | None] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = jobs[i]()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), name=f"client-{i}") for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results


def signed_in(server: LiveServer, emails: list[str]) -> list[Browser]:
    # One after another: sign-in is not what is being tested here.
    browsers = [Browser(server) for _ in emails]
    for browser, email in zip(browsers, emails, strict=True):
        browser.sign_in(email)
    return browsers


def confirmed_count(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Occurrence.id)).where(Occurrence.status == OccurrenceStatus.CONFIRMED)
    )


@pytest.fixture
def hall_with_halves(db):
    _, owner = make_booker(name="Swindon Community Centre")
    venue = make_venue(owner, name="Swindon Community Centre", town="Swindon")
    hall = make_space(venue, "Whole hall", capacity=120)
    stage = make_space(venue, "Hall, stage end", parent=hall)
    kitchen = make_space(venue, "Hall, kitchen end", parent=hall)
    return hall, stage, kitchen


def _fifty_confirm_the_same_slot(db, server: LiveServer, hall_with_halves) -> None:
    hall, stage, kitchen = hall_with_halves
    bookers = [make_booker(email=f"leader{i}@example.org", name=f"Swindon Group {i}") for i in range(THREADS)]
    day = next_monday()
    db.session.commit()
    # Plain values for the client threads, which have no database session.
    path = f"/spaces/{hall.id}/book/confirm"
    org_ids = [org.id for _, org in bookers]
    space_ids = {hall.id, stage.id, kitchen.id}
    browsers = signed_in(server, [user.email for user, _ in bookers])

    jobs = [
        (lambda b=b, org_id=org_id: b.post(path, confirm_data(org_id, day)))
        for b, org_id in zip(browsers, org_ids, strict=True)
    ]
    results = all_at_once(jobs)

    statuses = Counter(status for status, _ in results)
    assert statuses == {302: 1, 409: THREADS - 1}, statuses
    for status, body in results:
        if status == 409:
            assert CLASH_MESSAGE in body and f"{day:%a %-d %b %Y}, 18:00–20:00" in body
    db.session.rollback()
    assert confirmed_count(db) == 1
    assert db.session.scalar(sa.select(sa.func.count(Occurrence.id))) == 1, (
        "the refused requests wrote nothing"
    )
    holds = db.session.execute(sa.select(SpaceOccupancy.occurrence_id, SpaceOccupancy.space_id)).all()
    assert len({occ for occ, _ in holds}) == 1 and {sid for _, sid in holds} == space_ids and len(holds) == 3


@pytest.mark.postgres_only
def test_fifty_concurrent_confirms_for_one_slot_on_postgresql(db, backend, live_server, hall_with_halves):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")
    _fifty_confirm_the_same_slot(db, live_server, hall_with_halves)


@pytest.mark.sqlite_only
def test_fifty_concurrent_confirms_for_one_slot_on_sqlite(db, backend, live_server, hall_with_halves):  # noqa: F811
    if backend != "sqlite":
        pytest.skip("SQLite run of the concurrency test")
    _fifty_confirm_the_same_slot(db, live_server, hall_with_halves)


def test_whole_hall_and_its_halves_booked_at_once(db, live_server, hall_with_halves):  # noqa: F811
    """Groups race for the whole hall and for each half at the same time: never the hall together with a half."""
    hall, stage, kitchen = hall_with_halves
    bookers = [make_booker(email=f"racer{i}@example.org") for i in range(12)]
    day = next_monday(3)
    db.session.commit()
    hall_id, stage_id, kitchen_id = hall.id, stage.id, kitchen.id
    targets = [hall_id, stage_id, hall_id, kitchen_id] * 3
    org_ids = [org.id for _, org in bookers]
    browsers = signed_in(live_server, [user.email for user, _ in bookers])
    jobs = [
        (lambda b=b, org_id=org_id, sid=sid: b.post(f"/spaces/{sid}/book/confirm", confirm_data(org_id, day)))
        for b, org_id, sid in zip(browsers, org_ids, targets, strict=True)
    ]
    results = all_at_once(jobs)
    won = sorted(sid for (status, _), sid in zip(results, targets, strict=True) if status == 302)
    assert Counter(status for status, _ in results)[409] + len(won) == len(jobs), "only 302 or 409"
    # Either the whole hall, or one or both halves (which do not overlap each other).
    assert won in ([hall_id], [stage_id], [kitchen_id], sorted([stage_id, kitchen_id])), won
    db.session.rollback()
    assert confirmed_count(db) == len(won)


def test_conflicting_requests_approved_at_once_only_one_is_confirmed(db, live_server):  # noqa: F811
    owner_admin, owner = make_booker(email="owner-admin@example.org")
    space = make_space(make_venue(owner), "Ballroom", needs_approval=True)
    day = next_monday(2)
    requests = []
    for i in range(10):
        _, org = make_booker()
        start = time(18 + i % 2)  # half from 18:00, half from 19:00: every pair overlaps 19:00 to 20:30
        requests.append(
            make_booking(space, org, day, start=start, end=time(20, 30), status=OccurrenceStatus.REQUESTED)
        )
    db.session.commit()
    decisions = [(f"/bookings/{r.id}/decide", str(r.occurrences[0].id)) for r in requests]
    admins = signed_in(live_server, [owner_admin.email] * len(requests))
    jobs = [
        (lambda b=b, path=path, occ=occ: b.post(path, {"decision": "approve", "occurrence_ids": [occ]}))
        for b, (path, occ) in zip(admins, decisions, strict=True)
    ]
    results = all_at_once(jobs)
    assert Counter(status for status, _ in results) == {302: 1, 409: 9}
    assert all(CLASH_MESSAGE in body for status, body in results if status == 409)
    db.session.rollback()
    assert confirmed_count(db) == 1


@pytest.mark.postgres_only
def test_the_constraint_refuses_overlapping_holds_between_a_hall_and_its_halves(
    db, backend, hall_with_halves
):
    """Whatever path writes them, the database refuses overlapping holds on a space, including parent/child."""
    if backend != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    hall, stage, _ = hall_with_halves
    _, org = make_booker()
    day = next_monday(4)
    whole = make_booking(hall, org, day, start=time(18), end=time(20))
    db.session.commit()

    with pytest.raises(IntegrityError) as exc:
        make_booking(stage, org, day, start=time(19), end=time(21))  # confirmed: writes a hold on the half
    assert getattr(exc.value.orig, "sqlstate", None) == "23P01"
    db.session.rollback()

    # The reverse: a half held first blocks a hold on the whole hall (which also holds both halves).
    db.session.execute(
        sa.delete(SpaceOccupancy).where(SpaceOccupancy.occurrence_id == whole.occurrences[0].id)
    )
    db.session.commit()
    make_booking(stage, org, day, start=time(18), end=time(19))
    db.session.commit()
    with pytest.raises(IntegrityError):
        make_booking(hall, org, day, start=time(18, 30), end=time(19, 30))
    db.session.rollback()
    make_booking(hall, org, day, start=time(19), end=time(20))  # back to back: fine
    db.session.commit()
