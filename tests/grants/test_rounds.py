"""Funding rounds: creating and editing them, each step from draft to decided with its guards, the events recorded,
criteria and questions locked once a round opens, closing due rounds, and the list of decline reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, IllegalTransition
from foundation.grants import money
from foundation.grants import rounds as svc
from foundation.grants.models import (
    ApplicationStatus,
    Criterion,
    GrantRound,
    RoundEvent,
    RoundStatus,
)
from foundation.grants.tasks import close_due_rounds as close_due_rounds_task
from foundation.types import utcnow
from tests.factories import make_org, make_user
from tests.grants.factories import fund, make_application, make_round

C = svc.CriterionInput
Q = svc.QuestionInput


def values(**over: object) -> dict:
    now = utcnow().replace(second=0, microsecond=0)
    data: dict = {
        "name": "Seed grants spring 2026",
        "code": "sg26",
        "description": "Small grants for new youth projects.",
        "priorities": "Mental health; rural isolation.",
        "eligibility": "Members in good standing.",
        "opens_at": now + timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "min_award_pence": 50_000,
        "max_award_pence": 500_000,
    }
    data.update(over)
    return data


def events(db, round_) -> list[tuple[RoundStatus, RoundStatus, int | None]]:
    rows = db.session.scalars(
        sa.select(RoundEvent).where(RoundEvent.round_id == round_.id).order_by(RoundEvent.id)
    ).all()
    return [(e.from_status, e.to_status, e.by_id) for e in rows]


def ready_draft(**kwargs: object) -> GrantRound:
    """A draft with criteria, a question, a budget and a closing time ahead: ready to open."""
    return make_round(RoundStatus.DRAFT, **kwargs)


# --- creating and editing ----------------------------------------------------------------------------------------


def test_create_round_makes_a_draft_with_its_details(db) -> None:
    staff = make_user(staff=True)
    round_ = svc.create_round(values(name="  Spring round  "), staff)

    assert round_.status is RoundStatus.DRAFT
    assert round_.name == "Spring round"
    assert round_.code == "SG26"
    assert round_.created_by_id == staff.id
    assert round_.criteria == [] and round_.questions == []
    assert money.money_for(round_).budget_pence == 0
    assert events(db, round_) == []


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"name": " "}, "name", "Give the round a name."),
        ({"code": "sg 26"}, "code", "capital letters or digits"),
        ({"description": ""}, "description", "Describe the round"),
        ({"closes_at": utcnow()}, "closes_at", "after the opening time"),
        ({"min_award_pence": 0}, "min_award", "more than £0"),
        ({"max_award_pence": 40_000}, "max_award", "at least the minimum award (£500.00)"),
        ({"max_award_pence": svc.MAX_AWARD_LIMIT_PENCE + 1}, "max_award", "at most"),
        ({"opens_at": datetime(2026, 1, 1, 9)}, "opens_at", "Enter when the round opens."),
    ],
)
def test_create_round_refuses_bad_details_at_the_field(db, over, field, message) -> None:
    with pytest.raises(DomainError) as refused:
        svc.create_round(values(**over), make_user(staff=True))
    assert refused.value.field == field
    assert message in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GrantRound)) == 0


def test_round_codes_are_unique(db) -> None:
    staff = make_user(staff=True)
    svc.create_round(values(code="SG26"), staff)
    with pytest.raises(DomainError) as refused:
        svc.create_round(values(code="sg26", name="Another"), staff)
    assert refused.value.field == "code"
    assert "already uses the code SG26" in refused.value.message


def test_a_draft_round_can_change_anything(db) -> None:
    round_ = ready_draft()
    new_opening = utcnow() + timedelta(days=3)
    svc.update_round(round_, {"code": "NEW1", "opens_at": new_opening, "max_award_pence": 600_000})
    assert (round_.code, round_.opens_at, round_.max_award_pence) == ("NEW1", new_opening, 600_000)


def test_an_open_round_keeps_its_code_opening_and_award_range(db) -> None:
    round_ = make_round(RoundStatus.OPEN)
    for change, field in (
        ({"code": "OTHER"}, "code"),
        ({"opens_at": round_.opens_at + timedelta(hours=1)}, "opens_at"),
        ({"min_award_pence": 10_000}, "min_award"),
        ({"max_award_pence": 900_000}, "max_award"),
    ):
        with pytest.raises(Conflict) as refused:
            svc.update_round(round_, change)
        assert refused.value.field == field
    # The unchanged values may be sent back as they were; the closing time may move later.
    later = round_.closes_at + timedelta(days=7)
    svc.update_round(round_, {"code": round_.code, "closes_at": later, "name": "Renamed"})
    assert (round_.closes_at, round_.name) == (later, "Renamed")


def test_an_open_round_cannot_move_its_closing_time_into_the_past(db) -> None:
    round_ = make_round(RoundStatus.OPEN, opens_at=utcnow() - timedelta(days=10))
    with pytest.raises(DomainError) as refused:
        svc.update_round(round_, {"closes_at": utcnow() - timedelta(minutes=1)})
    assert refused.value.field == "closes_at"
    assert "must be in the future" in refused.value.message


@pytest.mark.parametrize("status", [RoundStatus.CLOSED, RoundStatus.IN_REVIEW, RoundStatus.DECIDED])
def test_a_closed_round_is_not_edited(db, status) -> None:
    round_ = make_round(status)
    with pytest.raises(Conflict):
        svc.update_round(round_, {"name": "Renamed"})


# --- criteria and questions ------------------------------------------------------------------------------------------


def test_set_criteria_keeps_ids_of_rows_that_stay_and_removes_the_rest(db) -> None:
    round_ = ready_draft()
    first_id = round_.criteria[0].id
    svc.set_criteria(round_, [C("Need", "Clear need.", 4, 5), C("Partnership", "Works with others.", 1, 3)])
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Criterion).where(Criterion.round_id == round_.id).order_by(Criterion.position)
    ).all()
    assert [(c.name, c.weight, c.max_score, c.position) for c in rows] == [
        ("Need", 4, 5, 0),
        ("Partnership", 1, 3, 1),
    ]
    assert rows[0].id == first_id
    assert round_.total_weight == 5


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([C("Need", "", 0, 5)], "weight must be from 1"),
        ([C("Need", "", 3, 0)], "maximum score must be from 1"),
        ([C(" ", "", 3, 5)], "needs a name"),
        ([C("Need", "", 3, 5), C("need", "", 1, 5)], "Two criteria are called need"),
    ],
)
def test_set_criteria_refuses_bad_rows(db, rows, message) -> None:
    round_ = ready_draft()
    db.session.commit()
    before = [(c.name, c.weight) for c in round_.criteria]
    with pytest.raises(DomainError, match=message):
        svc.set_criteria(round_, rows)
    db.session.rollback()
    assert [(c.name, c.weight) for c in db.session.get(GrantRound, round_.id).criteria] == before


def test_set_questions_in_order(db) -> None:
    round_ = ready_draft()
    svc.set_questions(
        round_,
        [
            Q("How will young people lead?", "Say who and how.", True, 300),
            Q("Anything else?", "", False, None),
        ],
    )
    assert [(q.prompt, q.help_text, q.required, q.max_words, q.position) for q in round_.questions] == [
        ("How will young people lead?", "Say who and how.", True, 300, 0),
        ("Anything else?", "", False, None, 1),
    ]
    with pytest.raises(DomainError, match="word limit"):
        svc.set_questions(round_, [Q("Tell us", "", True, 0)])


@pytest.mark.parametrize("status", [RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.DECIDED])
def test_criteria_and_questions_are_locked_once_the_round_has_opened(db, status) -> None:
    round_ = make_round(status)
    with pytest.raises(Conflict, match="only while the round is a draft"):
        svc.set_criteria(round_, [C("Need", "", 1, 5)])
    with pytest.raises(Conflict, match="only while the round is a draft"):
        svc.set_questions(round_, [Q("New question", "", True, None)])
    assert len(round_.criteria) == 4 and len(round_.questions) == 1


def test_criteria_editing_stops_when_the_round_opens(db) -> None:
    round_ = ready_draft()
    svc.set_criteria(round_, [C("Need", "", 2, 5)])
    svc.advance(round_, make_user(staff=True))
    with pytest.raises(Conflict):
        svc.set_criteria(round_, [C("Need", "", 3, 5)])
    assert round_.criteria[0].weight == 2


# --- steps and their guards -----------------------------------------------------------------------------------------


def test_the_full_journey_records_each_step_with_who_and_when(db) -> None:
    staff, other_staff = make_user(staff=True), make_user(staff=True)
    round_ = ready_draft()
    org = make_org(make_user())

    t0 = utcnow()
    opened = svc.advance(round_, staff, now=t0)
    assert round_.status is RoundStatus.OPEN and round_.opened_at == t0
    assert (opened.from_status, opened.to_status, opened.by_id, opened.created_at) == (
        RoundStatus.DRAFT, RoundStatus.OPEN, staff.id, t0,
    )  # fmt: skip

    app = make_application(round_, org)
    svc.advance(round_, other_staff)
    assert round_.status is RoundStatus.CLOSED
    svc.advance(round_, staff)
    assert round_.status is RoundStatus.IN_REVIEW
    app.status = ApplicationStatus.AWARDED
    db.session.flush()
    t4 = utcnow()
    svc.advance(round_, staff, now=t4)
    assert round_.status is RoundStatus.DECIDED and round_.decided_at == t4

    assert events(db, round_) == [
        (RoundStatus.DRAFT, RoundStatus.OPEN, staff.id),
        (RoundStatus.OPEN, RoundStatus.CLOSED, other_staff.id),
        (RoundStatus.CLOSED, RoundStatus.IN_REVIEW, staff.id),
        (RoundStatus.IN_REVIEW, RoundStatus.DECIDED, staff.id),
    ]


def test_opening_needs_criteria(db) -> None:
    round_ = make_round(RoundStatus.DRAFT, criteria=())
    with pytest.raises(Conflict, match="Add at least one scoring criterion"):
        svc.advance(round_, make_user(staff=True))
    assert round_.status is RoundStatus.DRAFT
    assert events(db, round_) == []


def test_opening_needs_a_budget(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.DRAFT, budget_pence=None)
    with pytest.raises(Conflict, match="Allocate a budget from the fund"):
        svc.advance(round_, staff)
    fund(100_000)
    svc.allocate_budget(round_, 100_000, staff)
    svc.advance(round_, staff)
    assert round_.status is RoundStatus.OPEN


def test_a_budget_handed_back_in_full_leaves_nothing_to_open_with(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.DRAFT, budget_pence=100_000)
    svc.deallocate_budget(round_, 100_000, staff)
    with pytest.raises(Conflict, match="Allocate a budget"):
        svc.advance(round_, staff)


def test_opening_needs_a_closing_time_ahead(db) -> None:
    round_ = make_round(
        RoundStatus.DRAFT, opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(minutes=1)
    )
    with pytest.raises(Conflict, match="closing time has passed"):
        svc.advance(round_, make_user(staff=True))
    assert round_.status is RoundStatus.DRAFT


def test_every_reason_not_to_open_is_given_at_once(db) -> None:
    round_ = make_round(
        RoundStatus.DRAFT, criteria=(), budget_pence=None,
        opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(days=1),
    )  # fmt: skip
    assert len(svc.blockers(round_)) == 3
    with pytest.raises(Conflict) as refused:
        svc.advance(round_, make_user(staff=True))
    assert refused.value.status_code == 409
    for text in ("criterion", "budget", "closing time"):
        assert text in refused.value.message


def test_staff_may_close_an_open_round_before_its_closing_time(db) -> None:
    round_ = make_round(RoundStatus.OPEN, closes_at=utcnow() + timedelta(days=20))
    svc.advance(round_, make_user(staff=True))
    assert round_.status is RoundStatus.CLOSED


@pytest.mark.parametrize(
    "statuses",
    [(), (ApplicationStatus.DRAFT,), (ApplicationStatus.WITHDRAWN, ApplicationStatus.DRAFT)],
)
def test_review_needs_a_submitted_application(db, statuses) -> None:
    round_ = make_round(RoundStatus.CLOSED)
    for status in statuses:
        make_application(round_, make_org(make_user()), status=status)
    with pytest.raises(Conflict, match="No application was submitted"):
        svc.advance(round_, make_user(staff=True))
    assert round_.status is RoundStatus.CLOSED


def test_review_starts_with_one_submitted_application(db) -> None:
    round_ = make_round(RoundStatus.CLOSED)
    make_application(round_, make_org(make_user()), status=ApplicationStatus.DRAFT)
    make_application(round_, make_org(make_user()), status=ApplicationStatus.SUBMITTED)
    svc.advance(round_, make_user(staff=True))
    assert round_.status is RoundStatus.IN_REVIEW


def test_deciding_needs_every_submitted_application_decided(db) -> None:
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.IN_REVIEW)
    a = make_application(round_, make_org(make_user()), status=ApplicationStatus.AWARDED)
    b = make_application(round_, make_org(make_user()), status=ApplicationStatus.SUBMITTED)
    c = make_application(round_, make_org(make_user()), status=ApplicationStatus.MORE_INFO_REQUESTED)
    make_application(round_, make_org(make_user()), status=ApplicationStatus.WITHDRAWN)

    with pytest.raises(Conflict, match="2 submitted applications are not decided yet"):
        svc.advance(round_, staff)
    b.status = ApplicationStatus.DECLINED
    db.session.flush()
    with pytest.raises(Conflict, match="1 submitted application is not decided yet"):
        svc.advance(round_, staff)
    c.status = ApplicationStatus.DECLINED
    db.session.flush()

    svc.advance(round_, staff)
    assert round_.status is RoundStatus.DECIDED
    assert a.status is ApplicationStatus.AWARDED


def test_a_decided_round_goes_no_further(db) -> None:
    round_ = make_round(RoundStatus.DECIDED)
    with pytest.raises(IllegalTransition) as refused:
        svc.advance(round_, make_user(staff=True))
    assert refused.value.status_code == 409
    assert events(db, round_) == []


def test_a_step_based_on_an_old_status_is_refused(db) -> None:
    """Two members of staff press Close at once: the second is told, not taken to in-review."""
    staff = make_user(staff=True)
    round_ = make_round(RoundStatus.OPEN)
    make_application(round_, make_org(make_user()))
    svc.advance(round_, staff, expected=RoundStatus.OPEN)
    with pytest.raises(Conflict, match="now closed"):
        svc.advance(round_, staff, expected=RoundStatus.OPEN)
    assert round_.status is RoundStatus.CLOSED
    assert len(events(db, round_)) == 1


def test_a_round_moves_only_one_step_at_a_time(db) -> None:
    round_ = make_round(RoundStatus.DRAFT)
    with pytest.raises(IllegalTransition):
        svc._move(round_, RoundStatus.CLOSED, None, utcnow())
    assert round_.status is RoundStatus.DRAFT


# --- closing due rounds --------------------------------------------------------------------------------------------


def test_close_due_rounds_closes_open_rounds_whose_time_has_passed(db) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    due = make_round(
        RoundStatus.OPEN, opens_at=now - timedelta(days=30), closes_at=now - timedelta(minutes=5)
    )
    exactly = make_round(RoundStatus.OPEN, opens_at=now - timedelta(days=30), closes_at=now)
    later = make_round(
        RoundStatus.OPEN, opens_at=now - timedelta(days=30), closes_at=now + timedelta(minutes=1)
    )
    draft = make_round(
        RoundStatus.DRAFT, opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1)
    )

    closed = svc.close_due_rounds(now)

    assert {r.id for r in closed} == {due.id, exactly.id}
    assert (due.status, exactly.status, later.status, draft.status) == (
        RoundStatus.CLOSED, RoundStatus.CLOSED, RoundStatus.OPEN, RoundStatus.DRAFT,
    )  # fmt: skip
    # Closed automatically: the event has no member of staff.
    assert events(db, due) == [(RoundStatus.OPEN, RoundStatus.CLOSED, None)]
    # Running again changes nothing.
    assert svc.close_due_rounds(now) == []
    assert len(events(db, due)) == 1


def test_the_periodic_task_closes_due_rounds_and_commits(app, db) -> None:
    due = make_round(
        RoundStatus.OPEN, opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(minutes=1)
    )
    db.session.commit()

    assert close_due_rounds_task.run() == 1

    db.session.rollback()  # whatever the task did is committed, so a rollback here keeps it
    assert db.session.get(GrantRound, due.id).status is RoundStatus.CLOSED
    schedule = app.extensions["celery"].conf.beat_schedule
    assert any(entry["task"] == "foundation.grants.tasks.close_due_rounds" for entry in schedule.values())


def test_the_close_due_rounds_command(app, db) -> None:
    due = make_round(
        RoundStatus.OPEN, opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(minutes=1)
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["grants", "close-due-rounds"])
    assert result.exit_code == 0, result.output
    assert "1 round(s) closed." in result.output
    db.session.rollback()
    assert db.session.get(GrantRound, due.id).status is RoundStatus.CLOSED


# --- decline reasons ------------------------------------------------------------------------------------------------


def test_decline_reasons_are_added_renamed_and_switched_off(db) -> None:
    outside = svc.add_decline_reason("  Outside the   round's priorities ")
    budget = svc.add_decline_reason("Budget not clear")
    assert outside.label == "Outside the round's priorities"
    assert [r.label for r in svc.decline_reasons()] == ["Outside the round's priorities", "Budget not clear"]

    svc.rename_decline_reason(budget, "Budget not realistic")
    svc.set_decline_reason_active(outside, False)

    assert [r.label for r in svc.decline_reasons()] == ["Budget not realistic"]
    assert [(r.label, r.active) for r in svc.decline_reasons(include_inactive=True)] == [
        ("Outside the round's priorities", False),
        ("Budget not realistic", True),
    ]
    with pytest.raises(Conflict):
        svc.set_decline_reason_active(outside, False)
    svc.set_decline_reason_active(outside, True)
    assert len(svc.decline_reasons()) == 2


def test_decline_reasons_are_unique_whatever_the_case(db) -> None:
    first = svc.add_decline_reason("Not eligible")
    other = svc.add_decline_reason("Too late")
    with pytest.raises(DomainError) as refused:
        svc.add_decline_reason("not ELIGIBLE")
    assert refused.value.field == "label"
    with pytest.raises(DomainError):
        svc.rename_decline_reason(other, "Not Eligible")
    with pytest.raises(DomainError, match="Write the reason"):
        svc.add_decline_reason("   ")
    # Renaming a reason to its own wording in another case is fine.
    svc.rename_decline_reason(first, "NOT eligible")
    assert first.label == "NOT eligible"
