"""Ranking arithmetic: weighted scores, n/a, means, calibration, disagreement and the funding line.

WORKED EXAMPLE, computed by hand. Two criteria: Need (weight 3, scored 0-5) and Value for money (weight 1,
scored 0-10). Two reviewers, Alice and Bob, each review three applications X, Y and Z.

Weighted score = sum over scored criteria of (score / max * weight) / (sum of the scored criteria's weights) * 100

    Alice  X: Need 5, Value 6    (3*5/5 + 1*6/10) / (3+1) * 100 = (3 + 0.6) / 4 * 100 = 90
           Y: Need 3, Value 6    (3*3/5 + 1*6/10) / 4 * 100     = (1.8 + 0.6) / 4 * 100 = 60
           Z: Need n/a, Value 3  (1*3/10) / 1 * 100             = 30   (Need's weight leaves the denominator)
    Bob    X: Need 3, Value 6    (1.8 + 0.6) / 4 * 100          = 60
           Y: Need 4, Value 8    (2.4 + 0.8) / 4 * 100          = 80
           Z: Need 4, Value 4    (2.4 + 0.4) / 4 * 100          = 70

Mean (raw):  X (90+60)/2 = 75     Y (60+80)/2 = 70     Z (30+70)/2 = 50       -> raw order X, Y, Z

Calibration, per reviewer over their own scores (population SD):
    Alice: mean 60; deviations +30, 0, -30; SD = sqrt((900+0+900)/3) = sqrt(600) = 24.4949
           z: X +30/24.4949 = +1.2247   Y 0   Z -1.2247
    Bob:   mean 70; deviations -10, +10, 0; SD = sqrt((100+100+0)/3) = sqrt(66.667) = 8.1650
           z: X -1.2247   Y +1.2247   Z 0
Calibrated z = mean z of the application's reviews; shown as 50 + 10z:
    X (1.2247 - 1.2247)/2 = 0        -> 50.00
    Y (0 + 1.2247)/2      = +0.6124  -> 56.12
    Z (-1.2247 + 0)/2     = -0.6124  -> 43.88                                    -> calibrated order Y, X, Z
(Bob marks high and narrowly; calibration stops his 80 for Y counting for less than Alice's 90 for X.)

Spread (highest - lowest): X 30, Y 20, Z 40. With the threshold at 20 points, X and Z are flagged; Y is not
(20 is not more than 20).

Funding line: X asks £1,500, Y £3,000, Z £1,000; £4,000 remains.
    calibrated order: Y 3,000 | X 4,500 > 4,000 -> the line falls between Y and X (£1,000 left above it)
    raw order:        X 1,500 | Y 4,500 > 4,000 -> the line falls between X and Y (£2,500 left above it)
"""

from __future__ import annotations

import math

import pytest

from foundation.grants import ranking
from foundation.grants.models import ApplicationStatus
from foundation.grants.ranking import (
    CriterionScore,
    RankedApplication,
    ReviewScore,
    SortBy,
    funding_line,
    population_sd,
    score_applications,
    sort_ranked,
    weighted_score,
    z_scores,
)

NEED = (5, 3)  # max, weight
VALUE = (10, 1)
Z = math.sqrt(1.5)  # 30 / sqrt(600) = 10 / sqrt(66.67) = 1.224745


def review(need: int | None, value: int | None) -> float | None:
    return weighted_score(
        [
            CriterionScore(need, NEED[0], NEED[1], not_applicable=need is None),
            CriterionScore(value, VALUE[0], VALUE[1], not_applicable=value is None),
        ]
    )


WORKED = {  # (reviewer, application) -> (Need, Value); None is n/a
    ("alice", "X"): (5, 6),
    ("alice", "Y"): (3, 6),
    ("alice", "Z"): (None, 3),
    ("bob", "X"): (3, 6),
    ("bob", "Y"): (4, 8),
    ("bob", "Z"): (4, 4),
}
APP_IDS = {"X": 1, "Y": 2, "Z": 3}
REVIEWER_IDS = {"alice": 10, "bob": 20}
AMOUNTS = {"X": 150_000, "Y": 300_000, "Z": 100_000}


