"""Seed a PostgreSQL database with capacity-building events and the good-practice library at scale, for the load
benchmark.

    python bench/generate_events.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Scale 1 is 5,000 events, 200,000 registrations and 2,000 library resources; --scale 0.1 is a tenth of each.

Events: training, workshops, network meetings and conferences on one to three topics, listed by approved
organisations in good standing (one in five by the staff user in an organisation's name), over the last eighteen
months and the next ten: nine in ten published, the rest drafts (to come) or cancelled with a reason. Seven in ten
have one session, two in ten a weekly course of two to four sessions, one in ten two days running. Four in ten are
at a Venue Bank space of bench/generate.py's venues, three in ten online, three at another address in a town.
An event at a space books each session as a one-off booking of that space in the organiser organisation's name,
written as the venues generator writes bookings: the booking, its confirmed occurrence and its occupancy row (a
cancelled event's occurrences are cancelled and hold nothing). Only spaces that confirm bookings at once (no
owner approval) are used, never those of the venue owner or the bookings organisation the benchmark signs in as,
and each session is placed where nothing else holds the space (their occupancy is read first), so the exclusion
constraint is kept. An event's places fit its space's capacity.

Registrations: entries of one to four people, each entry one organisation in good standing and people who are
its members (bench/generate_people.py's users; an entry never names more people than the organisation has, so at
scale 0.1, where organisations have one to three members, entries are smaller). The first event, a four-week
course to come at a space, is asked for one entry in a hundred and takes as many as there are people free for it
(at scale 1 about 900: everyone is on it or its waiting list); the others share the rest in proportion to their
places, and entries an event could not take go to the next one, so every run writes exactly the number asked.
Entries arrive in time order and follow the registration rules: one that fits the places left takes them
(waiting for the organiser's approval where the event asks for it), one that does not joins the waiting list
(queue positions 1, 2, ...); the organiser's limit per organisation is kept; a person is in at most one live
entry per event. One holding entry in fourteen cancels (late after the cut-off), and the places it frees are
offered at once to the waiting entries that fit, in queue order, which accept. On a third of the events to come
that have a waiting list an entry cancelled an hour ago and its places are offered now (offers open until the
event's offer deadline). Past events have their register marked (nine entries in ten attended, each person
attended or not), feedback from three in ten attendees, and reminders and feedback requests sent. A cancelled
event's entries were all cancelled with it. Every entry has its steps from its first state on, and each
event's places_held is the sum of the places of its holding entries (checked before the commit).

Library: 2,000 resources shared by organisations in good standing (85% approved, with one to three file versions
or a link, download counts, and staff's decisions; the rest waiting, not approved with a reason, or withdrawn).
No files are written: the pages measured list resources, they do not download them.

Not written: notifications and payments for fees.

Run after bench/generate.py, bench/generate_grants.py and bench/generate_people.py (it needs their venues,
organisations, members and the staff user). Every event and library table is emptied first, and the bookings
it made before are deleted, so the script can be run again (in a bench database all of it was written here).
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import LONDON, TOWNS, copy_rows, migrate, scalar, vacuum_analyze  # noqa: E402
from generate_grants import STAFF_EMAIL  # noqa: E402
from generate_people import USERS, VENUE_ORG_PREFIX  # noqa: E402

from foundation.events.models import HOLDING, EventType, Topic  # noqa: E402
from foundation.events.models import RegistrationStatus as S  # noqa: E402
from foundation.library.models import Licence, ResourceKind  # noqa: E402
from foundation.library.models import Topic as LibraryTopic  # noqa: E402

EVENTS = 5_000
REGISTRATIONS = 200_000
RESOURCES = 2_000
BUSIEST_SHARE = 0.01
BOOKING_UID_PREFIX = "bench-event-"
SPACE_POOL = 600  # spaces events may be held at
OPEN = frozenset({S.PENDING_APPROVAL, S.REGISTERED, S.WAITLISTED, S.OFFERED})
T = Topic
# title, type, topics: the sector's usual programme
PROGRAMME = [
    ("Safeguarding essentials for youth workers", EventType.TRAINING, (T.SAFEGUARDING,)),
    ("Designated safeguarding lead refresher", EventType.TRAINING, (T.SAFEGUARDING, T.GOVERNANCE)),
    ("Emergency first aid for youth settings", EventType.TRAINING, (T.FIRST_AID,)),
    ("Youth mental health first aid", EventType.TRAINING, (T.MENTAL_HEALTH, T.FIRST_AID)),
    ("Supporting anxious young people", EventType.WORKSHOP, (T.MENTAL_HEALTH,)),
    ("Writing a winning small grant bid", EventType.WORKSHOP, (T.FUNDRAISING,)),
    ("Trustees' duties in a youth charity", EventType.WORKSHOP, (T.GOVERNANCE,)),
    ("Youth voice network meeting", EventType.NETWORK_MEETING, (T.YOUTH_VOICE,)),
    ("Inclusive sessions for disabled young people", EventType.WORKSHOP, (T.INCLUSION,)),
    ("Online safety and social media", EventType.TRAINING, (T.DIGITAL, T.SAFEGUARDING)),
    ("Youth workers' forum", EventType.NETWORK_MEETING, (T.YOUTH_VOICE, T.INCLUSION)),
    ("Wiltshire youth sector conference", EventType.CONFERENCE, (T.YOUTH_VOICE, T.MENTAL_HEALTH, T.SAFEGUARDING)),
    ("Crowdfunding and local giving", EventType.WORKSHOP, (T.FUNDRAISING, T.DIGITAL)),
    ("Safer recruitment of volunteers", EventType.TRAINING, (T.SAFEGUARDING, T.GOVERNANCE)),
]  # fmt: skip
EVENT_TYPES = list(EventType)
TOPICS = list(Topic)
PLACES = [12, 16, 20, 24, 30, 40, 60, 80, 120]
START_TIMES = [time(9, 30), time(10), time(13), time(14), time(18, 30)]
LENGTH_HOURS = [2, 2, 3, 3, 4, 6]
ENTRY_SIZES = [(1, 45), (2, 30), (3, 15), (4, 10)]
RATINGS = [(5, 40), (4, 35), (3, 15), (2, 7), (1, 3)]
COMMENTS = [
    "Practical and well paced; I will use the scenarios with our volunteers.",
    "Good to meet other groups from the county.",
    "More time for questions next time, please.",
    "",
]
LK, LL = ResourceKind, Licence
LIBRARY_TITLES = [
    ("Safeguarding policy template for small youth groups", LK.POLICY_TEMPLATE, ("safeguarding", "governance")),
    ("Running a youth forum that young people want to come to", LK.GUIDE, ("youth_voice", "inclusion")),
    ("First aid kit checklist and incident log", LK.POLICY_TEMPLATE, ("first_aid",)),
    ("Session plan: talking about feelings through football", LK.SESSION_PLAN, ("mental_health", "youth_voice")),
    ("Writing a winning small grant application", LK.FUNDING_TIP, ("fundraising",)),
    ("Trustee induction pack", LK.GUIDE, ("governance",)),
    ("Online safety: a guide for youth workers", LK.GUIDE, ("digital", "safeguarding")),
    ("Making your club accessible to disabled young people", LK.GUIDE, ("inclusion",)),
    ("Mental health signposting card", LK.SESSION_PLAN, ("mental_health", "first_aid")),
    ("Crowdfunding for youth projects: what worked for us", LK.FUNDING_TIP, ("fundraising", "digital")),
    ("Photo and video consent form", LK.POLICY_TEMPLATE, ("digital", "safeguarding")),
    ("Lone working policy for detached youth work", LK.POLICY_TEMPLATE, ("safeguarding",)),
]  # fmt: skip
SUMMARY = (
    "Shared by a member group in {town}: what it is, who it helps and how we use it with young people aged 11 to "
    "18. Plain English, ready to adapt for your own club."
)


def model_tables(cur: psycopg.Cursor) -> list[str]:
    """Every table of the events and library models that the database has."""
    from foundation.events import models as events
    from foundation.extensions import Model
    from foundation.library import models as library

    names = sorted(
        str(cls.__tablename__)
        for module in (events, library)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, Model) and cls.__module__ == module.__name__
    )
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)", (names,)
    )
    return sorted(row[0] for row in cur.fetchall())


def clear_previous(cur: psycopg.Cursor) -> None:
    """Empty every event and library table (one TRUNCATE), then delete the Venue Bank bookings of earlier
    events' sessions with their occurrences and occupancy."""
    cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in model_tables(cur)) + " RESTART IDENTITY")
    ours = "SELECT id FROM booking WHERE uid LIKE %s"
    like = (f"{BOOKING_UID_PREFIX}%",)
    cur.execute(
        f"DELETE FROM space_occupancy WHERE occurrence_id IN (SELECT id FROM occurrence WHERE booking_id IN ({ours}))",
        like,
    )
    cur.execute(f"DELETE FROM occurrence WHERE booking_id IN ({ours})", like)
    cur.execute("DELETE FROM booking WHERE uid LIKE %s", like)


