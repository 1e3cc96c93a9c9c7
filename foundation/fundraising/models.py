"""Consortium fundraising: campaigns run by several member organisations, donations with Gift Aid, match funding
and Gift Aid claims. Money is integer pence; what a campaign holds is a ledger account ("campaign:<id>")."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.ledger.models import LedgerAccount
from foundation.members.models import Organisation, User
from foundation.payments.models import Payment
from foundation.types import UTCDateTime, enum_column, utcnow


class CampaignStatus(enum.Enum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    LIVE = "live"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Campaign(Model):
    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("target_pence > 0", name="target_positive"),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.String(300))
    story: Mapped[str] = mapped_column(sa.Text)
    image_name: Mapped[str | None] = mapped_column(sa.String(100))  # stored upload (folder "campaigns")
    image_alt: Mapped[str | None] = mapped_column(sa.String(200))
    target_pence: Mapped[int] = mapped_column(sa.BigInteger)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus), default=CampaignStatus.DRAFT, index=True
    )
    lead_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    # Where the money goes when the campaign closes: the seed-grant fund or a round's budget (a ledger account).
    destination_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_message: Mapped[str | None] = mapped_column(sa.String(1000))  # why staff sent it back to draft
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Kept as the money moves (donations.py), so a page never sums the donations: what has been received, from
    # how many gifts, and how much of it Gift Aid can be claimed on.
    donations_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    supporters: Mapped[int] = mapped_column(default=0, server_default="0")
    gift_aid_eligible_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    lead_organisation: Mapped[Organisation] = relationship()
    destination: Mapped[LedgerAccount] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    partners: Mapped[list[CampaignPartner]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignPartner.id"
    )

    @property
    def account_code(self) -> str:
        return f"campaign:{self.id}"


class PartnerStatus(enum.Enum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class CampaignPartner(Model):
    """A member organisation invited into a campaign's consortium; it is in once it accepts."""

    __tablename__ = "campaign_partner"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "organisation_id", name="uq_campaign_partner_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    status: Mapped[PartnerStatus] = mapped_column(enum_column(PartnerStatus), default=PartnerStatus.INVITED)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])


class GiftAidDeclaration(Model):
    """A donor's Gift Aid declaration in HMRC's model wording: its own record, covering this gift and later ones
    from the same email address until the donor cancels it."""

    __tablename__ = "gift_aid_declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(20))
    first_name: Mapped[str] = mapped_column(sa.String(35))
    last_name: Mapped[str] = mapped_column(sa.String(35))
    house: Mapped[str] = mapped_column(sa.String(40))  # house name or number
    postcode: Mapped[str] = mapped_column(sa.String(8))
    wording_version: Mapped[str] = mapped_column(sa.String(20))
    charity_name: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(20))  # "online", "paper", "phone"
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)


class DonationStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {
            DonationStatus.PENDING: "Waiting for payment",
            DonationStatus.SUCCEEDED: "Received",
            DonationStatus.FAILED: "Not completed",
            DonationStatus.REFUNDED: "Refunded",
        }[self]


class MessageStatus(enum.Enum):
    NONE = "none"  # no message
    WAITING = "waiting"  # shown once staff approve it
    SHOWN = "shown"
    HIDDEN = "hidden"


