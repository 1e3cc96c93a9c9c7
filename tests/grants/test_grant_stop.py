"""Withdrawing a grant offer and ending a grant early: which states allow each, the money released to the round's
budget through the ledger, cancelled instalments, the organisation told, the public scorecard kept true, and a
second attempt refused without doing anything twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, IllegalTransition
from foundation.grants import awards, decisions, money, reports
from foundation.grants.models import ApplicationAction, ApplicationEvent, Grant, GrantStatus, RoundStatus
from foundation.grants.scorecard import build_scorecard, computed_totals, published_grants, stored_totals
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from foundation.types import utcnow
from tests.factories import make_org
from tests.grants.factories import make_awarded_grant, make_decided_grant, make_round

pytestmark = pytest.mark.usefixtures("request_context")

REASON = "The project lost its venue and cannot run this year."


@pytest.fixture
def active(db, staff, people, round_):
    """£3,000 accepted, to be paid in three instalments of £1,000, none paid yet."""
    org, admin, _ = people
    grant = make_decided_grant(round_, org, staff, amount_pence=300_000, accepted_by=admin)
    today = date.today()
    awards.set_schedule(grant, staff, [(today + timedelta(days=30 * n), 100_000) for n in range(3)])
    db.session.commit()
    return grant


def pay_first(grant, staff) -> None:
    first = sorted(grant.instalments, key=lambda i: i.due_on)[0]
    awards.record_payment(awards.lock_grant(grant.id), first.id, staff, "BACS-1")


def releases(db) -> list[LedgerTransaction]:
    return list(
        db.session.scalars(
            sa.select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.RELEASE)
        )
    )


def live_awards(db, round_id: int) -> int:
    """What the round has really given: every grant but withdrawn offers (an ended grant counts what it paid)."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Grant.amount_pence), 0)).where(
            Grant.round_id == round_id, Grant.status != GrantStatus.WITHDRAWN
        )
    )


def assert_books_balance(db, round_) -> None:
    held = money.money_for(round_)
    assert held.remaining_pence == held.budget_pence - live_awards(db, round_.id)
    assert held.committed_pence == live_awards(db, round_.id)
    assert ledger.check_balanced() == []


# --- withdrawing the offer -----------------------------------------------------------------------------------


def test_withdrawing_an_offer_releases_the_whole_award_and_tells_the_organisation(
    db, staff, people, offered, round_
):
    org, admin, member = people
    other = make_decided_grant(
        round_, make_org(), staff, amount_pence=150_000
    )  # a live award stays committed
    db.session.commit()
    assert money.money_for(round_).remaining_pence == 1_000_000 - 450_000

    txn = awards.withdraw_offer(awards.lock_grant(offered.id), staff, f"  {REASON}  ")
    db.session.commit()

    assert offered.status is GrantStatus.WITHDRAWN
    assert (offered.closed_by_id, offered.closed_reason) == (
        staff.id,
        REASON,
    ) and offered.closed_at is not None
    assert offered.amount_pence == 300_000  # what was offered stays on record
    assert all(i.cancelled_at is not None and i.paid_at is None for i in offered.instalments)
    assert txn is not None and txn.kind is TransactionKind.RELEASE
    assert ledger.balances([f"grant:{offered.id}", f"grant:{other.id}"]) == {
        f"grant:{offered.id}": 0,
        f"grant:{other.id}": 150_000,
    }
    assert money.money_for(round_).remaining_pence == 1_000_000 - 150_000
    assert_books_balance(db, round_)
    event = db.session.scalar(
        sa.select(ApplicationEvent).where(ApplicationEvent.action == ApplicationAction.OFFER_WITHDRAWN)
    )
    assert event.application_id == offered.application_id and REASON in event.message
    assert "£3,000 released" in event.message
    told = db.session.scalars(
        sa.select(Notification).where(Notification.subject.like("%offer has been withdrawn%"))
    ).all()
    assert {n.user_id for n in told} == {admin.id, member.id}
    assert all(REASON in n.body_text and "£3,000" in n.body_text for n in told)