def good_standing_orgs(cur: psycopg.Cursor, today: date) -> list[int]:
    """Approved organisations whose current safeguarding policy and insurance are in date (as good_standing())."""
    cur.execute(
        "WITH current AS (SELECT DISTINCT ON (organisation_id, kind) organisation_id, kind, valid_until "
        "FROM organisation_document WHERE kind IN ('safeguarding_policy', 'insurance') "
        "ORDER BY organisation_id, kind, uploaded_at DESC, id DESC) "
        "SELECT o.id FROM organisation o JOIN current c ON c.organisation_id = o.id "
        "WHERE o.status = 'approved' GROUP BY o.id "
        "HAVING count(*) FILTER (WHERE c.valid_until >= %s) = 2 ORDER BY o.id",
        (today,),
    )
    return [int(row[0]) for row in cur.fetchall()]


def weighted(rng: random.Random, choices: list[tuple[int, int]]) -> int:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


@dataclass
class Entry:
    """A registration as it is generated: its state and every step it took."""

    id: int
    org: int
    made_by: int
    people: list[int]
    created_at: datetime
    status: S = S.REGISTERED
    queue_position: int | None = None
    offered_at: datetime | None = None
    offer_expires_at: datetime | None = None
    cancelled_at: datetime | None = None
    late: bool = False
    marks: list[bool] | None = None  # the register's mark of each person, once marked
    steps: list[tuple[S | None, S, int | None, datetime, str | None]] = field(default_factory=list)

    @property
    def places(self) -> int:
        return len(self.people)

    def move(self, to: S, by: int | None, at: datetime, note: str | None = None) -> None:
        self.steps.append((self.status if self.steps else None, to, by, at, note))
        self.status = to
        if to is S.CANCELLED:
            self.cancelled_at = at
        if to is not S.OFFERED:
            self.offer_expires_at = None


