"""Things waiting on the dashboard from funding: staff see the opportunities members suggested, oldest first
(one query: the first few with the total counted alongside)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from foundation.bids.models import Funder, FundingOpportunity, OpportunityStatus
from foundation.members.models import User
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section


@todo_section("bids", order=35)
def bids_todo(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.user.is_staff:
        return []
    rows, total = first_rows(
        sa.select(FundingOpportunity.id, FundingOpportunity.programme, Funder.name, User.name)
        .join(Funder, Funder.id == FundingOpportunity.funder_id)
        .outerjoin(User, User.id == FundingOpportunity.suggested_by_id)
        .where(FundingOpportunity.status == OpportunityStatus.SUGGESTED)
        .order_by(FundingOpportunity.created_at, FundingOpportunity.id)
    )
    items = [
        TodoItem(
            f"{funder}: {programme}",
            url_for("bids.opportunity_review", opportunity_id=oid),
            detail=f"suggested by {who}" if who else "",
        )
        for oid, programme, funder, who in rows
    ]
    return [
        TodoGroup(
            Audience.STAFF,
            "Funding opportunities suggested by members",
            items,
            total,
            url_for("bids.staff_opportunities"),
            "All opportunities",
        )
    ]
