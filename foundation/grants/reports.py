"""End-of-grant reports and their reminders.

The organisation writes the report once the grant is active (a draft can be saved), then submits it: what
happened, how many young people were reached, spend against the budget (a summary and the total spent). Any
underspend (award less spent, when positive) is to be returned. Staff then accept the report, or send it back
with a message (MORE_INFO_REQUESTED; the organisation edits and resubmits).

Accepting needs every instalment paid, so the grant's account is empty and an underspend is money that really
went out. When there is an underspend, staff confirm it was received: that posts UNDERSPEND_RETURN
(paid_out -> fund), and the grant is COMPLETED.

Reminders go 14 days before the due date and on it, to the organisation's members, while no report is
submitted. Each goes once: a GrantReminder row (unique per grant and kind) claims it, so concurrent runs cannot
both send. A late run still sends: once the due date has come, the due-date reminder goes (marking the 14-day
one as well if it never went). A report not submitted after its due date blocks new applications
(foundation.grants.standing.overdue_reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.grants import money
from foundation.grants.awards import london_today, pounds
from foundation.grants.models import Grant, GrantReminder, GrantReport, GrantStatus, ReportStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify_members, notify_staff
from foundation.reminders import ReminderSchedule, Window
from foundation.types import utcnow

REMIND_14_DAYS = "report_14_days"
REMIND_DUE = "report_due"
REMINDERS = ReminderSchedule(
    windows=(Window(14, REMIND_14_DAYS), Window(0, REMIND_DUE)),
    item_id=GrantReminder.grant_id,
    key=GrantReminder.kind,
)
MAX_TEXT_CHARS = 20_000
MAX_SPENT_PENCE = 100_000_000_00  # £100m: anything above is a typing slip


@dataclass(frozen=True)
class ReportInput:
    what_happened: str = ""
    young_people_reached: int | None = None
    spend_summary: str = ""
    spent_pence: int | None = None


def editable(report: GrantReport | None) -> bool:
    return report is None or report.status in (ReportStatus.DRAFT, ReportStatus.MORE_INFO_REQUESTED)


def underspend_of(grant: Grant, spent_pence: int | None) -> int:
    return max(grant.amount_pence - (spent_pence or 0), 0)


def save_report(grant: Grant, by: User, data: ReportInput, submit: bool) -> GrantReport:
    """Save the organisation's report as a draft, or submit it (every part required). Caller locked the grant."""
    if by.membership_of(grant.organisation_id) is None:
        raise NotAllowed("Only members of the organisation can write its end-of-grant report.")
    if grant.status is GrantStatus.OFFERED:
        raise IllegalTransition(
            "Accept the grant conditions first; the report comes at the end of the grant."
        )
    if grant.status.closed_early:
        raise IllegalTransition(_stopped_words(grant) + "; no end-of-grant report is needed.")
    report = grant.report
    if grant.status is GrantStatus.COMPLETED or not editable(report):
        status = report.status.label.lower() if report else "closed"
        raise IllegalTransition(f"The report is {status}; it can no longer be changed.")
    what_happened = (data.what_happened or "").strip()
    spend_summary = (data.spend_summary or "").strip()
    for name, text in (("what_happened", what_happened), ("spend_summary", spend_summary)):
        if len(text) > MAX_TEXT_CHARS:
            raise DomainError(f"Keep this under {MAX_TEXT_CHARS:,} characters.", field=name)
    if data.young_people_reached is not None and data.young_people_reached < 0:
        raise DomainError("Enter a number of young people, 0 or more.", field="young_people_reached")
    if data.spent_pence is not None and not 0 <= data.spent_pence <= MAX_SPENT_PENCE:
        raise DomainError("Enter the total spent, in pounds and pence.", field="spent")
    if submit:
        if not what_happened:
            raise DomainError("Say what happened in the project.", field="what_happened")
        if data.young_people_reached is None:
            raise DomainError("Enter how many young people took part.", field="young_people_reached")
        if not spend_summary:
            raise DomainError("Summarise the spending against the budget.", field="spend_summary")
        if data.spent_pence is None:
            raise DomainError("Enter the total spent on the project.", field="spent")
    if report is None:
        report = GrantReport(grant=grant, status=ReportStatus.DRAFT)
        db.session.add(report)
    resubmitted = report.status is ReportStatus.MORE_INFO_REQUESTED
    report.what_happened = what_happened
    report.young_people_reached = data.young_people_reached
    report.spend_summary = spend_summary
    report.spent_pence = data.spent_pence or 0
    report.underspend_pence = underspend_of(grant, data.spent_pence)
    if submit:
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = utcnow()
        report.submitted_by_id = by.id
    db.session.flush()
    if submit:
        _tell_staff(grant, report, resubmitted)
    return report


def request_more_info(grant: Grant, by: User, message: str) -> GrantReport:
    """Staff send a submitted report back with a message; the organisation edits and resubmits."""
    report = _submitted_report(grant)
    message = (message or "").strip()
    if not message:
        raise DomainError("Say what more information the organisation should give.", field="message")
    if len(message) > MAX_TEXT_CHARS:
        raise DomainError(f"Keep the message under {MAX_TEXT_CHARS:,} characters.", field="message")
    report.status = ReportStatus.MORE_INFO_REQUESTED
    report.staff_message = message
    report.reviewed_at = utcnow()
    report.reviewed_by_id = by.id
    db.session.flush()
    _tell_organisation(grant, "grant_report_more_info", f"More information needed for your end-of-grant report: "
                       f"{_reference(grant)}", report=report)  # fmt: skip
    return report


