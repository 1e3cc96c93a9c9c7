"""Deciding applications: award in full or in part within the round's range and budget, or decline with a reason
and feedback; the ledger, the grant offer and the applicant's messages follow; changes until acceptance."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, IllegalTransition
from foundation.grants import awards, decisions, money
from foundation.grants.decisions import DecisionInput
from foundation.grants.models import (
    ApplicationAction,
    ApplicationStatus,
    Decision,
    DecisionOutcome,
    DeclineReason,
    Grant,
    GrantStatus,
    RoundStatus,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification, NotificationKind
from tests.conftest import link_in, text_of
from tests.factories import make_org, make_user
from tests.grants.factories import make_application, make_round

FULL = DecisionOutcome.AWARD_FULL
PART = DecisionOutcome.AWARD_PART
DECLINE = DecisionOutcome.DECLINE


pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def reasons(db):
    return {r.label: r for r in decisions.ensure_default_decline_reasons()}


def remaining(round_) -> int:
    return money.money_for(round_).remaining_pence


def txns(db, kind: TransactionKind) -> list[LedgerTransaction]:
    return list(db.session.scalars(sa.select(LedgerTransaction).where(LedgerTransaction.kind == kind)))


def test_award_in_full_offers_a_grant_and_moves_the_money(db, staff, people, round_, mailbox):
    org, admin, member = people
    app = make_application(round_, org, by=admin, amount_pence=250_000, title="Friday night football")

    decision = decisions.decide(app, staff, DecisionInput(FULL, feedback="Lovely project."))
    db.session.commit()

    assert (
        decision.outcome is FULL and decision.amount_pence == 250_000 and decision.decided_by_id == staff.id
    )
    assert app.status is ApplicationStatus.AWARDED
    assert app.events[-1].action is ApplicationAction.AWARDED
    grant = app.grant
    assert grant.status is GrantStatus.OFFERED and grant.amount_pence == 250_000
    assert grant.conditions == awards.STANDARD_CONDITIONS
    assert [(i.amount_pence, i.paid_at) for i in grant.instalments] == [(250_000, None)]
    assert grant.report_due_on == awards.default_report_due_on(app)
    (award,) = txns(db, TransactionKind.AWARD)
    assert money.concerns(award) == (round_.id, grant.id)
    assert sorted(e.amount_pence for e in award.entries) == [-250_000, 250_000]
    assert remaining(round_) == 750_000
    assert ledger.balances([f"grant:{grant.id}"]) == {f"grant:{grant.id}": 250_000}

    # Every member hears, admin or not; the admin is asked to accept.
    to_admin, to_member = mailbox.last_to(admin.email), mailbox.last_to(member.email)
    assert "you have been awarded a seed grant" in to_admin["Subject"].strip()
    body = text_of(to_admin)
    assert "£2,500" in body and "Friday night football" in body and "Lovely project." in body
    assert "as an admin of Devizes Youth Theatre" in body
    assert "an admin of Devizes Youth Theatre reads the grant conditions" in text_of(to_member)
    assert link_in(to_admin, "/grants/awards/") == f"/grants/awards/{grant.id}"
    kinds = db.session.scalars(sa.select(Notification.kind)).all()
    assert kinds == [NotificationKind.GRANTS, NotificationKind.GRANTS]


def test_award_in_part_must_be_below_the_request_and_within_the_range(db, staff, people, round_):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=300_000)
    db.session.commit()

    for amount, message in [
        (None, "Enter the amount to award."),
        (300_000, "An award in part is less than the £3,000 requested"),
        (400_000, "An award in part is less than the £3,000 requested"),
        (49_999, "Awards in this round are between £500 and £5,000."),
    ]:
        with pytest.raises(DomainError) as exc:
            decisions.decide(app, staff, DecisionInput(PART, amount_pence=amount))
        assert message in exc.value.message and exc.value.field == "amount"
        db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0
    assert txns(db, TransactionKind.AWARD) == []

    decisions.decide(app, staff, DecisionInput(PART, amount_pence=120_050))
    db.session.commit()
    assert app.grant.amount_pence == 120_050 and app.decision.outcome is PART
    assert remaining(round_) == 1_000_000 - 120_050


def test_award_in_full_refused_when_the_request_is_above_the_round_maximum(db, staff, people, round_):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=600_000)
    db.session.commit()
    with pytest.raises(DomainError, match="outside the round's range of £500 to £5,000; award part instead"):
        decisions.decide(app, staff, DecisionInput(FULL))
    db.session.rollback()
    decisions.decide(app, staff, DecisionInput(PART, amount_pence=500_000))
    assert app.grant.amount_pence == 500_000


def test_decline_needs_a_listed_reason_and_feedback_and_tells_the_members(
    db, staff, people, round_, reasons, mailbox
):
    org, admin, member = people
    app = make_application(round_, org, by=admin, title="Skate park sessions")
    reason = reasons["Outside the round's priorities"]
    retired = DeclineReason(label="Old reason", active=False)
    db.session.add(retired)
    db.session.commit()

    cases = [
        (DecisionInput(DECLINE, feedback="Sorry."), "decline_reason", "Choose the reason for declining."),
        (
            DecisionInput(DECLINE, decline_reason_id=retired.id, feedback="x"),
            "decline_reason",
            "listed reasons",
        ),
        (DecisionInput(DECLINE, decline_reason_id=reason.id, feedback="   "), "feedback", "Write feedback"),
    ]
    for choice, field, message in cases:
        with pytest.raises(DomainError) as exc:
            decisions.decide(app, staff, choice)
        assert exc.value.field == field and message in exc.value.message
        db.session.rollback()

    feedback = "The panel liked the idea but wanted more evidence that young people asked for it."
    decisions.decide(app, staff, DecisionInput(DECLINE, decline_reason_id=reason.id, feedback=feedback))
    db.session.commit()

    assert app.status is ApplicationStatus.DECLINED and app.grant is None
    assert app.decision.decline_reason_id == reason.id and app.decision.amount_pence == 0
    assert txns(db, TransactionKind.AWARD) == [] and remaining(round_) == 1_000_000
    for person in (admin, member):
        msg = mailbox.last_to(person.email)
        assert "was not successful" in msg["Subject"].strip()
        body = text_of(msg)
        assert "Reason: Outside the round's priorities" in body and feedback in body
        assert link_in(msg, "/grants/applications/") == f"/grants/applications/{app.id}"


def test_an_award_never_exceeds_the_remaining_budget(db, staff, people, round_):
    org, admin, _ = people
    other = make_org(make_user(), name="Trowbridge Arts")
    first = make_application(round_, org, by=admin, amount_pence=500_000)
    second = make_application(round_, other, amount_pence=500_000)
    third = make_application(round_, make_org(make_user()), amount_pence=400_000)
    decisions.decide(first, staff, DecisionInput(FULL))
    decisions.decide(second, staff, DecisionInput(PART, amount_pence=450_000))
    db.session.commit()
    assert remaining(round_) == 50_000

    with pytest.raises(Conflict) as exc:
        decisions.decide(third, staff, DecisionInput(FULL))
    assert exc.value.status_code == 409 and exc.value.field == "amount"
    assert exc.value.message == (
        "This award would exceed the round's remaining budget: £500 is left and the award needs £4,000 more."
    )
    db.session.rollback()
    assert third.status is ApplicationStatus.SUBMITTED and third.decision is None
    assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 2

    decisions.decide(third, staff, DecisionInput(PART, amount_pence=50_000))  # exactly what is left
    db.session.commit()
    assert remaining(round_) == 0
    assert ledger.check_balanced() == []


@pytest.mark.parametrize("status", [RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.DECIDED])
def test_decisions_are_made_only_while_the_round_is_in_review(db, staff, people, status):
    org, admin, _ = people
    round_ = make_round(status=status, budget_pence=1_000_000)
    app = make_application(round_, org, by=admin)
    with pytest.raises(IllegalTransition, match="Decisions are made while the round is in review"):
        decisions.decide(app, staff, DecisionInput(FULL))


@pytest.mark.parametrize("status", [ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN])
def test_only_submitted_applications_are_decided(db, staff, people, round_, status):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, status=status)
    with pytest.raises(IllegalTransition, match="Only submitted applications are decided"):
        decisions.decide(app, staff, DecisionInput(FULL))
    assert app.grant is None


def test_reducing_an_offer_releases_the_difference_and_increasing_needs_budget(
    db, staff, people, round_, mailbox
):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=500_000)
    filler = make_application(round_, make_org(make_user()), amount_pence=400_000)
    decisions.decide(app, staff, DecisionInput(FULL))
    decisions.decide(filler, staff, DecisionInput(FULL))
    db.session.commit()
    assert remaining(round_) == 100_000

    decisions.decide(app, staff, DecisionInput(PART, amount_pence=300_000, feedback="Reduced to fit."))
    db.session.commit()
    (release,) = txns(db, TransactionKind.RELEASE)
    assert money.concerns(release)[1] == app.grant.id and {e.amount_pence for e in release.entries} == {
        -200_000,
        200_000,
    }
    assert remaining(round_) == 300_000
    assert app.grant.amount_pence == 300_000
    assert [i.amount_pence for i in app.grant.instalments] == [300_000]
    assert ledger.balances([f"grant:{app.grant.id}"])[f"grant:{app.grant.id}"] == 300_000
    assert "your seed grant decision was updated" in mailbox.last_to(admin.email)["Subject"].strip()

    decisions.decide(
        make_application(round_, make_org(make_user()), amount_pence=250_000), staff, DecisionInput(FULL)
    )
    db.session.commit()
    with pytest.raises(Conflict, match="£500 is left and the award needs £2,000 more"):
        decisions.decide(app, staff, DecisionInput(FULL))
    db.session.rollback()
    assert app.grant.amount_pence == 300_000
    decisions.decide(app, staff, DecisionInput(PART, amount_pence=350_000))  # needs the £500 left
    db.session.commit()
    assert remaining(round_) == 0 and app.grant.amount_pence == 350_000
    assert len(txns(db, TransactionKind.AWARD)) == 4
    assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 3
    assert ledger.check_balanced() == []


def test_no_change_after_the_grant_is_accepted(db, staff, people, round_):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=300_000)
    decisions.decide(app, staff, DecisionInput(FULL))
    awards.accept_grant(app.grant, admin, awards.offer_fingerprint(app.grant))
    db.session.commit()

    with pytest.raises(
        IllegalTransition, match="accepted the grant, so the decision can no longer be changed"
    ):
        decisions.decide(app, staff, DecisionInput(PART, amount_pence=100_000))
    db.session.rollback()
    assert app.grant.amount_pence == 300_000 and txns(db, TransactionKind.RELEASE) == []


def test_an_offer_cannot_become_a_decline_but_a_decline_can_become_an_award(
    db, staff, people, round_, reasons
):
    org, admin, _ = people
    reason = next(iter(reasons.values()))
    offered = make_application(round_, org, by=admin)
    decisions.decide(offered, staff, DecisionInput(FULL))
    db.session.commit()
    with pytest.raises(IllegalTransition, match="cannot be declined now"):
        decisions.decide(offered, staff, DecisionInput(DECLINE, decline_reason_id=reason.id, feedback="No."))
    db.session.rollback()
    assert offered.status is ApplicationStatus.AWARDED

    declined = make_application(round_, make_org(make_user()), amount_pence=100_000)
    decisions.decide(
        declined, staff, DecisionInput(DECLINE, decline_reason_id=reason.id, feedback="Not now.")
    )
    db.session.commit()
    decisions.decide(declined, staff, DecisionInput(FULL, feedback="On reflection, yes."))
    db.session.commit()
    assert declined.status is ApplicationStatus.AWARDED and declined.grant.amount_pence == 100_000
    assert declined.decision.decline_reason_id is None
    assert [e.action for e in declined.events][-2:] == [ApplicationAction.DECLINED, ApplicationAction.AWARDED]


def test_the_same_decision_twice_is_refused_rather_than_sent_again(db, staff, people, round_):
    org, admin, _ = people
    app = make_application(round_, org, by=admin)
    decisions.decide(app, staff, DecisionInput(FULL))
    db.session.commit()
    sent = db.session.scalar(sa.select(sa.func.count(Notification.id)))
    with pytest.raises(Conflict, match="already been recorded"):
        decisions.decide(app, staff, DecisionInput(FULL))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == sent
    assert len(txns(db, TransactionKind.AWARD)) == 1


def test_an_application_sent_back_for_more_information_can_still_be_decided(db, staff, people, round_):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, status=ApplicationStatus.MORE_INFO_REQUESTED)
    decisions.decide(app, staff, DecisionInput(FULL))
    assert app.status is ApplicationStatus.AWARDED


def test_default_decline_reasons_are_added_once(db):
    first = decisions.ensure_default_decline_reasons()
    again = decisions.ensure_default_decline_reasons()
    assert [r.label for r in first] == list(decisions.DEFAULT_DECLINE_REASONS)
    assert [r.id for r in again] == [r.id for r in first]
