"""A campaign's money by calendar month, as staff (and the lead organisation's admins) read it and download it:
each month's figures are the sums of what was given, refunded, claimed, received and passed on in that month in UK
time, the totals agree with the campaign's own running totals, and the page takes the same queries however much
money moved."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.fundraising import campaigns as campaign_steps
from foundation.fundraising import claims, match
from foundation.fundraising.models import CampaignStatus, Donation, DonationStatus, GiftAidClaim
from foundation.fundraising.report import campaign_report, month_starts
from foundation.fundraising.views_staff import REPORT_HEADER
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.payments import service as payments
from foundation.types import LONDON, london_today
from tests.factories import add_member, login, make_org, make_user
from tests.fundraising.factories import in_request, make_campaign, make_donation, make_pledge
from tests.fundraising.support import page

# Moments around the ends of months, in UTC, and the UK month each belongs to.
JAN_31_NIGHT = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 23:30 on 31 January in London (winter time)
MAR_15 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MAR_31_NIGHT = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 April in London (summer time)
APR_10 = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
MAY_5 = datetime(2026, 5, 5, 14, 0, tzinfo=UTC)
JUN_30_NIGHT = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London
AUG_3 = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
SEP_1 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
SEP_20 = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
OCT_31_NIGHT = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # the clocks went back on 25 October: 31 October
NOV_2 = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "QUERY_COUNT_HEADER": True}


def retime(kind: TransactionKind, source: tuple[str, int], moment: datetime) -> None:
    """Date a ledger movement as if it had been posted then."""
    changed = _db.session.execute(
        sa.update(LedgerTransaction)
        .where(
            LedgerTransaction.kind == kind,
            LedgerTransaction.source_type == source[0],
            LedgerTransaction.source_id == source[1],
        )
        .values(created_at=moment)
    )
    assert changed.rowcount == 1, (kind, source)


@pytest.fixture
def year(officer):
    """A campaign that has run since January: gifts, a card fee, refunds (one after its Gift Aid was claimed), two
    Gift Aid claims and HMRC's payment (shared with another campaign), match funding, then closed."""
    campaign = make_campaign(CampaignStatus.LIVE, title="A year of youth voice", starts_on=date(2026, 1, 5))
    other = make_campaign(CampaignStatus.LIVE, title="Another campaign")
    jan = make_donation(campaign, 3_000, DonationStatus.REFUNDED)
    mar = make_donation(campaign, 2_000, provider="stripe", fee_pence=45)
    apr = make_donation(campaign, 5_000, gift_aid=True)
    claimed_then_refunded = make_donation(campaign, 4_000, gift_aid=True)
    elsewhere = make_donation(other, 2_000, gift_aid=True)
    first_claim = claims.create([apr.id, claimed_then_refunded.id, elsewhere.id], officer)
    with in_request():
        payments.refund_offline(claimed_then_refunded.payment_id, officer)
    sep = make_donation(campaign, 1_000, gift_aid=True)
    second_claim = claims.create(
        [sep.id], officer
    )  # deducts the Gift Aid on the gift refunded after the first
    pledge = make_pledge(campaign, ratio_percent=100, cap_pence=100_000)
    match.record_payment(pledge, 1_000, london_today(), "MATCH-1", officer)
    claims.record_payment(
        first_claim, 2_750, london_today(), "HMRC-1", officer
    )  # 2,250 ours, 500 the other's

    retime(TransactionKind.DONATION, ("donation", jan.id), JAN_31_NIGHT)
    retime(TransactionKind.REFUND, ("donation", jan.id), OCT_31_NIGHT)
    retime(TransactionKind.DONATION, ("donation", mar.id), MAR_15)
    retime(TransactionKind.PROVIDER_FEE, ("donation", mar.id), MAR_15)
    retime(TransactionKind.DONATION, ("donation", apr.id), MAR_31_NIGHT)
    retime(TransactionKind.DONATION, ("donation", claimed_then_refunded.id), APR_10)
    retime(TransactionKind.REFUND, ("donation", claimed_then_refunded.id), AUG_3)
    retime(TransactionKind.DONATION, ("donation", sep.id), SEP_1)
    retime(TransactionKind.MATCH_FUNDING, ("match_pledge", pledge.id), JUN_30_NIGHT)
    retime(TransactionKind.GIFT_AID, ("gift_aid_claim", first_claim.id), NOV_2)
    first_claim.created_at, second_claim.created_at = MAY_5, SEP_20
    held = ledger.balances([campaign.account_code])[campaign.account_code]
    with in_request():
        campaign_steps.close(campaign, officer)
    _db.session.commit()
    return campaign, held


THIS_MONTH = london_today().strftime("%Y-%m")

