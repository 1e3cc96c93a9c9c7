"""Giving to a campaign, and what happens when the money arrives, fails or goes back.

A donation asks the payment provider for its money (foundation/payments) and waits. The payment's state changes
in one place, and `_payment_changed` below follows it: a donation counts only once its payment succeeded, and then
it is a ledger movement from income into the campaign's account (the provider's fee a second one, from the
campaign to fees). A refund reverses the donation's movement, takes it out of Gift Aid, and flags it for the next
claim if HMRC already paid on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import joinedload

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising import campaigns, giftaid
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    GiftAidClaimItem,
    GiftAidDeclaration,
    MatchPledge,
    MessageStatus,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, LedgerAccount, TransactionKind
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import email_address
from foundation.payments import service as payments
from foundation.payments.models import Payment, PaymentStatus
from foundation.types import local, utcnow
from foundation.web import external_url

FEES = "fees"
PRESETS_PENCE = (1000, 2500, 5000, 10000)


@dataclass(frozen=True)
class Gift:
    amount_pence: int
    name: str
    email: str
    anonymous: bool = False
    hide_amount: bool = False
    message: str = ""
    gift_aid: giftaid.DeclarationDetails | None = None


def limits() -> tuple[int, int]:
    return current_app.config["DONATION_MIN_PENCE"], current_app.config["DONATION_MAX_PENCE"]


def check_amount(amount_pence: int | None) -> int:
    low, high = limits()
    if amount_pence is None:
        raise DomainError("Enter an amount, like 25 or 25.50.", field="amount")
    if amount_pence < low:
        raise DomainError(f"The smallest gift we can take is £{low / 100:,.2f}.", field="amount")
    if amount_pence > high:
        raise DomainError(
            f"The largest gift we take online is £{high / 100:,.2f}. For more, please contact the Foundation.",
            field="amount",
        )
    return amount_pence


def give(campaign: Campaign, gift: Gift, user: User | None) -> Donation:
    """Record a gift and its pending payment. The caller commits, then opens the checkout."""
    if not campaigns.taking_donations(campaign):
        raise DomainError("This campaign is not taking donations.")
    amount = check_amount(gift.amount_pence)
    name, email = gift.name.strip(), gift.email.strip().lower()
    if not name:
        raise DomainError("Enter your name (you can still give anonymously).", field="name")
    if "@" not in email or len(email) > 254:
        raise DomainError("Enter an email address for your receipt, like name@example.com.", field="email")
    declaration: GiftAidDeclaration | None = None
    if gift.gift_aid is not None:
        declaration = giftaid.declare(gift.gift_aid, email, user)
    else:
        declaration = giftaid.current_declaration(email, user)
    message = gift.message.strip()
    donation = Donation(
        campaign=campaign,
        amount_pence=amount,
        status=DonationStatus.PENDING,
        donor_name=name[:100],
        donor_email=email,
        user=user,
        anonymous=gift.anonymous,
        hide_amount=gift.hide_amount,
        message=message[:500] or None,
        message_status=MessageStatus.WAITING if message else MessageStatus.NONE,
        declaration=declaration,
        has_benefit=False,
    )
    db.session.add(donation)
    db.session.flush()
    payment = payments.start(("donation", donation.id), amount, f"Donation to {campaign.title}")
    donation.payment = payment
    db.session.flush()
    return donation


def checkout(donation: Donation) -> str | None:
    """Open the provider's checkout for a recorded gift: where to send the donor, or None for a pledge."""
    assert donation.payment is not None
    return payments.open_checkout(
        donation.payment,
        success_url=_external("fundraising.donation_thanks", donation),
        cancel_url=_external("fundraising.campaign", donation, cancelled=1),
        email=donation.donor_email,
    )


def _external(endpoint: str, donation: Donation, **values: object) -> str:
    if endpoint == "fundraising.campaign":
        return external_url(endpoint, slug=donation.campaign.slug, **values)
    return external_url(endpoint, donation_id=donation.id, key=thanks_key(donation), **values)


def _thanks_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="donation-thanks")


def thanks_key(donation: Donation) -> str:
    """A token for the donor's own thank-you page (they may not be signed in)."""
    return str(_thanks_signer().dumps(donation.id))


def check_thanks_key(donation_id: int, key: str) -> bool:
    try:
        found = _thanks_signer().loads(key)
    except BadSignature:
        return False
    return bool(found == donation_id)


# --- when the payment moves ------------------------------------------------------------------------------------


def fees_account() -> LedgerAccount:
    return ledger.account(FEES, "Payment providers' fees", AccountKind.FEES)


