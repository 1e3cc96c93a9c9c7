"""The owner's request queue: each requested date's clashes and competing requests, and the confirmed dates
coming up (the first few, with how many more)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from foundation.types import LONDON, utcnow
from foundation.venues import approvals
from foundation.venues.availability import Interval
from foundation.venues.models import Booking, Occurrence, OccurrenceStatus, Space, SpaceOccupancy, Venue
from tests.factories import login, make_org
from tests.venues.factories import make_booker, make_booking, make_space, make_venue

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a Tuesday
MON = date(2026, 9, 7)
CONFIRMED, REQUESTED = OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED
CANCELLED, DECLINED = OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED


def week(n: int) -> date:
    return MON + timedelta(weeks=n)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def owner(db):
    return make_booker(email="owner@example.org", name="Devizes Town Trust")


@pytest.fixture
def spaces(owner):
    """A hall in two halves, one half with a corner of its own, and a separate room."""
    venue = make_venue(owner[1], name="Devizes Corn Exchange")
    hall = make_space(venue, "Hall", capacity=200, needs_approval=True)
    half_a = make_space(venue, "Hall, stage end", parent=hall, capacity=100, needs_approval=True)
    half_b = make_space(venue, "Hall, door end", parent=hall, capacity=100, needs_approval=True)
    corner = make_space(venue, "Stage corner", parent=half_a, capacity=30, needs_approval=True)
    room = make_space(venue, "Committee room", capacity=20, needs_approval=True)
    return {"hall": hall, "a": half_a, "b": half_b, "corner": corner, "room": room}


def reference(org_ids: list[int], now: datetime) -> dict[int, tuple[list[Interval], int]]:
    """What the owner should see for each requested date still to come, worked out the slow, obvious way:
    the distinct times of live holds on the date's space or a space inside it that overlap the date, and the
    requested dates of other bookings on a space it is, is inside or contains that overlap it."""
    from foundation.extensions import db

    spaces = db.session.scalars(sa.select(Space)).all()
    parent = {s.id: s.parent_id for s in spaces}

    def ancestors(space_id: int) -> set[int]:
        out, up = set(), parent[space_id]
        while up is not None:
            out.add(up)
            up = parent[up]
        return out

    def inside(space_id: int) -> set[int]:
        return {s.id for s in spaces if s.id == space_id or space_id in ancestors(s.id)}

    owned = {
        s.id
        for s in db.session.scalars(
            sa.select(Space).join(Space.venue).where(Venue.organisation_id.in_(org_ids))
        )
    }
    occurrences = db.session.scalars(sa.select(Occurrence)).all()
    holds = db.session.scalars(sa.select(SpaceOccupancy)).all()
    out = {}
    for occ in occurrences:
        if occ.status is not REQUESTED or occ.starts_at <= now or occ.space_id not in owned:
            continue
        slot = Interval(occ.starts_at, occ.ends_at)
        held = {
            Interval(h.starts_at, h.ends_at)
            for h in holds
            if h.space_id in inside(occ.space_id) and slot.overlaps(Interval(h.starts_at, h.ends_at))
        }
        related = inside(occ.space_id) | ancestors(occ.space_id)
        rivals = sum(
            1
            for o in occurrences
            if o.status is REQUESTED
            and o.booking_id != occ.booking_id
            and o.space_id in related
            and slot.overlaps(Interval(o.starts_at, o.ends_at))
        )
        out[occ.id] = (sorted(held, key=lambda i: (i.starts_at, i.ends_at)), rivals)
    return out


def shown(org_ids: list[int], now: datetime) -> dict[int, tuple[list[Interval], int]]:
    return {
        occ.id: (item.clashes[occ.id], item.competing[occ.id])
        for item in approvals.request_queue(org_ids, now)
        for occ in item.occurrences
    }


def occ_on(booking: Booking, day: date) -> Occurrence:
    return next(o for o in booking.occurrences if o.starts_at.astimezone(LONDON).date() == day)


def test_clashes_and_competing_requests_across_a_space_and_its_parts(db, owner, spaces):
    _, owner_org = owner
    groups = [make_org(name=f"Group {n}") for n in range(6)]
    hall, a, b, corner, room = (spaces[k] for k in ("hall", "a", "b", "corner", "room"))

    def request(space, org, first, start, end, last=None):
        weekdays = (0,) if last else ()
        return make_booking(
            space, org, first, last, weekdays=weekdays, start=start, end=end, status=REQUESTED
        )

    # Requests: the whole hall on four Mondays; parts of it at overlapping, touching and separate times.
    whole = request(hall, groups[0], week(0), time(18), time(19, 30), last=week(3))
    stage = request(a, groups[1], week(0), time(19), time(20))
    stage_late = request(a, groups[1], week(1), time(19, 30), time(20, 30))  # touches the hall's end
    door = request(b, groups[2], week(0), time(18, 30), time(19))
    corner_req = request(corner, groups[3], week(0), time(17), time(18, 30))
    request(room, groups[4], week(0), time(18), time(19, 30))  # a separate room: no rival of the hall's
    stage_week4 = request(a, groups[5], week(3), time(19), time(20))
    # Requests that no longer count: a declined and a cancelled date over the hall's first Monday.
    gone = make_booking(
        hall, groups[5], week(0), week(1), weekdays=(0,), start=time(18), end=time(19), status=REQUESTED
    )
    occ_on(gone, week(0)).status = DECLINED
    occ_on(gone, week(1)).status = CANCELLED
    # Another owner's hall at the same time is no concern of this one.
    elsewhere = make_space(make_venue(make_org(name="Other owner")), "Other hall", needs_approval=True)
    request(elsewhere, groups[0], week(0), time(18), time(19, 30))

    # Live holds: half B on week 1; the whole hall on week 3 (held on every part); the corner and the stage
    # end on week 2 (two separate times under the hall's request); the room.
    make_booking(b, groups[4], week(1), start=time(18), end=time(19))
    make_booking(hall, groups[4], week(3), start=time(18, 30), end=time(19, 30))
    make_booking(corner, groups[4], week(2), start=time(18), end=time(18, 30))
    make_booking(a, groups[4], week(2), start=time(19), end=time(19, 30))
    make_booking(room, groups[4], week(0), start=time(18), end=time(19, 30))
    db.session.commit()

    got = shown([owner_org.id], NOW)
    assert got == reference([owner_org.id], NOW)

    first = occ_on(whole, week(0))
    assert got[first.id] == ([], 3), "the stage end, the door end and the corner ask for part of that time"
    assert got[occ_on(stage, week(0)).id] == ([], 1)  # only the hall: the corner's request ends at 18:30
    assert got[occ_on(door, week(0)).id] == ([], 1)  # the two halves do not compete
    assert got[occ_on(corner_req, week(0)).id] == ([], 1)  # the hall, two levels up
    assert got[occ_on(stage_late, week(1)).id] == ([], 0)  # back to back with the hall
    assert got[occ_on(whole, week(1)).id] == ([Interval(at(week(1), 18), at(week(1), 19))], 0)
    assert got[occ_on(whole, week(2)).id] == (
        [Interval(at(week(2), 18), at(week(2), 18, 30)), Interval(at(week(2), 19), at(week(2), 19, 30))],
        0,
    )
    # The whole hall's booking held every part: one time, shown once.
    held = [Interval(at(week(3), 18, 30), at(week(3), 19, 30))]
    assert got[occ_on(whole, week(3)).id] == (held, 1)
    assert got[occ_on(stage_week4, week(3)).id] == (held, 1)


def test_dates_that_have_passed_are_not_in_the_queue_and_far_dates_do_not_compete(db, owner, spaces):
    _, owner_org = owner
    hall = spaces["hall"]
    series = make_booking(
        hall, make_org(), date(2026, 8, 24), week(1), weekdays=(0,), status=REQUESTED, purpose="Drama"
    )
    # Another group wants the same hall at the same time of day, a day later and a week later.
    make_booking(hall, make_org(), week(0) + timedelta(days=1), status=REQUESTED)
    make_booking(hall, make_org(), week(2), status=REQUESTED)
    db.session.commit()

    queue = approvals.request_queue([owner_org.id], NOW)
    assert len(queue) == 3
    for item in queue:
        assert item.competing == {o.id: 0 for o in item.occurrences}
        assert item.clashes == {o.id: [] for o in item.occurrences}
    item = next(i for i in queue if i.booking.id == series.id)
    assert [o.starts_at.astimezone(LONDON).date() for o in item.occurrences] == [week(0), week(1)]
    assert shown([owner_org.id], NOW) == reference([owner_org.id], NOW)


def test_a_page_of_the_queue_shows_the_same_as_the_whole_queue(db, owner, spaces):
    _, owner_org = owner
    for n in range(approvals.QUEUE_PAGE_SIZE + 3):
        make_booking(
            spaces["hall"] if n % 2 else spaces["a"],
            make_org(),
            week(n % 4),
            start=time(17 + n % 3),
            end=time(18 + n % 3),
            status=REQUESTED,
        )
    db.session.commit()
    whole = approvals.request_queue([owner_org.id], NOW)
    pages = [approvals.request_queue_page([owner_org.id], p, NOW) for p in (1, 2)]
    assert pages[0].total == len(whole) == approvals.QUEUE_PAGE_SIZE + 3
    paged = pages[0].items + pages[1].items
    assert [i.booking.id for i in paged] == [i.booking.id for i in whole]
    assert [(i.clashes, i.competing) for i in paged] == [(i.clashes, i.competing) for i in whole]
    assert shown([owner_org.id], NOW) == reference([owner_org.id], NOW)
    assert any(n for item in whole for n in item.competing.values())


# --- confirmed dates coming up -----------------------------------------------------------------------------------


def test_upcoming_confirmed_dates_are_the_soonest_few_with_a_count_of_all(db, owner, spaces):
    _, owner_org = owner
    group = make_org()
    first = NOW.astimezone(LONDON).date() + timedelta(days=1)
    make_booking(spaces["hall"], group, first, first + timedelta(days=20), weekdays=range(7))  # 21 dates
    make_booking(spaces["room"], group, first, first + timedelta(days=20), weekdays=range(7), start=time(10))
    cancelled = make_booking(spaces["room"], group, first, start=time(8), end=time(9))
    cancelled.occurrences[0].status = CANCELLED
    make_booking(spaces["room"], group, first + timedelta(days=30))  # after the four weeks
    make_booking(make_space(make_venue(make_org())), group, first)  # someone else's venue
    db.session.commit()

    everything = approvals.upcoming_at_venues([owner_org.id], now=NOW, limit=1000)
    assert everything.total == len(everything.occurrences) == 42 and everything.more == 0
    upcoming = approvals.upcoming_at_venues([owner_org.id], now=NOW)
    assert len(upcoming.occurrences) == approvals.UPCOMING_SHOWN == 25
    assert upcoming.total == 42 and upcoming.more == 17
    assert [o.id for o in upcoming.occurrences] == [o.id for o in everything.occurrences[:25]]
    starts = [o.starts_at for o in everything.occurrences]
    assert starts == sorted(starts)
    assert approvals.upcoming_at_venues([], now=NOW).total == 0
    assert approvals.upcoming_at_venues([make_org().id], now=NOW) == approvals.Upcoming([], 0)


def upcoming_rows(html: str) -> int:
    section = html.split("Confirmed in the next four weeks", 1)[1].split("</table>", 1)[0]
    return len(re.findall(r"<tr><td>", section))


def test_the_requests_page_lists_the_next_25_confirmed_dates_and_says_how_many_more(
    client, db, owner, spaces
):
    owner_user, _ = owner
    group = make_org(name="Devizes Sea Cadets")
    first = utcnow().astimezone(LONDON).date() + timedelta(days=1)
    make_booking(spaces["room"], group, first, first + timedelta(days=4), weekdays=range(7), purpose="Cadets")
    db.session.commit()
    login(client, owner_user)
    page = client.get("/venues/requests").get_data(as_text=True)
    assert upcoming_rows(page) == 5 and "Cadets" in page
    assert 'id="upcoming-more"' not in page

    make_booking(spaces["hall"], group, first, first + timedelta(days=24), weekdays=range(7), purpose="Band")
    db.session.commit()
    page = client.get("/venues/requests").get_data(as_text=True)
    assert upcoming_rows(page) == 25
    assert "And 5 more in the next four weeks (30 in all)" in page
