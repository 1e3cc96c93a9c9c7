"""The seed-grant fund's accounts on the Foundation's ledger (foundation/ledger/).

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
was released; remaining is the round account's balance (budget - committed). Each transaction is tagged with the
codes of the round and grant it concerns, which is how a round's or a grant's page lists its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.grants.models import Grant, GrantRound
from foundation.ledger import service as ledger
from foundation.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from foundation.members.models import User


def round_tag(round_id: int) -> str:
    return f"round:{round_id}"


def grant_tag(grant_id: int) -> str:
    return f"grant:{grant_id}"


def tags(round_: GrantRound | None = None, grant: Grant | None = None) -> list[str]:
    """The tags of a transaction concerning a round and, perhaps, one of its grants."""
    found = [] if round_ is None else [round_tag(round_.id)]
    return found if grant is None else [*found, grant_tag(grant.id)]


def concerns(txn: LedgerTransaction) -> tuple[int | None, int | None]:
    """The round and the grant a transaction concerns, read from its tags (loaded with it by `ledger.tagged`)."""
    found: dict[str, int] = {}
    for tag in txn.tags:
        what, _, ident = tag.tag.partition(":")
        if what in ("round", "grant") and ident.isdigit():
            found[what] = int(ident)
    return found.get("round"), found.get("grant")


def round_account(round_: GrantRound) -> LedgerAccount:
    return ledger.account(round_tag(round_.id), f"Budget of {round_.name}", AccountKind.ROUND_BUDGET)


def grant_account(grant: Grant) -> LedgerAccount:
    return ledger.account(
        grant_tag(grant.id), f"Grant {grant.application.reference or grant.id}", AccountKind.GRANT_PAYABLE
    )


def fund_balance() -> int:
    return ledger.balances([ledger.FUND])[ledger.FUND]


@dataclass(frozen=True)
class RoundMoney:
    budget_pence: int  # allocated less handed back
    committed_pence: int  # awarded less released
    remaining_pence: int  # budget - committed: the round account's balance


def round_money(round_ids: Sequence[int]) -> dict[int, RoundMoney]:
    """Budget, committed and remaining for several rounds, in one query."""
    if not round_ids:
        return {}
    codes = {round_tag(rid): rid for rid in round_ids}
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
    return ledger.transfer(
        TransactionKind.ALLOCATION,
        reason or f"Budget for {round_.name}",
        ("round", round_.id),
        ledger.account(ledger.FUND),
        round_account(round_),
        amount_pence,
        by,
        tags(round_),
    )


def deallocate(round_: GrantRound, amount_pence: int, by: User | None, reason: str) -> LedgerTransaction:
    """Hand unspent budget back to the fund. Cannot take back more than the round has not awarded."""
    remaining = money_for(round_).remaining_pence
    if amount_pence > remaining:
        raise DomainError(
            f"Only £{remaining / 100:,.2f} of this round's budget is not awarded.", field="amount"
        )
    return ledger.transfer(
        TransactionKind.DEALLOCATION, reason, ("round", round_.id), round_account(round_), ledger.account(ledger.FUND),
        amount_pence, by, tags(round_),
    )  # fmt: skip
