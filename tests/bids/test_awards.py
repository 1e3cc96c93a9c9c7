"""A won bid: the award and its fee, the funder's payments into a restricted fund, sub-awards and instalments to the
partners, the ledger behind it all, and the pages staff, partners and the public see."""

from __future__ import annotations

import html
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.bids import awards, bids
from foundation.bids.models import BidStatus, MonitoringReturn, SubAwardInstalment
from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from foundation.extensions import db
from foundation.ledger import service as ledger
from tests.bids.factories import make_award, make_bid, make_opportunity
from tests.factories import login, make_org, make_user

TODAY = date.today()


@pytest.fixture
def third_org(db):
    return make_org(admin=make_user(name="Tess Third"), name="Trowbridge Detached", town="Trowbridge")


# --- the arithmetic --------------------------------------------------------------------------------------------


def test_the_fee_keeps_its_share_of_a_smaller_award():
    # A 10% fee on top of the parts is 1/11 of the total asked, and of whatever is awarded.
    assert awards.award_fee(3_300_000, 1000) == 300_000
    assert (
        awards.award_fee(2_000_000, 1000) == 181_818
    )  # 2,000,000 / 1.1 = 1,818,181.8 -> 1,818,182 for partners
    assert awards.award_fee(1_000_000, 0) == 0


def test_a_split_is_exact_to_the_penny():
    assert awards.split(1_000_000, {1: 1, 2: 1, 3: 1}) == {1: 333_334, 2: 333_333, 3: 333_333}
    assert awards.split(1_818_182, {7: 1_000_000, 8: 2_000_000}) == {7: 606_061, 8: 1_212_121}
    assert sum(awards.split(999_999, {1: 3, 2: 5, 3: 11}).values()) == 999_999
    assert awards.split(100, {1: 0, 2: 0}) == {1: 50, 2: 50}


# --- recording the award ---------------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("request_context")


def test_an_award_in_part_splits_by_budget_and_sets_up_the_returns(staff, member, org, partner_org):
    award = make_award(
        staff, member, org, (partner_org,), amount_pence=2_000_000,
        reporting_dates=(TODAY + timedelta(days=90), TODAY + timedelta(days=180)),
    )  # fmt: skip
    bid = award.bid
    assert bid.asked_pence == 3_300_000 and bid.status is BidStatus.PART_AWARDED
    assert (award.fee_pence, award.for_partners_pence) == (181_818, 1_818_182)
    assert [(s.partner.organisation.name, s.amount_pence) for s in award.sub_awards] == [
        ("Calne Youth Project", 606_061),  # a third: its budget was £10,000 of £30,000
        ("Devizes Youth Club", 1_212_121),
    ]
    returns = db.session.scalars(
        sa.select(MonitoringReturn).order_by(MonitoringReturn.due, MonitoringReturn.id)
    ).all()
    assert [(r.partner.organisation.name, r.due) for r in returns] == [
        ("Calne Youth Project", TODAY + timedelta(days=76)),
        ("Devizes Youth Club", TODAY + timedelta(days=76)),
        ("Calne Youth Project", TODAY + timedelta(days=166)),
        ("Devizes Youth Club", TODAY + timedelta(days=166)),
    ]
    assert bid.steps[-1].note == "£20,000.00 of £33,000.00 asked" and bid.steps[-1].by == staff


def test_an_award_of_what_was_asked_is_awarded_in_full(staff, member, org, partner_org):
    award = make_award(staff, member, org, (partner_org,))
    assert award.bid.status is BidStatus.AWARDED and award.amount_pence == 3_300_000
    assert [s.amount_pence for s in award.sub_awards] == [1_000_000, 2_000_000]


def test_recording_an_award_refuses_bad_input(staff, member, org, partner_org):
    bid = make_bid(member, org, partners=(partner_org,), complete=True)
    for step in (bids.Step.DRAFT, bids.Step.SIGN_OFF):
        bids.step(bid, step, staff)
    with pytest.raises(IllegalTransition):
        awards.record_award(bid, 1000, "", TODAY, [TODAY + timedelta(days=9)], staff)  # not yet submitted
    bids.step(bid, bids.Step.SUBMIT, staff)
    later = [TODAY + timedelta(days=30)]
    cases = [
        ((0, TODAY, later), "amount"),
        ((-5, TODAY, later), "amount"),
        ((1_000_000_001, TODAY, later), "amount"),
        ((1000, None, later), "awarded_on"),
        ((1000, TODAY + timedelta(days=1), later), "awarded_on"),
        ((1000, TODAY, []), "reporting_dates"),
        ((1000, TODAY, [TODAY]), "reporting_dates"),
    ]
    for (amount, on, dates), field in cases:
        with pytest.raises(DomainError) as refused:
            awards.record_award(bid, amount, "", on, dates, staff)
        assert refused.value.field == field, (amount, on, dates)
    with pytest.raises(NotAllowed):
        awards.record_award(bid, 1000, "", TODAY, later, member)
    assert bid.award is None and bid.status is BidStatus.SUBMITTED