class Donation(Model):
    __tablename__ = "donation"
    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.Index("ix_donation_campaign_status", "campaign_id", "status"),
        # The staff list pages newest first by (happened_at, id), all donations or one campaign's, seeking from
        # the last row shown rather than counting past the earlier pages.
        sa.Index("ix_donation_happened_at_id", "happened_at", "id"),
        sa.Index("ix_donation_campaign_happened_at_id", "campaign_id", "happened_at", "id"),
        # What waits for staff (pledges not yet paid, messages not yet decided) is a small part of the table:
        # partial indexes keep its figures and lists proportional to it, not to every donation ever given.
        sa.Index(
            "ix_donation_pending_happened_at",
            "happened_at",
            "id",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_donation_message_waiting",
            "succeeded_at",
            "id",
            sqlite_where=sa.text("message_status = 'waiting' AND status = 'succeeded'"),
            postgresql_where=sa.text("message_status = 'waiting' AND status = 'succeeded'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), unique=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[DonationStatus] = mapped_column(
        enum_column(DonationStatus), default=DonationStatus.PENDING
    )
    donor_name: Mapped[str] = mapped_column(sa.String(100))
    donor_email: Mapped[str] = mapped_column(sa.String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    hide_amount: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    message_status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.NONE
    )
    # Gift Aid: the declaration that covers it, if any. A donation that buys a benefit is never claimable.
    declaration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gift_aid_declaration.id"), index=True)
    has_benefit: Mapped[bool] = mapped_column(default=False)
    # Refunded after it was claimed: the next claim deducts it (and says which claim did).
    needs_adjustment: Mapped[bool] = mapped_column(default=False)
    adjusted_in_claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gift_aid_claim.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the donation happened: when its money arrived, or else when it was given (a pledge, a checkout).
    # Worked out by the database from the two, so every writer (and a bulk load) keeps it right.
    happened_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), sa.Computed("coalesce(succeeded_at, created_at)", persisted=True)
    )
    # Who last showed or hid the donor's message, and when.
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    campaign: Mapped[Campaign] = relationship()
    payment: Mapped[Payment | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    declaration: Mapped[GiftAidDeclaration | None] = relationship()
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])

    @property
    def public_name(self) -> str:
        return "Anonymous" if self.anonymous else self.donor_name


class MatchPledge(Model):
    """A funder's promise to match donations: `ratio_percent` pence for every 100 given (100: £1 for £1), up to a
    cap, for donations inside the window, once donors have given `trigger_percent` of the target."""

    __tablename__ = "match_pledge"
    __table_args__ = (
        sa.CheckConstraint("ratio_percent > 0 AND ratio_percent <= 1000", name="ratio_sensible"),
        sa.CheckConstraint("cap_pence > 0", name="cap_positive"),
        sa.CheckConstraint("trigger_percent >= 0 AND trigger_percent <= 100", name="trigger_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    funder_name: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    ratio_percent: Mapped[int]
    cap_pence: Mapped[int] = mapped_column(sa.BigInteger)
    trigger_percent: Mapped[int] = mapped_column(default=0)
    # The window as London dates, and as the UTC moments it starts and ends (what donations are compared with).
    window_starts_on: Mapped[date]
    window_ends_on: Mapped[date]
    window_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Received donations to the campaign before the window and inside it, kept as the money moves.
    before_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    within_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    payments: Mapped[list[MatchPayment]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="MatchPayment.id"
    )


class MatchPayment(Model):
    """Money a match funder paid, recorded by staff: a ledger movement into the campaign."""

    __tablename__ = "match_payment"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(sa.ForeignKey("match_pledge.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    received_on: Mapped[date]
    reference: Mapped[str] = mapped_column(sa.String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pledge: Mapped[MatchPledge] = relationship(back_populates="payments")
    recorded_by: Mapped[User | None] = relationship()


class ClaimStatus(enum.Enum):
    SUBMITTED = "submitted"  # exported and sent to HMRC
    PAID = "paid"  # HMRC's payment recorded in the ledger

    @property
    def label(self) -> str:
        return self.value.capitalize()


class GiftAidClaim(Model):
    """One batch of donations claimed from HMRC (its items), less the refunds of earlier claims' donations."""

    __tablename__ = "gift_aid_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), default=ClaimStatus.SUBMITTED)
    donations_pence: Mapped[int] = mapped_column(sa.BigInteger)  # the gifts claimed on
    adjustment_pence: Mapped[int] = mapped_column(
        sa.BigInteger, default=0
    )  # earlier claims' refunds deducted
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    paid_on: Mapped[date | None]
    hmrc_reference: Mapped[str | None] = mapped_column(sa.String(100))
    paid_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    paid_recorded_by: Mapped[User | None] = relationship(foreign_keys=[paid_recorded_by_id])
    items: Mapped[list[GiftAidClaimItem]] = relationship(
        back_populates="claim", order_by="GiftAidClaimItem.donation_id"
    )


class GiftAidClaimItem(Model):
    """A donation in a claim. The donation is the primary key: the database itself refuses to claim one twice."""

    __tablename__ = "gift_aid_claim_item"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    donation_id: Mapped[int] = mapped_column(sa.ForeignKey("donation.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("gift_aid_claim.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)

    donation: Mapped[Donation] = relationship()
    claim: Mapped[GiftAidClaim] = relationship(back_populates="items")
