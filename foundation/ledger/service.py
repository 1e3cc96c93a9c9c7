"""Posting to the ledger and reading balances.

Every movement of money is a `LedgerTransaction` whose entries sum to zero, with a reason, a link to what caused
it, and tags naming what it concerns. The Foundation's own accounts have fixed codes:

    fund        the seed-grant fund: money not yet given to a round
    income      where money comes from (donations, match funding, opening balance): its balance is negative
    paid_out    paid to grantees, net of underspend returned

A capability opens its own accounts on first use, with codes of the form "<what>:<id>".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTag,
    LedgerTotal,
    LedgerTransaction,
    TransactionKind,
)
from foundation.members.models import User
from foundation.types import utcnow

# The tables behind the models, for `post_many`'s statements that write many rows at once.
TRANSACTIONS = cast(sa.Table, LedgerTransaction.__table__)
ENTRIES = cast(sa.Table, LedgerEntry.__table__)
TAGS = cast(sa.Table, LedgerTag.__table__)

FUND = "fund"
INCOME = "income"
PAID_OUT = "paid_out"
PROVIDER_FEES = "fees"  # what payment providers keep, whichever capability took the payment

_NAMES = {
    FUND: ("Seed-grant fund (unallocated)", AccountKind.FUND),
    INCOME: ("Income: donations, match funding and other deposits", AccountKind.INCOME),
    PAID_OUT: ("Paid to grantees", AccountKind.PAID_OUT),
    PROVIDER_FEES: ("Payment providers' fees", AccountKind.FEES),
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


def accounts(codes: Iterable[str]) -> dict[str, LedgerAccount]:
    """The accounts with these codes that exist, in one query (open a missing one with `account`)."""
    codes = list(codes)
    found = db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.code.in_(codes)))
    by_code = {acct.code: acct for acct in found}
    for code in codes:
        if code not in by_code and code in _NAMES:
            by_code[code] = account(code)
    return by_code


def _check_moves(moves: Sequence[tuple[LedgerAccount, int]]) -> None:
    if len(moves) < 2:
        raise ValueError("a transaction moves money between at least two accounts")
    if any(amount == 0 for _, amount in moves):
        raise ValueError("a ledger entry cannot be zero")
    if sum(amount for _, amount in moves) != 0:
        raise ValueError("a transaction's entries must sum to zero")


def post(
    kind: TransactionKind,
    reason: str,
    source: tuple[str, int | None],
    moves: Sequence[tuple[LedgerAccount, int]],
    by: User | None = None,
    tags: Iterable[str] = (),
) -> LedgerTransaction:
    """Record one movement of money. `moves` are (account, signed pence); they must sum to zero."""
    _check_moves(moves)
    txn = LedgerTransaction(
        kind=kind, reason=reason[:300], source_type=source[0], source_id=source[1], created_by=by
    )
    for acct, amount in moves:
        txn.entries.append(LedgerEntry(account_id=acct.id, amount_pence=amount))
    for tag in sorted(set(tags)):
        txn.tags.append(LedgerTag(tag=tag))
    db.session.add(txn)
    db.session.flush()
    _add_to_totals(_per_account(kind, moves))
    return txn


@dataclass(frozen=True)
class Posting:
    """One movement of money for `post_many`: what `post` takes, as a value."""

    kind: TransactionKind
    reason: str
    source: tuple[str, int | None]
    moves: Sequence[tuple[LedgerAccount, int]]
    tags: Iterable[str] = ()
    by_id: int | None = None


def post_many(postings: Sequence[Posting]) -> list[int]:
    """Record many movements of money at once, in order, with the same rules and running totals as `post`: a
    worker settling a batch of payments posts them all in four statements, whatever their number. The new
    transactions' ids, in the order given. Objects already loaded are not told (these are new rows)."""
    if not postings:
        return []
    for posting in postings:
        _check_moves(posting.moves)
    now = utcnow()
    ids = list(
        db.session.scalars(
            sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id, sort_by_parameter_order=True),
            [
                {
                    "kind": p.kind,
                    "reason": p.reason[:300],
                    "source_type": p.source[0],
                    "source_id": p.source[1],
                    "created_by_id": p.by_id,
                    "created_at": now,
                }
                for p in postings
            ],
        )
    )
    entries = [
        {"transaction_id": txn_id, "account_id": acct.id, "amount_pence": amount}
        for txn_id, p in zip(ids, postings, strict=True)
        for acct, amount in p.moves
    ]
    db.session.execute(sa.insert(ENTRIES), entries)
    tags = [
        {"transaction_id": txn_id, "tag": tag}
        for txn_id, p in zip(ids, postings, strict=True)
        for tag in sorted(set(p.tags))
    ]
    if tags:
        db.session.execute(sa.insert(TAGS), tags)
    totals: dict[tuple[int, TransactionKind], tuple[int, int]] = {}
    for p in postings:
        for key, (got_in, got_out) in _per_account(p.kind, p.moves).items():
            had_in, had_out = totals.get(key, (0, 0))
            totals[key] = (had_in + got_in, had_out + got_out)
    _add_to_totals(totals)
    return ids


