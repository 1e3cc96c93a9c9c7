"""Two staff changing one decision: a form based on an older decision is refused with the decision as it stands,
and the applicant hears once per change that lands, never once per save."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from foundation.grants import decisions
from foundation.grants.decisions import DecisionInput, SeenDecision, StaleDecision
from foundation.grants.models import Decision, DecisionOutcome, Grant
from foundation.notifications.models import Notification
from tests.factories import login, make_user
from tests.grants.factories import make_application
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import all_at_once, signed_in

pytestmark = pytest.mark.usefixtures("request_context")

UPDATED = "your seed grant decision was updated"
STALE = "changed this decision after you opened the page"
VERSION = re.compile(r'id="version" name="version" type="hidden" value="([^"]*)"')


@pytest.fixture
def colleague(db):
    return make_user(email="second@wypf.org.uk", name="Sam Second", staff=True)


@pytest.fixture
def application(db, round_, people):
    org, admin, _ = people
    app = make_application(round_, org, by=admin, amount_pence=250_000, title="Devizes street dance")
    db.session.commit()
    return app


def url(app) -> str:
    return f"/staff/grants/applications/{app.id}/decide"


def page(resp) -> str:
    return resp.get_data(as_text=True)


def version_on(html: str) -> str:
    found = VERSION.search(html)
    assert found, "no decision version on the page"
    return found.group(1)


def messages(db, subject_part: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.subject.contains(subject_part))
    )


def current(db) -> Decision:
    db.session.expire_all()
    return db.session.scalar(sa.select(Decision))


def test_the_form_carries_the_version_it_shows(client, db, staff, application):
    login(client, staff)
    assert version_on(page(client.get(url(application)))) == "", "no decision yet"
    assert client.post(url(application), data={"outcome": "award_full", "version": ""}).status_code == 302
    assert version_on(page(client.get(url(application)))) == "1"
    assert (
        client.post(
            url(application), data={"outcome": "award_part", "amount": "2000", "version": "1"}
        ).status_code
        == 302
    )
    assert version_on(page(client.get(url(application)))) == "2"


def test_a_form_opened_before_a_colleagues_change_is_refused_and_shows_the_decision_now(
    client, app, db, staff, colleague, people, application, mailbox
):
    _, admin, member = people
    decisions.decide(application, staff, DecisionInput(DecisionOutcome.AWARD_FULL))
    db.session.commit()
    other = app.test_client()
    login(client, staff)
    login(other, colleague)
    seen = version_on(page(client.get(url(application))))
    assert version_on(page(other.get(url(application)))) == seen == "1"

    changed = other.post(url(application), data={"outcome": "award_part", "amount": "2000", "version": seen})
    assert changed.status_code == 302
    told = len(mailbox.to(admin.email))

    stale = client.post(url(application), data={"outcome": "award_part", "amount": "1500", "version": seen})

    assert stale.status_code == 409
    html = page(stale)
    assert "Sam Second " + STALE in html
    summary = html.index('class="error-summary"')
    assert summary < html.index('class="two-col"'), "the message is at the top of the page"
    assert html.index("Decision recorded") > summary and "£2,000" in html, "the decision as it now stands"
    assert version_on(html) == "2", "sending the form again is a choice made knowing the change"
    assert 'name="amount" type="text" value="1500"' in html, "what was typed is kept"
    decision = current(db)
    assert (decision.amount_pence, decision.version) == (200_000, 2)
    assert db.session.scalar(sa.select(Grant.amount_pence)) == 200_000
    assert len(mailbox.to(admin.email)) == told, "a refused form tells nobody"

    again = client.post(url(application), data={"outcome": "award_part", "amount": "1500", "version": "2"})
    assert again.status_code == 302
    assert (current(db).amount_pence, current(db).version) == (150_000, 3)
    for person in (admin, member):
        subjects = [m["Subject"] for m in mailbox.to(person.email)]
        assert sum(UPDATED in s for s in subjects) == 2, subjects


def test_saving_the_same_decision_again_sends_nothing(client, db, staff, people, application, mailbox):
    _, admin, _ = people
    login(client, staff)
    data = {"outcome": "award_part", "amount": "2000", "feedback": "Good luck.", "version": ""}
    assert client.post(url(application), data=data).status_code == 302
    sent = len(mailbox.to(admin.email))
    resaved = client.post(url(application), data={**data, "version": "1"})
    assert resaved.status_code == 409 and "This decision has already been recorded." in page(resaved)
    assert len(mailbox.to(admin.email)) == sent
    assert current(db).version == 1


def test_each_change_that_lands_tells_each_member_once(client, db, staff, people, application, mailbox):
    _, admin, member = people
    login(client, staff)
    assert client.post(url(application), data={"outcome": "award_full", "version": ""}).status_code == 302
    assert messages(db, "you have been awarded") == 2  # the admin and the member
    assert (
        client.post(
            url(application), data={"outcome": "award_part", "amount": "2000", "version": "1"}
        ).status_code
        == 302
    )
    assert messages(db, UPDATED) == 2
    body = mailbox.last_to(member.email).get_body(preferencelist=("plain",)).get_content()
    assert "updated its decision" in body and "£2,000" in body


def test_the_service_refuses_a_stale_basis_and_scripts_may_skip_it(db, staff, application):
    decisions.decide(application, staff, DecisionInput(DecisionOutcome.AWARD_FULL), SeenDecision(None))
    db.session.commit()
    with pytest.raises(StaleDecision) as exc:
        decisions.decide(
            application,
            staff,
            DecisionInput(DecisionOutcome.AWARD_PART, amount_pence=200_000),
            SeenDecision(None),
        )
    assert exc.value.status_code == 409 and exc.value.current is not None
    db.session.rollback()
    decisions.decide(application, staff, DecisionInput(DecisionOutcome.AWARD_PART, amount_pence=200_000))
    db.session.commit()
    assert current(db).version == 2


def test_two_staff_changing_the_decision_at_once_make_one_change_and_one_message(
    db,
    staff,
    colleague,
    people,
    application,
    live_server,  # noqa: F811
):
    _, admin, member = people
    decisions.decide(application, staff, DecisionInput(DecisionOutcome.AWARD_FULL))
    db.session.commit()
    path = url(application)
    browsers = signed_in(live_server, [staff.email, colleague.email])
    amounts = ["2000", "1500"]

    results = all_at_once(
        [
            (
                lambda b=b, amount=amount: b.post(
                    path, {"outcome": "award_part", "amount": amount, "version": "1"}
                )
            )
            for b, amount in zip(browsers, amounts, strict=True)
        ]
    )

    assert Counter(status for status, _ in results) == {302: 1, 409: 1}, [s for s, _ in results]
    refused = next(body for status, body in results if status == 409)
    assert STALE in refused
    won = next(amount for (status, _), amount in zip(results, amounts, strict=True) if status == 302)
    db.session.rollback()
    decision = current(db)
    assert (decision.amount_pence, decision.version) == (int(won) * 100, 2)
    assert db.session.scalar(sa.select(Grant.amount_pence)) == int(won) * 100
    assert messages(db, UPDATED) == 2, "one message to each of the two members"
