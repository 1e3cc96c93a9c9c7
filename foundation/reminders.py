"""Reminders that go a set number of days before a date, each once.

A schedule names its windows (days before the date) and the table that records each reminder sent, with a unique
constraint on (item, window). A sweep finds the windows that have opened for each item and were not recorded,
claims them by inserting their rows, and sends one message with the nearest window. The row, not the earlier
read of what was sent, is the last word: of two concurrent sweeps the unique constraint lets one through, so a
reminder goes once whatever the number of runs. A sweep that runs late still sends: when several windows opened
since the last run, one message goes and every one of them is marked as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from foundation.extensions import db
from foundation.types import utcnow

Key = TypeVar("Key", bound=Hashable)


class Identified(Protocol):
    @property
    def id(self) -> int: ...


Item = TypeVar("Item", bound=Identified)


@dataclass(frozen=True)
class Window(Generic[Key]):
    """A reminder `days_before` the date, recorded in the log as `key`."""

    days_before: int
    key: Key


# eq=False: the columns compare as SQL expressions, so generated equality would be meaningless.
@dataclass(frozen=True, eq=False)
class ReminderSchedule(Generic[Key]):
    """When reminders go, and the table recording them: `item_id` and `key` are its columns, unique together,
    and the table has a `sent_at` column."""

    windows: tuple[Window[Key], ...]
    item_id: InstrumentedAttribute[int]
    key: InstrumentedAttribute[Key]

    def horizon(self, today: date) -> date:
        """The furthest date a reminder can be due for today: items dated later can wait."""
        return today + timedelta(days=max(w.days_before for w in self.windows))

    def already_sent(self, item_ids: Sequence[int]) -> set[tuple[int, Key]]:
        rows = db.session.execute(sa.select(self.item_id, self.key).where(self.item_id.in_(item_ids)))
        return set(rows.tuples())

    def claim(self, item_id: int, keys: Sequence[Key]) -> bool:
        """Record the reminders as sent; False if another run recorded one of them first."""
        log = self.item_id.parent.class_
        try:
            with db.session.begin_nested():
                for key in keys:
                    db.session.add(log(**{self.item_id.key: item_id, self.key.key: key, "sent_at": utcnow()}))
        except IntegrityError:
            return False
        return True

    def send(
        self,
        items: Sequence[Item],
        today: date,
        date_of: Callable[[Item], date | None],
        remind: Callable[[Item, int, Key], None],
    ) -> int:
        """Remind about each item whose windows have opened and were not sent, once, with the nearest window:
        `remind(item, days_left, key)`. Returns the number of items reminded about. An item without a date is
        skipped; the caller chooses the items (say, whether a date already past still earns a reminder).
        """
        sent = self.already_sent([item.id for item in items])
        reminded = 0
        for item in items:
            when = date_of(item)
            if when is None:
                continue
            days_left = (when - today).days
            opened = [w for w in self.windows if days_left <= w.days_before and (item.id, w.key) not in sent]
            if not opened or not self.claim(item.id, [w.key for w in opened]):
                continue
            nearest = min(opened, key=lambda w: w.days_before)
            remind(item, days_left, nearest.key)
            reminded += 1
        return reminded