def accept_report(grant: Grant, by: User, underspend_received: bool, message: str = "") -> GrantReport:
    """Staff accept the report: the underspend (if any) is confirmed received and returned to the fund through
    the ledger, and the grant is completed. Caller locked the grant."""
    report = _submitted_report(grant)
    unpaid = [i for i in grant.instalments if i.paid_at is None]
    if unpaid:
        raise IllegalTransition(
            f"Record the {len(unpaid)} unpaid instalment{'s' if len(unpaid) != 1 else ''} before accepting the "
            "report (or change the schedule).",
        )
    underspend = report.underspend_pence
    if underspend > 0 and not underspend_received:
        raise DomainError(
            f"Confirm that the underspend of {pounds(underspend)} has been received before accepting the report.",
            field="underspend_received",
        )
    if underspend > 0:
        ledger.transfer(
            TransactionKind.UNDERSPEND_RETURN,
            f"Underspend returned by {grant.organisation.name} ({_reference(grant)})",
            ("grant", grant.id),
            ledger.account(ledger.PAID_OUT),
            ledger.account(ledger.FUND),
            underspend,
            by,
            tags=money.tags(grant.round, grant),
        )
    report.status = ReportStatus.ACCEPTED
    report.reviewed_at = utcnow()
    report.reviewed_by_id = by.id
    message = (message or "").strip()
    report.staff_message = message or None
    grant.status = GrantStatus.COMPLETED
    db.session.flush()
    _tell_organisation(
        grant,
        "grant_report_accepted",
        f"Your end-of-grant report is accepted: {_reference(grant)}",
        report=report,
    )
    return report


def _submitted_report(grant: Grant) -> GrantReport:
    report = grant.report
    if report is None or report.status is not ReportStatus.SUBMITTED:
        state = report.status.label.lower() if report else "not written yet"
        raise IllegalTransition(f"Only a submitted report can be reviewed; this one is {state}.")
    if grant.status.closed_early:
        raise IllegalTransition(_stopped_words(grant) + "; its report is no longer reviewed.")
    if grant.status is not GrantStatus.ACTIVE:
        raise IllegalTransition(f"This grant is {grant.status.label.lower()}.")
    return report


def _stopped_words(grant: Grant) -> str:
    return (
        "The offer of this grant was withdrawn"
        if grant.status is GrantStatus.WITHDRAWN
        else "This grant was ended early"
    )


def _reference(grant: Grant) -> str:
    return grant.application.reference or grant.application.project_title


def _tell_organisation(grant: Grant, template: str, subject: str, **context: object) -> int:
    link = url_for("grants.award_detail", grant_id=grant.id)
    return notify_members(
        grant.organisation, NotificationKind.GRANTS, subject[:200], template, link=link, grant=grant,
        org=grant.organisation, reference=_reference(grant), **context,
    )  # fmt: skip


def _tell_staff(grant: Grant, report: GrantReport, resubmitted: bool) -> None:
    link = url_for("grants.grant_manage", grant_id=grant.id, _anchor="report")
    verb = "resubmitted" if resubmitted else "submitted"
    notify_staff(
        NotificationKind.STAFF_QUEUE,
        f"End-of-grant report {verb}: {grant.organisation.name} ({_reference(grant)})"[:200],
        "grant_report_submitted",
        link=link,
        grant=grant,
        org=grant.organisation,
        report=report,
        reference=_reference(grant),
        verb=verb,
    )


# --- reminders -----------------------------------------------------------------------------------------------


def grants_awaiting_report(today: date) -> list[Grant]:
    """Active grants with no submitted report whose due date is at most 14 days away (or past)."""
    submitted = sa.select(GrantReport.grant_id).where(
        GrantReport.status.in_([ReportStatus.SUBMITTED, ReportStatus.ACCEPTED])
    )
    return list(
        db.session.scalars(
            sa.select(Grant)
            .where(
                Grant.status == GrantStatus.ACTIVE,
                Grant.report_due_on <= REMINDERS.horizon(today),
                Grant.id.not_in(submitted),
            )
            .order_by(Grant.report_due_on, Grant.id)
        )
    )


def send_report_reminders(today: date | None = None) -> int:
    """Send the reminders that are due; return how many grants were reminded. Needs a request context (links)."""
    today = today or london_today()
    return REMINDERS.send(grants_awaiting_report(today), today, lambda grant: grant.report_due_on, _remind)


def _remind(grant: Grant, days_left: int, kind: str) -> None:
    if days_left > 1:
        when = f"is due in {days_left} days"
    elif days_left == 1:
        when = "is due tomorrow"
    elif days_left == 0:
        when = "is due today"
    else:
        when = f"was due on {grant.report_due_on:%-d %b %Y}"
    _tell_organisation(
        grant,
        "grant_report_reminder",
        f"Your end-of-grant report {when}: {_reference(grant)}",
        when=when,
        reminder=kind,
        overdue=days_left < 0,
        draft=grant.report,
    )
