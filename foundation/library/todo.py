"""The dashboard's library items: for staff, the resources waiting for review, oldest first (one query: the first
few with the total counted alongside)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from foundation.library.models import LibraryResource
from foundation.library.services import waiting_clause
from foundation.members.models import Organisation
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section


@todo_section("library", order=60)
def library_todo(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.user.is_staff:
        return []
    rows, total = first_rows(
        sa.select(LibraryResource.id, LibraryResource.title, Organisation.name)
        .join(Organisation, Organisation.id == LibraryResource.organisation_id)
        .where(waiting_clause())
        .order_by(
            sa.func.coalesce(LibraryResource.updated_at, LibraryResource.created_at), LibraryResource.id
        )
    )
    items = [
        TodoItem(title, url_for("library.review", resource_id=rid), detail=f"shared by {org}")
        for rid, title, org in rows
    ]
    return [
        TodoGroup(
            Audience.STAFF,
            "Library resources waiting for review",
            items,
            total,
            url_for("library.review_queue"),
            "All waiting for review",
        )
    ]
