"""The seed-grant fund's double-entry ledger.

Every movement of money is a `LedgerTransaction` whose entries sum to zero, with a reason and a link to what caused
it. Balances are sums of entries, never typed in:

    fund            money in the fund not yet given to a round
    round:<id>      a round's budget not yet awarded  (remaining budget)
    grant:<id>      awarded to a grant, not yet paid
    paid_out        paid to grantees, net of underspend returned
    income          where deposits come from (donations, match funding, opening balance): its balance is negative

    deposit         income -> fund
    allocation      fund -> round:<id>            deallocation: round:<id> -> fund
    award           round:<id> -> grant:<id>      release: grant:<id> -> round:<id>
    payment         grant:<id> -> paid_out
    underspend      paid_out -> fund

A round's budget is what was allocated to it less what was handed back; committed is what was awarded less what
was released; remaining is the round account's balance (budget - committed). Donations (a later package) are
deposits with source ("donation", id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.grants.models import (
    AccountKind,
    Grant,
    GrantRound,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from foundation.members.models import User
from foundation.types import utcnow

FUND = "fund"
INCOME = "income"
PAID_OUT = "paid_out"

_NAMES = {
    FUND: ("Seed-grant fund (unallocated)", AccountKind.FUND),
    INCOME: ("Income: donations, match funding and other deposits", AccountKind.INCOME),
    PAID_OUT: ("Paid to grantees", AccountKind.PAID_OUT),
}


def account(code: str, name: str | None = None, kind: AccountKind | None = None) -> LedgerAccount:
    """The account with this code, created on first use."""
    found = db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.code == code))
    if found is not None:
        return found
    if code in _NAMES:
        name, kind = _NAMES[code]
    if name is None or kind is None:
        raise ValueError(f"unknown ledger account {code!r}")
    # Two transactions may both be first to need the account (two payments at once): the second waits for the
    # first's row and uses it, rather than failing on the unique code.
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LedgerAccount)
        .values(code=code, name=name, kind=kind, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[LedgerAccount.code])
    )
    return db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.code == code)).one()


def round_account(round_: GrantRound) -> LedgerAccount:
    return account(f"round:{round_.id}", f"Budget of {round_.name}", AccountKind.ROUND_BUDGET)


def grant_account(grant: Grant) -> LedgerAccount:
    return account(
        f"grant:{grant.id}", f"Grant {grant.application.reference or grant.id}", AccountKind.GRANT_PAYABLE
    )


def post(
    kind: TransactionKind,
    reason: str,
    source: tuple[str, int | None],
    moves: Sequence[tuple[LedgerAccount, int]],
    by: User | None = None,
    round_: GrantRound | None = None,
    grant: Grant | None = None,
) -> LedgerTransaction:
    """Record one movement of money. `moves` are (account, signed pence); they must sum to zero."""
    if len(moves) < 2:
        raise ValueError("a transaction moves money between at least two accounts")
    if any(amount == 0 for _, amount in moves):
        raise ValueError("a ledger entry cannot be zero")
    if sum(amount for _, amount in moves) != 0:
        raise ValueError("a transaction's entries must sum to zero")
    txn = LedgerTransaction(
        kind=kind,
        reason=reason[:300],
        source_type=source[0],
        source_id=source[1],
        round_id=round_.id if round_ is not None else None,
        grant_id=grant.id if grant is not None else None,
        created_by=by,
    )
    for acct, amount in moves:
        txn.entries.append(LedgerEntry(account_id=acct.id, amount_pence=amount))
    db.session.add(txn)
    db.session.flush()
    return txn


def transfer(
    kind: TransactionKind,
    reason: str,
    source: tuple[str, int | None],
    from_account: LedgerAccount,
    to_account: LedgerAccount,
    amount_pence: int,
    by: User | None = None,
    round_: GrantRound | None = None,
    grant: Grant | None = None,
) -> LedgerTransaction:
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    return post(
        kind, reason, source, [(from_account, -amount_pence), (to_account, amount_pence)], by, round_, grant
    )


def balance(acct: LedgerAccount | None) -> int:
    if acct is None or acct.id is None:
        return 0
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0)).where(
                LedgerEntry.account_id == acct.id
            )
        )
    )


def balances(codes: Iterable[str]) -> dict[str, int]:
    """Balances of several accounts in one query (0 for accounts never used)."""
    codes = list(codes)
    rows = db.session.execute(
        sa.select(LedgerAccount.code, sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id, isouter=True)
        .where(LedgerAccount.code.in_(codes))
        .group_by(LedgerAccount.code)
    ).all()
    found = {code: int(total) for code, total in rows}
    return {code: found.get(code, 0) for code in codes}


def fund_balance() -> int:
    return balances([FUND])[FUND]


def deposit(
    amount_pence: int, reason: str, source: tuple[str, int | None], by: User | None = None
) -> LedgerTransaction:
    """Money into the fund: the opening balance, a donation, match funding received."""
    return transfer(TransactionKind.DEPOSIT, reason, source, account(INCOME), account(FUND), amount_pence, by)


@dataclass(frozen=True)
class RoundMoney:
    budget_pence: int  # allocated less handed back
    committed_pence: int  # awarded less released
    remaining_pence: int  # budget - committed: the round account's balance


def round_money(round_ids: Sequence[int]) -> dict[int, RoundMoney]:
    """Budget, committed and remaining for several rounds, in one query."""
    if not round_ids:
        return {}
    codes = {f"round:{rid}": rid for rid in round_ids}
    signed = sa.case(
        (LedgerTransaction.kind.in_([TransactionKind.ALLOCATION, TransactionKind.AWARD]), 1),
        (LedgerTransaction.kind.in_([TransactionKind.DEALLOCATION, TransactionKind.RELEASE]), -1),
        else_=0,
    )
    rows = db.session.execute(
        sa.select(
            LedgerAccount.code,
            LedgerTransaction.kind,
            sa.func.sum(sa.func.abs(LedgerEntry.amount_pence) * signed),
        )
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.code.in_(list(codes)))
        .group_by(LedgerAccount.code, LedgerTransaction.kind)
    ).all()
    budget = dict.fromkeys(round_ids, 0)
    committed = dict.fromkeys(round_ids, 0)
    for code, kind, total in rows:
        rid = codes[code]
        if kind in (TransactionKind.ALLOCATION, TransactionKind.DEALLOCATION):
            budget[rid] += int(total or 0)
        elif kind in (TransactionKind.AWARD, TransactionKind.RELEASE):
            committed[rid] += int(total or 0)
    return {rid: RoundMoney(budget[rid], committed[rid], budget[rid] - committed[rid]) for rid in round_ids}


def money_for(round_: GrantRound) -> RoundMoney:
    return round_money([round_.id])[round_.id]


def allocate(
    round_: GrantRound, amount_pence: int, by: User | None, reason: str | None = None
) -> LedgerTransaction:
    """Give part of the fund to a round's budget. The fund cannot go below zero."""
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    available = fund_balance()
    if amount_pence > available:
        raise DomainError(
            f"The fund holds £{available / 100:,.2f} not yet allocated; you asked for £{amount_pence / 100:,.2f}.",
            field="amount",
        )
    return transfer(
        TransactionKind.ALLOCATION,
        reason or f"Budget for {round_.name}",
        ("round", round_.id),
        account(FUND),
        round_account(round_),
        amount_pence,
        by,
        round_=round_,
    )


