"""Giving: a donation counts only once its money arrived; it is then a ledger movement into the campaign, its
receipt goes out, and its Gift Aid is expected. Refunds reverse it. The ledger agrees with the donations table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising import campaigns, claims, donations, giftaid
from foundation.fundraising.models import Donation, DonationStatus, GiftAidDeclaration
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from foundation.payments import service as payments
from foundation.payments.models import PaymentStatus
from tests.factories import make_user
from tests.fundraising.support import gift, given, live_campaign, receive

pytestmark = pytest.mark.usefixtures("request_context")


def campaign_balance(campaign) -> int:
    return ledger.balances([campaign.account_code])[campaign.account_code]


def ledger_agrees_with_donations(campaign) -> None:
    received = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Donation.amount_pence), 0)).where(
            Donation.campaign_id == campaign.id, Donation.status == DonationStatus.SUCCEEDED
        )
    )
    totals = ledger.totals_by_kind()
    assert totals[TransactionKind.DONATION] - totals[TransactionKind.REFUND] == received
    assert ledger.check_balanced() == []
    assert ledger.totals_disagree() == []


def test_an_offline_gift_is_a_pledge_until_staff_record_it(lead, staff):
    campaign = live_campaign(lead, staff)
    donation = gift(campaign, 2_500)
    assert donation.status is DonationStatus.PENDING and donation.payment.status is PaymentStatus.PENDING
    assert (
        campaign_balance(campaign) == 0 and donations.raised([campaign.id])[campaign.id].donations_pence == 0
    )
    assert (
        db.session.query(Notification).filter(Notification.email_to == "ada@example.com").count() == 0
    )  # no receipt yet

    receive(donation, staff)
    assert donation.status is DonationStatus.SUCCEEDED and donation.succeeded_at is not None
    assert campaign_balance(campaign) == 2_500
    raised = donations.raised([campaign.id])[campaign.id]
    assert (raised.donations_pence, raised.supporters, raised.gift_aid_pence) == (2_500, 1, 0)
    receipt = db.session.scalars(
        sa.select(Notification).where(Notification.email_to == "ada@example.com")
    ).one()
    assert "Thank you for your donation to Youth voice" in receipt.subject
    assert "£25" in receipt.body_text and "registered charity" in receipt.body_text
    assert "Gift Aid: not claimed on this gift." in receipt.body_text
    with pytest.raises(Conflict):
        receive(donation, staff)
    assert campaign_balance(campaign) == 2_500
    ledger_agrees_with_donations(campaign)


def test_gift_aid_is_its_own_record_and_covers_later_gifts(lead, staff):
    campaign = live_campaign(lead, staff)
    first = given(campaign, 10_000, staff, gift_aid=True)
    declaration = first.declaration
    assert declaration is not None and declaration.postcode == "SN15 1ER"
    assert declaration.wording_version == giftaid.WORDING_VERSION and declaration.source == "online"
    assert "Gift Aid my donation" in giftaid.wording() and "I am a UK taxpayer" in giftaid.wording()
    later = given(campaign, 2_000, staff)  # same email, no new declaration: the first one covers it
    assert later.declaration_id == declaration.id
    assert db.session.scalar(sa.select(sa.func.count(GiftAidDeclaration.id))) == 1
    assert donations.raised([campaign.id])[campaign.id].gift_aid_pence == 3_000  # 25% of £120
    receipt = db.session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first()
    assert "the Foundation will claim £5 from HMRC" in receipt.body_text


def test_a_cancelled_declaration_stops_covering_later_gifts(lead, staff):
    campaign = live_campaign(lead, staff)
    donor = make_user(email="ada@example.com")
    first = given(campaign, 10_000, staff, gift_aid=True)
    giftaid.cancel(first.declaration, donor)
    db.session.flush()
    later = given(campaign, 4_000, staff)
    assert later.declaration_id is None
    assert donations.raised([campaign.id])[campaign.id].gift_aid_pence == 2_500  # only the first gift
    with pytest.raises(Conflict):
        giftaid.cancel(first.declaration, donor)


@pytest.mark.parametrize(
    ("pence", "message"),
    [
        (None, "Enter an amount"),
        (0, "smallest"),
        (-500, "smallest"),
        (199, "smallest"),
        (1_000_000_000, "largest"),
    ],
)
def test_amounts_outside_the_limits_are_refused(lead, staff, pence, message):
    campaign = live_campaign(lead, staff)
    with pytest.raises(DomainError) as refused:
        donations.give(campaign, donations.Gift(pence, "Ada", "ada@example.com"), None)  # type: ignore[arg-type]
    assert refused.value.field == "amount" and message in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0


@pytest.mark.parametrize("postcode", ["12345", "SW1A", "XX XX", "75008", "BA14 8JNX", ""])
def test_a_postcode_that_is_not_uk_is_refused(lead, staff, postcode):
    campaign = live_campaign(lead, staff)
    bad = giftaid.DeclarationDetails("Ms", "Ada", "Donor", "12", postcode, uk_taxpayer=True)
    with pytest.raises(DomainError) as refused:
        donations.give(campaign, donations.Gift(2_500, "Ada", "ada@example.com", gift_aid=bad), None)
    assert refused.value.field == "gift_aid_postcode"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("ba148jn", "BA14 8JN"), (" sn1  4jj ", "SN1 4JJ"), ("GIR0AA", "GIR 0AA"), ("W1A 1AA", "W1A 1AA")],
)
def test_uk_postcodes_are_tidied(raw, clean):
    assert giftaid.normalise_postcode(raw) == clean


def test_gift_aid_needs_the_taxpayer_confirmation(lead, staff):
    campaign = live_campaign(lead, staff)
    unconfirmed = giftaid.DeclarationDetails("Ms", "Ada", "Donor", "12", "SN15 1ER", uk_taxpayer=False)
    with pytest.raises(DomainError) as refused:
        donations.give(campaign, donations.Gift(2_500, "Ada", "ada@example.com", gift_aid=unconfirmed), None)
    assert refused.value.field == "gift_aid_taxpayer"


def test_a_campaign_not_live_takes_no_gifts(lead, lead_admin, staff):
    campaign = live_campaign(lead, staff)
    campaigns.close(campaign, staff)
    with pytest.raises(DomainError):
        donations.give(campaign, donations.Gift(2_500, "Ada", "ada@example.com"), None)


def test_a_refund_reverses_the_gift_and_its_gift_aid(lead, staff):
    campaign = live_campaign(lead, staff)
    donation = given(campaign, 5_000, staff, gift_aid=True)
    payments.refund_offline(donation.payment_id, staff)
    assert donation.status is DonationStatus.REFUNDED and campaign_balance(campaign) == 0
    raised = donations.raised([campaign.id])[campaign.id]
    assert (raised.donations_pence, raised.gift_aid_pence) == (0, 0)
    assert claims.claimable() == [] and not donation.needs_adjustment
    refund = db.session.scalars(
        sa.select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.REFUND)
    ).one()
    assert {e.amount_pence for e in refund.entries} == {-5_000, 5_000}
    ledger_agrees_with_donations(campaign)


def test_a_refund_after_a_claim_is_flagged_for_the_next_claim(lead, staff):
    campaign = live_campaign(lead, staff)
    claimed = given(campaign, 8_000, staff, gift_aid=True)
    first = claims.create([claimed.id], staff)
    payments.refund_offline(claimed.payment_id, staff)
    assert claimed.needs_adjustment and claims.awaiting_adjustment() == [claimed]
    fresh = given(campaign, 20_000, staff, gift_aid=True)
    second = claims.create([fresh.id], staff)
    assert second.adjustment_pence == 8_000 and claimed.adjusted_in_claim_id == second.id
    assert claims.expected_pence(first) == 2_000 and claims.expected_pence(second) == 5_000 - 2_000
    assert claims.awaiting_adjustment() == []


def test_a_gift_to_a_closed_campaign_arriving_late_follows_the_money(lead, staff):
    campaign = live_campaign(lead, staff)
    late = gift(campaign, 3_000)
    campaigns.close(campaign, staff)
    receive(late, staff)
    assert ledger.balances([campaign.account_code, ledger.FUND]) == {
        campaign.account_code: 0,
        ledger.FUND: 3_000,
    }
    payments.refund_offline(late.payment_id, staff)
    assert ledger.balances([ledger.FUND])[ledger.FUND] == 0
    ledger_agrees_with_donations(campaign)


def test_the_kept_totals_always_equal_the_donations(lead, staff):
    """Pages read each campaign's totals kept as the money moves; they must equal a count of the donations."""
    from tests.factories import make_user

    campaign = live_campaign(lead, staff)
    other = live_campaign(lead, staff, title="Another")
    donor = make_user(email="ada@example.com")
    first = given(campaign, 10_000, staff, gift_aid=True)
    given(campaign, 2_000, staff)  # covered by the same declaration
    refunded = given(campaign, 3_000, staff, email="bo@example.com", gift_aid=True)
    payments.refund_offline(refunded.payment_id, staff)
    giftaid.cancel(first.declaration, donor)
    db.session.flush()
    given(campaign, 4_000, staff)  # after the cancellation: no Gift Aid
    pledged = gift(campaign, 9_000, email="cy@example.com")
    payments.cancel_pledge(pledged.payment_id, staff, "Changed their mind")
    given(other, 500, staff, email="dee@example.com", gift_aid=True)
    ids = [campaign.id, other.id]
    assert donations.raised(ids) == donations.counted(ids)
    assert donations.raised([campaign.id])[campaign.id] == donations.Raised(16_000, 3, 3_000)
