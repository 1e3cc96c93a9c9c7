"""Signals members sends for the capabilities to act on, without members knowing them (the dependency rule).

Receivers run inside the sender's transaction, so what they write stands or falls with the decision that caused
it: they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()


@dataclass(frozen=True)
class StandingChange:
    """An organisation left good standing by a staff decision (suspended or rejected).

    `cancel_future_bookings` is the staff member's choice on the vetting form: whether the organisation's
    upcoming bookings are cancelled (the venue owners and the organisation are told) or left in place. The
    staff member's message is not carried: it is written to the organisation and may hold safeguarding detail
    that others must not see.
    """

    organisation_id: int
    by_user_id: int
    cancel_future_bookings: bool


# Sent with `change=StandingChange(...)`. A receiver may return a sentence saying what it did, for the staff
# member's confirmation message; None when it did nothing.
organisation_standing_changed = _signals.signal("organisation-standing-changed")
