"""The bids pipeline staff read: what each stage asks for and is worth weighted, what is due in the next 30 days,
what was secured this year by type of funder, and how often funders say yes; the pages and their CSV files."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.bids import awards, bids, pipeline
from foundation.bids.models import (
    Bid,
    BidBudgetLine,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BudgetCategory,
    FunderType,
    FundingOpportunity,
)
from foundation.extensions import db
from foundation.types import london_today
from tests.bids.factories import make_award, make_bid, make_funder, make_opportunity
from tests.factories import login, make_org

pytestmark = pytest.mark.usefixtures("request_context")

TODAY = london_today()


def _lines(partner: BidPartner, amounts: list[int]) -> None:
    partner.budget_lines = [
        BidBudgetLine(category=BudgetCategory.STAFF, description=f"Worker {n}", amount_pence=amount)
        for n, amount in enumerate(amounts)
    ]


def _bid(
    by,
    status: BidStatus,
    parts: tuple[list[int], ...] = (),
    fee: int = 1000,
    asked: int | None = None,
    deadline_in: int = 60,
    invited: tuple[list[int], ...] = (),
    funder=None,
    title: str | None = None,
) -> Bid:
    """A Foundation-led bid at `status` whose accepted partners have these budget lines (and invited partners
    these, which do not count), with the funder's deadline `deadline_in` days from today."""
    opportunity = make_opportunity(
        funder, deadline=TODAY + timedelta(days=max(deadline_in, 0)), consortium=True, max_pence=50_000_000
    )
    bid = make_bid(by, opportunity=opportunity, partners=tuple(make_org() for _ in parts), title=title)
    for partner, amounts in zip(bid.partners, parts, strict=True):
        _lines(partner, amounts)
    for amounts in invited:
        partner = BidPartner(bid=bid, organisation=make_org(), status=BidPartnerStatus.INVITED, invited_by=by)
        _lines(partner, amounts)
        db.session.add(partner)
    bid.fee_basis_points = fee
    bid.status = status
    bid.asked_pence = asked
    opportunity.deadline = TODAY + timedelta(days=deadline_in)  # a deadline already passed, too
    db.session.flush()
    return bid


def _submitted(staff, lead_admin, lead, partner_org, opportunity: FundingOpportunity) -> Bid:
    """A complete bid (parts of £10,000 and £20,000, 10% fee: £33,000 asked) taken through to submission."""
    bid = make_bid(lead_admin, lead, opportunity=opportunity, partners=(partner_org,), complete=True)
    for step in (bids.Step.DRAFT, bids.Step.SIGN_OFF, bids.Step.SUBMIT):
        bids.step(bid, step, staff)
    return bid


# --- the arithmetic ----------------------------------------------------------------------------------------------


def test_weighting_rounds_to_the_nearest_penny_halves_up():
    assert pipeline.weighted(3_300_001, 50) == 1_650_001  # 1,650,000.5
    assert pipeline.weighted(138_889, 20) == 27_778  # 27,777.8
    assert pipeline.weighted(110_001, 10) == 11_000  # 11,000.1
    assert pipeline.weighted(0, 40) == 0
    assert pipeline.rate_percent(2, 3) == pytest.approx(66.666, abs=0.001)
    assert pipeline.rate_percent(0, 0) is None


def test_every_undecided_stage_has_a_probability_and_decided_ones_none():
    assert set(pipeline.STAGE_PROBABILITY) == {
        BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF, BidStatus.SUBMITTED,
    }  # fmt: skip
    assert list(pipeline.STAGE_PROBABILITY.values()) == sorted(pipeline.STAGE_PROBABILITY.values())
    assert all(0 < p <= 100 for p in pipeline.STAGE_PROBABILITY.values())


# --- stages ------------------------------------------------------------------------------------------------------