def test_staff_change_the_split_and_it_must_add_up(staff, member, org, partner_org):
    award = make_award(staff, member, org, (partner_org,), amount_pence=2_000_000)
    ours, theirs = award.sub_awards
    with pytest.raises(DomainError, match="add up to £18,000.00, but £18,181.82 is there") as refused:
        awards.set_sub_awards(award, {ours.id: 800_000, theirs.id: 1_000_000}, staff)
    assert refused.value.field == "sub_awards"
    with pytest.raises(DomainError, match="below zero"):
        awards.set_sub_awards(award, {ours.id: -1, theirs.id: 1_818_183}, staff)
    with pytest.raises(NotAllowed):
        awards.set_sub_awards(award, {ours.id: 818_182, theirs.id: 1_000_000}, member)
    awards.set_sub_awards(award, {ours.id: 818_182, theirs.id: 1_000_000}, staff)
    assert [s.amount_pence for s in award.sub_awards] == [818_182, 1_000_000]


# --- money -----------------------------------------------------------------------------------------------------


def test_funder_payments_go_to_the_restricted_fund_with_the_fee_to_unrestricted(
    staff, member, org, partner_org
):
    award = make_award(staff, member, org, (partner_org,), amount_pence=2_000_000)
    awards.record_funder_payment(award, 700_000, TODAY, "BACS 1", staff)
    awards.record_funder_payment(award, 1_000_000, TODAY, "BACS 2", staff)
    with pytest.raises(DomainError, match="£3,000.00 of it is still to come") as refused:
        awards.record_funder_payment(award, 300_001, TODAY, "", staff)
    assert refused.value.field == "amount"
    awards.record_funder_payment(award, 300_000, TODAY, "BACS 3", staff)
    # The fee is taken in proportion and squared to the penny by the last payment.
    assert [p.fee_pence for p in award.payments] == [63_636, 90_909, 27_273]
    assert sum(p.fee_pence for p in award.payments) == award.fee_pence
    balances = ledger.balances([awards.fund_code(award), awards.UNRESTRICTED])
    assert balances == {awards.fund_code(award): 1_818_182, awards.UNRESTRICTED: 181_818}
    assert ledger.check_balanced() == []
    assert ledger.totals_disagree() == []


def test_bad_funder_payments_are_refused(staff, member, org, partner_org):
    award = make_award(staff, member, org, (partner_org,))
    for amount, on, field in ((0, TODAY, "amount"), (None, TODAY, "amount"), (100, None, "received_on"),
                              (100, TODAY + timedelta(days=2), "received_on")):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            awards.record_funder_payment(award, amount, on, "", staff)
        assert refused.value.field == field
    with pytest.raises(NotAllowed):
        awards.record_funder_payment(award, 100, TODAY, "", member)
    assert award.payments == []


def test_instalments_pass_money_on_but_never_beyond_the_sub_award_or_the_fund(
    staff, member, org, partner_org
):
    award = make_award(staff, member, org, (partner_org,))
    ours, theirs = award.sub_awards
    with pytest.raises(Conflict, match="The restricted fund holds £0.00"):
        awards.pay_instalment(theirs, 100_000, TODAY, staff)
    awards.record_funder_payment(award, 1_100_000, TODAY, "first half", staff)  # 1,000,000 to the fund
    awards.pay_instalment(theirs, 600_000, TODAY, staff)
    with pytest.raises(Conflict, match="The restricted fund holds £4,000.00") as refused:
        awards.pay_instalment(ours, 500_000, TODAY, staff)
    assert refused.value.field == "amount"
    awards.pay_instalment(ours, 400_000, TODAY, staff)
    awards.record_funder_payment(award, 2_200_000, TODAY, "second half", staff)
    with pytest.raises(DomainError, match="£6,000.00 is left to pay"):
        awards.pay_instalment(ours, 600_001, TODAY, staff)
    awards.pay_instalment(ours, 600_000, TODAY, staff)
    awards.pay_instalment(theirs, 1_400_000, TODAY, staff)
    money = awards.money(award)
    assert (money.received_pence, money.paid_out_pence, money.held_pence) == (3_300_000, 3_000_000, 0)
    assert ledger.balances([f"bid-partner:{org.id}", f"bid-partner:{partner_org.id}"]) == {
        f"bid-partner:{org.id}": 1_000_000,
        f"bid-partner:{partner_org.id}": 2_000_000,
    }
    assert ledger.check_balanced() == []


