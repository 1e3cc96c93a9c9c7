"""Gift Aid claims: choose the claimable donations, export them in HMRC's schedule layout, mark them claimed as one
batch, and record HMRC's payment in the ledger.

A donation is claimable when it was received, is not refunded, was covered by a declaration in force when the
money arrived, bought the donor no benefit, and is in no claim yet. The claim item's primary key is the donation,
so the database refuses a second claim of the same gift, whoever asks at the same moment. A donation refunded
after it was claimed is deducted from the next claim.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising import campaigns, giftaid
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    ClaimStatus,
    Donation,
    GiftAidClaim,
    GiftAidClaimItem,
    GiftAidDeclaration,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.members.models import User
from foundation.types import local, london_today
from foundation.web import spreadsheet_safe

# The columns of HMRC's Charities Online Gift Aid schedule, in its order.
SCHEDULE_COLUMNS = (
    "Title",
    "First name or initial",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date",
    "Amount",
)


def claimable_query() -> sa.Select[tuple[Donation]]:
    claimed = sa.select(GiftAidClaimItem.donation_id)
    return (
        sa.select(Donation)
        .join(GiftAidDeclaration, GiftAidDeclaration.id == Donation.declaration_id)
        .where(giftaid.claimable(), Donation.id.not_in(claimed))
        .order_by(Donation.succeeded_at, Donation.id)
        .options(joinedload(Donation.declaration), joinedload(Donation.campaign))
    )


def claimable() -> list[Donation]:
    return list(db.session.scalars(claimable_query()))


def awaiting_adjustment() -> list[Donation]:
    """Claimed donations refunded since, not yet deducted from a claim."""
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(Donation.needs_adjustment.is_(True), Donation.adjusted_in_claim_id.is_(None))
            .order_by(Donation.id)
        )
    )


def create(donation_ids: list[int], by: User) -> GiftAidClaim:
    """Mark the chosen donations claimed as one batch, deducting earlier claims' refunded donations."""
    if not by.is_staff:
        raise DomainError("Only Foundation staff make Gift Aid claims.")
    chosen = sorted(set(donation_ids))
    if not chosen:
        raise DomainError("Choose at least one donation to claim.", field="donations")
    found = list(db.session.scalars(claimable_query().where(Donation.id.in_(chosen))))
    if len(found) != len(chosen):
        raise Conflict(
            f"{len(chosen) - len(found)} of the chosen donations can no longer be claimed (claimed meanwhile, "
            f"refunded, or their declaration was cancelled). Choose again from the list."
        )
    adjustments = awaiting_adjustment()
    claim = GiftAidClaim(
        status=ClaimStatus.SUBMITTED,
        donations_pence=sum(d.amount_pence for d in found),
        adjustment_pence=sum(d.amount_pence for d in adjustments),
        created_by=by,
    )
    db.session.add(claim)
    db.session.flush()
    db.session.add_all(
        GiftAidClaimItem(donation_id=d.id, claim_id=claim.id, amount_pence=d.amount_pence) for d in found
    )
    for d in adjustments:
        d.adjusted_in_claim_id = claim.id
    try:
        db.session.flush()
    except IntegrityError as exc:  # another claim took one of them first: the primary key said no
        raise Conflict("Some of these donations were claimed by someone else at the same moment.") from exc
    return claim


def expected_pence(claim: GiftAidClaim) -> int:
    return giftaid.gift_aid_on(claim.donations_pence) - giftaid.gift_aid_on(claim.adjustment_pence)


