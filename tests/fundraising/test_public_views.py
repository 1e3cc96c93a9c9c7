"""The donor's pages through the browser's eyes (the test client): the campaign, giving, the thank-you page, and a
signed-in donor's own giving and declarations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising import campaigns, giftaid
from foundation.fundraising.models import Donation, DonationStatus, GiftAidDeclaration, MessageStatus
from foundation.payments.models import Payment
from tests.factories import login, make_user
from tests.fundraising.support import gift, given, live_campaign

pytestmark = pytest.mark.usefixtures("request_context")

GOOD = {"amount_choice": "2500", "name": "Ada Donor", "email": "ada@example.com"}
GIFT_AID = {"gift_aid": "y", "gift_aid_first_name": "Ada", "gift_aid_last_name": "Donor", "gift_aid_house": "12",
            "gift_aid_postcode": "ba14 8jn", "gift_aid_taxpayer": "y"}  # fmt: skip


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_campaign_page_shows_story_partners_progress_and_moderated_messages(
    client, lead, staff, partner, partner_admin
):
    campaign = live_campaign(lead, staff)
    campaigns.respond(campaigns.invite(campaign, partner, staff), True, partner_admin)
    shown = given(campaign, 5_000, staff, gift_aid=True)
    shown.message, shown.message_status = "Keep going!", MessageStatus.SHOWN
    hidden = given(campaign, 2_000, staff, email="bo@example.com")
    hidden.message, hidden.message_status = "Buy my product", MessageStatus.WAITING
    hidden.anonymous = True
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert (
        "the groups of the consortium will run it together" in page
        and "Swindon Sports Trust" in page
        and "Calne Youth Project" in page
    )
    assert "Donations: £70" in page and "Gift Aid expected: £12.50" in page
    assert "Keep going!" in page and "Buy my product" not in page
    assert "Anonymous" in page and "Ada Donor" in page
    assert "2</strong> supporters" in page


def test_a_draft_campaign_is_not_public(client, lead, lead_admin):
    from datetime import timedelta

    from foundation.ledger import service as ledger
    from foundation.types import london_today

    draft = campaigns.create(
        campaigns.CampaignDetails("Secret", "S.", "S.", 1000, london_today(), london_today() + timedelta(days=3),
                                  ledger.account(ledger.FUND).id),
        lead, lead_admin,
    )  # fmt: skip
    db.session.commit()
    assert client.get(f"/campaigns/{draft.slug}").status_code == 404
    assert client.get(f"/campaigns/{draft.slug}/donate").status_code == 404
    assert "Secret" not in client.get("/campaigns").get_data(as_text=True)


def test_giving_offline_records_a_pledge_and_its_declaration(client, lead, staff):
    campaign = live_campaign(lead, staff)
    db.session.commit()
    response = client.post(
        f"/campaigns/{campaign.slug}/donate", data={**GOOD, **GIFT_AID, "message": "Go team"}
    )
    assert response.status_code == 303
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.amount_pence == 2_500 and donation.status is DonationStatus.PENDING
    assert donation.message_status is MessageStatus.WAITING
    assert donation.declaration.postcode == "BA14 8JN" and donation.declaration.first_name == "Ada"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have pledged £25" in thanks and f"DON-{donation.id:06d}" in thanks
    # the thank-you page needs its key
    assert client.get(f"/donations/{donation.id}/thanks").status_code == 404
    assert client.get(f"/donations/{donation.id}/thanks?key=forged").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount_choice": "other", "amount": "abc"}, "amount", "Enter an amount in pounds and pence"),
        ({"amount_choice": "other", "amount": "0"}, "amount", "The smallest gift"),
        ({"amount_choice": "other", "amount": "-5"}, "amount", "cannot be below zero"),
        ({"amount_choice": "other", "amount": "12.345"}, "amount", "Enter an amount in pounds and pence"),
        ({"amount_choice": "other", "amount": "10000000"}, "amount", "The largest gift"),
        ({"amount_choice": "other", "amount": ""}, "amount", "Type the amount"),
        ({"amount_choice": "999999"}, "amount_choice", "Not a valid choice"),
        ({"email": "not-an-email"}, "email", "Enter an email address"),
        ({"name": "Ada\r\nBcc: x@example.com"}, "name", ""),
        ({**GIFT_AID, "gift_aid_postcode": "75008"}, "gift_aid_postcode", "Enter a UK postcode"),
        ({**GIFT_AID, "gift_aid_taxpayer": ""}, "gift_aid_taxpayer", "UK taxpayer"),
        ({**GIFT_AID, "gift_aid_house": ""}, "gift_aid_house", "house name or number"),
    ],
)
def test_bad_gifts_are_refused_at_their_field_and_nothing_is_written(
    client, lead, staff, data, field, message
):
    campaign = live_campaign(lead, staff)
    db.session.commit()
    response = client.post(f"/campaigns/{campaign.slug}/donate", data={**GOOD, **data})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and f'id="{field}-error"' in page and message in page
    assert count(Donation) == count(Payment) == count(GiftAidDeclaration) == 0


def test_a_signed_in_donor_sees_their_giving_and_cancels_a_declaration(client, lead, staff):
    campaign = live_campaign(lead, staff)
    donor = make_user(email="ada@example.com", name="Ada Donor")
    given(campaign, 4_000, staff, gift_aid=True)
    gift(campaign, 1_500)
    db.session.commit()
    login(client, donor)
    page = client.get("/account/giving").get_data(as_text=True)
    assert "Youth voice" in page and "£40" in page and "£15" in page and "SN15 1ER" in page
    declaration = db.session.scalars(sa.select(GiftAidDeclaration)).one()
    assert client.post(f"/account/giving/declarations/{declaration.id}/cancel").status_code == 302
    db.session.refresh(declaration)
    assert declaration.cancelled_at is not None
    assert giftaid.current_declaration("ada@example.com", donor) is None


def test_someone_elses_declaration_cannot_be_cancelled(client, lead, staff):
    campaign = live_campaign(lead, staff)
    given(campaign, 4_000, staff, gift_aid=True)
    db.session.commit()
    login(client, make_user(email="mallory@example.com"))
    declaration = db.session.scalars(sa.select(GiftAidDeclaration)).one()
    assert client.post(f"/account/giving/declarations/{declaration.id}/cancel").status_code == 404
    db.session.refresh(declaration)
    assert declaration.cancelled_at is None


def test_the_yearly_statement_as_a_page_and_a_pdf(client, lead, staff):
    from foundation.types import london_today

    campaign = live_campaign(lead, staff)
    donor = make_user(email="ada@example.com", name="Ada Donor")
    given(campaign, 4_000, staff, gift_aid=True)
    given(campaign, 1_000, staff)
    db.session.commit()
    login(client, donor)
    year = london_today().year
    page = client.get(f"/account/giving/{year}").get_data(as_text=True)
    assert "Total" in page and "£50" in page and "registered charity" in page
    pdf = client.get(f"/account/giving/{year}?format=pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"Total given in" in pdf.data and b"50.00" in pdf.data
    assert client.get("/account/giving/1999").status_code == 404


def test_the_money_trail_adds_up(client, lead, staff):
    campaign = live_campaign(lead, staff)
    given(campaign, 4_000, staff)
    given(campaign, 6_000, staff)
    campaigns.close(campaign, staff)
    db.session.commit()
    page = client.get("/where-the-money-goes").get_data(as_text=True)
    assert "Donations</dt><dd>£100" in page
    assert "Closed campaigns passed £100 to the seed-grant fund" in page
    assert "Not yet given to a round: £100" in page