@pytest.fixture
def pipeline_bids(staff) -> dict[str, Bid]:
    """Bids at every stage with budgets chosen so the fee and the weighting round; decided and withdrawn ones."""
    return {
        # parts £1,000.01 + 10% fee (£100.001 -> £100.00) = £1,100.01
        "idea": _bid(staff, BidStatus.IDEA, ([100_001],), deadline_in=20),
        "idea-empty": _bid(staff, BidStatus.IDEA, deadline_in=40),
        # £1,234.56 + £0.01 accepted, £9,999.99 only invited; 12.5% fee on £1,234.57 is £154.32 -> £1,388.89
        "forming": _bid(staff, BidStatus.FORMING, ([123_456, 1],), fee=1250, invited=([999_999],)),
        # two partners, no fee: £5,833.33
        "drafting": _bid(staff, BidStatus.DRAFTING, ([250_000], [333_333]), fee=0, deadline_in=50),
        # 25% fee on £500: £625
        "drafting-soon": _bid(staff, BidStatus.DRAFTING, ([50_000],), fee=2500, deadline_in=10),
        # what was asked when it was sent, not the budget now
        "submitted": _bid(staff, BidStatus.SUBMITTED, ([1_000_000],), asked=3_300_001, deadline_in=-5),
        "declined": _bid(staff, BidStatus.DECLINED, ([400_000],), asked=440_000, deadline_in=-5),
        "withdrawn": _bid(staff, BidStatus.WITHDRAWN, ([400_000],), deadline_in=5),
        "awarded": _bid(staff, BidStatus.AWARDED, ([400_000],), asked=440_000, deadline_in=-5),
    }


def test_each_stage_counts_its_bids_and_sums_what_they_ask_exact_to_the_penny(pipeline_bids):
    found = pipeline.stages()
    figures = {s.status: (s.count, s.total_pence, s.weighted_pence, s.probability) for s in found.stages}
    assert figures == {
        BidStatus.IDEA: (2, 110_001, 11_000, 10),
        BidStatus.FORMING: (1, 138_889, 27_778, 20),
        BidStatus.DRAFTING: (2, 645_833, 193_750, 30),  # 30% of £6,458.33 = £1,937.499
        BidStatus.SIGN_OFF: (0, 0, 0, 40),
        BidStatus.SUBMITTED: (1, 3_300_001, 1_650_001, 50),
    }
    assert [s.status for s in found.stages] == list(pipeline.PIPELINE_STAGES)
    assert (found.count, found.total_pence, found.weighted_pence) == (6, 4_194_724, 1_882_529)


def test_the_stage_total_is_the_bids_own_budget(pipeline_bids, staff):
    # The SQL figure is what the bid's page shows as its budget (bids.budget, with fee_for).
    for key in ("idea", "forming", "drafting", "drafting-soon"):
        bid = pipeline_bids[key]
        db.session.expire(bid)
        shown = next(b for s in pipeline.stages().stages for b in s.bids if b.id == bid.id)
        assert shown.asking_pence == bids.budget(bid).total_pence


def test_a_column_lists_its_first_bids_soonest_deadline_first_and_links_to_the_rest(pipeline_bids):
    found = {s.status: s for s in pipeline.stages(per_stage=1).stages}
    drafting = found[BidStatus.DRAFTING]
    assert [b.id for b in drafting.bids] == [pipeline_bids["drafting-soon"].id]
    assert drafting.bids[0].asking_pence == 62_500 and drafting.more == 1
    assert found[BidStatus.SIGN_OFF].bids == [] and found[BidStatus.SIGN_OFF].more == 0
    everything = pipeline.stages()
    listed = {b.id for s in everything.stages for b in s.bids}
    for key in ("declined", "withdrawn", "awarded"):
        assert pipeline_bids[key].id not in listed


def test_the_stages_cost_the_same_queries_with_ten_times_the_bids(staff, app):
    _bid(staff, BidStatus.DRAFTING, ([1_000],))
    with _counting() as few:
        pipeline.stages()
        pipeline.deadlines()
        pipeline.income()
        pipeline.success_by_type()
        pipeline.success_by_funder()
        pipeline.recent_feedback()
    for n, status in enumerate([*pipeline.PIPELINE_STAGES, *pipeline.DECIDED, BidStatus.WITHDRAWN] * 2):
        _bid(staff, status, ([1_000 + n], [2_000]), asked=5_000, deadline_in=n)
    with _counting() as many:
        pipeline.stages()
        pipeline.deadlines()
        pipeline.income()
        pipeline.success_by_type()
        pipeline.success_by_funder()
        pipeline.recent_feedback()
    assert len(few) == len(many) == 10


@contextmanager
def _counting():
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    db.session.flush()
    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# --- deadlines ---------------------------------------------------------------------------------------------------


