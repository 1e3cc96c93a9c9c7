"""Builders for fundraising test data, through the services (campaign steps, giving, the payment providers' state
changes, match pledges), so the ledger, receipts and totals are the ones the application makes. They flush, never
commit: the test decides. Called outside a request they open one, as the services link to pages in their messages.

    make_campaign(status=CampaignStatus.LIVE, lead=None)    a campaign led by `lead` (a new organisation if None)
    make_donation(campaign, 2500, status=..., gift_aid=...)  a gift, offline by default ("stripe" for a card)
    make_pledge(campaign, ratio_percent=100, cap_pence=...)  match funding
    staff_user()                                              a member of Foundation staff (who acts by default)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context

from foundation.extensions import db
from foundation.fundraising import campaigns, donations, giftaid, match
from foundation.fundraising.models import Campaign, CampaignStatus, Donation, DonationStatus, MatchPledge
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerAccount
from foundation.members.models import Organisation, User
from foundation.payments import service as payments
from foundation.payments.models import ReceivedBy
from foundation.payments.providers import Outcome
from foundation.types import london_today
from tests.factories import make_org, make_user

STAFF_EMAIL = "fundraising@wypf.org.uk"
_seq = itertools.count(1)


@contextmanager
def in_request() -> Iterator[None]:
    """The services build links with url_for: give them a request when the caller has none."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/"):
        yield


def staff_user() -> User:
    """A member of Foundation staff: the first there is, or a fundraising officer made now."""
    found = db.session.scalar(sa.select(User).where(User.is_staff.is_(True)).order_by(User.id).limit(1))
    return found or make_user(email=STAFF_EMAIL, name="Fay Fundraiser", staff=True)


def make_campaign(
    status: CampaignStatus = CampaignStatus.LIVE,
    lead: Organisation | None = None,
    *,
    title: str | None = None,
    target_pence: int = 1_000_000,
    starts_on: date | None = None,
    ends_on: date | None = None,
    destination: LedgerAccount | None = None,
    by: User | None = None,
) -> Campaign:
    """A campaign taken to `status` by its steps: created, then submitted, approved or closed by staff.

    It starts today unless `starts_on` says otherwise; an earlier start is set after creation (a new campaign
    cannot start in the past), as for a campaign that has been running for a while."""
    n = next(_seq)
    by = by or staff_user()
    lead = lead or make_org(make_user(), name=f"Campaigning Youth Group {n}")
    today = london_today()
    start = starts_on or today
    end = ends_on or max(start, today) + timedelta(days=60)
    details = campaigns.CampaignDetails(
        title=title or f"Youth campaign {n}",
        summary="New kit and trips for young people across Wiltshire.",
        story="Young people asked for it; the groups of the consortium will run it together.",
        target_pence=target_pence,
        starts_on=max(start, today),
        ends_on=end,
        destination_id=(destination or ledger.account(ledger.FUND)).id,
    )
    with in_request():
        campaign = campaigns.create(details, lead, by)
        if start < today:
            campaign.starts_on = start
        if status is CampaignStatus.AWAITING_APPROVAL:
            campaign = campaigns.submit(campaign, by)
        elif status in (CampaignStatus.LIVE, CampaignStatus.CLOSED):
            campaign = campaigns.approve(campaign, by)
            if status is CampaignStatus.CLOSED:
                campaign = campaigns.close(campaign, by)
    db.session.flush()
    return campaign


def make_donation(
    campaign: Campaign,
    amount_pence: int = 2_500,
    status: DonationStatus = DonationStatus.SUCCEEDED,
    gift_aid: bool = False,
    *,
    name: str | None = None,
    email: str | None = None,
    message: str = "",
    anonymous: bool = False,
    provider: str = "offline",
    fee_pence: int = 0,
    user: User | None = None,
    by: User | None = None,
) -> Donation:
    """A gift to a live campaign, as a donor makes it, then taken to `status` the way its provider would:

    offline: staff record the money received (bank transfer, today), cancel the pledge, or refund it;
    stripe: the checkout is taken as opened, and the provider's events settle it (with `fee_pence`).
    A donor given no email gets one of their own, so no earlier Gift Aid declaration covers them."""
    n = next(_seq)
    by = by or staff_user()
    declaration = None
    if gift_aid:
        declaration = giftaid.DeclarationDetails(
            title=None, first_name="Gina", last_name=f"Giver{n}", house=str(n), postcode="SN15 1ER",
            uk_taxpayer=True,
        )  # fmt: skip
    gift = donations.Gift(
        amount_pence=amount_pence,
        name=name or f"Donor {n}",
        email=email or f"donor{n}@example.org",
        anonymous=anonymous,
        message=message,
        gift_aid=declaration,
    )
    with in_request():
        donation = donations.give(campaign, gift, user)
        payment = donation.payment
        assert payment is not None
        if provider == "stripe":
            payment.provider = "stripe"
            payment.checkout_reference = f"cs_test_{payment.id}"
            payment.payment_reference = f"pi_test_{payment.id}"
            db.session.flush()
        if status in (DonationStatus.SUCCEEDED, DonationStatus.REFUNDED):
            if provider == "stripe":
                payments.settle(payments.locked(payment.id), Outcome.SUCCEEDED)
                payments.apply_fee(payment.id, fee_pence)
            else:
                payments.record_received(
                    payment.id, by, ReceivedBy.BANK_TRANSFER, london_today(), f"BACS-{payment.id}"
                )
        if status is DonationStatus.REFUNDED:
            if provider == "stripe":
                payments.settle(payments.locked(payment.id), Outcome.REFUNDED)
            else:
                payments.refund_offline(payment.id, by)
        elif status is DonationStatus.FAILED:
            if provider == "stripe":
                payments.settle(payments.locked(payment.id), Outcome.FAILED, reason="checkout expired")
            else:
                payments.cancel_pledge(payment.id, by, "The donor changed their mind.")
    db.session.flush()
    return donation


def make_pledge(
    campaign: Campaign,
    ratio_percent: int = 100,
    cap_pence: int = 100_000,
    trigger_percent: int = 0,
    *,
    funder_name: str = "Wessex Building Society",
    organisation: Organisation | None = None,
    window: tuple[date, date] | None = None,
    by: User | None = None,
) -> MatchPledge:
    """A match pledge over the campaign's dates unless `window` says otherwise."""
    starts_on, ends_on = window or (campaign.starts_on, campaign.ends_on)
    terms = match.PledgeTerms(
        funder_name=funder_name,
        ratio_percent=ratio_percent,
        cap_pence=cap_pence,
        trigger_percent=trigger_percent,
        window_starts_on=starts_on,
        window_ends_on=ends_on,
        organisation=organisation,
    )
    return match.pledge(campaign, terms, by or staff_user())