def deallocate(round_: GrantRound, amount_pence: int, by: User | None, reason: str) -> LedgerTransaction:
    """Hand unspent budget back to the fund. Cannot take back more than the round has not awarded."""
    remaining = money_for(round_).remaining_pence
    if amount_pence > remaining:
        raise DomainError(
            f"Only £{remaining / 100:,.2f} of this round's budget is not awarded.", field="amount"
        )
    return transfer(
        TransactionKind.DEALLOCATION, reason, ("round", round_.id), round_account(round_), account(FUND),
        amount_pence, by, round_=round_,
    )  # fmt: skip


def entries_for(
    round_id: int | None = None, grant_id: int | None = None, limit: int | None = None
) -> list[LedgerTransaction]:
    """The public ledger: transactions newest first, optionally for one round or grant."""
    stmt = sa.select(LedgerTransaction).order_by(
        LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc()
    )
    if round_id is not None:
        stmt = stmt.where(LedgerTransaction.round_id == round_id)
    if grant_id is not None:
        stmt = stmt.where(LedgerTransaction.grant_id == grant_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    stmt = stmt.options(selectinload(LedgerTransaction.entries).selectinload(LedgerEntry.account))
    return list(db.session.scalars(stmt))


def check_balanced() -> list[int]:
    """Ids of transactions whose entries do not sum to zero (there should be none)."""
    return list(
        db.session.scalars(
            sa.select(LedgerEntry.transaction_id)
            .group_by(LedgerEntry.transaction_id)
            .having(sa.func.sum(LedgerEntry.amount_pence) != 0)
        )
    )
