"""Giving to a campaign, and what happens when the money arrives, fails or goes back.

A donation asks the payment provider for its money (foundation/payments) and waits. The payment's state changes
in one place, and `_payments_changed` below follows it: a donation counts only once its payment succeeded, and
then it is a ledger movement from income into the campaign's account (the provider's fee a second one, from the
campaign to fees). A refund reverses the donation's movement, takes it out of Gift Aid, and flags it for the next
claim if HMRC already paid on it. Card payments are settled by a worker in batches, so both handlers take a
batch: each campaign's totals are written once per batch and the ledger movements in a fixed number of
statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from flask import current_app
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
from foundation.ledger.models import LedgerAccount, TransactionKind
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import email_address
from foundation.payments import service as payments
from foundation.payments.models import PaymentStatus
from foundation.payments.service import FeeCharged, PaymentChange
from foundation.types import local, utcnow
from foundation.web import external_url

FEES = ledger.PROVIDER_FEES
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


# --- when the payments move ------------------------------------------------------------------------------------


def fees_account() -> LedgerAccount:
    return ledger.account(ledger.PROVIDER_FEES)


@dataclass
class _Batch:
    """What a batch of payment changes does to donations, gathered so each table is written once: the ledger
    movements, the campaigns' totals and match pledges' sums, receipts, and closed campaigns to pass on."""

    movements: list[tuple[TransactionKind, Donation]] = field(default_factory=list)
    totals: dict[int, list[int]] = field(default_factory=dict)  # campaign id: [pence, supporters, eligible]
    matched: list[tuple[int, datetime, int]] = field(
        default_factory=list
    )  # (campaign id, received at, pence)
    receipts: list[Donation] = field(default_factory=list)
    closed: dict[int, Campaign] = field(default_factory=dict)


@payments.on_change("donation")
def _payments_changed(changes: Sequence[PaymentChange]) -> None:
    """Donations follow their payments, in the order the payments moved: a donation counts once its payment
    succeeded (a ledger movement from income into the campaign's account, the campaign's totals, a receipt), and a
    refund reverses it, takes it out of Gift Aid, and flags it for the next claim if HMRC already paid on it. A
    worker's batch of changes is written with a fixed number of statements: each campaign's totals once."""
    found = _locked_donations([c.purpose_id for c in changes])
    for change in changes:
        donation = found.get(change.purpose_id)
        if donation is None or donation.payment_id != change.payment_id:
            raise RuntimeError(f"payment {change.payment_id} names no donation of ours")
    succeeding = [found[c.purpose_id] for c in changes if c.new is PaymentStatus.SUCCEEDED]
    # A declaration made since the gift began (another tab, a later gift) covers it too.
    declarations = giftaid.current_declarations(
        [(d.donor_email, d.user_id) for d in succeeding if d.declaration_id is None]
    )
    refunded = [c.purpose_id for c in changes if c.new is PaymentStatus.REFUNDED]
    claimed = set(
        db.session.scalars(
            sa.select(GiftAidClaimItem.donation_id).where(GiftAidClaimItem.donation_id.in_(refunded))
        )
        if refunded
        else ()
    )
    batch = _Batch()
    for change in changes:
        donation = found[change.purpose_id]
        campaign = donation.campaign
        if change.new is PaymentStatus.SUCCEEDED:
            donation.status = DonationStatus.SUCCEEDED
            donation.succeeded_at = change.at
            if donation.declaration_id is None and donation.declaration is None:
                donation.declaration = declarations.get((donation.donor_email, donation.user_id))
            _count(batch, donation, +1)
            batch.movements.append((TransactionKind.DONATION, donation))
            batch.receipts.append(donation)
            if campaign.status is CampaignStatus.CLOSED:
                batch.closed[campaign.id] = campaign
        elif change.new is PaymentStatus.FAILED:
            donation.status = DonationStatus.FAILED
        elif change.new is PaymentStatus.REFUNDED:
            was_counted = donation.status is DonationStatus.SUCCEEDED
            donation.status = DonationStatus.REFUNDED
            donation.refunded_at = change.at
            if was_counted:
                _count(batch, donation, -1)
                batch.movements.append((TransactionKind.REFUND, donation))
            if donation.id in claimed:
                donation.needs_adjustment = True
    for donation in batch.receipts:
        send_receipt(donation)
    _add_to_totals(batch)
    _post(batch.movements)
    for campaign in batch.closed.values():
        campaigns.pass_on(campaign, None)


def _locked_donations(ids: list[int]) -> dict[int, Donation]:
    """The donations, locked in id order, with their campaigns, declarations and donors' accounts."""
    return {
        d.id: d
        for d in db.session.scalars(
            sa.select(Donation)
            .where(Donation.id.in_(ids))
            .order_by(Donation.id)
            .options(
                joinedload(Donation.campaign), joinedload(Donation.declaration), joinedload(Donation.user)
            )
            .with_for_update(of=Donation)
            .execution_options(populate_existing=True)
        ).unique()
    }