def test_deadlines_are_the_bids_being_written_due_in_the_next_30_days_soonest_first(staff):
    yesterday = _bid(staff, BidStatus.DRAFTING, deadline_in=-1, title="Due yesterday")
    today = _bid(staff, BidStatus.IDEA, ([10_000],), deadline_in=0, title="Due today")
    last_day = _bid(staff, BidStatus.SIGN_OFF, ([20_000],), deadline_in=30, title="Due in 30 days")
    too_far = _bid(staff, BidStatus.FORMING, deadline_in=31, title="Due in 31 days")
    soon = _bid(staff, BidStatus.FORMING, ([30_000],), fee=0, deadline_in=7, title="Due in a week")
    _bid(staff, BidStatus.SUBMITTED, asked=100_000, deadline_in=3, title="Already sent")
    _bid(staff, BidStatus.WITHDRAWN, deadline_in=3, title="Given up")
    found = pipeline.deadlines(today=TODAY)
    assert [(d.bid.id, d.days_left) for d in found.items] == [(today.id, 0), (soon.id, 7), (last_day.id, 30)]
    assert found.total == 3
    assert [d.bid.asking_pence for d in found.items] == [11_000, 30_000, 22_000]
    assert yesterday.id not in {d.bid.id for d in found.items} and too_far.id not in {
        d.bid.id for d in found.items
    }
    assert pipeline.deadline_window(TODAY) == (TODAY, TODAY + timedelta(days=30))
    # Tomorrow the bid due today has gone and the one due in 31 days has come in.
    tomorrow = pipeline.deadlines(today=TODAY + timedelta(days=1))
    assert [d.bid.id for d in tomorrow.items] == [soon.id, last_day.id, too_far.id]
    paged = pipeline.deadlines(page=2, today=TODAY, per_page=2)
    assert [d.bid.id for d in paged.items] == [last_day.id] and paged.total == 3
    assert [d.bid.id for d in pipeline.all_deadlines(TODAY)] == [today.id, soon.id, last_day.id]


# --- income ------------------------------------------------------------------------------------------------------


def _award_on(staff, member, org, partner_org, kind: FunderType, awarded_on: date, amount: int | None = None):
    opportunity = make_opportunity(make_funder(kind=kind), consortium=True, max_pence=50_000_000)
    award = make_award(staff, member, org, (partner_org,), amount_pence=amount, opportunity=opportunity)
    award.awarded_on = awarded_on
    return award


def _paid(award, staff, amount: int, received_on: date) -> None:
    payment = awards.record_funder_payment(award, amount, TODAY, "BACS", staff)
    payment.received_on = received_on


def test_income_secured_is_this_calendar_years_awards_and_payments_by_type_of_funder(
    staff, member, org, partner_org
):
    year = TODAY.year
    trust = FunderType.TRUST_OR_FOUNDATION
    last_year = _award_on(staff, member, org, partner_org, trust, date(year - 1, 12, 31))
    new_year = _award_on(staff, member, org, partner_org, trust, date(year, 1, 1), amount=2_000_000)
    lottery = _award_on(staff, member, org, partner_org, FunderType.LOTTERY, date(year, 12, 31))
    _award_on(staff, member, org, partner_org, FunderType.LOTTERY, date(year + 1, 1, 1))
    _paid(last_year, staff, 1_000_000, date(year - 1, 12, 31))  # last year's money
    _paid(last_year, staff, 500_000, date(year, 1, 2))  # last year's award, paid this year: received now
    _paid(new_year, staff, 1_234_567, date(year, 3, 1))
    _paid(lottery, staff, 1, date(year, 12, 31))
    db.session.flush()

    found = pipeline.income(today=date(year, 6, 15))
    assert found.year == year
    rows = {r.funder_type: (r.awards, r.awarded_pence, r.received_pence) for r in found.rows}
    assert rows[trust] == (1, 2_000_000, 1_734_567)
    assert rows[FunderType.LOTTERY] == (1, 3_300_000, 1)
    assert rows[FunderType.STATUTORY] == (0, 0, 0)
    assert [r.funder_type for r in found.rows] == list(FunderType)
    assert (found.total.awards, found.total.awarded_pence, found.total.received_pence) == (
        2,
        5_300_000,
        1_734_568,
    )
    # On New Year's Eve of the year before, only that year's award and payment count.
    earlier = pipeline.income(today=date(year - 1, 12, 31))
    assert (earlier.total.awards, earlier.total.awarded_pence, earlier.total.received_pence) == (
        1, 3_300_000, 1_000_000,
    )  # fmt: skip


# --- success rates -----------------------------------------------------------------------------------------------


