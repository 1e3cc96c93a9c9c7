"""Campaigns: who may start one, the consortium, and each step from draft to closed guarded in one place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.fundraising import campaigns
from foundation.fundraising.models import CampaignStatus, PartnerStatus
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.members.models import OrganisationStatus
from foundation.notifications.models import Notification
from foundation.types import london_today
from tests.factories import make_org, make_user
from tests.fundraising.support import given, live_campaign

pytestmark = pytest.mark.usefixtures("request_context")


def details(**changes):
    today = london_today()
    values = dict(
        title="Summer of youth voice", summary="Youth forums.", story="Young people lead.", target_pence=500_000,
        starts_on=today, ends_on=today + timedelta(days=30), destination_id=ledger.account(ledger.FUND).id,
    )  # fmt: skip
    values.update(changes)
    return campaigns.CampaignDetails(**values)


def test_the_lead_drafts_submits_and_staff_approve(lead, lead_admin, staff):
    found = campaigns.create(details(), lead, lead_admin)
    assert found.status is CampaignStatus.DRAFT and found.slug == "summer-of-youth-voice"
    campaigns.submit(found, lead_admin)
    assert found.status is CampaignStatus.AWAITING_APPROVAL
    assert db.session.query(Notification).filter(Notification.user_id == staff.id).count() == 1
    with pytest.raises(NotAllowed):
        campaigns.approve(found, lead_admin)
    campaigns.approve(found, staff)
    assert found.status is CampaignStatus.LIVE and found.approved_by == staff
    assert campaigns.taking_donations(found)
    # a second approval is a step the table does not have
    with pytest.raises(IllegalTransition):
        campaigns.approve(found, staff)


def test_staff_send_a_campaign_back_with_a_message(lead, lead_admin, staff):
    found = campaigns.create(details(), lead, lead_admin)
    campaigns.submit(found, lead_admin)
    with pytest.raises(DomainError) as refused:
        campaigns.send_back(found, staff, "  ")
    assert refused.value.field == "message"
    campaigns.send_back(found, staff, "Add the partners' towns to the story.")
    assert found.status is CampaignStatus.DRAFT and found.returned_message.startswith("Add the partners")


def test_only_an_admin_of_an_organisation_in_good_standing_leads(lead, staff):
    outsider = make_user(email="out@example.org")
    with pytest.raises(NotAllowed):
        campaigns.create(details(), lead, outsider)
    lapsed_admin = make_user(email="lapsed@example.org")
    lapsed = make_org(admin=lapsed_admin, documents=False)
    with pytest.raises(DomainError) as refused:
        campaigns.create(details(), lapsed, lapsed_admin)
    assert refused.value.field == "lead_organisation" and "good standing" in refused.value.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"target_pence": 0}, "target"),
        ({"target_pence": -500}, "target"),
        ({"target_pence": 1_000_000_001}, "target"),
        ({"starts_on": london_today() - timedelta(days=1)}, "starts_on"),
        ({"ends_on": london_today() - timedelta(days=1)}, "ends_on"),
        ({"ends_on": london_today() + timedelta(days=400)}, "ends_on"),
    ],
)
def test_bad_campaign_details_are_refused_at_their_field(lead, lead_admin, changes, field):
    with pytest.raises(DomainError) as refused:
        campaigns.create(details(**changes), lead, lead_admin)
    assert refused.value.field == field


def test_a_grant_account_is_not_a_destination(lead, lead_admin):
    from foundation.ledger.models import AccountKind

    grant_account = ledger.account("grant:99", "Grant 99", AccountKind.GRANT_PAYABLE)
    with pytest.raises(DomainError) as refused:
        campaigns.create(details(destination_id=grant_account.id), lead, lead_admin)
    assert refused.value.field == "destination"


def test_partners_join_by_accepting(lead, lead_admin, partner, partner_admin, staff):
    found = campaigns.create(details(), lead, lead_admin)
    invitation = campaigns.invite(found, partner, lead_admin)
    assert invitation.status is PartnerStatus.INVITED and campaigns.partners_in(found) == []
    told = db.session.query(Notification).filter(Notification.user_id == partner_admin.id).one()
    assert "invites Swindon Sports Trust" in told.subject
    with pytest.raises(NotAllowed):
        campaigns.respond(invitation, True, lead_admin)  # the lead cannot accept for a partner
    campaigns.respond(invitation, True, partner_admin)
    assert campaigns.partners_in(found) == [partner]
    with pytest.raises(DomainError):
        campaigns.invite(found, partner, lead_admin)  # already in
    with pytest.raises(DomainError):
        campaigns.invite(found, lead, lead_admin)  # the lead is in already


def test_an_organisation_not_in_good_standing_cannot_be_invited(lead, lead_admin):
    suspended = make_org(status=OrganisationStatus.SUSPENDED)
    with pytest.raises(DomainError) as refused:
        campaigns.invite(campaigns.create(details(), lead, lead_admin), suspended, lead_admin)
    assert refused.value.field == "organisation"


def test_closing_passes_the_money_to_the_fund_once(lead, staff):
    found = live_campaign(lead, staff)
    given(found, 2_500, staff)
    given(found, 10_000, staff)
    fund_before = ledger.balances([ledger.FUND])[ledger.FUND]
    campaigns.close(found, staff)
    assert ledger.balances([found.account_code, ledger.FUND]) == {
        found.account_code: 0,
        ledger.FUND: fund_before + 12_500,
    }
    with pytest.raises(IllegalTransition):
        campaigns.close(found, staff)
    assert ledger.check_balanced() == []


def test_a_campaign_for_a_round_allocates_its_money_to_the_round(lead, staff):
    from foundation.ledger.models import AccountKind

    round_account = ledger.account("round:7", "Budget of Summer seed grants", AccountKind.ROUND_BUDGET)
    found = campaigns.create(details(destination_id=round_account.id), lead, staff)
    campaigns.approve(found, staff)
    given(found, 40_000, staff)
    campaigns.close(found, staff)
    assert ledger.balances(["round:7", ledger.FUND]) == {"round:7": 40_000, ledger.FUND: 0}
    allocation = [t for t in ledger.entries_for("round:7") if t.kind is TransactionKind.ALLOCATION]
    assert len(allocation) == 1 and allocation[0].reason == "Raised by Summer of youth voice"