def worked_rows() -> list[RankedApplication]:
    rows = [
        RankedApplication(
            application_id=APP_IDS[name], reference=name, title=f"Project {name}", organisation=f"Org {name}",
            status=ApplicationStatus.SUBMITTED, amount_requested_pence=AMOUNTS[name],
        )
        for name in "XYZ"
    ]  # fmt: skip
    reviews = [
        ReviewScore(
            assignment_id=n, application_id=APP_IDS[app], reviewer_id=REVIEWER_IDS[who], reviewer_name=who,
            weighted=review(*scores),
        )
        for n, ((who, app), scores) in enumerate(WORKED.items(), start=100)
    ]  # fmt: skip
    return score_applications(rows, reviews, threshold=20)


def test_weighted_scores_of_the_worked_example() -> None:
    assert {key: review(*s) for key, s in WORKED.items()} == pytest.approx(
        {
            ("alice", "X"): 90.0,
            ("alice", "Y"): 60.0,
            ("alice", "Z"): 30.0,
            ("bob", "X"): 60.0,
            ("bob", "Y"): 80.0,
            ("bob", "Z"): 70.0,
        }
    )


def test_na_neither_helps_nor_hurts() -> None:
    # Scoring Value 3/10 alone is 30 whatever Need would have been; with Need scored 0 or 5 it moves.
    assert review(None, 3) == pytest.approx(30.0)
    assert review(0, 3) == pytest.approx(7.5)  # (0 + 0.3) / 4
    assert review(5, 3) == pytest.approx(82.5)  # (3 + 0.3) / 4


def test_a_review_with_every_criterion_na_has_no_score() -> None:
    assert review(None, None) is None
    assert weighted_score([]) is None


def test_population_standard_deviation() -> None:
    assert population_sd([90, 60, 30]) == pytest.approx(math.sqrt(600))
    assert population_sd([60, 80, 70]) == pytest.approx(math.sqrt(200 / 3))
    assert population_sd([50]) == 0


def test_means_calibration_and_disagreement_of_the_worked_example() -> None:
    rows = {r.reference: r for r in worked_rows()}
    assert {k: r.mean for k, r in rows.items()} == pytest.approx({"X": 75.0, "Y": 70.0, "Z": 50.0})
    assert {k: r.calibrated_z for k, r in rows.items()} == pytest.approx(
        {"X": 0.0, "Y": Z / 2, "Z": -Z / 2}, abs=1e-9
    )
    assert {k: r.calibrated for k, r in rows.items()} == pytest.approx(
        {"X": 50.0, "Y": 56.1237, "Z": 43.8763}
    )
    expected_z = {"X": [-Z, Z], "Y": [0.0, Z], "Z": [-Z, 0.0]}
    for name, row in rows.items():
        assert sorted(row.z.values()) == pytest.approx(expected_z[name], abs=1e-9)
    assert {k: r.spread for k, r in rows.items()} == pytest.approx({"X": 30.0, "Y": 20.0, "Z": 40.0})
    assert {k: r.disagreement for k, r in rows.items()} == {"X": True, "Y": False, "Z": True}


def test_the_two_sort_orders_differ_on_the_worked_example() -> None:
    rows = worked_rows()
    assert [r.reference for r in sort_ranked(rows, SortBy.RAW)] == ["X", "Y", "Z"]
    assert [r.reference for r in sort_ranked(rows, SortBy.CALIBRATED)] == ["Y", "X", "Z"]


