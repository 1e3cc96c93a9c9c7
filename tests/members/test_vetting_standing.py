"""Leaving good standing through vetting: members tells the capabilities by a signal, with the staff choice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foundation.members.models import OrganisationStatus
from foundation.members.signals import StandingChange, organisation_standing_changed
from tests.factories import login, make_org, make_user


@pytest.fixture
def staff(db):
    return make_user(email="vera@wypf.org.uk", name="Vera Vetting", staff=True)


@pytest.fixture
def heard() -> Iterator[list[StandingChange]]:
    changes: list[StandingChange] = []

    def listen(sender, change: StandingChange, **_):
        changes.append(change)
        return "Listener did its part."

    organisation_standing_changed.connect(listen)
    yield changes
    organisation_standing_changed.disconnect(listen)


def post(client, org, action: str, cancel: bool = False):
    data = {"action": action, "message": "Our checks found a problem."}
    if cancel:
        data["cancel_future_bookings"] = "y"
    return client.post(f"/staff/organisations/{org.id}", data=data)


@pytest.mark.parametrize(
    ("start", "action", "cancel"),
    [
        (OrganisationStatus.APPROVED, "suspend", True),
        (OrganisationStatus.APPROVED, "suspend", False),
        (OrganisationStatus.PENDING, "reject", True),
        (OrganisationStatus.CHANGES_REQUESTED, "reject", False),
    ],
)
def test_suspending_or_rejecting_sends_the_organisation_and_the_choice(
    client, db, staff, heard, start, action, cancel
):
    org = make_org(make_user(), status=start, name="Lacock Youth Club")
    login(client, staff)
    resp = post(client, org, action, cancel)
    assert resp.status_code == 302
    assert heard == [
        StandingChange(organisation_id=org.id, by_user_id=staff.id, cancel_future_bookings=cancel)
    ]
    page = client.get(resp.location).get_data(as_text=True)
    assert "Listener did its part." in page, "what the capabilities did is reported to staff"


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (OrganisationStatus.PENDING, "approve"),
        (OrganisationStatus.SUSPENDED, "approve"),
        (OrganisationStatus.PENDING, "request_changes"),
    ],
)
def test_other_decisions_send_nothing(client, db, staff, heard, start, action):
    org = make_org(make_user(), status=start)
    login(client, staff)
    assert post(client, org, action, cancel=True).status_code == 302
    assert heard == []


def test_a_refused_decision_sends_nothing(client, db, staff, heard):
    org = make_org(make_user(), status=OrganisationStatus.APPROVED)
    login(client, staff)
    resp = client.post(
        f"/staff/organisations/{org.id}", data={"action": "suspend", "cancel_future_bookings": "y"}
    )
    assert resp.status_code == 422
    assert heard == []