@payments.on_change("donation")
def _payment_changed(payment: Payment, old: PaymentStatus, new: PaymentStatus) -> None:
    donation = db.session.scalar(
        sa.select(Donation)
        .where(Donation.id == payment.purpose_id)
        .options(joinedload(Donation.campaign))
        .with_for_update(of=Donation)
    )
    if donation is None or donation.payment_id != payment.id:
        raise RuntimeError(f"payment {payment.id} names no donation of ours")
    campaign = donation.campaign
    tags = [campaign.account_code]
    source = ("donation", donation.id)
    if new is PaymentStatus.SUCCEEDED:
        donation.status = DonationStatus.SUCCEEDED
        donation.succeeded_at = utcnow()
        if donation.declaration_id is None:
            # A declaration made since the gift began (another tab, a later gift) covers it too.
            donation.declaration = giftaid.current_declaration(donation.donor_email, donation.user)
        # The receipt first: what follows updates rows every gift to this campaign waits for (its totals, its
        # ledger account's), so they are held for as short a time as possible before the commit.
        send_receipt(donation)
        _count(donation, +1)
        accounts = ledger.accounts([ledger.INCOME, campaign.account_code])
        ledger.transfer(
            TransactionKind.DONATION, f"Donation to {campaign.title}", source, accounts[ledger.INCOME],
            accounts.get(campaign.account_code) or campaigns.account(campaign), donation.amount_pence, None, tags,
        )  # fmt: skip
        if campaign.status is CampaignStatus.CLOSED:
            campaigns.pass_on(campaign, None)
    elif new is PaymentStatus.FAILED:
        donation.status = DonationStatus.FAILED
    elif new is PaymentStatus.REFUNDED:
        was_counted = donation.status is DonationStatus.SUCCEEDED
        donation.status = DonationStatus.REFUNDED
        donation.refunded_at = utcnow()
        if was_counted:
            _count(donation, -1)
            ledger.transfer(
                TransactionKind.REFUND, f"Refund of a donation to {campaign.title}", source, _holding(campaign),
                ledger.account(ledger.INCOME), donation.amount_pence, None, tags,
            )  # fmt: skip
        if db.session.get(GiftAidClaimItem, donation.id) is not None:
            donation.needs_adjustment = True


def _holding(campaign: Campaign) -> LedgerAccount:
    """Where a campaign's money is: its own account while it runs, the fund once it has closed and passed on."""
    if campaign.status is CampaignStatus.CLOSED:
        return ledger.account(ledger.FUND)
    return campaigns.account(campaign)


@payments.on_fee("donation")
def _fee_charged(payment: Payment) -> None:
    """The card provider's fee, known after the gift: from the campaign (or the fund, once it has closed) to fees.
    A refund does not give it back."""
    donation = db.session.scalar(
        sa.select(Donation).where(Donation.id == payment.purpose_id).options(joinedload(Donation.campaign))
    )
    if donation is None or donation.payment_id != payment.id:
        raise RuntimeError(f"payment {payment.id} names no donation of ours")
    campaign = donation.campaign
    ledger.transfer(
        TransactionKind.PROVIDER_FEE, f"Card fee on a donation to {campaign.title}", ("donation", donation.id),
        _holding(campaign), fees_account(), payment.fee_pence, None, [campaign.account_code],
    )  # fmt: skip


def moderate_message(donation: Donation, decision: MessageStatus, by: User) -> Donation:
    """Show a donor's message on the campaign page, or keep it off, recording who decided and when. Staff may
    change their mind later (the latest decision is the one recorded)."""
    if decision not in (MessageStatus.SHOWN, MessageStatus.HIDDEN):
        raise DomainError("Choose to show or hide the message.", field="decision")
    if donation.message_status is MessageStatus.NONE or not donation.message:
        raise Conflict("This donation has no message.")
    donation.message_status = decision
    donation.moderated_by = by
    donation.moderated_at = utcnow()
    return donation


def send_receipt(donation: Donation) -> None:
    config = current_app.config
    claimable = (
        giftaid.in_force(donation.declaration, donation.succeeded_at or utcnow()) and not donation.has_benefit
    )
    email_address(
        donation.donor_email,
        NotificationKind.FUNDRAISING,
        f"Thank you for your donation to {donation.campaign.title}",
        "donation_receipt",
        user=donation.user,
        donation=donation,
        campaign=donation.campaign,
        gift_aid_pence=giftaid.gift_aid_on(donation.amount_pence) if claimable else 0,
        charity_name=config["CHARITY_NAME"],
        charity_number=config["CHARITY_NUMBER"],
        postal_address=config["FOUNDATION_POSTAL_ADDRESS"],
        campaign_link=url_for("fundraising.campaign", slug=donation.campaign.slug),
    )
    donation.receipt_sent_at = utcnow()