@dataclass
class EventPlan:
    id: int
    org: int
    manager: int  # who approves, marks the register and cancels
    status: str
    places: int
    limit: int | None
    requires_approval: bool
    offer_hours: int
    cutoff_hours: int
    starts_at: datetime
    ends_at: datetime
    opens_at: datetime  # when registration opened (published)
    cancelled_at: datetime | None


class EventSimulation:
    """One event's entries in time order, following the registration service's rules."""

    def __init__(self, plan: EventPlan, now: datetime, rng: random.Random) -> None:
        self.plan, self.now, self.rng = plan, now, rng
        self.held = 0
        self.queue = 0
        self.entries: list[Entry] = []
        self.live: set[int] = set()
        self.org_open: dict[int, int] = defaultdict(int)

    def _hold(self, entry: Entry) -> int:
        return entry.places if entry.status in HOLDING else 0

    def move(self, entry: Entry, to: S, by: int | None, at: datetime, note: str | None = None) -> None:
        before, was_open = self._hold(entry), entry.status in OPEN
        entry.move(to, by, at, note)
        self.held += self._hold(entry) - before
        if to is S.CANCELLED:
            self.live.difference_update(entry.people)
            if was_open:
                self.org_open[entry.org] -= entry.places

    def arrive(self, entry: Entry) -> None:
        """A new entry: it takes the places left when it fits, or waits at the end of the queue."""
        self.entries.append(entry)
        self.live.update(entry.people)
        self.org_open[entry.org] += entry.places
        if self.plan.places - self.held >= entry.places:
            first = S.PENDING_APPROVAL if self.plan.requires_approval else S.REGISTERED
        else:
            first = S.WAITLISTED
            self.queue += 1
            entry.queue_position = self.queue
        entry.steps.append((None, first, entry.made_by, entry.created_at, None))
        entry.status = first
        self.held += self._hold(entry)

    def offer_freed(self, at: datetime, accept: bool) -> None:
        """Offer free places to the waiting entries that fit, in queue order; `accept`: they take them at once."""
        if at >= self.plan.starts_at:
            return
        waiting = sorted(
            (e for e in self.entries if e.status is S.WAITLISTED), key=lambda e: (e.queue_position or 0, e.id)
        )
        for entry in waiting:
            free = self.plan.places - self.held
            if free <= 0:
                break
            if entry.places > free:
                continue
            self.move(entry, S.OFFERED, None, at, "Places freed up")
            left = self.plan.starts_at - at
            if left < timedelta(hours=4):
                expires = min(at + timedelta(hours=1), self.plan.starts_at)
            else:
                expires = min(
                    at + timedelta(hours=self.plan.offer_hours), self.plan.starts_at - timedelta(hours=2)
                )
            entry.offered_at, entry.offer_expires_at = at, expires
            then = at + (expires - at) / 4
            if accept and then < self.now:
                to = S.PENDING_APPROVAL if self.plan.requires_approval else S.REGISTERED
                self.move(entry, to, entry.made_by, then)
                if to is S.PENDING_APPROVAL and then + timedelta(hours=2) < self.now:
                    self.move(entry, S.REGISTERED, self.plan.manager, then + timedelta(hours=2))

    def cancel(self, entry: Entry, at: datetime, by: int, accept: bool) -> None:
        entry.late = at > self.plan.starts_at - timedelta(hours=self.plan.cutoff_hours)
        self.move(entry, S.CANCELLED, by, at)
        self.offer_freed(at, accept)


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    n_events = max(100, round(EVENTS * scale))
    n_registrations = max(2_000, round(REGISTRATIONS * scale))
    n_resources = max(40, round(RESOURCES * scale))
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    rows: dict[str, list[tuple]] = {}

    def add(table: str, row: tuple) -> None:
        rows.setdefault(table, []).append(row)

    ids: dict[str, int] = {}

    def take(table: str) -> int:
        ids[table] = ids.get(table, 0) + 1
        return ids[table]

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        clear_previous(cur)
        staff_id = scalar(cur, f"SELECT id FROM \"user\" WHERE email = '{STAFF_EMAIL}'")
        for table in ("booking", "occurrence"):
            ids[table] = int(scalar(cur, f'SELECT coalesce(max(id), 0) FROM "{table}"'))
        orgs = good_standing_orgs(cur, today)
        cur.execute(
            "SELECT organisation_id, user_id, role FROM membership WHERE organisation_id = ANY(%s) "
            "ORDER BY organisation_id, id",
            (orgs,),
        )
        members: dict[int, list[int]] = defaultdict(list)
        admin_of: dict[int, int] = {}
        for org, user, role in cur.fetchall():
            members[org].append(user)
            if role == "admin":
                admin_of.setdefault(org, user)
        organisers = [o for o in orgs if o in admin_of]
        registering = [o for o in orgs if members[o]]
        if len(organisers) < 10:
            raise SystemExit(
                "no members: run bench/generate.py, bench/generate_grants.py and bench/generate_people.py first"
            )

        # Spaces events may book: confirmed at once, away from the benchmark's venue owner and bookings
        # organisation, with what already holds them (so no session clashes).
        cur.execute(
            'SELECT m.organisation_id FROM membership m JOIN "user" u ON u.id = m.user_id '
            "WHERE u.email = ANY(%s)",
            ([USERS["owner"], USERS["bookings"]],),
        )
        avoid = [row[0] for row in cur.fetchall()]
        cur.execute(
            "SELECT s.id, s.capacity, v.town FROM space s JOIN venue v ON v.id = s.venue_id "
            "JOIN organisation o ON o.id = v.organisation_id "
            "WHERE NOT s.needs_approval AND v.organisation_id <> ALL(%s) AND o.name LIKE %s "
            "AND s.id NOT IN (SELECT space_id FROM booking WHERE organisation_id = ANY(%s)) "
            "ORDER BY s.id",
            (avoid, f"{VENUE_ORG_PREFIX} %", avoid),
        )
        spaces = cur.fetchall()
        rng.shuffle(spaces)
        spaces = spaces[:SPACE_POOL]
        held: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        cur.execute(
            "SELECT space_id, starts_at, ends_at FROM space_occupancy WHERE space_id = ANY(%s)",
            ([s[0] for s in spaces],),
        )
        for space_id, starts, ends in cur.fetchall():
            held[space_id].append((starts, ends))
        big_spaces = [s for s in spaces if s[1] >= 120] or spaces

        def free_space(
            sessions: list[tuple[datetime, datetime]], pool: list[tuple[int, int, str]]
        ) -> tuple[int, int, str] | None:
            for _ in range(20):
                space = rng.choice(pool)
                if all(not (s < e2 and s2 < e) for s, e in sessions for s2, e2 in held[space[0]]):
                    held[space[0]].extend(sessions)
                    return space
            return None

        # --- events ----------------------------------------------------------------------------------------------
        plans: list[EventPlan] = []
        topic_weights = [3 if t is T.SAFEGUARDING else 2 if t is T.FIRST_AID else 1 for t in TOPICS]
        counts = {"events_venue": 0, "events_online": 0, "events_address": 0, "sessions": 0}
        for n in range(n_events):
            eid = take("event")
            busiest = n == 0
            title, kind, topics = PROGRAMME[n % len(PROGRAMME)]
            extra = rng.choices(TOPICS, weights=topic_weights, k=rng.randint(0, 2))
            topic_set = sorted({*topics, *extra}, key=lambda t: t.value)[:3]
            roll = rng.random()
            status = "published" if busiest or roll < 0.9 else ("draft" if roll < 0.95 else "cancelled")
            past = not busiest and status != "draft" and rng.random() < 0.45
            r = rng.random()
            n_sessions, gap = (
                (4, 7) if busiest else ((1, 1) if r < 0.7 else (rng.randint(2, 4), 7) if r < 0.9 else (2, 1))
            )
            first = today + timedelta(
                days=21 if busiest else -rng.randint(30, 540) if past else rng.randint(2, 300)
            )
            start_time = rng.choice(START_TIMES)
            if busiest:
                start_time = time(14)  # clear of the venues' weekday-morning series, so a space is free
            hours = rng.choice(LENGTH_HOURS) if start_time < time(18) else 2
            sessions = []
            for k in range(n_sessions):
                day = first + timedelta(days=gap * k)
                starts = local(day, start_time)
                sessions.append((starts, starts + timedelta(hours=hours)))
            places = 120 if busiest else rng.choice(PLACES)
            org = organisers[0] if busiest else rng.choice(organisers)
            by = staff_id if rng.random() < 0.2 else admin_of[org]
            space_id = online = address = town = None
            where = "venue" if busiest else rng.choices(("venue", "online", "address"), weights=(4, 3, 3))[0]
            if where == "venue":
                space = free_space(sessions, big_spaces if busiest else spaces)
                if space is None:
                    where = "address"
                else:
                    space_id, capacity, town = space
                    places = min(places, capacity)
            if where == "online":
                online = f"https://meet.bench.example/event-{eid}"
            elif where == "address":
                town = rng.choice(TOWNS)
                address = f"Community room, {rng.randint(1, 120)} High Street"
            counts[f"events_{where}"] += 1
            created = min(sessions[0][0] - timedelta(days=rng.randint(20, 90)), now - timedelta(days=1))
            published = created + timedelta(hours=6) if status != "draft" else None
            cancelled_at = None
            if status == "cancelled":
                cancelled_at = min(
                    sessions[0][0] - timedelta(days=rng.randint(1, 10)), now - timedelta(hours=1)
                )
                cancelled_at = max(cancelled_at, created + timedelta(days=1))
            limit = rng.choice([2, 3, 4, 6]) if rng.random() < 0.3 else None
            if limit is not None:
                limit = min(limit, places)
            plan = EventPlan(eid, org, admin_of[org], status, places, limit, not busiest and rng.random() < 0.1,
                             rng.choice([24, 48, 48, 72]), rng.choice([0, 24, 48, 48]), sessions[0][0],
                             sessions[-1][1], published or created, cancelled_at)  # fmt: skip
            plans.append(plan)
            add("event", (eid, f"{title} ({town or 'online'}, {n + 1})", "What you will learn, with time for "
                          "questions and the handouts to take back to your group.", kind.value,
                          "Youth workers, volunteers and trustees", org, by, status, places, 0, limit,
                          0 if rng.random() < 0.7 else rng.choice([1_000, 2_500, 5_000]), plan.requires_approval,
                          plan.offer_hours, plan.cutoff_hours, where, space_id, online, address, town,
                          sessions[0][0], sessions[-1][1], created, cancelled_at or published or created,
                          published, cancelled_at, staff_id if cancelled_at else None,
                          "The trainer is unwell; we will list a new date." if cancelled_at else None))  # fmt: skip
            for topic in topic_set:
                add("event_topic", (eid, topic.value))
            for starts, ends in sessions:
                booking_id = None
                if space_id is not None:
                    booking_id = take("booking")
                    day = starts.astimezone(LONDON)
                    add("booking", (booking_id, space_id, org, admin_of[org], f"{title} ({n + 1})"[:200], places,
                                    "one_off", "", day.date(), day.date(), day.time(),
                                    ends.astimezone(LONDON).time(), False, False,
                                    f"{BOOKING_UID_PREFIX}{uuid.uuid4().hex}", created))  # fmt: skip
                    occurrence = take("occurrence")
                    confirmed = cancelled_at is None or starts <= cancelled_at
                    add("occurrence", (occurrence, booking_id, space_id, starts, ends,
                                       "confirmed" if confirmed else "cancelled"))  # fmt: skip
                    if confirmed:
                        add("space_occupancy", (occurrence, space_id, starts, ends))
                add("event_session", (take("event_session"), eid, starts, ends, booking_id))
                counts["sessions"] += 1
        counts["events"] = n_events
        counts["bookings"] = len(rows.get("booking", []))

        # --- registrations ---------------------------------------------------------------------------------------
        open_plans = [p for p in plans if p.status != "draft" and p.opens_at < min(now, p.starts_at)]
        busiest_entries = max(20, round(n_registrations * BUSIEST_SHARE))
        rest = n_registrations - busiest_entries
        wanted: dict[int, int] = defaultdict(int)
        wanted[plans[0].id] = busiest_entries
        others = [p for p in open_plans if p is not plans[0]]
        weights = [p.places * rng.uniform(0.3, 1.7) for p in others]
        for p in rng.choices(others, weights=weights, k=rest):
            wanted[p.id] += 1
        spill = 0
        made = 0
        per_status: dict[str, int] = defaultdict(int)
        places_held: dict[int, int] = {}
        with click.progressbar(open_plans, label="Registrations", file=sys.stderr) as bar:
            for plan in bar:
                sim = EventSimulation(plan, now, rng)
                closes = min(now, plan.starts_at - timedelta(hours=1), plan.cancelled_at or now)
                want = wanted[plan.id] + spill
                if closes <= plan.opens_at:
                    spill = want
                    continue
                span = (closes - plan.opens_at).total_seconds()
                times = sorted(plan.opens_at + timedelta(seconds=rng.uniform(0, span)) for _ in range(want))
                got = 0
                for at in times:
                    entry = None
                    for _ in range(10):
                        org = rng.choice(registering)
                        free = [u for u in members[org] if u not in sim.live]
                        room = plan.limit - sim.org_open[org] if plan.limit is not None else 4
                        size = min(weighted(rng, ENTRY_SIZES), len(free), room, plan.places)
                        if size >= 1:
                            people = rng.sample(free, size)
                            entry = Entry(take("event_registration"), org, people[0], people, at)
                            break
                    if entry is None:
                        continue  # everyone who could come is on it already: the entry goes to the next event
                    got += 1
                    sim.arrive(entry)
                    if entry.status in HOLDING and plan.requires_approval:
                        decided = at + timedelta(hours=rng.randint(2, 72))
                        if decided < min(now, plan.starts_at):
                            if rng.random() < 0.9:
                                sim.move(entry, S.REGISTERED, plan.manager, decided)
                            else:
                                sim.move(
                                    entry,
                                    S.CANCELLED,
                                    plan.manager,
                                    decided,
                                    "Places are for Wiltshire groups.",
                                )
                                sim.offer_freed(decided, accept=True)
                    if entry.status in HOLDING and rng.random() < 1 / 14:
                        sim.cancel(
                            entry, at + timedelta(minutes=rng.randint(1, 30)), entry.made_by, accept=True
                        )
                spill = want - got
                future = plan.starts_at > now
                if plan.status == "cancelled":
                    assert plan.cancelled_at is not None
                    for entry in sim.entries:
                        if entry.status is not S.CANCELLED:
                            sim.move(
                                entry, S.CANCELLED, staff_id, plan.cancelled_at, "The event was cancelled."
                            )
                elif future:
                    waiting = [e for e in sim.entries if e.status is S.WAITLISTED]
                    holding = [e for e in sim.entries if e.status is S.REGISTERED]
                    if (
                        waiting
                        and holding
                        and rng.random() < 1 / 3
                        and plan.starts_at - now > timedelta(hours=4)
                    ):
                        sim.cancel(rng.choice(holding), now - timedelta(hours=1), plan.manager, accept=False)
                else:
                    # The event has happened: reminders went the day before, the register was marked, feedback
                    # was asked for the day after, and some attendees gave it.
                    for entry in sim.entries:
                        if entry.status is S.PENDING_APPROVAL:
                            sim.move(
                                entry, S.REGISTERED, plan.manager, entry.created_at + timedelta(minutes=30)
                            )
                        if entry.status is not S.REGISTERED:
                            continue
                        came = rng.random() < 0.9
                        marks = [came and (k == 0 or rng.random() < 0.85) for k in range(entry.places)]
                        sim.move(entry, S.ATTENDED if came else S.NO_SHOW, plan.manager, plan.ends_at)
                        entry.marks = marks
                places_held[plan.id] = sim.held
                for entry in sim.entries:
                    made += 1
                    per_status[entry.status.value] += 1
                    past = plan.ends_at <= now
                    marked = entry.status in (S.ATTENDED, S.NO_SHOW)
                    asked = plan.ends_at + timedelta(days=1)
                    add("event_registration", (entry.id, plan.id, entry.org, entry.made_by, entry.places,
                                               entry.status.value, entry.queue_position, entry.offered_at,
                                               entry.offer_expires_at, entry.created_at, entry.cancelled_at,
                                               entry.late,
                                               plan.starts_at - timedelta(days=1) if past and marked else None,
                                               asked if marked and asked < now else None))  # fmt: skip
                    for k, user in enumerate(entry.people):
                        place = take("event_registration_place")
                        attended = entry.marks[k] if entry.marks is not None else None
                        add("event_registration_place", (place, entry.id, plan.id, user,
                                                         entry.status is not S.CANCELLED, attended,
                                                         plan.manager if marked else None,
                                                         plan.ends_at if marked else None))  # fmt: skip
                        if attended and asked < now and rng.random() < 0.3:
                            add("event_feedback", (take("event_feedback"), plan.id, place, weighted(rng, RATINGS),
                                                   rng.choice(COMMENTS),
                                                   min(asked + timedelta(days=rng.randint(0, 10)), now)))  # fmt: skip
                    for from_status, to_status, by_id, at, note in entry.steps:
                        add("event_registration_step", (take("event_registration_step"), entry.id,
                                                        from_status.value if from_status else None,
                                                        to_status.value, by_id, at, note))  # fmt: skip
        # Each event's places_held: the places of its holding entries, known now they are made.
        rows["event"] = [(*row[:9], places_held.get(row[0], 0), *row[10:]) for row in rows["event"]]
        counts["registrations"] = made
        counts.update({f"registrations_{k}": v for k, v in sorted(per_status.items())})
        counts["places"] = len(rows.get("event_registration_place", []))
        counts["feedback"] = len(rows.get("event_feedback", []))

        # --- the library -----------------------------------------------------------------------------------------
        sharers = [o for o in orgs if members[o]]
        cur.execute("SELECT id, town FROM organisation WHERE id = ANY(%s)", (sharers,))
        town_of: dict[int, str] = {int(oid): str(town) for oid, town in cur.fetchall()}
        library_topics = list(LibraryTopic)
        for n in range(n_resources):
            rid = take("library_resource")
            name, resource_kind, resource_topics = LIBRARY_TITLES[n % len(LIBRARY_TITLES)]
            org = rng.choice(sharers)
            by = rng.choice(members[org])
            roll = rng.random()
            status = (
                "approved"
                if roll < 0.85
                else "pending"
                if roll < 0.92
                else "rejected"
                if roll < 0.96
                else "withdrawn"
            )
            created = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
            decided = created + timedelta(days=rng.randint(1, 5))
            if decided >= now:
                decided = now - timedelta(minutes=5)
            was_approved = status in ("approved", "withdrawn")
            is_link = rng.random() < 0.2 and status != "pending"
            downloads = int(rng.paretovariate(1.2) * 5) if was_approved else 0
            add("library_resource", (rid, org, by, f"{name} ({n + 1})", SUMMARY.format(town=town_of[org]),
                                     resource_kind.value, rng.choice(list(LL)).value,
                                     f"https://guides.bench.example/{n + 1}" if is_link else None, status, created,
                                     decided if status != "pending" else None, decided if was_approved else None,
                                     downloads))  # fmt: skip
            chosen = {*resource_topics, *(t.value for t in rng.sample(library_topics, rng.randint(0, 1)))}
            for value in sorted(chosen):
                add("library_resource_topic", (rid, value))
            n_versions = 0 if is_link else rng.choice([1, 1, 1, 2, 3])
            first_version = None
            for v in range(1, n_versions + 1):
                vid = take("library_resource_version")
                first_version = first_version or vid
                uploaded = created + timedelta(days=(v - 1) * rng.randint(30, 120))
                if status == "approved":
                    vstatus = "waiting" if v == n_versions and v > 1 and rng.random() < 0.3 else "approved"
                else:
                    vstatus = {"pending": "waiting", "rejected": "rejected", "withdrawn": "approved"}[status]
                if v > 1 and vstatus == "approved":
                    add("library_decision", (take("library_decision"), rid, vid, "approve", None, staff_id,
                                             min(uploaded + timedelta(days=2), now)))  # fmt: skip
                add("library_resource_version", (vid, rid, v, "" if v == 1 else "Updated for this year's guidance",
                                                 vstatus, f"resource-{rid}-v{v}.pdf",
                                                 f"bench-{uuid.uuid4().hex}.pdf", "application/pdf",
                                                 40_000 + rid % 1000 * 100, uuid.uuid4().hex * 2, by,
                                                 min(uploaded, now)))  # fmt: skip
            if was_approved:
                add(
                    "library_decision",
                    (take("library_decision"), rid, None, "approve", None, staff_id, decided),
                )
            if status == "rejected":
                add("library_decision", (take("library_decision"), rid, None, "reject",
                                         "Please remove the names of young people from page 2.", staff_id, decided))  # fmt: skip
            if status == "withdrawn":
                add("library_decision", (take("library_decision"), rid, None, "withdraw", None, by,
                                         min(decided + timedelta(days=60), now)))  # fmt: skip
        counts["resources"] = n_resources
        counts["resource_versions"] = len(rows.get("library_resource_version", []))
        counts["downloads"] = sum(row[12] for row in rows["library_resource"])

        columns = {
            "event": ["id", "title", "description", "event_type", "audience", "organisation_id", "created_by_id",
                      "status", "places", "places_held", "per_organisation_limit", "price_pence",
                      "requires_approval", "offer_hours", "cancel_cutoff_hours", "location_kind", "space_id",
                      "online_link", "address", "town", "starts_at", "ends_at", "created_at", "updated_at",
                      "published_at", "cancelled_at", "cancelled_by_id", "cancel_reason"],
            "event_topic": ["event_id", "topic"],
            "booking": ["id", "space_id", "organisation_id", "booked_by_id", "purpose", "expected_attendance",
                        "recurrence", "weekdays", "first_date", "last_date", "start_time", "end_time",
                        "skip_school_holidays", "skip_bank_holidays", "uid", "created_at"],
            "occurrence": ["id", "booking_id", "space_id", "starts_at", "ends_at", "status"],
            "space_occupancy": ["occurrence_id", "space_id", "starts_at", "ends_at"],
            "event_session": ["id", "event_id", "starts_at", "ends_at", "booking_id"],
            "event_registration": ["id", "event_id", "organisation_id", "made_by_id", "places", "status",
                                   "queue_position", "offered_at", "offer_expires_at", "created_at", "cancelled_at",
                                   "late_cancellation", "reminded_at", "feedback_requested_at"],
            "event_registration_place": ["id", "registration_id", "event_id", "user_id", "live", "attended",
                                         "marked_by_id", "marked_at"],
            "event_registration_step": ["id", "registration_id", "from_status", "to_status", "by_id", "at", "note"],
            "event_feedback": ["id", "event_id", "place_id", "rating", "comments", "created_at"],
            "library_resource": ["id", "organisation_id", "submitted_by_id", "title", "summary", "kind", "licence",
                                 "link", "status", "created_at", "updated_at", "approved_at", "download_count"],
            "library_resource_topic": ["resource_id", "topic"],
            "library_resource_version": ["id", "resource_id", "number", "note", "status", "original_filename",
                                         "stored_name", "content_type", "size_bytes", "sha256", "uploaded_by_id",
                                         "uploaded_at"],
            "library_decision": ["id", "resource_id", "version_id", "action", "reason", "decided_by_id",
                                 "decided_at"],
        }  # fmt: skip
        with click.progressbar(list(columns), label="Copying", file=sys.stderr) as tables:
            for table in tables:
                copy_rows(cur, table, columns[table], rows.get(table, []))
        for table in columns:
            if "id" in columns[table]:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
                )
        wrong = scalar(
            cur,
            "SELECT count(*) FROM event e WHERE e.places_held <> (SELECT coalesce(sum(r.places), 0) "
            "FROM event_registration r WHERE r.event_id = e.id AND r.status IN "
            "('pending_approval', 'registered', 'offered', 'attended', 'no_show'))",
        )
        if wrong:
            raise SystemExit(f"{wrong} events' places_held differ from their entries' places")
        conn.commit()
        vacuum_analyze(conn)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    migrate(args.database_url)
    counts = generate(args.database_url, args.scale, args.seed)
    click.echo(" ".join(f"{k}={v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
