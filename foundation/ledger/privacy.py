"""What the ledger holds about a person: the movements of money they recorded as staff. They stay when the account
closes: the ledger is the public record of the Foundation's money."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.ledger.models import LedgerTransaction
from foundation.members.models import User
from foundation.privacy import export_section, plain


@export_section("ledger", covers=("ledger_transaction.created_by_id",))
def _transactions(user: User) -> list[dict[str, Any]]:
    transactions = db.session.scalars(
        sa.select(LedgerTransaction)
        .where(LedgerTransaction.created_by_id == user.id)
        .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
    )
    return [
        {"id": t.id, "kind": t.kind.value, "reason": t.reason, "at": plain(t.created_at)}
        for t in transactions
    ]
