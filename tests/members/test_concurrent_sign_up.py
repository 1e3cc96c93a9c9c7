"""Signing up twice with one address at the same instant (a double click, or two people racing) makes one account,
and every request gets the usual answer: no error page, nothing that tells the requests apart."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from foundation.members.models import User
from tests.livesupport import LiveServer, live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import Browser, all_at_once

PEOPLE = 8


def sign_up(browser: Browser, name: str) -> tuple[int, str]:
    password = f"{name} has a long password"
    return browser.post(
        "/register", {"name": name, "email": "shared@example.org", "password": password, "confirm": password}
    )


def _race(db, server: LiveServer) -> None:
    browsers = [Browser(server) for _ in range(PEOPLE)]
    jobs = [(lambda b=b, n=n: sign_up(b, f"Person {n}")) for n, b in enumerate(browsers)]

    answers = all_at_once(jobs)

    assert Counter(status for status, _ in answers) == {302: PEOPLE}
    assert len({body for _, body in answers}) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "shared@example.org")) == 1


@pytest.mark.postgres_only
def test_simultaneous_sign_ups_with_one_address_make_one_account_on_postgresql(db, backend, live_server):  # noqa: F811
    assert backend == "postgresql"
    _race(db, live_server)


@pytest.mark.sqlite_only
def test_simultaneous_sign_ups_with_one_address_make_one_account_on_sqlite(db, backend, live_server):  # noqa: F811
    assert backend == "sqlite"
    _race(db, live_server)
