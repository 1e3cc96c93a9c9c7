"""Funding pages through their forms: what a member or staff sees and the answers to bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta

import sqlalchemy as sa

from foundation.bids.models import (
    Funder,
    FundingOpportunity,
    InterestArea,
    InterestTheme,
    OpportunityStatus,
    Theme,
)
from foundation.extensions import db as _db
from foundation.members.models import User
from tests.bids.factories import add_interests, make_funder, make_opportunity
from tests.factories import login


def test_staff_add_a_funder_and_a_bad_org_id_is_shown_at_its_field(app, db, client, staff):
    login(client, staff)
    bad = client.post(
        "/staff/funders/new",
        data={"name": "Rowan Trust", "funder_type": "trust_or_foundation", "org_id": "12345"},
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "<title>Error: " in page and 'href="#org_id"' in page and "GB-CHC-1234567" in page
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Funder)) == 0
    good = client.post(
        "/staff/funders/new",
        data={"name": "Rowan Trust", "funder_type": "lottery", "org_id": "GB-CHC-1234567",
              "website": "https://rowan.example.org"},
    )  # fmt: skip
    assert good.status_code == 302
    again = client.post("/staff/funders/new", data={"name": "The Rowan Trust", "funder_type": "lottery"})
    assert again.status_code == 409 and "already in the register" in again.get_data(as_text=True)
    listing = client.get("/staff/funders?q=rowan&funder_type=lottery").get_data(as_text=True)
    assert "Rowan Trust" in listing and "GB-CHC-1234567" in listing


def test_staff_add_an_opportunity_members_find_it_with_filters(app, db, client, staff, member, org):
    funder = make_funder("Kennet Trust")
    _db.session.commit()
    login(client, staff)
    form = {
        "funder": funder.id, "programme": "Young Minds", "min_amount": "1,000", "max_amount": "500",
        "deadline": (date.today() + timedelta(days=20)).isoformat(), "themes": ["mental_health"],
        "areas": ["Calne", "Devizes"], "accepts_consortium": "y", "link": "https://kennet.example.org/fund",
    }  # fmt: skip
    refused = client.post("/staff/funding/new", data=form)
    assert refused.status_code == 422 and "cannot be less than the smallest" in refused.get_data(as_text=True)
    created = client.post("/staff/funding/new", data={**form, "max_amount": "15000"})
    assert created.status_code == 302
    client.post("/logout")
    login(client, member)
    found = client.get("/funding?theme=mental_health&town=Calne&consortium=y&amount=5000&closing=30")
    assert found.status_code == 200 and "Young Minds" in found.get_data(as_text=True)
    none = client.get("/funding?theme=sport").get_data(as_text=True)
    assert "Young Minds" not in none
    bad = client.get("/funding?amount=lots")
    assert bad.status_code == 400 and "Enter an amount in pounds" in bad.get_data(as_text=True)
    opportunity = _db.session.scalars(sa.select(FundingOpportunity)).one()
    detail = client.get(f"/funding/{opportunity.id}").get_data(as_text=True)
    assert "£1,000 to £15,000" in detail and "kennet.example.org/fund" in detail


def test_a_member_suggests_staff_reject_with_a_reason_and_the_member_reads_it(
    app, db, client, staff, member, org
):
    funder = make_funder("Downs Fund")
    _db.session.commit()
    login(client, member)
    response = client.post(
        "/funding/suggest",
        data={"organisation": org.id, "funder": funder.id, "programme": "Skate Parks", "min_amount": "500",
              "max_amount": "2000", "deadline": (date.today() + timedelta(days=9)).isoformat(),
              "themes": ["sport"], "areas": ["Calne"]},
    )  # fmt: skip
    assert response.status_code == 302
    suggestion = _db.session.scalars(sa.select(FundingOpportunity)).one()
    assert suggestion.status is OpportunityStatus.SUGGESTED
    assert "Skate Parks" not in client.get("/funding").get_data(as_text=True)  # not published yet
    assert client.get(f"/funding/{suggestion.id}").status_code == 200  # their own suggestion
    client.post("/logout")
    login(client, staff)
    assert "Skate Parks" in client.get("/dashboard").get_data(as_text=True)
    no_reason = client.post(f"/staff/funding/{suggestion.id}/review", data={"decision": "reject"})
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    done = client.post(
        f"/staff/funding/{suggestion.id}/review", data={"decision": "reject", "reason": "Closed for good."}
    )
    assert done.status_code == 302
    client.post("/logout")
    login(client, member)
    assert "Closed for good." in client.get(f"/funding/{suggestion.id}").get_data(as_text=True)


def test_people_outside_a_member_organisation_cannot_browse_or_suggest(
    app, db, client, outsider, lapsed_member
):
    opportunity = make_opportunity()
    _db.session.commit()
    login(client, outsider)
    assert client.get("/funding").status_code == 403
    assert client.get(f"/funding/{opportunity.id}").status_code == 403
    client.post("/logout")
    login(client, lapsed_member)  # approved but out of good standing: reads, does not suggest
    assert client.get("/funding").status_code == 200
    assert client.get("/funding/suggest").status_code == 403


def test_interests_are_saved_and_exported(app, db, client, member, org):
    login(client, member)
    response = client.post("/funding/interests", data={"themes": ["arts", "sport"], "areas": ["Calne"]})
    assert response.status_code == 302
    assert set(_db.session.scalars(sa.select(InterestTheme.theme))) == {Theme.ARTS, Theme.SPORT}
    bad = client.post("/funding/interests", data={"areas": ["Atlantis"]})
    assert bad.status_code == 422
    assert set(_db.session.scalars(sa.select(InterestArea.area))) == {"Calne"}
    exported = json.loads(client.get("/account/privacy/export").get_data(as_text=True))
    assert exported["funding"]["interests"] == {
        "themes": ["Arts and culture", "Sport and physical activity"],
        "towns": ["Calne"],
    }


def test_closing_an_account_forgets_its_interests(app, db, member):
    from foundation.privacy import run_close_steps

    add_interests(member, (Theme.ARTS,), ("Calne",))
    run_close_steps(_db.session.get(User, member.id))
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(InterestTheme)) == 0


def test_staff_archive_an_opportunity_and_a_second_try_is_a_conflict(app, db, client, staff):
    opportunity = make_opportunity()
    _db.session.commit()
    login(client, staff)
    assert client.post(f"/staff/funding/{opportunity.id}/archive").status_code == 302
    again = client.post(f"/staff/funding/{opportunity.id}/archive")
    assert again.status_code == 409 and "cannot be archived" in again.get_data(as_text=True)
    assert client.get("/staff/funding").status_code == 200
