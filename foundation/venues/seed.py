"""Venue Bank demo data: venues in the twelve towns, owned by the approved demo organisations, with their spaces,
opening hours and a closure, the school and bank holidays, and a few bookings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from typing import TypeAlias

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.seed import demo_data
from foundation.types import LONDON, utcnow
from foundation.venues import venues as venue_svc
from foundation.venues.availability import local_interval
from foundation.venues.holidays import load_builtin_holidays
from foundation.venues.models import (
    Booking,
    Feature,
    Occurrence,
    OccurrenceStatus,
    Recurrence,
    Space,
    SpaceOccupancy,
    Venue,
)

F = Feature
WEEKDAYS_ONLY = (0, 1, 2, 3, 4)
HOURS = {
    # Monday to Friday daytime and evening, Saturday daytime; closed on Sundays
    "community": [(d, time(9), time(22)) for d in WEEKDAYS_ONLY] + [(5, time(9), time(17))],
    # a lunchtime break when the caretaker locks up
    "split": [(d, time(9), time(12, 30)) for d in WEEKDAYS_ONLY]
    + [(d, time(13, 30), time(22)) for d in WEEKDAYS_ONLY]
    + [(5, time(10), time(16))],
    # school building: evenings in the week, all day at weekends
    "evenings": [(d, time(17), time(22)) for d in WEEKDAYS_ONLY] + [(d, time(9), time(18)) for d in (5, 6)],
    "sports": [(d, time(8), time(21)) for d in range(7)],
}

# (owner, name, address, town, postcode, hours, notice hours, days ahead, longest (minutes), description,
#  directions, hire terms, spaces: [(name, capacity, pence an hour, needs approval, features, part of)])
SpaceSeed: TypeAlias = tuple[str, int, int, bool, list[Feature], str | None]
VenueSeed: TypeAlias = tuple[
    str, str, str, str, str, str, int, int, int, str, str, str | None, list[SpaceSeed]
]
VENUES: list[VenueSeed] = [
    ("Calne Youth Project", "Bank House Youth Centre", "The Strand", "Calne", "SN11 0EN", "community", 48, 365, 360,
     "A two-storey youth centre in the middle of Calne with a hall, a music room and a small kitchen. "
     "Used every evening by youth clubs; daytimes are often free.",
     "On The Strand opposite the library. Pay-and-display parking at Beversbrook Road, five minutes' walk.",
     "Hirers leave the rooms as they found them. Cancel at least 48 hours ahead.",
     [("Main hall", 80, 1500, True, [F.KITCHEN, F.TABLES_CHAIRS, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET], None),
      ("Music room", 15, 800, False, [F.SOUND_SYSTEM, F.WIFI, F.QUIET_ROOM], None),
      ("Kitchen", 12, 0, True, [F.KITCHEN, F.STEP_FREE_ACCESS], None)]),
    ("Calne Youth Project", "Monkton Park Community Hall", "Monkton Park", "Chippenham", "SN15 3PE", "split", 24, 365, 480,
     "A light, modern hall beside the river in Monkton Park, with a meeting room for committees and small groups.",
     "Walk through Monkton Park from the railway station (ten minutes). Limited parking at the hall.",
     None,
     [("Hall", 100, 1800, True, [F.TABLES_CHAIRS, F.PROJECTOR, F.WIFI, F.STEP_FREE_ACCESS, F.HEARING_LOOP], None),
      ("Meeting room", 20, 0, False, [F.TABLES_CHAIRS, F.WIFI, F.PROJECTOR, F.STEP_FREE_ACCESS], None)]),
    ("Calne Youth Project", "Cross Hayes Scout Hut", "Cross Hayes Lane", "Malmesbury", "SN16 9BZ", "evenings", 72, 180, 240,
     "A wooden scout hut with its own fenced field, free for youth groups' community use.",
     "Behind the Cross Hayes car park, through the green gate.",
     "Free for community use by youth groups. Bring your own first aid kit.",
     [("Hut", 40, 0, False, [F.KITCHEN, F.TABLES_CHAIRS, F.PARKING], None),
      ("Field", 60, 0, True, [F.OUTDOOR_SPACE, F.SPORTS_EQUIPMENT], None)]),
    ("Swindon Sports Trust", "Old Town Sports Pavilion", "Queens Park Road", "Swindon", "SN1 4BJ", "sports", 48, 365, 180,
     "A 3G floodlit pitch with changing rooms and a clubroom overlooking it, run by the Sports Trust.",
     "Off Queens Park Road; the car park is shared with the bowls club.",
     "Football boots with moulded studs only on the 3G pitch. No glass on the pitch side.",
     [("3G pitch", 150, 4500, True, [F.OUTDOOR_SPACE, F.CHANGING_ROOMS, F.SPORTS_EQUIPMENT, F.PARKING], None),
      ("Clubroom", 50, 1200, False, [F.KITCHEN, F.TABLES_CHAIRS, F.WIFI, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET],
       None)]),
    ("Swindon Sports Trust", "Broadgreen Community Rooms", "Salisbury Street", "Swindon", "SN1 2AN", "community", 24, 365, 480,
     "Two ground-floor rooms in the Broadgreen community centre, free for youth groups.",
     "Five minutes' walk from Swindon bus station along Manchester Road.",
     None,
     [("Room A", 25, 0, False, [F.TABLES_CHAIRS, F.WIFI, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET, F.LIFT], None),
      ("Room B", 15, 0, False, [F.TABLES_CHAIRS, F.QUIET_ROOM, F.STEP_FREE_ACCESS], None)]),
    ("Swindon Sports Trust", "Thames Meadow Youth Hut", "Abingdon Court Lane", "Cricklade", "SN6 6AE", "evenings", 48, 365, 240,
     "A small hut by North Meadow with a kit store and access to the playing field.",
     "At the end of Abingdon Court Lane; park in the town and walk the last 200 metres.",
     None,
     [("Hut", 35, 600, False, [F.KITCHEN, F.OUTDOOR_SPACE, F.SPORTS_EQUIPMENT], None)]),
    ("Swindon Sports Trust", "Kennet Valley Hall", "George Lane", "Marlborough", "SN8 1HJ", "community", 48, 365, 480,
     "A Victorian hall with a stage and a green room, restored in 2019, near the High Street.",
     "Off George Lane, behind the Waitrose car park.",
     "A deposit of £50 for bookings over four hours, returned after the hall is checked.",
     [("Hall", 90, 1800, True, [F.STAGE, F.SOUND_SYSTEM, F.TABLES_CHAIRS, F.HEARING_LOOP, F.STEP_FREE_ACCESS], None),
      ("Green room", 12, 500, False, [F.TABLES_CHAIRS, F.QUIET_ROOM], None)]),
    ("Trowbridge Town Council Youth Service", "Trowbridge Civic Youth Hub", "St Stephen's Place", "Trowbridge", "BA14 8AH",
     "community", 48, 365, 480,
     "The youth service's hub: a main hall that divides into two halves with a folding wall, a sensory room "
     "and an IT suite.",
     "In St Stephen's Place, next to the Civic Centre. Blue badge bays at the front door.",
     "Booking the whole hall blocks both halves. Town council hire conditions apply.",
     [("Main hall", 200, 3000, True, [F.STAGE, F.SOUND_SYSTEM, F.KITCHEN, F.TABLES_CHAIRS, F.STEP_FREE_ACCESS,
                                      F.ACCESSIBLE_TOILET, F.ACCESSIBLE_PARKING, F.HEARING_LOOP], None),
      ("Main hall: stage end", 100, 1600, True, [F.STAGE, F.SOUND_SYSTEM, F.STEP_FREE_ACCESS], "Main hall"),
      ("Main hall: kitchen end", 100, 1600, False, [F.KITCHEN, F.TABLES_CHAIRS, F.STEP_FREE_ACCESS], "Main hall"),
      ("Sensory room", 8, 0, True, [F.QUIET_ROOM, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET], None),
      ("IT suite", 16, 1000, False, [F.PROJECTOR, F.WIFI, F.TABLES_CHAIRS, F.LIFT], None)]),
    ("Trowbridge Town Council Youth Service", "Riverside Youth Centre", "Market Place", "Melksham", "SN12 6ES", "community",
     24, 365, 480,
     "A youth centre by the Avon with a games hall and a teaching kitchen.",
     "Behind Market Place, by the river footbridge. Parking at Church Street car park.",
     None,
     [("Games hall", 60, 0, False, [F.SPORTS_EQUIPMENT, F.CHANGING_ROOMS, F.STEP_FREE_ACCESS], None),
      ("Teaching kitchen", 10, 700, True, [F.KITCHEN, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET], None)]),
    ("Trowbridge Town Council Youth Service", "Leigh Park Community Room", "Leigh Park Way", "Westbury", "BA13 3SQ",
     "evenings", 24, 180, 300,
     "A community room on the Leigh Park estate, free for youth groups in the evenings and at weekends.",
     "Next to the Leigh Park shops; free parking.",
     None,
     [("Community room", 30, 0, False, [F.TABLES_CHAIRS, F.KITCHEN, F.PARKING, F.STEP_FREE_ACCESS], None)]),
    ("Trowbridge Town Council Youth Service", "Wharf Youth Rooms", "Couch Lane", "Devizes", "SN10 1EB", "split", 48, 365, 360,
     "Two rooms above the canal wharf with views over the Kennet and Avon Canal.",
     "From the Wharf car park take the stairs or the lift to the first floor.",
     None,
     [("Canal room", 40, 1000, True, [F.TABLES_CHAIRS, F.PROJECTOR, F.LIFT, F.ACCESSIBLE_TOILET], None),
      ("Snug", 10, 0, False, [F.QUIET_ROOM, F.LIFT], None)]),
    ("Salisbury Arts for Young People CIC", "Fisherton Arts Studios", "Fisherton Street", "Salisbury", "SP2 7RG",
     "community", 72, 365, 480,
     "Arts studios near the station: a sprung-floor dance studio, an art room with sinks, and a courtyard.",
     "Three minutes' walk from Salisbury station down Fisherton Street.",
     "Soft shoes only in the dance studio. Paint stays in the art room.",
     [("Dance studio", 30, 2000, True, [F.SOUND_SYSTEM, F.CHANGING_ROOMS, F.STEP_FREE_ACCESS], None),
      ("Art room", 20, 1000, False, [F.TABLES_CHAIRS, F.STEP_FREE_ACCESS, F.ACCESSIBLE_TOILET], None),
      ("Courtyard", 50, 0, True, [F.OUTDOOR_SPACE], None)]),
    ("Salisbury Arts for Young People CIC", "Lake Pleasure Grounds Pavilion", "Weymouth Street", "Warminster", "BA12 9AB",
     "sports", 48, 365, 360,
     "A pavilion in the Lake Pleasure Grounds with a hall opening onto the park.",
     "Enter the park from Weymouth Street; the pavilion is by the lake.",
     None,
     [("Pavilion hall", 50, 1000, False, [F.OUTDOOR_SPACE, F.KITCHEN, F.TABLES_CHAIRS, F.STEP_FREE_ACCESS], None)]),
]  # fmt: skip

# (venue, days from today, length in days, reason)
CLOSURES = [("Riverside Youth Centre", 21, 5, "Kitchen refurbishment")]

# (uid, venue, space, booking organisation, booker email, weekday, weeks, start, end, purpose, people, status)
BOOKINGS = [
    ("demo-booking-calne-football", "Bank House Youth Centre", "Main hall", "Swindon Sports Trust",
     "youthworker@wypf.example", 1, 6, time(18), time(20), "Indoor football skills", 30, OccurrenceStatus.CONFIRMED),
    ("demo-booking-trowbridge-drama", "Trowbridge Civic Youth Hub", "Main hall: stage end", "Calne Youth Project",
     "admin@calne-youth.example", 5, 1, time(10), time(13), "Drama workshop", 40, OccurrenceStatus.REQUESTED),
    ("demo-booking-trowbridge-disco", "Trowbridge Civic Youth Hub", "Main hall", "Trowbridge Town Council Youth Service",
     None, 4, 1, time(18), time(21), "Youth disco", 150, OccurrenceStatus.CONFIRMED),
    ("demo-booking-swindon-clubroom", "Old Town Sports Pavilion", "Clubroom", "Salisbury Arts for Young People CIC",
     None, 3, 1, time(17), time(19), "Planning meeting", 12, OccurrenceStatus.CONFIRMED),
]  # fmt: skip


@demo_data("venues", order=20)
def seed_venues(today: date | None = None) -> Iterator[str]:
    """Demo venues in the twelve towns, owned by the approved demo organisations, and a few bookings."""
    today = today or utcnow().astimezone(LONDON).date()
    added = load_builtin_holidays()
    if added:
        yield f"holidays: {added} school and bank holidays"
    orgs = {o.name: o for o in db.session.scalars(sa.select(Organisation))}
    for (owner, name, address, town, postcode, hours, notice, ahead, longest, description, directions, terms,
         spaces) in VENUES:  # fmt: skip
        org = orgs.get(owner)
        if org is None or org.status is not OrganisationStatus.APPROVED:
            continue
        venue = db.session.scalar(sa.select(Venue).where(Venue.name == name))
        if venue is None:
            venue = venue_svc.create_venue(org, {
                "name": name, "address_line1": address, "town": town, "postcode": postcode,
                "description": description, "directions": directions, "hire_terms": terms,
                "min_notice_hours": notice, "max_days_ahead": ahead, "max_booking_minutes": longest,
            })  # fmt: skip
            venue_svc.set_opening_hours(venue, [venue_svc.Period(d, o, c) for d, o, c in HOURS[hours]])
            for closure_venue, days, length, reason in CLOSURES:
                if closure_venue == name:
                    first = today + timedelta(days=days)
                    venue_svc.add_closure(
                        venue, first, first + timedelta(days=length - 1), reason, today=today
                    )
            yield f"venue {name}, {town}"
        have = {s.name for s in venue.spaces}
        for space_name, capacity, pence, approval, features, part_of in spaces:
            if space_name in have:
                continue
            parent = next((s for s in venue.spaces if s.name == part_of), None)
            venue_svc.add_space(venue, {
                "name": space_name, "capacity": capacity, "price_per_hour_pence": pence, "needs_approval": approval,
                "features": features, "parent_id": parent.id if parent else None,
            })  # fmt: skip
    db.session.flush()
    yield from _seed_bookings(orgs, today)


def _next(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7)


def _seed_bookings(orgs: dict[str, Organisation], today: date) -> Iterator[str]:
    """Bookings written as already made (the booking service would email every demo admin about them)."""
    for (uid, venue_name, space_name, org_name, booker_email, weekday, weeks, start, end, purpose, people,
         status) in BOOKINGS:  # fmt: skip
        if db.session.scalar(sa.select(Booking.id).where(Booking.uid == uid)) is not None:
            continue
        space = db.session.scalar(
            sa.select(Space).join(Space.venue).where(Venue.name == venue_name, Space.name == space_name)
        )
        org = orgs.get(org_name)
        if space is None or org is None:
            continue
        booker = (
            db.session.scalar(sa.select(User).where(User.email == booker_email)) if booker_email else None
        )
        first = _next(weekday, today + timedelta(days=7))
        days = [first + timedelta(weeks=n) for n in range(weeks)]
        booking = Booking(
            space=space, organisation=org, booked_by=booker, purpose=purpose, expected_attendance=people,
            recurrence=Recurrence.WEEKLY if weeks > 1 else Recurrence.ONE_OFF,
            weekdays=str(weekday) if weeks > 1 else "", first_date=days[0], last_date=days[-1],
            start_time=start, end_time=end, uid=uid,
        )  # fmt: skip
        db.session.add(booking)
        now = utcnow()
        for day in days:
            slot = local_interval(day, start, end)
            occurrence = Occurrence(
                booking=booking, space_id=space.id, starts_at=slot.starts_at, ends_at=slot.ends_at, status=status,
                decided_at=now if status is OccurrenceStatus.CONFIRMED else None,
            )  # fmt: skip
            db.session.add(occurrence)
            if status is OccurrenceStatus.CONFIRMED:
                db.session.flush()
                db.session.add_all(
                    SpaceOccupancy(occurrence_id=occurrence.id, space_id=held.id, starts_at=slot.starts_at,
                                   ends_at=slot.ends_at)
                    for held in space.self_and_descendants()
                )  # fmt: skip
        db.session.flush()
        yield f"booking {purpose} at {venue_name}"
