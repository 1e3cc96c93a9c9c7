"""Grants: the offer's conditions, schedule and report date; acceptance by an admin; payments through the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict, DomainError, IllegalTransition, NotAllowed, NotFound
from foundation.grants import awards, money
from foundation.grants.models import GrantStatus, Instalment
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.notifications.models import Notification
from tests.conftest import text_of
from tests.factories import make_org, make_user
from tests.grants.factories import make_decided_grant

pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def offered(db, staff, people, round_):
    org, _, _ = people
    grant = make_decided_grant(round_, org, staff, amount_pence=300_000)
    db.session.commit()
    return grant


def accept(grant, user):
    awards.accept_grant(grant, user, awards.offer_fingerprint(grant))


def test_a_new_offer_has_standard_conditions_one_instalment_and_a_report_date(db, offered):
    app = offered.application
    assert offered.conditions.startswith("1. The grant is spent only on the project described")
    assert [(i.due_on, i.amount_pence) for i in offered.instalments] == [(app.starts_on, 300_000)]
    assert offered.report_due_on == app.ends_on + timedelta(weeks=8)
    assert offered.status is GrantStatus.OFFERED and offered.accepted_at is None


def test_standard_conditions_come_from_the_settings_when_set(app, db, staff, people, round_):
    app.config["GRANT_STANDARD_CONDITIONS"] = "Spend it on young people. Report by the due date."
    grant = make_decided_grant(round_, people[0], staff)
    assert grant.conditions == "Spend it on young people. Report by the due date."


def test_only_an_admin_accepts_and_who_and_when_are_recorded(db, offered, people):
    _, admin, member = people
    outsider = make_user()
    db.session.commit()
    for user in (member, outsider):
        with pytest.raises(NotAllowed, match="Only an admin of the organisation"):
            accept(offered, user)
    assert offered.status is GrantStatus.OFFERED

    accept(offered, admin)
    db.session.commit()
    assert offered.status is GrantStatus.ACTIVE
    assert offered.accepted_by_id == admin.id and offered.accepted_at is not None

    with pytest.raises(IllegalTransition, match="already accepted on"):
        accept(offered, admin)


def test_an_offer_changed_since_it_was_read_is_not_accepted(db, offered, people, staff):
    _, admin, _ = people
    seen = awards.offer_fingerprint(offered)
    awards.set_terms(offered, staff, offered.conditions + "\n7. Send photos.", offered.report_due_on)
    db.session.commit()

    with pytest.raises(Conflict, match="The offer has changed since you opened it"):
        awards.accept_grant(offered, admin, seen)
    assert offered.status is GrantStatus.OFFERED
    awards.accept_grant(offered, admin, awards.offer_fingerprint(offered))
    assert offered.status is GrantStatus.ACTIVE


def test_conditions_are_fixed_once_accepted_but_the_report_date_can_move(db, offered, people, staff):
    _, admin, _ = people
    accept(offered, admin)
    db.session.commit()

    with pytest.raises(IllegalTransition, match="accepted these conditions"):
        awards.set_terms(offered, staff, "New conditions", offered.report_due_on)
    later = offered.report_due_on + timedelta(days=30)
    awards.set_terms(offered, staff, offered.conditions, later)
    assert offered.report_due_on == later
    with pytest.raises(DomainError, match="cannot be in the past"):
        awards.set_terms(offered, staff, offered.conditions, awards.london_today() - timedelta(days=1))


def test_a_schedule_must_add_up_to_the_award(db, offered, staff):
    d1, d2 = date.today() + timedelta(days=10), date.today() + timedelta(days=100)
    with pytest.raises(DomainError) as exc:
        awards.set_schedule(offered, staff, [(d1, 100_000), (d2, 100_000)])
    assert exc.value.field == "instalments"
    assert exc.value.message == "The instalments add up to £2,000; they must add up to the award of £3,000."
    with pytest.raises(DomainError, match="at least one instalment"):
        awards.set_schedule(offered, staff, [])

    awards.set_schedule(offered, staff, [(d2, 100_000), (d1, 200_000)])
    db.session.commit()
    assert [(i.due_on, i.amount_pence) for i in offered.instalments] == [(d1, 200_000), (d2, 100_000)]
    assert db.session.scalar(sa.select(sa.func.count(Instalment.id))) == 2


def test_payments_only_after_acceptance_each_instalment_once(db, offered, people, staff):
    _, admin, _ = people
    d1, d2 = date.today(), date.today() + timedelta(days=90)
    awards.set_schedule(offered, staff, [(d1, 200_000), (d2, 100_000)])
    db.session.commit()
    first, second = offered.instalments

    with pytest.raises(IllegalTransition, match="only after the organisation accepts"):
        awards.record_payment(offered, first.id, staff, "BACS 0001")
    accept(offered, admin)
    db.session.commit()

    with pytest.raises(DomainError, match="Enter the payment reference"):
        awards.record_payment(offered, first.id, staff, "  ")
    awards.record_payment(offered, first.id, staff, "BACS 0001")
    db.session.commit()
    assert (
        first.paid_at is not None and first.paid_by_id == staff.id and first.payment_reference == "BACS 0001"
    )
    payment = db.session.get(LedgerTransaction, first.transaction_id)
    assert payment.kind is TransactionKind.PAYMENT and money.concerns(payment)[1] == offered.id
    assert "BACS 0001" in payment.reason
    assert ledger.balances([f"grant:{offered.id}", ledger.PAID_OUT]) == {
        f"grant:{offered.id}": 100_000,
        ledger.PAID_OUT: 200_000,
    }
    assert offered.paid_pence == 200_000

    with pytest.raises(Conflict, match=r"already paid on .* \(reference BACS 0001\)"):
        awards.record_payment(offered, first.id, staff, "BACS 0002")
    with pytest.raises(NotFound):
        awards.record_payment(offered, 999_999, staff, "BACS 0003")

    # Paid instalments stay when the rest of the schedule changes.
    with pytest.raises(DomainError, match=r"add up to £3,500 \(with £2,000 already paid\)"):
        awards.set_schedule(offered, staff, [(d2, 150_000)])
    awards.set_schedule(offered, staff, [(d2, 50_000), (d2 + timedelta(days=30), 50_000)])
    db.session.commit()
    assert [(i.amount_pence, i.payment_reference) for i in offered.instalments] == [
        (200_000, "BACS 0001"),
        (50_000, None),
        (50_000, None),
    ]
    for inst in offered.instalments[1:]:
        awards.record_payment(offered, inst.id, staff, f"BACS {inst.id}")
    db.session.commit()
    assert ledger.balances([f"grant:{offered.id}"])[f"grant:{offered.id}"] == 0
    assert ledger.check_balanced() == []


def test_locking_a_grant_reads_it_fresh(db, offered, people):
    _, admin, _ = people
    db.session.execute(
        sa.update(type(offered)).where(type(offered).id == offered.id).values(conditions="Changed")
    )
    locked = awards.lock_grant(offered.id)
    assert locked is offered and locked.conditions == "Changed"
    with pytest.raises(NotFound):
        awards.lock_grant(123_456)


def test_a_users_grants_are_those_of_their_organisations(db, offered, people, staff, round_):
    _, admin, member = people
    other = make_decided_grant(round_, make_org(make_user()), staff)
    assert awards.grants_of_user(member) == [offered]
    assert other not in awards.grants_of_user(admin)


def test_the_organisation_hears_of_each_payment_with_its_reference(db, offered, people, staff, mailbox):
    org, admin, member = people
    accept(offered, admin)
    db.session.commit()
    first = offered.instalments[0]
    awards.record_payment(offered, first.id, staff, "BACS 7731")
    db.session.commit()
    for person in (admin, member):
        message = mailbox.last_to(person.email)
        assert "a payment of £3,000.00 is on its way" in message["Subject"]
        body = text_of(message)
        assert "BACS 7731" in body and "Paid so far: £3,000 of £3,000" in body
    inbox = db.session.scalars(
        sa.select(Notification).where(
            Notification.user_id == member.id, Notification.subject.contains("payment")
        )
    ).all()
    assert len(inbox) == 1
