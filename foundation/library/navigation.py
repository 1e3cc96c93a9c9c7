"""The navigation's "Library" entry, for everyone signed in (anyone may look through the titles); staff see the
number of resources waiting for their review. Read with the sign-in (foundation/navigation.py), so free on every
page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.library.models import LibraryResource
from foundation.library.services import waiting_clause
from foundation.members.models import User
from foundation.navigation import nav_count


@nav_count("library", "Library", "library.index", order=40)
def library_entry() -> sa.ColumnElement[Any]:
    waiting = sa.select(sa.func.count(LibraryResource.id)).where(waiting_clause()).scalar_subquery()
    return sa.case((User.is_staff.is_(True), waiting), else_=0)
