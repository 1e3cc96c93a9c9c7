"""Numbers too large for a database integer, in URLs, forms and query strings: not found or a field error, never 500."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from foundation.grants.models import RoundStatus
from foundation.types import london_today
from foundation.venues.models import OccurrenceStatus
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application, make_round
from tests.venues.factories import make_booker, make_booking, make_space, make_venue

HUGE = "99999999999999999999999"
JUST_OVER = str(2**31)
BEYOND_64_BITS = str(2**63)
LARGEST = str(2**31 - 1)


def _int_get_paths(app, number: str) -> list[str]:
    """Every GET route with an integer argument, each integer set to `number` and any other argument to "x"."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:[^>]+>", number, rule.rule)
        paths.append(re.sub(r"<[^>]+>", "x", path))
    return sorted(paths)


@pytest.mark.parametrize("number", [HUGE, BEYOND_64_BITS, JUST_OVER, LARGEST])
def test_every_integer_route_answers_404_for_a_number_no_row_can_have(app, client, db, number):
    staff = make_user(staff=True)
    login(client, staff)
    paths = _int_get_paths(app, number)
    assert len(paths) > 30  # the walk really covers the site
    answers = {path: client.get(path).status_code for path in paths}
    assert {path: code for path, code in answers.items() if code != 404} == {}


def test_a_real_id_still_routes(client, db):
    org = make_org(make_user())
    venue = make_venue(org)
    assert client.get(f"/venues/{venue.id}").status_code == 200


# --- forms and query strings -------------------------------------------------------------------------------------


@pytest.fixture
def booking_world(db):
    owner, owner_org = make_booker()
    space = make_space(make_venue(owner_org), needs_approval=True)
    booker, booker_org = make_booker()
    day = london_today() + timedelta(days=14)
    confirmed = make_booking(space, booker_org, day, day + timedelta(days=14), weekdays=[day.weekday()])
    pending = make_booking(space, booker_org, day, status=OccurrenceStatus.REQUESTED, start=time(9))
    return {"owner": owner, "booker": booker, "booker_org": booker_org, "space": space,
            "confirmed": confirmed, "pending": pending}  # fmt: skip


def test_cancelling_a_date_with_a_huge_occurrence_id_is_a_field_error(client, db, booking_world):
    booking = booking_world["confirmed"]
    login(client, booking_world["booker"])

    page = client.get(f"/bookings/{booking.id}/cancel?scope=one&occurrence_id={HUGE}")
    assert page.status_code in (200, 422)
    resp = client.post(f"/bookings/{booking.id}/cancel", data={"scope": "one", "occurrence_id": HUGE})

    assert resp.status_code == 422
    assert "Choose a date of this booking." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert all(o.status is OccurrenceStatus.CONFIRMED for o in booking.occurrences)


def test_deciding_dates_with_a_huge_occurrence_id_is_refused(client, db, booking_world):
    booking = booking_world["pending"]
    login(client, booking_world["owner"])

    resp = client.post(
        f"/bookings/{booking.id}/decide", data={"decision": "approve", "occurrence_ids": [HUGE]}
    )

    assert resp.status_code == 422
    db.session.expire_all()
    assert all(o.status is OccurrenceStatus.REQUESTED for o in booking.occurrences)


def test_booking_for_a_huge_organisation_id_is_a_field_error(client, db, booking_world):
    login(client, booking_world["booker"])
    day = london_today() + timedelta(days=20)
    resp = client.post(
        f"/spaces/{booking_world['space'].id}/book",
        data={"organisation_id": HUGE, "purpose": "Club", "expected_attendance": "10",
              "first_date": day.isoformat(), "start_time": "18:00", "end_time": "19:00", "repeat": "one_off"},
    )  # fmt: skip
    assert resp.status_code == 422


@pytest.fixture
def grants_world(db):
    staff = make_user(staff=True)
    admin = make_user()
    org = make_org(admin)
    round_ = make_round(status=RoundStatus.IN_REVIEW, by=staff)
    application = make_application(round_, org, by=admin)
    return {"staff": staff, "admin": admin, "org": org, "round": round_, "application": application}


@pytest.mark.parametrize(
    "data",
    [
        {"action": "remind", "remind-reviewer_id": HUGE},
        {"action": "unassign", "unassign-assignment_id": HUGE},
        {"action": "assign", "assign-application_id": HUGE, "assign-reviewer_id": HUGE},
        {"action": "bulk", "bulk-per_application": HUGE},
    ],
    ids=["remind", "unassign", "assign", "bulk"],
)
def test_reviewer_actions_with_huge_ids_are_field_errors(client, db, grants_world, data):
    login(client, grants_world["staff"])
    resp = client.post(f"/staff/grants/rounds/{grants_world['round'].id}/reviewers", data=data)
    assert resp.status_code == 422


def test_declining_with_a_huge_reason_id_is_a_field_error(client, db, grants_world):
    login(client, grants_world["staff"])
    application = grants_world["application"]
    resp = client.post(
        f"/staff/grants/applications/{application.id}/decide",
        data={"outcome": "decline", "decline_reason": HUGE, "feedback": "Not this time."},
    )
    assert resp.status_code == 422
    db.session.expire_all()
    assert application.decision is None


def test_starting_an_application_for_a_huge_organisation_id_is_a_field_error(client, db):
    admin = make_user()
    make_org(admin)
    round_ = make_round()
    login(client, admin)
    resp = client.post(f"/grants/rounds/{round_.id}/apply", data={"organisation_id": HUGE})
    assert resp.status_code == 422


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/staff/grants/applications?round={HUGE}", 200),
        (f"/grants/ledger?page={HUGE}", 200),
        (f"/staff/grants/fund?page={HUGE}", 200),
        (f"/members?page={HUGE}", 200),
        (f"/venues?page={HUGE}", 200),
        (f"/venues?capacity={HUGE}", 400),
        (f"/api/venues?page={HUGE}", 400),
        (f"/api/venues?per_page={HUGE}", 400),
    ],
)
def test_huge_numbers_in_query_strings_never_fail(client, db, grants_world, path, expected):
    login(client, grants_world["staff"])
    assert client.get(path).status_code == expected