# month: gifts, donations, refunded gifts, refunds, Gift Aid claimed, deducted, received, match, fees, passed on
EXPECTED = {
    "2026-01": (1, 3_000, 0, 0, 0, 0, 0, 0, 0, 0),
    "2026-03": (1, 2_000, 0, 0, 0, 0, 0, 0, 45, 0),
    "2026-04": (2, 9_000, 0, 0, 0, 0, 0, 0, 0, 0),  # the gift of 23:30 UTC on 31 March is April's in London
    "2026-05": (0, 0, 0, 0, 2_250, 0, 0, 0, 0, 0),
    "2026-07": (0, 0, 0, 0, 0, 0, 0, 1_000, 0, 0),
    "2026-08": (0, 0, 1, 4_000, 0, 0, 0, 0, 0, 0),
    "2026-09": (1, 1_000, 0, 0, 250, 1_000, 0, 0, 0, 0),
    "2026-10": (0, 0, 1, 3_000, 0, 0, 0, 0, 0, 0),  # 23:30 UTC on 31 October is still October in winter time
    "2026-11": (0, 0, 0, 0, 0, 0, 2_250, 0, 0, 0),
}


def figures(row) -> tuple[int, ...]:
    return (
        row.gifts, row.donations_pence, row.refunds, row.refunds_pence, row.gift_aid_claimed_pence,
        row.gift_aid_deducted_pence, row.gift_aid_received_pence, row.match_pence, row.fees_pence,
        row.passed_on_pence,
    )  # fmt: skip


def test_each_month_holds_what_moved_in_it_in_uk_time(year):
    campaign, held = year
    report = campaign_report(campaign)
    by_month = {row.month.strftime("%Y-%m"): figures(row) for row in report.months}
    expected = dict(EXPECTED)
    expected[THIS_MONTH] = (0, 0, 0, 0, 0, 0, 0, 0, 0, held)  # closed today: everything it held passed on
    assert by_month == expected
    assert report.before.is_empty
    # Each column's total is the sum of its months; the money in less the money out is what was passed on.
    assert figures(report.total) == tuple(sum(col) for col in zip(*expected.values(), strict=True))
    total = report.total
    assert held == (
        total.donations_pence - total.refunds_pence - total.fees_pence + total.match_pence
        + total.gift_aid_received_pence
    )  # fmt: skip


def test_the_totals_agree_with_the_campaigns_own_running_totals(year):
    campaign, _ = year
    _db.session.refresh(campaign)
    report = campaign_report(campaign)
    received = _db.session.scalars(
        sa.select(Donation.amount_pence).where(
            Donation.campaign_id == campaign.id, Donation.status == DonationStatus.SUCCEEDED
        )
    ).all()
    assert report.total.net_donations_pence == campaign.donations_pence == sum(received) == 8_000
    assert report.total.gifts - report.total.refunds == campaign.supporters == len(received) == 3


def test_the_report_page_shows_the_months_and_totals(as_staff, year):
    campaign, held = year
    resp = as_staff.get(f"/staff/campaigns/{campaign.id}/report")
    assert resp.status_code == 200
    text = page(resp)

    def cells(row_id: str) -> list[str]:
        row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', text, re.S).group(1)
        return [
            re.sub(r"<[^>]+>", " ", c).split()[0] for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]

    assert cells("month-2026-04") == ["April", "2", "£90", "£0", "£0", "£0", "£0", "£0", "£0"]
    assert cells("month-2026-03")[1:] == ["1", "£20", "£0", "£0", "£0", "£0", "£0.45", "£0"]
    assert cells("month-2026-09")[1:] == ["1", "£10", "£0", "£2.50", "£0", "£0", "£0", "£0"]
    assert "less £10 for refunds" in re.search(r'<tr id="month-2026-09">(.*?)</tr>', text, re.S).group(1)
    assert "2 gifts" in re.search(r'<tr id="month-total">(.*?)</tr>', text, re.S).group(1)  # refunded
    assert cells("month-total")[1:4] == ["5", "£150", "£70"]
    assert 'id="month-2026-02"' not in text  # a month when nothing moved is left out
    assert re.search(r'id="net-donations">([^<]*)<', text).group(1) == "£80"
    assert "the campaign's total." in text
    assert f'href="/staff/campaigns/{campaign.id}/report.csv"' in text
    assert f"/campaigns/{campaign.id}/manage" in text
    # The staff pages lead to it.
    assert f"/staff/campaigns/{campaign.id}/report" in page(as_staff.get("/staff/fundraising"))
    assert f"/staff/campaigns/{campaign.id}/report" in page(
        as_staff.get(f"/staff/campaigns/{campaign.id}/match")
    )


