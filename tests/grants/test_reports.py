"""End-of-grant reports: written by the organisation, accepted or sent back by staff, underspend returned to the
fund; reminders 14 days before and on the due date, once each; an overdue report blocks new applications."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.grants import awards, money, reports
from foundation.grants import report_tasks as tasks
from foundation.grants.models import GrantReminder, GrantStatus, ReportStatus
from foundation.grants.reports import ReportInput
from foundation.grants.standing import overdue_reports
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.notifications.models import Notification, NotificationKind
from tests.conftest import link_in, text_of
from tests.factories import make_org, make_user
from tests.grants.factories import make_decided_grant

FULL_REPORT = ReportInput(
    what_happened="Twenty Friday sessions; the young people ran a festival in July.",
    young_people_reached=37,
    spend_summary="Youth worker hours £1,400 (planned £1,500); activities £1,100 (planned £1,500).",
    spent_pence=250_000,
)


pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def grant(db, staff, people, round_):
    """A £3,000 grant, accepted and paid in full."""
    org, admin, _ = people
    grant = make_decided_grant(
        round_, org, staff, amount_pence=300_000, accepted_by=admin, title="Youth theatre"
    )
    awards.record_payment(grant, grant.instalments[0].id, staff, "BACS 7788")
    db.session.commit()
    return grant


def submitted(db, grant, user, data: ReportInput = FULL_REPORT):
    report = reports.save_report(grant, user, data, submit=True)
    db.session.commit()
    return report


def test_a_draft_can_be_partial_but_submitting_needs_every_part(db, grant, people, staff, mailbox):
    _, _, member = people
    draft = reports.save_report(grant, member, ReportInput(what_happened="Half way"), submit=False)
    db.session.commit()
    assert draft.status is ReportStatus.DRAFT and draft.submitted_at is None
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.kind == NotificationKind.STAFF_QUEUE)) == 0  # fmt: skip

    for data, field in [
        (ReportInput(), "what_happened"),
        (ReportInput(what_happened="x"), "young_people_reached"),
        (ReportInput(what_happened="x", young_people_reached=3), "spend_summary"),
        (ReportInput(what_happened="x", young_people_reached=3, spend_summary="y"), "spent"),
    ]:
        with pytest.raises(DomainError) as exc:
            reports.save_report(grant, member, data, submit=True)
        assert exc.value.field == field
        db.session.rollback()

    report = submitted(db, grant, member)
    assert report.status is ReportStatus.SUBMITTED and report.submitted_by_id == member.id
    assert report.underspend_pence == 50_000  # £3,000 awarded, £2,500 spent
    msg = mailbox.last_to(staff.email)
    subject = msg["Subject"].strip()
    assert subject == f"End-of-grant report submitted: Devizes Youth Theatre ({grant.application.reference})"
    assert "£500 underspend to return" in text_of(msg)
    assert link_in(msg, "/staff/grants/grants/").startswith(f"/staff/grants/grants/{grant.id}")

    with pytest.raises(IllegalTransition, match="The report is submitted"):
        reports.save_report(grant, member, FULL_REPORT, submit=True)


def test_spending_more_than_the_award_leaves_no_underspend(db, grant, people):
    report = submitted(db, grant, people[1], ReportInput(**{**FULL_REPORT.__dict__, "spent_pence": 320_000}))
    assert report.underspend_pence == 0


def test_only_members_write_and_only_after_acceptance(db, staff, people, grant):
    org, admin, _ = people
    with pytest.raises(NotAllowed):
        reports.save_report(grant, staff, FULL_REPORT, submit=True)
    with pytest.raises(NotAllowed):
        reports.save_report(grant, make_user(), FULL_REPORT, submit=False)
    offered = make_decided_grant(grant.round, make_org(admin), staff, amount_pence=100_000)
    with pytest.raises(IllegalTransition, match="Accept the grant conditions first"):
        reports.save_report(offered, admin, FULL_REPORT, submit=True)


def test_staff_ask_for_more_and_the_organisation_resubmits(db, grant, people, staff, mailbox):
    _, admin, member = people
    submitted(db, grant, member)
    with pytest.raises(DomainError, match="Say what more information"):
        reports.request_more_info(grant, staff, "  ")

    reports.request_more_info(grant, staff, "Please add how the young people shaped the festival.")
    db.session.commit()
    report = grant.report
    assert report.status is ReportStatus.MORE_INFO_REQUESTED and report.reviewed_by_id == staff.id
    for person in (admin, member):
        msg = mailbox.last_to(person.email)
        assert msg["Subject"].strip().startswith("More information needed for your end-of-grant report")
        assert "Please add how the young people shaped the festival." in text_of(msg)
        assert link_in(msg, "/grants/awards/") == f"/grants/awards/{grant.id}"
    with pytest.raises(IllegalTransition, match="Only a submitted report can be reviewed"):
        reports.accept_report(grant, staff, underspend_received=True)

    edited = ReportInput(
        **{**FULL_REPORT.__dict__, "what_happened": FULL_REPORT.what_happened + " They chose it."}
    )
    submitted(db, grant, admin, edited)
    assert report.status is ReportStatus.SUBMITTED and report.what_happened.endswith("They chose it.")
    assert mailbox.last_to(staff.email)["Subject"].strip().startswith("End-of-grant report resubmitted")


def test_accepting_returns_the_confirmed_underspend_to_the_fund_and_completes_the_grant(
    db, grant, people, staff, mailbox
):
    _, admin, member = people
    submitted(db, grant, member)
    fund_before = money.fund_balance()

    with pytest.raises(DomainError) as exc:
        reports.accept_report(grant, staff, underspend_received=False)
    assert exc.value.field == "underspend_received"
    assert (
        exc.value.message
        == "Confirm that the underspend of £500 has been received before accepting the report."
    )
    db.session.rollback()
    assert grant.status is GrantStatus.ACTIVE

    reports.accept_report(grant, staff, underspend_received=True, message="Great work.")
    db.session.commit()
    assert grant.status is GrantStatus.COMPLETED and grant.report.status is ReportStatus.ACCEPTED
    assert grant.report.reviewed_by_id == staff.id
    assert money.fund_balance() == fund_before + 50_000
    assert ledger.balances([ledger.PAID_OUT])[ledger.PAID_OUT] == 250_000
    (ret,) = [
        t
        for t in ledger.entries_for(money.grant_tag(grant.id))
        if t.kind is TransactionKind.UNDERSPEND_RETURN
    ]
    assert {e.account.code: e.amount_pence for e in ret.entries} == {"paid_out": -50_000, "fund": 50_000}
    body = text_of(mailbox.last_to(admin.email))
    assert "The grant is now completed" in body and "£500 has been received" in body and "Great work." in body
    assert ledger.check_balanced() == []


def test_no_underspend_no_return_and_unpaid_instalments_block_acceptance(db, staff, people, round_):
    org, admin, member = people
    grant = make_decided_grant(round_, org, staff, amount_pence=200_000, accepted_by=admin)
    db.session.commit()
    submitted(db, grant, member, ReportInput(**{**FULL_REPORT.__dict__, "spent_pence": 200_000}))

    with pytest.raises(IllegalTransition, match="Record the 1 unpaid instalment before accepting"):
        reports.accept_report(grant, staff, underspend_received=False)
    db.session.rollback()
    awards.record_payment(grant, grant.instalments[0].id, staff, "BACS 1")
    reports.accept_report(grant, staff, underspend_received=False)
    db.session.commit()
    assert grant.status is GrantStatus.COMPLETED
    kinds = {t.kind for t in ledger.entries_for(money.grant_tag(grant.id))}
    assert kinds == {TransactionKind.AWARD, TransactionKind.PAYMENT}


# --- reminders -----------------------------------------------------------------------------------------------


def sweep(db, today) -> int:
    sent = reports.send_report_reminders(today)
    db.session.commit()
    return sent


def reminder_rows(db, grant) -> list[str]:
    return sorted(db.session.scalars(sa.select(GrantReminder.kind).where(GrantReminder.grant_id == grant.id)))


def test_reminders_14_days_before_and_on_the_due_date_each_once(db, grant, people, mailbox):
    _, admin, member = people
    due = grant.report_due_on
    assert sweep(db, due - timedelta(days=15)) == 0
    assert sweep(db, due - timedelta(days=14)) == 1
    msg = mailbox.last_to(member.email)
    assert (
        msg["Subject"].strip() == f"Your end-of-grant report is due in 14 days: {grant.application.reference}"
    )
    assert f"{due:%-d %b %Y}" in text_of(msg) and "Youth theatre" in text_of(msg)
    assert link_in(msg, "/grants/awards/") == f"/grants/awards/{grant.id}"
    assert len(mailbox.to(admin.email)) == 3  # the award, the payment, then this reminder

    assert sweep(db, due - timedelta(days=13)) == 0
    assert sweep(db, due - timedelta(days=1)) == 0
    assert sweep(db, due) == 1
    msg = mailbox.last_to(admin.email)
    assert msg["Subject"].strip() == f"Your end-of-grant report is due today: {grant.application.reference}"
    assert "cannot apply for new seed grants" in text_of(msg)
    assert sweep(db, due) == 0 and sweep(db, due + timedelta(days=3)) == 0
    assert reminder_rows(db, grant) == ["report_14_days", "report_due"]


def test_a_late_run_sends_one_reminder_and_marks_both(db, grant, people, mailbox):
    _, admin, _ = people
    before = len(mailbox.to(admin.email))
    assert sweep(db, grant.report_due_on + timedelta(days=2)) == 1
    assert len(mailbox.to(admin.email)) == before + 1
    assert "was due on" in mailbox.last_to(admin.email)["Subject"].strip()
    assert reminder_rows(db, grant) == ["report_14_days", "report_due"]


def test_no_reminder_once_the_report_is_submitted_or_for_offers_not_accepted(db, grant, people, staff):
    _, admin, member = people
    offered = make_decided_grant(grant.round, make_org(admin), staff, amount_pence=100_000)
    offered.report_due_on = grant.report_due_on
    submitted(db, grant, member)
    assert sweep(db, grant.report_due_on) == 0
    assert reminder_rows(db, grant) == [] and reminder_rows(db, offered) == []


def test_a_reminder_already_claimed_is_not_sent_again(db, grant, people, mailbox):
    """The unique (grant, kind) row is the last word: a run that finds it claimed sends nothing."""
    _, admin, _ = people
    db.session.add(GrantReminder(grant_id=grant.id, kind=reports.REMIND_14_DAYS))
    db.session.commit()
    before = len(mailbox.to(admin.email))
    assert sweep(db, grant.report_due_on - timedelta(days=10)) == 0
    assert len(mailbox.to(admin.email)) == before
    # A stale view of what was sent (a concurrent run) still cannot send twice.
    assert reports.REMINDERS.claim(grant.id, [reports.REMIND_14_DAYS]) is False


def test_the_task_and_the_command_send_the_reminders(app, db, grant, people, mailbox):
    _, admin, _ = people
    grant.report_due_on = awards.london_today() + timedelta(days=14)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["grants", "send-report-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 end-of-grant report reminder(s) sent." in result.output
    assert "due in 14 days" in mailbox.last_to(admin.email)["Subject"].strip()

    grant.report_due_on = awards.london_today()
    db.session.commit()
    assert tasks.send_report_reminders.delay() is not None  # eager without a broker
    assert "is due today" in mailbox.last_to(admin.email)["Subject"].strip()


def test_an_overdue_report_blocks_until_submitted(db, grant, people):
    org, _, member = people
    due = grant.report_due_on
    assert overdue_reports(org, due) == []
    assert overdue_reports(org, due + timedelta(days=1)) == [grant]
    reports.save_report(grant, member, FULL_REPORT, submit=False)
    assert overdue_reports(org, due + timedelta(days=1)) == [grant]  # a draft is not a report
    submitted(db, grant, member)
    assert overdue_reports(org, due + timedelta(days=1)) == []
