"""The pages: staff decide, set terms and schedules, record payments and review reports; organisations see the offer,
accept it (admins) and write the report. Applicants never see reviewers' names or scores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.grants import awards, decisions, money
from foundation.grants.models import (
    ApplicationStatus,
    ConflictDeclaration,
    Decision,
    Grant,
    GrantStatus,
    ReportStatus,
    ReviewAssignment,
    Score,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.types import utcnow
from tests.conftest import text_of
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application

REVIEWER_NAME = "Rowena Reviewerson"
REVIEW_COMMENT = "Weak on evidence of need, strong delivery team"


# For the services these tests call directly (their messages carry links); each request has its own.
pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def round_budget_pence() -> int:
    """£6,000: after a £4,000 award, too little is left for the £2,500 application."""
    return 600_000


@pytest.fixture
def application(db, round_, people):
    """A submitted application scored by a named reviewer with a comment."""
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=250_000, title="Calne café nights")
    reviewer = make_user(email="reviewer@example.org", name=REVIEWER_NAME, panel=True)
    assignment = ReviewAssignment(
        application_id=app.id,
        reviewer_id=reviewer.id,
        conflict=ConflictDeclaration.NONE,
        submitted_at=utcnow(),
    )
    db.session.add(assignment)
    db.session.flush()
    for criterion in round_.criteria:
        db.session.add(
            Score(assignment_id=assignment.id, criterion_id=criterion.id, score=4, comment=REVIEW_COMMENT)
        )
    decisions.ensure_default_decline_reasons()
    db.session.commit()
    return app


def decide_url(app) -> str:
    return f"/staff/grants/applications/{app.id}/decide"


def html(resp) -> str:
    return resp.get_data(as_text=True)


def field_error(page: str, field_id: str) -> str:
    """The error message shown at a field."""
    marker = f'id="{field_id}-error">'
    assert marker in page, f"no error at {field_id}"
    start = page.index(marker) + len(marker)
    return page[start : page.index("</p>", start)]


# --- deciding ------------------------------------------------------------------------------------------------


def test_staff_award_in_full_through_the_form(client, db, staff, people, application, round_, mailbox):
    org, admin, member = people
    login(client, staff)
    page = client.get(decide_url(application))
    assert page.status_code == 200
    assert "Calne café nights" in html(page) and "£6,000" in html(page)  # the round's remaining budget

    resp = client.post(decide_url(application), data={"outcome": "award_full", "feedback": "Well done."})
    assert resp.status_code == 302
    grant = db.session.scalar(sa.select(Grant))
    assert grant.amount_pence == 250_000 and grant.status is GrantStatus.OFFERED
    assert money.money_for(round_).remaining_pence == 350_000
    page = html(client.get(resp.headers["Location"]))
    assert "awarded in full. The organisation has been told." in page
    assert f"/staff/grants/grants/{grant.id}" in page
    for person in (admin, member):
        body = text_of(mailbox.last_to(person.email))
        assert "£2,500" in body and "Well done." in body
        assert REVIEWER_NAME not in body and REVIEW_COMMENT not in body


def test_award_part_is_typed_in_pounds(client, db, staff, application):
    login(client, staff)
    resp = client.post(decide_url(application), data={"outcome": "award_part", "amount": "£1,250.50"})
    assert resp.status_code == 302
    assert application.grant.amount_pence == 125_050
    assert application.decision.outcome.value == "award_part"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "outcome", "Choose award in full, award part or decline."),
        ({"outcome": "award_part"}, "amount", "Enter the amount to award."),
        (
            {"outcome": "award_part", "amount": "lots"},
            "amount",
            "Enter an amount in pounds and pence, e.g. 1,250.50.",
        ),
        (
            {"outcome": "award_part", "amount": "100"},
            "amount",
            "Awards in this round are between £500 and £5,000.",
        ),
        (
            {"outcome": "award_part", "amount": "2500"},
            "amount",
            "An award in part is less than the £2,500 requested",
        ),
        ({"outcome": "decline", "feedback": "Sorry"}, "decline_reason", "Choose the reason for declining."),
        ({"outcome": "decline"}, "feedback", "Write feedback for the applicant: it helps them apply again."),
    ],
)
def test_invalid_decisions_answer_422_at_the_field(client, db, staff, application, data, field, message):
    login(client, staff)
    resp = client.post(decide_url(application), data=data)
    assert resp.status_code == 422
    assert message in field_error(html(resp), field)
    assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0
    assert application.status is ApplicationStatus.SUBMITTED


def test_decline_with_reason_and_feedback(client, db, staff, people, application, mailbox):
    _, admin, _ = people
    login(client, staff)
    reason = decisions.active_decline_reasons()[0]
    resp = client.post(
        decide_url(application),
        data={"outcome": "decline", "decline_reason": str(reason.id), "feedback": "Try the spring round."},
    )
    assert resp.status_code == 302
    assert application.status is ApplicationStatus.DECLINED
    body = text_of(mailbox.last_to(admin.email))
    assert f"Reason: {reason.label}" in body and "Try the spring round." in body
    assert REVIEWER_NAME not in body and REVIEW_COMMENT not in body and "Gita Grants" not in body


def test_an_award_beyond_the_remaining_budget_answers_409(client, db, staff, round_, application):
    big = make_application(round_, make_org(make_user()), amount_pence=400_000)
    decisions.decide(big, staff, decisions.DecisionInput(decisions.DecisionOutcome.AWARD_FULL))
    db.session.commit()
    login(client, staff)
    resp = client.post(decide_url(application), data={"outcome": "award_full"})
    assert resp.status_code == 409
    assert field_error(html(resp), "amount") == (
        "This award would exceed the round&#39;s remaining budget: £2,000 is left and the award needs £2,500 more."
    )
    assert application.grant is None and application.status is ApplicationStatus.SUBMITTED


def test_only_staff_decide(client, db, people, application, round_):
    org, admin, _ = people
    assert client.get(decide_url(application)).status_code == 302  # to sign in
    login(client, admin)
    assert client.post(decide_url(application), data={"outcome": "award_full"}).status_code == 403
    client.post("/logout")
    login(client, make_user(panel=True))
    assert client.get(decide_url(application)).status_code == 403
    assert application.decision is None


def test_a_draft_is_not_there_to_decide(client, db, staff, round_):
    draft = make_application(round_, make_org(make_user()), status=ApplicationStatus.DRAFT)
    db.session.commit()
    login(client, staff)
    assert client.get(decide_url(draft)).status_code == 404
    assert client.get("/staff/grants/applications/99999/decide").status_code == 404


def test_after_acceptance_the_decide_page_says_why_not(client, db, staff, people, application):
    _, admin, _ = people
    decisions.decide(application, staff, decisions.DecisionInput(decisions.DecisionOutcome.AWARD_FULL))
    awards.accept_grant(application.grant, admin, awards.offer_fingerprint(application.grant))
    db.session.commit()
    login(client, staff)
    page = html(client.get(decide_url(application)))
    assert "the decision can no longer be changed" in page and "Record the decision" not in page
    resp = client.post(decide_url(application), data={"outcome": "award_part", "amount": "1000"})
    assert resp.status_code == 409


# --- the organisation's pages --------------------------------------------------------------------------------


@pytest.fixture
def offered(db, staff, application):
    decisions.decide(application, staff, decisions.DecisionInput(decisions.DecisionOutcome.AWARD_FULL))
    db.session.commit()
    return application.grant


def test_members_see_the_offer_without_reviewers_names_or_scores(client, db, people, offered):
    _, _, member = people
    login(client, member)
    resp = client.get(f"/grants/awards/{offered.id}")
    assert resp.status_code == 200
    page = html(resp)
    assert "£2,500" in page and "The grant is spent only on the project" in page
    assert (
        "An admin of Devizes Youth Theatre accepts the conditions" in page
        and "Accept the conditions" not in page
    )
    for secret in (REVIEWER_NAME, REVIEW_COMMENT, "reviewer@example.org", "Gita Grants"):
        assert secret not in page
    listing = html(client.get("/grants/awards"))
    assert f"/grants/awards/{offered.id}" in listing and "Calne café nights" in listing
    report_page = html(client.get(f"/grants/awards/{offered.id}/report"))
    assert REVIEWER_NAME not in report_page and REVIEW_COMMENT not in report_page


def test_other_organisations_get_404_and_staff_may_look(client, db, staff, offered):
    outsider = make_user()
    make_org(outsider)
    db.session.commit()
    login(client, outsider)
    assert client.get(f"/grants/awards/{offered.id}").status_code == 404
    assert client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y"}).status_code == 404
    assert client.get(f"/grants/awards/{offered.id}/report").status_code == 404
    assert f"/grants/awards/{offered.id}" not in html(client.get("/grants/awards"))
    client.post("/logout")
    login(client, staff)
    assert client.get(f"/grants/awards/{offered.id}").status_code == 200
    assert client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y"}).status_code == 403
    assert client.get(f"/grants/awards/{offered.id}").status_code == 200
    assert offered.status is GrantStatus.OFFERED


def test_an_admin_accepts_the_conditions_online(client, db, people, offered):
    _, admin, member = people
    login(client, member)
    offer = awards.offer_fingerprint(offered)
    assert (
        client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y", "offer": offer}).status_code
        == 403
    )
    client.post("/logout")

    login(client, admin)
    page = html(client.get(f"/grants/awards/{offered.id}"))
    assert f'value="{offer}"' in page and "Accept the conditions" in page
    resp = client.post(f"/grants/awards/{offered.id}/accept", data={"offer": offer})
    assert resp.status_code == 422
    assert field_error(html(resp), "confirm") == "Tick the box to accept the conditions."
    assert offered.status is GrantStatus.OFFERED

    resp = client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y", "offer": offer})
    assert resp.status_code == 302
    assert offered.status is GrantStatus.ACTIVE and offered.accepted_by_id == admin.id
    page = html(client.get(resp.headers["Location"]))
    assert "the grant conditions are accepted" in page and "Lee Lead" in page

    again = client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y", "offer": offer})
    assert again.status_code == 409 and "already accepted" in html(again)


def test_an_offer_changed_while_reading_is_refused_with_409(client, db, staff, people, offered):
    _, admin, _ = people
    stale = awards.offer_fingerprint(offered)
    awards.set_terms(offered, staff, offered.conditions + "\n7. Send us a photo.", offered.report_due_on)
    db.session.commit()
    login(client, admin)
    resp = client.post(f"/grants/awards/{offered.id}/accept", data={"confirm": "y", "offer": stale})
    assert resp.status_code == 409
    assert "The offer has changed since you opened it" in field_error(html(resp), "confirm")
    assert "7. Send us a photo." in html(resp)
    assert offered.status is GrantStatus.OFFERED


# --- staff: the grant page -----------------------------------------------------------------------------------


def test_staff_set_conditions_and_the_report_date(client, db, staff, offered):
    login(client, staff)
    url = f"/staff/grants/grants/{offered.id}/terms"
    later = offered.report_due_on + timedelta(days=14)
    resp = client.post(url, data={"conditions": "Spend it well.", "report_due_on": later.isoformat()})
    assert resp.status_code == 302
    assert offered.conditions == "Spend it well." and offered.report_due_on == later

    past = (awards.london_today() - timedelta(days=1)).isoformat()
    resp = client.post(url, data={"conditions": "Spend it well.", "report_due_on": past})
    assert resp.status_code == 422
    assert field_error(html(resp), "report_due_on") == "The report due date cannot be in the past."
    resp = client.post(url, data={"conditions": "  ", "report_due_on": later.isoformat()})
    assert resp.status_code == 422 and field_error(html(resp), "conditions") == "Enter the grant conditions."
    assert offered.conditions == "Spend it well."


def test_staff_split_the_schedule_and_record_payments(client, db, staff, people, offered):
    _, admin, _ = people
    login(client, staff)
    d1, d2 = date.today() + timedelta(days=7), date.today() + timedelta(days=120)
    url = f"/staff/grants/grants/{offered.id}/schedule"
    bad = {
        "instalments-0-due_on": d1.isoformat(),
        "instalments-0-amount": "1,500",
        "instalments-1-due_on": d2.isoformat(),
        "instalments-1-amount": "500",
        "instalments-2-due_on": "",
        "instalments-2-amount": "",
    }
    resp = client.post(url, data=bad)
    assert resp.status_code == 422
    assert "The instalments add up to £2,000; they must add up to the award of £2,500." in html(resp)
    resp = client.post(url, data={**bad, "instalments-1-amount": "", "instalments-1-due_on": d2.isoformat()})
    assert resp.status_code == 422 and "Enter the amount of this instalment." in html(resp)

    assert client.post(url, data={**bad, "instalments-1-amount": "1,000.00"}).status_code == 302
    first, second = offered.instalments
    assert (first.due_on, first.amount_pence, second.amount_pence) == (d1, 150_000, 100_000)

    pay = f"/staff/grants/grants/{offered.id}/instalments/{first.id}/pay"
    resp = client.post(pay, data={f"pay{first.id}-reference": "BACS 42"})
    assert resp.status_code == 409
    assert "only after the organisation accepts" in html(resp)
    awards.accept_grant(offered, admin, awards.offer_fingerprint(offered))
    db.session.commit()

    resp = client.post(pay, data={f"pay{first.id}-reference": ""})
    assert resp.status_code == 422
    assert field_error(html(resp), f"pay{first.id}-reference").startswith("Enter the payment reference")
    assert client.post(pay, data={f"pay{first.id}-reference": "BACS 42"}).status_code == 302
    assert first.payment_reference == "BACS 42" and first.paid_by_id == staff.id
    again = client.post(pay, data={f"pay{first.id}-reference": "BACS 43"})
    assert again.status_code == 409 and "already paid on" in html(again)
    payments = [
        t for t in ledger.entries_for(money.grant_tag(offered.id)) if t.kind is TransactionKind.PAYMENT
    ]
    assert len(payments) == 1
    assert client.post(f"/staff/grants/grants/{offered.id}/instalments/99999/pay", data={}).status_code == 404

    page = html(client.get(f"/staff/grants/grants/{offered.id}"))
    assert "BACS 42" in page and "Payment" in page


def test_the_grant_list_is_for_staff(client, db, staff, people, offered):
    _, admin, _ = people
    login(client, admin)
    assert client.get("/staff/grants/grants").status_code == 403
    assert client.get(f"/staff/grants/grants/{offered.id}").status_code == 403
    client.post("/logout")
    login(client, staff)
    page = html(client.get("/staff/grants/grants?status=offered"))
    assert offered.application.reference in page and "Devizes Youth Theatre" in page
    assert offered.application.reference not in html(client.get("/staff/grants/grants?status=active"))


# --- the report ----------------------------------------------------------------------------------------------


def test_the_report_from_draft_to_completed(client, db, staff, people, offered, mailbox):
    org, admin, member = people
    awards.accept_grant(offered, admin, awards.offer_fingerprint(offered))
    awards.record_payment(offered, offered.instalments[0].id, staff, "BACS 9")
    db.session.commit()
    url = f"/grants/awards/{offered.id}/report"

    login(client, member)
    assert client.post(url, data={"action": "save", "what_happened": "Started well."}).status_code == 302
    assert offered.report.status is ReportStatus.DRAFT
    assert "Started well." in html(client.get(url))

    resp = client.post(url, data={"action": "submit", "what_happened": "Started well.", "spent": "x"})
    assert resp.status_code == 422
    page = html(resp)
    assert field_error(page, "young_people_reached") == "Enter how many young people took part."
    assert field_error(page, "spend_summary") == "Summarise the spending against the budget."
    assert field_error(page, "spent") == "Enter an amount in pounds and pence, e.g. 1,250.50."

    full = {
        "action": "submit",
        "what_happened": "Thirty café nights.",
        "young_people_reached": "52",
        "spend_summary": "Staff £1,200; food £900.",
        "spent": "2,100",
    }
    assert client.post(url, data=full).status_code == 302
    assert offered.report.status is ReportStatus.SUBMITTED and offered.report.underspend_pence == 40_000
    client.post("/logout")

    login(client, staff)
    review = f"/staff/grants/grants/{offered.id}/report/review"
    page = html(client.get(f"/staff/grants/grants/{offered.id}"))
    assert "Thirty café nights." in page and "£400" in page
    resp = client.post(review, data={"action": "more_info"})
    assert resp.status_code == 422 and "Say what more information" in field_error(html(resp), "message")
    resp = client.post(review, data={"action": "more_info", "message": "Which young people ran the nights?"})
    assert resp.status_code == 302 and offered.report.status is ReportStatus.MORE_INFO_REQUESTED
    client.post("/logout")

    login(client, admin)
    page = html(client.get(url))
    assert "Which young people ran the nights?" in page and "Thirty café nights." in page
    assert (
        client.post(url, data={**full, "what_happened": "Thirty nights, run by Year 10s."}).status_code == 302
    )
    client.post("/logout")

    login(client, staff)
    resp = client.post(review, data={"action": "accept"})
    assert resp.status_code == 422
    assert "underspend of £400 has been received" in field_error(html(resp), "underspend_received")
    resp = client.post(review, data={"action": "accept", "underspend_received": "y", "message": "Thank you!"})
    assert resp.status_code == 302
    assert offered.status is GrantStatus.COMPLETED and offered.report.status is ReportStatus.ACCEPTED
    returns = [
        t
        for t in ledger.entries_for(money.grant_tag(offered.id))
        if t.kind is TransactionKind.UNDERSPEND_RETURN
    ]
    assert len(returns) == 1
    assert "Thank you!" in text_of(mailbox.last_to(member.email))
    client.post("/logout")

    login(client, member)
    assert "Report accepted: this grant is completed." in html(client.get(f"/grants/awards/{offered.id}"))
    resp = client.post(url, data=full)
    assert resp.status_code == 409


def test_the_report_page_shows_overdue_and_blocks_non_members(client, db, staff, people, offered):
    _, admin, _ = people
    awards.accept_grant(offered, admin, awards.offer_fingerprint(offered))
    offered.report_due_on = awards.london_today() - timedelta(days=1)
    db.session.commit()
    login(client, admin)
    page = html(client.get(f"/grants/awards/{offered.id}"))
    assert "Overdue" in page and "cannot apply for new grants until it is submitted" in page
    client.post("/logout")
    login(client, staff)
    assert client.get(f"/grants/awards/{offered.id}/report").status_code == 200
    resp = client.post(f"/grants/awards/{offered.id}/report", data={"action": "save", "what_happened": "x"})
    assert resp.status_code == 403
    assert offered.report is None
