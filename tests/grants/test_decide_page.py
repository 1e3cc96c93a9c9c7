"""What staff see when deciding: each reviewer's scores per criterion and comments, conflicts shown as such with no
scores, each review's weighted score, and the application's mean and calibrated score exactly as the ranking page
has them. And on a round's page, how many applications were declined for each reason."""

from __future__ import annotations

import re

import pytest

from foundation.grants import decisions, ranking, reviews, rounds
from foundation.grants.models import DecisionOutcome, DeclineReason, RoundStatus
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application, make_review, make_round

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUERY_COUNT_HEADER": True}


def html(resp) -> str:
    return resp.get_data(as_text=True)


def row_of(page: str, row_id: str) -> str:
    start = page.index(f'<tr id="{row_id}">')
    return page[start : page.index("</tr>", start)]


def item_of(page: str, assignment_id: int) -> str:
    start = page.index(f'<li id="review-{assignment_id}">')
    return page[start : page.index("</li>", start)]


def weighted_of(row, assignment) -> str:
    return f"{next(r.weighted for r in row.reviews if r.assignment_id == assignment.id):.1f}"


@pytest.fixture
def panel(db):
    return [
        make_user(email=f"{name.lower()}@panel.example.org", name=f"{name} Panel", panel=True)
        for name in ("Ann", "Ben", "Cat", "Dan")
    ]


@pytest.fixture
def scored(db, round_, staff, panel):
    """Two applications scored by Ann and Ben (so calibration has something to work on); on the first, Cat
    declared a conflict and Dan has not submitted yet."""
    ann, ben, cat, dan = panel
    first = make_application(round_, make_org(), title="Calne Night Kitchen")
    second = make_application(round_, make_org(), title="Melksham skate jam")
    a1 = make_review(
        first,
        ann,
        {"Need": 5, "Young people's voice": 4, "Deliverability": 5, "Value for money": "n/a"},
        by=staff,
    )
    b1 = make_review(
        first,
        ben,
        {"Need": 3, "Young people's voice": 3, "Deliverability": 2, "Value for money": 4},
        by=staff,
    )
    make_review(second, ann, {c.name: 2 for c in round_.criteria}, by=staff)
    make_review(second, ben, {c.name: 1 for c in round_.criteria}, by=staff)
    need = round_.criteria[0]
    next(
        s for s in a1.scores if s.criterion_id == need.id
    ).comment = "Clear evidence from the youth council survey."
    conflicted = reviews.assign(first, cat, staff, notify_reviewer=False)
    reviews.declare(conflicted, cat, has_conflict=True, reason="I chair their trustees.")
    pending = make_review(first, dan, {"Need": 1}, by=staff, submit=False)
    db.session.commit()
    return first, {"ann": a1, "ben": b1, "cat": conflicted, "dan": pending}


def test_the_decide_page_shows_each_reviewers_scores_comments_and_the_ranking_figures(
    app, db, staff, round_, scored
):
    application, by = scored
    c = app.test_client()
    login(c, staff)
    resp = c.get(f"/staff/grants/applications/{application.id}/decide")
    assert resp.status_code == 200
    page = html(resp)

    row = next(r for r in ranking.round_ranking(round_).rows if r.application_id == application.id)
    assert f'<dd id="mean-score">{row.mean:.1f} ' in page
    assert f'<dd id="calibrated-score">{row.calibrated:.1f} ' in page
    assert f'<dd id="rank">{row.position} of 2 by calibrated score</dd>' in page

    # One column per submitted review (by name), one row per criterion; the weighted score and z beneath.
    assert page.index(f'id="reviewer-{by["ann"].id}">Ann Panel<') < page.index(
        f'id="reviewer-{by["ben"].id}">Ben Panel<'
    )
    marks = [
        re.findall(r'<td class="num">(.*?)</td>', row_of(page, f"criterion-{c.id}")) for c in round_.criteria
    ]
    assert marks == [["5", "3"], ["4", "3"], ["5", "2"], ["n/a", "4"]]
    for name in ("ann", "ben"):
        cell = page[page.index(f'id="weighted-{by[name].id}">') :]
        cell = cell[: cell.index("</td>")]
        assert f"<strong>{weighted_of(row, by[name])}</strong>" in cell
        assert f"z {row.z[by[name].id]:+.2f}" in cell
    assert f'id="reviewer-{by["cat"].id}"' not in page and f'id="reviewer-{by["dan"].id}"' not in page

    cat = item_of(page, by["cat"].id)
    assert "Cat Panel</strong>: conflict declared. No scores" in cat and "I chair their trustees." in cat
    dan = item_of(page, by["dan"].id)
    assert "Dan Panel</strong>: in progress. Their scores are shown once the review is submitted." in dan

    assert "Reviewers' comments" in page
    assert "Clear evidence from the youth council survey." in page
    assert "n/a: Does not apply to this project" in page
    assert 'class="table-wrap" tabindex="0" role="region"' in page
    assert 'id="remaining"' in page  # the budget left is still there


