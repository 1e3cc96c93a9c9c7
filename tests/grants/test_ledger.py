"""The seed-grant fund's double-entry ledger: every transaction balances, balances are sums of entries, and money
cannot be allocated that the fund does not hold nor handed back that a round has already awarded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError
from foundation.grants import money
from foundation.grants import rounds as svc
from foundation.grants.models import ApplicationStatus, Grant, RoundStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from tests.factories import make_org, make_user
from tests.grants.factories import fund, make_application, make_round


def transactions(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction))


def entry_total(db) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))))


def make_grant(db, round_, amount_pence: int) -> Grant:
    org = make_org(make_user())
    app = make_application(round_, org, status=ApplicationStatus.AWARDED, amount_pence=amount_pence)
    grant = Grant(
        application_id=app.id, round_id=round_.id, organisation_id=org.id, amount_pence=amount_pence,
        report_due_on=date.today() + timedelta(days=365),
    )  # fmt: skip
    db.session.add(grant)
    db.session.flush()
    db.session.refresh(grant)
    return grant


def test_a_deposit_is_two_entries_that_sum_to_zero_and_the_fund_balance_is_derived(db) -> None:
    staff = make_user(staff=True)
    txn = svc.record_deposit(2_500_000, "Opening balance for 2026", "opening_balance", staff)
    svc.record_deposit(125_050, "Grant from the town council", "income", staff)

    assert [e.amount_pence for e in txn.entries] == [-2_500_000, 2_500_000]
    assert {e.account.code for e in txn.entries} == {"income", "fund"}
    assert txn.kind is TransactionKind.DEPOSIT and txn.source_type == "opening_balance"
    assert money.fund_balance() == 2_625_050
    assert ledger.balances(["income", "fund", "paid_out"]) == {
        "income": -2_625_050,
        "fund": 2_625_050,
        "paid_out": 0,
    }
    assert entry_total(db) == 0
    assert ledger.check_balanced() == []


def test_post_refuses_entries_that_do_not_balance(db) -> None:
    fund_acct, income = ledger.account(ledger.FUND), ledger.account(ledger.INCOME)
    with pytest.raises(ValueError, match="sum to zero"):
        ledger.post(TransactionKind.DEPOSIT, "Bad", ("test", None), [(income, -100), (fund_acct, 99)])
    with pytest.raises(ValueError, match="zero"):
        ledger.post(TransactionKind.DEPOSIT, "Bad", ("test", None), [(income, 0), (fund_acct, 0)])
    with pytest.raises(ValueError, match="two accounts"):
        ledger.post(TransactionKind.DEPOSIT, "Bad", ("test", None), [(fund_acct, 100)])
    assert transactions(db) == 0


def test_allocating_moves_money_from_the_fund_to_the_round(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.DRAFT, budget_pence=None)
    fund(1_000_000)

    txn = svc.allocate_budget(round_, 400_000, staff)

    assert txn.kind is TransactionKind.ALLOCATION and money.concerns(txn)[0] == round_.id
    assert txn.reason == f"Budget for {round_.name}"
    assert money.fund_balance() == 600_000
    assert money.money_for(round_) == money.RoundMoney(400_000, 0, 400_000)
    assert ledger.check_balanced() == []


def test_allocating_more_than_the_fund_holds_is_refused_and_nothing_is_written(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.DRAFT, budget_pence=None)
    fund(300_000)
    before = transactions(db)

    with pytest.raises(DomainError) as refused:
        svc.allocate_budget(round_, 300_001, staff)

    assert refused.value.field == "amount"
    assert "£3,000.00 not yet allocated" in refused.value.message
    assert transactions(db) == before
    assert money.fund_balance() == 300_000
    assert money.money_for(round_).budget_pence == 0


def test_the_whole_fund_can_be_allocated_but_not_a_penny_more(db) -> None:
    staff = make_user(staff=True)
    first = make_round(RoundStatus.DRAFT, budget_pence=None)
    second = make_round(RoundStatus.DRAFT, budget_pence=None)
    fund(500_000)
    svc.allocate_budget(first, 500_000, staff)
    assert money.fund_balance() == 0
    with pytest.raises(DomainError):
        svc.allocate_budget(second, 1, staff)


def test_a_decided_round_takes_no_more_budget(db) -> None:
    round_ = make_round(RoundStatus.DECIDED, budget_pence=100_000)
    fund(100_000)
    with pytest.raises(Conflict):
        svc.allocate_budget(round_, 50_000, make_user(staff=True))
    assert money.money_for(round_).budget_pence == 100_000


def test_handing_back_more_than_the_round_has_not_awarded_is_refused(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.IN_REVIEW, budget_pence=1_000_000)
    grant = make_grant(db, round_, 700_000)
    ledger.transfer(
        TransactionKind.AWARD, "Award", ("grant", grant.id), money.round_account(round_),
        money.grant_account(grant), 700_000, tags=money.tags(round_, grant),
    )  # fmt: skip
    before = transactions(db)

    with pytest.raises(DomainError) as refused:
        svc.deallocate_budget(round_, 300_001, staff)

    assert refused.value.field == "amount"
    assert "£3,000.00" in refused.value.message
    assert transactions(db) == before

    svc.deallocate_budget(round_, 300_000, staff, "Unspent after decisions")
    assert money.money_for(round_) == money.RoundMoney(700_000, 700_000, 0)
    assert money.fund_balance() == 300_000
    assert ledger.check_balanced() == []


def test_handing_back_nothing_is_refused(db) -> None:
    round_ = make_round(RoundStatus.DECIDED, budget_pence=100_000)
    with pytest.raises(DomainError) as refused:
        svc.deallocate_budget(round_, 0, make_user(staff=True))
    assert refused.value.field == "amount"


def test_round_money_after_allocations_awards_releases_payments_and_underspend(db) -> None:
    """Budget = allocated - handed back; committed = awarded - released; remaining = budget - committed."""
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.IN_REVIEW, budget_pence=None)
    other = make_round(RoundStatus.DRAFT, budget_pence=None)
    untouched = make_round(RoundStatus.DRAFT, budget_pence=None)
    fund(2_000_000)
    svc.allocate_budget(round_, 1_000_000, staff)
    svc.allocate_budget(round_, 200_000, staff, "Top-up from match funding")
    svc.allocate_budget(other, 300_000, staff)
    svc.deallocate_budget(round_, 100_000, staff)
    round_acct = money.round_account(round_)

    a = make_grant(db, round_, 400_000)
    b = make_grant(db, round_, 250_000)
    for grant in (a, b):
        ledger.post(
            TransactionKind.AWARD, f"Award {grant.id}", ("grant", grant.id),
            [(round_acct, -grant.amount_pence), (money.grant_account(grant), grant.amount_pence)],
            by=staff, tags=money.tags(round_, grant),
        )  # fmt: skip
    # Grant b is reduced by £500 before payment: the money goes back to the round's budget.
    ledger.post(
        TransactionKind.RELEASE, "Award reduced", ("grant", b.id),
        [(money.grant_account(b), -50_000), (round_acct, 50_000)], by=staff, tags=money.tags(round_, b),
    )  # fmt: skip
    # Grant a is paid in full, then £300 of underspend comes back to the fund.
    ledger.post(
        TransactionKind.PAYMENT, "First instalment", ("grant", a.id),
        [(money.grant_account(a), -400_000), (ledger.account(ledger.PAID_OUT), 400_000)], tags=money.tags(round_, a),
    )  # fmt: skip
    ledger.post(
        TransactionKind.UNDERSPEND_RETURN, "Underspend returned", ("grant", a.id),
        [(ledger.account(ledger.PAID_OUT), -30_000), (ledger.account(ledger.FUND), 30_000)], tags=money.tags(round_, a),
    )  # fmt: skip

    rounds = money.round_money([round_.id, other.id, untouched.id])
    assert rounds[round_.id] == money.RoundMoney(
        budget_pence=1_100_000, committed_pence=600_000, remaining_pence=500_000
    )
    assert rounds[other.id] == money.RoundMoney(300_000, 0, 300_000)
    assert rounds[untouched.id] == money.RoundMoney(0, 0, 0)
    # The round account's balance is exactly what remains.
    assert ledger.balance(round_acct) == 500_000
    assert ledger.balances([f"grant:{a.id}", f"grant:{b.id}", "paid_out"]) == {
        f"grant:{a.id}": 0,
        f"grant:{b.id}": 200_000,
        "paid_out": 370_000,
    }
    # 2,000,000 in; 1,100,000 + 300,000 out to rounds; 30,000 back.
    assert money.fund_balance() == 630_000
    assert entry_total(db) == 0
    assert ledger.check_balanced() == []
    # And the remaining budget limits what can be handed back.
    with pytest.raises(DomainError):
        svc.deallocate_budget(round_, 500_001, staff)


@pytest.mark.parametrize(
    ("amount", "reason", "source", "field"),
    [
        (0, "Opening balance", "opening_balance", "amount"),
        (None, "Opening balance", "opening_balance", "amount"),
        (100, "   ", "opening_balance", "reason"),
        (100, "Opening balance", "donation", "source"),
        (svc.MAX_DEPOSIT_PENCE + 1, "Opening balance", "income", "amount"),
    ],
)
def test_a_deposit_needs_an_amount_a_reason_and_a_kind(db, amount, reason, source, field) -> None:
    with pytest.raises(DomainError) as refused:
        svc.record_deposit(amount, reason, source, make_user(staff=True))
    assert refused.value.field == field
    assert transactions(db) == 0
