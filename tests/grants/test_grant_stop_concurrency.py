"""Two staff ending the same grant early at the same moment release its unpaid money once.

The app runs in Werkzeug's threaded server (tests/livesupport.py): each request has its own thread, app context and
database session, as in production. Both sign in, wait at a barrier and send the form together. The grant row is
locked (SELECT ... FOR UPDATE) before the state is checked, so the second waits for the first to commit, then finds
the grant ended and is refused with a 409: one RELEASE, one message to the organisation, never a 500.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.grants import awards, money
from foundation.grants.models import Grant, GrantStatus, RoundStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from tests.factories import make_org, make_user
from tests.grants.factories import make_decided_grant, make_round
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import all_at_once, signed_in

pytestmark = pytest.mark.usefixtures("request_context")

BUDGET = 1_000_000


def _part_paid_grant(db, staff, admin):
    round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=BUDGET)
    grant = make_decided_grant(round_, make_org(admin), staff, amount_pence=300_000, accepted_by=admin)
    awards.set_schedule(grant, staff, [(date.today() + timedelta(days=30 * n), 100_000) for n in range(3)])
    first = sorted(grant.instalments, key=lambda i: i.due_on)[0]
    awards.record_payment(awards.lock_grant(grant.id), first.id, staff, "BACS-1")
    return round_, grant


def _race(db, server, action: str, setup) -> tuple[Counter, int, int]:
    staff = make_user(staff=True)
    admin = make_user()
    round_, grant = setup(db, staff, admin)
    emails = [make_user(email=f"stopper{i}@wypf.org.uk", staff=True).email for i in range(2)]
    db.session.commit()
    path = f"/staff/grants/grants/{grant.id}/{action}"
    browsers = signed_in(server, emails)

    results = all_at_once(
        [
            (lambda b=b, i=i: b.post(path, {"reason": f"Stopped by colleague {i}"}))
            for i, b in enumerate(browsers)
        ]
    )

    statuses = Counter(status for status, _ in results)
    for status, body in results:
        if status == 409:
            assert "already" in body
    db.session.rollback()
    released = db.session.scalar(
        sa.select(sa.func.count(LedgerTransaction.id)).where(
            LedgerTransaction.kind == TransactionKind.RELEASE,
            LedgerTransaction.id.in_(
                ledger.tagged(money.grant_tag(grant.id)).with_only_columns(LedgerTransaction.id)
            ),
        )
    )
    told = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == admin.id,
            sa.or_(Notification.subject.like("%ended early%"), Notification.subject.like("%withdrawn%")),
        )
    )
    held = money.money_for(round_)
    stopped = db.session.get(Grant, grant.id)
    live = 0 if stopped.status is GrantStatus.WITHDRAWN else stopped.amount_pence
    assert held.remaining_pence == held.budget_pence - live
    assert ledger.check_balanced() == []
    return statuses, released, told


@pytest.mark.postgres_only
def test_two_staff_ending_the_same_grant_at_once_release_once_on_postgresql(db, backend, live_server):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")
    statuses, released, told = _race(db, live_server, "end", _part_paid_grant)
    assert statuses == {303: 1, 409: 1}
    assert released == 1 and told == 1
    grant = db.session.scalars(sa.select(Grant)).one()
    assert grant.status is GrantStatus.ENDED and grant.amount_pence == 100_000
    assert ledger.balances([f"grant:{grant.id}"]) == {f"grant:{grant.id}": 0}


@pytest.mark.postgres_only
def test_two_staff_withdrawing_the_same_offer_at_once_release_once_on_postgresql(db, backend, live_server):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")

    def offered(db, staff, admin):
        round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=BUDGET)
        return round_, make_decided_grant(round_, make_org(admin), staff, amount_pence=300_000)

    statuses, released, told = _race(db, live_server, "withdraw", offered)
    assert statuses == {303: 1, 409: 1}
    assert released == 1 and told == 1
    round_id = db.session.scalars(sa.select(Grant.round_id)).one()
    assert money.round_money([round_id])[round_id].remaining_pence == BUDGET