def test_the_report_as_a_spreadsheet(as_staff, year):
    campaign, held = year
    resp = as_staff.get(f"/staff/campaigns/{campaign.id}/report.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="{campaign.slug}-by-month-{london_today().isoformat()}.csv"'
    )
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == list(REPORT_HEADER) == [
        "Month", "Gifts", "Donations received (£)", "Gifts refunded", "Refunds (£)", "Gift Aid claimed (£)",
        "Gift Aid deducted for refunds (£)", "Gift Aid received (£)", "Match funding received (£)",
        "Provider fees (£)", "Passed on at close (£)",
    ]  # fmt: skip

    def pounds(pence: int) -> str:
        return f"{pence // 100}.{pence % 100:02d}"

    def line(month: str, values: tuple[int, ...]) -> list[str]:
        gifts, donations, refunded, refunds, claimed, deducted, received, matched, fees, passed = values
        return [month, str(gifts), pounds(donations), str(refunded), pounds(refunds), pounds(claimed),
                pounds(deducted), pounds(received), pounds(matched), pounds(fees), pounds(passed)]  # fmt: skip

    expected = dict(EXPECTED)
    expected[THIS_MONTH] = (0, 0, 0, 0, 0, 0, 0, 0, 0, held)
    assert rows[1:-1] == [line(m, v) for m, v in sorted(expected.items())]
    totals = tuple(sum(col) for col in zip(*expected.values(), strict=True))
    assert rows[-1] == line("Total", totals)


def test_month_bounds_follow_the_uk_clock():
    starts = month_starts(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert [s.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") for s in starts][:2] == [
        "2026-03-01 00:00",
        "2026-04-01 00:00",
    ]
    assert starts[1].astimezone(UTC) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    assert starts[-1].astimezone(UTC) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert len(starts) == 9


def test_a_campaign_with_no_money_yet(as_staff):
    draft = make_campaign(CampaignStatus.DRAFT, title="Just begun")
    _db.session.commit()
    text = page(as_staff.get(f"/staff/campaigns/{draft.id}/report"))
    assert "No money has moved for this campaign yet." in text
    rows = list(csv.reader(io.StringIO(as_staff.get(f"/staff/campaigns/{draft.id}/report.csv").get_data(
        as_text=True)[1:])))  # fmt: skip
    assert rows[1:] == [["Total", "0", "0.00", "0", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"]]


def test_the_lead_organisations_admins_read_their_own_campaigns_report(app, officer):
    admin, member, stranger = make_user(name="Lena Lead"), make_user(), make_user()
    lead = make_org(admin, name="Calne Youth Project")
    add_member(lead, member)
    make_org(stranger, name="Somebody else")
    live = make_campaign(CampaignStatus.LIVE, lead=lead)
    draft = make_campaign(CampaignStatus.DRAFT)
    make_donation(live, 2_500)
    _db.session.commit()
    for who, path, status in (
        (admin, f"/staff/campaigns/{live.id}/report", 200),
        (admin, f"/staff/campaigns/{live.id}/report.csv", 200),
        (member, f"/staff/campaigns/{live.id}/report", 403),
        (stranger, f"/staff/campaigns/{live.id}/report.csv", 403),
        (stranger, f"/staff/campaigns/{draft.id}/report", 404),
        (admin, "/staff/campaigns/999999/report", 404),
    ):
        client = app.test_client()
        login(client, who)
        assert client.get(path).status_code == status, (who.name, path)
    client = app.test_client()
    login(client, admin)
    text = page(client.get(f"/staff/campaigns/{live.id}/report"))
    breadcrumb = text.split("<h1")[0].rsplit('<p class="muted">', 1)[1]
    assert (
        "£25" in text
        and "/staff/fundraising" not in breadcrumb
        and f"/campaigns/{live.id}/manage" in breadcrumb
    )
    manage = page(client.get(f"/campaigns/{live.id}/manage"))
    assert f'href="/staff/campaigns/{live.id}/report"' in manage and "its money by month" in manage
    assert app.test_client().get(f"/staff/campaigns/{live.id}/report").status_code == 302  # sign in first


def test_the_report_takes_the_same_queries_however_much_money_moved(as_staff, officer):
    campaign = make_campaign(CampaignStatus.LIVE, starts_on=date(2026, 1, 5))

    def grow(n: int) -> None:
        for i in range(n):
            make_donation(campaign, 1_000 + i, gift_aid=True)
            make_donation(campaign, 2_000, provider="stripe", fee_pence=30)
            make_donation(campaign, 500, DonationStatus.REFUNDED)
        claims.create([d.id for d in claims.claimable()], officer)
        # Spread the movements over the months.
        txns = _db.session.scalars(sa.select(LedgerTransaction).order_by(LedgerTransaction.id)).all()
        for k, txn in enumerate(txns):
            txn.created_at = datetime(2026, 1 + k % 11, 10, tzinfo=UTC)
        _db.session.commit()

    def statements(url: str) -> int:
        as_staff.get(url)
        resp = as_staff.get(url)
        assert resp.status_code == 200
        return int(resp.headers["X-Query-Count"])

    urls = [f"/staff/campaigns/{campaign.id}/report", f"/staff/campaigns/{campaign.id}/report.csv"]
    grow(1)
    small = {url: statements(url) for url in urls}
    grow(6)
    assert {url: statements(url) for url in urls} == small
    # January to November 2026, and this month (when the claims were made).
    assert len(campaign_report(campaign).months) == 12
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(GiftAidClaim)) == 2
