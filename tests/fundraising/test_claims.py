"""Gift Aid claims: only claimable gifts, HMRC's schedule layout, one claim per donation (the database refuses a
second, also at the same moment), and HMRC's payment into the campaigns' accounts."""

from __future__ import annotations

import csv
import io
import threading

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising import claims
from foundation.fundraising.models import ClaimStatus, Donation, GiftAidClaim, GiftAidClaimItem
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.types import london_today
from tests.fundraising.support import gift, given, live_campaign

pytestmark = pytest.mark.usefixtures("request_context")


def test_only_received_gifts_with_a_declaration_and_no_benefit_are_claimable(lead, staff):
    campaign = live_campaign(lead, staff)
    yes = given(campaign, 10_000, staff, gift_aid=True)
    given(campaign, 5_000, staff, email="no-declaration@example.com")
    gift(campaign, 7_000, email="pledged@example.com", gift_aid=True)  # not received
    benefit = given(campaign, 3_000, staff, email="dinner@example.com", gift_aid=True)
    benefit.has_benefit = True
    db.session.flush()
    assert claims.claimable() == [yes]


def test_the_schedule_has_hmrcs_columns_and_is_safe_in_a_spreadsheet(lead, staff):
    campaign = live_campaign(lead, staff)
    donation = given(campaign, 12_345, staff, gift_aid=True)
    donation.declaration.first_name = "=HYPERLINK(1)"
    claim = claims.create([donation.id], staff)
    rows = list(csv.reader(io.StringIO(claims.schedule_csv(claim))))
    assert rows[0] == list(claims.SCHEDULE_COLUMNS)
    assert rows[1] == [
        "Ms",
        "'=HYPERLINK(1)",
        "Donor",
        "12",
        "SN15 1ER",
        "",
        "",
        london_today().strftime("%d/%m/%y"),
        "123.45",
    ]


def test_a_donation_is_never_claimed_twice(lead, staff):
    campaign = live_campaign(lead, staff)
    donation = given(campaign, 10_000, staff, gift_aid=True)
    claims.create([donation.id], staff)
    with pytest.raises(Conflict):
        claims.create([donation.id], staff)
    with pytest.raises(DomainError):
        claims.create([], staff)


def test_hmrcs_payment_goes_to_the_campaigns_it_was_for(lead, staff):
    a = live_campaign(lead, staff, title="Alpha")
    b = live_campaign(lead, staff, title="Beta")
    ids = [
        given(a, 10_000, staff, gift_aid=True).id,
        given(b, 30_000, staff, email="bo@example.com", gift_aid=True).id,
    ]
    claim = claims.create(ids, staff)
    assert claims.expected_pence(claim) == 10_000
    with pytest.raises(DomainError) as refused:
        claims.record_payment(claim, 10_001, london_today(), "HMRC 1", staff)
    assert refused.value.field == "amount"
    claims.record_payment(claim, 10_000, london_today(), "HMRC 1", staff)
    assert claim.status is ClaimStatus.PAID
    assert ledger.balances([a.account_code, b.account_code]) == {
        a.account_code: 12_500,
        b.account_code: 37_500,
    }
    assert ledger.totals_by_kind()[TransactionKind.GIFT_AID] == 10_000
    with pytest.raises(Conflict):
        claims.record_payment(claim, 10_000, london_today(), "HMRC 1", staff)
    assert ledger.check_balanced() == []


@pytest.mark.postgres_only
def test_claims_at_the_same_moment_claim_each_donation_once(app, lead, staff):
    campaign = live_campaign(lead, staff)
    ids = [
        given(campaign, 1_000 * (n + 2), staff, email=f"d{n}@example.com", gift_aid=True).id for n in range(3)
    ]
    staff_id = staff.id
    db.session.commit()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def claim() -> None:
        with app.app_context():
            from foundation.members.models import User

            me = db.session.get(User, staff_id)
            barrier.wait(timeout=30)
            try:
                claims.create(ids, me)
                db.session.commit()
                outcomes.append("claimed")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["claimed"] + ["conflict"] * 9
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GiftAidClaim)) == 1
    assert sorted(db.session.scalars(sa.select(GiftAidClaimItem.donation_id))) == sorted(ids)
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 3
