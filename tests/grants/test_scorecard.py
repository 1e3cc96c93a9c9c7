"""The public seed-grants scorecard: what was awarded in decided rounds, where, to reach whom, and what was paid."""

from __future__ import annotations

import re

import pytest

from foundation.grants.models import ApplicationStatus, RoundStatus
from foundation.grants.scorecard import build_scorecard, nice_step
from foundation.members.models import Area
from foundation.types import utcnow
from tests.factories import make_org
from tests.grants.factories import make_application, make_awarded_grant, make_round


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "QUERY_COUNT_HEADER": True}


def decided_round(name: str | None = None, budget_pence: int = 5_000_000):
    round_ = make_round(status=RoundStatus.DECIDED, budget_pence=budget_pence, name=name)
    round_.decided_at = utcnow()
    return round_


def page(client) -> str:
    resp = client.get("/scorecard")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def row(html: str, header: str) -> list[str]:
    """The cells of the table row whose row header is `header`, as text."""
    match = re.search(
        rf"<tr><th scope=\"row\">(?:<a [^>]*>)?{re.escape(header)}(?:</a>)?</th>(.*?)</tr>", html
    )
    assert match, f"no row {header!r}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))]


def test_anyone_sees_an_empty_scorecard_before_any_round_is_decided(client, db):
    make_round(status=RoundStatus.IN_REVIEW)
    db.session.commit()

    html = page(client)

    assert "No round has been decided yet" in html
    assert "The open data files will be published once the first grants are awarded" in html
    assert "<svg" not in html


def test_lists_only_awards_of_decided_rounds(client, db):
    spring = decided_round("Spring 2025 seed grants")
    wilts = make_org(name="Calne Young Carers", town="Calne")
    make_awarded_grant(spring, wilts, amount_pence=250_000, title="Young carers' breaks", towns=("Calne",))
    declined = make_org(name="Declined Youth Club")
    make_application(spring, declined, status=ApplicationStatus.DECLINED, title="Declined project")
    undecided = make_round(status=RoundStatus.IN_REVIEW, name="Autumn seed grants")
    make_awarded_grant(undecided, make_org(name="Too Early Group"), title="Not yet public")
    db.session.commit()

    html = page(client)
    assert "Spring 2025 seed grants" in html and "£2,500" in html
    assert f'href="/scorecard/rounds/{spring.id}"' in html
    assert "Autumn seed grants" not in html

    listed = client.get(f"/scorecard/rounds/{spring.id}").get_data(as_text=True)
    assert "Calne Young Carers" in listed and "Young carers&#39; breaks" in listed and "£2,500" in listed
    early = client.get(f"/scorecard/rounds/{undecided.id}").get_data(as_text=True)
    assert "has not been decided yet" in early
    for hidden in ("Declined Youth Club", "Declined project", "Too Early Group", "Not yet public"):
        assert hidden not in html and hidden not in listed and hidden not in early


def test_totals_by_round_area_and_town_with_money_paid(client, db):
    spring = decided_round("Spring round")
    summer = decided_round("Summer round")
    swindon_org = make_org(name="Swindon Skate Crew", town="Swindon", area=Area.SWINDON)
    wilts_org = make_org(name="Devizes Drama", town="Devizes")
    other = make_org(name="Melksham Makers", town="Melksham")
    # £3,000 in three instalments of which two are paid; serves two towns.
    make_awarded_grant(
        spring,
        wilts_org,
        amount_pence=300_000,
        towns=("Devizes", "Melksham"),
        instalments=(100_000,) * 3,
        paid=2,
    )
    make_awarded_grant(spring, swindon_org, amount_pence=150_050, towns=("Swindon",), paid=1)
    make_awarded_grant(summer, other, amount_pence=80_000, towns=("Melksham",), paid=0)
    db.session.commit()

    html = page(client)

    overall = section(html, "overall-heading")
    assert "<strong>3</strong> grants awarded" in overall
    assert "<strong>£5,300.50</strong> awarded" in overall
    assert "<strong>£3,500.50</strong> paid so far" in overall
    money = section(html, "money-heading")
    assert row(money, "Spring round")[1:] == ["2", "£4,500.50", "£3,500.50", "£1,000"]
    assert row(money, "Summer round")[1:] == ["1", "£800", "£0", "£800"]
    assert row(money, "All rounds")[1:] == ["3", "£5,300.50", "£3,500.50", "£1,800"]
    area = section(html, "area-heading")
    assert row(area, "Wiltshire")[:3] == ["2", "£3,800", "£2,000"]
    assert row(area, "Swindon")[:3] == ["1", "£1,500.50", "£1,500.50"]
    town = section(html, "town-heading")
    assert "counted once, in full, under each town it serves" in town
    # The Devizes-and-Melksham grant counts in full under both towns.
    assert row(town, "Melksham")[:3] == ["2", "£3,800", "£2,000"]
    assert row(town, "Devizes")[:3] == ["1", "£3,000", "£2,000"]
    assert row(town, "Swindon")[:3] == ["1", "£1,500.50", "£1,500.50"]


