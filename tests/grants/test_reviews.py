"""Panel reviewing services: assigning (one by one and in bulk), conflicts of interest, scoring, submitting,
reminders and progress."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.grants import reviews
from foundation.grants.models import (
    ApplicationStatus,
    ConflictDeclaration,
    ReviewAssignment,
    RoundStatus,
    Score,
)
from foundation.grants.reviews import ScoreInput
from foundation.notifications.models import Notification, NotificationKind
from tests.factories import add_member, make_org, make_user
from tests.grants.factories import make_application, make_review

# Services link to the panel pages in notifications.
pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def panel(db):
    """Four panel reviewers, named so that name order is Ann, Ben, Cat, Dev."""
    return [make_user(name=name, email=f"{name.lower()}@panel.example.org", panel=True) for name in ("Dev", "Cat", "Ben", "Ann")][::-1]  # fmt: skip


@pytest.fixture
def application(round_):
    return make_application(round_, make_org(name="Calne Youth Forum"), title="Calne Night Kitchen")


def criteria_ids(round_) -> list[int]:
    return [c.id for c in round_.criteria]


def notifications_to(db, user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


def declared(application, reviewer, staff):
    a = reviews.assign(application, reviewer, staff)
    reviews.declare(a, reviewer, has_conflict=False)
    return a


# --- assigning ---------------------------------------------------------------------------------------------------


def test_staff_assign_a_panel_reviewer_who_is_told(db, application, panel, staff):
    ann = panel[0]
    a = reviews.assign(application, ann, staff)
    assert a.active and a.conflict is ConflictDeclaration.UNDECLARED and a.assigned_by_id == staff.id
    [note] = notifications_to(db, ann)
    assert note.kind is NotificationKind.GRANTS and "1 application to review" in note.subject
    assert note.link == "/panel"
    assert "conflict of interest" in note.body_text


def test_only_panel_reviewers_can_be_assigned(db, application, staff):
    outsider = make_user(name="Olly Outsider")
    with pytest.raises(DomainError) as exc:
        reviews.assign(application, outsider, staff)
    assert exc.value.field == "reviewer_id" and "not on the review panel" in exc.value.message
    assert db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id))) == 0


def test_assigning_twice_is_refused(db, application, panel, staff):
    reviews.assign(application, panel[0], staff)
    with pytest.raises(Conflict) as exc:
        reviews.assign(application, panel[0], staff)
    assert exc.value.status_code == 409 and "already reviewing" in exc.value.message


def test_a_draft_application_is_not_assigned(db, round_, panel, staff):
    draft = make_application(round_, make_org(), status=ApplicationStatus.DRAFT)
    with pytest.raises(DomainError) as exc:
        reviews.assign(draft, panel[0], staff)
    assert exc.value.field == "application_id"


def test_a_decided_round_takes_no_more_assignments(db, round_, application, panel, staff):
    round_.status = RoundStatus.DECIDED
    with pytest.raises(Conflict):
        reviews.assign(application, panel[0], staff)


def test_a_member_of_the_applying_organisation_is_excluded_automatically(db, application, panel, staff):
    ann = panel[0]
    add_member(application.organisation, ann)
    a = reviews.assign(application, ann, staff)
    assert a.conflict is ConflictDeclaration.EXCLUDED and not a.active
    assert a.conflict_reason == "Member of the applying organisation" and a.declared_at is not None
    assert notifications_to(db, ann) == []  # nothing for them to do


def test_someone_who_joins_the_applicant_later_is_excluded_when_staff_next_assign(
    db, round_, application, panel, staff
):
    ann = panel[0]
    a = reviews.assign(application, ann, staff)
    add_member(application.organisation, ann)
    reviews.refresh_exclusions(round_.id)
    assert a.conflict is ConflictDeclaration.EXCLUDED


# --- bulk ------------------------------------------------------------------------------------------------------


def assigned(db, round_) -> dict[str, set[str]]:
    db.session.flush()
    rows = db.session.scalars(sa.select(ReviewAssignment)).all()
    out: dict[str, set[str]] = {}
    for a in rows:
        if a.active:
            out.setdefault(a.application.project_title, set()).add(a.reviewer.name)
    return out


def three_applications(round_, ben):
    first = make_application(round_, make_org(name="Org One"), title="P1")
    second_org = make_org(name="Org Two")
    add_member(second_org, ben)
    second = make_application(round_, second_org, title="P2")
    third = make_application(round_, make_org(name="Org Three"), title="P3")
    return first, second, third


def test_bulk_assignment_balances_load_with_a_fixed_tie_break_and_skips_members(db, round_, panel, staff):
    ann, ben, cat, dev = panel
    three_applications(round_, ben)
    result = reviews.bulk_assign(round_, 2, staff)
    # P1: all at 0 -> Ann, Ben (by name). P2: Ben is a member -> Cat, Dev (load 0). P3: all at 1 -> Ann, Ben.
    assert assigned(db, round_) == {"P1": {"Ann", "Ben"}, "P2": {"Cat", "Dev"}, "P3": {"Ann", "Ben"}}
    assert len(result.created) == 6 and result.short == []
    # One message per reviewer, with their count.
    assert [n.subject for n in notifications_to(db, ann)] == [f"2 applications to review in {round_.name}"]
    assert [n.subject for n in notifications_to(db, cat)] == [f"1 application to review in {round_.name}"]


def test_bulk_assignment_tops_up_and_never_rechooses_a_declared_conflict(db, round_, panel, staff):
    ann, ben, cat, dev = panel
    _, second, _ = three_applications(round_, ben)
    a = reviews.assign(second, cat, staff)
    reviews.declare(a, cat, has_conflict=True, reason="I chair their board")
    reviews.assign(second, dev, staff)
    reviews.bulk_assign(round_, 2, staff)
    # P2 keeps Dev and needs one more: not Cat (conflict), not Ben (member): Ann.
    assert assigned(db, round_)["P2"] == {"Dev", "Ann"}
    before = db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id)))
    again = reviews.bulk_assign(round_, 2, staff)
    assert again.created == [] and db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id))) == before


def test_bulk_assignment_reports_applications_it_cannot_fill(db, round_, panel, staff):
    ann, ben, cat, dev = panel
    _, second, _ = three_applications(round_, ben)
    result = reviews.bulk_assign(round_, 4, staff)
    assert [(a.project_title, missing) for a, missing in result.short] == [("P2", 1)]
    assert assigned(db, round_)["P2"] == {"Ann", "Cat", "Dev"}


def test_bulk_assignment_load_stays_even(db, round_, panel, staff):
    for n in range(7):
        make_application(round_, make_org(), title=f"A{n}")
    reviews.bulk_assign(round_, 3, staff)
    loads = sa.select(sa.func.count(ReviewAssignment.id)).group_by(ReviewAssignment.reviewer_id)
    counts = sorted(db.session.scalars(loads))
    assert sum(counts) == 21 and counts[-1] - counts[0] <= 1


@pytest.mark.parametrize("n", [0, 11])
def test_bulk_assignment_needs_a_sensible_number(db, round_, panel, staff, n):
    with pytest.raises(DomainError) as exc:
        reviews.bulk_assign(round_, n, staff)
    assert exc.value.field == "per_application"


# --- declaring ---------------------------------------------------------------------------------------------------


def test_declaring_a_conflict_needs_a_reason_and_removes_the_reviewer(db, application, panel, staff):
    ann = panel[0]
    a = reviews.assign(application, ann, staff)
    with pytest.raises(DomainError) as exc:
        reviews.declare(a, ann, has_conflict=True, reason="  ")
    assert exc.value.field == "reason"
    assert a.conflict is ConflictDeclaration.UNDECLARED
    reviews.declare(a, ann, has_conflict=True, reason="My daughter attends the club")
    assert a.conflict is ConflictDeclaration.CONFLICT and not a.active
    assert a.conflict_reason == "My daughter attends the club" and a.declared_at is not None
    with pytest.raises(Conflict):
        reviews.declare(a, ann, has_conflict=False)
    with pytest.raises(NotAllowed):
        reviews.save_scores(a, ann, {})


def test_only_the_assigned_reviewer_declares(db, application, panel, staff):
    a = reviews.assign(application, panel[0], staff)
    with pytest.raises(NotFound):
        reviews.declare(a, panel[1], has_conflict=False)


def test_a_conflict_can_be_declared_after_starting_but_not_after_submitting(db, application, panel, staff):
    ann, ben = panel[:2]
    started = make_review(application, ann, {"Need": 3}, by=staff, submit=False)
    reviews.declare(started, ann, has_conflict=True, reason="Realised I know the lead")
    assert started.conflict is ConflictDeclaration.CONFLICT
    done = make_review(application, ben, {"Need": 3, "Young people's voice": 3, "Deliverability": 3, "Value for money": 3}, by=staff)  # fmt: skip
    with pytest.raises(Conflict):
        reviews.declare(done, ben, has_conflict=True, reason="Too late")


# --- scoring -----------------------------------------------------------------------------------------------------


def test_scores_need_a_declaration_first(db, application, panel, staff):
    ann = panel[0]
    a = reviews.assign(application, ann, staff)
    with pytest.raises(Conflict) as exc:
        reviews.save_scores(a, ann, {})
    assert "conflict of interest first" in exc.value.message


def test_scores_are_saved_and_can_be_changed_until_submitted(db, round_, application, panel, staff):
    ann = panel[0]
    a = declared(application, ann, staff)
    need, voice, deliver, value = criteria_ids(round_)
    reviews.save_scores(a, ann, {need: ScoreInput(4, comment="Clear need"), voice: ScoreInput()})
    db.session.flush()
    assert {s.criterion_id: (s.score, s.comment) for s in a.scores} == {need: (4, "Clear need")}
    reviews.save_scores(a, ann, {need: ScoreInput(5, comment="Very clear need")})
    db.session.flush()
    assert db.session.scalars(sa.select(Score.score)).all() == [5]


@pytest.mark.parametrize("score", [-1, 6])
def test_a_score_outside_the_range_is_refused_at_its_field(db, round_, application, panel, staff, score):
    ann = panel[0]
    a = declared(application, ann, staff)
    need = criteria_ids(round_)[0]
    with pytest.raises(DomainError) as exc:
        reviews.save_scores(a, ann, {need: ScoreInput(score)})
    assert exc.value.field == f"score_{need}" and "from 0 to 5" in exc.value.message


def test_na_needs_a_reason_and_no_score(db, round_, application, panel, staff):
    ann = panel[0]
    a = declared(application, ann, staff)
    value = criteria_ids(round_)[3]
    with pytest.raises(DomainError) as exc:
        reviews.save_scores(a, ann, {value: ScoreInput(not_applicable=True)})
    assert exc.value.field == f"na_reason_{value}"
    with pytest.raises(DomainError) as exc:
        reviews.save_scores(a, ann, {value: ScoreInput(3, not_applicable=True, na_reason="Free")})
    assert exc.value.field == f"score_{value}"
    reviews.save_scores(
        a, ann, {value: ScoreInput(not_applicable=True, na_reason="No costs: volunteers only")}
    )
    db.session.flush()
    [s] = a.scores
    assert s.not_applicable and s.score is None and s.na_reason == "No costs: volunteers only"


def test_submitting_needs_every_criterion_scored_or_na_then_locks(db, round_, application, panel, staff):
    ann = panel[0]
    a = declared(application, ann, staff)
    need, voice, deliver, value = criteria_ids(round_)
    reviews.save_scores(a, ann, {need: ScoreInput(4), voice: ScoreInput(3)})
    with pytest.raises(reviews.ReviewIncomplete) as exc:
        reviews.submit_review(a, ann)
    assert set(exc.value.problems) == {f"score_{deliver}", f"score_{value}"}
    assert a.submitted_at is None
    reviews.save_scores(
        a, ann, {deliver: ScoreInput(2), value: ScoreInput(not_applicable=True, na_reason="Costs in kind")}
    )
    reviews.submit_review(a, ann)
    assert a.submitted_at is not None
    # weighted: (3*4/5 + 2*3/5 + 2*2/5) / (3+2+2) * 100 = (2.4 + 1.2 + 0.8) / 7 * 100 = 62.857...
    assert reviews.review_weighted_score(a) == pytest.approx(440 / 7)
    with pytest.raises(Conflict) as exc2:
        reviews.save_scores(a, ann, {need: ScoreInput(0)})
    assert "locked" in exc2.value.message
    with pytest.raises(Conflict):
        reviews.submit_review(a, ann)


def test_a_review_that_is_all_na_can_be_submitted_and_has_no_score(db, round_, application, panel, staff):
    ann = panel[0]
    a = make_review(application, ann, {c.name: "n/a" for c in round_.criteria}, by=staff)
    assert a.submitted_at is not None and reviews.review_weighted_score(a) is None


def test_the_applicant_updating_the_application_pauses_scoring(db, application, panel, staff):
    ann = panel[0]
    a = declared(application, ann, staff)
    application.status = ApplicationStatus.MORE_INFO_REQUESTED
    with pytest.raises(Conflict) as exc:
        reviews.save_scores(a, ann, {})
    assert "resubmitted" in exc.value.message


def test_others_scores_are_visible_only_after_submitting_and_without_names(
    db, round_, application, panel, staff
):
    ann, ben = panel[:2]
    all_three = {c.name: 3 for c in round_.criteria}
    ben_review = make_review(application, ben, {c.name: 5 for c in round_.criteria}, by=staff)
    ann_review = make_review(application, ann, all_three, by=staff, submit=False)
    assert reviews.other_reviews(ann_review, ann) == []
    reviews.submit_review(ann_review, ann)
    [other] = reviews.other_reviews(ann_review, ann)
    assert other.label == "Another reviewer 1" and other.weighted == pytest.approx(100.0)
    assert "Ben" not in repr(other.label)
    assert reviews.other_reviews(ben_review, ann) == []  # not theirs


# --- reminders and progress -----------------------------------------------------------------------------------


def test_reminders_go_to_reviewers_with_work_outstanding(db, round_, panel, staff):
    ann, ben, cat, _ = panel
    p1 = make_application(round_, make_org(), title="P1")
    p2 = make_application(round_, make_org(), title="P2")
    make_review(p1, ann, {c.name: 3 for c in round_.criteria}, by=staff)  # done
    reviews.assign(p1, ben, staff, notify_reviewer=False)  # not declared
    started = make_review(p2, ben, {"Need": 2}, by=staff, submit=False)  # in progress
    conflicted = reviews.assign(p2, cat, staff, notify_reviewer=False)
    reviews.declare(conflicted, cat, has_conflict=True, reason="Former employee")
    reminded = reviews.remind(round_, staff)
    assert [u.name for u in reminded] == ["Ben"]
    [note] = notifications_to(db, ben)
    assert note.subject == f"Reminder: 2 reviews to finish in {round_.name}"
    assert "P1 (conflict of interest not yet declared)" in note.body_text and "P2" in note.body_text
    assert started.reminded_at is not None and conflicted.reminded_at is None
    assert notifications_to(db, ann) == [] and notifications_to(db, cat) == []


def test_reminding_one_reviewer_with_nothing_outstanding_is_refused(db, round_, application, panel, staff):
    ann = panel[0]
    make_review(application, ann, {c.name: 3 for c in round_.criteria}, by=staff)
    with pytest.raises(DomainError):
        reviews.remind(round_, staff, reviewer_id=ann.id)


def test_progress_per_application_and_reviewer(db, round_, panel, staff):
    ann, ben, cat, dev = panel
    p1 = make_application(round_, make_org(), title="P1")
    make_review(p1, ann, {c.name: 3 for c in round_.criteria}, by=staff)
    reviews.assign(p1, ben, staff, notify_reviewer=False)
    c = reviews.assign(p1, cat, staff, notify_reviewer=False)
    reviews.declare(c, cat, has_conflict=True, reason="Trustee")
    progress = reviews.progress(round_, panel)
    [p] = progress.applications
    assert (p.submitted, len(p.active), [a.reviewer.name for a in p.conflicts]) == (1, 2, ["Cat"])
    by_name = {r.reviewer.name: r for r in progress.reviewers}
    assert (by_name["Ann"].assigned, by_name["Ann"].submitted, by_name["Ann"].outstanding) == (1, 1, 0)
    assert (by_name["Ben"].assigned, by_name["Ben"].undeclared, by_name["Ben"].outstanding) == (1, 1, 1)
    assert by_name["Cat"].conflicts == 1 and by_name["Dev"].assigned == 0
    assert [a.conflict_reason for a in progress.conflicts] == ["Trustee"]