def _per_account(
    kind: TransactionKind, moves: Sequence[tuple[LedgerAccount, int]]
) -> dict[tuple[int, TransactionKind], tuple[int, int]]:
    """What a movement adds to each account's running totals for its kind: (money in, money out)."""
    per_account: dict[tuple[int, TransactionKind], tuple[int, int]] = {}
    for acct, amount in moves:
        got_in, got_out = per_account.get((acct.id, kind), (0, 0))
        per_account[(acct.id, kind)] = (got_in + max(amount, 0), got_out + max(-amount, 0))
    return per_account


def _add_to_totals(totals: dict[tuple[int, TransactionKind], tuple[int, int]]) -> None:
    """Add to the running totals: one upsert for every (account, kind), its rows in account order (two postings
    lock them in the same order)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(LedgerTotal).values(
        [
            {"account_id": account_id, "kind": kind, "in_pence": got_in, "out_pence": got_out}
            for (account_id, kind), (got_in, got_out) in sorted(
                totals.items(), key=lambda item: (item[0][0], item[0][1].value)
            )
        ]
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[LedgerTotal.account_id, LedgerTotal.kind],
            set_={
                "in_pence": LedgerTotal.in_pence + stmt.excluded.in_pence,
                "out_pence": LedgerTotal.out_pence + stmt.excluded.out_pence,
            },
        )
    )


def transfer(
    kind: TransactionKind,
    reason: str,
    source: tuple[str, int | None],
    from_account: LedgerAccount,
    to_account: LedgerAccount,
    amount_pence: int,
    by: User | None = None,
    tags: Iterable[str] = (),
) -> LedgerTransaction:
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    return post(kind, reason, source, [(from_account, -amount_pence), (to_account, amount_pence)], by, tags)


def balance(acct: LedgerAccount | None) -> int:
    if acct is None or acct.id is None:
        return 0
    return balances([acct.code])[acct.code]


def balances(codes: Iterable[str]) -> dict[str, int]:
    """Balances of several accounts in one query (0 for accounts never used), from the running totals."""
    codes = list(codes)
    rows = db.session.execute(
        sa.select(
            LedgerAccount.code,
            sa.func.coalesce(sa.func.sum(LedgerTotal.in_pence - LedgerTotal.out_pence), 0),
        )
        .join(LedgerTotal, LedgerTotal.account_id == LedgerAccount.id, isouter=True)
        .where(LedgerAccount.code.in_(codes))
        .group_by(LedgerAccount.code)
    ).all()
    found = {code: int(total) for code, total in rows}
    return {code: found.get(code, 0) for code in codes}


def deposit(
    amount_pence: int,
    reason: str,
    source: tuple[str, int | None],
    by: User | None = None,
    tags: Iterable[str] = (),
) -> LedgerTransaction:
    """Money into the fund: the opening balance, a donation, match funding received."""
    return transfer(
        TransactionKind.DEPOSIT, reason, source, account(INCOME), account(FUND), amount_pence, by, tags
    )


def tagged(tag: str | None = None) -> sa.Select[tuple[LedgerTransaction]]:
    """Transactions newest first, all of them or those with a tag; entries, accounts, tags and author loaded."""
    stmt = sa.select(LedgerTransaction).order_by(
        LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc()
    )
    if tag is not None:
        stmt = stmt.where(
            LedgerTransaction.id.in_(sa.select(LedgerTag.transaction_id).where(LedgerTag.tag == tag))
        )
    return stmt.options(
        selectinload(LedgerTransaction.entries).selectinload(LedgerEntry.account),
        selectinload(LedgerTransaction.tags),
        selectinload(LedgerTransaction.created_by),
    )


def count_tagged(tag: str | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(LedgerTransaction)
    if tag is not None:
        stmt = sa.select(sa.func.count()).select_from(LedgerTag).where(LedgerTag.tag == tag)
    return int(db.session.scalar(stmt) or 0)


def entries_for(tag: str | None = None, limit: int | None = None) -> list[LedgerTransaction]:
    """The public ledger: transactions newest first, optionally those concerning one thing ("grant:9")."""
    stmt = tagged(tag)
    if limit is not None:
        stmt = stmt.limit(limit)
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


def totals_by_kind() -> dict[TransactionKind, int]:
    """How much each kind of movement has moved in all (the sum of its transactions' amounts), in one query."""
    rows = db.session.execute(
        sa.select(LedgerTotal.kind, sa.func.coalesce(sa.func.sum(LedgerTotal.in_pence), 0)).group_by(
            LedgerTotal.kind
        )
    ).tuples()
    found = {kind: int(total) for kind, total in rows}
    return {kind: found.get(kind, 0) for kind in TransactionKind}


@dataclass(frozen=True)
class AccountFlow:
    account: LedgerAccount
    in_pence: int
    out_pence: int

    @property
    def balance_pence(self) -> int:
        return self.in_pence - self.out_pence


def flows(kind: AccountKind) -> list[AccountFlow]:
    """Money into and out of every account of a kind, in one query, largest first."""
    incoming = sa.func.coalesce(sa.func.sum(LedgerTotal.in_pence), 0)
    outgoing = sa.func.coalesce(sa.func.sum(LedgerTotal.out_pence), 0)
    rows = db.session.execute(
        sa.select(LedgerAccount, incoming, outgoing)
        .join(LedgerTotal, LedgerTotal.account_id == LedgerAccount.id, isouter=True)
        .where(LedgerAccount.kind == kind)
        .group_by(LedgerAccount.id)
        .order_by(incoming.desc(), LedgerAccount.id)
    ).tuples()
    return [AccountFlow(acct, int(i), int(o)) for acct, i, o in rows]


# The running totals worked out from the entries: to fill them after a bulk load, and to check them.
TOTALS_FROM_ENTRIES = """
SELECT e.account_id, t.kind,
       coalesce(sum(CASE WHEN e.amount_pence > 0 THEN e.amount_pence ELSE 0 END), 0) AS in_pence,
       coalesce(sum(CASE WHEN e.amount_pence < 0 THEN -e.amount_pence ELSE 0 END), 0) AS out_pence
FROM ledger_entry e JOIN ledger_transaction t ON t.id = e.transaction_id
GROUP BY e.account_id, t.kind
"""


def rebuild_totals() -> None:
    """Work every running total out again from the entries (after rows were loaded around post())."""
    db.session.execute(sa.delete(LedgerTotal))
    db.session.execute(
        sa.text(f"INSERT INTO ledger_total (account_id, kind, in_pence, out_pence) {TOTALS_FROM_ENTRIES}")
    )


def totals_disagree() -> list[tuple[int, str]]:
    """(account id, kind) of every running total that differs from its entries' sums (there should be none)."""
    kept = {
        (a, k.value): (int(i), int(o))
        for a, k, i, o in db.session.execute(
            sa.select(LedgerTotal.account_id, LedgerTotal.kind, LedgerTotal.in_pence, LedgerTotal.out_pence)
        ).tuples()
    }
    worked = {
        (int(a), str(k)): (int(i), int(o)) for a, k, i, o in db.session.execute(sa.text(TOTALS_FROM_ENTRIES))
    }
    kept = {key: value for key, value in kept.items() if value != (0, 0) or key in worked}
    return sorted(key for key in kept.keys() | worked.keys() if kept.get(key) != worked.get(key))
