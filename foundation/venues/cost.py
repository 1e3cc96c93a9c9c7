"""What a booking costs: each date's hours at the space's price per hour, and the total of the dates charged.

One computation for every place that shows money for a booking: the preview before booking (the dates that can
be booked, the ticked ones in the total), the booking's page (requested and confirmed dates; cancelled and
declined dates are not charged) and the emails about it.

A date costs the time it really lasts (a slot across a clock change is an hour longer or shorter) at the price
per hour, rounded to the nearest penny (half a penny up) date by date, so a total is always the sum of the
prices shown beside its dates.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from foundation.venues.models import Booking, Occurrence, OccurrenceStatus

if TYPE_CHECKING:
    from foundation.venues.booking import Plan

# The dates a booking is charged for: those still held or asked for. Cancelled and declined dates never are.
CHARGED_STATUSES = frozenset({OccurrenceStatus.REQUESTED, OccurrenceStatus.CONFIRMED})


@dataclass(frozen=True)
class DateCost:
    minutes: int
    pence: int
    charged: bool  # counted in the total (ticked on the preview; requested or confirmed on the booking)


@dataclass(frozen=True)
class Cost:
    """The cost of each date, by the caller's key (a day on the preview, an occurrence id on the booking)."""

    price_per_hour_pence: int
    dates: dict[Hashable, DateCost]

    @property
    def free(self) -> bool:
        return self.price_per_hour_pence == 0

    @property
    def charged_count(self) -> int:
        return sum(1 for d in self.dates.values() if d.charged)

    @property
    def total_pence(self) -> int:
        return sum(d.pence for d in self.dates.values() if d.charged)

    def of(self, key: Hashable) -> DateCost | None:
        return self.dates.get(key)


def price_for(minutes: int, price_per_hour_pence: int) -> int:
    """Pence for `minutes` at the hourly price, to the nearest penny (half a penny up)."""
    return (minutes * price_per_hour_pence + 30) // 60


def cost_of(price_per_hour_pence: int, slots: Iterable[tuple[Hashable, datetime, datetime, bool]]) -> Cost:
    """The cost of each (key, starts_at, ends_at, charged) slot at the hourly price."""
    dates: dict[Hashable, DateCost] = {}
    for key, starts_at, ends_at, charged in slots:
        minutes = int((ends_at - starts_at).total_seconds()) // 60
        dates[key] = DateCost(minutes, price_for(minutes, price_per_hour_pence), charged)
    return Cost(price_per_hour_pence, dates)


def plan_cost(plan: Plan, ticked: Iterable[date] | None = None) -> Cost:
    """The cost of each date of a plan that can be booked, by day; the ticked ones (all, unless given) are the
    total."""
    chosen = None if ticked is None else set(ticked)
    return cost_of(
        plan.space.price_per_hour_pence,
        (
            (d.day, d.slot.starts_at, d.slot.ends_at, chosen is None or d.day in chosen)
            for d in plan.dates
            if d.bookable
        ),
    )


def booking_cost(booking: Booking, occurrences: Iterable[Occurrence] | None = None) -> Cost:
    """The cost of a booking's dates (all of them, unless given), by occurrence id: requested and confirmed
    dates are charged, cancelled and declined ones are not."""
    occs = booking.occurrences if occurrences is None else occurrences
    return cost_of(
        booking.space.price_per_hour_pence,
        ((o.id, o.starts_at, o.ends_at, o.status in CHARGED_STATUSES) for o in occs),
    )
