"""Grant-related reasons an organisation may not apply: an overdue end-of-grant report."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from foundation.extensions import db
from foundation.grants.models import Grant, GrantReport, GrantStatus, ReportStatus
from foundation.members.models import Organisation


def overdue_reports(org: Organisation, today: date) -> list[Grant]:
    """Active grants of the organisation whose end-of-grant report is past due and not yet submitted.

    A report sent back for more information counts as not submitted.
    """
    submitted = sa.select(GrantReport.grant_id).where(
        GrantReport.status.in_([ReportStatus.SUBMITTED, ReportStatus.ACCEPTED])
    )
    return list(
        db.session.scalars(
            sa.select(Grant)
            .where(
                Grant.organisation_id == org.id,
                Grant.status == GrantStatus.ACTIVE,
                Grant.report_due_on < today,
                Grant.id.not_in(submitted),
            )
            .order_by(Grant.report_due_on)
        )
    )