def test_funding_line_of_the_worked_example_moves_with_the_sort() -> None:
    calibrated = sort_ranked(worked_rows(), SortBy.CALIBRATED)
    line = funding_line(calibrated, remaining_pence=400_000)
    assert line.index == 1 and line.left_above_line_pence == 100_000
    assert [(r.reference, r.position, r.running_total_pence, r.within_budget) for r in calibrated] == [
        ("Y", 1, 300_000, True),
        ("X", 2, 450_000, False),
        ("Z", 3, 550_000, False),
    ]
    raw = sort_ranked(worked_rows(), SortBy.RAW)
    line = funding_line(raw, remaining_pence=400_000)
    assert line.index == 1 and line.left_above_line_pence == 250_000
    assert [r.reference for r in raw[: line.index]] == ["X"]
    assert line.undecided_requested_pence == 550_000


def test_everything_fits_and_nothing_fits() -> None:
    rows = sort_ranked(worked_rows(), SortBy.CALIBRATED)
    everything = funding_line(rows, remaining_pence=550_000)
    assert everything.index is None and everything.left_above_line_pence == 0
    assert all(r.within_budget for r in rows)
    nothing = funding_line(rows, remaining_pence=0)
    assert nothing.index == 0 and not any(r.within_budget for r in rows)


def test_decided_applications_are_not_added_to_the_running_total() -> None:
    rows = worked_rows()
    rows[0].status = ApplicationStatus.AWARDED  # X: its award is already out of the remaining budget
    rows[0].awarded_pence = 150_000
    rows[2].status = ApplicationStatus.DECLINED  # Z
    ordered = sort_ranked(rows, SortBy.RAW)  # X, Y, Z
    line = funding_line(ordered, remaining_pence=300_000)
    assert [(r.reference, r.running_total_pence) for r in ordered] == [
        ("X", None),
        ("Y", 300_000),
        ("Z", None),
    ]
    assert line.index is None and line.undecided_requested_pence == 300_000


def test_a_reviewer_with_one_review_or_equal_scores_carries_no_ranking_information() -> None:
    one = [ReviewScore(1, 1, 7, "Cal", 95.0)]
    assert z_scores(one) == {1: 0.0}
    flat = [ReviewScore(2, 1, 8, "Dee", 70.0), ReviewScore(3, 2, 8, "Dee", 70.0)]
    assert z_scores(flat) == {2: 0.0, 3: 0.0}
    # A review with no score (every criterion n/a) is left out and does not count towards "two reviews".
    with_none = [ReviewScore(4, 1, 9, "Eve", 80.0), ReviewScore(5, 2, 9, "Eve", None)]
    assert z_scores(with_none) == {4: 0.0}


def test_unscored_applications_sort_last_and_ties_break_by_reference() -> None:
    rows = [
        RankedApplication(i, ref, "t", "o", ApplicationStatus.SUBMITTED, 1000)
        for i, ref in enumerate(["C", "A", "B"], start=1)
    ]
    rows[0].mean, rows[0].calibrated_z = 60.0, 0.0
    rows[1].mean, rows[1].calibrated_z = 60.0, 0.0
    # rows[2] has no reviews at all
    assert [r.reference for r in sort_ranked(rows, SortBy.CALIBRATED)] == ["A", "C", "B"]
    assert [r.reference for r in sort_ranked(rows, SortBy.RAW)] == ["A", "C", "B"]


# --- the same, from the database -------------------------------------------------------------------------------

WORKED_CRITERIA = (
    ("Need", "How clearly the project meets a need.", 3, 5),
    ("Value for money", "Costs are reasonable.", 1, 10),
)


@pytest.fixture
def worked_round(db, request_context, staff):
    """The worked example built through the real services; returns (round, {name: application}, reviewers)."""
    from tests.factories import make_org, make_user
    from tests.grants.factories import make_application, make_review, make_round

    round_ = make_round(criteria=WORKED_CRITERIA, budget_pence=400_000, by=staff)
    apps = {
        name: make_application(
            round_, make_org(name=f"Org {name}"), amount_pence=AMOUNTS[name], title=f"Project {name}"
        )
        for name in "XYZ"
    }
    alice = make_user(name="Alice Reviewer", panel=True)
    bob = make_user(name="Bob Reviewer", panel=True)
    for (who, app_name), (need, value) in WORKED.items():
        make_review(
            apps[app_name], alice if who == "alice" else bob,
            {"Need": "n/a" if need is None else need, "Value for money": "n/a" if value is None else value},
            by=staff,
        )  # fmt: skip
    return round_, apps, (alice, bob), staff


