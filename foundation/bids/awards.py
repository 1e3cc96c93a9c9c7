"""When a bid is won: the award, the funder's payments into a restricted fund, and sub-awards to the partners.

Staff record the funder's decision on a submitted bid: the amount (in full or in part), its conditions and the
funder's reporting dates. The Foundation's management fee is the same share of the award as it was of the bid
(`fee_basis_points` on top of the partners' budgets). The rest is split between the partners in proportion to
their budgets (exact to the penny, the pennies left over going to the largest shares); staff may change the split
when the funder cut something, as long as it still adds up to what is there for the partners.

Money moves on the ledger (foundation/ledger/), tagged "bid:<id>" and "bid-award:<id>" so the public money trail
follows it from the funder to the Foundation to the partners:

    funder's payment   the funder's income account -> the award's restricted fund, and the fee's share of it -> unrestricted
    instalment         restricted fund -> the partner's "passed on" account

A restricted fund never pays out more than it has received: an instalment locks the award's row, reads the fund's
balance and refuses to go below zero, so two instalments at once cannot both spend the same pounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from foundation.bids.bids import accepted, budget, record_step, tell_team
from foundation.bids.models import (
    MAX_AMOUNT_PENCE,
    RETURN_LEAD_DAYS,
    AwardReportingDate,
    Bid,
    BidAward,
    BidPartner,
    BidStatus,
    FunderPayment,
    FundingOpportunity,
    MonitoringReturn,
    SubAward,
    SubAwardInstalment,
)
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, LedgerAccount, TransactionKind
from foundation.members.models import User
from foundation.types import london_today

UNRESTRICTED = "unrestricted"
MAX_REPORTING_DATES = 12


def fund_code(award: BidAward) -> str:
    return f"bid-award:{award.id}"


def partner_code(partner: BidPartner) -> str:
    return f"bid-partner:{partner.organisation_id}"


def _fund(award: BidAward) -> LedgerAccount:
    bid = award.bid
    return ledger.account(
        fund_code(award),
        f"Restricted: {bid.opportunity.funder.name}, {bid.title}"[:200],
        AccountKind.RESTRICTED_FUND,
    )


def _unrestricted() -> LedgerAccount:
    return ledger.account(UNRESTRICTED, "The Foundation's unrestricted funds", AccountKind.UNRESTRICTED)


def _partner_account(partner: BidPartner) -> LedgerAccount:
    return ledger.account(
        partner_code(partner), f"Passed on to {partner.organisation.name}"[:200], AccountKind.PARTNERS_PAID
    )


def _tags(award: BidAward) -> list[str]:
    return [f"bid:{award.bid_id}", fund_code(award), f"funder:{award.bid.opportunity.funder_id}"]


# --- the award -------------------------------------------------------------------------------------------------


def award_fee(amount_pence: int, basis_points: int) -> int:
    """The management fee's share of an award: the same share as the fee was of the bid (fee on top of parts)."""
    for_partners = (amount_pence * 10000 + (10000 + basis_points) // 2) // (10000 + basis_points)
    return amount_pence - for_partners


def split(total_pence: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Split `total_pence` in proportion to `weights`, exact to the penny (largest remainders get the pennies)."""
    weight_sum = sum(weights.values())
    if not weights:
        return {}
    if weight_sum == 0:
        weights = {key: 1 for key in weights}
        weight_sum = len(weights)
    shares = {key: total_pence * w // weight_sum for key, w in weights.items()}
    left = total_pence - sum(shares.values())
    by_remainder = sorted(weights, key=lambda key: (-(total_pence * weights[key] % weight_sum), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def record_award(
    bid: Bid,
    amount_pence: int | None,
    conditions: str,
    awarded_on: date | None,
    reporting_dates: list[date],
    by: User,
    today: date | None = None,
) -> BidAward:
    """The funder's award of a submitted bid: awarded in full when it is at least what was asked, else in part."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff record a funder's decision.")
    bid = db.session.get(Bid, bid.id, with_for_update=True, populate_existing=True) or bid
    if bid.status is not BidStatus.SUBMITTED:
        raise IllegalTransition(f"A bid that is {bid.status.label.lower()} cannot be awarded.")
    today = today or london_today()
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("Enter the amount awarded, more than £0.", field="amount")
    if amount_pence > MAX_AMOUNT_PENCE:
        raise DomainError("The amount must be £10,000,000 or less.", field="amount")
    if awarded_on is None:
        raise DomainError("Enter the date of the funder's decision.", field="awarded_on")
    if awarded_on > today:
        raise DomainError("The decision date cannot be in the future.", field="awarded_on")
    dates = sorted(set(reporting_dates))
    if not dates:
        raise DomainError("Enter at least one date the funder wants a report by.", field="reporting_dates")
    if len(dates) > MAX_REPORTING_DATES:
        raise DomainError(f"Enter at most {MAX_REPORTING_DATES} reporting dates.", field="reporting_dates")
    if dates[0] <= awarded_on:
        raise DomainError("Reporting dates come after the decision.", field="reporting_dates")
    partners = accepted(bid)
    fee = award_fee(amount_pence, bid.fee_basis_points)
    shares = split(amount_pence - fee, {p.id: p.budget_pence for p in partners})
    award = BidAward(
        bid=bid,
        amount_pence=amount_pence,
        fee_pence=fee,
        conditions=conditions.strip(),
        awarded_on=awarded_on,
        recorded_by=by,
    )
    award.reporting_dates = [AwardReportingDate(due=d) for d in dates]
    award.sub_awards = [SubAward(partner=p, amount_pence=shares[p.id]) for p in partners]
    db.session.add(award)
    db.session.flush()
    for reporting in award.reporting_dates:
        for partner in partners:
            db.session.add(
                MonitoringReturn(
                    reporting_date=reporting,
                    partner=partner,
                    due=reporting.due - timedelta(days=RETURN_LEAD_DAYS),
                )
            )
    asked = bid.asked_pence or budget(bid).total_pence
    outcome = BidStatus.AWARDED if amount_pence >= asked else BidStatus.PART_AWARDED
    record_step(bid, outcome, by, f"£{amount_pence / 100:,.2f} of £{asked / 100:,.2f} asked")
    tell_team(bid, f"{bid.title}: {outcome.label.lower()}", "bids/bid_moved", note=None, by=by)
    db.session.flush()
    return award


def set_sub_awards(award: BidAward, amounts: Mapping[int, int | None], by: User) -> None:
    """Change the split between partners (sub-award id -> pence); it must add up to what is there for partners."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff change the sub-awards.")
    award = _locked(award)
    for sub in award.sub_awards:
        amount = amounts.get(sub.id)
        field = f"sub_{sub.id}"
        if amount is None:
            raise DomainError(f"Enter the amount for {sub.partner.organisation.name}.", field=field)
        if amount < 0:
            raise DomainError("An amount cannot be below zero.", field=field)
        if amount < sub.paid_pence:
            raise DomainError(
                f"{sub.partner.organisation.name} has already been paid £{sub.paid_pence / 100:,.2f}.",
                field=field,
            )
    total = sum(amounts.get(sub.id) or 0 for sub in award.sub_awards)
    if total != award.for_partners_pence:
        raise DomainError(
            f"The sub-awards add up to £{total / 100:,.2f}, but £{award.for_partners_pence / 100:,.2f} is there for "
            "the partners (the award less the management fee).",
            field="sub_awards",
        )
    for sub in award.sub_awards:
        sub.amount_pence = amounts[sub.id] or 0


def _locked(award: BidAward) -> BidAward:
    found = db.session.get(BidAward, award.id, with_for_update=True, populate_existing=True)
    assert found is not None
    return found


# --- money -----------------------------------------------------------------------------------------------------


def record_funder_payment(
    award: BidAward, amount_pence: int | None, received_on: date | None, reference: str, by: User,
    today: date | None = None,
) -> FunderPayment:  # fmt: skip
    """The funder paid (part of) the award: into the restricted fund, with the fee's share to unrestricted."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff record the funder's payments.")
    award = _locked(award)
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("Enter the amount received, more than £0.", field="amount")
    if received_on is None:
        raise DomainError("Enter the date the money arrived.", field="received_on")
    if received_on > (today or london_today()):
        raise DomainError("The date the money arrived cannot be in the future.", field="received_on")
    received = sum(p.amount_pence for p in award.payments)
    if received + amount_pence > award.amount_pence:
        left = award.amount_pence - received
        raise DomainError(
            f"That is more than the award: £{left / 100:,.2f} of it is still to come.", field="amount"
        )
    fee_taken = sum(p.fee_pence for p in award.payments)
    # The fee comes out of each payment in proportion, and the last payment squares it to the penny.
    fee_due = (award.fee_pence * (received + amount_pence) + award.amount_pence // 2) // award.amount_pence
    fee_part = max(0, min(amount_pence, fee_due - fee_taken))
    payment = FunderPayment(
        award=award,
        amount_pence=amount_pence,
        fee_pence=fee_part,
        received_on=received_on,
        reference=" ".join(reference.split())[:100],
        recorded_by=by,
    )
    db.session.add(payment)
    db.session.flush()
    funder = award.bid.opportunity.funder.name
    funder_account = ledger.account(
        f"funder:{award.bid.opportunity.funder_id}", f"Grants from {funder}"[:200], AccountKind.INCOME
    )
    moves = [(funder_account, -amount_pence)]
    if amount_pence - fee_part:
        moves.append((_fund(award), amount_pence - fee_part))
    if fee_part:
        moves.append((_unrestricted(), fee_part))
    txn = ledger.post(
        TransactionKind.AWARD_RECEIVED,
        f"{funder} paid towards {award.bid.title}"
        + (f" (management fee £{fee_part / 100:,.2f})" if fee_part else ""),
        ("bid_funder_payment", payment.id),
        moves,
        by,
        _tags(award),
    )
    payment.ledger_transaction_id = txn.id
    return payment


def fund_balance(award: BidAward) -> int:
    return ledger.balances([fund_code(award)])[fund_code(award)]


def pay_instalment(
    sub_award: SubAward, amount_pence: int | None, paid_on: date | None, by: User, today: date | None = None
) -> SubAwardInstalment:
    """Pay part of a partner's sub-award out of the restricted fund: never beyond the sub-award, never beyond
    what the fund holds (the award's row is locked, so concurrent instalments queue and each sees the last)."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff pay sub-awards.")
    award = _locked(sub_award.award)
    sub_award = db.session.get(SubAward, sub_award.id, populate_existing=True) or sub_award
    if amount_pence is None or amount_pence <= 0:
        raise DomainError("Enter the amount to pay, more than £0.", field="amount")
    if paid_on is None:
        raise DomainError("Enter the date it is paid.", field="paid_on")
    if paid_on > (today or london_today()):
        raise DomainError("The payment date cannot be in the future.", field="paid_on")
    owed = sub_award.amount_pence - sub_award.paid_pence
    if amount_pence > owed:
        raise DomainError(
            f"That is more than {sub_award.partner.organisation.name}'s sub-award: £{owed / 100:,.2f} is left to pay.",
            field="amount",
        )
    held = fund_balance(award)
    if amount_pence > held:
        raise Conflict(
            f"The restricted fund holds £{held / 100:,.2f}: record the funder's payment before paying more out.",
            field="amount",
        )
    instalment = SubAwardInstalment(
        sub_award=sub_award, amount_pence=amount_pence, paid_on=paid_on, paid_by=by
    )
    db.session.add(instalment)
    db.session.flush()
    partner = sub_award.partner
    txn = ledger.transfer(
        TransactionKind.SUB_AWARD,
        f"{partner.organisation.name}'s share of {award.bid.title}",
        ("bid_sub_award_instalment", instalment.id),
        _fund(award),
        _partner_account(partner),
        amount_pence,
        by,
        [*_tags(award), f"organisation:{partner.organisation_id}"],
    )
    instalment.ledger_transaction_id = txn.id
    return instalment


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardMoney:
    award: BidAward
    received_pence: int
    fee_taken_pence: int
    paid_out_pence: int
    held_pence: int  # in the restricted fund now

    @property
    def to_come_pence(self) -> int:
        return self.award.amount_pence - self.received_pence


def money(award: BidAward) -> AwardMoney:
    """The award's money from its loaded payments and instalments, and the fund's balance (one query)."""
    received = sum(p.amount_pence for p in award.payments)
    fee = sum(p.fee_pence for p in award.payments)
    paid = sum(s.paid_pence for s in award.sub_awards)
    return AwardMoney(award, received, fee, paid, fund_balance(award))


def load_award_by_id(award_id: int) -> BidAward | None:
    """An award with its bid, payments and sub-awards loaded, in a fixed number of queries."""
    return db.session.scalar(
        sa.select(BidAward)
        .where(BidAward.id == award_id)
        .options(
            joinedload(BidAward.bid).options(
                joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder),
                joinedload(Bid.lead_organisation),
                selectinload(Bid.partners).joinedload(BidPartner.organisation),
            ),
            selectinload(BidAward.reporting_dates),
            selectinload(BidAward.payments).joinedload(FunderPayment.recorded_by),
            selectinload(BidAward.sub_awards).options(
                joinedload(SubAward.partner).joinedload(BidPartner.organisation),
                selectinload(SubAward.instalments),
            ),
        )
    )


def returns_of(award: BidAward) -> list[MonitoringReturn]:
    """The award's monitoring returns with their partners, by due date then partner (one query)."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReturn)
            .join(AwardReportingDate, AwardReportingDate.id == MonitoringReturn.reporting_date_id)
            .where(AwardReportingDate.award_id == award.id)
            .options(
                joinedload(MonitoringReturn.partner).joinedload(BidPartner.organisation),
                joinedload(MonitoringReturn.reporting_date),
            )
            .order_by(MonitoringReturn.due, MonitoringReturn.partner_id)
        )
    )
