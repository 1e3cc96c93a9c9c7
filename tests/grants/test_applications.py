"""Application rules as services: drafts, who may edit, every reason a submission is refused, references,
withdrawing, sending back for more information, and accepting late."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed, NotFound
from foundation.extensions import db as _db
from foundation.grants import applications as svc
from foundation.grants.applications import ApplicationValues, BudgetItem
from foundation.grants.models import (
    Answer,
    Application,
    ApplicationAction,
    ApplicationStatus,
    GrantRound,
    RoundQuestion,
    RoundStatus,
)
from foundation.members.models import DocumentKind, MemberRole, OrganisationStatus
from foundation.notifications.models import Notification, NotificationKind
from foundation.types import utcnow
from tests.factories import add_document, add_member, make_org, make_user
from tests.grants.factories import make_application, make_awarded_grant, make_round

DRAFT, SUBMITTED = ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED


# Services build links to the application for notifications.
pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def round_(db):
    """Applications go to an open round."""
    return make_round(min_award_pence=50_000, max_award_pence=500_000)


def complete_draft(round_, org, by, amount_pence=200_000):
    app = make_application(round_, org, by=by, status=DRAFT, amount_pence=amount_pence)
    for q in round_.questions:
        app.answers.append(Answer(question_id=q.id, text="Young people sit on the steering group."))
    _db.session.flush()
    return app


def full_values(round_, amount=200_000, **changes):
    values = ApplicationValues(
        project_title="Calne Night Kitchen",
        summary="Cooking evenings run by and for young people.",
        description="Weekly sessions in the community kitchen with a youth worker and a chef.",
        towns=["Calne", "Chippenham"],
        young_people_count=30,
        age_min=13,
        age_max=19,
        starts_on=date.today() + timedelta(days=90),
        ends_on=date.today() + timedelta(days=300),
        amount_requested_pence=amount,
        outcomes="Young people learn to cook on a budget.",
        partners="Calne Community Kitchen",
        budget_lines=[BudgetItem("Youth worker", amount - 50_000), BudgetItem("Ingredients", 50_000)],
        answers={q.id: "They plan the menu and run the evenings." for q in round_.questions},
    )
    for key, value in changes.items():
        setattr(values, key, value)
    return values


def events(app):
    return [e.action for e in sorted(app.events, key=lambda e: e.id)]


def notifications_to(db, user):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all()


def problem_messages(exc_info) -> list[str]:
    return [p.message for p in exc_info.value.problems]


# --- starting ----------------------------------------------------------------------------------------------------


def test_a_member_starts_an_empty_draft(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    assert app.status is DRAFT and app.reference is None and app.created_by_id == ada.id
    assert events(app) == [ApplicationAction.CREATED]
    assert svc.application_in_round(round_, org) is app


def test_someone_outside_the_organisation_cannot_start_one(db, round_, org):
    outsider = make_user()
    with pytest.raises(NotAllowed):
        svc.start_application(round_, org, outsider)
    assert db.session.scalar(sa.select(sa.func.count(Application.id))) == 0


def test_a_second_application_in_the_round_is_refused_with_the_existing_one(db, round_, org, ada):
    first = svc.start_application(round_, org, ada)
    colleague = make_user()
    add_member(org, colleague)
    with pytest.raises(svc.AlreadyApplied) as exc:
        svc.start_application(round_, org, colleague)
    assert exc.value.application is first and exc.value.status_code == 409
    assert "Calne Youth Forum already has an application in this round" in exc.value.message


def test_the_database_refuses_two_applications_from_one_organisation_in_a_round(db, round_, org, ada):
    make_application(round_, org, by=ada, status=DRAFT)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(Application(round_id=round_.id, organisation_id=org.id, towns=[]))
        db.session.flush()
    db.session.rollback()


def test_after_withdrawing_the_organisation_cannot_start_another_in_that_round(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    svc.withdraw_application(app, ada)
    with pytest.raises(svc.AlreadyApplied, match="withdrawn"):
        svc.start_application(round_, org, ada)


def test_no_new_application_once_the_round_has_closed(db, org, ada):
    closed = make_round(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(Conflict, match="closed for applications"):
        svc.start_application(closed, org, ada)
    finished = make_round(status=RoundStatus.CLOSED)
    with pytest.raises(Conflict, match="not open for applications"):
        svc.start_application(finished, org, ada)
    with pytest.raises(NotFound):
        svc.start_application(make_round(status=RoundStatus.DRAFT, budget_pence=None), org, ada)


# --- saving drafts -----------------------------------------------------------------------------------------------


def test_a_partial_draft_saves(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    db.session.commit()
    before = app.version
    svc.save_draft(app, ada, ApplicationValues(project_title="  Half an idea  ", towns=["Calne"]), before)
    db.session.commit()
    db.session.expire_all()
    assert app.project_title == "Half an idea" and app.towns == ["Calne"] and app.status is DRAFT
    assert app.version == before + 1


def test_saving_replaces_the_budget_lines_and_answers(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    svc.save_draft(app, ada, full_values(round_), app.version)
    db.session.commit()
    assert [(b.item, b.cost_pence) for b in app.budget_lines] == [
        ("Youth worker", 150_000),
        ("Ingredients", 50_000),
    ]
    values = full_values(round_, budget_lines=[BudgetItem("Everything", 200_000)])
    values.answers = {round_.questions[0].id: "Changed answer."}
    svc.save_draft(app, ada, values, app.version)
    db.session.commit()
    db.session.expire_all()
    assert [(b.item, b.cost_pence, b.position) for b in app.budget_lines] == [("Everything", 200_000, 0)]
    assert [a.text for a in app.answers] == ["Changed answer."]
    assert app.budget_total_pence == 200_000


def test_a_budget_only_change_still_moves_the_version_on(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    svc.save_draft(app, ada, full_values(round_), app.version)
    db.session.commit()
    before = app.version
    svc.save_draft(app, ada, full_values(round_, budget_lines=[BudgetItem("All of it", 200_000)]), before)
    db.session.commit()
    assert app.version == before + 1


def test_any_member_can_edit_but_a_save_over_a_newer_version_is_refused(db, round_, org, ada):
    colleague = make_user(name="Cal Colleague")
    add_member(org, colleague, MemberRole.MEMBER)
    app = svc.start_application(round_, org, ada)
    db.session.commit()
    loaded_at = app.version
    svc.save_draft(app, colleague, ApplicationValues(project_title="Colleague's title"), loaded_at)
    db.session.commit()

    with pytest.raises(svc.VersionConflict) as exc:
        svc.save_draft(app, ada, ApplicationValues(project_title="Ada's title"), loaded_at)
    assert exc.value.status_code == 409
    assert "Someone else saved changes" in exc.value.message and "reload" in exc.value.message
    db.session.rollback()
    assert app.project_title == "Colleague's title"


def test_a_change_written_between_reading_and_saving_is_caught_by_the_version_column(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    db.session.commit()
    version = app.version
    # Someone else's save lands after this request loaded the application.
    db.session.execute(
        sa.update(Application).where(Application.id == app.id).values(version=version + 1),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(svc.VersionConflict):
        svc.save_draft(app, ada, ApplicationValues(project_title="Lost?"), version)
    db.session.rollback()
    assert db.session.get(Application, app.id).project_title == ""


def test_people_outside_the_organisation_cannot_save(db, round_, org, ada, staff):
    app = svc.start_application(round_, org, ada)
    for who in (make_user(), staff):
        with pytest.raises(NotFound):
            svc.save_draft(app, who, ApplicationValues(project_title="Hijack"), app.version)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"age_min": 18, "age_max": 12}, "age_max", "oldest age must be at least the youngest"),
        ({"age_max": 40}, "age_max", "from 0 to 25"),
        ({"ends_on": date.today()}, "ends_on", "on or after the start date"),
        ({"towns": ["Bath"]}, "towns", "Bath is not one"),
        ({"budget_lines": [BudgetItem("", 100)]}, "budget_lines", "Say what each budget line is for"),
        ({"amount_requested_pence": -5}, "amount_requested", "Enter an amount"),
    ],
)
def test_a_draft_with_impossible_values_is_not_saved(db, round_, org, ada, changes, field, message):
    app = svc.start_application(round_, org, ada)
    db.session.commit()
    with pytest.raises(svc.ApplicationProblems) as exc:
        svc.save_draft(app, ada, full_values(round_, **changes), app.version)
    assert [(p.field, message in p.message) for p in exc.value.problems] == [(field, True)]
    version = app.version
    db.session.rollback()
    assert app.project_title == "" and app.version == version


# --- submitting --------------------------------------------------------------------------------------------------


def test_an_empty_draft_lists_every_missing_thing(db, round_, org, ada):
    app = svc.start_application(round_, org, ada)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    fields = [p.field for p in exc.value.problems]
    assert fields == [
        "project_title", "summary", "description", "towns", "young_people_count", "age_min", "age_max",
        "starts_on", "ends_on", "amount_requested", "budget_lines", "outcomes",
        svc.answer_field(round_.questions[0]),
    ]  # fmt: skip
    assert exc.value.status_code == 422


def test_submitting_takes_the_next_reference_and_locks_the_application(db, round_, org, ada, staff):
    app = complete_draft(round_, org, ada)
    svc.submit_application(app, ada)
    db.session.commit()
    year = round_.opens_at.year
    assert app.reference == f"WYPF-{year}-{round_.code}-0001"
    assert re.fullmatch(r"WYPF-\d{4}-R\d+-\d{4}", app.reference)
    assert app.status is SUBMITTED and app.submitted_by_id == ada.id and app.submitted_at is not None
    assert events(app)[-1] is ApplicationAction.SUBMITTED
    assert db.session.get(GrantRound, round_.id).next_reference == 2
    with pytest.raises(IllegalTransition, match="can no longer be changed"):
        svc.save_draft(app, ada, full_values(round_), app.version)
    with pytest.raises(IllegalTransition):
        svc.submit_application(app, ada)


def test_references_run_on_without_gaps_and_a_refused_submission_takes_no_number(db, round_, ada):
    orgs = [make_org(ada, name=f"Group {i}") for i in range(3)]
    first = complete_draft(round_, orgs[0], ada)
    broken = complete_draft(round_, orgs[1], ada, amount_pence=10_000)  # below the minimum
    third = complete_draft(round_, orgs[2], ada)
    svc.submit_application(first, ada)
    db.session.commit()
    with pytest.raises(svc.SubmissionRefused):
        svc.submit_application(broken, ada)
    db.session.rollback()
    svc.submit_application(third, ada)
    db.session.commit()
    assert [first.reference[-4:], third.reference[-4:]] == ["0001", "0002"]
    assert broken.reference is None and broken.status is DRAFT


def test_staff_are_told_of_a_submission(db, round_, org, ada, staff):
    other_staff = make_user(staff=True)
    app = complete_draft(round_, org, ada)
    svc.submit_application(app, ada)
    for person in (staff, other_staff):
        [n] = notifications_to(db, person)
        assert n.kind is NotificationKind.GRANTS and app.reference in n.subject
        assert "Calne Youth Forum" in n.body_text and f"/grants/applications/{app.id}" in n.body_text
    assert notifications_to(db, ada) == []


def test_not_in_good_standing_is_refused_with_the_reasons(db, round_, ada):
    org = make_org(ada, name="Lapsed Group", valid_until=date.today() + timedelta(days=200))
    add_document(org, DocumentKind.INSURANCE, date.today() - timedelta(days=1))
    app = complete_draft(round_, org, ada)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    [message] = problem_messages(exc)
    assert message.startswith(
        "Lapsed Group is not in good standing: The public liability insurance expired on"
    )


def test_an_organisation_awaiting_vetting_cannot_submit(db, round_, ada):
    org = make_org(ada, status=OrganisationStatus.PENDING)
    app = complete_draft(round_, org, ada)
    with pytest.raises(svc.SubmissionRefused, match="not approved"):
        svc.submit_application(app, ada)


def test_an_overdue_end_of_grant_report_blocks_submission(db, round_, org, ada):
    earlier = make_round(status=RoundStatus.DECIDED, name="Last year's round")
    grant = make_awarded_grant(earlier, org, title="Old project")
    grant.report_due_on = date.today() - timedelta(days=3)
    app = complete_draft(round_, org, ada)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    [message] = problem_messages(exc)
    assert f"The end-of-grant report for {grant.application.reference}" in message
    assert "has not been sent" in message


@pytest.mark.parametrize(
    ("amount", "message"),
    [(49_999, "This round awards at least £500; you asked for £499.99."),
     (500_001, "This round awards at most £5,000; you asked for £5,000.01.")],
)  # fmt: skip
def test_an_amount_outside_the_round_range_is_refused(db, round_, org, ada, amount, message):
    app = complete_draft(round_, org, ada, amount_pence=amount)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    assert [(p.field, p.message) for p in exc.value.problems] == [("amount_requested", message)]


def test_budget_lines_must_add_up_to_the_amount(db, round_, org, ada):
    app = complete_draft(round_, org, ada)
    values = full_values(round_, amount=250_000, budget_lines=[BudgetItem("Worker", 200_000)])
    svc.save_draft(app, ada, values, app.version)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    assert [(p.field, p.message) for p in exc.value.problems] == [
        (
            "budget_lines",
            "The budget lines add up to £2,000, but you are asking for £2,500. They must be equal.",
        )
    ]


def test_a_closed_round_refuses_submission(db, org, ada):
    late = make_round(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() + timedelta(days=1))
    app = complete_draft(late, org, ada)
    late.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(svc.SubmissionRefused, match="closed for applications"):
        svc.submit_application(app, ada)
    db.session.rollback()
    assert app.reference is None
    late.closes_at = utcnow() + timedelta(days=1)
    late.status = RoundStatus.CLOSED
    with pytest.raises(svc.SubmissionRefused, match=r"not open for applications \(it is closed\)"):
        svc.submit_application(app, ada)


def test_round_questions_required_answers_and_word_limits(db, round_, org, ada):
    optional = RoundQuestion(round_id=round_.id, prompt="Anything else?", required=False, position=5)
    limited = RoundQuestion(round_id=round_.id, prompt="In brief, why now?", max_words=5, position=6)
    db.session.add_all([optional, limited])
    db.session.flush()
    db.session.refresh(round_)
    app = complete_draft(round_, org, ada)
    values = full_values(round_)
    values.answers = {round_.questions[0].id: "", optional.id: "", limited.id: "one two three four five six"}
    svc.save_draft(app, ada, values, app.version)
    with pytest.raises(svc.SubmissionRefused) as exc:
        svc.submit_application(app, ada)
    assert [(p.field, p.message) for p in exc.value.problems] == [
        (
            svc.answer_field(round_.questions[0]),
            f"Answer the question \u201c{round_.questions[0].prompt}\u201d.",
        ),
        (
            svc.answer_field(limited),
            "Your answer to \u201cIn brief, why now?\u201d has 6 words; the limit is 5.",
        ),
    ]
    values.answers = {round_.questions[0].id: "Youth-led.", limited.id: "one two three four five"}
    svc.save_draft(app, ada, values, app.version)
    svc.submit_application(app, ada)
    assert app.status is SUBMITTED


def test_a_non_member_cannot_submit(db, round_, org, ada, staff):
    app = complete_draft(round_, org, ada)
    with pytest.raises(NotFound):
        svc.submit_application(app, staff)
    assert app.status is DRAFT


# --- withdrawing -------------------------------------------------------------------------------------------------


def test_withdrawing_a_submitted_application_tells_staff(db, round_, org, ada, staff):
    app = complete_draft(round_, org, ada)
    svc.submit_application(app, ada)
    db.session.commit()
    svc.withdraw_application(app, ada, "Our youth worker has left.")
    db.session.commit()
    assert app.status is ApplicationStatus.WITHDRAWN
    assert (
        events(app)[-1] is ApplicationAction.WITHDRAWN
        and app.events[-1].message == "Our youth worker has left."
    )
    subjects = [n.subject for n in notifications_to(db, staff)]
    assert f"Application withdrawn: {app.reference}" in subjects
    with pytest.raises(IllegalTransition):
        svc.withdraw_application(app, ada)


def test_a_decided_application_cannot_be_withdrawn(db, round_, org, ada):
    app = make_application(round_, org, by=ada, status=ApplicationStatus.AWARDED)
    with pytest.raises(IllegalTransition):
        svc.withdraw_application(app, ada)
    assert app.status is ApplicationStatus.AWARDED


def test_only_the_organisation_withdraws(db, round_, org, ada, staff):
    app = make_application(round_, org, by=ada)
    with pytest.raises(NotFound):
        svc.withdraw_application(app, staff)


# --- more information --------------------------------------------------------------------------------------------


def test_staff_send_back_for_more_information_and_the_resubmission_keeps_its_reference(
    db, round_, org, ada, staff
):
    colleague = make_user(email="cal@example.org")
    add_member(org, colleague)
    app = complete_draft(round_, org, ada)
    svc.submit_application(app, ada)
    db.session.commit()
    reference = app.reference

    svc.request_more_info(app, staff, "Please break down the youth worker costs by hour.")
    db.session.commit()
    assert app.status is ApplicationStatus.MORE_INFO_REQUESTED and app.status.editable
    for member in (ada, colleague):
        [n] = [n for n in notifications_to(db, member) if n.kind is NotificationKind.GRANTS]
        assert n.subject == f"More information needed: {reference}"
        assert "Please break down the youth worker costs by hour." in n.body_text
    # The round closes meanwhile: the resubmission is still allowed.
    app.round.closes_at = utcnow() - timedelta(minutes=5)
    svc.save_draft(app, colleague, full_values(round_, description="Now with hourly costs."), app.version)
    svc.submit_application(app, colleague)
    db.session.commit()
    assert app.reference == reference and app.status is SUBMITTED
    assert db.session.get(GrantRound, round_.id).next_reference == 2
    assert events(app)[-2:] == [ApplicationAction.MORE_INFO_REQUESTED, ApplicationAction.RESUBMITTED]


def test_sending_back_needs_staff_a_message_and_a_submitted_application(db, round_, org, ada, staff):
    app = complete_draft(round_, org, ada)
    with pytest.raises(IllegalTransition):
        svc.request_more_info(app, staff, "Why?")
    svc.submit_application(app, ada)
    with pytest.raises(NotAllowed):
        svc.request_more_info(app, ada, "Asking myself")
    with pytest.raises(DomainError) as exc:
        svc.request_more_info(app, staff, "   ")
    assert exc.value.field == "message"
    assert app.status is SUBMITTED


# --- late acceptance ---------------------------------------------------------------------------------------------


def closed_round_with_draft(org, ada):
    round_ = make_round(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() + timedelta(days=1))
    app = complete_draft(round_, org, ada)
    round_.closes_at = utcnow() - timedelta(hours=2)
    return round_, app


def test_staff_accept_a_late_application_recording_who_and_why(db, org, ada, staff):
    round_, app = closed_round_with_draft(org, ada)
    svc.accept_late(app, staff, "Their building flooded on the closing day.")
    db.session.commit()
    assert app.status is SUBMITTED and app.reference.endswith("-0001")
    assert (
        app.late_accepted_by_id == staff.id
        and app.late_reason == "Their building flooded on the closing day."
    )
    assert events(app)[-2:] == [ApplicationAction.LATE_ACCEPTED, ApplicationAction.SUBMITTED]
    late_event = (
        app.events[-2] if app.events[-2].action is ApplicationAction.LATE_ACCEPTED else app.events[-1]
    )
    assert late_event.by_id == staff.id and late_event.message == app.late_reason
    [told] = [n for n in notifications_to(db, ada) if "Late application accepted" in n.subject]
    assert "Their building flooded" in told.body_text


def test_late_acceptance_rules(db, org, ada, staff, round_):
    open_app = complete_draft(round_, org, ada)
    with pytest.raises(Conflict, match="still open"):
        svc.accept_late(open_app, staff, "Because")
    other = make_org(ada, name="Other Group")
    _, app = closed_round_with_draft(other, ada)
    with pytest.raises(NotAllowed):
        svc.accept_late(app, ada, "I say so")
    with pytest.raises(DomainError) as exc:
        svc.accept_late(app, staff, "  ")
    assert exc.value.field == "reason"


def test_a_late_application_that_is_incomplete_is_refused_and_nothing_is_recorded(db, org, ada, staff):
    round_, app = closed_round_with_draft(org, ada)
    app.outcomes = ""
    db.session.commit()
    with pytest.raises(svc.SubmissionRefused, match="outcomes"):
        svc.accept_late(app, staff, "Flood")
    db.session.rollback()
    assert app.status is DRAFT and app.late_reason is None and app.reference is None
    assert events(app) == []