def schedule_csv(claim: GiftAidClaim) -> str:
    """The claim in the layout of HMRC's Gift Aid schedule spreadsheet, one row a donation."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SCHEDULE_COLUMNS)
    items = db.session.scalars(
        sa.select(GiftAidClaimItem)
        .where(GiftAidClaimItem.claim_id == claim.id)
        .order_by(GiftAidClaimItem.donation_id)
        .options(joinedload(GiftAidClaimItem.donation).joinedload(Donation.declaration))
    )
    for item in items:
        d = item.donation
        g = d.declaration
        assert g is not None and d.succeeded_at is not None  # claimable donations have both
        when = local(d.succeeded_at)
        assert when is not None
        writer.writerow(
            [
                spreadsheet_safe(g.title or ""),
                spreadsheet_safe(g.first_name),
                spreadsheet_safe(g.last_name),
                spreadsheet_safe(g.house),
                g.postcode,
                "",
                "",
                when.strftime("%d/%m/%y"),
                f"{item.amount_pence / 100:.2f}",
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class ClaimShare:
    campaign: Campaign
    pence: int


def shares(claim: GiftAidClaim, paid_pence: int) -> list[ClaimShare]:
    """HMRC's payment divided between the campaigns whose donations it was for, in proportion to the Gift Aid
    each earned (less its refunded donations' deductions); whole pence, the remainder to the largest."""
    earned: dict[int, int] = defaultdict(int)
    items = db.session.execute(
        sa.select(Donation.campaign_id, sa.func.sum(GiftAidClaimItem.amount_pence))
        .join(Donation, Donation.id == GiftAidClaimItem.donation_id)
        .where(GiftAidClaimItem.claim_id == claim.id)
        .group_by(Donation.campaign_id)
    ).tuples()
    for cid, total in items:
        earned[cid] += giftaid.gift_aid_on(int(total))
    deducted = db.session.execute(
        sa.select(Donation.campaign_id, sa.func.sum(Donation.amount_pence))
        .where(Donation.adjusted_in_claim_id == claim.id)
        .group_by(Donation.campaign_id)
    ).tuples()
    for cid, total in deducted:
        earned[cid] -= giftaid.gift_aid_on(int(total))
    positive = {cid: pence for cid, pence in earned.items() if pence > 0}
    whole = sum(positive.values())
    if not positive or whole <= 0:
        return []
    split = {cid: paid_pence * pence // whole for cid, pence in positive.items()}
    largest = max(positive, key=lambda cid: (positive[cid], -cid))
    split[largest] += paid_pence - sum(split.values())
    by_id = {c.id: c for c in db.session.scalars(sa.select(Campaign).where(Campaign.id.in_(list(split))))}
    return [ClaimShare(by_id[cid], pence) for cid, pence in sorted(split.items()) if pence > 0]


def record_payment(
    claim: GiftAidClaim, paid_pence: int, paid_on: date, reference: str, by: User
) -> GiftAidClaim:
    """HMRC paid the claim: one ledger movement from income into the campaigns it was for."""
    if not by.is_staff:
        raise DomainError("Only Foundation staff record HMRC's payments.")
    locked = db.session.get(GiftAidClaim, claim.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if locked.status is ClaimStatus.PAID:
        raise Conflict("HMRC's payment for this claim is already recorded.")
    reference = reference.strip()
    if not reference:
        raise DomainError("Give HMRC's payment reference.", field="reference")
    if paid_on > london_today():
        raise DomainError("The date cannot be in the future.", field="paid_on")
    if paid_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    expected = expected_pence(locked)
    if paid_pence > expected:
        raise DomainError(
            f"The claim was for £{expected / 100:,.2f}; HMRC cannot have paid more.", field="amount"
        )
    parts = shares(locked, paid_pence)
    if not parts:
        raise DomainError("Nothing in this claim is owed once refunds are deducted.", field="amount")
    moves = [(ledger.account(ledger.INCOME), -paid_pence)] + [
        (campaigns.account(s.campaign), s.pence) for s in parts
    ]
    txn = ledger.post(
        TransactionKind.GIFT_AID, f"Gift Aid from HMRC, claim {locked.id}", ("gift_aid_claim", locked.id), moves,
        by, [s.campaign.account_code for s in parts],
    )  # fmt: skip
    locked.status = ClaimStatus.PAID
    locked.paid_pence = paid_pence
    locked.paid_on = paid_on
    locked.hmrc_reference = reference[:100]
    locked.paid_recorded_by = by
    locked.transaction_id = txn.id
    for s in parts:
        if s.campaign.status is CampaignStatus.CLOSED:
            campaigns.pass_on(s.campaign, by)
    return locked


def all_claims() -> list[GiftAidClaim]:
    return list(db.session.scalars(sa.select(GiftAidClaim).order_by(GiftAidClaim.id.desc())))


def adjusted_in(claim: GiftAidClaim) -> list[Donation]:
    return list(
        db.session.scalars(
            sa.select(Donation).where(Donation.adjusted_in_claim_id == claim.id).order_by(Donation.id)
        )
    )