def _post(movements: list[tuple[TransactionKind, Donation]]) -> None:
    """The batch's gifts and refunds in the ledger, in order: a gift from income into its campaign's account, a
    refund back from wherever the campaign's money is (its account while it runs, the fund once it has closed)."""
    if not movements:
        return
    campaigns_moved = {d.campaign.id: d.campaign for _, d in movements}
    held = _holding_accounts(list(campaigns_moved.values()), also=[ledger.INCOME])
    income = held[ledger.INCOME]
    postings = []
    for kind, donation in movements:
        campaign = donation.campaign
        source = ("donation", donation.id)
        tags = [campaign.account_code]
        if kind is TransactionKind.DONATION:
            into = held[campaign.account_code]
            postings.append(
                ledger.Posting(
                    kind, f"Donation to {campaign.title}", source,
                    [(income, -donation.amount_pence), (into, donation.amount_pence)], tags,
                )
            )  # fmt: skip
        else:
            out_of = (
                held[ledger.FUND] if campaign.status is CampaignStatus.CLOSED else held[campaign.account_code]
            )
            postings.append(
                ledger.Posting(
                    kind, f"Refund of a donation to {campaign.title}", source,
                    [(out_of, -donation.amount_pence), (income, donation.amount_pence)], tags,
                )
            )  # fmt: skip
    ledger.post_many(postings)


def _holding_accounts(campaign_list: list[Campaign], also: Sequence[str] = ()) -> dict[str, LedgerAccount]:
    """The campaigns' own accounts (opened on first use) and the fund, with the `also` accounts, in one query."""
    codes = [*also, ledger.FUND, *(c.account_code for c in campaign_list)]
    found = ledger.accounts(codes)
    for campaign in campaign_list:
        if campaign.account_code not in found:
            found[campaign.account_code] = campaigns.account(campaign)
    return found