@pytest.fixture
def decided(staff, member, org, partner_org) -> dict[str, object]:
    """A trust that funded one bid in full and one in part and declined one (and had one withdrawn after it was
    sent); a lottery that declined one; a council with one bid still waiting for its decision."""
    trust = make_funder("Kennet Trust", FunderType.TRUST_OR_FOUNDATION)
    lottery = make_funder("Big Local Lottery", FunderType.LOTTERY)
    council = make_funder("Wiltshire Council", FunderType.STATUTORY)

    def opportunity(funder):
        return make_opportunity(funder, consortium=True, max_pence=50_000_000)

    make_award(staff, member, org, (partner_org,), opportunity=opportunity(trust))
    make_award(staff, member, org, (partner_org,), amount_pence=2_000_000, opportunity=opportunity(trust))
    declined = _submitted(staff, member, org, partner_org, opportunity(trust))
    bids.step(declined, bids.Step.DECLINE, staff, note="Strong case, but we funded work closer to Swindon.")
    withdrawn = _submitted(staff, member, org, partner_org, opportunity(trust))
    bids.step(withdrawn, bids.Step.WITHDRAW, staff, note="The venue fell through.")
    no = _submitted(staff, member, org, partner_org, opportunity(lottery))
    bids.step(no, bids.Step.DECLINE, staff, note="No feedback given.")
    _submitted(staff, member, org, partner_org, opportunity(council))
    db.session.flush()
    return {"trust": trust, "lottery": lottery, "council": council, "declined": declined, "no": no}


def test_success_rates_by_funder_count_decisions_only(decided):
    found = pipeline.success_by_funder()
    rows = {r.name: (r.funder_type, r.decided, r.won, r.asked_pence, r.awarded_pence) for r in found.items}
    assert rows == {
        "Kennet Trust": (FunderType.TRUST_OR_FOUNDATION, 3, 2, 9_900_000, 5_300_000),
        "Big Local Lottery": (FunderType.LOTTERY, 1, 0, 3_300_000, 0),
    }  # the withdrawn bid and the council's undecided one are not decisions
    assert [r.name for r in found.items] == ["Kennet Trust", "Big Local Lottery"]  # most decisions first
    trust = found.items[0]
    assert trust.rate == pytest.approx(200 / 3) and trust.funder_id == decided["trust"].id
    assert found.items[1].rate == 0
    assert found.total == 2


def test_success_rates_by_type_of_funder_list_every_type(decided):
    rows, overall = pipeline.success_by_type()
    by_type = {r.funder_type: (r.decided, r.won, r.rate) for r in rows}
    assert by_type[FunderType.TRUST_OR_FOUNDATION] == (3, 2, pytest.approx(200 / 3))
    assert by_type[FunderType.LOTTERY] == (1, 0, 0)
    assert by_type[FunderType.STATUTORY] == (0, 0, None)
    assert [r.funder_type for r in rows] == list(FunderType)
    assert (overall.decided, overall.won, overall.rate) == (4, 2, 50)
    assert (overall.asked_pence, overall.awarded_pence) == (13_200_000, 5_300_000)


def test_a_declined_bid_keeps_the_funders_feedback(decided):
    feedback = pipeline.recent_feedback()
    assert {(f.bid_id, f.funder_name, f.feedback) for f in feedback} == {
        (decided["declined"].id, "Kennet Trust", "Strong case, but we funded work closer to Swindon."),
        (decided["no"].id, "Big Local Lottery", "No feedback given."),
    }
    assert db.session.get(Bid, decided["declined"].id).funder_feedback.startswith("Strong case")


# --- the pages ---------------------------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_staff_see_the_pipeline_with_its_figures(client, staff, pipeline_bids):
    db.session.commit()
    login(client, staff)
    page = client.get("/staff/bids/pipeline")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bids pipeline" in text and 'href="/staff/bids/pipeline"' in text  # the staff menu's link
    assert "£33,000.01" in text and "£16,500.01" in text  # submitted: asked, and weighted at 50%
    assert "£41,947.24" in text and "£18,825.29" in text  # the whole pipeline
    assert 'href="/bids?status=drafting"' in text
    assert f'href="/bids/{pipeline_bids["drafting-soon"].id}"' in text
    assert f'id="deadline-{pipeline_bids["drafting-soon"].id}"' in text  # due in 10 days
    assert f'id="deadline-{pipeline_bids["withdrawn"].id}"' not in text
    assert f"Income secured in {TODAY.year}" in text


