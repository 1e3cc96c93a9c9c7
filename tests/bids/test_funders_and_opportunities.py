"""The register and opportunities: the rules a member or staff would notice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.bids import funders, opportunities
from foundation.bids.funders import FunderDetails
from foundation.bids.models import ALL_AREAS, FunderType, FundingOpportunity, OpportunityStatus, Theme
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.notifications.models import Notification
from tests.bids.factories import make_funder, make_opportunity

pytestmark = pytest.mark.usefixtures("request_context")


def details(funder_id: int, **changes) -> opportunities.OpportunityDetails:
    base = dict(
        funder_id=funder_id, programme="Youth Fund", min_pence=100_000, max_pence=1_000_000,
        deadline=date.today() + timedelta(days=30), themes=[Theme.SPORT], areas=["Calne"],
    )  # fmt: skip
    return opportunities.OpportunityDetails(**{**base, **changes})


def test_a_funder_is_added_with_a_checked_org_id_and_website(db, staff):
    funder = funders.create(
        FunderDetails(
            "The Rowan Trust", FunderType.TRUST_OR_FOUNDATION, "gb-chc-1234567", "https://rowan.example.org"
        ),
        staff,
    )
    assert funder.org_id == "GB-CHC-1234567"
    for bad_id in ("1234567", "GB-CHC", "GB CHC 1234567"):
        with pytest.raises(DomainError) as refused:
            funders.create(FunderDetails("Other", FunderType.LOTTERY, bad_id), staff)
        assert refused.value.field == "org_id"
    for bad_site in (
        "http://rowan.example.org",
        "rowan.example.org",
        "https://localhost",
        "javascript:alert(1)",
    ):
        with pytest.raises(DomainError) as refused:
            funders.create(FunderDetails("Other", FunderType.LOTTERY, website=bad_site), staff)
        assert refused.value.field == "website"


def test_the_same_funder_cannot_be_added_twice_by_org_id_or_by_name(db, staff):
    funders.create(FunderDetails("The Rowan Trust", FunderType.TRUST_OR_FOUNDATION, "GB-CHC-1234567"), staff)
    with pytest.raises(Conflict) as same_id:
        funders.create(
            FunderDetails("Rowan Charitable", FunderType.TRUST_OR_FOUNDATION, "GB-CHC-1234567"), staff
        )
    assert same_id.value.field == "org_id"
    with pytest.raises(Conflict) as same_name:
        funders.create(FunderDetails("rowan  trust.", FunderType.TRUST_OR_FOUNDATION), staff)
    assert same_name.value.field == "name" and "The Rowan Trust" in same_name.value.message


def test_changing_a_funder_keeps_its_own_name_and_id(db, staff):
    funder = funders.create(
        FunderDetails("Rowan Trust", FunderType.TRUST_OR_FOUNDATION, "GB-CHC-1234567"), staff
    )
    funders.update(
        funder, FunderDetails("Rowan Trust", FunderType.LOTTERY, "GB-CHC-1234567", notes="Rolling")
    )
    assert funder.funder_type is FunderType.LOTTERY and funder.notes == "Rolling"


def test_the_register_is_searched_by_name_and_type(db):
    make_funder("Kennet Trust")
    make_funder("Kennet Lottery", FunderType.LOTTERY)
    make_funder("Downs Fund")
    assert [f.name for f in funders.search(1, "kennet").items] == ["Kennet Lottery", "Kennet Trust"]
    assert [f.name for f in funders.search(1, "", FunderType.LOTTERY).items] == ["Kennet Lottery"]
    assert funders.search(1, "100%_").total == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_pence": 0}, "min_amount"),
        ({"min_pence": 500_000, "max_pence": 400_000}, "max_amount"),
        ({"max_pence": 10_000_000 * 100 + 1}, "max_amount"),
        ({"deadline": date.today() - timedelta(days=1)}, "deadline"),
        ({"themes": []}, "themes"),
        ({"areas": ["Bristol"]}, "areas"),
        ({"link": "http://example.org"}, "link"),
        ({"funder_id": 999_999}, "funder"),
    ],
)
def test_an_opportunity_with_bad_details_is_refused_at_its_field(db, staff, changes, field):
    funder = make_funder()
    with pytest.raises(DomainError) as refused:
        opportunities.create(details(**{"funder_id": funder.id, **changes}), staff)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FundingOpportunity)) == 0


def test_staff_publish_at_once_and_a_county_wide_opportunity_keeps_one_area(db, staff):
    funder = make_funder()
    found = opportunities.create(details(funder.id, areas=["Calne", ALL_AREAS]), staff)
    assert found.status is OpportunityStatus.PUBLISHED and found.published_at is not None
    assert found.areas == [ALL_AREAS]


def test_a_member_in_good_standing_suggests_and_staff_are_told(db, member, org, staff):
    funder = make_funder()
    found = opportunities.suggest(details(funder.id), member, org)
    assert found.status is OpportunityStatus.SUGGESTED and found.suggested_by == member
    told = db.session.scalars(sa.select(Notification).where(Notification.user_id == staff.id)).all()
    assert [n.subject for n in told] == [f"Funding opportunity suggested: {funder.name}, Youth Fund"]


def test_a_member_out_of_good_standing_cannot_suggest(db, lapsed_member):
    org = lapsed_member.memberships[0].organisation
    with pytest.raises(NotAllowed, match="not in good standing"):
        opportunities.suggest(details(make_funder().id), lapsed_member, org)
    assert opportunities.suggesting_organisations(lapsed_member) == []


def test_publishing_a_suggestion_tells_the_member(db, member, org, staff):
    found = opportunities.suggest(details(make_funder().id), member, org)
    opportunities.publish(found, staff)
    assert found.status is OpportunityStatus.PUBLISHED and found.decided_by == staff
    told = db.session.scalars(sa.select(Notification).where(Notification.user_id == member.id)).all()
    assert [n.subject.split(":")[0] for n in told] == ["Published"]
    with pytest.raises(IllegalTransition):
        opportunities.publish(found, staff)


def test_rejecting_needs_a_reason_and_the_member_reads_it(db, member, org, staff):
    found = opportunities.suggest(details(make_funder().id), member, org)
    with pytest.raises(DomainError) as no_reason:
        opportunities.reject(found, staff, "  ")
    assert no_reason.value.field == "reason" and found.status is OpportunityStatus.SUGGESTED
    opportunities.reject(found, staff, "The fund closed last year.")
    assert found.status is OpportunityStatus.REJECTED
    note = db.session.scalars(sa.select(Notification).where(Notification.user_id == member.id)).one()
    assert "The fund closed last year." in note.body_text


def test_opportunities_close_after_their_deadline_once(db):
    past = make_opportunity(deadline=date.today() - timedelta(days=1))
    today = make_opportunity(deadline=date.today())
    assert opportunities.close_due() == [past.id]
    assert past.status is OpportunityStatus.CLOSED and today.status is OpportunityStatus.PUBLISHED
    assert opportunities.close_due() == []


def test_archiving_is_staff_only_and_not_from_rejected(db, staff, member):
    found = make_opportunity()
    with pytest.raises(NotAllowed):
        opportunities.archive(found, member)
    opportunities.archive(found, staff)
    assert found.status is OpportunityStatus.ARCHIVED
    with pytest.raises(IllegalTransition):
        opportunities.archive(make_opportunity(status=OpportunityStatus.REJECTED), staff)


def test_the_open_list_filters_by_theme_town_closing_consortium_and_amount(db):
    soon = make_opportunity(themes=(Theme.ARTS,), areas=("Calne",), deadline=date.today() + timedelta(days=5))
    county = make_opportunity(themes=(Theme.SPORT,), areas=(ALL_AREAS,), consortium=True, max_pence=2_000_000)
    make_opportunity(themes=(Theme.SPORT,), areas=("Swindon",), min_pence=900_000, max_pence=900_000)
    make_opportunity(deadline=date.today() - timedelta(days=1))  # past its deadline: not listed
    make_opportunity(status=OpportunityStatus.SUGGESTED)

    def ids(**chosen) -> list[int]:
        return [
            o.id for o in opportunities.open_opportunities(1, opportunities.OpportunityFilter(**chosen)).items
        ]

    assert len(ids()) == 3
    assert ids(theme=Theme.ARTS) == [soon.id]
    assert ids(town="Calne") == [soon.id, county.id]
    assert ids(closing_within_days=7) == [soon.id]
    assert ids(consortium_only=True) == [county.id]
    assert ids(amount_pence=1_500_000) == [county.id]