def test_an_accepted_grant_with_nothing_paid_can_still_be_withdrawn(db, staff, active, round_):
    assert awards.stop_refusal(active, awards.Stop.WITHDRAW) is None
    awards.withdraw_offer(awards.lock_grant(active.id), staff, REASON)
    db.session.commit()
    assert active.status is GrantStatus.WITHDRAWN
    assert [i.cancelled_at is not None for i in active.instalments] == [True, True, True]
    assert money.money_for(round_).remaining_pence == 1_000_000
    assert_books_balance(db, round_)


def test_once_anything_is_paid_the_offer_cannot_be_withdrawn(db, staff, active):
    pay_first(active, staff)
    db.session.commit()
    with pytest.raises(IllegalTransition, match="£1,000 of this grant has already been paid") as exc:
        awards.withdraw_offer(awards.lock_grant(active.id), staff, REASON)
    assert "End the grant early instead" in exc.value.message and exc.value.status_code == 409
    db.session.rollback()
    assert active.status is GrantStatus.ACTIVE and releases(db) == []


def test_withdrawing_needs_a_reason_and_changes_nothing_without_one(db, staff, offered, round_):
    for reason in ("", "   "):
        with pytest.raises(DomainError, match="Say why the offer is withdrawn") as exc:
            awards.withdraw_offer(awards.lock_grant(offered.id), staff, reason)
        assert exc.value.field == "reason" and exc.value.status_code == 422
        db.session.rollback()
    with pytest.raises(DomainError, match="Keep the reason under 2,000 characters"):
        awards.withdraw_offer(awards.lock_grant(offered.id), staff, "x" * 2001)
    db.session.rollback()
    assert offered.status is GrantStatus.OFFERED and releases(db) == []
    assert money.money_for(round_).remaining_pence == 700_000


def test_withdrawing_twice_does_nothing_the_second_time(db, staff, offered, round_):
    awards.withdraw_offer(awards.lock_grant(offered.id), staff, REASON)
    db.session.commit()
    with pytest.raises(IllegalTransition, match="This offer was already withdrawn on .* by Gita Grants"):
        awards.withdraw_offer(awards.lock_grant(offered.id), staff, REASON)
    db.session.rollback()
    assert len(releases(db)) == 1
    assert money.money_for(round_).remaining_pence == 1_000_000
    assert_books_balance(db, round_)


def test_a_withdrawn_offer_cannot_be_accepted_paid_changed_or_reported(db, staff, people, offered):
    org, admin, member = people
    awards.withdraw_offer(awards.lock_grant(offered.id), staff, REASON)
    db.session.commit()
    grant = awards.lock_grant(offered.id)
    with pytest.raises(
        IllegalTransition, match="This offer was withdrawn on .*; it can no longer be accepted"
    ):
        awards.accept_grant(grant, admin, awards.offer_fingerprint(grant))
    with pytest.raises(IllegalTransition, match="no more payments are made"):
        awards.record_payment(grant, grant.instalments[0].id, staff, "BACS-1")
    with pytest.raises(IllegalTransition, match="its payment schedule can no longer change"):
        awards.set_schedule(grant, staff, [(date.today(), 300_000)])
    with pytest.raises(IllegalTransition, match="its terms can no longer change"):
        awards.set_terms(grant, staff, grant.conditions, grant.report_due_on)
    with pytest.raises(IllegalTransition, match="no end-of-grant report is needed"):
        reports.save_report(grant, member, reports.ReportInput(what_happened="x"), submit=False)
    assert "offer was withdrawn" in decisions.decidable(grant.application)
    with pytest.raises(IllegalTransition, match="This offer was already withdrawn"):
        awards.end_grant_early(grant, staff, REASON)


# --- ending early ------------------------------------------------------------------------------------------------


