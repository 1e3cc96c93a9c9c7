"""Applying through the pages: starting, saving drafts (budget lines, answers), submitting and each refusal,
references, locking, withdrawing, staff sending back and accepting late, edit conflicts, and who may see what."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.grants.models import (
    Answer,
    Application,
    ApplicationAction,
    ApplicationEvent,
    ApplicationStatus,
    ReviewAssignment,
    RoundStatus,
    Score,
)
from foundation.members.models import DocumentKind
from foundation.types import utcnow
from tests.conftest import link_in, text_of
from tests.factories import add_document, add_member, login, make_org, make_user
from tests.grants.factories import make_application, make_awarded_grant, make_round

DRAFT, SUBMITTED = ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED


@pytest.fixture
def round_(db):
    """Applications go to an open round."""
    return make_round(name="Spring seed grants", min_award_pence=50_000, max_award_pence=500_000)


def page(resp) -> str:
    return resp.get_data(as_text=True)


def form_data(round_, version, **changes):
    """Everything a complete application needs, as the edit form posts it."""
    data = {
        "version": str(version),
        "project_title": "Calne Night Kitchen",
        "summary": "Cooking evenings run by and for young people.",
        "description": "Weekly sessions in the community kitchen with a youth worker and a chef.",
        "towns": ["Calne", "Chippenham"],
        "young_people_count": "30",
        "age_min": "13",
        "age_max": "19",
        "starts_on": (date.today() + timedelta(days=90)).isoformat(),
        "ends_on": (date.today() + timedelta(days=300)).isoformat(),
        "amount_requested": "2,000.00",
        "budget_lines-0-item": "Youth worker",
        "budget_lines-0-cost": "1,500",
        "budget_lines-1-item": "",
        "budget_lines-1-cost": "",
        "budget_lines-2-item": "Ingredients",
        "budget_lines-2-cost": "£500.00",
        "outcomes": "Young people learn to cook on a budget.",
        "partners": "Calne Community Kitchen",
    }
    for q in round_.questions:
        data[f"answer_{q.id}"] = "They plan the menu and run the evenings."
    data.update(changes)
    return data


def draft(round_, org, ada, **kwargs):
    """A complete draft, question answered."""
    app = make_application(round_, org, by=ada, status=DRAFT, **kwargs)
    for q in round_.questions:
        app.answers.append(Answer(question_id=q.id, text="Young people lead it."))
    return app


def fresh(db, app):
    db.session.expire_all()
    return db.session.get(Application, app.id)


# --- starting --------------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, db, round_, org, ada):
    app = draft(round_, org, ada)
    for path in (
        f"/grants/rounds/{round_.id}/apply",
        f"/grants/applications/{app.id}",
        f"/organisations/{org.id}/applications",
        "/staff/grants/applications",
    ):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    resp = client.post(f"/grants/applications/{app.id}/submit", data={"version": "1"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_member_starts_an_application_and_lands_on_the_form(client, db, round_, org, ada):
    login(client, ada)
    start = page(client.get(f"/grants/rounds/{round_.id}/apply"))
    assert "You are applying for <strong>Calne Youth Forum</strong>" in start
    resp = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": str(org.id)})
    assert resp.status_code == 303
    app = db.session.scalar(sa.select(Application))
    assert resp.headers["Location"].endswith(f"/grants/applications/{app.id}")
    assert app.status is DRAFT and app.organisation_id == org.id
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert "Save draft" in body and "Submit application" in body and "£500 to £5,000" in body


def test_someone_in_several_organisations_chooses_which_applies(client, db, round_, org, ada):
    second = make_org(ada, name="Devizes Skate Club", town="Devizes")
    login(client, ada)
    start = page(client.get(f"/grants/rounds/{round_.id}/apply"))
    assert re.search(r'<select [^>]*id="organisation_id"', start) and "Devizes Skate Club" in start
    resp = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": str(second.id)})
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(Application.organisation_id)) == second.id


def test_a_second_application_is_refused_up_front_with_a_link_to_the_first(client, db, round_, org, ada):
    existing = draft(round_, org, ada)
    login(client, ada)
    start = page(client.get(f"/grants/rounds/{round_.id}/apply"))
    assert "Calne Youth Forum already has an application in this round" in start
    assert f'href="/grants/applications/{existing.id}"' in start
    assert "Start an application" not in start
    resp = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": str(org.id)})
    assert resp.status_code == 409
    assert "Each organisation may apply once per round" in page(resp)
    assert f'href="/grants/applications/{existing.id}"' in page(resp)
    assert db.session.scalar(sa.select(sa.func.count(Application.id))) == 1


def test_no_one_can_start_an_application_for_an_organisation_they_do_not_belong_to(client, db, round_, org):
    outsider = make_user()
    make_org(outsider, name="Outsider Group")
    login(client, outsider)
    resp = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": str(org.id)})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Application.id))) == 0


def test_a_closed_round_offers_no_start_button(client, db, org, ada):
    closed = make_round(status=RoundStatus.CLOSED)
    login(client, ada)
    body = page(client.get(f"/grants/rounds/{closed.id}/apply"))
    assert "This round is not open for applications" in body and "Start an application" not in body
    resp = client.post(f"/grants/rounds/{closed.id}/apply", data={"organisation_id": str(org.id)})
    assert resp.status_code == 409
    draft_round = make_round(status=RoundStatus.DRAFT, budget_pence=None)
    assert client.get(f"/grants/rounds/{draft_round.id}/apply").status_code == 404


# --- saving drafts ---------------------------------------------------------------------------------------------


def test_a_partial_draft_saves_and_shows_again(client, db, round_, org, ada):
    app = make_application(round_, org, by=ada, status=DRAFT, title="Old title")
    login(client, ada)
    resp = client.post(
        f"/grants/applications/{app.id}",
        data={"version": str(app.version), "project_title": "Calne Night Kitchen", "towns": ["Calne"]},
    )
    assert resp.status_code == 303
    saved = fresh(db, app)
    assert saved.project_title == "Calne Night Kitchen" and saved.towns == ["Calne"] and saved.status is DRAFT
    assert saved.budget_lines == [], "empty rows are ignored, and the old lines replaced"
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert 'value="Calne Night Kitchen"' in body and "Draft saved." in body


def test_budget_lines_and_answers_are_saved_from_the_form(client, db, round_, org, ada):
    app = make_application(round_, org, by=ada, status=DRAFT)
    login(client, ada)
    resp = client.post(f"/grants/applications/{app.id}", data=form_data(round_, app.version))
    assert resp.status_code == 303
    saved = fresh(db, app)
    assert [(b.item, b.cost_pence) for b in saved.budget_lines] == [
        ("Youth worker", 150_000),
        ("Ingredients", 50_000),
    ]
    assert saved.amount_requested_pence == 200_000
    assert [a.text for a in saved.answers] == ["They plan the menu and run the evenings."]
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert 'value="Youth worker"' in body and 'value="1500.00"' in body
    assert "They plan the menu and run the evenings." in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"budget_lines-1-item": "Venue hire"}, "Enter the cost of this item."),
        ({"budget_lines-1-cost": "40"}, "Say what this cost is for."),
        ({"budget_lines-0-cost": "12.345"}, "Enter an amount in pounds and pence, e.g. 1,250.50."),
        ({"amount_requested": "-20"}, "An amount cannot be below zero."),
        ({"age_min": "18", "age_max": "12"}, "The oldest age must be at least the youngest age."),
        ({"ends_on": date.today().isoformat()}, "The end date must be on or after the start date."),
    ],
)
def test_a_draft_with_a_wrong_value_is_not_saved_and_says_why(client, db, round_, org, ada, changes, message):
    app = make_application(round_, org, by=ada, status=DRAFT, title="Untouched")
    login(client, ada)
    resp = client.post(f"/grants/applications/{app.id}", data=form_data(round_, app.version, **changes))
    assert resp.status_code == 422
    assert message in page(resp)
    assert 'value="Calne Night Kitchen"' in page(resp), "what was typed is shown again"
    assert fresh(db, app).project_title == "Untouched"


def test_a_save_over_someone_elses_newer_changes_is_refused_with_409(client, app, db, round_, org, ada):
    colleague = make_user(email="cal@example.org", name="Cal Colleague")
    add_member(org, colleague)
    application = make_application(round_, org, by=ada, status=DRAFT, title="First title")
    db.session.commit()
    loaded_at = application.version
    other = app.test_client()
    login(client, ada)
    login(other, colleague)
    form_page = page(client.get(f"/grants/applications/{application.id}"))
    assert re.search(rf'name="version" type="hidden" value="{loaded_at}"', form_page)

    assert (
        other.post(
            f"/grants/applications/{application.id}",
            data=form_data(round_, loaded_at, project_title="Colleague's title"),
        ).status_code
        == 303
    )
    resp = client.post(
        f"/grants/applications/{application.id}",
        data=form_data(round_, loaded_at, project_title="Ada's careful title"),
    )
    assert resp.status_code == 409
    body = page(resp)
    assert "Someone else saved changes to this application" in body and "reload the page" in body
    assert 'value="Ada\'s careful title"' in body or "Ada&#39;s careful title" in body, (
        "nothing typed is lost"
    )
    assert fresh(db, application).project_title == "Colleague's title"
    # Submitting from the stale form is refused the same way.
    resp = client.post(f"/grants/applications/{application.id}/submit", data=form_data(round_, loaded_at))
    assert resp.status_code == 409 and fresh(db, application).status is DRAFT


# --- submitting ------------------------------------------------------------------------------------------------


def test_submitting_gives_a_reference_locks_the_application_and_tells_staff(
    client, db, round_, org, ada, staff, mailbox
):
    app = make_application(round_, org, by=ada, status=DRAFT)
    login(client, ada)
    resp = client.post(f"/grants/applications/{app.id}/submit", data=form_data(round_, app.version))
    assert resp.status_code == 303
    saved = fresh(db, app)
    assert re.fullmatch(rf"WYPF-{round_.opens_at.year}-{round_.code}-0001", saved.reference)
    assert saved.status is SUBMITTED and saved.project_title == "Calne Night Kitchen"
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert f"Application submitted. Its reference is {saved.reference}." in body
    assert "Save draft" not in body and "can no longer be changed" in body

    mail = mailbox.last_to("grants@wypf.org.uk")
    assert saved.reference in mail["Subject"] and "Calne Youth Forum" in text_of(mail)
    assert link_in(mail, "/grants/applications/") == f"/grants/applications/{app.id}"

    resp = client.post(
        f"/grants/applications/{app.id}", data=form_data(round_, saved.version, project_title="Sneaky")
    )
    assert resp.status_code == 409 and "can no longer be changed" in page(resp)
    assert fresh(db, app).project_title == "Calne Night Kitchen"


def test_an_empty_draft_lists_every_missing_thing_and_keeps_what_was_typed(client, db, round_, org, ada):
    app = make_application(round_, org, by=ada, status=DRAFT)
    login(client, ada)
    data = {"version": str(app.version), "project_title": "Only a title"}
    resp = client.post(f"/grants/applications/{app.id}/submit", data=data)
    assert resp.status_code == 422
    body = page(resp)
    assert "Your changes are saved, but the application was not submitted" in body
    for message in (
        "Write a short summary of the project.",
        "Describe the project.",
        "Choose the towns the project serves.",
        "Say how many young people will take part.",
        "Give the age of the youngest young people.",
        "Give the date the project starts.",
        "Enter the amount you are asking for.",
        "Add the budget: at least one item and its cost.",
        "Describe the outcomes you expect for young people.",
        f"Answer the question \u201c{round_.questions[0].prompt}\u201d.",
    ):
        assert message.replace("\u201c", "&#8220;") in body or message in body, message
    saved = fresh(db, app)
    assert saved.project_title == "Only a title" and saved.reference is None and saved.status is DRAFT


def _expired_insurance(db, round_, org):
    add_document(org, DocumentKind.INSURANCE, date.today() - timedelta(days=2))
    return "Calne Youth Forum is not in good standing: The public liability insurance expired on"


def _overdue_report(db, round_, org):
    grant = make_awarded_grant(make_round(status=RoundStatus.DECIDED), org)
    grant.report_due_on = date.today() - timedelta(days=10)
    return f"The end-of-grant report for {grant.application.reference} was due on"


def _round_closed(db, round_, org):
    round_.closes_at = utcnow() - timedelta(minutes=1)
    return "This round closed for applications on"


def _round_status_closed(db, round_, org):
    round_.status = RoundStatus.CLOSED
    return "This round is not open for applications (it is closed)."


def test_a_refused_submission_can_be_completed_and_submitted_from_the_page_it_shows(
    client, db, round_, org, ada
):
    """The refused submit saved the draft (a new version): the page it shows carries that version, so the
    applicant fills in what was missing and submits without being told someone else changed it."""
    app = make_application(round_, org, by=ada, status=DRAFT)
    login(client, ada)
    resp = client.post(
        f"/grants/applications/{app.id}/submit", data=form_data(round_, app.version, summary="")
    )
    assert resp.status_code == 422
    shown = re.search(
        r'name="version" type="hidden" value="(\d+)"|value="(\d+)"[^>]*name="version"', page(resp)
    )
    assert shown, "the page carries the version it was built from"
    version = shown.group(1) or shown.group(2)
    assert int(version) == fresh(db, app).version

    resp = client.post(f"/grants/applications/{app.id}/submit", data=form_data(round_, version))

    assert resp.status_code == 303
    saved = fresh(db, app)
    assert saved.status is SUBMITTED and saved.summary.startswith("Cooking evenings")


@pytest.mark.parametrize(
    ("setup", "changes", "message"),
    [
        (_expired_insurance, {}, None),
        (_overdue_report, {}, None),
        (_round_closed, {}, None),
        (_round_status_closed, {}, None),
        (None, {"amount_requested": "6,000", "budget_lines-0-cost": "5,500"}, "This round awards at most £5,000"),
        (None, {"amount_requested": "400", "budget_lines-0-cost": "0", "budget_lines-2-cost": "400"},
         "This round awards at least £500"),
        (None, {"amount_requested": "2,500"},
         "The budget lines add up to £2,000, but you are asking for £2,500. They must be equal."),
        (None, {"answer_QUESTION": ""}, "Answer the question"),
    ],
    ids=["standing", "overdue-report", "closing-date", "round-closed", "above-max", "below-min", "budget", "question"],
)  # fmt: skip
def test_each_reason_a_submission_is_refused_is_shown(client, db, round_, org, ada, setup, changes, message):
    app = make_application(round_, org, by=ada, status=DRAFT)
    if setup:
        message = setup(db, round_, org)
    changes = {k.replace("QUESTION", str(round_.questions[0].id)): v for k, v in changes.items()}
    login(client, ada)
    resp = client.post(
        f"/grants/applications/{app.id}/submit", data=form_data(round_, app.version, **changes)
    )
    assert resp.status_code == 422
    body = page(resp)
    assert "the application was not submitted" in body
    assert message in body.replace("&#39;", "'"), message
    saved = fresh(db, app)
    assert saved.status is DRAFT and saved.reference is None
    assert db.session.scalar(sa.select(sa.func.count(ApplicationEvent.id)).where(
        ApplicationEvent.action == ApplicationAction.SUBMITTED)) == 0  # fmt: skip


def test_a_bare_submit_sends_the_saved_application(client, db, round_, org, ada):
    app = draft(round_, org, ada)
    login(client, ada)
    resp = client.post(f"/grants/applications/{app.id}/submit", data={"version": str(app.version)})
    assert resp.status_code == 303
    assert fresh(db, app).reference.endswith("-0001")


# --- withdrawing -----------------------------------------------------------------------------------------------


def test_withdrawing_is_final_for_the_round(client, db, round_, org, ada, staff, mailbox):
    app = make_application(round_, org, by=ada)
    login(client, ada)
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert "Withdraw application" in body
    resp = client.post(f"/grants/applications/{app.id}/withdraw", data={"reason": "Our youth worker left."})
    assert resp.status_code == 303
    assert fresh(db, app).status is ApplicationStatus.WITHDRAWN
    assert "Our youth worker left." in text_of(mailbox.last_to("grants@wypf.org.uk"))
    start = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": str(org.id)})
    assert start.status_code == 409 and "(withdrawn)" in page(start)
    again = client.post(f"/grants/applications/{app.id}/withdraw", data={})
    assert again.status_code == 409


# --- staff: more information, late acceptance, the list -----------------------------------------------------------


def test_staff_send_back_for_more_information_and_the_applicant_resubmits(
    client, app, db, round_, org, ada, staff, mailbox
):
    application = make_application(round_, org, by=ada)
    for q in round_.questions:
        application.answers.append(Answer(question_id=q.id, text="Young people lead it."))
    reference = application.reference
    staff_client = app.test_client()
    login(staff_client, staff)
    refused = staff_client.post(f"/staff/grants/applications/{application.id}/return", data={"message": " "})
    assert refused.status_code == 422 and "Say what information is needed" in page(refused)
    resp = staff_client.post(
        f"/staff/grants/applications/{application.id}/return",
        data={"message": "Please break down the youth worker costs by hour."},
    )
    assert resp.status_code == 303
    assert fresh(db, application).status is ApplicationStatus.MORE_INFO_REQUESTED

    mail = mailbox.last_to("ada@example.org")
    assert "Please break down the youth worker costs by hour." in text_of(mail)
    login(client, ada)
    body = page(client.get(link_in(mail, "/grants/applications/")))
    assert "The foundation has asked for more information" in body and "Submit again" in body
    assert "Gita Grants" not in body, "staff names are not shown to applicants"
    version = fresh(db, application).version
    resp = client.post(
        f"/grants/applications/{application.id}/submit",
        data=form_data(round_, version, description="Now with hourly costs: 10 hours a week at £15."),
    )
    assert resp.status_code == 303
    saved = fresh(db, application)
    assert saved.status is SUBMITTED and saved.reference == reference
    assert saved.description.startswith("Now with hourly costs")
    assert [e.action for e in sorted(saved.events, key=lambda e: e.id)][-2:] == [
        ApplicationAction.MORE_INFO_REQUESTED,
        ApplicationAction.RESUBMITTED,
    ]


def test_staff_accept_a_late_application(client, db, org, ada, staff, mailbox):
    round_ = make_round(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() + timedelta(days=1))
    app = draft(round_, org, ada)
    round_.closes_at = utcnow() - timedelta(hours=1)
    login(client, ada)
    refused = client.post(f"/grants/applications/{app.id}/submit", data={"version": str(app.version)})
    assert refused.status_code == 422 and "This round closed for applications" in page(refused)
    assert (
        client.post(f"/staff/grants/applications/{app.id}/accept-late", data={"reason": "x"}).status_code
        == 403
    )

    client.post("/logout")
    login(client, staff)
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert "Accept late and submit" in body
    no_reason = client.post(f"/staff/grants/applications/{app.id}/accept-late", data={"reason": ""})
    assert no_reason.status_code == 422 and "Say why this application is accepted late." in page(no_reason)
    resp = client.post(
        f"/staff/grants/applications/{app.id}/accept-late",
        data={"reason": "Their hall flooded on the closing day."},
    )
    assert resp.status_code == 303
    saved = fresh(db, app)
    assert saved.status is SUBMITTED and saved.reference.endswith("-0001")
    assert (
        saved.late_accepted_by_id == staff.id
        and saved.late_reason == "Their hall flooded on the closing day."
    )
    late = [e for e in saved.events if e.action is ApplicationAction.LATE_ACCEPTED]
    assert len(late) == 1 and late[0].by_id == staff.id
    assert "Their hall flooded on the closing day." in text_of(mailbox.last_to("ada@example.org"))


def test_staff_list_filters_by_round_status_town_and_search(client, db, round_, staff, ada):
    other_round = make_round(name="Autumn seed grants")
    a = make_application(round_, make_org(ada, name="Calne Cooks"), towns=("Calne",), title="Kitchen club")
    b = make_application(
        round_, make_org(ada, name="Swindon Skaters"), towns=("Swindon",), title="Skate park"
    )
    c = make_application(other_round, make_org(ada, name="Devizes Drama"), towns=("Devizes",), status=DRAFT)
    login(client, staff)

    def listed(query: str) -> set[str]:
        body = page(client.get(f"/staff/grants/applications{query}"))
        return {name for name in ("Calne Cooks", "Swindon Skaters", "Devizes Drama") if name in body}

    assert listed("") == {"Calne Cooks", "Swindon Skaters", "Devizes Drama"}
    assert listed(f"?round={round_.id}") == {"Calne Cooks", "Swindon Skaters"}
    assert listed("?status=draft") == {"Devizes Drama"}
    assert listed("?town=Swindon") == {"Swindon Skaters"}
    assert listed("?q=kitchen") == {"Calne Cooks"}
    assert listed(f"?q={b.reference.lower()}") == {"Swindon Skaters"}
    assert listed("?status=nonsense&round=abc") == {"Calne Cooks", "Swindon Skaters", "Devizes Drama"}
    assert a.reference in page(client.get("/staff/grants/applications")) and c.reference is None

    client.post("/logout")
    login(client, ada)
    assert client.get("/staff/grants/applications").status_code == 403


# --- who may see what --------------------------------------------------------------------------------------------


def test_other_organisations_and_non_members_get_404(client, db, round_, org, ada):
    app = draft(round_, org, ada)
    rival = make_user(email="rival@example.org")
    make_org(rival, name="Rival Group")
    loner = make_user(email="loner@example.org")
    for person in (rival, loner):
        login(client, person)
        assert client.get(f"/grants/applications/{app.id}").status_code == 404
        assert client.post(f"/grants/applications/{app.id}", data=form_data(round_, 1)).status_code == 404
        assert client.post(f"/grants/applications/{app.id}/submit", data={"version": "1"}).status_code == 404
        assert client.post(f"/grants/applications/{app.id}/withdraw", data={}).status_code == 404
        assert client.get(f"/organisations/{org.id}/applications").status_code == 404
        client.post("/logout")
    assert fresh(db, app).status is DRAFT
    assert client.get("/grants/applications/999999").status_code == 302  # signed out: to sign in first


def test_staff_read_but_do_not_edit_applications(client, db, round_, org, ada, staff):
    app = draft(round_, org, ada, title="Their project")
    login(client, staff)
    body = page(client.get(f"/grants/applications/{app.id}"))
    assert "Their project" in body and "Save draft" not in body
    assert (
        client.post(f"/grants/applications/{app.id}", data=form_data(round_, app.version)).status_code == 403
    )
    assert client.post(f"/grants/applications/{app.id}/withdraw", data={}).status_code == 403
    assert fresh(db, app).project_title == "Their project"


def test_applicants_see_their_applications_with_status_but_never_reviewers_or_scores(
    client, db, round_, org, ada
):
    submitted = make_application(round_, org, by=ada, title="Night Kitchen")
    started = draft(make_round(name="Summer seed grants"), org, ada, title="Summer camp")
    reviewer = make_user(name="Rita Reviewer", panel=True)
    assignment = ReviewAssignment(application_id=submitted.id, reviewer_id=reviewer.id)
    db.session.add(assignment)
    db.session.flush()
    db.session.add(
        Score(
            assignment_id=assignment.id,
            criterion_id=round_.criteria[0].id,
            score=4,
            comment="Strong need shown",
        )
    )
    login(client, ada)
    listing = page(client.get(f"/organisations/{org.id}/applications"))
    assert "Night Kitchen" in listing and submitted.reference in listing and "Submitted" in listing
    assert "Summer camp" in listing and "Draft" in listing
    assert f'href="/grants/applications/{started.id}"' in listing
    detail = page(client.get(f"/grants/applications/{submitted.id}"))
    for hidden in ("Rita Reviewer", "Strong need shown"):
        assert hidden not in listing and hidden not in detail
