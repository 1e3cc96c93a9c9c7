"""The pages for withdrawing an offer and ending a grant early: a confirmation page in the warning style, the
reason required at its field (422), the result on the staff grant page and on the organisation's award page, and
a second submission refused (409) without a second release."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.grants import awards, money
from foundation.grants.models import GrantStatus
from foundation.ledger.models import LedgerTransaction, TransactionKind
from tests.conftest import text_of
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_decided_grant

pytestmark = pytest.mark.usefixtures("request_context")

REASON = "The project lost its venue and cannot run this year."


@pytest.fixture
def part_paid(db, staff, people, round_):
    """£3,000 accepted, in three instalments of £1,000, the first paid."""
    org, admin, _ = people
    grant = make_decided_grant(
        round_, org, staff, amount_pence=300_000, accepted_by=admin, title="Stage school"
    )
    awards.set_schedule(grant, staff, [(date.today() + timedelta(days=30 * n), 100_000) for n in range(3)])
    first = sorted(grant.instalments, key=lambda i: i.due_on)[0]
    awards.record_payment(awards.lock_grant(grant.id), first.id, staff, "BACS-1")
    db.session.commit()
    return grant


def html(resp) -> str:
    return resp.get_data(as_text=True)


def releases(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(LedgerTransaction.id)).where(
            LedgerTransaction.kind == TransactionKind.RELEASE
        )
    )


def test_the_withdraw_page_says_what_happens_and_asks_why(client, db, staff, offered):
    login(client, staff)
    page = html(client.get(f"/staff/grants/grants/{offered.id}"))
    assert f'href="/staff/grants/grants/{offered.id}/withdraw"' in page
    assert f"/staff/grants/grants/{offered.id}/end" not in page  # nothing paid: ending does not apply

    resp = client.get(f"/staff/grants/grants/{offered.id}/withdraw")
    assert resp.status_code == 200
    page = html(resp)
    assert "<title>Withdraw the offer" in page
    assert 'class="warning-text"' in page and "You cannot undo this." in page
    assert "The whole award of <strong>£3,000</strong> goes back to the budget" in page
    assert 'name="reason"' in page and 'class="danger"' in page
    assert "whether or not the organisation has accepted the conditions" in page  # the rule, explained


def test_withdrawing_without_a_reason_is_422_with_the_message_at_the_field(
    client, db, staff, offered, round_
):
    login(client, staff)
    resp = client.post(f"/staff/grants/grants/{offered.id}/withdraw", data={"reason": "   "})
    assert resp.status_code == 422
    page = html(resp)
    assert "<title>Error: " in page
    assert re.search(
        r'<a href="#reason">[^<]*Say why the offer is withdrawn: the organisation is told\.</a>', page
    )
    assert 'id="reason-error">Say why the offer is withdrawn: the organisation is told.</p>' in page
    db.session.rollback()
    assert offered.status is GrantStatus.OFFERED and releases(db) == 0
    assert money.money_for(round_).remaining_pence == 700_000


def test_staff_withdraw_through_the_form_and_everyone_sees_it(
    app, client, db, staff, people, offered, round_, mailbox
):
    org, admin, member = people
    login(client, staff)
    resp = client.post(f"/staff/grants/grants/{offered.id}/withdraw", data={"reason": REASON})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/grants/grants/{offered.id}")
    page = html(client.get(resp.headers["Location"]))
    assert "The offer was withdrawn; £3,000 is back in the round&#39;s budget." in page
    assert 'id="stopped"' in page and REASON in page and "Offer withdrawn" in page
    assert f"/staff/grants/grants/{offered.id}/withdraw" not in page  # nothing more to stop
    assert money.money_for(round_).remaining_pence == 1_000_000

    for person in (admin, member):
        body = text_of(mailbox.last_to(person.email))
        assert REASON in body and "withdrawn its offer" in body and f"/grants/awards/{offered.id}" in body

    org_client = app.test_client()
    login(org_client, admin)
    page = html(org_client.get(f"/grants/awards/{offered.id}"))
    assert "The Foundation withdrew this offer" in page and REASON in page
    assert "Accept the conditions" not in page and "Cancelled" in page
    page = html(org_client.get(f"/grants/applications/{offered.application_id}"))
    assert "The Foundation withdrew its offer" in page and "Grant offer withdrawn" in page

    # A second submission (a double click, a colleague at the same time) changes nothing.
    resp = client.post(f"/staff/grants/grants/{offered.id}/withdraw", data={"reason": REASON})
    assert resp.status_code == 409
    page = html(resp)
    assert 'id="refusal" role="alert"' in page and "This offer was already withdrawn on" in page
    assert 'name="reason"' not in page
    assert releases(db) == 1 and money.money_for(round_).remaining_pence == 1_000_000


def test_ending_a_part_paid_grant_through_the_form(
    app, client, db, staff, people, part_paid, round_, mailbox
):
    org, admin, _ = people
    login(client, staff)
    page = html(client.get(f"/staff/grants/grants/{part_paid.id}"))
    assert f'href="/staff/grants/grants/{part_paid.id}/end"' in page
    assert f"/staff/grants/grants/{part_paid.id}/withdraw" not in page  # something was paid
    page = html(client.get(f"/staff/grants/grants/{part_paid.id}/end"))
    assert '<strong id="release">£2,000</strong>' in page and "You cannot undo this." in page

    resp = client.post(f"/staff/grants/grants/{part_paid.id}/end", data={})
    assert resp.status_code == 422
    assert 'id="reason-error">Say why the grant is ended early: the organisation is told.</p>' in html(resp)
    assert releases(db) == 0

    resp = client.post(f"/staff/grants/grants/{part_paid.id}/end", data={"reason": REASON})
    assert resp.status_code == 303
    page = html(client.get(resp.headers["Location"]))
    assert "The grant was ended early; £2,000 is back in the round&#39;s budget." in page
    assert "£1,000 (requested £3,000); ended early: £3,000 was awarded, £2,000 released" in page
    assert page.count('<span class="tag tag-cancelled">Cancelled</span>') == 2
    assert "Change the schedule" not in page and "Record payment" not in page
    assert money.money_for(round_).remaining_pence == 1_000_000 - 100_000
    assert "£1,000 already paid stays paid" in text_of(mailbox.last_to(admin.email))

    org_client = app.test_client()
    login(org_client, admin)
    page = html(org_client.get(f"/grants/awards/{part_paid.id}"))
    assert "The Foundation ended this grant early" in page and REASON in page
    assert "£3,000, of which £1,000 was paid before the grant ended" in page
    assert "Write the report" not in page

    resp = client.post(f"/staff/grants/grants/{part_paid.id}/end", data={"reason": REASON})
    assert resp.status_code == 409 and "This grant was already ended early on" in html(resp)
    assert releases(db) == 1


def test_a_page_for_what_does_not_apply_explains_why_instead_of_a_form(client, db, staff, round_, part_paid):
    offered = make_decided_grant(round_, make_org(), staff, amount_pence=100_000)
    login(client, staff)
    resp = client.get(f"/staff/grants/grants/{offered.id}/end")
    assert resp.status_code == 200
    page = html(resp)
    assert 'id="refusal"' in page and "withdraw the offer instead" in page and 'name="reason"' not in page
    resp = client.get(f"/staff/grants/grants/{part_paid.id}/withdraw")
    assert resp.status_code == 200 and "End the grant early instead" in html(resp)
    resp = client.post(f"/staff/grants/grants/{part_paid.id}/withdraw", data={"reason": REASON})
    assert resp.status_code == 409 and "£1,000 of this grant has already been paid" in html(resp)
    assert releases(db) == 0


def test_only_staff_stop_grants(app, db, people, offered):
    org, admin, member = people
    for person in (admin, member, make_user(panel=True)):
        c = app.test_client()
        login(c, person)
        for path in (f"/staff/grants/grants/{offered.id}/withdraw", f"/staff/grants/grants/{offered.id}/end"):
            assert c.get(path).status_code == 403
            assert c.post(path, data={"reason": REASON}).status_code == 403
    assert app.test_client().get(f"/staff/grants/grants/{offered.id}/withdraw").status_code == 302
    db.session.rollback()
    assert offered.status is GrantStatus.OFFERED


def test_an_unknown_grant_is_not_found(client, db, staff):
    login(client, staff)
    assert client.get("/staff/grants/grants/999999/withdraw").status_code == 404
    assert client.post("/staff/grants/grants/999999/end", data={"reason": REASON}).status_code == 404


def test_the_ranking_says_an_offer_was_withdrawn_once_it_is(client, db, staff, offered, round_):
    login(client, staff)
    url = f"/staff/grants/rounds/{round_.id}/ranking"
    row = html(client.get(url))
    row = row[row.index(f'id="rank-{offered.application_id}"') :]
    assert "awarded £3,000</span>" in row[: row.index("</tr>")]
    client.post(f"/staff/grants/grants/{offered.id}/withdraw", data={"reason": REASON})
    row = html(client.get(url))
    row = row[row.index(f'id="rank-{offered.application_id}"') :]
    row = row[: row.index("</tr>")]
    assert "awarded £3,000 (offer withdrawn)" in row and "its money released" in row
