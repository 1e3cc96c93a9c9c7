"""Panel and staff review pages: declaring, scoring, submitting, who sees what, assigning, reminding, the ranking
page (both sorts, the funding line, a constant number of queries) and the CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from foundation.grants.models import ConflictDeclaration, ReviewAssignment, RoundStatus, Score
from tests.conftest import text_of
from tests.factories import add_member, login, make_org, make_user
from tests.grants.factories import make_application, make_review, make_round

DESCRIPTION = "A project designed and led by young people, with trained youth workers."  # the factory's text


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUERY_COUNT_HEADER": True}


# Builders call services that link to pages in notifications.
pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def ann(db):
    return make_user(email="ann@panel.example.org", name="Ann Panel", panel=True)


@pytest.fixture
def ben(db):
    return make_user(email="ben@panel.example.org", name="Ben Panel", panel=True)


@pytest.fixture
def application(round_):
    return make_application(round_, make_org(name="Calne Youth Forum"), title="Calne Night Kitchen")


def client_for(app, user):
    c = app.test_client()
    login(c, user)
    return c


def assignment_of(application, reviewer):
    from foundation.grants import reviews

    return reviews.assign(application, reviewer, reviewer, notify_reviewer=False)


def page(resp) -> str:
    return resp.get_data(as_text=True)


def all_scores(round_, value: int | str = 3, **changes) -> dict[str, str]:
    data = {}
    for c in round_.criteria:
        data[f"score_{c.id}"] = str(value)
    data.update(changes)
    return data


# --- the panel: declaring, then scoring --------------------------------------------------------------------------


def test_panel_home_lists_my_assignments_only(app, db, application, ann, ben):
    mine = assignment_of(application, ann)
    other = make_application(application.round, make_org(), title="Someone Else's Review")
    assignment_of(other, ben)
    resp = client_for(app, ann).get("/panel")
    assert resp.status_code == 200
    html = page(resp)
    assert "Calne Night Kitchen" in html and "Declare any conflict of interest" in html
    assert f"/panel/assignments/{mine.id}" in html and "Someone Else&#39;s Review" not in html


def test_details_stay_hidden_until_no_conflict_is_declared(app, db, application, ann):
    a = assignment_of(application, ann)
    c = client_for(app, ann)
    html = page(c.get(f"/panel/assignments/{a.id}"))
    assert "Calne Youth Forum" in html and "any conflict of interest?" in html
    assert DESCRIPTION not in html and "Your scores" not in html
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "declare", "declare-conflict": "none"})
    assert resp.status_code == 303
    html = page(c.get(f"/panel/assignments/{a.id}"))
    assert DESCRIPTION in html and "Your scores" in html and "You can now read and score" in html
    db.session.refresh(a)
    assert a.conflict is ConflictDeclaration.NONE and a.declared_at is not None


def test_declaring_a_conflict_needs_a_reason_then_hides_the_application(app, db, application, ann):
    a = assignment_of(application, ann)
    c = client_for(app, ann)
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "declare", "declare-conflict": "conflict"})
    assert resp.status_code == 422
    assert re.search(
        r'class="error" id="declare-reason-error">Say briefly what the conflict of interest is', page(resp)
    )
    db.session.refresh(a)
    assert a.conflict is ConflictDeclaration.UNDECLARED
    resp = c.post(
        f"/panel/assignments/{a.id}",
        data={"action": "declare", "declare-conflict": "conflict", "declare-reason": "I am their treasurer"},
        follow_redirects=True,
    )
    html = page(resp)
    assert (
        resp.status_code == 200 and "Conflict of interest declared" in html and "I am their treasurer" in html
    )
    assert DESCRIPTION not in html and "Your scores" not in html
    db.session.refresh(a)
    assert (a.conflict, a.conflict_reason, a.active) == (
        ConflictDeclaration.CONFLICT,
        "I am their treasurer",
        False,
    )
    # Trying to score anyway is refused, and nothing is written.
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "save", **all_scores(application.round)})
    assert resp.status_code == 403 and DESCRIPTION not in page(resp)
    assert "You are not reviewing this application." in page(resp)
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0


def test_a_member_of_the_applicant_never_sees_the_details(app, db, application, ann):
    a = assignment_of(application, ann)
    add_member(application.organisation, ann)
    c = client_for(app, ann)
    html = page(c.get(f"/panel/assignments/{a.id}"))
    assert "You cannot review this application" in html and DESCRIPTION not in html
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "declare", "declare-conflict": "none"})
    assert resp.status_code == 303
    db.session.refresh(a)
    assert a.conflict is ConflictDeclaration.EXCLUDED


def test_scoring_save_come_back_and_submit_locks(app, db, round_, application, ann):
    a = assignment_of(application, ann)
    c = client_for(app, ann)
    c.post(f"/panel/assignments/{a.id}", data={"action": "declare", "declare-conflict": "none"})
    need, voice, deliver, value = round_.criteria
    # Out of range: the message sits at the score field, nothing saved.
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "save", f"score_{need.id}": "9"})
    assert resp.status_code == 422
    assert f'id="score_{need.id}-error">Score Need from 0 to 5.' in page(resp)
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0
    # n/a without a reason.
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "save", f"na_{value.id}": "y"})
    assert resp.status_code == 422
    assert "Say why Value for money does not apply" in page(resp)
    # Save part, come back: the values are there.
    resp = c.post(
        f"/panel/assignments/{a.id}",
        data={"action": "save", f"score_{need.id}": "4", f"comment_{need.id}": "Strong local evidence"},
        follow_redirects=True,
    )
    html = page(resp)
    assert "Your scores are saved" in html
    assert re.search(rf'name="score_{need.id}"[^>]*value="4"', html) and "Strong local evidence" in html
    # Submitting with criteria missing is refused at each of them.
    resp = c.post(f"/panel/assignments/{a.id}", data={"action": "submit", f"score_{need.id}": "4"})
    assert resp.status_code == 422
    html = page(resp)
    for crit in (voice, deliver, value):
        assert f'id="score_{crit.id}-error">Score {crit.name}'.replace("'", "&#39;") in html
    db.session.refresh(a)
    assert a.submitted_at is None
    data = {
        "action": "submit",
        f"score_{need.id}": "4",
        f"score_{voice.id}": "3",
        f"score_{deliver.id}": "2",
        f"na_{value.id}": "y",
        f"na_reason_{value.id}": "Everything is donated",
    }
    resp = c.post(f"/panel/assignments/{a.id}", data=data, follow_redirects=True)
    html = page(resp)
    assert "Your review is submitted" in html and "Your scores are locked" in html
    assert "62.9" in html  # (2.4 + 1.2 + 0.8) / 7 * 100
    db.session.refresh(a)
    assert a.submitted_at is not None
    resp = c.post(f"/panel/assignments/{a.id}", data={**data, "action": "save", f"score_{need.id}": "0"})
    assert resp.status_code == 409 and "locked" in page(resp)
    assert db.session.scalar(sa.select(Score.score).where(Score.criterion_id == need.id)) == 4


def test_reviewers_cannot_see_others_scores_before_submitting(app, db, round_, application, ann, ben):
    # Ben: Need 5, Voice 0, Deliverability 5, Value 0 -> (3 + 0 + 2 + 0) / 8 * 100 = 62.5
    make_review(
        application, ben, {"Need": 5, "Young people's voice": 0, "Deliverability": 5, "Value for money": 0}
    )
    a = make_review(application, ann, {"Need": 4}, submit=False)
    c = client_for(app, ann)
    html = page(c.get(f"/panel/assignments/{a.id}"))
    assert DESCRIPTION in html
    assert "62.5" not in html and "Another reviewer" not in html and "Ben Panel" not in html
    resp = c.post(
        f"/panel/assignments/{a.id}",
        data={"action": "submit", **all_scores(round_, 4)},
        follow_redirects=True,
    )
    html = page(resp)
    assert "Another reviewer 1" in html and "62.5" in html and "80.0" in html
    assert "Ben Panel" not in html  # never a name


def test_an_unassigned_reviewer_gets_404_and_a_non_panel_user_403(app, db, application, ann, ben):
    a = assignment_of(application, ann)
    assert client_for(app, ben).get(f"/panel/assignments/{a.id}").status_code == 404
    assert client_for(app, ben).post(f"/panel/assignments/{a.id}", data={"action": "save"}).status_code == 404
    member = make_user(name="Mo Member")
    c = client_for(app, member)
    assert c.get(f"/panel/assignments/{a.id}").status_code == 403
    assert c.get("/panel").status_code == 403
    assert app.test_client().get("/panel").status_code == 302


# --- staff: assigning and reminding ----------------------------------------------------------------------------


def test_staff_assign_one_reviewer_and_see_an_exclusion(
    app, db, round_, application, staff, ann, ben, mailbox
):
    add_member(application.organisation, ben)
    c = client_for(app, staff)
    url = f"/staff/grants/rounds/{round_.id}/reviewers"
    resp = c.post(url, data={"action": "assign", "assign-application_id": str(application.id), "assign-reviewer_id": str(ann.id)}, follow_redirects=True)  # fmt: skip
    assert resp.status_code == 200 and f"Ann Panel will review {application.reference}" in page(resp)
    assert "to review in" in mailbox.last_to("ann@panel.example.org")["Subject"]
    resp = c.post(url, data={"action": "assign", "assign-application_id": str(application.id), "assign-reviewer_id": str(ben.id)}, follow_redirects=True)  # fmt: skip
    assert "Ben Panel belongs to Calne Youth Forum, so they are excluded" in page(resp)
    resp = c.post(url, data={"action": "assign", "assign-application_id": str(application.id), "assign-reviewer_id": str(ann.id)})  # fmt: skip
    assert resp.status_code == 409
    assert 'id="assign-reviewer_id-error">Ann Panel is already reviewing this application.' in page(resp)
    states = dict(
        db.session.execute(sa.select(ReviewAssignment.reviewer_id, ReviewAssignment.conflict)).all()
    )
    assert states == {ann.id: ConflictDeclaration.UNDECLARED, ben.id: ConflictDeclaration.EXCLUDED}
    html = page(c.get(url))
    assert "Member of the applying organisation" in html  # in the conflicts list


def test_staff_bulk_assign_and_see_progress(app, db, round_, staff, ann, ben):
    for n in range(3):
        make_application(round_, make_org(), title=f"Bulk {n}")
    c = client_for(app, staff)
    url = f"/staff/grants/rounds/{round_.id}/reviewers"
    resp = c.post(url, data={"action": "bulk", "bulk-per_application": "0"})
    assert resp.status_code == 422 and 'id="bulk-per_application-error">Choose between 1 and 10' in page(resp)
    resp = c.post(url, data={"action": "bulk", "bulk-per_application": "3"}, follow_redirects=True)
    html = page(resp)
    assert "6 reviews assigned" in html and "Not enough eligible reviewers for 3 applications" in html
    assert db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id))) == 6
    assert html.count("0 of 2") == 3  # per application: submitted of assigned


def test_staff_remind_reviewers_who_have_not_submitted(
    app, db, round_, application, staff, ann, ben, mailbox
):
    make_review(application, ann, {c.name: 3 for c in round_.criteria})
    pending = assignment_of(application, ben)
    c = client_for(app, staff)
    resp = c.post(
        f"/staff/grants/rounds/{round_.id}/reviewers", data={"action": "remind"}, follow_redirects=True
    )
    assert "Reminder sent to Ben Panel." in page(resp)
    msg = mailbox.last_to("ben@panel.example.org")
    assert msg["Subject"].startswith("Reminder: 1 review to finish") and "/panel" in text_of(msg)
    assert mailbox.to("ann@panel.example.org") == []
    db.session.refresh(pending)
    assert pending.reminded_at is not None
    resp = c.post(f"/staff/grants/rounds/{round_.id}/reviewers", data={"action": "remind", "remind-reviewer_id": str(ann.id)})  # fmt: skip
    assert resp.status_code == 422 and "nothing outstanding" in page(resp)


def test_reviewer_pages_are_staff_only(app, db, round_, ann):
    c = client_for(app, ann)
    for url in ("reviewers", "ranking", "export.csv"):
        assert c.get(f"/staff/grants/rounds/{round_.id}/{url}").status_code == 403


# --- staff: ranking ----------------------------------------------------------------------------------------------

WORKED_CRITERIA = (
    ("Need", "How clearly the project meets a need.", 3, 5),
    ("Value for money", "Costs are reasonable.", 1, 10),
)
# See tests/grants/test_ranking.py for the hand-worked figures.
WORKED = {
    ("alice", "X"): (5, 6),
    ("alice", "Y"): (3, 6),
    ("alice", "Z"): ("n/a", 3),
    ("bob", "X"): (3, 6),
    ("bob", "Y"): (4, 8),
    ("bob", "Z"): (4, 4),
}
AMOUNTS = {"X": 150_000, "Y": 300_000, "Z": 100_000}


def build_worked_round(staff, titles=None, org_names=None, comment=None):
    round_ = make_round(
        status=RoundStatus.IN_REVIEW, criteria=WORKED_CRITERIA, budget_pence=400_000, by=staff
    )
    apps = {
        name: make_application(
            round_, make_org(name=(org_names or {}).get(name, f"Org {name}")), amount_pence=AMOUNTS[name],
            title=(titles or {}).get(name, f"Project {name}"),
        )
        for name in "XYZ"
    }  # fmt: skip
    people = {
        "alice": make_user(name="Alice Reviewer", panel=True),
        "bob": make_user(name="Bob Reviewer", panel=True),
    }
    for (who, app_name), (need, value) in WORKED.items():
        a = make_review(apps[app_name], people[who], {"Need": need, "Value for money": value}, by=staff)
        if comment and (who, app_name) == ("alice", "X"):
            for s in a.scores:
                s.comment = comment
    return round_, apps


def order_in(html: str, *needles: str) -> list[int]:
    return [html.index(n) for n in needles]


def test_ranking_sorted_by_calibrated_and_by_raw_score_with_the_funding_line(app, db, staff):
    round_, apps = build_worked_round(staff)
    c = client_for(app, staff)
    resp = c.get(f"/staff/grants/rounds/{round_.id}/ranking")
    assert resp.status_code == 200
    html = page(resp)
    y, line, x, z = order_in(html, "Project Y", "Funding line:", "Project X", "Project Z")
    assert y < line < x < z
    assert "56.1" in html and "43.9" in html and "75.0" in html and html.count(">Disagreement<") == 2
    assert "the remaining budget of £4,000 runs out here" in html and "leaving £1,000" in html
    assert "Alice Reviewer: 90.0" in html and "Bob Reviewer: 60.0" in html
    assert "How these scores are worked out" in html and "50 + 10 × z" in html
    html = page(c.get(f"/staff/grants/rounds/{round_.id}/ranking?sort=raw"))
    x, line, y, z = order_in(html, "Project X", "Funding line:", "Project Y", "Project Z")
    assert x < line < y < z and "leaving £2,500" in html


def test_ranking_with_no_applications_and_an_unknown_sort(app, db, round_, staff):
    resp = client_for(app, staff).get(f"/staff/grants/rounds/{round_.id}/ranking?sort=bogus")
    assert resp.status_code == 200 and "No applications have been submitted" in page(resp)
    assert client_for(app, staff).get("/staff/grants/rounds/999999/ranking").status_code == 404


def _grow(round_, staff, reviewers, count: int) -> None:
    for n in range(count):
        app_ = make_application(round_, make_org(), amount_pence=100_000 + n * 1_000)
        for i, r in enumerate(reviewers):
            make_review(app_, r, {c.name: (n + i) % 6 for c in round_.criteria}, by=staff)


def test_ranking_runs_the_same_number_of_queries_for_3_and_15_applications(app, db, round_, staff, ann, ben):
    c = client_for(app, staff)
    _grow(round_, staff, [ann, ben], 3)
    small = c.get(f"/staff/grants/rounds/{round_.id}/ranking")
    _grow(round_, staff, [ann, ben], 12)
    large = c.get(f"/staff/grants/rounds/{round_.id}/ranking")
    assert small.status_code == large.status_code == 200
    assert page(large).count('id="rank-') == 15
    assert int(small.headers["X-Query-Count"]) == int(large.headers["X-Query-Count"])
    assert int(large.headers["X-Query-Count"]) <= 10


# --- staff: the CSV export -------------------------------------------------------------------------------------


def test_csv_export_has_one_row_per_review_and_guards_against_formulas(app, db, staff):
    round_, apps = build_worked_round(
        staff,
        titles={"X": '=HYPERLINK("http://evil.example","click")'},
        org_names={"X": "@SUM(A1:A9)"},
        comment="-2+3 is what I think",
    )
    resp = client_for(app, staff).get(f"/staff/grants/rounds/{round_.id}/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and f"{round_.code}-reviews-" in disposition
    assert disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert len(rows) == 6
    assert [r["Project title"] for r in rows[:2]] == ["Project Y", "Project Y"]  # calibrated order
    x_rows = [r for r in rows if r["Reference"] == apps["X"].reference]
    alice = next(r for r in x_rows if r["Reviewer"] == "Alice Reviewer")
    assert alice["Project title"] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert alice["Organisation"] == "'@SUM(A1:A9)"
    assert alice["Need comment"] == "'-2+3 is what I think"
    assert alice["Weighted score (0-100)"] == "90.0" and alice["Review z"] == "1.225"
    assert (
        alice["Need score (0-5, weight 3)"] == "5" and alice["Value for money score (0-10, weight 1)"] == "6"
    )
    assert alice["Mean score (0-100)"] == "75.0" and alice["Calibrated (0-100)"] == "50.0"
    assert alice["Disagreement"] == "yes" and alice["Amount requested (GBP)"] == "1500.00"
    bob = next(r for r in x_rows if r["Reviewer"] == "Bob Reviewer")
    assert bob["Review z"] == "-1.225"  # a number we computed: no apostrophe
    z_alice = next(
        r for r in rows if r["Reference"] == apps["Z"].reference and r["Reviewer"] == "Alice Reviewer"
    )
    assert z_alice["Need score (0-5, weight 3)"] == "n/a"
    assert z_alice["Need n/a reason"] == "Does not apply to this project"
    assert all(r["Review status"] == "Submitted" for r in rows)
