"""Running a campaign through its pages: the lead drafts it, invites a partner who accepts, sends it for approval;
staff approve and close it. Other people are refused."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising.models import Campaign, CampaignPartner, CampaignStatus, PartnerStatus
from foundation.ledger import service as ledger
from foundation.types import london_today
from tests.factories import login, make_user

pytestmark = pytest.mark.usefixtures("request_context")

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def form(lead_id: int, **changes) -> dict:
    today = london_today()
    data = {
        "lead_organisation": str(lead_id),
        "title": "Summer of youth voice",
        "summary": "Youth forums in three towns.",
        "story": "Young people lead.\n\nEvery pound goes to the fund.",
        "target": "5,000",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "destination": str(ledger.account(ledger.FUND).id),
    }
    data.update(changes)
    return data


def test_a_campaign_from_draft_to_closed(client, app, lead, lead_admin, partner, partner_admin, staff):
    db.session.commit()
    login(client, lead_admin)
    assert client.get("/campaigns/new").status_code == 200
    data = form(lead.id, image=(io.BytesIO(PNG), "mural.png"), image_alt="Young people painting a mural")
    response = client.post("/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    campaign = db.session.scalars(sa.select(Campaign)).one()
    assert (
        campaign.status is CampaignStatus.DRAFT and campaign.target_pence == 500_000 and campaign.image_name
    )

    assert (
        client.post(f"/campaigns/{campaign.id}/partners", data={"organisation": str(partner.id)}).status_code
        == 302
    )
    invitation = db.session.scalars(sa.select(CampaignPartner)).one()
    assert client.post(f"/campaigns/{campaign.id}/submit").status_code == 302
    assert client.post(f"/campaigns/{campaign.id}/approve").status_code == 403
    client.post("/logout")

    other = app.test_client()
    login(other, partner_admin)
    url = f"/campaigns/{campaign.id}/partners/{invitation.id}"
    assert "Join Summer of youth voice?" in other.get(url).get_data(as_text=True)
    assert other.post(url, data={"answer": "accept"}).status_code == 302
    db.session.refresh(invitation)
    assert invitation.status is PartnerStatus.ACCEPTED

    desk = app.test_client()
    login(desk, staff)
    assert desk.post(f"/campaigns/{campaign.id}/approve").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.LIVE
    public = app.test_client()
    page = public.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Swindon Sports Trust" in page and 'alt="Young people painting a mural"' in page
    image = public.get(f"/campaigns/{campaign.slug}/image")
    assert image.status_code == 200 and image.data == PNG
    assert desk.post(f"/campaigns/{campaign.id}/close").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status is CampaignStatus.CLOSED
    # closing twice is a step that does not exist: 409 with the reason, not a 500
    again = desk.post(f"/campaigns/{campaign.id}/close")
    assert again.status_code == 409 and "cannot become closed" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Give the campaign a title"),
        ({"target": "0"}, "target", "more than £0"),
        ({"target": "lots"}, "target", "Enter the target in pounds"),
        ({"ends_on": "2020-01-01"}, "ends_on", "on or after the start date"),
        ({"starts_on": "2020-01-01", "ends_on": "2020-02-01"}, "starts_on", "cannot be in the past"),
        ({"destination": "999999"}, "destination", "Not a valid choice"),
    ],
)
def test_bad_campaign_forms_answer_422_at_the_field(client, lead, lead_admin, changes, field, message):
    db.session.commit()
    login(client, lead_admin)
    response = client.post("/campaigns/new", data=form(lead.id, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def test_a_picture_without_a_description_is_refused_and_not_kept(client, app, lead, lead_admin):
    db.session.commit()
    login(client, lead_admin)
    data = form(lead.id, image=(io.BytesIO(PNG), "mural.png"))
    response = client.post("/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "Describe the picture" in response.get_data(as_text=True)
    folder = app.config["UPLOAD_FOLDER"] + "/campaigns"
    import os

    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_someone_else_cannot_lead_for_an_organisation(client, app, lead, partner, partner_admin):
    db.session.commit()
    login(client, partner_admin)
    response = client.post("/campaigns/new", data=form(lead.id))
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    nobody = app.test_client()
    login(nobody, make_user(email="nobody@example.org"))
    assert nobody.get("/campaigns/new").status_code == 403
