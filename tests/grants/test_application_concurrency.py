"""References under real concurrency: many organisations submit to one round at the same moment (PostgreSQL).

The app runs in Werkzeug's threaded server; each request has its own thread, app context and database session.
Every client signs in first, then all wait at a barrier and post their submit together. The round row is locked
(SELECT ... FOR UPDATE) while the next reference is taken, so the numbers come out distinct and consecutive, and
a submission that loses a race takes no number.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from foundation.grants.models import Answer, Application, ApplicationStatus, GrantRound
from tests.factories import add_member, make_org, make_user
from tests.grants.factories import make_application, make_round
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import all_at_once, signed_in

pytestmark = pytest.mark.postgres_only

ORGANISATIONS = 12


def complete_draft(round_, org, by):
    app = make_application(round_, org, by=by, status=ApplicationStatus.DRAFT)
    for q in round_.questions:
        app.answers.append(Answer(question_id=q.id, text="Young people run the steering group."))
    return app


def test_simultaneous_submissions_get_distinct_consecutive_references(db, backend, live_server):  # noqa: F811
    assert backend == "postgresql"
    round_ = make_round()
    people = []
    drafts = []
    for i in range(ORGANISATIONS):
        user = make_user(email=f"applicant{i}@example.org")
        drafts.append(complete_draft(round_, make_org(user, name=f"Wiltshire Group {i}"), user))
        people.append(user)
    db.session.commit()
    # Plain values for the client threads, which have no database session.
    posts = [(f"/grants/applications/{d.id}/submit", {"version": str(d.version)}) for d in drafts]
    browsers = signed_in(live_server, [p.email for p in people])

    results = all_at_once(
        [
            (lambda b=b, path=path, data=data: b.post(path, data))
            for b, (path, data) in zip(browsers, posts, strict=True)
        ]
    )

    assert Counter(status for status, _ in results) == {303: ORGANISATIONS}, [r[0] for r in results]
    db.session.rollback()
    references = db.session.scalars(
        sa.select(Application.reference).where(Application.round_id == round_.id)
    ).all()
    prefix = round_.reference_prefix
    assert all(re.fullmatch(rf"{prefix}-\d{{4}}", ref) for ref in references), references
    numbers = sorted(int(ref[-4:]) for ref in references)
    assert numbers == list(range(1, ORGANISATIONS + 1)), numbers
    assert db.session.get(GrantRound, round_.id).next_reference == ORGANISATIONS + 1


def test_two_members_submitting_the_same_application_at_once_take_one_number(db, backend, live_server):  # noqa: F811
    round_ = make_round()
    ada = make_user(email="ada@example.org")
    cal = make_user(email="cal@example.org")
    org = make_org(ada, name="Malmesbury Youth Hub")
    add_member(org, cal)
    application = complete_draft(round_, org, ada)
    db.session.commit()
    path, data = f"/grants/applications/{application.id}/submit", {"version": str(application.version)}
    browsers = signed_in(live_server, [ada.email, cal.email] * 3)

    results = all_at_once([(lambda b=b: b.post(path, data)) for b in browsers])

    # Each is answered with the application: one submitted it, the others hear it was already submitted.
    statuses = Counter(status for status, _ in results)
    assert statuses == {303: len(browsers)}, statuses
    told = Counter(
        _flashed(browser, live_server, f"/grants/applications/{application.id}") for browser in browsers
    )
    assert told == {"submitted": 1, "already": len(browsers) - 1}, told
    db.session.rollback()
    saved = db.session.get(Application, application.id)
    assert saved.status is ApplicationStatus.SUBMITTED and saved.reference.endswith("-0001")
    assert db.session.get(GrantRound, round_.id).next_reference == 2, "the losing requests took no number"


def _flashed(browser, server, path: str) -> str:
    with browser.opener.open(server(path), timeout=60) as resp:
        body = resp.read().decode()
    if "This application was already submitted on" in body:
        return "already"
    return "submitted" if "Application submitted. Its reference is" in body else "neither"


def test_two_members_starting_at_once_make_one_application(db, backend, live_server):  # noqa: F811
    round_ = make_round()
    ada = make_user(email="ada@example.org")
    org = make_org(ada, name="Westbury Youth Trust")
    colleagues = [ada]
    for i in range(5):
        person = make_user(email=f"colleague{i}@example.org")
        add_member(org, person)
        colleagues.append(person)
    db.session.commit()
    path, data = f"/grants/rounds/{round_.id}/apply", {"organisation_id": str(org.id)}
    browsers = signed_in(live_server, [p.email for p in colleagues])

    results = all_at_once([(lambda b=b: b.post(path, data)) for b in browsers])

    statuses = Counter(status for status, _ in results)
    assert statuses == {303: 1, 409: len(browsers) - 1}, statuses
    assert all(
        "already has an application in this round" in body for status, body in results if status == 409
    )
    db.session.rollback()
    count = db.session.scalar(
        sa.select(sa.func.count(Application.id)).where(Application.round_id == round_.id)
    )
    assert count == 1
