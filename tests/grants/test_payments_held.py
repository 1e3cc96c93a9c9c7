"""Safeguarding: no grant payment goes to an organisation out of good standing, until it is back in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import Conflict
from foundation.grants import awards
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.members import organisations
from foundation.members.models import DocumentKind, OrganisationDocument, VettingAction
from foundation.types import london_today
from tests.factories import login
from tests.grants.factories import make_decided_grant

pytestmark = pytest.mark.usefixtures("request_context")

HELD = "Payments held: organisation not in good standing"


@pytest.fixture
def grant(db, round_, staff, people):
    org, admin, _ = people
    grant = make_decided_grant(round_, org, staff, amount_pence=200_000, accepted_by=admin)
    db.session.commit()
    return grant


def pay(client, grant, reference: str = "BACS 7"):
    instalment = grant.instalments[0]
    return client.post(
        f"/staff/grants/grants/{grant.id}/instalments/{instalment.id}/pay",
        data={f"pay{instalment.id}-reference": reference},
    )


def payments(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(LedgerTransaction.id)).where(
            LedgerTransaction.kind == TransactionKind.PAYMENT
        )
    )


def test_suspension_holds_payments_until_the_organisation_is_reinstated(
    client, db, staff, people, grant, mailbox
):
    org, admin, _ = people
    organisations.decide(org, staff, VettingAction.SUSPEND, "Safeguarding concern under review.")
    db.session.commit()
    login(client, staff)

    page = client.get(f"/staff/grants/grants/{grant.id}").get_data(as_text=True)
    assert HELD in page and "The organisation is not approved (it is suspended)." in page
    assert "Record payment" not in page

    refused = pay(client, grant)
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert f"{HELD}. Devizes Youth Theatre: The organisation is not approved (it is suspended)." in body
    assert f'id="pay{grant.instalments[0].id}-reference-error"' in body, "the message is at the payment"
    assert payments(db) == 0 and grant.instalments[0].paid_at is None
    assert not any("on its way" in m["Subject"] for m in mailbox.to(admin.email))

    client.post("/logout")
    login(client, admin)
    award_page = client.get(f"/grants/awards/{grant.id}").get_data(as_text=True)
    assert "Payments are held while Devizes Youth Theatre is not in good standing" in award_page

    client.post("/logout")
    organisations.decide(org, staff, VettingAction.APPROVE, None)
    db.session.commit()
    login(client, staff)
    assert HELD not in client.get(f"/staff/grants/grants/{grant.id}").get_data(as_text=True)
    assert pay(client, grant).status_code == 302
    assert payments(db) == 1


def test_a_lapsed_insurance_holds_payments_too(db, staff, people, grant):
    org, _, _ = people
    insurance = db.session.scalar(
        sa.select(OrganisationDocument).where(
            OrganisationDocument.organisation_id == org.id,
            OrganisationDocument.kind == DocumentKind.INSURANCE,
        )
    )
    insurance.valid_until = london_today() - timedelta(days=1)
    db.session.commit()
    assert not awards.payable(grant)
    with pytest.raises(Conflict, match=HELD):
        awards.record_payment(awards.lock_grant(grant.id), grant.instalments[0].id, staff, "BACS 8")
    db.session.rollback()
    assert payments(db) == 0