# --- totals ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raised:
    donations_pence: int
    supporters: int
    gift_aid_pence: int  # expected from HMRC on the gifts received


def _claimable_when_received(donation: Donation) -> bool:
    assert donation.succeeded_at is not None
    return giftaid.in_force(donation.declaration, donation.succeeded_at) and not donation.has_benefit


def _count(donation: Donation, sign: int) -> None:
    """Add a received donation to its campaign's totals and its match pledges' sums (sign -1: take a refunded
    one out again). Sums of received money, so the order of gifts and refunds does not matter."""
    at = donation.succeeded_at
    assert at is not None
    amount = sign * donation.amount_pence
    eligible = amount if _claimable_when_received(donation) else 0
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == donation.campaign_id)
        .values(
            donations_pence=Campaign.donations_pence + amount,
            supporters=Campaign.supporters + sign,
            gift_aid_eligible_pence=Campaign.gift_aid_eligible_pence + eligible,
        )
    )
    db.session.execute(
        sa.update(MatchPledge)
        .where(MatchPledge.campaign_id == donation.campaign_id)
        .values(
            before_pence=MatchPledge.before_pence
            + sa.case((MatchPledge.window_starts_at > at, amount), else_=0),
            within_pence=MatchPledge.within_pence
            + sa.case(
                (sa.and_(MatchPledge.window_starts_at <= at, MatchPledge.window_ends_at > at), amount),
                else_=0,
            ),
        )
    )


def raised(campaign_ids: list[int]) -> dict[int, Raised]:
    """Money received and Gift Aid expected per campaign, read from the totals kept as the money moves."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Campaign.id, Campaign.donations_pence, Campaign.supporters, Campaign.gift_aid_eligible_pence
        ).where(Campaign.id.in_(campaign_ids))
    ).tuples()
    found = {
        cid: Raised(int(total), int(count), giftaid.gift_aid_on(int(ga))) for cid, total, count, ga in rows
    }
    return {cid: found.get(cid, Raised(0, 0, 0)) for cid in campaign_ids}


def counted(campaign_ids: list[int]) -> dict[int, Raised]:
    """The same worked out from the donations themselves: what the kept totals must always equal."""
    eligible = sa.case((giftaid.claimable(), Donation.amount_pence), else_=0)
    rows = db.session.execute(
        sa.select(
            Donation.campaign_id,
            sa.func.coalesce(sa.func.sum(Donation.amount_pence), 0),
            sa.func.count(Donation.id),
            sa.func.coalesce(sa.func.sum(eligible), 0),
        )
        .join(GiftAidDeclaration, GiftAidDeclaration.id == Donation.declaration_id, isouter=True)
        .where(Donation.campaign_id.in_(campaign_ids), Donation.status == DonationStatus.SUCCEEDED)
        .group_by(Donation.campaign_id)
    ).tuples()
    found = {
        cid: Raised(int(total), int(count), giftaid.gift_aid_on(int(ga))) for cid, total, count, ga in rows
    }
    return {cid: found.get(cid, Raised(0, 0, 0)) for cid in campaign_ids}


def recent(campaign: Campaign, limit: int = 10) -> list[Donation]:
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(Donation.campaign_id == campaign.id, Donation.status == DonationStatus.SUCCEEDED)
            .order_by(Donation.succeeded_at.desc(), Donation.id.desc())
            .limit(limit)
        )
    )


def donations_of(user: User) -> list[Donation]:
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(sa.or_(Donation.user_id == user.id, Donation.donor_email == user.email.lower()))
            .where(
                Donation.status.in_(
                    [DonationStatus.SUCCEEDED, DonationStatus.REFUNDED, DonationStatus.PENDING]
                )
            )
            .order_by(Donation.created_at.desc())
            .options(sa.orm.joinedload(Donation.campaign))
        )
    )


def statement(user: User, year: int) -> tuple[list[Donation], int]:
    """A donor's received gifts in a calendar year, and their total."""
    gifts = [
        d
        for d in donations_of(user)
        if d.status is DonationStatus.SUCCEEDED and d.succeeded_at and _year(d.succeeded_at) == year
    ]
    return gifts, sum(d.amount_pence for d in gifts)


def _year(moment: datetime) -> int:
    london = local(moment)
    assert london is not None
    return london.year
