"""Builders for the fundraising service tests: a live campaign and gifts made through the services, with the
offline provider (money recorded received by staff), so the ledger and totals are the application's own."""

from __future__ import annotations

import html
from datetime import date

from foundation.extensions import db
from foundation.fundraising import donations, giftaid
from foundation.fundraising.models import Campaign, CampaignStatus, Donation
from foundation.members.models import Organisation, User
from foundation.payments import service as payments
from foundation.payments.models import ReceivedBy
from foundation.types import london_today
from tests.fundraising.factories import make_campaign

DECLARATION = giftaid.DeclarationDetails("Ms", "Ada", "Donor", "12", "sn15 1er", uk_taxpayer=True)


def live_campaign(
    lead: Organisation, staff: User, target_pence: int = 1_000_000, title: str = "Youth voice"
) -> Campaign:
    """A live campaign, starting today, for the seed-grant fund."""
    return make_campaign(CampaignStatus.LIVE, lead=lead, title=title, target_pence=target_pence, by=staff)


def gift(
    campaign: Campaign,
    pence: int,
    email: str = "ada@example.com",
    gift_aid: bool = False,
    user: User | None = None,
) -> Donation:
    """A pledged gift (offline provider), not yet received."""
    donation = donations.give(
        campaign,
        donations.Gift(pence, "Ada Donor", email, gift_aid=DECLARATION if gift_aid else None),
        user,
    )
    donations.checkout(donation)
    db.session.flush()
    return donation


def receive(donation: Donation, staff: User, on: date | None = None) -> Donation:
    assert donation.payment_id is not None
    payments.record_received(
        donation.payment_id, staff, ReceivedBy.BANK_TRANSFER, on or london_today(), "BACS 1"
    )
    db.session.flush()
    return donation


def given(
    campaign: Campaign, pence: int, staff: User, email: str = "ada@example.com", gift_aid: bool = False
) -> Donation:
    return receive(gift(campaign, pence, email=email, gift_aid=gift_aid), staff)


def page(resp) -> str:
    """A response's HTML with entities decoded, for assertions on what a reader sees."""
    return html.unescape(resp.get_data(as_text=True))
