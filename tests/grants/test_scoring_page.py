"""The panel's scoring page: comments open on demand, a running weighted total (the saved scores' total without
scripts), and every problem reported at once, in page order, each at its field, with nothing saved."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from foundation.grants import reviews
from foundation.grants.models import Score
from foundation.grants.reviews import ScoreInput
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def ann(db):
    return make_user(email="ann@panel.example.org", name="Ann Panel", panel=True)


@pytest.fixture
def assignment(db, round_, ann):
    application = make_application(round_, make_org(name="Calne Youth Forum"), title="Calne Night Kitchen")
    a = reviews.assign(application, ann, ann, notify_reviewer=False)
    reviews.declare(a, ann, has_conflict=False)
    db.session.commit()
    return a


@pytest.fixture
def c(app, ann):
    client = app.test_client()
    login(client, ann)
    return client


def html(resp) -> str:
    return resp.get_data(as_text=True)


def summary_links(page: str) -> list[tuple[str, str]]:
    """The error summary's links, in order: (target, text)."""
    box = page[
        page.index('class="error-summary"') : page.index("</div>", page.index('class="error-summary"'))
    ]
    return re.findall(r'<a href="#([^"]+)">([^<]*)</a>', box)


def details_of(page: str, criterion_id: int) -> str:
    """The opening tag of a criterion's comment box."""
    box = page[page.index(f'id="criterion-{criterion_id}"') :]
    return re.search(r"<details[^>]*>", box).group(0)


def test_comments_open_on_demand_and_stay_open_when_there_is_one(db, c, assignment, round_):
    need, voice, _, _ = round_.criteria
    page = html(c.get(f"/panel/assignments/{assignment.id}"))
    assert page.count('<details class="criterion-comment">') == 4  # all closed
    assert page.count("<summary>Add a comment") == 4
    assert f'<span class="visually-hidden"> on {need.name}</span>' in page

    c.post(
        f"/panel/assignments/{assignment.id}",
        data={"action": "save", f"score_{need.id}": "4", f"comment_{need.id}": "Strong local evidence"},
    )
    page = html(c.get(f"/panel/assignments/{assignment.id}"))
    assert details_of(page, need.id) == '<details class="criterion-comment" open>'
    assert details_of(page, voice.id) == '<details class="criterion-comment">'
    assert "Strong local evidence" in page


def test_every_problem_is_reported_at_once_in_page_order_and_nothing_is_saved(db, c, assignment, round_):
    need, voice, deliver, value = round_.criteria
    data = {
        "action": "submit",
        f"score_{need.id}": "9",  # out of range
        f"comment_{need.id}": "x" * 5001,  # too long
        f"score_{voice.id}": "four",  # not a number
        f"na_{deliver.id}": "y",  # n/a without a reason
        # value: not scored, and this is a submission
    }
    resp = c.post(f"/panel/assignments/{assignment.id}", data=data)
    assert resp.status_code == 422
    page = html(resp)
    assert "<title>Error: " in page
    expected = [
        (f"score_{need.id}", "Score Need from 0 to 5."),
        (f"comment_{need.id}", "Keep your comment on Need under 5,000 characters."),
        (f"score_{voice.id}", "Score Young people&#39;s voice as a whole number from 0 to 5."),
        (f"na_reason_{deliver.id}", "Say why Deliverability does not apply to this application."),
        (f"score_{value.id}", "Score Value for money from 0 to 5, or mark it n/a."),
    ]
    links = summary_links(page)
    assert [target for target, _ in links] == [target for target, _ in expected]
    for (target, message), (_, text) in zip(expected, links, strict=True):
        assert text.endswith(message)
        assert f'<p class="error" id="{target}-error">{message}</p>' in page  # and at the field
        assert re.search(
            rf'id="{target}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{target}"', page
        )
    # The comment with a problem is shown open, so its link can move focus to it.
    assert details_of(page, need.id) == '<details class="criterion-comment" open>'
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0
    db.session.refresh(assignment)
    assert assignment.submitted_at is None


def test_saving_part_of_the_scores_reports_only_what_is_wrong(db, c, assignment, round_):
    need, voice, deliver, value = round_.criteria
    resp = c.post(
        f"/panel/assignments/{assignment.id}",
        data={"action": "save", f"score_{need.id}": "4", f"na_{value.id}": "y", f"score_{voice.id}": "-1"},
    )
    assert resp.status_code == 422
    targets = [t for t, _ in summary_links(html(resp))]
    assert targets == [f"score_{voice.id}", f"na_reason_{value.id}"]  # unscored criteria are fine for a save
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0  # not even the good score of Need


def test_the_running_total_shows_the_saved_scores_and_a_script_updates_it(app, db, c, assignment, round_):
    need, voice, deliver, value = round_.criteria
    page = html(c.get(f"/panel/assignments/{assignment.id}"))
    assert '<output id="weighted-total">—</output>' in page
    assert "from 0 of 4 criteria scored" in page
    for crit in round_.criteria:
        assert f'data-weight="{crit.weight}" data-max="{crit.max_score}"' in page
    assert re.search(r'<script src="/static/js/review-scoring\.js[^"]*" defer></script>', page)
    assert "<script>" not in page  # no inline script: the CSP refuses them

    resp = c.post(
        f"/panel/assignments/{assignment.id}",
        data={
            "action": "save",
            f"score_{need.id}": "4",
            f"score_{voice.id}": "3",
            f"score_{deliver.id}": "2",
            f"na_{value.id}": "y",
            f"na_reason_{value.id}": "Everything is donated",
        },
        follow_redirects=True,
    )
    page = html(resp)
    # (3 * 4/5 + 2 * 3/5 + 2 * 2/5) / 7 * 100, n/a left out: as the ranking works it out.
    assert '<output id="weighted-total">62.9</output>' in page and "from 3 of 4 criteria scored" in page
    script = app.test_client().get("/static/js/review-scoring.js")
    assert script.status_code == 200 and "data-weight" in script.get_data(as_text=True)


def test_score_problems_lists_each_criterion_in_order(db, round_):
    need, voice, deliver, value = round_.criteria
    entries = {
        need.id: ScoreInput(score=3, not_applicable=True, na_reason=""),
        voice.id: ScoreInput(score=7),
        deliver.id: ScoreInput(comment="y" * 5001),
    }
    assert list(reviews.score_problems(round_.criteria, entries, complete=True).items()) == [
        (f"score_{need.id}", "Give Need a score or mark it n/a, not both."),
        (f"na_reason_{need.id}", "Say why Need does not apply to this application."),
        (f"score_{voice.id}", "Score Young people's voice from 0 to 5."),
        (f"score_{deliver.id}", "Score Deliverability from 0 to 5, or mark it n/a."),
        (f"comment_{deliver.id}", "Keep your comment on Deliverability under 5,000 characters."),
        (f"score_{value.id}", "Score Value for money from 0 to 5, or mark it n/a."),
    ]
    assert reviews.score_problems(round_.criteria, {}, complete=False) == {}


def test_the_service_refuses_all_problems_together_and_writes_nothing(db, round_, assignment, ann):
    need, voice, _, _ = round_.criteria
    with pytest.raises(reviews.ScoresInvalid) as exc:
        reviews.save_scores(
            assignment, ann, {need.id: ScoreInput(score=4), voice.id: ScoreInput(score=6)}, complete=True
        )
    assert exc.value.status_code == 422 and len(exc.value.problems) == 3
    assert exc.value.field == f"score_{voice.id}"
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0
