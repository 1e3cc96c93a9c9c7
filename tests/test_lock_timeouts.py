"""A row held by a long transaction elsewhere: web requests that need it give up within the lock timeout and answer
"busy, try again" (503 with Retry-After), while the health check and public pages keep answering.

Real threads on PostgreSQL: one connection holds `SELECT ... FOR UPDATE` on a grant round (as a long transaction, or
someone in psql, would); staff act on that round meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from foundation import create_app
from foundation.db_setup import database_busy, session_timeouts
from foundation.extensions import db as _db
from foundation.grants.models import RoundStatus
from tests.factories import login, make_user
from tests.grants.factories import make_round

LOCK_TIMEOUT_MS = 400
STATEMENT_TIMEOUT_MS = 1500
# Request overhead on a busy test machine, beyond the timeout itself.
SLACK_SECONDS = 2.5
# The holder lets go after this long whatever happens, so a request without a lock timeout finishes (late).
HOLD_AT_MOST_SECONDS = 8


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {
        **app_config,
        "DB_TIMEOUT_PROFILE": "web",
        "DB_LOCK_TIMEOUT_MS": LOCK_TIMEOUT_MS,
        "DB_STATEMENT_TIMEOUT_MS": STATEMENT_TIMEOUT_MS,
    }


@contextmanager
def held(database_url: str, statement: str, **params: Any) -> Iterator[None]:
    """Run `statement` (a lock) in a transaction of another connection, in its own thread, until the block ends."""
    locked, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))  # the holder itself never hangs
                conn.execute(sa.text(statement), params)
                locked.set()
                release.wait(HOLD_AT_MOST_SECONDS)
        except BaseException as exc:  # noqa: BLE001  (reported to the test below)
            failure.append(exc)
            locked.set()
        finally:
            engine.dispose()

    holder = threading.Thread(target=hold, name="lock-holder")
    holder.start()
    assert locked.wait(10), "the lock was never taken"
    assert not failure, failure
    try:
        yield
    finally:
        release.set()
        holder.join(HOLD_AT_MOST_SECONDS + 5)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def staff(db):
    return make_user(staff=True)


@pytest.fixture
def round_(db, staff):
    return make_round(status=RoundStatus.IN_REVIEW, by=staff)


@pytest.mark.postgres_only
def test_every_web_session_carries_the_timeouts(app, db):
    assert db.session.scalar(sa.text("SHOW lock_timeout")) == f"{LOCK_TIMEOUT_MS}ms"
    assert db.session.scalar(sa.text("SHOW statement_timeout")) == f"{STATEMENT_TIMEOUT_MS}ms"


@pytest.mark.postgres_only
def test_celery_workers_wait_longer_than_web_requests(app_config):
    worker = create_app({**app_config, "DB_TIMEOUT_PROFILE": "worker"})
    with worker.app_context():
        try:
            assert _db.session.scalar(sa.text("SHOW lock_timeout")) == "30s"
            assert _db.session.scalar(sa.text("SHOW statement_timeout")) == "5min"
        finally:
            _db.session.remove()
            _db.engine.dispose()


@pytest.mark.postgres_only
def test_a_staff_action_on_a_locked_round_is_503_within_the_lock_timeout(
    app, client, database_url, staff, round_
):
    login(client, staff)
    anonymous = app.test_client()
    reviewers = f"/staff/grants/rounds/{round_.id}/reviewers"
    round_page = f"/grants/rounds/{round_.id}"
    remind = {"action": "remind"}

    with (
        held(database_url, "SELECT id FROM grant_round WHERE id = :id FOR UPDATE", id=round_.id),
        ThreadPoolExecutor(4) as pool,
    ):
        action = pool.submit(timed, lambda: client.post(reviewers, data=remind))
        as_json = pool.submit(
            timed, lambda: client.post(reviewers, data=remind, headers={"Accept": "application/json"})
        )
        # While both staff requests wait on the lock, the health check and a public page answer at once.
        health, health_took = pool.submit(timed, lambda: anonymous.get("/healthz")).result()
        public, public_took = pool.submit(timed, lambda: anonymous.get(round_page)).result()
        (resp, took), (json_resp, _) = action.result(), as_json.result()

    assert health.status_code == 200 and health.get_json()["database"] == "ok"
    assert public.status_code == 200
    assert health_took < 1.5 and public_took < 1.5 + SLACK_SECONDS
    assert resp.status_code == 503
    assert LOCK_TIMEOUT_MS / 1000 <= took < LOCK_TIMEOUT_MS / 1000 + SLACK_SECONDS
    assert resp.headers["Retry-After"] == "5"
    assert "The site is busy just now. Please try again in a moment." in resp.get_data(as_text=True)
    assert json_resp.status_code == 503
    assert json_resp.get_json() == {
        "error": "Busy just now",
        "message": "The site is busy just now. Please try again in a moment.",
    }

    # Once the lock is gone the same action runs to its own answer (here: nobody has a review to be reminded of).
    after = client.post(reviewers, data=remind)
    assert after.status_code == 422
    assert "Every assigned review in this round is submitted." in after.get_data(as_text=True)


@pytest.mark.postgres_only
def test_a_table_locked_by_a_migration_gives_503_not_a_hang_and_health_stays_up(
    app, db, database_url, staff, round_
):
    anonymous = app.test_client()
    round_page = f"/grants/rounds/{round_.id}"
    db.session.commit()  # the round this test made must not hold the table itself
    with held(database_url, "LOCK TABLE grant_round IN ACCESS EXCLUSIVE MODE"), ThreadPoolExecutor(2) as pool:
        page = pool.submit(timed, lambda: anonymous.get(round_page))
        health, _ = pool.submit(timed, lambda: anonymous.get("/healthz")).result()
        (resp, took) = page.result()
    assert health.status_code == 200
    assert resp.status_code == 503 and took < LOCK_TIMEOUT_MS / 1000 + SLACK_SECONDS
    assert resp.headers["Retry-After"] == "5"


@pytest.mark.postgres_only
def test_a_statement_past_the_statement_timeout_is_503(app, client, db):
    def slow():
        db.session.execute(sa.text("SELECT pg_sleep(:s)"), {"s": STATEMENT_TIMEOUT_MS / 1000 + 3})
        return "finished"

    app.add_url_rule("/test-only/slow", "test_only_slow", slow)
    resp, took = timed(lambda: client.get("/test-only/slow"))
    assert resp.status_code == 503 and took < STATEMENT_TIMEOUT_MS / 1000 + SLACK_SECONDS


def test_only_waits_that_ran_out_count_as_busy():
    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    def wrapped(orig: BaseException) -> OperationalError:
        return OperationalError("SELECT 1", {}, orig)

    assert database_busy(wrapped(PgError("55P03")))  # lock_not_available
    assert database_busy(wrapped(PgError("57014")))  # query_canceled: statement_timeout
    assert database_busy(wrapped(sqlite3.OperationalError("database is locked")))
    assert not database_busy(wrapped(PgError("08006")))  # connection failure: a real fault
    assert not database_busy(wrapped(sqlite3.OperationalError("no such table: venue")))


def test_web_and_worker_profiles_and_the_flask_command(monkeypatch):
    config = {
        "DB_LOCK_TIMEOUT_MS": 5000,
        "DB_STATEMENT_TIMEOUT_MS": 15000,
        "DB_WORKER_LOCK_TIMEOUT_MS": 30000,
        "DB_WORKER_STATEMENT_TIMEOUT_MS": 300000,
    }
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    assert session_timeouts(config) == (5000, 15000)
    assert session_timeouts({**config, "DB_TIMEOUT_PROFILE": "worker"}) == (30000, 300000)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # `flask db upgrade`, `flask seed-demo`
    assert session_timeouts(config) == (30000, 300000)
    assert session_timeouts({**config, "DB_TIMEOUT_PROFILE": "web"}) == (5000, 15000)
