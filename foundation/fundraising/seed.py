"""Fundraising demo data: a live consortium campaign with donations (some received, some pledged), a match pledge
part paid, a closed campaign whose money went to a round, and a campaign waiting for approval. Built through the
services with the offline provider, so the ledger, receipts and totals are the ones the application makes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from foundation.extensions import db
from foundation.fundraising import campaigns, claims, donations, giftaid, match
from foundation.fundraising.models import Campaign, MessageStatus, PartnerStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, LedgerAccount
from foundation.members.models import Organisation, User
from foundation.payments import service as payments
from foundation.payments.models import ReceivedBy
from foundation.seed import demo_data
from foundation.types import london_today

# (name, email, pence, anonymous, hide amount, message, gift aid (first, last, house, postcode) or None, received)
GIFTS = [
    ("Helen Price", "helen.price@example.com", 5000, False, False, "Our two have loved the youth club. Keep going!",
     ("Helen", "Price", "14", "SN11 0AB"), True),
    ("Tom Baker", "tom.baker@example.com", 2500, True, False, "", None, True),
    ("Priya Shah", "priya.shah@example.com", 10000, False, True, "For the Calne detached team.",
     ("Priya", "Shah", "Rose Cottage", "BA14 8JN"), True),
    ("Gwen Morgan", "gwen.morgan@example.com", 1000, False, False, "", ("Gwen", "Morgan", "3", "SP1 2AA"), True),
    ("Calne Rotary Club", "treasurer@calne-rotary.example", 50000, False, False,
     "From all the members of Calne Rotary.", None, True),
    ("Sam Ellis", "sam.ellis@example.com", 2000, False, False, "Good luck!", ("Sam", "Ellis", "22B", "SN1 4JJ"), True),
    ("Jo Reed", "jo.reed@example.com", 2500, False, False, "", None, False),
    ("Ali Khan", "ali.khan@example.com", 7500, False, False, "", ("Ali", "Khan", "9", "SN15 3EZ"), False),
]  # fmt: skip

LIVE_TITLE = "Summer of youth voice"
CLOSED_TITLE = "Warm spaces for winter youth clubs"
WAITING_TITLE = "Minibus for rural youth clubs"


@demo_data("fundraising", order=40)
def seed_fundraising() -> Iterator[str]:
    trace_log = logging.getLogger("celery.app.trace")
    level = trace_log.level
    trace_log.setLevel(max(level, logging.WARNING))
    try:
        with current_app.test_request_context("/"):  # the services link to pages in their notifications
            yield from _seed()
    finally:
        trace_log.setLevel(level)


def _org(name: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


def _seed() -> Iterator[str]:
    staff = db.session.scalar(sa.select(User).where(User.email == "staff@wypf.example"))
    calne, swindon = _org("Calne Youth Project"), _org("Swindon Sports Trust")
    trowbridge, salisbury = (
        _org("Trowbridge Town Council Youth Service"),
        _org("Salisbury Arts for Young People CIC"),
    )
    if staff is None or calne is None or swindon is None or trowbridge is None or salisbury is None:
        return
    if db.session.scalar(sa.select(Campaign.id).where(Campaign.title == LIVE_TITLE)) is not None:
        return
    today = london_today()
    fund = ledger.account(ledger.FUND)
    db.session.commit()

    live = _campaign(LIVE_TITLE, calne, staff, today, fund.id, target=1_500_000, story=(
        "Young people in Calne, Swindon and Trowbridge want a say in what happens where they live. This summer "
        "the three youth services will run youth forums, a podcast studio in a van and a youth-led grants panel.\n\n"
        "Every pound raised goes into the Foundation's seed-grant fund, which small youth groups across Wiltshire "
        "and Swindon apply to."))  # fmt: skip
    for partner in (swindon, trowbridge):
        _join(live, partner, staff)
    campaigns.invite(live, salisbury, staff)
    campaigns.approve(live, staff)
    live.starts_on = today - timedelta(days=20)
    db.session.commit()
    yield f"campaign {LIVE_TITLE} (live, 2 partners, 1 invited)"

    pledge = match.pledge(live, match.PledgeTerms(
        "Kennet Valley Building Society", ratio_percent=100, cap_pence=250_000, trigger_percent=0,
        window_starts_on=live.starts_on, window_ends_on=live.ends_on), staff)  # fmt: skip
    db.session.commit()
    received = 0
    for name, email, pence, anonymous, hide, message, gift_aid, arrived in GIFTS:
        declaration = None
        if gift_aid is not None:
            first, last, house, postcode = gift_aid
            declaration = giftaid.DeclarationDetails(None, first, last, house, postcode, uk_taxpayer=True)
        donation = donations.give(
            live, donations.Gift(pence, name, email, anonymous, hide, message, declaration), None
        )
        db.session.commit()
        donations.checkout(donation)
        if arrived:
            assert donation.payment_id is not None
            payments.record_received(
                donation.payment_id, staff, ReceivedBy.BANK_TRANSFER, today, f"BACS {1000 + donation.id}"
            )
            received += pence
        if message:
            donation.message_status = MessageStatus.SHOWN
        db.session.commit()
    yield f"donations to {LIVE_TITLE}: {len(GIFTS)} (£{received / 100:,.2f} received)"
    match.record_payment(pledge, 20_000, today, "KVBS match 1", staff)
    db.session.commit()
    yield "match funding: Kennet Valley Building Society, £1 for £1 up to £2,500 (£200 paid)"
    batch = claims.create([d.id for d in claims.claimable()], staff)
    db.session.commit()
    claims.record_payment(batch, claims.expected_pence(batch), today, "HMRC CHARITIES 0001", staff)
    db.session.commit()
    yield f"Gift Aid: claim {batch.id} of {len(batch.items)} donations, paid by HMRC"

    round_account = db.session.scalar(
        sa.select(LedgerAccount)
        .where(LedgerAccount.kind == AccountKind.ROUND_BUDGET)
        .order_by(LedgerAccount.id.desc())
    )
    closed = _campaign(CLOSED_TITLE, swindon, staff, today, (round_account or fund).id, target=300_000, story=(
        "Youth clubs in Swindon kept their doors open through the cold months, with hot food and a warm room for "
        "young people who had nowhere else to go."))  # fmt: skip
    _join(closed, calne, staff)
    campaigns.approve(closed, staff)
    for name, email, pence in (("Dee Walker", "dee.walker@example.com", 15000),
                               ("Swindon Rotary", "rotary@swindon.example", 100000)):  # fmt: skip
        gift = donations.give(closed, donations.Gift(pence, name, email), None)
        db.session.commit()
        donations.checkout(gift)
        assert gift.payment_id is not None
        payments.record_received(gift.payment_id, staff, ReceivedBy.CHEQUE, today, f"CHQ {200 + gift.id}")
        db.session.commit()
    campaigns.close(closed, staff)
    closed.starts_on, closed.ends_on = today - timedelta(days=90), today - timedelta(days=30)
    db.session.commit()
    yield f"campaign {CLOSED_TITLE} (closed, its money passed on)"

    waiting = _campaign(WAITING_TITLE, calne, staff, today, fund.id, target=2_800_000, story=(
        "A minibus would let young people from the villages around Calne reach the youth club, the skate park "
        "and trips away."), starts_in=14)  # fmt: skip
    campaigns.submit(waiting, _admin_or(calne, staff))
    campaigns.invite(waiting, swindon, staff)  # its answer waits on the partner's dashboard
    db.session.commit()
    yield f"campaign {WAITING_TITLE} (waiting for approval, a partner invited)"


def _join(campaign: Campaign, org: Organisation, staff: User) -> None:
    """Invite an organisation and have its administrator accept (or, with none, record it accepted)."""
    partner = campaigns.invite(campaign, org, staff)
    admins = org.admins()
    if admins:
        campaigns.respond(partner, True, admins[0])
    else:
        partner.status = PartnerStatus.ACCEPTED


def _admin_or(org: Organisation, staff: User) -> User:
    admins = org.admins()
    return admins[0] if admins else staff


def _campaign(title: str, lead: Organisation, staff: User, today: date, destination_id: int, target: int,
              story: str, starts_in: int = 0) -> Campaign:  # fmt: skip
    found = campaigns.create(
        campaigns.CampaignDetails(
            title=title, summary=story.split(". ")[0][:290] + ".", story=story, target_pence=target,
            starts_on=today + timedelta(days=starts_in), ends_on=today + timedelta(days=starts_in + 40),
            destination_id=destination_id,
        ),
        lead,
        staff,
    )  # fmt: skip
    db.session.flush()
    return found
