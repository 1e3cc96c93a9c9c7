"""The scorecard's stored totals move in the same transaction as the payment, report or decision that changes
them, never drift from the grants they summarise, and stay true when staff record payments at the same moment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.grants import awards, reports
from foundation.grants.models import GrantRound, RoundStatus, ScorecardTotal
from foundation.grants.scorecard import build_scorecard, computed_totals, stored_totals
from foundation.members.models import Area
from foundation.types import utcnow
from tests.factories import make_org, make_user
from tests.grants.factories import make_awarded_grant, make_round
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import all_at_once, signed_in

pytestmark = pytest.mark.usefixtures("request_context")


def decided_round(name: str) -> GrantRound:
    round_ = make_round(status=RoundStatus.DECIDED, budget_pence=5_000_000, name=name)
    round_.decided_at = utcnow()
    return round_


def in_step(db, round_id: int) -> None:
    def key(row):
        return (row["dimension"].value, row["name"])

    assert sorted(stored_totals([round_id]), key=key) == sorted(computed_totals([round_id]), key=key)


def round_totals(round_name: str):
    return next(r.totals for r in build_scorecard().rounds if r.name == round_name)


def test_a_payment_moves_the_public_figures_when_it_commits_and_not_if_it_rolls_back(db):
    round_ = decided_round("Payments round")
    staff = make_user(staff=True)
    grant = make_awarded_grant(round_, make_org(), amount_pence=300_000, instalments=(100_000,) * 3, paid=1)
    db.session.commit()
    assert round_totals("Payments round").paid_pence == 100_000

    second = grant.instalments[1].id
    awards.record_payment(awards.lock_grant(grant.id), second, staff, "BACS-2")
    db.session.rollback()
    assert round_totals("Payments round").paid_pence == 100_000

    awards.record_payment(awards.lock_grant(grant.id), second, staff, "BACS-2")
    db.session.commit()
    assert round_totals("Payments round").paid_pence == 200_000
    in_step(db, round_.id)


def test_an_accepted_report_adds_the_young_people_reached(db):
    round_ = decided_round("Reports round")
    staff = make_user(staff=True)
    grant = make_awarded_grant(round_, make_org(), paid=1, reached=27, report_status="submitted")
    db.session.commit()
    assert round_totals("Reports round").reported_reach == 0

    reports.accept_report(awards.lock_grant(grant.id), staff, underspend_received=False)
    db.session.commit()

    totals = round_totals("Reports round")
    assert (totals.reported_reach, totals.reports_accepted) == (27, 1)
    in_step(db, round_.id)


def test_a_round_shows_its_grants_once_it_is_decided(db):
    round_ = make_round(status=RoundStatus.IN_REVIEW, budget_pence=5_000_000, name="Deciding round")
    make_awarded_grant(round_, make_org(), amount_pence=120_000, towns=("Calne", "Devizes"))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScorecardTotal)) == 0

    round_.status = RoundStatus.DECIDED
    round_.decided_at = utcnow()
    db.session.commit()

    assert round_totals("Deciding round").awarded_pence == 120_000
    towns = {t.name: t.totals.awarded_pence for t in build_scorecard().by_town}
    assert towns == {"Calne": 120_000, "Devizes": 120_000}
    in_step(db, round_.id)


def test_an_organisation_moving_area_moves_its_grants_between_areas(db):
    round_ = decided_round("Area round")
    org = make_org(name="Movers Youth Club", area=Area.WILTSHIRE)
    make_awarded_grant(round_, org, amount_pence=90_000)
    db.session.commit()
    areas = {a.name: a.totals.awarded_pence for a in build_scorecard().by_area}
    assert areas == {"Wiltshire": 90_000, "Swindon": 0}

    org.area = Area.SWINDON
    db.session.commit()

    areas = {a.name: a.totals.awarded_pence for a in build_scorecard().by_area}
    assert areas == {"Wiltshire": 0, "Swindon": 90_000}
    in_step(db, round_.id)


def test_reading_the_scorecard_is_three_small_queries(db):
    for i in range(3):
        round_ = decided_round(f"Round {i}")
        for _ in range(4):
            make_awarded_grant(round_, make_org(), towns=("Calne", "Melksham"), paid=1)
    db.session.commit()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        card = build_scorecard()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert card.overall.grants == 12
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    assert all("grant_award" not in s for s in selects), "the grants themselves are not read"


@pytest.mark.postgres_only
def test_payments_recorded_at_the_same_moment_all_count_on_postgresql(db, backend, live_server):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("PostgreSQL run of the concurrency test")
    round_ = decided_round("Busy payments round")
    grants = [
        make_awarded_grant(round_, make_org(name=f"Group {i}"), amount_pence=50_000 + i, towns=("Calne",))
        for i in range(8)
    ]
    emails = [make_user(email=f"payer{i}@wypf.org.uk", staff=True).email for i in range(len(grants))]
    db.session.commit()
    paths = [f"/staff/grants/grants/{g.id}/instalments/{g.instalments[0].id}/pay" for g in grants]
    prefixes = [f"pay{g.instalments[0].id}" for g in grants]
    round_id = round_.id
    browsers = signed_in(live_server, emails)

    jobs = [
        (lambda b=b, p=p, x=x: b.post(p, {f"{x}-reference": f"BACS-{x}"}))
        for b, p, x in zip(browsers, paths, prefixes, strict=True)
    ]
    results = all_at_once(jobs)

    assert [status for status, _ in results] == [302] * len(grants)
    db.session.rollback()
    totals = round_totals("Busy payments round")
    assert totals.paid_pence == sum(50_000 + i for i in range(8))
    in_step(db, round_id)


def test_the_refresh_command_rebuilds_totals_written_around_the_application(app, db):
    round_ = decided_round("Loaded round")
    make_awarded_grant(round_, make_org(), amount_pence=70_000, paid=1)
    db.session.commit()
    # Data loaded straight into the tables (as a bulk import does) leaves the stored totals behind.
    db.session.execute(sa.delete(ScorecardTotal))
    db.session.commit()
    assert round_totals("Loaded round").awarded_pence == 0

    result = app.test_cli_runner().invoke(args=["grants", "refresh-scorecard"])

    assert result.exit_code == 0, result.output
    assert "worked out for 1 round(s)" in result.output
    db.session.remove()
    assert round_totals("Loaded round").awarded_pence == 70_000
