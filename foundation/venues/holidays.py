"""School holidays and bank holidays: the built-in calendar, loading it, and staff edits.

School holidays are Wiltshire Council's dates for community and voluntary controlled schools (academies and
foundation schools may differ by a day or two; staff can correct any row). Bank holidays are those of England
and Wales, with the substitute days when a holiday falls at a weekend. Dates published after this list was made
are added by staff in the holiday editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.venues.models import Holiday, HolidayKind

SCHOOL, BANK = HolidayKind.SCHOOL, HolidayKind.BANK

_d = date.fromisoformat

# (name, first day, last day): weekdays off school, weekends either side left out.
SCHOOL_HOLIDAYS: tuple[tuple[str, date, date], ...] = (
    # 2025 to 2026
    ("October half term 2025", _d("2025-10-27"), _d("2025-10-31")),
    ("Christmas holidays 2025", _d("2025-12-22"), _d("2026-01-02")),
    ("February half term 2026", _d("2026-02-16"), _d("2026-02-20")),
    ("Easter holidays 2026", _d("2026-03-30"), _d("2026-04-10")),
    ("May half term 2026", _d("2026-05-25"), _d("2026-05-29")),
    ("Summer holidays 2026", _d("2026-07-22"), _d("2026-08-31")),
    # 2026 to 2027 (the five-day October break; term 6 ends on Wednesday 21 July 2027)
    ("October half term 2026", _d("2026-10-26"), _d("2026-10-30")),
    ("Christmas holidays 2026", _d("2026-12-21"), _d("2027-01-01")),
    ("February half term 2027", _d("2027-02-15"), _d("2027-02-19")),
    ("Easter holidays 2027", _d("2027-03-26"), _d("2027-04-09")),
    ("May half term 2027", _d("2027-05-31"), _d("2027-06-04")),
    ("Summer holidays 2027", _d("2027-07-22"), _d("2027-08-31")),
    # 2027 to 2028
    ("October half term 2027", _d("2027-10-25"), _d("2027-10-29")),
    ("Christmas holidays 2027", _d("2027-12-20"), _d("2028-01-03")),
    ("February half term 2028", _d("2028-02-14"), _d("2028-02-18")),
    ("Easter holidays 2028", _d("2028-04-10"), _d("2028-04-21")),
    ("May half term 2028", _d("2028-05-29"), _d("2028-06-02")),
    ("Summer holidays 2028", _d("2028-07-21"), _d("2028-08-31")),
)

BANK_HOLIDAYS: tuple[tuple[str, date], ...] = (
    ("New Year's Day", _d("2025-01-01")),
    ("Good Friday", _d("2025-04-18")),
    ("Easter Monday", _d("2025-04-21")),
    ("Early May bank holiday", _d("2025-05-05")),
    ("Spring bank holiday", _d("2025-05-26")),
    ("Summer bank holiday", _d("2025-08-25")),
    ("Christmas Day", _d("2025-12-25")),
    ("Boxing Day", _d("2025-12-26")),
    ("New Year's Day", _d("2026-01-01")),
    ("Good Friday", _d("2026-04-03")),
    ("Easter Monday", _d("2026-04-06")),
    ("Early May bank holiday", _d("2026-05-04")),
    ("Spring bank holiday", _d("2026-05-25")),
    ("Summer bank holiday", _d("2026-08-31")),
    ("Christmas Day", _d("2026-12-25")),
    ("Boxing Day (substitute day)", _d("2026-12-28")),
    ("New Year's Day", _d("2027-01-01")),
    ("Good Friday", _d("2027-03-26")),
    ("Easter Monday", _d("2027-03-29")),
    ("Early May bank holiday", _d("2027-05-03")),
    ("Spring bank holiday", _d("2027-05-31")),
    ("Summer bank holiday", _d("2027-08-30")),
    ("Christmas Day (substitute day)", _d("2027-12-27")),
    ("Boxing Day (substitute day)", _d("2027-12-28")),
    ("New Year's Day (substitute day)", _d("2028-01-03")),
    ("Good Friday", _d("2028-04-14")),
    ("Easter Monday", _d("2028-04-17")),
    ("Early May bank holiday", _d("2028-05-01")),
    ("Spring bank holiday", _d("2028-05-29")),
    ("Summer bank holiday", _d("2028-08-28")),
    ("Christmas Day", _d("2028-12-25")),
    ("Boxing Day", _d("2028-12-26")),
)


def builtin_holidays() -> list[tuple[HolidayKind, str, date, date]]:
    return [(SCHOOL, name, first, last) for name, first, last in SCHOOL_HOLIDAYS] + [
        (BANK, name, day, day) for name, day in BANK_HOLIDAYS
    ]


def load_builtin_holidays() -> int:
    """Add the built-in holidays that are missing. Safe to run any number of times; returns how many were added.

    A built-in entry counts as present when any holiday of its kind overlaps its dates, so a row staff have
    corrected (moved by a day, renamed) is neither duplicated nor overwritten. A row staff deleted comes back.
    """
    existing = list(db.session.execute(sa.select(Holiday.kind, Holiday.starts_on, Holiday.ends_on)).tuples())
    added = 0
    for kind, name, first, last in builtin_holidays():
        if any(k is kind and s <= last and first <= e for k, s, e in existing):
            continue
        db.session.add(Holiday(kind=kind, name=name, starts_on=first, ends_on=last))
        existing.append((kind, first, last))
        added += 1
    db.session.flush()
    return added


@dataclass(frozen=True)
class HolidayCalendar:
    """Holidays between two dates, answering "is this day a holiday of this kind?" without more queries."""

    rows: tuple[Holiday, ...]

    def holiday_on(self, day: date, kinds: Iterable[HolidayKind]) -> Holiday | None:
        kinds = set(kinds)
        return next((h for h in self.rows if h.kind in kinds and h.starts_on <= day <= h.ends_on), None)


def holidays_between(first: date, last: date) -> HolidayCalendar:
    rows = db.session.scalars(
        sa.select(Holiday)
        .where(Holiday.starts_on <= last, Holiday.ends_on >= first)
        .order_by(Holiday.starts_on, Holiday.kind)
    ).all()
    return HolidayCalendar(tuple(rows))


def all_holidays() -> list[Holiday]:
    return list(db.session.scalars(sa.select(Holiday).order_by(Holiday.starts_on, Holiday.kind)))


def save_holiday(
    holiday: Holiday | None, kind: HolidayKind, name: str, starts_on: date, ends_on: date
) -> Holiday:
    """Add a holiday (holiday=None) or change one. Existing bookings keep their dates; new ones use the change."""
    name = name.strip()
    if not name:
        raise DomainError("Give the holiday a name.", field="name")
    if ends_on < starts_on:
        raise DomainError("The last day must be on or after the first day.", field="ends_on")
    clash = db.session.scalar(
        sa.select(Holiday).where(
            Holiday.kind == kind,
            Holiday.starts_on == starts_on,
            Holiday.id != (holiday.id if holiday is not None else -1),
        )
    )
    if clash is not None:
        raise Conflict(
            f"There is already a {kind.label.lower()} starting on {starts_on:%-d %B %Y} ({clash.name}).",
            field="starts_on",
        )
    if holiday is None:
        holiday = Holiday(kind=kind, name=name, starts_on=starts_on, ends_on=ends_on)
        db.session.add(holiday)
    else:
        holiday.kind, holiday.name, holiday.starts_on, holiday.ends_on = kind, name, starts_on, ends_on
    db.session.flush()
    return holiday


def delete_holiday(holiday: Holiday) -> None:
    db.session.delete(holiday)