def test_round_ranking_from_the_database_matches_the_worked_example(worked_round) -> None:
    round_, apps, _, _ = worked_round
    result = ranking.round_ranking(round_, SortBy.CALIBRATED)
    titles = {r.application_id: r.title[-1] for r in result.rows}
    assert [titles[r.application_id] for r in result.rows] == ["Y", "X", "Z"]
    by_name = {titles[r.application_id]: r for r in result.rows}
    assert {k: r.mean for k, r in by_name.items()} == pytest.approx({"X": 75.0, "Y": 70.0, "Z": 50.0})
    assert {k: r.calibrated for k, r in by_name.items()} == pytest.approx(
        {"X": 50.0, "Y": 56.1237, "Z": 43.8763}
    )
    assert {k: r.disagreement for k, r in by_name.items()} == {"X": True, "Y": False, "Z": True}
    expected = {"X": [60.0, 90.0], "Y": [60.0, 80.0], "Z": [30.0, 70.0]}
    for name, row in by_name.items():
        assert sorted(x.weighted for x in row.reviews) == pytest.approx(expected[name])
    assert result.money.remaining_pence == 400_000
    assert result.line.index == 1
    raw = ranking.round_ranking(round_, SortBy.RAW)
    assert [r.title[-1] for r in raw.rows] == ["X", "Y", "Z"]


def test_only_submitted_active_reviews_count(worked_round, db) -> None:
    from foundation.grants import reviews
    from tests.factories import add_member, make_user
    from tests.grants.factories import make_review

    round_, apps, _, staff = worked_round
    # An unsubmitted review, a reviewer who then declared a conflict, and one who joined the applicant later:
    # none of them moves X's figures.
    carol = make_user(name="Carol Draft", panel=True)
    make_review(apps["X"], carol, {"Need": 0, "Value for money": 0}, by=staff, submit=False)
    dan = make_user(name="Dan Conflicted", panel=True)
    late = make_review(apps["X"], dan, {"Need": 0}, by=staff, submit=False)
    reviews.declare(late, dan, has_conflict=True, reason="My sister runs it")
    erin = make_user(name="Erin Joiner", panel=True)
    make_review(apps["X"], erin, {"Need": 0, "Value for money": 0}, by=staff)
    add_member(apps["X"].organisation, erin)
    db.session.flush()
    rows = {r.title[-1]: r for r in ranking.round_ranking(round_).rows}
    assert rows["X"].mean == pytest.approx(75.0)
    assert [r.reviewer_name for r in rows["X"].reviews] == ["Alice Reviewer", "Bob Reviewer"]
    assert rows["X"].pending_reviews == 1  # Carol's draft


def test_awarded_money_leaves_the_remaining_budget_and_is_not_counted_twice(worked_round, db) -> None:
    from tests.factories import make_org
    from tests.grants.factories import make_awarded_grant

    round_, apps, _, staff = worked_round
    from foundation.grants.money import allocate
    from tests.grants.factories import fund

    fund(100_000)
    allocate(round_, 100_000, staff)  # budget 5,000; award 1,000 -> 4,000 remains
    make_awarded_grant(round_, make_org(name="Org W"), by=staff, amount_pence=100_000, title="Project W")
    result = ranking.round_ranking(round_, SortBy.CALIBRATED)
    assert (result.money.budget_pence, result.money.committed_pence, result.money.remaining_pence) == (
        500_000,
        100_000,
        400_000,
    )
    rows = {r.title[-1]: r for r in result.rows}
    assert rows["W"].running_total_pence is None and rows["W"].awarded_pence == 100_000
    assert rows["W"].mean is None  # not reviewed: listed last
    assert result.rows[-1].title == "Project W"
    assert result.line.index == 1  # Y fits (3,000), X does not (4,500 > 4,000)
