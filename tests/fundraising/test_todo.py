"""The dashboard lists what fundraising waits on: a partner's invitation for its admins; campaigns to approve,
pledges waiting for their money and donors' messages for staff."""

from __future__ import annotations

from foundation.extensions import db
from foundation.fundraising import campaigns
from foundation.fundraising.models import CampaignStatus, DonationStatus
from tests.factories import login
from tests.fundraising.factories import make_campaign, make_donation


def test_the_dashboard_shows_what_fundraising_waits_on(
    app, client, lead, lead_admin, partner, partner_admin, staff
):
    with app.test_request_context("/"):
        live = make_campaign(CampaignStatus.LIVE, lead=lead, by=staff, title="Summer of youth voice")
        campaigns.invite(live, partner, staff)
        make_campaign(CampaignStatus.AWAITING_APPROVAL, lead=lead, by=staff, title="Minibus fund")
        make_donation(live, 4_000, DonationStatus.PENDING, name="Pat Pledger", by=staff)
        make_donation(live, 1_000, DonationStatus.SUCCEEDED, message="Go team", name="Mo Message", by=staff)
        db.session.commit()
    login(client, partner_admin)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Swindon Sports Trust: invited to join the campaign Summer of youth voice" in page
    desk = app.test_client()
    login(desk, staff)
    page = desk.get("/dashboard").get_data(as_text=True)
    assert "Minibus fund (Calne Youth Project)" in page
    assert "£40.00 pledged by Pat Pledger to Summer of youth voice" in page
    assert "A message from Mo Message on Summer of youth voice" in page
