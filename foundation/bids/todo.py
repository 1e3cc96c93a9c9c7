"""Things waiting on the dashboard from funding: a person's open tasks on bids, invitations to bid together
waiting for an organisation's admins, the monitoring returns an organisation owes on a won bid (late, or due within
30 days), and for staff the bids waiting for sign-off, the opportunities members suggested and the late monitoring
returns, oldest first (one query each: the first few with the total counted alongside)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.bids.models import (
    AwardReportingDate,
    Bid,
    BidAward,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BidTask,
    Funder,
    FundingOpportunity,
    MonitoringReturn,
    OpportunityStatus,
)
from foundation.bids.monitoring import RETURNS_LISTED_AHEAD_DAYS, WON
from foundation.members.models import Organisation, User
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

ACTIVE = (
    BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF, BidStatus.SUBMITTED,
)  # fmt: skip


@todo_section("bids", order=35)
def bids_todo(viewer: Viewer) -> list[TodoGroup]:
    groups = _tasks(viewer) + _invitations(viewer) + _returns_due(viewer)
    if not viewer.user.is_staff:
        return groups
    return groups + _sign_off() + _suggestions() + _late_returns(viewer)


def _tasks(viewer: Viewer) -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(BidTask.bid_id, BidTask.title, BidTask.due, Bid.title)
        .join(Bid, Bid.id == BidTask.bid_id)
        .where(BidTask.owner_id == viewer.user.id, BidTask.done_at.is_(None), Bid.status.in_(ACTIVE))
        .order_by(BidTask.due, BidTask.id)
    )
    items = [
        TodoItem(
            title, url_for("bids.bid", bid_id=bid_id, _anchor="tasks"), detail=f"{bid}, due {due:%-d %b %Y}"
        )
        for bid_id, title, due, bid in rows
    ]
    return [
        TodoGroup(Audience.YOU, "Tasks on bids", items, total, url_for("bids.bids_list"), "All your bids")
    ]


def _invitations(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.admin_org_ids:
        return []
    rows, total = first_rows(
        sa.select(BidPartner.id, BidPartner.bid_id, Bid.title, Organisation.name)
        .join(Bid, Bid.id == BidPartner.bid_id)
        .join(Organisation, Organisation.id == BidPartner.organisation_id)
        .where(
            BidPartner.organisation_id.in_(viewer.admin_org_ids),
            BidPartner.status == BidPartnerStatus.INVITED,
            Bid.status.in_((BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING)),
        )
        .order_by(BidPartner.invited_at, BidPartner.id)
    )
    items = [
        TodoItem(
            title, url_for("bids.bid_invitation", bid_id=bid_id, bid_partner_id=pid), detail=f"invites {org}"
        )
        for pid, bid_id, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Invitations to bid together", items, total)]


def _sign_off() -> list[TodoGroup]:
    rows, total = first_rows(
        sa.select(Bid.id, Bid.title).where(Bid.status == BidStatus.SIGN_OFF).order_by(Bid.id)
    )
    items = [TodoItem(title, url_for("bids.bid", bid_id=bid_id, _anchor="next")) for bid_id, title in rows]
    return [
        TodoGroup(
            Audience.STAFF,
            "Bids waiting for internal sign-off",
            items,
            total,
            url_for("bids.bids_list", status=BidStatus.SIGN_OFF.value),
            "All bids at sign-off",
        )
    ]


def _suggestions() -> list[TodoGroup]:
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


def _returns(*where: sa.ColumnElement[bool]) -> sa.Select[tuple[int, int, date, str, str]]:
    """Unsubmitted monitoring returns of won bids: (return, award, due, bid title, partner name)."""
    return (
        sa.select(MonitoringReturn.id, BidAward.id, MonitoringReturn.due, Bid.title, Organisation.name)
        .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
        .join(BidAward, BidAward.id == AwardReportingDate.award_id)
        .join(Bid, Bid.id == BidAward.bid_id)
        .join(BidPartner, BidPartner.id == MonitoringReturn.partner_id)
        .join(Organisation, Organisation.id == BidPartner.organisation_id)
        .where(MonitoringReturn.submitted_at.is_(None), Bid.status.in_(WON), *where)
        .order_by(MonitoringReturn.due, MonitoringReturn.id)
    )


def _returns_due(viewer: Viewer) -> list[TodoGroup]:
    """The monitoring returns the person's organisations owe: late ones, and those due in the next 30 days."""
    if not viewer.org_ids:
        return []
    rows, total = first_rows(
        _returns(
            BidPartner.organisation_id.in_(viewer.org_ids),
            MonitoringReturn.due <= viewer.today + timedelta(days=RETURNS_LISTED_AHEAD_DAYS),
        )
    )
    items = [
        TodoItem(
            f"{org}: {title}",
            url_for("bids.monitoring_return", return_id=rid),
            detail=f"{'was due' if due < viewer.today else 'due'} {due:%-d %b %Y}",
            urgent=due <= viewer.today + timedelta(days=3),
        )
        for rid, _award, due, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Monitoring returns due", items, total)]


def _late_returns(viewer: Viewer) -> list[TodoGroup]:
    """For staff: returns past their due date, longest overdue first, each leading to its consolidated return."""
    rows, total = first_rows(
        _returns(MonitoringReturn.due < viewer.today).add_columns(MonitoringReturn.reporting_date_id)
    )
    items = [
        TodoItem(
            f"{org}: {title}",
            url_for(
                "bids.consolidated_return", award_id=award_id, reporting_date_id=reporting_id, _anchor="late"
            ),
            detail=f"was due {due:%-d %b %Y}",
            urgent=True,
        )
        for _rid, award_id, due, title, org, reporting_id in rows
    ]
    return [TodoGroup(Audience.STAFF, "Late monitoring returns", items, total)]
