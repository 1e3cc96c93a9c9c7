"""Entries a package adds to the signed-in navigation, each with a count read together with the sign-in.

A package registers `@nav_count(name, label, endpoint, order)` on a function returning a SQL expression correlated
to `User` (the signed-in person): NULL leaves the entry out for that person, a number shows the entry with the
number when it is above zero. Every registered figure is a column of the one query that loads the sign-in
(foundation/auth.py), so the counts cost no query of their own on any page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g, url_for

Figure = Callable[[], sa.ColumnElement[Any]]


@dataclass(frozen=True)
class NavCount:
    name: str
    label: str
    endpoint: str
    order: int
    figure: Figure


@dataclass(frozen=True)
class NavEntry:
    label: str
    url: str
    count: int


NAV_COUNTS: list[NavCount] = []


def nav_count(name: str, label: str, endpoint: str, order: int) -> Callable[[Figure], Figure]:
    def register(fn: Figure) -> Figure:
        if any(c.name == name for c in NAV_COUNTS):
            raise ValueError(f"navigation count {name!r} is registered twice")
        NAV_COUNTS.append(NavCount(name, label, endpoint, order, fn))
        NAV_COUNTS.sort(key=lambda c: c.order)
        return fn

    return register


def figure_columns() -> list[sa.Label[Any]]:
    """The columns the sign-in query adds, one per registered count, in order."""
    return [c.figure().label(f"nav_{c.name}") for c in NAV_COUNTS]


def remember(values: Sequence[Any]) -> None:
    """Keep this request's figures (in the order of `figure_columns`)."""
    g.nav_counts = {c.name: value for c, value in zip(NAV_COUNTS, values, strict=True)}


def entries() -> list[NavEntry]:
    """The registered entries shown to the signed-in person, with their counts."""
    counts: dict[str, Any] = g.get("nav_counts") or {}
    return [
        NavEntry(c.label, url_for(c.endpoint), int(counts[c.name]))
        for c in NAV_COUNTS
        if counts.get(c.name) is not None
    ]


# --- staff areas: one "Staff" entry in the navigation, leading to a page that lists every package's staff pages ---


@dataclass(frozen=True)
class StaffArea:
    label: str
    endpoint: str
    summary: str
    order: int


STAFF_AREAS: list[StaffArea] = []


def staff_area(label: str, endpoint: str, summary: str, order: int) -> None:
    """Register a package's staff page on the staff home page (`/staff`), in `order`."""
    if any(a.endpoint == endpoint for a in STAFF_AREAS):
        raise ValueError(f"staff area {endpoint!r} is registered twice")
    STAFF_AREAS.append(StaffArea(label, endpoint, summary, order))
    STAFF_AREAS.sort(key=lambda a: a.order)


def staff_areas() -> list[tuple[StaffArea, str]]:
    """Every registered staff area with its address, in order."""
    return [(area, url_for(area.endpoint)) for area in STAFF_AREAS]