def test_ending_early_cancels_unpaid_instalments_and_releases_what_was_not_paid(
    db, staff, people, active, round_
):
    org, admin, member = people
    other = make_decided_grant(round_, make_org(), staff, amount_pence=200_000)
    pay_first(active, staff)
    db.session.commit()

    txn = awards.end_grant_early(awards.lock_grant(active.id), staff, REASON)
    db.session.commit()

    assert active.status is GrantStatus.ENDED and active.closed_reason == REASON
    assert (active.amount_pence, active.awarded_before_end_pence, active.released_pence) == (
        100_000,
        300_000,
        200_000,
    )
    paid = [i for i in active.instalments if i.paid_at is not None]
    cancelled = [i for i in active.instalments if i.cancelled_at is not None]
    assert len(paid) == 1 and len(cancelled) == 2 and not set(paid) & set(cancelled)
    assert txn is not None and txn.kind is TransactionKind.RELEASE and money.concerns(txn)[0] == round_.id
    assert sorted(e.amount_pence for e in txn.entries) == [-200_000, 200_000]
    assert ledger.balances([f"grant:{active.id}", ledger.PAID_OUT]) == {
        f"grant:{active.id}": 0,
        ledger.PAID_OUT: 100_000,
    }
    # The round's budget less what it has really given: the grant ended at £1,000 and the other £2,000 offer.
    assert money.money_for(round_).remaining_pence == 1_000_000 - 100_000 - other.amount_pence
    assert_books_balance(db, round_)
    told = db.session.scalars(sa.select(Notification).where(Notification.subject.like("%ended early%"))).all()
    assert {n.user_id for n in told} == {admin.id, member.id}
    assert all(REASON in n.body_text and "£1,000 already paid" in n.body_text for n in told)
    event = db.session.scalar(
        sa.select(ApplicationEvent).where(ApplicationEvent.action == ApplicationAction.GRANT_ENDED)
    )
    assert "£2,000 released" in event.message


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("offered", "has not accepted this grant yet and nothing has been paid: withdraw the offer instead"),
        ("accepted", "Nothing has been paid on this grant yet: withdraw the offer instead"),
        ("paid in full", "Every instalment of this grant is paid, so there is nothing left to release"),
        ("completed", "This grant is completed"),
    ],
)
def test_ending_early_is_refused_where_it_does_not_apply(db, staff, people, round_, state, message):
    org, admin, _ = people
    grant = make_decided_grant(
        round_, org, staff, amount_pence=200_000, accepted_by=None if state == "offered" else admin
    )
    if state in ("paid in full", "completed"):
        awards.record_payment(awards.lock_grant(grant.id), grant.instalments[0].id, staff, "BACS-1")
    if state == "completed":
        grant.status = GrantStatus.COMPLETED
    db.session.commit()
    remaining = money.money_for(round_).remaining_pence
    assert message in awards.stop_refusal(grant, awards.Stop.END)
    with pytest.raises(IllegalTransition, match=message) as exc:
        awards.end_grant_early(awards.lock_grant(grant.id), staff, REASON)
    assert exc.value.field == "reason"
    db.session.rollback()
    assert grant.status is not GrantStatus.ENDED and releases(db) == []
    assert money.money_for(round_).remaining_pence == remaining


def test_a_completed_grant_cannot_be_withdrawn_either(db, staff, people, round_):
    grant = make_decided_grant(round_, people[0], staff, accepted_by=people[1])
    grant.status = GrantStatus.COMPLETED
    db.session.commit()
    with pytest.raises(IllegalTransition, match="completed"):
        awards.withdraw_offer(awards.lock_grant(grant.id), staff, REASON)


def test_ending_twice_releases_once(db, staff, active, round_):
    pay_first(active, staff)
    awards.end_grant_early(awards.lock_grant(active.id), staff, REASON)
    db.session.commit()
    with pytest.raises(IllegalTransition, match="This grant was already ended early on .* by Gita Grants"):
        awards.end_grant_early(awards.lock_grant(active.id), staff, REASON)
    db.session.rollback()
    with pytest.raises(IllegalTransition, match="already ended early"):
        awards.withdraw_offer(awards.lock_grant(active.id), staff, REASON)
    db.session.rollback()
    assert len(releases(db)) == 1 and active.amount_pence == 100_000
    assert_books_balance(db, round_)


