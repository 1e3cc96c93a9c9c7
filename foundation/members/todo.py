"""Things waiting on the dashboard from members: an organisation's vetting and documents; staff's vetting queue."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.members.documents import REMINDER_DAYS
from foundation.members.models import DocumentKind, Organisation, OrganisationStatus
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

REQUIRED = (DocumentKind.SAFEGUARDING_POLICY, DocumentKind.INSURANCE)


@todo_section("members", order=10)
def members_todo(viewer: Viewer) -> list[TodoGroup]:
    groups = [_vetting(viewer), _documents(viewer)]
    if viewer.user.is_staff:
        groups.append(_vetting_queue())
    return groups


def _vetting(viewer: Viewer) -> TodoGroup:
    items = []
    for org in viewer.organisations:
        url = url_for("members.organisation", org_id=org.id)
        if org.status is OrganisationStatus.CHANGES_REQUESTED:
            items.append(
                TodoItem(f"{org.name}: make the changes Foundation staff asked for", url, urgent=True)
            )
        elif org.status is OrganisationStatus.PENDING:
            items.append(TodoItem(f"{org.name}: waiting for vetting by Foundation staff", url))
    return TodoGroup(Audience.ORGANISATIONS, "Vetting", items, len(items))


def _documents(viewer: Viewer) -> TodoGroup:
    """Safeguarding policies and insurance missing, out of date, or running out within the first reminder."""
    soon = viewer.today + timedelta(days=max(REMINDER_DAYS))
    items = []
    for org in viewer.organisations:
        if org.status in (OrganisationStatus.REJECTED,):
            continue
        url = url_for("members.organisation", org_id=org.id, _anchor="documents")
        for kind in REQUIRED:
            doc = org.current_document(kind)
            if doc is None:
                items.append(TodoItem(f"{org.name}: upload the {kind.label.lower()}", url, urgent=True))
            elif doc.valid_until is not None and doc.valid_until <= soon:
                past = doc.valid_until < viewer.today
                word = "was due for review" if kind is DocumentKind.SAFEGUARDING_POLICY else "expired"
                if not past:
                    word = "is due for review" if kind is DocumentKind.SAFEGUARDING_POLICY else "expires"
                items.append(
                    TodoItem(
                        f"{org.name}: the {kind.label.lower()} {word} on {doc.valid_until:%-d %B %Y}",
                        url,
                        detail="Upload the new one",
                        urgent=past or doc.valid_until <= viewer.today + timedelta(days=min(REMINDER_DAYS)),
                    )
                )
    return TodoGroup(Audience.ORGANISATIONS, "Documents", items, len(items))


def _vetting_queue() -> TodoGroup:
    rows, total = first_rows(
        sa.select(Organisation.id, Organisation.name, Organisation.submitted_at)
        .where(Organisation.status == OrganisationStatus.PENDING)
        .order_by(Organisation.submitted_at, Organisation.id)
    )
    items = [
        TodoItem(
            f"Vet {name}",
            url_for("members.vetting_review", org_id=org_id),
            detail=f"sent {submitted_at:%-d %b %Y}" if submitted_at else "",
        )
        for org_id, name, submitted_at in rows
    ]
    return TodoGroup(
        Audience.STAFF,
        "Organisations waiting for vetting",
        items,
        total,
        url_for("members.vetting_queue"),
        "The vetting queue",
    )
