"""What payments hold about a person: the money staff recorded as received, cancelled or refunded offline. Who paid
is the business of the capability that asked for the payment (a donation holds its donor)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import User
from foundation.payments.models import Payment
from foundation.privacy import export_section, plain


@export_section("payments_recorded", covers=("payment.recorded_by_id",))
def _recorded(user: User) -> list[dict[str, Any]]:
    payments = db.session.scalars(
        sa.select(Payment).where(Payment.recorded_by_id == user.id).order_by(Payment.id)
    )
    return [
        {
            "payment_id": p.id,
            "amount_pence": p.amount_pence,
            "status": p.status.value,
            "received_by": plain(p.received_by),
            "received_on": plain(p.received_on),
            "reference": p.received_reference,
        }
        for p in payments
    ]
