"""The ledger's tables. Money is integer pence; balances are never stored, they are sums of entries."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import User
from foundation.types import UTCDateTime, enum_column, utcnow


class AccountKind(enum.Enum):
    """What an account holds. Sign convention: a positive balance is money held in (or owed to) that account."""

    FUND = "fund"  # money in the seed-grant fund not yet given to a round
    ROUND_BUDGET = "round_budget"  # a round's budget not yet awarded
    GRANT_PAYABLE = "grant_payable"  # awarded to a grant, not yet paid
    PAID_OUT = "paid_out"  # paid to grantees (net of underspend returned)
    INCOME = "income"  # money coming in (its balance is negative: money given away from it)
    PLEDGES = "pledges"  # match funding pledged but not yet received
    CAMPAIGN = "campaign"  # money a fundraising campaign has raised and not yet passed to its fund or round
    FEES = "fees"  # payment providers' fees
    RESTRICTED_FUND = (
        "restricted_fund"  # a funder's award held for the purpose it was given, not yet passed on
    )
    UNRESTRICTED = "unrestricted"  # the Foundation's own money (management fees)
    PARTNERS_PAID = "partners_paid"  # passed on to consortium partners as sub-awards
    EVENT_FEES = "event_fees"  # fees paid for places at training and networking events


class TransactionKind(enum.Enum):
    DEPOSIT = "deposit"  # money into the fund (opening balance, donation, match funding received)
    ALLOCATION = "allocation"  # fund -> round budget
    DEALLOCATION = "deallocation"  # round budget -> fund (unspent budget handed back)
    AWARD = "award"  # round budget -> grant payable
    PAYMENT = "payment"  # grant payable -> paid out
    UNDERSPEND_RETURN = "underspend_return"  # paid out -> fund
    RELEASE = "release"  # grant payable -> round budget (an award reduced or withdrawn before payment)
    DONATION = "donation"  # income -> campaign
    REFUND = "refund"  # campaign (or where its money went) -> income: a donation paid back
    PROVIDER_FEE = "provider_fee"  # campaign -> fees: what the payment provider kept
    MATCH_FUNDING = "match_funding"  # income -> campaign: a match funder's payment
    GIFT_AID = "gift_aid"  # income -> campaigns: HMRC's payment of a Gift Aid claim
    CAMPAIGN_CLOSE = "campaign_close"  # campaign -> fund: a closed campaign's money passed on
    AWARD_RECEIVED = "award_received"  # income -> restricted fund (and its management fee -> unrestricted)
    SUB_AWARD = "sub_award"  # restricted fund -> partners paid: an instalment of a partner's sub-award
    EVENT_FEE = "event_fee"  # income -> event fees: a fee for places at an event (never Gift Aided)
    EVENT_FEE_REFUND = "event_fee_refund"  # event fees -> income: a fee paid back

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class LedgerAccount(Model):
    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable codes: "fund", "income", "paid_out", and "<what>:<id>" for a capability's own ("round:3", "grant:9").
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerTransaction(Model):
    """One movement of money, with why and what caused it; its entries sum to zero."""

    __tablename__ = "ledger_transaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300))
    # What caused it, as a (type, id) pair: ("round", 3), ("grant", 9), ("instalment", 12), ("donation", 5).
    source_type: Mapped[str] = mapped_column(sa.String(40))
    source_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", order_by="LedgerEntry.id"
    )
    tags: Mapped[list[LedgerTag]] = relationship(cascade="all, delete-orphan", order_by="LedgerTag.tag")
    created_by: Mapped[User | None] = relationship()


class LedgerEntry(Model):
    __tablename__ = "ledger_entry"
    __table_args__ = (sa.CheckConstraint("amount_pence <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transaction.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_account.id"), index=True)
    # Positive: money into the account; negative: money out of it.
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()


class LedgerTag(Model):
    """What a transaction concerns, as a code ("round:3", "grant:9"): how a capability finds its own movements."""

    __tablename__ = "ledger_transaction_tag"

    tag: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_transaction.id"), primary_key=True, index=True
    )


class LedgerTotal(Model):
    """How much has moved into and out of an account by each kind of movement, kept as each transaction is posted
    (service.post), so balances and public totals never sum the entries. Always equal to the entries' sums
    (service.totals_disagree says where they are not)."""

    __tablename__ = "ledger_total"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_account.id"), primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind), primary_key=True)
    in_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    out_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
