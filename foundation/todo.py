"""What needs doing: the dashboard's list of what waits for the signed-in person, gathered from every package.

Each package registers `@todo_section(name, order)` in its own `todo.py`: a function from the `Viewer` (the person,
their organisations, today) to the groups of things it knows are waiting for them, or none. The dashboard shows the
groups under who they are for: the person themselves, their organisations, the review panel, Foundation staff.
A section runs a fixed number of queries whatever the number of rows (it lists a few items and counts the rest).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, User
from foundation.types import london_today, utcnow

ITEMS_SHOWN = 5  # per group; the group says how many more there are and links to the full list


class Audience(enum.Enum):
    """Who a group of things to do is for, in the order the dashboard shows them."""

    YOU = "you"
    ORGANISATIONS = "organisations"
    PANEL = "panel"
    STAFF = "staff"

    @property
    def heading(self) -> str:
        return {
            Audience.YOU: "For you",
            Audience.ORGANISATIONS: "For your organisations",
            Audience.PANEL: "For the review panel",
            Audience.STAFF: "For Foundation staff",
        }[self]


@dataclass(frozen=True)
class TodoItem:
    text: str
    url: str
    detail: str = ""  # when it is due, for whom, how long it has waited
    urgent: bool = False  # overdue, or due within days


@dataclass(frozen=True)
class TodoGroup:
    audience: Audience
    title: str
    items: list[TodoItem]
    total: int = 0  # how many there are in all (at least len(items))
    more_url: str | None = None  # the full list
    more_text: str = ""

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))


@dataclass(frozen=True)
class Viewer:
    user: User
    organisations: list[Organisation]  # every organisation the person belongs to, with their documents
    admin_org_ids: list[int]  # those they administer
    today: date = field(default_factory=london_today)
    now: datetime = field(default_factory=utcnow)

    @property
    def org_ids(self) -> list[int]:
        return [org.id for org in self.organisations]

    @classmethod
    def of(cls, user: User, organisations: list[Organisation]) -> Viewer:
        admin = {m.organisation_id for m in user.memberships if m.role is MemberRole.ADMIN}
        return cls(
            user=user,
            organisations=organisations,
            admin_org_ids=[o.id for o in organisations if o.id in admin],
        )


SectionFn = Callable[[Viewer], list[TodoGroup]]


@dataclass(frozen=True)
class TodoSection:
    name: str
    order: int
    build: SectionFn


DASHBOARD_SECTIONS: list[TodoSection] = []


def todo_section(name: str, order: int) -> Callable[[SectionFn], SectionFn]:
    """Register a package's things to do; lower `order` comes first within each audience."""

    def register(fn: SectionFn) -> SectionFn:
        if any(s.name == name for s in DASHBOARD_SECTIONS):
            raise ValueError(f"to-do section {name!r} is registered twice")
        DASHBOARD_SECTIONS.append(TodoSection(name, order, fn))
        return fn

    return register


def todo_for(viewer: Viewer) -> list[tuple[Audience, list[TodoGroup]]]:
    """Every non-empty group, under its audience, audiences in order; audiences with nothing are left out."""
    groups: list[TodoGroup] = []
    for section in sorted(DASHBOARD_SECTIONS, key=lambda s: s.order):
        groups.extend(g for g in section.build(viewer) if g.items or g.total)
    return [
        (a, [g for g in groups if g.audience is a]) for a in Audience if any(g.audience is a for g in groups)
    ]


def first_rows(stmt: sa.Select[Any]) -> tuple[list[Any], int]:
    """The first ITEMS_SHOWN rows of a query and how many there are in all, in one round trip."""
    rows = db.session.execute(
        stmt.add_columns(sa.func.count().over().label("total")).limit(ITEMS_SHOWN)
    ).all()
    return [tuple(row[:-1]) for row in rows], (rows[0].total if rows else 0)
