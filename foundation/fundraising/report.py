"""A campaign's money by calendar month (Europe/London): gifts and what they brought in, refunds, Gift Aid claimed
and received, match funding, the payment providers' fees, and what was passed on to the fund or round.

Money figures are the campaign's ledger movements (every movement tagged "campaign:<id>"); Gift Aid claimed is
read from the claims and their donations. Months are those in which each movement was posted, or each claim made,
in UK time: the bounds of the months are worked out here (zoneinfo knows the clock changes) and each movement is
placed by comparing its time with them in SQL, so the report takes the same few queries however many gifts and
months there are.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from foundation.extensions import db
from foundation.fundraising import giftaid
from foundation.fundraising.models import Campaign, Donation, GiftAidClaim, GiftAidClaimItem
from foundation.ledger.models import LedgerAccount, LedgerEntry, LedgerTag, LedgerTransaction, TransactionKind
from foundation.types import LONDON, utcnow

# Where a movement's amount is read: the entry that received the money. A Gift Aid payment is shared between
# campaigns in one transaction, so for it only the entry on this campaign's own account counts.
COLUMNS = {
    TransactionKind.DONATION: ("gifts", "donations_pence"),
    TransactionKind.REFUND: ("refunds", "refunds_pence"),
    TransactionKind.GIFT_AID: (None, "gift_aid_received_pence"),
    TransactionKind.MATCH_FUNDING: (None, "match_pence"),
    TransactionKind.PROVIDER_FEE: (None, "fees_pence"),
    TransactionKind.CAMPAIGN_CLOSE: (None, "passed_on_pence"),
}


@dataclass
class MonthFigures:
    """One row of the report. `month` is the first day of the month in the UK; None for the totals row."""

    month: date | None
    gifts: int = 0
    donations_pence: int = 0
    refunds: int = 0
    refunds_pence: int = 0
    gift_aid_claimed_pence: int = 0  # on the campaign's gifts in the month's claims
    gift_aid_deducted_pence: int = 0  # from those claims, for gifts claimed before and refunded since
    gift_aid_received_pence: int = 0
    match_pence: int = 0
    fees_pence: int = 0
    passed_on_pence: int = 0

    @property
    def net_donations_pence(self) -> int:
        return self.donations_pence - self.refunds_pence

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) == 0 for f in fields(self) if f.name != "month")

    def add(self, other: MonthFigures) -> None:
        for f in fields(self):
            if f.name != "month":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    # Months with any figure, oldest first; `before` holds anything dated before the campaign's first month.
    months: list[MonthFigures]
    before: MonthFigures
    total: MonthFigures


def month_starts(first: datetime, last: datetime) -> list[datetime]:
    """The UTC moments at which each UK calendar month from `first`'s to `last`'s begins (midnight in London, which
    is 23:00 UTC the evening before in summer)."""
    local = first.astimezone(LONDON)
    year, month = local.year, local.month
    end = last.astimezone(LONDON)
    starts = []
    while (year, month) <= (end.year, end.month):
        starts.append(datetime.combine(date(year, month, 1), time.min, tzinfo=LONDON))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return starts


def _month_of(column: QueryableAttribute[datetime], starts: list[datetime]) -> sa.ColumnElement[int]:
    """The index of the month a moment falls in (the last month runs on without end), or -1 before the first."""
    return sa.case(
        *[(column >= start, index) for index, start in reversed(list(enumerate(starts)))], else_=-1
    )


def _first_moment(campaign: Campaign) -> datetime:
    """No money moves before a campaign exists or starts taking gifts; a campaign loaded in bulk may have been
    recorded after its gifts, so the earlier of the two begins the report."""
    starts = datetime.combine(campaign.starts_on, time.min, tzinfo=LONDON)
    return min(campaign.created_at, starts)


def campaign_report(campaign: Campaign, now: datetime | None = None) -> CampaignReport:
    """The campaign's figures per UK calendar month, in two queries."""
    starts = month_starts(_first_moment(campaign), now or utcnow())
    rows: dict[int, MonthFigures] = {i: MonthFigures(start.date()) for i, start in enumerate(starts)}
    rows[-1] = MonthFigures(None)

    # The ledger: each movement of the campaign, summed by kind and month.
    account = sa.select(LedgerAccount.id).where(LedgerAccount.code == campaign.account_code).scalar_subquery()
    moves = (
        sa.select(
            LedgerTransaction.kind.label("kind"),
            _month_of(LedgerTransaction.created_at, starts).label("month"),
            LedgerEntry.amount_pence.label("pence"),
        )
        .join(LedgerTag, LedgerTag.transaction_id == LedgerTransaction.id)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(
            LedgerTag.tag == campaign.account_code,
            LedgerTransaction.kind.in_(list(COLUMNS)),
            LedgerEntry.amount_pence > 0,
            sa.or_(LedgerTransaction.kind != TransactionKind.GIFT_AID, LedgerEntry.account_id == account),
        )
        .subquery()
    )
    by_month = db.session.execute(
        sa.select(moves.c.kind, moves.c.month, sa.func.count(), sa.func.sum(moves.c.pence)).group_by(
            moves.c.kind, moves.c.month
        )
    ).tuples()
    for kind, index, count, pence in by_month:
        counted, summed = COLUMNS[kind]
        row = rows[int(index)]
        if counted is not None:
            setattr(row, counted, getattr(row, counted) + int(count))
        setattr(row, summed, getattr(row, summed) + int(pence or 0))

    # Gift Aid claimed: per claim, on this campaign's gifts in it, and deducted for its gifts claimed before and
    # refunded since (HMRC's Gift Aid is worked out on each claim's sum, as the claim itself does).
    claimed = sa.union_all(
        sa.select(
            GiftAidClaim.id.label("claim_id"),
            GiftAidClaim.created_at.label("created_at"),
            sa.literal(False).label("deducted"),
            sa.func.sum(GiftAidClaimItem.amount_pence).label("pence"),
        )
        .join(GiftAidClaimItem, GiftAidClaimItem.claim_id == GiftAidClaim.id)
        .join(Donation, Donation.id == GiftAidClaimItem.donation_id)
        .where(Donation.campaign_id == campaign.id)
        .group_by(GiftAidClaim.id, GiftAidClaim.created_at),
        sa.select(
            GiftAidClaim.id,
            GiftAidClaim.created_at,
            sa.literal(True),
            sa.func.sum(Donation.amount_pence),
        )
        .join(Donation, Donation.adjusted_in_claim_id == GiftAidClaim.id)
        .where(Donation.campaign_id == campaign.id)
        .group_by(GiftAidClaim.id, GiftAidClaim.created_at),
    )
    for _claim_id, created_at, deducted, pence in db.session.execute(claimed).tuples():
        row = rows[_index(created_at, starts)]
        if deducted:
            row.gift_aid_deducted_pence += giftaid.gift_aid_on(int(pence or 0))
        else:
            row.gift_aid_claimed_pence += giftaid.gift_aid_on(int(pence or 0))

    total = MonthFigures(None)
    for row in rows.values():
        total.add(row)
    months = [rows[i] for i in range(len(starts)) if not rows[i].is_empty]
    return CampaignReport(campaign, months, rows[-1], total)


def _index(moment: datetime, starts: list[datetime]) -> int:
    found = -1
    for index, start in enumerate(starts):
        if moment >= start:
            found = index
    return found
