"""A fee arriving at the very moment its places are released (PostgreSQL, real threads released together by a
barrier): whichever comes first, the entry ends either registered with its fee, or cancelled with the fee due back;
never registered with its places also offered on, never cancelled with the money kept. And staff recording a
transfer while the payer cancels: the fee is paid back or the places kept, never both lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from foundation.errors import DomainError
from foundation.events import fees, registrations
from foundation.events.models import Event, LocationKind, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.ledger import service as ledger
from foundation.members.models import User
from foundation.payments import service as payments
from foundation.payments.models import Payment, PaymentStatus, ReceivedBy
from foundation.types import london_today
from tests.events.factories import make_event
from tests.events.registration_factories import held_in_db, make_team, register
from tests.factories import make_user

S = RegistrationStatus

pytestmark = pytest.mark.postgres_only


def together(app, *actions: Callable[[], object]) -> list[str]:
    """Run the actions at once, each in its own thread, connection and transaction; what each did."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def go(n: int, action: Callable[[], object]) -> None:
        with app.app_context(), app.test_request_context("/"):
            db.session.commit()
            barrier.wait(timeout=30)
            try:
                action()
                db.session.commit()
                outcomes[n] = "done"
            except DomainError as exc:
                db.session.rollback()
                outcomes[n] = f"refused: {exc.message}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=(n, a)) for n, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def state(entry_id: int) -> tuple[RegistrationStatus, PaymentStatus, bool]:
    """The entry's state, its payment's, and whether a refund was asked for."""
    db.session.expire_all()
    entry = db.session.get(Registration, entry_id)
    assert entry is not None and entry.payment is not None
    return entry.status, entry.payment.status, entry.payment.refund_requested_at is not None


@pytest.mark.parametrize("round_", range(5))
def test_a_fee_arriving_as_its_places_are_released(app, request_context, round_):  # noqa: ARG001
    event = make_event(where=LocationKind.ONLINE, places=1, price_pence=2_000)
    staff = make_user(staff=True)
    org, people = make_team(1)
    db.session.commit()
    waiting_org, waiting_people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    waiting = register(event, waiting_org, waiting_people)
    assert entry.pay_by is not None and entry.payment_id is not None
    event_id, entry_id, payment_id, staff_id = event.id, entry.id, entry.payment_id, staff.id
    after = entry.pay_by + timedelta(minutes=1)

    def pay() -> None:
        by = db.session.get(User, staff_id)
        assert by is not None
        payments.record_received(payment_id, by, ReceivedBy.BANK_TRANSFER, london_today(), "BACS 1")

    outcomes = together(app, pay, lambda: fees.lapse_unpaid(event_id, after))
    assert outcomes == ["done", "done"]
    status, paid, refund = state(entry_id)
    assert paid is PaymentStatus.SUCCEEDED
    db.session.expire_all()
    offered = db.session.get(Registration, waiting.id)
    assert offered is not None
    if status is S.REGISTERED:  # the money came first: the places are theirs, nothing is paid back
        assert not refund and offered.status is S.WAITLISTED
    else:  # the release came first: the places went on, and the money goes back
        assert status is S.CANCELLED and refund and offered.status is S.OFFERED
    assert held_in_db(event_id) == (1, 1)
    assert ledger.balances([fees.FEES])[fees.FEES] == 2_000
    assert ledger.check_balanced() == []


def test_staff_record_a_transfer_as_the_payer_cancels(app, request_context):  # noqa: ARG001
    event = make_event(where=LocationKind.ONLINE, places=4, price_pence=2_000)
    staff = make_user(staff=True)
    org, people = make_team(1)
    db.session.commit()
    entry = register(event, org, people)
    entry_id, payment_id, staff_id, person_id = entry.id, entry.payment_id, staff.id, people[0].id
    assert payment_id is not None

    def pay() -> None:
        by = db.session.get(User, staff_id)
        assert by is not None
        payments.record_received(payment_id, by, ReceivedBy.BANK_TRANSFER, london_today(), "BACS 2")

    def cancel() -> None:
        found = db.session.get(Registration, entry_id)
        person = db.session.get(User, person_id)
        assert found is not None and person is not None
        registrations.cancel(found, person)

    assert together(app, pay, cancel) == ["done", "done"]
    status, paid, refund = state(entry_id)
    # Cancelled in time either way, and the money that came is due back, whichever was first.
    assert (status, paid, refund) == (S.CANCELLED, PaymentStatus.SUCCEEDED, True)
    assert [e.id for e in fees.refunds_to_pay_offline()] == [entry_id]
    assert held_in_db(event.id) == (0, 0)
    db.session.expire_all()
    assert db.session.get(Payment, payment_id).refund_requested_at is not None  # type: ignore[union-attr]
    assert isinstance(db.session.get(Event, event.id), Event)