def test_an_ended_grant_takes_no_more_payments_or_report(db, staff, people, active):
    pay_first(active, staff)
    awards.end_grant_early(awards.lock_grant(active.id), staff, REASON)
    db.session.commit()
    grant = awards.lock_grant(active.id)
    cancelled = next(i for i in grant.instalments if i.cancelled_at is not None)
    with pytest.raises(
        IllegalTransition, match="This grant was ended early on .*; no more payments are made"
    ):
        awards.record_payment(grant, cancelled.id, staff, "BACS-2")
    with pytest.raises(IllegalTransition, match="no end-of-grant report is needed"):
        reports.save_report(grant, people[2], reports.ReportInput(what_happened="x"), submit=False)


# --- the public scorecard ----------------------------------------------------------------------------------------


def _round_totals(name: str):
    return next(r.totals for r in build_scorecard().rounds if r.name == name)


def _in_step(round_id: int) -> None:
    def key(row):
        return (row["dimension"].value, row["name"])

    assert sorted(stored_totals([round_id]), key=key) == sorted(computed_totals([round_id]), key=key)


def test_the_scorecard_drops_a_withdrawn_offer_and_counts_what_an_ended_grant_paid(db, staff):
    round_ = make_round(status=RoundStatus.DECIDED, budget_pence=5_000_000, name="Stopped grants round")
    round_.decided_at = utcnow()
    kept = make_awarded_grant(round_, make_org(), amount_pence=200_000, by=staff)
    ended = make_awarded_grant(
        round_, make_org(), amount_pence=300_000, instalments=(100_000,) * 3, paid=1, by=staff
    )
    withdrawn = make_awarded_grant(round_, make_org(), amount_pence=150_000, by=staff)
    db.session.commit()
    totals = _round_totals("Stopped grants round")
    assert (totals.grants, totals.awarded_pence, totals.paid_pence) == (3, 650_000, 100_000)

    awards.withdraw_offer(awards.lock_grant(withdrawn.id), staff, REASON)
    db.session.commit()
    totals = _round_totals("Stopped grants round")
    assert (totals.grants, totals.awarded_pence, totals.paid_pence) == (2, 500_000, 100_000)
    _in_step(round_.id)

    awards.end_grant_early(awards.lock_grant(ended.id), staff, REASON)
    db.session.commit()
    totals = _round_totals("Stopped grants round")
    assert (totals.grants, totals.awarded_pence, totals.paid_pence) == (2, 300_000, 100_000)
    _in_step(round_.id)
    published = {g.grant_id: g.amount_pence for g in published_grants()}
    assert published == {kept.id: 200_000, ended.id: 100_000}
    assert_books_balance(db, round_)


def test_a_withdrawal_that_rolls_back_leaves_the_scorecard_alone(db, staff):
    round_ = make_round(status=RoundStatus.DECIDED, budget_pence=5_000_000, name="Rolled back round")
    grant = make_awarded_grant(round_, make_org(), amount_pence=200_000, by=staff)
    db.session.commit()
    awards.withdraw_offer(awards.lock_grant(grant.id), staff, REASON)
    db.session.rollback()
    assert _round_totals("Rolled back round").awarded_pence == 200_000
    assert db.session.get(Grant, grant.id).status is GrantStatus.ACTIVE


def test_the_staff_member_who_withdrew_an_offer_finds_it_in_their_data_export(db, staff, offered):
    from foundation.privacy import export_user_data

    awards.withdraw_offer(awards.lock_grant(offered.id), staff, REASON)
    db.session.commit()

    closed = export_user_data(staff)["grant_staff_actions"]["offers_withdrawn_or_ended"]
    assert closed == [
        {"grant_id": offered.id, "status": "withdrawn", "reason": REASON, "at": closed[0]["at"]}
    ]
    assert closed[0]["at"] is not None
