"""A person's own data, as every package holds some of it: the registry of export sections and closing steps.

Each package registers what it holds about a person with `@export_section(name, covers=...)` (a function from
the user to JSON-ready data) and what closing an account must erase with `@on_close` (a function given the user
before its details are overwritten), in its own `privacy.py`. Any column that references a user and is not
covered by a named section still appears in the export under "other_records", so nothing referencing the person
is left out; a test holds every such column to a named section.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import User
from foundation.types import utcnow

FORMER_USER_NAME = "Former user"
ERASED_TEXT = "(Removed when the account was closed.)"

ExportFn = Callable[[User], Any]
CloseFn = Callable[[User], None]


@dataclass
class ExportSection:
    name: str
    build: ExportFn
    # "table.column" pairs this section reports, so they are not listed again under other_records.
    covers: tuple[str, ...] = field(default_factory=tuple)


EXPORT_SECTIONS: list[ExportSection] = []
CLOSE_STEPS: list[CloseFn] = []


def export_section(name: str, covers: tuple[str, ...] = ()) -> Callable[[ExportFn], ExportFn]:
    def register(fn: ExportFn) -> ExportFn:
        if any(s.name == name for s in EXPORT_SECTIONS):
            raise ValueError(f"export section {name!r} is registered twice")
        EXPORT_SECTIONS.append(ExportSection(name, fn, tuple(covers)))
        return fn

    return register


def on_close(fn: CloseFn) -> CloseFn:
    CLOSE_STEPS.append(fn)
    return fn


def closed_email(user: User) -> str:
    """Unique (ids are) and undeliverable (.invalid is reserved for that, RFC 2606)."""
    return f"closed-{user.id}@invalid"


# --- JSON shaping ---------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def row_dict(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a mapped object, JSON-ready."""
    mapper = sa.inspect(obj).mapper
    return {c.key: plain(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in exclude}


# --- export ---------------------------------------------------------------------------------------------


def covered_columns() -> set[str]:
    return {c for s in EXPORT_SECTIONS for c in s.covers}


def export_user_data(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"exported_at": utcnow().isoformat(), "user_id": user.id}
    for section in EXPORT_SECTIONS:
        data[section.name] = section.build(user)
    other = other_records(user, covered_columns())
    if other:
        data["other_records"] = other
    return data


def user_reference_columns() -> list[sa.Column[Any]]:
    """Every column in the schema with a foreign key to user.id."""
    user_table = User.__table__
    return [
        col
        for table in db.metadata.sorted_tables
        for col in table.columns
        if any(fk.column.table is user_table for fk in col.foreign_keys)
    ]


def other_records(user: User, covered: set[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for col in user_reference_columns():
        key = f"{col.table.name}.{col.name}"
        if key in covered:
            continue
        rows = db.session.execute(sa.select(col.table).where(col == user.id)).mappings().all()
        if rows:
            out[key] = [{k: plain(v) for k, v in r.items()} for r in rows]
    return out


def run_close_steps(user: User) -> None:
    for step in CLOSE_STEPS:
        step(user)
