"""Consortium bids: starting, the consortium, the partners' parts, the budget and every step of the state machine."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from foundation.bids import bids
from foundation.bids.bids import Step
from foundation.bids.models import (
    Bid,
    BidPartnerStatus,
    BidStatus,
    BidStep,
    BudgetCategory,
    OpportunityStatus,
)
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.members.models import MemberRole
from foundation.notifications.models import Notification
from tests.bids.factories import fill_part, make_bid, make_opportunity
from tests.factories import add_member, make_org, make_user

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def third_org(db):
    return make_org(admin=make_user(name="Tess Third"), name="Trowbridge Detached", town="Trowbridge")


def _subjects(user) -> list[str]:
    return [
        n.subject for n in db.session.scalars(db.select(Notification).where(Notification.user_id == user.id))
    ]


# --- starting --------------------------------------------------------------------------------------------------


def test_staff_start_a_bid_the_foundation_leads(staff):
    opportunity = make_opportunity(consortium=True)
    bid = bids.start(opportunity, "  Youth   work together ", staff)
    assert (bid.status, bid.title, bid.lead_organisation, bid.partners) == (
        BidStatus.IDEA, "Youth work together", None, [],
    )  # fmt: skip
    assert [(s.from_status, s.to_status, s.by) for s in bid.steps] == [(None, BidStatus.IDEA, staff)]


def test_an_admin_starts_a_bid_their_organisation_leads_and_is_its_first_partner(member, org):
    bid = bids.start(make_opportunity(), "Calne together", member, org)
    assert bid.lead_organisation == org
    assert [(p.organisation, p.status) for p in bid.partners] == [(org, BidPartnerStatus.ACCEPTED)]


def test_who_may_start_which_bid(member, org, lapsed_member, staff):
    opportunity = make_opportunity()
    with pytest.raises(NotAllowed):
        bids.start(opportunity, "Ours", member)  # only staff start a bid the Foundation leads
    plain = make_user()
    add_member(org, plain, MemberRole.MEMBER)
    with pytest.raises(NotAllowed):
        bids.start(opportunity, "Ours", plain, org)  # a member who is not an admin
    lapsed_org = lapsed_member.memberships[0].organisation
    with pytest.raises(DomainError, match="not in good standing") as refused:
        bids.start(opportunity, "Ours", lapsed_member, lapsed_org)
    assert refused.value.field == "lead"
    with pytest.raises(DomainError, match="Enter a title"):
        bids.start(opportunity, "   ", staff)
    assert db.session.scalar(db.select(db.func.count(Bid.id))) == 0


def test_a_bid_needs_a_published_opportunity_still_open(staff):
    with pytest.raises(Conflict, match="published"):
        bids.start(make_opportunity(status=OpportunityStatus.SUGGESTED), "Early", staff)
    past = make_opportunity(deadline=date.today() + timedelta(days=3))
    with pytest.raises(Conflict, match="deadline has passed"):
        bids.start(past, "Late", staff, today=date.today() + timedelta(days=4))


# --- the consortium --------------------------------------------------------------------------------------------


def test_inviting_a_partner_forms_the_consortium_and_tells_its_people(staff, partner_org, partner_admin):
    bid = bids.start(make_opportunity(), "Together", staff)
    partner = bids.invite(bid, partner_org, staff)
    assert partner.status is BidPartnerStatus.INVITED
    assert bid.status is BidStatus.FORMING
    assert [s.to_status for s in bid.steps] == [BidStatus.IDEA, BidStatus.FORMING]
    assert _subjects(partner_admin) == ["The Foundation invites Devizes Youth Club to bid together: Together"]


def test_inviting_is_refused_when_it_should_be(staff, member, org, partner_org, lapsed_member):
    bid = bids.start(make_opportunity(), "Together", staff)
    bids.invite(bid, partner_org, staff)
    with pytest.raises(DomainError, match="already been invited"):
        bids.invite(bid, partner_org, staff)
    with pytest.raises(DomainError, match="not in good standing") as refused:
        bids.invite(bid, lapsed_member.memberships[0].organisation, staff)
    assert refused.value.field == "organisation"
    with pytest.raises(NotAllowed):
        bids.invite(bid, org, member)  # a member of another organisation does not manage the bid


def test_the_invited_admin_answers_once(staff, partner_org, partner_admin, member):
    bid = bids.start(make_opportunity(), "Together", staff)
    partner = bids.invite(bid, partner_org, staff)
    with pytest.raises(NotAllowed):
        bids.respond(partner, True, member)
    with pytest.raises(NotAllowed):
        bids.respond(partner, True, staff)  # staff cannot answer for the organisation
    bids.respond(partner, True, partner_admin)
    assert partner.status is BidPartnerStatus.ACCEPTED and partner.responded_by == partner_admin
    with pytest.raises(Conflict, match="already accepted"):
        bids.respond(partner, False, partner_admin)
    assert "Devizes Youth Club joined the bid Together" in _subjects(staff)


def test_a_declined_organisation_can_be_invited_again(staff, partner_org, partner_admin):
    bid = bids.start(make_opportunity(), "Together", staff)
    bids.respond(bids.invite(bid, partner_org, staff), False, partner_admin)
    again = bids.invite(bid, partner_org, staff)
    assert again.status is BidPartnerStatus.INVITED and len(bid.partners) == 1


# --- parts -----------------------------------------------------------------------------------------------------


def test_a_partner_writes_its_own_part_and_nobody_else_does(staff, member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    ours, theirs = bid.partners
    bids.save_part(ours, " We run sessions. ", "Confidence.", member)
    assert (ours.activities, ours.outcomes, ours.part_updated_by) == (
        "We run sessions.",
        "Confidence.",
        member,
    )
    with pytest.raises(NotAllowed, match="own people"):
        bids.save_part(theirs, "Ours now", "", member)  # the lead's admin cannot write a partner's part
    with pytest.raises(NotAllowed):
        bids.add_line(
            ours, BudgetCategory.STAFF, "Worker", 1000, staff
        )  # staff read parts, they do not write them
    with pytest.raises(NotAllowed):
        bids.save_reach(ours, {"Calne": 3}, partner_admin)
    assert theirs.activities == ""


def test_reach_is_per_town_and_drops_empty_towns(member, org):
    bid = make_bid(member, org)
    (ours,) = bid.partners
    bids.save_reach(ours, {"Calne": 40, "Devizes": 0, "Swindon": None, "Melksham": 12}, member)
    assert [(r.town, r.young_people) for r in ours.reach_rows] == [("Calne", 40), ("Melksham", 12)]
    bids.save_reach(ours, {"Calne": 45}, member)
    assert [(r.town, r.young_people) for r in ours.reach_rows] == [("Calne", 45)]
    assert ours.young_people == 45
    with pytest.raises(DomainError, match="not a town"):
        bids.save_reach(ours, {"Bristol": 5}, member)
    with pytest.raises(DomainError, match="from 0 to 200,000 for Calne") as refused:
        bids.save_reach(ours, {"Calne": -1}, member)
    assert refused.value.field == "town_calne"


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "more than £0"), (-500, "more than £0"), (1_000_000_001, "£10,000,000 or less")],
)
def test_budget_lines_refuse_absurd_amounts(member, org, amount, message):
    (ours,) = make_bid(member, org).partners
    with pytest.raises(DomainError, match=message) as refused:
        bids.add_line(ours, BudgetCategory.ACTIVITY, "Kit", amount, member)
    assert refused.value.field == "amount"
    assert ours.budget_lines == []


def test_budget_lines_are_added_and_removed(member, org):
    (ours,) = make_bid(member, org).partners
    line = bids.add_line(ours, BudgetCategory.VENUE_HIRE, " Hall  hire ", 45_000, member)
    bids.add_line(ours, BudgetCategory.STAFF, "Youth worker", 600_000, member)
    assert line.description == "Hall hire" and ours.budget_pence == 645_000
    bids.remove_line(line, member)
    db.session.flush()
    assert [(ln.category, ln.amount_pence) for ln in ours.budget_lines] == [(BudgetCategory.STAFF, 600_000)]


# --- the budget ------------------------------------------------------------------------------------------------


def test_the_budget_is_the_sum_of_the_parts_plus_the_fee(member, org, partner_org):
    bid = make_bid(member, org, partners=(partner_org,))
    ours, theirs = bid.partners
    bids.add_line(ours, BudgetCategory.STAFF, "Worker", 300_000, member)
    bids.add_line(ours, BudgetCategory.OVERHEADS, "Share of rent", 33_333, member)
    theirs.budget_lines.clear()
    fill_part(theirs, amount_pence=666_667)
    bid.fee_basis_points = 750  # 7.5%
    budget = bids.budget(bid)
    assert budget.parts_pence == 1_000_000
    assert budget.fee_pence == 75_000 and budget.total_pence == 1_075_000 and budget.fee_percent == "7.5%"
    assert [round(s.share, 4) for s in budget.shares] == [0.3333, 0.6667]
    assert budget.by_category[BudgetCategory.STAFF] == 966_667
    assert budget.by_category[BudgetCategory.OVERHEADS] == 33_333


def test_the_fee_rounds_to_the_nearest_penny():
    assert bids.fee_for(12_345, 1000) == 1235  # 1234.5 rounds up
    assert bids.fee_for(12_344, 1000) == 1234
    assert bids.fee_for(0, 1000) == 0


def test_the_budget_says_when_it_is_outside_the_funders_range(member, org):
    opportunity = make_opportunity(min_pence=500_000, max_pence=1_000_000)
    bid = make_bid(member, org, opportunity=opportunity)
    (ours,) = bid.partners
    bids.add_line(ours, BudgetCategory.STAFF, "Worker", 400_000, member)
    assert bids.budget(bid).range_problem == "The bid asks for less than the funder's smallest grant."
    bids.add_line(ours, BudgetCategory.STAFF, "Another worker", 600_000, member)  # 1,000,000 + 10% fee
    assert bids.budget(bid).range_problem == "The bid asks for more than the funder's largest grant."


def test_only_staff_set_the_fee_and_within_limits(member, org, staff):
    bid = make_bid(member, org)
    bids.update(bid, "New title", "Because.", member, fee_percent=10)  # unchanged fee: fine for the lead
    with pytest.raises(NotAllowed, match="management fee"):
        bids.update(bid, "New title", "Because.", member, fee_percent=5)
    with pytest.raises(DomainError, match="between 0% and 25%"):
        bids.update(bid, "New title", "Because.", staff, fee_percent=30)
    bids.update(bid, "New title", "Because.", staff, fee_percent=12.5)
    assert (bid.title, bid.case_for_support, bid.fee_basis_points) == ("New title", "Because.", 1250)


# --- steps -----------------------------------------------------------------------------------------------------


def test_a_consortium_needs_two_organisations_before_drafting(member, org, partner_org, partner_admin):
    bid = make_bid(member, org)
    partner = bids.invite(bid, partner_org, member)
    with pytest.raises(Conflict, match="at least 2 organisations"):
        bids.step(bid, Step.DRAFT, member)
    bids.respond(partner, True, partner_admin)
    bids.step(bid, Step.DRAFT, member)
    assert bid.status is BidStatus.DRAFTING


def test_sign_off_needs_every_part_the_case_and_a_budget_in_range(member, org, partner_org, staff):
    bid = make_bid(member, org, partners=(partner_org,))
    bids.step(bid, Step.DRAFT, member)
    with pytest.raises(Conflict) as refused:
        bids.step(bid, Step.SIGN_OFF, member)
    assert "Calne Youth Project's part still needs its activities, its outcomes" in refused.value.message
    assert "Write the case for support." in refused.value.message
    for partner in bid.partners:
        fill_part(partner, amount_pence=200_000)
    bid.case_for_support = "The need is plain."
    bids.step(bid, Step.SIGN_OFF, member)
    assert bid.status is BidStatus.SIGN_OFF
    assert "Bid for sign-off: " + bid.title in _subjects(staff)


def test_parts_are_frozen_from_sign_off(member, org, partner_org, staff):
    bid = make_bid(member, org, partners=(partner_org,), complete=True)
    bids.step(bid, Step.DRAFT, member)
    bids.step(bid, Step.SIGN_OFF, member)
    with pytest.raises(Conflict, match="Ask the Foundation to send it back"):
        bids.save_part(bid.partners[0], "Changed", "Changed", member)
    with pytest.raises(Conflict):
        bids.invite(bid, make_org(), member)
    with pytest.raises(NotAllowed, match="Foundation staff"):
        bids.step(bid, Step.SUBMIT, member)  # the trustees sign off: staff submit
    with pytest.raises(DomainError, match="what needs to change") as refused:
        bids.step(bid, Step.SEND_BACK, staff, note=" ")
    assert refused.value.field == "note"
    bids.step(bid, Step.SEND_BACK, staff, note="The outcomes need numbers.")
    assert bid.status is BidStatus.DRAFTING
    bids.save_part(bid.partners[0], "Changed", "40 young people gain a certificate", member)


def test_submitting_records_what_was_asked_and_declining_keeps_the_feedback(member, org, partner_org, staff):
    bid = make_bid(member, org, partners=(partner_org,), complete=True)
    for which in (Step.DRAFT, Step.SIGN_OFF, Step.SUBMIT):
        bids.step(bid, which, staff)
    assert bid.status is BidStatus.SUBMITTED and bid.submitted_at is not None
    assert bid.asked_pence == bids.budget(bid).total_pence == 3_300_000  # £10,000 + £20,000 + 10%
    bids.step(bid, Step.DECLINE, staff, note="Strong bid; the programme was oversubscribed.")
    assert bid.status is BidStatus.DECLINED
    assert bid.funder_feedback == "Strong bid; the programme was oversubscribed."
    history = [(s.from_status, s.to_status, s.by) for s in bid.steps]
    assert history[-4:] == [
        (BidStatus.FORMING, BidStatus.DRAFTING, staff),
        (BidStatus.DRAFTING, BidStatus.SIGN_OFF, staff),
        (BidStatus.SIGN_OFF, BidStatus.SUBMITTED, staff),
        (BidStatus.SUBMITTED, BidStatus.DECLINED, staff),
    ]
    assert all(s.at is not None for s in bid.steps)
    with pytest.raises(IllegalTransition, match="A bid that is declined cannot be withdrawn"):
        bids.step(bid, Step.WITHDRAW, staff, note="Too late")


def test_a_bid_is_not_submitted_after_the_funders_deadline(member, org, partner_org, staff):
    opportunity = make_opportunity(deadline=date.today() + timedelta(days=5), max_pence=5_000_000)
    bid = make_bid(member, org, opportunity=opportunity, partners=(partner_org,), complete=True)
    bids.step(bid, Step.DRAFT, member)
    bids.step(bid, Step.SIGN_OFF, member)
    with pytest.raises(Conflict, match="deadline has passed"):
        bids.step(bid, Step.SUBMIT, staff, today=date.today() + timedelta(days=6))
    assert bid.status is BidStatus.SIGN_OFF


def test_withdrawing_needs_a_reason_and_tells_the_consortium(member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    with pytest.raises(DomainError, match="why the bid is withdrawn"):
        bids.step(bid, Step.WITHDRAW, member)
    bids.step(bid, Step.WITHDRAW, member, note="The funder changed its criteria.")
    assert bid.status is BidStatus.WITHDRAWN
    assert f"{bid.title}: withdrawn" in _subjects(partner_admin)
    with pytest.raises(NotAllowed):
        bids.step(bid, Step.WITHDRAW, partner_admin, note="x")  # a partner does not manage the bid


def test_every_move_is_in_one_table():
    assert {step: to for step, (_, to, _) in bids.TRANSITIONS.items()} == {
        Step.FORM: BidStatus.FORMING,
        Step.DRAFT: BidStatus.DRAFTING,
        Step.SIGN_OFF: BidStatus.SIGN_OFF,
        Step.SEND_BACK: BidStatus.DRAFTING,
        Step.SUBMIT: BidStatus.SUBMITTED,
        Step.DECLINE: BidStatus.DECLINED,
        Step.WITHDRAW: BidStatus.WITHDRAWN,
    }


# --- who sees what ---------------------------------------------------------------------------------------------


def test_a_bid_is_seen_by_its_consortium_and_staff_only(
    member, org, partner_org, partner_admin, third_org, staff
):
    bid = make_bid(member, org)
    invited = bids.invite(bid, partner_org, member)
    outsider = third_org.memberships[0].user
    assert bids.in_team(member, bid) and bids.in_team(staff, bid)
    assert not bids.in_team(partner_admin, bid)  # invited, not yet in
    assert not bids.in_team(outsider, bid)
    bids.respond(invited, True, partner_admin)
    assert bids.in_team(partner_admin, bid)
    assert [b.id for b in bids.bids_for(partner_admin, 1).items] == [bid.id]
    assert bids.bids_for(outsider, 1).items == []
    assert [b.id for b in bids.bids_for(staff, 1).items] == [bid.id]


def test_the_reach_by_town_adds_the_partners_up(member, org, partner_org):
    bid = make_bid(member, org, partners=(partner_org,))
    ours, theirs = bid.partners
    fill_part(ours, town="Calne")
    fill_part(theirs, town="Calne")
    bids.save_reach(theirs, {"Calne": 10, "Devizes": 25}, theirs.organisation.memberships[0].user)
    assert bids.reach_by_town(bid) == [
        ("Calne", 50, [("Calne Youth Project", 40), ("Devizes Youth Club", 10)]),
        ("Devizes", 25, [("Devizes Youth Club", 25)]),
    ]


def test_steps_are_recorded_with_who(member, org):
    bid = make_bid(member, org)
    bids.step(bid, Step.FORM, member)
    last = db.session.scalars(
        db.select(BidStep).where(BidStep.bid_id == bid.id).order_by(BidStep.id.desc())
    ).first()
    assert (last.from_status, last.to_status, last.by_id) == (BidStatus.IDEA, BidStatus.FORMING, member.id)
