"""Things waiting on the dashboard from seed grants.

Organisations: drafts to finish before their round closes, grant offers to accept, end-of-grant reports due or
overdue. Panel reviewers: assignments to declare and score. Staff: applications waiting for a decision, payments
due, reports overdue. Each group is one query (the first few rows with the total counted alongside).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.extensions import db
from foundation.grants.awards import pounds as pounds_text
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    Grant,
    GrantReport,
    GrantRound,
    GrantStatus,
    Instalment,
    ReportStatus,
    ReviewAssignment,
    RoundStatus,
)
from foundation.members.models import Organisation
from foundation.todo import ITEMS_SHOWN, Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section
from foundation.types import LONDON

REPORT_WARNING = timedelta(days=30)  # a report shows as due this long before its date
PAYMENT_WARNING = timedelta(days=7)  # an instalment shows as due this long before its date
URGENT = timedelta(days=3)


@todo_section("grants", order=20)
def grants_todo(viewer: Viewer) -> list[TodoGroup]:
    groups: list[TodoGroup] = []
    if viewer.organisations:
        groups += [_drafts(viewer), _offers(viewer), _reports_due(viewer)]
    if viewer.user.is_panel_reviewer:
        groups.append(_assignments(viewer))
    if viewer.user.is_staff:
        groups += [_awaiting_decision(), _payments_due(viewer), _reports_overdue(viewer)]
    return groups


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%-d %b %Y, %H:%M}"


def _drafts(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Application.id, Application.project_title, Application.status, GrantRound.closes_at)
        .join(GrantRound, GrantRound.id == Application.round_id)
        .where(
            Application.organisation_id.in_(viewer.org_ids),
            sa.or_(
                Application.status == ApplicationStatus.MORE_INFO_REQUESTED,
                sa.and_(
                    Application.status == ApplicationStatus.DRAFT,
                    GrantRound.status == RoundStatus.OPEN,
                    GrantRound.closes_at > viewer.now,
                ),
            ),
        )
        .order_by(GrantRound.closes_at, Application.id)
    )
    items = []
    for app_id, title, status, closes_at in rows:
        name = title or "Untitled application"
        url = url_for("grants.application", application_id=app_id)
        if status is ApplicationStatus.MORE_INFO_REQUESTED:
            items.append(TodoItem(f"{name}: staff asked for more information", url, urgent=True))
        else:
            items.append(
                TodoItem(
                    f"Finish and submit {name}",
                    url,
                    detail=f"the round closes {_when(closes_at)}",
                    urgent=closes_at - viewer.now <= URGENT,
                )
            )
    return TodoGroup(Audience.ORGANISATIONS, "Grant applications", items, total)


def _offers(viewer: Viewer) -> TodoGroup:
    if not viewer.admin_org_ids:
        return TodoGroup(Audience.ORGANISATIONS, "Grant offers", [])
    rows, total = first_rows(
        sa.select(Grant.id, Grant.amount_pence, Application.project_title)
        .join(Application, Application.id == Grant.application_id)
        .where(Grant.organisation_id.in_(viewer.admin_org_ids), Grant.status == GrantStatus.OFFERED)
        .order_by(Grant.created_at, Grant.id)
    )
    items = [
        TodoItem(
            f"Accept the grant of {pounds_text(amount)} for {title}",
            url_for("grants.award_detail", grant_id=grant_id),
            detail="read the conditions and accept them",
            urgent=True,
        )
        for grant_id, amount, title in rows
    ]
    return TodoGroup(Audience.ORGANISATIONS, "Grant offers", items, total)


def _report_missing() -> sa.ColumnElement[bool]:
    """No report yet, or one still being written or sent back for more."""
    return sa.or_(
        GrantReport.id.is_(None),
        GrantReport.status.in_([ReportStatus.DRAFT, ReportStatus.MORE_INFO_REQUESTED]),
    )


def _reports_due(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Grant.id, Grant.report_due_on, Application.project_title)
        .join(Application, Application.id == Grant.application_id)
        .outerjoin(GrantReport, GrantReport.grant_id == Grant.id)
        .where(
            Grant.organisation_id.in_(viewer.org_ids),
            Grant.status == GrantStatus.ACTIVE,
            Grant.report_due_on <= viewer.today + REPORT_WARNING,
            _report_missing(),
        )
        .order_by(Grant.report_due_on, Grant.id)
    )
    items = []
    for grant_id, due_on, title in rows:
        overdue = due_on < viewer.today
        items.append(
            TodoItem(
                f"End-of-grant report for {title}",
                url_for("grants.award_report", grant_id=grant_id),
                detail=f"{'overdue since' if overdue else 'due'} {due_on:%-d %b %Y}",
                urgent=overdue or due_on - viewer.today <= URGENT,
            )
        )
    return TodoGroup(Audience.ORGANISATIONS, "Reports", items, total)


def _assignments(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(
            ReviewAssignment.id,
            ReviewAssignment.conflict,
            Application.project_title,
            GrantRound.name,
            GrantRound.review_deadline,
        )
        .join(Application, Application.id == ReviewAssignment.application_id)
        .join(GrantRound, GrantRound.id == Application.round_id)
        .where(
            ReviewAssignment.reviewer_id == viewer.user.id,
            ReviewAssignment.submitted_at.is_(None),
            ReviewAssignment.conflict.in_([ConflictDeclaration.UNDECLARED, ConflictDeclaration.NONE]),
            GrantRound.status == RoundStatus.IN_REVIEW,
        )
        .order_by(
            GrantRound.review_deadline.asc().nulls_last(), ReviewAssignment.assigned_at, ReviewAssignment.id
        )
    )
    items = []
    for assignment_id, conflict, title, round_name, deadline in rows:
        undeclared = conflict is ConflictDeclaration.UNDECLARED
        due = f", due by {deadline:%-d %b %Y}" if deadline else ""
        items.append(
            TodoItem(
                f"{'Declare any conflict of interest, then score' if undeclared else 'Score'} "
                f"{title if not undeclared else 'an application'}",
                url_for("grants.review", assignment_id=assignment_id),
                detail=round_name + due,
                urgent=deadline is not None and (deadline - viewer.today).days <= 2,
            )
        )
    return TodoGroup(
        Audience.PANEL, "Reviews to do", items, total, url_for("grants.panel_home"), "All your reviews"
    )


def _awaiting_decision() -> TodoGroup:
    rows = db.session.execute(
        sa.select(GrantRound.id, GrantRound.name, sa.func.count(Application.id))
        .join(Application, Application.round_id == GrantRound.id)
        .where(GrantRound.status == RoundStatus.IN_REVIEW, Application.status == ApplicationStatus.SUBMITTED)
        .group_by(GrantRound.id, GrantRound.name)
        .order_by(GrantRound.id)
    ).all()
    items = [
        TodoItem(
            f"{count} application{'s' if count != 1 else ''} to decide in {name}",
            url_for("grants.ranking", round_id=round_id),
        )
        for round_id, name, count in rows[:ITEMS_SHOWN]
    ]
    return TodoGroup(Audience.STAFF, "Decisions", items, len(rows))


def _payments_due(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Instalment.grant_id, Instalment.due_on, Instalment.amount_pence, Organisation.name)
        .join(Grant, Grant.id == Instalment.grant_id)
        .join(Organisation, Organisation.id == Grant.organisation_id)
        .where(
            Instalment.paid_at.is_(None),
            Instalment.due_on <= viewer.today + PAYMENT_WARNING,
            Grant.status == GrantStatus.ACTIVE,
        )
        .order_by(Instalment.due_on, Instalment.id)
    )
    items = [
        TodoItem(
            f"Pay {pounds_text(amount)} to {org_name}",
            url_for("grants.grant_manage", grant_id=grant_id, _anchor="schedule"),
            detail=f"due {due_on:%-d %b %Y}",
            urgent=due_on < viewer.today,
        )
        for grant_id, due_on, amount, org_name in rows
    ]
    return TodoGroup(Audience.STAFF, "Payments due", items, total, url_for("grants.grant_list"), "All grants")


def _reports_overdue(viewer: Viewer) -> TodoGroup:
    rows, total = first_rows(
        sa.select(Grant.id, Grant.report_due_on, Organisation.name)
        .join(Organisation, Organisation.id == Grant.organisation_id)
        .outerjoin(GrantReport, GrantReport.grant_id == Grant.id)
        .where(Grant.status == GrantStatus.ACTIVE, Grant.report_due_on < viewer.today, _report_missing())
        .order_by(Grant.report_due_on, Grant.id)
    )
    items = [
        TodoItem(
            f"Chase the end-of-grant report from {org_name}",
            url_for("grants.grant_manage", grant_id=grant_id),
            detail=f"due {due_on:%-d %b %Y}",
            urgent=True,
        )
        for grant_id, due_on, org_name in rows
    ]
    return TodoGroup(Audience.STAFF, "Reports overdue", items, total)
