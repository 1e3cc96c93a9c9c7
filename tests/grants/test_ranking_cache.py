"""The ranking is worked out once per change of its round: kept while nothing moves, fresh after any change."""

from __future__ import annotations

import pytest

from foundation.grants import ranking
from foundation.grants.models import ConflictDeclaration
from tests.factories import make_org, make_user
from tests.grants.factories import make_application, make_review

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def scored(db, staff, round_):
    reviewer = make_user(panel=True)
    apps = [make_application(round_, make_org(name=f"Group {n}"), by=staff) for n in range(2)]
    make_review(
        apps[0], reviewer, {"Need": 5, "Young people's voice": 5, "Deliverability": 5, "Value for money": 5}
    )
    make_review(
        apps[1], reviewer, {"Need": 1, "Young people's voice": 1, "Deliverability": 1, "Value for money": 1}
    )
    db.session.commit()
    return reviewer, apps


def test_unchanged_round_reuses_its_scores_and_any_change_is_seen(db, staff, round_, scored, monkeypatch):
    reviewer, apps = scored
    calls = []
    real = ranking.review_scores
    monkeypatch.setattr(ranking, "review_scores", lambda round_id: calls.append(round_id) or real(round_id))
    ranking._ranking_cache.clear()

    first = ranking.round_ranking(round_)
    again = ranking.round_ranking(round_)
    assert len(calls) == 1
    assert (
        [r.application_id for r in first.rows]
        == [r.application_id for r in again.rows]
        == [a.id for a in apps]
    )
    assert first.rows[0] is not again.rows[0]  # each request numbers its own copy

    # A reviewer changes a score: the order follows at once.
    assignment = next(a for a in apps[1].assignments if a.reviewer_id == reviewer.id)
    for score in assignment.scores:
        score.score = score.criterion.max_score
    other = next(a for a in apps[0].assignments if a.reviewer_id == reviewer.id)
    for score in other.scores:
        score.score = 0
    db.session.commit()
    after = ranking.round_ranking(round_)
    assert len(calls) == 2
    assert [r.application_id for r in after.rows] == [apps[1].id, apps[0].id]

    # A conflict declared on an assignment takes that review out.
    assignment.conflict = ConflictDeclaration.CONFLICT
    db.session.commit()
    declared = ranking.round_ranking(round_)
    assert len(calls) == 3
    assert next(r for r in declared.rows if r.application_id == apps[1].id).reviews == []


def test_a_reviewer_joining_an_applicant_moves_the_ranking_but_other_memberships_do_not(
    db, staff, round_, scored, monkeypatch
):
    from tests.factories import add_member

    reviewer, apps = scored
    calls = []
    real = ranking.review_scores
    monkeypatch.setattr(ranking, "review_scores", lambda round_id: calls.append(round_id) or real(round_id))
    ranking._ranking_cache.clear()
    ranking.round_ranking(round_)

    # Someone with nothing to do with the round joins an organisation: the ranking is kept.
    add_member(make_org(name="Unrelated Club"), make_user())
    db.session.commit()
    ranking.round_ranking(round_)
    assert len(calls) == 1

    # The reviewer joins an applying organisation: worked out again.
    add_member(apps[0].organisation, reviewer)
    db.session.commit()
    ranking.round_ranking(round_)
    assert len(calls) == 2
