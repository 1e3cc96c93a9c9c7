"""An application submitted twice (a second click, the back button, a colleague at the same moment) is answered
with "already submitted" and the application, not with someone else's conflicting changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.grants.models import ApplicationEvent, ApplicationStatus, GrantRound
from foundation.notifications.models import Notification
from tests.factories import login
from tests.grants.factories import make_application, make_round
from tests.grants.test_application_views import draft, form_data, fresh, page

ALREADY = "This application was already submitted on"
CONFLICT = "Someone else saved changes"


@pytest.fixture
def round_(db):
    return make_round(name="Spring seed grants", min_award_pence=50_000, max_award_pence=500_000)


def staff_told(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.subject.like("Application%submitted:%"))
    )


def submitted_events(db, application) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(ApplicationEvent.id)).where(ApplicationEvent.application_id == application.id)
    )


@pytest.mark.parametrize("with_changes", [True, False], ids=["from the form", "bare submit"])
def test_the_same_submit_twice_answers_already_submitted(client, db, round_, org, ada, staff, with_changes):
    application = draft(round_, org, ada)
    login(client, ada)
    loaded = application.version
    data = form_data(round_, loaded) if with_changes else {"version": str(loaded)}
    path = f"/grants/applications/{application.id}/submit"

    first = client.post(path, data=data)
    events = submitted_events(db, application)
    again = client.post(path, data=data)

    assert first.status_code == again.status_code == 303
    assert again.location == first.location
    saved = fresh(db, application)
    body = page(client.get(again.location))
    assert f"{ALREADY} " in body and f"(reference {saved.reference}). Nothing was sent again." in body
    assert CONFLICT not in body
    assert saved.status is ApplicationStatus.SUBMITTED and saved.reference.endswith("-0001")
    assert db.session.get(GrantRound, round_.id).next_reference == 2
    assert staff_told(db) == 1, "staff are told once"
    assert submitted_events(db, application) == events, "the history records one submission"


def test_a_resubmission_sent_twice_is_answered_the_same_way(client, db, round_, org, ada, staff):
    application = make_application(round_, org, by=ada, status=ApplicationStatus.MORE_INFO_REQUESTED)
    login(client, ada)
    data = form_data(round_, application.version)
    path = f"/grants/applications/{application.id}/submit"
    assert client.post(path, data=data).status_code == 303
    again = client.post(path, data=data)
    assert again.status_code == 303
    assert ALREADY in page(client.get(again.location))


def test_a_stale_form_on_a_draft_is_still_someone_elses_changes(client, db, round_, org, ada):
    """The draft was saved by a colleague, not submitted: that is a real conflict, and says so."""
    application = draft(round_, org, ada)
    login(client, ada)
    stale = application.version
    assert (
        client.post(f"/grants/applications/{application.id}", data=form_data(round_, stale)).status_code
        == 303
    )
    resp = client.post(f"/grants/applications/{application.id}/submit", data={"version": str(stale)})
    assert resp.status_code == 409 and CONFLICT in page(resp)
    assert fresh(db, application).status is ApplicationStatus.DRAFT


def test_a_withdrawn_application_is_not_called_submitted(client, db, round_, org, ada):
    application = make_application(round_, org, by=ada)
    login(client, ada)
    assert (
        client.post(f"/grants/applications/{application.id}/withdraw", data={"reason": "Changed plans."})
    ).status_code == 303
    resp = client.post(
        f"/grants/applications/{application.id}/submit", data={"version": str(fresh(db, application).version)}
    )
    assert resp.status_code == 409 and ALREADY not in page(resp)
