"""Weekly series: which dates they cover, and skipping school holidays and bank holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.venues import booking as svc
from foundation.venues import holidays
from foundation.venues.booking import DateState
from foundation.venues.models import Holiday, HolidayKind
from tests.venues.factories import booking_request, make_booker, make_space, make_venue

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _request_context(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def setup(db):
    user, org = make_booker()
    owner_user, owner = make_booker()
    space = make_space(make_venue(owner), "Hall")
    holidays.load_builtin_holidays()
    return space, org, user


def test_pattern_dates_follow_the_chosen_weekdays():
    assert svc.pattern_dates(date(2027, 1, 4), date(2027, 1, 17), (1, 3)) == [
        date(2027, 1, 5), date(2027, 1, 7), date(2027, 1, 12), date(2027, 1, 14),
    ]  # fmt: skip
    assert svc.pattern_dates(date(2027, 1, 4), date(2027, 1, 4), ()) == [date(2027, 1, 4)]


def test_a_number_of_weeks_ends_on_the_last_of_those_weeks_dates(setup):
    space, org, user = setup
    req = booking_request(space, org, user, date(2027, 1, 6), weekdays=(2,), weeks=4)  # Wednesdays
    assert req.last_date == date(2027, 1, 27)
    assert [d.day for d in svc.plan_booking(req, NOW).dates] == [
        date(2027, 1, 6), date(2027, 1, 13), date(2027, 1, 20), date(2027, 1, 27),
    ]  # fmt: skip


def test_a_series_can_run_for_up_to_a_year(setup):
    space, org, user = setup
    with pytest.raises(svc.DomainError) as exc:
        svc.plan_booking(
            booking_request(space, org, user, date(2027, 1, 4), weekdays=(0,), until=date(2028, 1, 10)), NOW
        )
    assert exc.value.field == "until" and "up to a year" in exc.value.message


def test_weekdays_that_never_fall_in_the_range_are_refused(setup):
    space, org, user = setup
    with pytest.raises(svc.DomainError) as exc:
        svc.plan_booking(
            booking_request(space, org, user, date(2027, 1, 4), weekdays=(3,), until=date(2027, 1, 5)), NOW
        )
    assert exc.value.field == "weekdays"


def test_skipping_school_holidays_leaves_out_half_term(setup, db):
    space, org, user = setup
    # Mondays from 1 February to 1 March 2027; February half term is 15 to 19 February.
    req = booking_request(
        space, org, user, date(2027, 2, 1), weekdays=(0,), until=date(2027, 3, 1), skip_school=True
    )
    plan = svc.plan_booking(req, NOW)
    skipped = [d for d in plan.dates if d.state is DateState.SKIPPED]
    assert [d.day for d in skipped] == [date(2027, 2, 15)]
    assert skipped[0].reasons == ["Skipped: February half term 2027."]
    booking = svc.book_space(req, [d.day for d in plan.bookable], NOW)
    db.session.commit()
    assert [o.starts_at.date() for o in booking.occurrences] == [
        date(2027, 2, 1), date(2027, 2, 8), date(2027, 2, 22), date(2027, 3, 1),
    ]  # fmt: skip
    assert booking.skip_school_holidays and not booking.skip_bank_holidays

    # Choosing a skipped date anyway is refused.
    with pytest.raises(svc.DomainError, match="holidays you asked to skip"):
        svc.book_space(req, [date(2027, 2, 15)], NOW)


def test_skipping_bank_holidays_only(setup):
    space, org, user = setup
    # Mondays through May 2027: bank holidays on 3 and 31 May; 31 May is also half term.
    req = booking_request(
        space, org, user, date(2027, 5, 3), weekdays=(0,), until=date(2027, 5, 31), skip_bank=True
    )
    plan = svc.plan_booking(req, NOW)
    assert [d.day for d in plan.dates if d.state is DateState.SKIPPED] == [
        date(2027, 5, 3),
        date(2027, 5, 31),
    ]
    assert plan.get(date(2027, 5, 3)).reasons == ["Skipped: Early May bank holiday."]

    without = svc.plan_booking(
        booking_request(space, org, user, date(2027, 5, 3), weekdays=(0,), until=date(2027, 5, 31)), NOW
    )
    assert all(d.bookable for d in without.dates) and len(without.dates) == 5


def test_skipping_both_kinds(setup):
    space, org, user = setup
    # Thursdays over Easter 2027 (holidays 26 March to 9 April; Good Friday 26 March is a Friday).
    req = booking_request(
        space,
        org,
        user,
        date(2027, 3, 18),
        weekdays=(3, 4),
        until=date(2027, 4, 16),
        skip_school=True,
        skip_bank=True,
    )
    plan = svc.plan_booking(req, NOW)
    skipped = [d.day for d in plan.dates if d.state is DateState.SKIPPED]
    assert skipped == [
        date(2027, 3, 26),
        date(2027, 4, 1),
        date(2027, 4, 2),
        date(2027, 4, 8),
        date(2027, 4, 9),
    ]


def test_a_holiday_staff_add_is_skipped_too(setup, db):
    space, org, user = setup
    holidays.save_holiday(
        None, HolidayKind.BANK, "Coronation bank holiday", date(2027, 6, 7), date(2027, 6, 7)
    )
    plan = svc.plan_booking(
        booking_request(space, org, user, date(2027, 6, 7), weekdays=(0,), weeks=2, skip_bank=True), NOW
    )
    assert [d.state for d in plan.dates] == [DateState.SKIPPED, DateState.AVAILABLE]


def test_loading_built_in_holidays_is_idempotent_and_keeps_staff_corrections(db):
    added = holidays.load_builtin_holidays()
    assert added == len(holidays.SCHOOL_HOLIDAYS) + len(holidays.BANK_HOLIDAYS)
    assert holidays.load_builtin_holidays() == 0

    half_term = db.session.scalar(sa.select(Holiday).where(Holiday.name == "October half term 2027"))
    holidays.save_holiday(
        half_term,
        HolidayKind.SCHOOL,
        "October half term 2027 (moved)",
        date(2027, 10, 22),
        date(2027, 10, 29),
    )
    db.session.commit()
    assert holidays.load_builtin_holidays() == 0, "a corrected row is not duplicated"
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Holiday.id)).where(Holiday.name.like("October half term 2027%"))
        )
        == 1
    )


def test_built_in_calendar_covers_three_school_years_and_bank_holidays_to_2028():
    school = holidays.SCHOOL_HOLIDAYS
    assert {first.year for _, first, _ in school} >= {2025, 2026, 2027, 2028}
    for _, first, last in school:
        assert first <= last and first.weekday() <= 4
    bank = [day for _, day in holidays.BANK_HOLIDAYS]
    assert all(d.weekday() < 5 for d in bank), "bank holidays and their substitutes fall on weekdays"
    assert {d.year for d in bank} == {2025, 2026, 2027, 2028}
    assert all(sum(1 for d in bank if d.year == y) == 8 for y in (2025, 2026, 2027, 2028))
    # Substitute days when Christmas falls at a weekend.
    assert date(2026, 12, 28) in bank and date(2027, 12, 27) in bank and date(2027, 12, 28) in bank
    assert date(2028, 1, 3) in bank
    # Easter: Good Friday is two days before Easter Sunday, Easter Monday the day after.
    easter = {
        2025: date(2025, 4, 20),
        2026: date(2026, 4, 5),
        2027: date(2027, 3, 28),
        2028: date(2028, 4, 16),
    }
    for sunday in easter.values():
        assert sunday - timedelta(days=2) in bank and sunday + timedelta(days=1) in bank


def test_staff_edits_are_checked(db):
    holidays.load_builtin_holidays()
    with pytest.raises(svc.DomainError) as exc:
        holidays.save_holiday(None, HolidayKind.SCHOOL, "Backwards", date(2027, 5, 2), date(2027, 5, 1))
    assert exc.value.field == "ends_on"
    with pytest.raises(svc.Conflict) as conflict:
        holidays.save_holiday(None, HolidayKind.BANK, "Twice", date(2027, 5, 3), date(2027, 5, 3))
    assert conflict.value.field == "starts_on" and "Early May bank holiday" in conflict.value.message


def test_a_series_ends_on_its_last_real_date(setup):
    space, org, user = setup
    # Thursdays for four weeks from Thursday 7 January 2027: the fourth is 28 January, not the end of week four.
    req = booking_request(space, org, user, date(2027, 1, 7), weekdays=(3,), weeks=4)
    assert req.last_date == date(2027, 1, 28)
    booking = svc.book_space(req, [d.day for d in svc.plan_booking(req, NOW).bookable], now=NOW)
    assert booking.last_date == date(2027, 1, 28)
    assert svc.pattern_summary(booking).endswith("7 Jan 2027 to 28 Jan 2027")
    # "until" a Wednesday ends on the Thursday before it.
    req = booking_request(space, org, user, date(2027, 3, 4), weekdays=(3,), until=date(2027, 3, 24))
    assert req.last_date == date(2027, 3, 18)