@payments.on_fee("donation")
def _fees_charged(charges: Sequence[FeeCharged]) -> None:
    """The card provider's fees, known after the gifts: from each campaign (or the fund, once it has closed) to
    fees. A refund does not give a fee back."""
    rows = db.session.execute(
        sa.select(Donation.id, Donation.payment_id, Campaign)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .where(Donation.id.in_([c.purpose_id for c in charges]))
    ).all()
    found = {row[0]: (row[1], row[2]) for row in rows}
    for charge in charges:
        if charge.purpose_id not in found or found[charge.purpose_id][0] != charge.payment_id:
            raise RuntimeError(f"payment {charge.payment_id} names no donation of ours")
    held = _holding_accounts(list({c.id: c for _, c in found.values()}.values()))
    fees = fees_account()
    postings = []
    for charge in charges:
        campaign = found[charge.purpose_id][1]
        out_of = (
            held[ledger.FUND] if campaign.status is CampaignStatus.CLOSED else held[campaign.account_code]
        )
        postings.append(
            ledger.Posting(
                TransactionKind.PROVIDER_FEE, f"Card fee on a donation to {campaign.title}",
                ("donation", charge.purpose_id), [(out_of, -charge.fee_pence), (fees, charge.fee_pence)],
                [campaign.account_code],
            )
        )  # fmt: skip
    ledger.post_many(postings)


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
    """The donor's receipt, through the outbox (works in a worker too: its links are built from BASE_URL)."""
    config = current_app.config
    campaign = donation.campaign
    claimable = (
        giftaid.in_force(donation.declaration, donation.succeeded_at or utcnow()) and not donation.has_benefit
    )
    email_address(
        donation.donor_email,
        NotificationKind.FUNDRAISING,
        f"Thank you for your donation to {campaign.title}",
        "donation_receipt",
        user=donation.user,
        donation=donation,
        campaign=campaign,
        gift_aid_pence=giftaid.gift_aid_on(donation.amount_pence) if claimable else 0,
        charity_name=config["CHARITY_NAME"],
        charity_number=config["CHARITY_NUMBER"],
        postal_address=config["FOUNDATION_POSTAL_ADDRESS"],
        campaign_link=external_url("fundraising.campaign", slug=campaign.slug).removeprefix(
            config["BASE_URL"].rstrip("/")
        ),
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


def _count(batch: _Batch, donation: Donation, sign: int) -> None:
    """Add a received donation to its campaign's totals and its match pledges' sums (sign -1: take a refunded
    one out again), in the batch. Sums of received money, so the order of gifts and refunds does not matter."""
    at = donation.succeeded_at
    assert at is not None
    amount = sign * donation.amount_pence
    totals = batch.totals.setdefault(donation.campaign_id, [0, 0, 0])
    totals[0] += amount
    totals[1] += sign
    totals[2] += amount if _claimable_when_received(donation) else 0
    batch.matched.append((donation.campaign_id, at, amount))


def _add_to_totals(batch: _Batch) -> None:
    """Each campaign's totals once, and its match pledges' sums (money before and within each pledge's window),
    added in SQL so that writers at the same moment add up rather than overwrite."""
    moved = {cid: t for cid, t in batch.totals.items() if any(t)}
    if not moved:
        return
    campaigns_table = cast(sa.Table, Campaign.__table__)
    db.session.execute(
        sa.update(campaigns_table)
        .where(campaigns_table.c.id == sa.bindparam("b_id"))
        .values(
            donations_pence=campaigns_table.c.donations_pence + sa.bindparam("b_pence"),
            supporters=campaigns_table.c.supporters + sa.bindparam("b_supporters"),
            gift_aid_eligible_pence=campaigns_table.c.gift_aid_eligible_pence + sa.bindparam("b_eligible"),
        ),
        [
            {"b_id": cid, "b_pence": t[0], "b_supporters": t[1], "b_eligible": t[2]}
            for cid, t in sorted(moved.items())
        ],
    )
    pledges = db.session.execute(
        sa.select(
            MatchPledge.id, MatchPledge.campaign_id, MatchPledge.window_starts_at, MatchPledge.window_ends_at
        )
        .where(MatchPledge.campaign_id.in_(sorted(moved)))
        .order_by(MatchPledge.id)
    ).all()
    sums = []
    for pledge in pledges:
        before = within = 0
        for campaign_id, at, amount in batch.matched:
            if campaign_id != pledge.campaign_id:
                continue
            if pledge.window_starts_at > at:
                before += amount
            elif at < pledge.window_ends_at:
                within += amount
        if before or within:
            sums.append({"b_id": pledge.id, "b_before": before, "b_within": within})
    if sums:
        table = cast(sa.Table, MatchPledge.__table__)
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(
                before_pence=table.c.before_pence + sa.bindparam("b_before"),
                within_pence=table.c.within_pence + sa.bindparam("b_within"),
            ),
            sums,
        )
    session = db.session()
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Campaign) and obj.id in moved) or (
            isinstance(obj, MatchPledge) and obj.campaign_id in moved
        ):
            session.expire(obj, ["donations_pence", "supporters", "gift_aid_eligible_pence"]
                           if isinstance(obj, Campaign) else ["before_pence", "within_pence"])  # fmt: skip


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
