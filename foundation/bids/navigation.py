"""The navigation's "Funding" entry, for people in an approved member organisation and for staff, who see the
number of suggested opportunities waiting for them (their register, review and prospecting pages are linked from
the funding page). Read with the sign-in (foundation/navigation.py), so free on every page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.bids.models import FundingOpportunity, OpportunityStatus
from foundation.members.models import Membership, Organisation, OrganisationStatus, User
from foundation.navigation import nav_count


@nav_count("funding", "Funding", "bids.opportunities_list", order=30)
def funding_entry() -> sa.ColumnElement[Any]:
    in_member_org = (
        sa.select(Membership.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == User.id, Organisation.status == OrganisationStatus.APPROVED)
        .correlate(User)
        .exists()
    )
    waiting = (
        sa.select(sa.func.count(FundingOpportunity.id))
        .where(FundingOpportunity.status == OpportunityStatus.SUGGESTED)
        .scalar_subquery()
    )
    return sa.case((User.is_staff.is_(True), waiting), (in_member_org, 0), else_=sa.null())