@pytest.mark.postgres_only
def test_concurrent_instalments_never_pay_out_more_than_the_fund_holds(
    app, staff, member, org, partner_org, third_org
):
    opportunity = make_opportunity(consortium=True, max_pence=10_000_000)
    award = make_award(staff, member, org, (partner_org, third_org), opportunity=opportunity)
    awards.record_funder_payment(award, 550_000, TODAY, "part", staff)  # £5,000 in the fund
    sub_ids = [s.id for s in award.sub_awards]
    staff_id, fund = staff.id, awards.fund_code(award)
    db.session.commit()
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def pay(sub_id: int) -> None:
        with app.app_context(), app.test_request_context("/"):
            from foundation.bids.models import SubAward
            from foundation.members.models import User

            me = db.session.get(User, staff_id)
            sub = db.session.get(SubAward, sub_id)
            barrier.wait(timeout=30)
            try:
                awards.pay_instalment(sub, 100_000, TODAY, me)  # £1,000 each
                db.session.commit()
                outcomes.append("paid")
            except Conflict:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(sub_ids[n % 3],)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["paid"] * 5 + ["refused"] * 7
    db.session.expire_all()
    assert ledger.balances([fund])[fund] == 0
    assert db.session.scalar(sa.select(sa.func.count(SubAwardInstalment.id))) == 5
    assert ledger.check_balanced() == []


# --- pages -----------------------------------------------------------------------------------------------------


def test_staff_record_an_award_and_its_money_through_the_pages(
    app, db, client, staff, member, org, partner_org
):
    bid = make_bid(member, org, partners=(partner_org,), complete=True)
    for step in (bids.Step.DRAFT, bids.Step.SIGN_OFF, bids.Step.SUBMIT):
        bids.step(bid, step, staff)
    db.session.commit()
    login(client, staff)
    bad = client.post(f"/bids/{bid.id}/award", data={"amount": "20000", "awarded_on": TODAY.isoformat(),
                                                      "reporting_dates": "next spring"})  # fmt: skip
    page = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 422 and "“next” is not a date: write dates like 2027-06-30." in page
    made = client.post(f"/bids/{bid.id}/award", data={
        "amount": "20,000", "awarded_on": TODAY.isoformat(), "conditions": "Quarterly reports.",
        "reporting_dates": f"{TODAY + timedelta(days=90)}\n{TODAY + timedelta(days=180)}",
    })  # fmt: skip
    assert made.status_code == 302
    award_url = made.headers["Location"]
    too_much = client.post(
        f"{award_url}/payments", data={"amount": "25000", "received_on": TODAY.isoformat()}
    )
    assert too_much.status_code == 422 and "still to come" in too_much.get_data(as_text=True)
    assert client.post(f"{award_url}/payments", data={"amount": "11000", "received_on": TODAY.isoformat(),
                                                      "reference": "BACS"}).status_code == 302  # fmt: skip
    award = db.session.get(type(bid), bid.id).award
    theirs = award.sub_awards[1]
    prefix = f"i{theirs.id}-"
    beyond = client.post(f"{award_url}/sub-awards/{theirs.id}/instalments",
                         data={prefix + "amount": "11000", prefix + "paid_on": TODAY.isoformat()})  # fmt: skip
    assert beyond.status_code == 409 and "The restricted fund holds £10,000.00" in beyond.get_data(
        as_text=True
    )
    paid = client.post(f"{award_url}/sub-awards/{theirs.id}/instalments",
                       data={prefix + "amount": "6000", prefix + "paid_on": TODAY.isoformat()})  # fmt: skip
    assert paid.status_code == 302
    page = client.get(award_url).get_data(as_text=True)
    assert 'id="fund-balance">£4,000<' in page
    # The public sees the money move from the funder to the Foundation to the partner.
    client.post("/logout")
    public = html.unescape(client.get(f"/awards/{award.id}/money").get_data(as_text=True))
    assert 'id="passed-on">£6,000<' in public
    assert "Devizes Youth Club's share of" in public and "Passed on to Devizes Youth Club" in public


def test_partners_read_the_award_but_only_staff_move_its_money(
    app, db, client, staff, member, org, partner_org, partner_admin
):
    award = make_award(staff, member, org, (partner_org,))
    db.session.commit()
    login(client, partner_admin)
    assert client.get(f"/bids/awards/{award.id}").status_code == 200
    assert (
        client.post(
            f"/bids/awards/{award.id}/payments", data={"amount": "1", "received_on": TODAY.isoformat()}
        ).status_code
        == 403
    )
    outsider = make_org(admin=make_user(name="Otto")).memberships[0].user
    db.session.commit()
    client.post("/logout")
    login(client, outsider)
    assert client.get(f"/bids/awards/{award.id}").status_code == 404
