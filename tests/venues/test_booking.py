"""Booking services: who may book, the venue's rules, clashes, approval, cancellation and extension."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.members.models import MemberRole, OrganisationStatus
from foundation.notifications.models import Notification
from foundation.types import utcnow
from foundation.venues import approvals, cancellations
from foundation.venues import booking as svc
from foundation.venues.booking import BookingClash, DateState
from foundation.venues.cancellations import CancelScope
from foundation.venues.models import Booking, Occurrence, OccurrenceStatus, SpaceOccupancy
from tests.conftest import text_of
from tests.factories import add_member, make_org, make_user
from tests.venues.factories import (
    add_closure,
    booking_request,
    make_booker,
    make_booking,
    make_space,
    make_venue,
)

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a Tuesday
MON = date(2026, 9, 7)
CONFIRMED, REQUESTED = OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED
CANCELLED, DECLINED = OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED


@pytest.fixture(autouse=True)
def _request_context(app):
    # Services build links for their messages with url_for, as they do inside a request.
    with app.test_request_context("/"):
        yield


@pytest.fixture
def owner(db):
    admin = make_user(email="owner-admin@example.org", name="Olive Owner")
    org = make_org(admin=admin, name="Calne Community Trust")
    return admin, org


@pytest.fixture
def venue(owner):
    return make_venue(owner[1], name="Calne Youth Centre")


@pytest.fixture
def hall(venue):
    return make_space(venue, "Main hall", capacity=100)


@pytest.fixture
def booker(db):
    return make_booker(email="booker@scouts.example.org", name="Chippenham Scouts")


def statuses(booking: Booking) -> list[OccurrenceStatus]:
    return [o.status for o in sorted(booking.occurrences, key=lambda o: o.starts_at)]


def holds(db, space=None) -> int:
    stmt = sa.select(sa.func.count(SpaceOccupancy.id))
    if space is not None:
        stmt = stmt.where(SpaceOccupancy.space_id == space.id)
    return db.session.scalar(stmt)


def subject(msg) -> str:
    # A long subject is folded onto the next line, and the parser keeps the fold's leading space.
    return str(msg["Subject"]).strip()


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- booking without approval ------------------------------------------------------------------------------------


def test_one_off_booking_of_a_space_without_approval_is_confirmed_and_holds_the_slot(
    db, hall, booker, mailbox
):
    user, org = booker
    req = booking_request(hall, org, user, MON)
    plan = svc.plan_booking(req, NOW)
    assert [d.state for d in plan.dates] == [DateState.AVAILABLE]
    assert count(db, Booking) == 0, "planning writes nothing"

    booking = svc.book_space(req, [MON], NOW)
    db.session.commit()
    assert statuses(booking) == [CONFIRMED]
    occ = booking.occurrences[0]
    assert occ.starts_at == datetime(2026, 9, 7, 17, 0, tzinfo=UTC)  # 18:00 BST
    assert holds(db, hall) == 1
    assert booking.booked_by_id == user.id and booking.organisation_id == org.id
    # The venue's admins hear about a booking at their venue.
    assert "has booked Main hall" in text_of(mailbox.last_to("owner-admin@example.org"))


def test_weekly_booking_on_chosen_weekdays_for_a_number_of_weeks(db, hall, booker):
    user, org = booker
    req = booking_request(hall, org, user, MON, weekdays=(0, 2), weeks=3)
    plan = svc.plan_booking(req, NOW)
    days = [d.day for d in plan.dates]
    assert days == [
        date(2026, 9, 7), date(2026, 9, 9), date(2026, 9, 14), date(2026, 9, 16), date(2026, 9, 21), date(2026, 9, 23),
    ]  # fmt: skip
    booking = svc.book_space(req, days, NOW)
    db.session.commit()
    assert booking.weekday_list == [0, 2] and booking.last_date == date(2026, 9, 23)
    assert statuses(booking) == [CONFIRMED] * 6
    assert holds(db) == 6


def test_the_booker_can_drop_dates_and_only_the_chosen_ones_are_written(db, hall, booker):
    user, org = booker
    req = booking_request(hall, org, user, MON, weekdays=(0,), until=date(2026, 9, 28))
    booking = svc.book_space(req, [date(2026, 9, 7), date(2026, 9, 21)], NOW)
    db.session.commit()
    assert [o.starts_at.date() for o in booking.occurrences] == [date(2026, 9, 7), date(2026, 9, 21)]


def test_a_date_outside_the_series_or_none_at_all_is_refused(db, hall, booker):
    user, org = booker
    req = booking_request(hall, org, user, MON, weekdays=(0,), weeks=2)
    with pytest.raises(DomainError) as exc:
        svc.book_space(req, [date(2026, 9, 8)], NOW)
    assert exc.value.field == "dates" and "not one of the dates" in exc.value.message
    with pytest.raises(DomainError, match="Choose at least one date"):
        svc.book_space(req, [], NOW)


# --- who may book ------------------------------------------------------------------------------------------------


def test_organisation_not_in_good_standing_cannot_book(db, hall):
    user = make_user()
    org = make_org(admin=user, valid_until=date.today() - timedelta(days=1))
    with pytest.raises(NotAllowed) as exc:
        svc.plan_booking(booking_request(hall, org, user, MON), NOW)
    assert exc.value.field == "organisation_id"
    assert "not in good standing" not in exc.value.message  # the message says what to fix instead
    assert "cannot book venues until it is in good standing" in exc.value.message
    assert "insurance expired" in exc.value.message
    with pytest.raises(NotAllowed):
        svc.book_space(booking_request(hall, org, user, MON), [MON], NOW)
    db.session.rollback()
    assert count(db, Booking) == 0


def test_unapproved_organisation_cannot_book(db, hall):
    user = make_user()
    org = make_org(admin=user, status=OrganisationStatus.PENDING)
    with pytest.raises(NotAllowed, match="not approved"):
        svc.plan_booking(booking_request(hall, org, user, MON), NOW)


def test_only_members_book_for_an_organisation(db, hall, booker):
    _, org = booker
    stranger = make_user()
    with pytest.raises(NotAllowed, match="not a member"):
        svc.book_space(booking_request(hall, org, stranger, MON), [MON], NOW)


def test_archived_venue_or_space_takes_no_bookings(db, venue, hall, booker):
    user, org = booker
    hall.archived_at = utcnow()
    with pytest.raises(DomainError, match="no longer taking bookings"):
        svc.plan_booking(booking_request(hall, org, user, MON), NOW)
    hall.archived_at = None
    venue.archived_at = utcnow()
    with pytest.raises(DomainError, match="no longer taking bookings"):
        svc.book_space(booking_request(hall, org, user, MON), [MON], NOW)


# --- the venue's rules -------------------------------------------------------------------------------------------


def test_attendance_over_capacity_is_refused_at_the_field(db, venue, booker):
    room = make_space(venue, "Meeting room", capacity=12)
    user, org = booker
    with pytest.raises(DomainError) as exc:
        svc.plan_booking(booking_request(room, org, user, MON, attendance=13), NOW)
    assert exc.value.field == "expected_attendance"
    assert exc.value.message == "Meeting room holds up to 12 people; you expect 13."


def test_longer_than_the_longest_booking_is_refused(db, owner, booker):
    venue = make_venue(owner[1], max_booking_minutes=120)
    room = make_space(venue)
    user, org = booker
    svc.plan_booking(
        booking_request(room, org, user, MON, start=time(18), end=time(20)), NOW
    )  # exactly 2h: fine
    with pytest.raises(DomainError) as exc:
        svc.plan_booking(booking_request(room, org, user, MON, start=time(18), end=time(20, 30)), NOW)
    assert exc.value.field == "end_time" and "is 2 hours" in exc.value.message


def test_closure_outside_hours_notice_and_too_far_ahead_are_refused_per_date(db, owner, booker):
    venue = make_venue(owner[1], name="Devizes Hall", opens=time(9), closes=time(21), weekdays=range(5),
                       min_notice_hours=48, max_days_ahead=30)  # fmt: skip
    add_closure(venue, date(2026, 9, 14), date(2026, 9, 15), reason="Floor being sanded")
    room = make_space(venue, "Hall")
    user, org = booker
    plan = svc.plan_booking(
        booking_request(room, org, user, date(2026, 9, 2), weekdays=(0, 2, 5), until=date(2026, 10, 7)), NOW
    )
    by_day = {d.day: d for d in plan.dates}
    assert by_day[date(2026, 9, 2)].reasons == ["Devizes Hall needs at least 48 hours' notice."]
    assert by_day[date(2026, 9, 7)].bookable
    assert by_day[date(2026, 9, 5)].reasons == ["Devizes Hall is closed on Saturdays."]
    assert by_day[date(2026, 9, 14)].reasons == [
        "Devizes Hall is closed on 14 September 2026: Floor being sanded."
    ]
    assert by_day[date(2026, 10, 5)].reasons == [
        "Devizes Hall takes bookings up to 30 days ahead (until 1 October 2026)."
    ]
    assert {d.state for d in plan.dates if not d.bookable} == {DateState.REFUSED}

    late = svc.plan_booking(booking_request(room, org, user, MON, start=time(20), end=time(22)), NOW)
    assert late.dates[0].problems[0].field == "start_time"
    assert late.dates[0].reasons == ["Outside opening hours: open 09:00–21:00 on Mondays."]

    with pytest.raises(DomainError) as exc:
        svc.book_space(booking_request(room, org, user, date(2026, 9, 14)), [date(2026, 9, 14)], NOW)
    assert exc.value.status_code == 422 and exc.value.field == "dates"
    assert "Floor being sanded" in exc.value.message
    db.session.rollback()
    assert count(db, Booking) == 0


def test_a_time_that_has_passed_cannot_be_booked(db, hall, booker):
    user, org = booker
    plan = svc.plan_booking(booking_request(hall, org, user, date(2026, 8, 31)), NOW)
    assert plan.dates[0].reasons == ["That time has passed."]


# --- clashes -----------------------------------------------------------------------------------------------------


def test_clashing_dates_are_shown_in_the_plan_and_refused_with_409_naming_them(db, hall, booker):
    user, org = booker
    other = make_org()
    make_booking(hall, other, date(2026, 9, 14), start=time(17), end=time(18, 30))
    db.session.commit()
    req = booking_request(hall, org, user, MON, weekdays=(0,), weeks=3)
    plan = svc.plan_booking(req, NOW)
    assert [d.state for d in plan.dates] == [DateState.AVAILABLE, DateState.CLASH, DateState.AVAILABLE]
    assert plan.dates[1].reasons == ["Already booked: 17:00–18:30."]

    with pytest.raises(BookingClash) as exc:
        svc.book_space(req, [d.day for d in plan.dates], NOW)
    assert exc.value.status_code == 409 and exc.value.field == "dates"
    assert exc.value.dates == [date(2026, 9, 14)]
    assert "Already booked at that time: Mon 14 Sep 2026, 18:00–19:30." in exc.value.message
    db.session.rollback()
    assert count(db, Booking) == 1  # only the other group's

    booking = svc.book_space(req, [date(2026, 9, 7), date(2026, 9, 21)], NOW)
    db.session.commit()
    assert statuses(booking) == [CONFIRMED, CONFIRMED]


def test_back_to_back_bookings_do_not_clash(db, hall, booker):
    user, org = booker
    make_booking(hall, make_org(), MON, start=time(16), end=time(18))
    svc.book_space(booking_request(hall, org, user, MON, start=time(18), end=time(20)), [MON], NOW)
    db.session.commit()
    assert holds(db, hall) == 2


def test_cancelled_and_declined_bookings_do_not_block(db, hall, booker):
    user, org = booker
    make_booking(hall, make_org(), MON, status=CANCELLED)
    make_booking(hall, make_org(), MON, status=DECLINED)
    svc.book_space(booking_request(hall, org, user, MON), [MON], NOW)


def test_whole_hall_blocks_both_halves_and_a_half_blocks_the_whole(db, venue, booker):
    user, org = booker
    hall = make_space(venue, "Hall", capacity=120)
    stage = make_space(venue, "Hall, stage end", parent=hall)
    kitchen = make_space(venue, "Hall, kitchen end", parent=hall)
    rival_user, rival = make_booker()
    whole = svc.book_space(booking_request(hall, rival, rival_user, MON), [MON], NOW)
    db.session.commit()
    assert {h.space_id for h in db.session.scalars(sa.select(SpaceOccupancy))} == {
        hall.id,
        stage.id,
        kitchen.id,
    }
    for half in (stage, kitchen):
        assert svc.plan_booking(booking_request(half, org, user, MON), NOW).dates[0].state is DateState.CLASH
        with pytest.raises(BookingClash):
            svc.book_space(booking_request(half, org, user, MON), [MON], NOW)
        db.session.rollback()

    cancellations.cancel(db.session.get(Booking, whole.id), CancelScope.SERIES, rival_user, now=NOW)
    db.session.commit()
    assert holds(db) == 0
    svc.book_space(booking_request(stage, org, user, MON), [MON], NOW)
    svc.book_space(booking_request(kitchen, org, user, MON), [MON], NOW)  # the two halves side by side
    db.session.commit()
    assert svc.plan_booking(booking_request(hall, org, user, MON), NOW).dates[0].state is DateState.CLASH
    with pytest.raises(BookingClash):
        svc.book_space(booking_request(hall, org, user, MON), [MON], NOW)


# --- approval ----------------------------------------------------------------------------------------------------


@pytest.fixture
def approval_hall(venue):
    return make_space(venue, "Sports hall", capacity=80, needs_approval=True)


def test_space_needing_approval_takes_a_request_that_does_not_hold_the_slot(
    db, approval_hall, booker, mailbox
):
    user, org = booker
    booking = svc.book_space(
        booking_request(approval_hall, org, user, MON, weekdays=(0,), weeks=2), [MON, MON + timedelta(7)], NOW
    )
    db.session.commit()
    assert statuses(booking) == [REQUESTED, REQUESTED]
    assert holds(db) == 0
    msg = mailbox.last_to("owner-admin@example.org")
    assert subject(msg).startswith("Booking request: Sports hall, Calne Youth Centre")
    assert "not held until you approve" in text_of(msg)

    # Another group sees the slot as free, with a note that someone has asked for it.
    plan = svc.plan_booking(booking_request(approval_hall, org, user, MON), NOW)
    assert plan.dates[0].state is DateState.AVAILABLE and plan.dates[0].pending_requests == 1


def test_the_owner_books_its_own_space_without_asking(db, approval_hall, owner):
    admin, org = owner
    booking = svc.book_space(booking_request(approval_hall, org, admin, MON), [MON], NOW)
    assert statuses(booking) == [CONFIRMED]


def test_owner_approves_a_whole_series_and_the_booker_is_told(db, approval_hall, owner, booker, mailbox):
    admin, _ = owner
    user, org = booker
    days = [MON, MON + timedelta(7), MON + timedelta(14)]
    booking = svc.book_space(
        booking_request(approval_hall, org, user, MON, weekdays=(0,), weeks=3), days, NOW
    )
    db.session.commit()
    queue = approvals.request_queue([owner[1].id], NOW)
    assert [item.booking.id for item in queue] == [booking.id]
    assert queue[0].standing.ok and len(queue[0].occurrences) == 3

    approved = approvals.approve(booking, [o.id for o in booking.occurrences], admin, NOW)
    db.session.commit()
    assert len(approved) == 3 and statuses(booking) == [CONFIRMED] * 3
    assert holds(db, approval_hall) == 3
    assert all(o.decided_by_id == admin.id for o in booking.occurrences)
    msg = mailbox.last_to("booker@scouts.example.org")
    assert subject(msg) == "Booking approved: Sports hall, Calne Youth Centre"
    assert "Mon 21 Sep 2026, 18:00–19:30" in text_of(msg)
    assert approvals.request_queue([owner[1].id], NOW) == []


def test_owner_approves_single_dates_and_declines_others_with_a_reason(
    db, approval_hall, owner, booker, mailbox
):
    admin, _ = owner
    user, org = booker
    days = [MON, MON + timedelta(7), MON + timedelta(14)]
    booking = svc.book_space(
        booking_request(approval_hall, org, user, MON, weekdays=(0,), weeks=3), days, NOW
    )
    db.session.commit()
    first, second, third = booking.occurrences
    approvals.approve(booking, [first.id], admin, NOW)
    approvals.decline(booking, [second.id, third.id], admin, "The hall is set up for exams those weeks.", NOW)
    db.session.commit()
    assert statuses(booking) == [CONFIRMED, DECLINED, DECLINED]
    assert holds(db) == 1
    msg = mailbox.last_to("booker@scouts.example.org")
    assert subject(msg) == "Booking declined: Sports hall, Calne Youth Centre"
    assert "set up for exams" in text_of(msg)

    with pytest.raises(IllegalTransition, match="declined"):
        approvals.approve(booking, [second.id], admin, NOW)
    with pytest.raises(
        IllegalTransition, match="Already decided: Mon 7 Sep 2026, 18:00–19:30 \\(confirmed\\)"
    ):
        approvals.approve(booking, [first.id], admin, NOW)


def test_two_conflicting_requests_cannot_both_be_approved(db, approval_hall, owner, booker):
    admin, _ = owner
    user, org = booker
    rival_user, rival = make_booker(email="rival@example.org")
    first = svc.book_space(
        booking_request(approval_hall, org, user, MON, weekdays=(0,), weeks=2), [MON, MON + timedelta(7)], NOW
    )
    second = svc.book_space(
        booking_request(approval_hall, rival, rival_user, MON + timedelta(7), start=time(19), end=time(21)),
        [MON + timedelta(7)],
        NOW,
    )
    db.session.commit()
    queue = {item.booking.id: item for item in approvals.request_queue([owner[1].id], NOW)}
    clashing_occ = second.occurrences[0]
    assert queue[second.id].competing[clashing_occ.id] == 1

    approvals.approve(first, None, admin, NOW)
    db.session.commit()
    queue = {item.booking.id: item for item in approvals.request_queue([owner[1].id], NOW)}
    assert queue[second.id].clashes[clashing_occ.id], "the queue shows the clash with the approved booking"

    with pytest.raises(BookingClash) as exc:
        approvals.approve(second, None, admin, NOW)
    assert exc.value.status_code == 409 and exc.value.dates == [date(2026, 9, 14)]
    assert "Mon 14 Sep 2026, 19:00–21:00" in exc.value.message
    db.session.rollback()
    assert statuses(db.session.get(Booking, second.id)) == [REQUESTED]


def test_a_request_does_not_hold_the_slot_against_a_confirmed_booking(db, approval_hall, owner, booker):
    admin, owner_org = owner
    user, org = booker
    request = svc.book_space(booking_request(approval_hall, org, user, MON), [MON], NOW)
    svc.book_space(booking_request(approval_hall, owner_org, admin, MON), [MON], NOW)  # confirmed at once
    db.session.commit()
    with pytest.raises(BookingClash):
        approvals.approve(request, None, admin, NOW)


def test_only_the_venues_admins_decide(db, approval_hall, owner, booker):
    _, owner_org = owner
    user, org = booker
    booking = svc.book_space(booking_request(approval_hall, org, user, MON), [MON], NOW)
    plain_member = make_user()
    add_member(owner_org, plain_member, MemberRole.MEMBER)
    for who in (user, plain_member, make_user()):
        db.session.refresh(who)
        with pytest.raises(NotAllowed):
            approvals.approve(booking, None, who, NOW)
        with pytest.raises(NotAllowed):
            approvals.decline(booking, None, who, None, NOW)


def test_a_date_that_has_passed_can_be_declined_but_not_approved(db, approval_hall, owner, booker):
    admin, _ = owner
    user, org = booker
    booking = svc.book_space(booking_request(approval_hall, org, user, MON), [MON], NOW)
    db.session.commit()
    later = datetime(2026, 9, 8, tzinfo=UTC)
    with pytest.raises(DomainError, match="have passed"):
        approvals.approve(booking, None, admin, later)
    approvals.decline(booking, None, admin, None, later)
    assert statuses(booking) == [DECLINED]


# --- cancellation ------------------------------------------------------------------------------------------------


@pytest.fixture
def series(db, hall, booker):
    user, org = booker
    days = [MON + timedelta(7 * i) for i in range(4)]
    booking = svc.book_space(booking_request(hall, org, user, MON, weekdays=(0,), weeks=4), days, NOW)
    db.session.commit()
    return booking


def test_cancel_one_date_frees_it(db, hall, series, booker):
    user, _ = booker
    second = series.occurrences[1]
    done = cancellations.cancel(series, CancelScope.ONE, user, second.id, now=NOW)
    db.session.commit()
    assert [o.id for o in done] == [second.id]
    assert statuses(series) == [CONFIRMED, CANCELLED, CONFIRMED, CONFIRMED]
    assert holds(db) == 3
    other_user, other = make_booker()
    svc.book_space(booking_request(hall, other, other_user, MON + timedelta(7)), [MON + timedelta(7)], NOW)

    with pytest.raises(IllegalTransition, match="already cancelled"):
        cancellations.cancel(series, CancelScope.ONE, user, second.id, now=NOW)


def test_cancel_this_and_following(db, series, booker):
    user, _ = booker
    cancellations.cancel(series, CancelScope.FOLLOWING, user, series.occurrences[2].id, now=NOW)
    db.session.commit()
    assert statuses(series) == [CONFIRMED, CONFIRMED, CANCELLED, CANCELLED]
    assert holds(db) == 2


def test_cancel_whole_series_leaves_dates_that_have_passed(db, series, booker):
    user, _ = booker
    after_first = datetime(2026, 9, 8, tzinfo=UTC)
    cancellations.cancel(series, CancelScope.SERIES, user, now=after_first)
    db.session.commit()
    assert statuses(series) == [CONFIRMED, CANCELLED, CANCELLED, CANCELLED]
    with pytest.raises(IllegalTransition, match="no upcoming dates"):
        cancellations.cancel(series, CancelScope.SERIES, user, now=after_first)
    with pytest.raises(IllegalTransition, match="passed"):
        cancellations.cancel(series, CancelScope.ONE, user, series.occurrences[0].id, now=after_first)


def test_any_member_of_the_booking_organisation_may_cancel_but_no_one_else(db, series, booker):
    _, org = booker
    colleague = make_user()
    add_member(org, colleague, MemberRole.MEMBER)
    db.session.refresh(colleague)
    with pytest.raises(NotAllowed):
        cancellations.cancel(series, CancelScope.SERIES, make_user(), now=NOW)
    cancellations.cancel(series, CancelScope.ONE, colleague, series.occurrences[0].id, now=NOW)


def test_owner_cancels_with_a_reason_and_the_booker_is_told(db, series, owner, mailbox):
    admin, _ = owner
    with pytest.raises(DomainError) as exc:
        cancellations.cancel(series, CancelScope.ONE, admin, series.occurrences[3].id, reason="  ", now=NOW)
    assert exc.value.field == "reason"
    cancellations.cancel(
        series, CancelScope.ONE, admin, series.occurrences[3].id, reason="Burst pipe in the hall.", now=NOW
    )
    db.session.commit()
    assert series.occurrences[3].status_reason == "Burst pipe in the hall."
    msg = mailbox.last_to("booker@scouts.example.org")
    assert subject(msg) == "Booking cancelled by Calne Community Trust: Main hall, Calne Youth Centre"
    assert "Burst pipe in the hall." in text_of(msg) and "Mon 28 Sep 2026, 18:00–19:30" in text_of(msg)


def test_booker_cancelling_tells_the_venue(db, series, booker, mailbox):
    user, _ = booker
    cancellations.cancel(
        series, CancelScope.ONE, user, series.occurrences[0].id, reason="Half term trip", now=NOW
    )
    db.session.commit()
    msg = mailbox.last_to("owner-admin@example.org")
    assert subject(msg).startswith("Booking cancelled by ")
    assert "Mon 7 Sep 2026" in text_of(msg)


# --- extending a series ------------------------------------------------------------------------------------------


def test_extending_a_series_never_brings_back_cancelled_or_declined_dates(db, approval_hall, owner, booker):
    admin, _ = owner
    user, org = booker
    days = [MON + timedelta(7 * i) for i in range(4)]
    booking = svc.book_space(
        booking_request(approval_hall, org, user, MON, weekdays=(0,), weeks=4), days, NOW
    )
    db.session.commit()
    occ = booking.occurrences
    approvals.approve(booking, [occ[0].id, occ[2].id, occ[3].id], admin, NOW)
    approvals.decline(booking, [occ[1].id], admin, None, NOW)
    cancellations.cancel(booking, CancelScope.ONE, user, occ[2].id, now=NOW)
    db.session.commit()

    plan = cancellations.plan_extension(booking, user, date(2026, 10, 19), NOW)
    assert [d.day for d in plan.dates] == [date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19)]
    added = cancellations.extend_booking(booking, user, date(2026, 10, 19), [d.day for d in plan.dates], NOW)
    db.session.commit()
    assert len(added) == 3
    assert statuses(booking) == [CONFIRMED, DECLINED, CANCELLED, CONFIRMED, REQUESTED, REQUESTED, REQUESTED]
    assert booking.last_date == date(2026, 10, 19)
    assert (
        db.session.scalar(sa.select(sa.func.count(Occurrence.id)).where(Occurrence.booking_id == booking.id))
        == 7
    )

    with pytest.raises(DomainError) as exc:
        cancellations.plan_extension(booking, user, date(2026, 10, 1), NOW)
    assert exc.value.field == "until"
    with pytest.raises(DomainError, match="Only a weekly"):
        cancellations.plan_extension(
            svc.book_space(
                booking_request(approval_hall, org, user, date(2026, 11, 2)), [date(2026, 11, 2)], NOW
            ),
            user,
            date(2026, 12, 1),
            NOW,
        )


def test_extension_refuses_clashing_new_dates(db, hall, series, booker):
    user, _ = booker
    make_booking(hall, make_org(), date(2026, 10, 12))
    plan = cancellations.plan_extension(series, user, date(2026, 10, 19), NOW)
    assert [d.state for d in plan.dates] == [DateState.AVAILABLE, DateState.CLASH, DateState.AVAILABLE]
    with pytest.raises(BookingClash):
        cancellations.extend_booking(series, user, date(2026, 10, 19), [d.day for d in plan.dates], NOW)


def test_only_the_booking_organisation_extends(db, series):
    with pytest.raises(NotAllowed):
        cancellations.plan_extension(series, make_user(), date(2026, 10, 19), NOW)


# --- the database's last word ------------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_a_clash_missed_by_the_check_is_refused_by_the_exclusion_constraint(
    db, backend, hall, booker, monkeypatch
):
    if backend != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    user, org = booker
    rival = make_org()
    real_plan = svc.plan_booking

    def plan_then_someone_else_books(req, now=None, exclude=()):
        plan = real_plan(req, now, exclude)
        make_booking(hall, rival, date(2026, 9, 14), start=time(19), end=time(20))  # slips in after the check
        return plan

    monkeypatch.setattr(svc, "plan_booking", plan_then_someone_else_books)
    req = booking_request(hall, org, user, MON, weekdays=(0,), weeks=3)
    with pytest.raises(BookingClash) as exc:
        svc.book_space(req, [MON, MON + timedelta(7), MON + timedelta(14)], NOW)
    assert exc.value.dates == [date(2026, 9, 14)]
    assert "Mon 14 Sep 2026, 18:00–19:30" in exc.value.message
    # The savepoint rolled back only our holds; the transaction is still usable.
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