def test_the_decide_page_runs_the_same_queries_whatever_the_number_of_reviewers(
    app, db, staff, round_, panel
):
    application = make_application(round_, make_org(), title="Counted")
    db.session.commit()
    c = app.test_client()
    login(c, staff)
    url = f"/staff/grants/applications/{application.id}/decide"

    def statements() -> int:
        c.get(url)
        return int(c.get(url).headers["X-Query-Count"])

    make_review(application, panel[0], {crit.name: 3 for crit in round_.criteria}, by=staff)
    db.session.commit()
    few = statements()
    for reviewer in panel[1:]:
        make_review(application, reviewer, {crit.name: 4 for crit in round_.criteria}, by=staff)
    conflicted = make_user(panel=True)
    reviews.declare(
        reviews.assign(application, conflicted, staff, notify_reviewer=False), conflicted, True, "Mine"
    )
    db.session.commit()
    assert statements() == few


# --- declined, by reason -----------------------------------------------------------------------------------------


def test_a_rounds_page_counts_the_applications_declined_for_each_reason(app, db, staff, round_):
    reasons = decisions.ensure_default_decline_reasons()
    priorities, _, scored_below = reasons[0], reasons[1], reasons[2]
    retired = DeclineReason(label="An old reason", active=False, position=99)
    db.session.add(retired)
    db.session.flush()

    def decline(reason) -> None:
        app_ = make_application(round_, make_org())
        decisions.decide(
            app_,
            staff,
            decisions.DecisionInput(DecisionOutcome.DECLINE, decline_reason_id=reason.id, feedback="Sorry"),
        )

    for reason in (priorities, priorities, scored_below):
        decline(reason)
    retired.active = True
    decline(retired)
    retired.active = False
    decisions.decide(
        make_application(round_, make_org()), staff, decisions.DecisionInput(DecisionOutcome.AWARD_FULL)
    )
    # Another round's declines are not counted here.
    other = make_round(status=RoundStatus.IN_REVIEW)
    decisions.decide(
        make_application(other, make_org()),
        staff,
        decisions.DecisionInput(DecisionOutcome.DECLINE, decline_reason_id=priorities.id, feedback="Sorry"),
    )
    db.session.commit()

    c = app.test_client()
    login(c, staff)
    page = html(c.get(f"/staff/grants/rounds/{round_.id}"))
    counts = dict(
        re.findall(r'<tr id="declined-(\d+)"><th scope="row">.*?</th><td class="num">(\d+)</td>', page)
    )
    assert counts[str(priorities.id)] == "2" and counts[str(scored_below.id)] == "1"
    assert counts[str(retired.id)] == "1" and "(switched off)" in page  # used here, though no longer offered
    assert counts[str(reasons[1].id)] == "0"  # still offered, never used
    assert '<td class="num" id="declined-total">4</td>' in page
    assert [r.declined for r in rounds.decline_counts(other.id) if r.declined] == [1]


def test_the_counts_are_one_grouped_query(app, db, staff, round_):
    reasons = decisions.ensure_default_decline_reasons()
    db.session.commit()
    c = app.test_client()
    login(c, staff)
    url = f"/staff/grants/rounds/{round_.id}"
    c.get(url)
    before = int(c.get(url).headers["X-Query-Count"])
    for reason in reasons:
        decisions.decide(
            make_application(round_, make_org()),
            staff,
            decisions.DecisionInput(DecisionOutcome.DECLINE, decline_reason_id=reason.id, feedback="Sorry"),
        )
    db.session.add(DeclineReason(label="One more", position=50))
    db.session.commit()
    assert int(c.get(url).headers["X-Query-Count"]) == before
    assert sum(r.declined for r in rounds.decline_counts(round_.id)) == len(reasons)
