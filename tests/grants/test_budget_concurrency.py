"""Awards never exceed a round's budget under real concurrency: many staff, one running app, the same moment.

The app runs in Werkzeug's threaded server (tests/livesupport.py); every request has its own thread, app context and
database session, as in production. Each staff member signs in first, then all wait at a barrier and send their
decision together. On PostgreSQL each decision locks the round row (SELECT ... FOR UPDATE) before reading the
budget; on SQLite the request takes the write lock first (BEGIN IMMEDIATE). Either way the deciders queue, each
sees the budget the previous one left, and the ones that do not fit get a 409 with the reason, never a 500.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from foundation.grants import money
from foundation.grants.decisions import BUDGET_EXCEEDED
from foundation.grants.models import Application, ApplicationStatus, Grant, Instalment, RoundStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.types import utcnow
from tests.factories import make_org, make_user
from tests.grants.factories import make_application, make_decided_grant, make_round
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import all_at_once, signed_in

BUDGET = 1_000_000  # £10,000


# For the services the setup calls directly (their messages carry links); the server's requests have their own.
pytestmark = pytest.mark.usefixtures("request_context")


def _staff(n: int, prefix: str) -> list[str]:
    users = [make_user(email=f"{prefix}{i}@wypf.org.uk", name=f"Staff {i}", staff=True) for i in range(n)]
    return [u.email for u in users]


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _awards_race(db, server, amounts: list[int]) -> None:
    """One staff member per application, all deciding "award in full" at once; the budget fits only some."""
    round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=BUDGET)
    apps = [
        make_application(round_, make_org(make_user(), name=f"Group {i}"), amount_pence=amount)
        for i, amount in enumerate(amounts)
    ]
    emails = _staff(len(apps), "decider")
    db.session.commit()
    # Plain values for the client threads, which have no database session.
    paths = [f"/staff/grants/applications/{a.id}/decide" for a in apps]
    round_id = round_.id
    browsers = signed_in(server, emails)

    jobs = [
        (lambda b=b, p=p: b.post(p, {"outcome": "award_full"})) for b, p in zip(browsers, paths, strict=True)
    ]
    results = all_at_once(jobs)

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {302, 409}, statuses
    for status, body in results:
        if status == 409:
            assert BUDGET_EXCEEDED.replace("'", "&#39;") in body
    db.session.rollback()
    won = [amount for (status, _), amount in zip(results, amounts, strict=True) if status == 302]
    held = money.round_money([round_id])[round_id]
    assert held.committed_pence == sum(won) <= BUDGET
    # Each refusal was right: the budget left when it was refused was smaller than it, and that only shrinks.
    refused = [amount for (status, _), amount in zip(results, amounts, strict=True) if status == 409]
    assert all(amount > held.remaining_pence for amount in refused)
    assert (
        count(db, Grant)
        == len(won)
        == count(db, LedgerTransaction, LedgerTransaction.kind == TransactionKind.AWARD)
    )
    assert count(db, Application, Application.status == ApplicationStatus.AWARDED) == len(won)
    assert count(db, Application, Application.status == ApplicationStatus.SUBMITTED) == len(refused)
    assert ledger.check_balanced() == []
    assert statuses[302] >= 1 and statuses[409] >= 1


@pytest.mark.postgres_only
def test_concurrent_awards_never_exceed_the_budget_on_postgresql(db, backend, live_server):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")
    _awards_race(db, live_server, [200_000] * 10)  # exactly five fit


@pytest.mark.postgres_only
def test_concurrent_awards_of_mixed_sizes_on_postgresql(db, backend, live_server):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")
    _awards_race(db, live_server, [300_000, 300_000, 300_000, 250_000, 250_000, 200_000, 150_000, 150_000, 100_000, 50_000, 50_000, 50_000])  # fmt: skip


@pytest.mark.sqlite_only
def test_concurrent_awards_never_exceed_the_budget_on_sqlite(db, backend, live_server):  # noqa: F811
    if backend != "sqlite":
        pytest.skip("SQLite run of the concurrency test")
    _awards_race(db, live_server, [200_000] * 10)


def test_staff_deciding_the_same_application_at_once_award_it_once(db, live_server):  # noqa: F811
    round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=BUDGET)
    app = make_application(round_, make_org(make_user()), amount_pence=300_000)
    emails = _staff(6, "same")
    db.session.commit()
    path = f"/staff/grants/applications/{app.id}/decide"
    browsers = signed_in(live_server, emails)

    results = all_at_once([(lambda b=b: b.post(path, {"outcome": "award_full"})) for b in browsers])

    assert Counter(status for status, _ in results) == {302: 1, 409: 5}
    assert all(
        "This decision has already been recorded." in body for status, body in results if status == 409
    )
    db.session.rollback()
    assert count(db, Grant) == 1
    assert count(db, LedgerTransaction, LedgerTransaction.kind == TransactionKind.AWARD) == 1
    assert money.money_for(round_).committed_pence == 300_000


def test_an_instalment_recorded_at_once_by_several_staff_is_paid_once(db, live_server):  # noqa: F811
    admin = make_user()
    org = make_org(admin)
    round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=BUDGET)
    grant = make_decided_grant(round_, org, make_user(staff=True), amount_pence=300_000, accepted_by=admin)
    emails = _staff(6, "payer")
    db.session.commit()
    instalment_id = grant.instalments[0].id
    path = f"/staff/grants/grants/{grant.id}/instalments/{instalment_id}/pay"
    browsers = signed_in(live_server, emails)

    results = all_at_once(
        [
            (lambda b=b, i=i: b.post(path, {f"pay{instalment_id}-reference": f"BACS {i}"}))
            for i, b in enumerate(browsers)
        ]
    )

    assert Counter(status for status, _ in results) == {302: 1, 409: 5}
    assert all("This instalment was already paid on" in body for status, body in results if status == 409)
    db.session.rollback()
    assert count(db, LedgerTransaction, LedgerTransaction.kind == TransactionKind.PAYMENT) == 1
    paid = db.session.get(Instalment, instalment_id)
    assert paid.paid_at is not None and paid.paid_at <= utcnow()
    assert ledger.balances([f"grant:{grant.id}", ledger.PAID_OUT]) == {
        f"grant:{grant.id}": 0,
        ledger.PAID_OUT: 300_000,
    }
