"""One page of a list that grows with history: the rows, where we are, and the way to the other pages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import request

from foundation.extensions import db

T = TypeVar("T")

PER_PAGE = 50
# Far beyond any real list, small enough that the offset never overflows a database integer.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        """The position of the first row shown (1-based), for "Showing 51 to 100 of 230"."""
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def page_number(name: str = "page") -> int:
    """The page asked for in the query string; anything that is not a sensible page number is page 1."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 6 and 0 < int(raw) <= MAX_PAGE else 1


def _page_bounds(stmt: sa.Select[Any], page: int, per_page: int) -> tuple[int, int]:
    """The total counted in SQL, and the page to show (a page past the end shows the last)."""
    total = int(
        db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )
    pages = max(1, math.ceil(total / per_page))
    return total, min(max(1, page), pages)


def paginate(stmt: sa.Select[Any], page: int, per_page: int = PER_PAGE) -> Page[Any]:
    """One page of a select's first column (its objects)."""
    total, page = _page_bounds(stmt, page, per_page)
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, page, per_page, total)


def paginate_rows(stmt: sa.Select[Any], page: int, per_page: int = PER_PAGE) -> Page[Any]:
    """One page of a select's rows (an object with the figures selected beside it)."""
    total, page = _page_bounds(stmt, page, per_page)
    rows = list(db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all())
    return Page(rows, page, per_page, total)