def test_the_stages_and_deadlines_as_csv(client, staff, pipeline_bids):
    pipeline_bids["drafting-soon"].title = '=HYPERLINK("http://example.com")'
    db.session.commit()
    login(client, staff)
    stages = _csv_rows(client.get("/staff/bids/pipeline/stages.csv"))
    assert stages[0] == ["Stage", "Probability (%)", "Bids", "Asked (GBP)", "Weighted (GBP)"]
    assert stages[1:] == [
        ["Idea", "10", "2", "1100.01", "110.00"],
        ["Forming consortium", "20", "1", "1388.89", "277.78"],
        ["Drafting", "30", "2", "6458.33", "1937.50"],
        ["Internal sign-off", "40", "0", "0.00", "0.00"],
        ["Submitted", "50", "1", "33000.01", "16500.01"],
        ["All stages", "", "6", "41947.24", "18825.29"],
    ]
    deadlines = _csv_rows(client.get("/staff/bids/pipeline/deadlines.csv"))
    assert deadlines[0][:4] == ["Deadline", "Days left", "Bid id", "Bid"]
    soon = pipeline_bids["drafting-soon"]
    assert [(r[2], r[1]) for r in deadlines[1:]] == [
        (str(soon.id), "10"), (str(pipeline_bids["idea"].id), "20"),
    ]  # fmt: skip
    assert deadlines[1][3] == '\'=HYPERLINK("http://example.com")'  # a spreadsheet shows it as text
    assert deadlines[1][4:] == [
        "Drafting",
        soon.opportunity.funder.name,
        soon.opportunity.programme,
        "625.00",
    ]


def test_income_as_csv(client, staff, member, org, partner_org):
    _award_on(staff, member, org, partner_org, FunderType.BUSINESS, TODAY)
    db.session.commit()
    login(client, staff)
    rows = _csv_rows(client.get("/staff/bids/pipeline/income.csv"))
    assert rows[0] == ["Type of funder", "Awards", "Awarded (GBP)", "Received (GBP)"]
    assert ["Business", "1", "33000.00", "0.00"] in rows
    assert rows[-1] == ["All types", "1", "33000.00", "0.00"]
    assert len(rows) == 1 + len(FunderType) + 1


def test_success_rates_page_and_csv(client, staff, decided):
    decided["lottery"].name = "@Lottery"  # a name a spreadsheet would run as a formula
    db.session.commit()
    login(client, staff)
    page = client.get("/staff/bids/success").get_data(as_text=True)
    assert "67%" in page and "50%" in page and "no decisions" in page
    assert "Strong case, but we funded work closer to Swindon." in page
    rows = _csv_rows(client.get("/staff/bids/pipeline/success.csv"))
    assert rows[0] == [
        "By", "Name", "Type of funder", "Decided", "Won", "Success rate (%)", "Asked (GBP)", "Awarded (GBP)",
    ]  # fmt: skip
    assert ["Type of funder", "Trust or foundation", "Trust or foundation", "3", "2", "66.7", "99000.00",
            "53000.00"] in rows  # fmt: skip
    assert ["Type of funder", "All funders", "", "4", "2", "50.0", "132000.00", "53000.00"] in rows
    assert ["Type of funder", "Lottery", "Lottery", "1", "0", "0.0", "33000.00", "0.00"] in rows
    assert ["Type of funder", "Business", "Business", "0", "0", "", "0.00", "0.00"] in rows
    funders = [r for r in rows if r[0] == "Funder"]
    assert funders == [
        ["Funder", "Kennet Trust", "Trust or foundation", "3", "2", "66.7", "99000.00", "53000.00"],
        ["Funder", "'@Lottery", "Lottery", "1", "0", "0.0", "33000.00", "0.00"],
    ]


def test_only_staff_see_the_pipeline(client, member, org):
    db.session.commit()
    login(client, member)
    for url in (
        "/staff/bids/pipeline",
        "/staff/bids/success",
        "/staff/bids/pipeline/stages.csv",
        "/staff/bids/pipeline/deadlines.csv",
        "/staff/bids/pipeline/income.csv",
        "/staff/bids/pipeline/success.csv",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/staff/bids/pipeline/bids.csv").status_code == 404
    client.post("/logout")
    assert "/login" in client.get("/staff/bids/pipeline").headers["Location"]


def test_the_pipeline_pages_with_nothing_yet(client, staff):
    db.session.commit()
    login(client, staff)
    page = client.get("/staff/bids/pipeline").get_data(as_text=True)
    assert "No bid being written has its deadline in the next 30 days." in page
    assert "No funder has decided on a bid yet." in client.get("/staff/bids/success").get_data(as_text=True)