def test_young_people_planned_and_reported_only_from_accepted_reports(client, db):
    round_ = decided_round("Reach round")
    make_awarded_grant(round_, make_org(), reached=35, report_status="accepted")
    make_awarded_grant(round_, make_org(), reached=99, report_status="submitted")
    make_awarded_grant(round_, make_org())
    db.session.commit()

    card = build_scorecard()
    html = page(client)

    # make_application plans 40 young people per project
    assert card.overall.planned_reach == 120
    assert card.overall.reported_reach == 35
    assert card.overall.reports_accepted == 1
    reach = section(html, "reach-heading")
    assert row(reach, "Reach round") == ["120", "35", "1 of 3"]
    assert "99" not in reach


def test_charts_are_accessible_inline_svg_with_the_numbers_in_tables(client, db):
    round_ = decided_round("Chart round")
    make_awarded_grant(round_, make_org(), amount_pence=120_000, paid=1, towns=("Trowbridge",))
    db.session.commit()

    resp = client.get("/scorecard")
    html = resp.get_data(as_text=True)

    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script: the charts are plain SVG"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert " style=" not in html  # inline styles are refused by the CSP
    charts = re.findall(r"<svg class=\"chart-svg\".*?</svg>", html, re.S)
    assert len(charts) == 4
    for svg in charts:
        assert 'role="img"' in svg
        labelled = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', svg)
        assert labelled
        assert f'<title id="{labelled.group(1)}">' in svg and f'<desc id="{labelled.group(2)}">' in svg
    money_svg = charts[0]
    assert "Chart round: awarded £1,200, paid £1,200." in money_svg
    assert re.search(r'<rect class="bar-awarded" [^>]*width="[1-9]', money_svg)
    assert "<table" in section(html, "money-heading")


def test_links_open_data_and_the_public_ledger(client, db):
    make_awarded_grant(decided_round(), make_org())
    db.session.commit()

    html = page(client)

    assert 'href="/open-data/360giving.json"' in html
    assert 'href="/open-data/360giving.csv"' in html
    ledger = re.search(r'<a href="([^"]+)">The fund\'s public ledger</a>', html.replace("&#39;", "'"))
    assert ledger and ledger.group(1) == "/grants/ledger"
    followed = client.get(ledger.group(1))
    assert followed.status_code == 200 and "Award to" in followed.get_data(as_text=True)


def _build(db, count: int) -> None:
    rounds = [decided_round(f"Round {i}") for i in range(3)]
    towns = ("Calne", "Chippenham", "Devizes", "Swindon")
    for i in range(count):
        make_awarded_grant(
            rounds[i % 3], make_org(area=Area.SWINDON if i % 2 else Area.WILTSHIRE), amount_pence=60_000 + i * 100,
            towns=towns[: 1 + i % 3], instalments=(30_000 + i * 100, 30_000), paid=i % 3, reached=i if i % 2 else None,
        )  # fmt: skip
    db.session.commit()


def test_queries_do_not_grow_with_the_number_of_grants(client, db):
    _build(db, 3)
    few = client.get("/scorecard")
    assert few.status_code == 200
    _build(db, 12)
    many = client.get("/scorecard")
    assert many.status_code == 200

    assert int(few.headers["X-Query-Count"]) == int(many.headers["X-Query-Count"])
    assert int(many.headers["X-Query-Count"]) <= 5, many.headers["X-Query-Count"]
    # The grants themselves are listed per round, the same few queries whatever their number.
    # Each _build makes three rounds: the first three hold 1 grant each, the last three 4 each.
    round_ids = sorted(
        {int(i) for i in re.findall(r'href="/scorecard/rounds/(\d+)"', many.get_data(as_text=True))}
    )
    small, large = (
        client.get(f"/scorecard/rounds/{round_ids[0]}"),
        client.get(f"/scorecard/rounds/{round_ids[-1]}"),
    )
    assert small.get_data(as_text=True).count("<tr>\n      <td>") == 1
    assert large.get_data(as_text=True).count("<tr>\n      <td>") == 4
    assert int(small.headers["X-Query-Count"]) == int(large.headers["X-Query-Count"]) <= 5


def test_nice_axis_steps():
    assert [nice_step(v) for v in (0, 4, 40, 50, 125_050)] == [1, 1, 10, 20, 50_000]
