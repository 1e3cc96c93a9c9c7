"""Match funding is worked out from the sums of received donations: trigger, ratio, cap and window apply, and no
order of gifts and refunds counts a pound twice. The funder's payment is a ledger movement, never more than earned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from foundation.errors import DomainError
from foundation.fundraising import match
from foundation.ledger import service as ledger
from foundation.ledger.models import TransactionKind
from foundation.payments import service as payments
from foundation.types import london_today
from tests.fundraising.support import given, live_campaign

pytestmark = pytest.mark.usefixtures("request_context")


def terms(campaign, **changes):
    values = dict(funder_name="Kennet Valley Building Society", ratio_percent=100, cap_pence=50_000,
                  trigger_percent=0, window_starts_on=campaign.starts_on, window_ends_on=campaign.ends_on)  # fmt: skip
    values.update(changes)
    return match.PledgeTerms(**values)


def earned(campaign) -> list[int]:
    return [m.earned_pence for m in match.matched([campaign.id])[campaign.id]]


@pytest.mark.parametrize(
    ("before", "within", "threshold", "ratio", "cap", "expected"),
    [
        (0, 10_000, 0, 100, 50_000, 10_000),  # £1 for £1
        (0, 10_000, 0, 50, 50_000, 5_000),  # 50p for £1
        (0, 80_000, 0, 100, 50_000, 50_000),  # capped
        (0, 10_000, 4_000, 100, 50_000, 6_000),  # the first £40 is below the trigger
        (5_000, 10_000, 4_000, 100, 50_000, 10_000),  # the trigger was reached before the window
        (1_000, 2_000, 4_000, 100, 50_000, 0),  # not reached yet
    ],
)
def test_the_formula(before, within, threshold, ratio, cap, expected):
    assert match.earned(ratio, cap, threshold, before, within) == expected


def test_trigger_and_cap_on_real_donations(lead, staff):
    campaign = live_campaign(lead, staff, target_pence=100_000)  # trigger 10% = £100
    match.pledge(campaign, terms(campaign, trigger_percent=10, cap_pence=15_000), staff)
    given(campaign, 6_000, staff)
    assert earned(campaign) == [0]  # £60 of the £100 trigger
    given(campaign, 6_000, staff)
    assert earned(campaign) == [2_000]  # £120 given, £20 above the trigger
    given(campaign, 50_000, staff)
    assert earned(campaign) == [15_000]  # capped


def test_refunds_lower_the_match_whatever_the_order(lead, staff):
    a = live_campaign(lead, staff, title="First order")
    b = live_campaign(lead, staff, title="Second order")
    for campaign in (a, b):
        match.pledge(campaign, terms(campaign), staff)
    # a: give, give, refund the first; b: give the one that will be refunded last
    first = given(a, 3_000, staff)
    given(a, 5_000, staff)
    payments.refund_offline(first.payment_id, staff)
    given(b, 5_000, staff)
    late = given(b, 3_000, staff)
    payments.refund_offline(late.payment_id, staff)
    assert earned(a) == earned(b) == [5_000]


def test_gifts_outside_the_window_are_not_matched(lead, staff):
    campaign = live_campaign(lead, staff)
    tomorrow = london_today() + timedelta(days=1)
    match.pledge(campaign, terms(campaign, window_starts_on=tomorrow), staff)
    given(campaign, 5_000, staff)
    assert earned(campaign) == [0]


def test_the_funders_payment_is_a_ledger_movement_no_larger_than_earned(lead, staff):
    campaign = live_campaign(lead, staff)
    pledge = match.pledge(campaign, terms(campaign), staff)
    given(campaign, 7_000, staff)
    with pytest.raises(DomainError) as refused:
        match.record_payment(pledge, 7_001, london_today(), "KVBS 1", staff)
    assert refused.value.field == "amount"
    match.record_payment(pledge, 4_000, london_today(), "KVBS 1", staff)
    (state,) = match.matched([campaign.id])[campaign.id]
    assert (state.earned_pence, state.received_pence, state.outstanding_pence) == (7_000, 4_000, 3_000)
    assert ledger.balances([campaign.account_code])[campaign.account_code] == 11_000
    assert ledger.totals_by_kind()[TransactionKind.MATCH_FUNDING] == 4_000
    with pytest.raises(DomainError):
        match.record_payment(pledge, 3_001, london_today(), "KVBS 2", staff)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ratio_percent": 0}, "ratio"),
        ({"ratio_percent": 1001}, "ratio"),
        ({"cap_pence": 0}, "cap"),
        ({"trigger_percent": 101}, "trigger_percent"),
        ({"funder_name": " "}, "funder_name"),
    ],
)
def test_bad_pledges_are_refused(lead, staff, changes, field):
    campaign = live_campaign(lead, staff)
    with pytest.raises(DomainError) as refused:
        match.pledge(campaign, terms(campaign, **changes), staff)
    assert refused.value.field == field


def test_a_window_ending_before_it_starts_is_refused(lead, staff):
    campaign = live_campaign(lead, staff)
    with pytest.raises(DomainError) as refused:
        match.pledge(campaign, terms(campaign, window_ends_on=campaign.starts_on - timedelta(days=1)), staff)
    assert refused.value.field == "window_ends_on"


def test_a_pledge_made_while_the_campaign_runs_counts_the_gifts_already_received(lead, staff):
    campaign = live_campaign(lead, staff)
    given(campaign, 6_000, staff)
    pledge = match.pledge(campaign, terms(campaign), staff)
    assert (pledge.before_pence, pledge.within_pence) == (0, 6_000)
    given(campaign, 1_000, staff)
    assert earned(campaign) == [7_000]
