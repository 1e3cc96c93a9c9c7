"""Match funding: what each pledge owes, worked out from the donations received, and the funder's payments.

A pledge matches `ratio_percent` pence for every 100 pence donors gave inside its window, up to its cap, counting
only what was given after donors reached `trigger_percent` of the target. The amount is a function of sums of
received donations (not of their order): a refund lowers the sum and so the match, and nothing is counted twice
however donations and refunds interleave. Money counts when staff record the funder's payment: a ledger
movement from income into the campaign, never more than the pledge has earned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.fundraising import campaigns
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    MatchPayment,
    MatchPledge,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.members.models import Organisation, User
from foundation.types import LONDON, london_today


@dataclass(frozen=True)
class PledgeTerms:
    funder_name: str
    ratio_percent: int
    cap_pence: int
    trigger_percent: int
    window_starts_on: date
    window_ends_on: date
    organisation: Organisation | None = None


def ratio_words(ratio_percent: int) -> str:
    """A match ratio as people say it: 100 is "£1 for every £1", 50 is "50p for every £1"."""
    pounds, pence = divmod(ratio_percent, 100)
    if pence == 0:
        return f"£{pounds} for every £1"
    if pounds == 0:
        return f"{pence}p for every £1"
    return f"£{pounds}.{pence:02d} for every £1"


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def pledge(campaign: Campaign, terms: PledgeTerms, by: User) -> MatchPledge:
    if not by.is_staff:
        raise DomainError("Only Foundation staff record match funding.")
    if campaign.status is CampaignStatus.CLOSED:
        raise DomainError("The campaign has closed.")
    if not terms.funder_name.strip() and terms.organisation is None:
        raise DomainError("Name the match funder.", field="funder_name")
    if not 1 <= terms.ratio_percent <= 1000:
        raise DomainError("The ratio must be between 1p and £10 for every £1 given.", field="ratio")
    if terms.cap_pence <= 0:
        raise DomainError("The cap must be more than £0.", field="cap")
    if terms.cap_pence > campaigns.MAX_TARGET_PENCE:
        raise DomainError("That cap is larger than any campaign could match.", field="cap")
    if not 0 <= terms.trigger_percent <= 100:
        raise DomainError(
            "The trigger is a percentage of the target, from 0 to 100.", field="trigger_percent"
        )
    if terms.window_ends_on < terms.window_starts_on:
        raise DomainError("The window must end on or after it starts.", field="window_ends_on")
    found = MatchPledge(
        campaign=campaign,
        funder_name=(terms.funder_name.strip() or (terms.organisation.name if terms.organisation else ""))[
            :200
        ],
        organisation=terms.organisation,
        ratio_percent=terms.ratio_percent,
        cap_pence=terms.cap_pence,
        trigger_percent=terms.trigger_percent,
        window_starts_on=terms.window_starts_on,
        window_ends_on=terms.window_ends_on,
        window_starts_at=_moment(terms.window_starts_on),
        window_ends_at=_moment(terms.window_ends_on + timedelta(days=1)),
        created_by=by,
    )
    found.before_pence, found.within_pence = _received_around(
        campaign, found.window_starts_at, found.window_ends_at
    )
    db.session.add(found)
    db.session.flush()
    return found


def _received_around(campaign: Campaign, starts: datetime, ends: datetime) -> tuple[int, int]:
    """Donations to the campaign received before a window, and inside it (for a pledge made while it runs)."""
    amount = Donation.amount_pence
    before, within = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((Donation.succeeded_at < starts, amount), else_=0)), 0),
            sa.func.coalesce(
                sa.func.sum(
                    sa.case(
                        (sa.and_(Donation.succeeded_at >= starts, Donation.succeeded_at < ends), amount),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(Donation.campaign_id == campaign.id, Donation.status == DonationStatus.SUCCEEDED)
    ).one()
    return int(before), int(within)


@dataclass(frozen=True)
class Matched:
    pledge: MatchPledge
    earned_pence: int  # what the pledge owes for the donations received so far
    received_pence: int  # what the funder has paid

    @property
    def outstanding_pence(self) -> int:
        return max(0, self.earned_pence - self.received_pence)


def earned(
    ratio_percent: int, cap_pence: int, threshold_pence: int, before_pence: int, within_pence: int
) -> int:
    """The match on `within_pence` given in the window, when `before_pence` was given before it and matching starts
    once `threshold_pence` has been given."""
    below_threshold = max(0, threshold_pence - before_pence)
    base = max(0, within_pence - below_threshold)
    return min(cap_pence, base * ratio_percent // 100)


def matched(campaign_ids: list[int]) -> dict[int, list[Matched]]:
    """Every pledge of these campaigns with what it has earned and received: three queries whatever the number.
    The donations before and inside each window are kept on the pledge as the money moves (donations.py)."""
    if not campaign_ids:
        return {}
    pledges = list(
        db.session.scalars(
            sa.select(MatchPledge).where(MatchPledge.campaign_id.in_(campaign_ids)).order_by(MatchPledge.id)
        )
    )
    result: dict[int, list[Matched]] = {cid: [] for cid in campaign_ids}
    if not pledges:
        return result
    paid_in = dict(
        db.session.execute(
            sa.select(MatchPayment.pledge_id, sa.func.sum(MatchPayment.amount_pence))
            .where(MatchPayment.pledge_id.in_([p.id for p in pledges]))
            .group_by(MatchPayment.pledge_id)
        )
        .tuples()
        .all()
    )
    sums = [(p.id, p.before_pence, p.within_pence, paid_in.get(p.id, 0)) for p in pledges]
    by_id = {pid: (int(before), int(within), int(paid)) for pid, before, within, paid in sums}
    targets = dict(
        db.session.execute(sa.select(Campaign.id, Campaign.target_pence).where(Campaign.id.in_(campaign_ids)))
        .tuples()
        .all()
    )
    for p in pledges:
        before, within, paid = by_id.get(p.id, (0, 0, 0))
        threshold = targets[p.campaign_id] * p.trigger_percent // 100
        result[p.campaign_id].append(
            Matched(p, earned(p.ratio_percent, p.cap_pence, threshold, before, within), paid)
        )
    return result


def record_payment(
    pledge_: MatchPledge, amount_pence: int, received_on: date, reference: str, by: User
) -> MatchPayment:
    """The funder paid: a ledger movement into the campaign, no more than the pledge has earned and not yet paid."""
    if not by.is_staff:
        raise DomainError("Only Foundation staff record match payments.")
    locked = db.session.get(MatchPledge, pledge_.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    reference = reference.strip()
    if not reference:
        raise DomainError("Give the bank reference of the funder's payment.", field="reference")
    if received_on > london_today():
        raise DomainError("The date cannot be in the future.", field="received_on")
    if amount_pence <= 0:
        raise DomainError("The amount must be more than £0.", field="amount")
    state = next(m for m in matched([locked.campaign_id])[locked.campaign_id] if m.pledge.id == locked.id)
    if amount_pence > state.outstanding_pence:
        raise DomainError(
            f"The pledge has earned £{state.outstanding_pence / 100:,.2f} not yet paid; "
            f"record no more than that.",
            field="amount",
        )
    campaign = locked.campaign
    account = campaigns.account(campaign)
    txn = ledger.transfer(
        TransactionKind.MATCH_FUNDING, f"Match funding from {locked.funder_name}", ("match_pledge", locked.id),
        ledger.account(ledger.INCOME), account, amount_pence, by, [campaign.account_code],
    )  # fmt: skip
    payment = MatchPayment(
        pledge=locked, amount_pence=amount_pence, received_on=received_on, reference=reference[:100],
        recorded_by=by, transaction_id=txn.id,
    )  # fmt: skip
    db.session.add(payment)
    if campaign.status is CampaignStatus.CLOSED:
        campaigns.pass_on(campaign, by)
    db.session.flush()
    return payment
