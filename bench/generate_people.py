"""Seed the people the load benchmark signs in as, and what their pages list, at scale.

    python bench/generate_people.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Run after bench/generate.py and bench/generate_grants.py (which clears the grant tables: run this one again after
it). It can be run again by itself: what it wrote before is removed first. It owns the bench database's
memberships, notifications, organisation documents and vetting decisions, and adds:

- members: 3,000 users at scale 1, about five to each bench organisation, the first of each its admin, with
  100,000 notifications and two sign-ins each between them;
- a current safeguarding policy, insurance and governing document (and an older policy) for every approved
  organisation, one in twenty with lapsed insurance, and each approval recorded as a vetting decision;
- 40 organisations awaiting vetting (0 to 3 documents each), 10 asked for changes, 8 rejected, 5 suspended;
- 200 booking requests waiting at the venues of "Bench Youth Organisation 1";
- for "Bench Youth Organisation 2", 2,000 past weekly series (ten weeks each, over the four years before the
  current bookings), and one in 250 of the current series (100);
- an open grant round (code BOPEN) taking applications, with its criteria and questions, a budget, and 60
  applications from the grant applicants (drafts and submitted).

--scale 0.1 is a tenth of each (at least a few of every kind), so the benchmark's pages list the same kinds of
rows at both sizes. The users the benchmark signs in as (password bench-people-password):

    inbox@people.bench.example       a member with 300 notifications (one in three unread)
    dashboard@people.bench.example   a member of five organisations (admin of two, one not in good standing)
    applicant@people.bench.example   admin of an organisation in good standing that has not applied to the
                                     open round, and member of a grant applicant with a draft in it
    owner@people.bench.example       admin of the organisation whose venues have the waiting requests
    bookings@people.bench.example    member of the organisation with many bookings

Staff pages are seen as bench/generate_grants.py's staff user.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import LONDON, TOWNS, copy_rows, finish_copy, forget_people, scalar  # noqa: E402
from generate_grants import CRITERIA, ORG_PREFIX, STAFF_EMAIL  # noqa: E402

DOMAIN = "people.bench.example"
PASSWORD = "bench-people-password"
PEOPLE_ORG_PREFIX = "Bench People"
VENUE_ORG_PREFIX = "Bench Youth Organisation"
OPEN_ROUND_CODE = "BOPEN"
REQUEST_PURPOSE = "Bench request"
# The users the benchmark signs in as, by role.
USERS = {
    "inbox": f"inbox@{DOMAIN}",
    "dashboard": f"dashboard@{DOMAIN}",
    "applicant": f"applicant@{DOMAIN}",
    "owner": f"owner@{DOMAIN}",
    "bookings": f"bookings@{DOMAIN}",
}
APPLICANT_ORG = f"{PEOPLE_ORG_PREFIX} Applicant Youth Trust"
HISTORY_PURPOSE = "Bench past session"
HISTORY_SPACES = 100  # the bookings organisation's past series are spread over this many spaces
HISTORY_WEEKS = 10  # each past series: ten weeks
UPCOMING_EVERY = 250  # one current booking in 250 moves to the bookings organisation
SLOT_HOURS = (9, 11, 14, 16, 18, 20)
KINDS = ["organisation_vetting", "organisation_members", "document_expiry", "bookings", "grants", "general"]


@dataclass
class Rows:
    """Rows to COPY, and the next id of each table."""

    next_ids: dict[str, int]
    rows: dict[str, list[tuple]] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS = {
    "user": ["id", "email", "name", "password_hash", "email_confirmed_at", "is_staff", "is_panel_reviewer",
             "created_at"],
    "organisation": ["id", "name", "sector", "legal_form", "charity_number", "address_line1", "town", "postcode",
                     "area", "description", "safeguarding_lead_name", "safeguarding_lead_email", "status",
                     "created_at", "submitted_at", "approved_at"],
    "membership": ["id", "user_id", "organisation_id", "role", "created_at"],
    "organisation_document": ["id", "organisation_id", "kind", "original_filename", "stored_name", "content_type",
                              "size_bytes", "sha256", "valid_until", "uploaded_by_id", "uploaded_at"],
    "vetting_decision": ["id", "organisation_id", "action", "from_status", "to_status", "message", "decided_by_id",
                         "created_at"],
    "user_session": ["id", "user_id", "token_hash", "created_at", "last_seen_at", "revoked_at", "user_agent"],
    "notification": ["id", "user_id", "email_to", "kind", "subject", "body_text", "link", "in_inbox",
                     "email_status", "attempts", "sent_at", "read_at", "created_at"],
    "booking": ["id", "space_id", "organisation_id", "booked_by_id", "purpose", "expected_attendance",
                "recurrence", "weekdays", "first_date", "last_date", "start_time", "end_time",
                "skip_school_holidays", "skip_bank_holidays", "uid", "created_at"],
    "occurrence": ["id", "booking_id", "space_id", "starts_at", "ends_at", "status"],
    "grant_round": ["id", "name", "code", "description", "priorities", "eligibility", "opens_at", "closes_at",
                    "min_award_pence", "max_award_pence", "status", "disagreement_threshold", "next_reference",
                    "created_by_id", "created_at", "opened_at"],
    "grant_round_event": ["id", "round_id", "from_status", "to_status", "by_id", "created_at"],
    "grant_criterion": ["id", "round_id", "name", "description", "weight", "max_score", "position"],
    "grant_round_question": ["id", "round_id", "prompt", "help_text", "required", "max_words", "position"],
    "grant_application": ["id", "round_id", "organisation_id", "reference", "status", "project_title", "summary",
                          "description", "towns", "young_people_count", "age_min", "age_max", "starts_on",
                          "ends_on", "amount_requested_pence", "outcomes", "partners", "created_by_id",
                          "created_at", "updated_at", "submitted_at", "submitted_by_id", "version"],
    "grant_budget_line": ["id", "application_id", "item", "cost_pence", "position"],
    "grant_answer": ["id", "application_id", "question_id", "text"],
    "grant_application_event": ["id", "application_id", "action", "message", "by_id", "created_at"],
    "ledger_account": ["id", "code", "name", "kind", "created_at"],
    "ledger_transaction": ["id", "kind", "reason", "source_type", "source_id", "created_by_id", "created_at"],
    "ledger_transaction_tag": ["tag", "transaction_id"],
    "ledger_entry": ["id", "transaction_id", "account_id", "amount_pence"],
}  # fmt: skip


def ids_where(cur: psycopg.Cursor, sql: str, *params: object) -> list[int]:
    cur.execute(sql, params)
    return [int(row[0]) for row in cur.fetchall()]


def clear_previous(cur: psycopg.Cursor) -> None:
    """Remove what an earlier run wrote, so the script can run again on the same database."""
    rounds = ids_where(cur, "SELECT id FROM grant_round WHERE code = %s", OPEN_ROUND_CODE)
    if rounds:
        apps = ids_where(cur, "SELECT id FROM grant_application WHERE round_id = ANY(%s)", rounds)
        for table in ("grant_answer", "grant_budget_line", "grant_application_event"):
            cur.execute(f"DELETE FROM {table} WHERE application_id = ANY(%s)", (apps,))
        cur.execute("DELETE FROM grant_application WHERE id = ANY(%s)", (apps,))
        txns = ids_where(cur, "SELECT transaction_id FROM ledger_transaction_tag WHERE tag = ANY(%s)",
                         [f"round:{r}" for r in rounds])  # fmt: skip
        cur.execute("DELETE FROM ledger_entry WHERE transaction_id = ANY(%s)", (txns,))
        cur.execute("DELETE FROM ledger_transaction_tag WHERE transaction_id = ANY(%s)", (txns,))
        cur.execute("DELETE FROM ledger_transaction WHERE id = ANY(%s)", (txns,))
        codes = [f"round:{r}" for r in rounds]
        cur.execute(
            "DELETE FROM ledger_total WHERE account_id IN (SELECT id FROM ledger_account WHERE code = ANY(%s))",
            (codes,),
        )
        cur.execute("DELETE FROM ledger_account WHERE code = ANY(%s)", (codes,))
        for table in ("grant_criterion", "grant_round_question", "grant_round_event"):
            cur.execute(f"DELETE FROM {table} WHERE round_id = ANY(%s)", (rounds,))
        cur.execute("DELETE FROM grant_round WHERE id = ANY(%s)", (rounds,))
    ours = ids_where(
        cur,
        "SELECT id FROM booking WHERE purpose LIKE %s OR purpose LIKE %s",
        f"{REQUEST_PURPOSE} %",
        f"{HISTORY_PURPOSE} %",
    )
    cur.execute(
        "DELETE FROM space_occupancy WHERE occurrence_id IN (SELECT id FROM occurrence WHERE booking_id = ANY(%s))",
        (ours,),
    )
    cur.execute("DELETE FROM occurrence WHERE booking_id = ANY(%s)", (ours,))
    cur.execute("DELETE FROM booking WHERE id = ANY(%s)", (ours,))
    users = ids_where(cur, 'SELECT id FROM "user" WHERE email LIKE %s', f"%@{DOMAIN}")
    orgs = ids_where(cur, "SELECT id FROM organisation WHERE name LIKE %s", f"{PEOPLE_ORG_PREFIX} %")
    forget_people(cur, users, orgs)
    cur.execute('DELETE FROM "user" WHERE id = ANY(%s)', (users,))
    cur.execute("DELETE FROM organisation WHERE id = ANY(%s)", (orgs,))
    # Everything else of these kinds in a bench database was written here.
    cur.execute(
        "TRUNCATE document_reminder, organisation_document, vetting_decision, membership, notification"
    )


def next_ids(cur: psycopg.Cursor) -> dict[str, int]:
    out = {}
    for table, columns in COLUMNS.items():
        if "id" in columns:  # tags are keyed by what they tag
            out[table] = int(scalar(cur, f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))
    return out


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    from werkzeug.security import generate_password_hash

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    n_members = max(60, round(3000 * scale))
    n_notifications = max(600, round(100_000 * scale))
    n_inbox = max(35, round(300 * scale))
    n_pending = max(4, round(40 * scale))
    n_changes, n_rejected, n_suspended = (
        max(2, round(10 * scale)),
        max(1, round(8 * scale)),
        max(1, round(5 * scale)),
    )
    n_requests = max(20, round(200 * scale))
    n_history = max(200, round(2000 * scale))
    n_open_apps = max(6, round(60 * scale))
    password_hash = generate_password_hash(PASSWORD, method="scrypt")

    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        clear_previous(cur)
        staff = ids_where(cur, 'SELECT id FROM "user" WHERE email = %s', STAFF_EMAIL)
        if not staff:
            raise SystemExit("no bench staff user: run bench/generate_grants.py first")
        staff_id = staff[0]
        venue_orgs = ids_where(
            cur, "SELECT id FROM organisation WHERE name LIKE %s ORDER BY id", f"{VENUE_ORG_PREFIX} %"
        )
        grant_orgs = ids_where(
            cur, "SELECT id FROM organisation WHERE name LIKE %s ORDER BY id", f"{ORG_PREFIX} %"
        )
        if len(venue_orgs) < 10 or len(grant_orgs) < n_open_apps:
            raise SystemExit("run bench/generate.py and bench/generate_grants.py first")
        r = Rows(next_ids(cur))

        def user(email: str, name: str) -> int:
            uid = r.take("user")
            r.add("user", (uid, email, name, password_hash, now - timedelta(days=400), False, False,
                           now - timedelta(days=400)))  # fmt: skip
            return uid

        def member(user_id: int, org_id: int, role: str = "member") -> None:
            r.add("membership", (r.take("membership"), user_id, org_id, role, now - timedelta(days=300)))

        def organisation(name: str, status: str, n: int, submitted: datetime) -> int:
            oid = r.take("organisation")
            town = TOWNS[n % len(TOWNS)]
            r.add("organisation", (oid, name, "community", "unincorporated", None, f"{n} Bench Lane", town,
                                   "SN15 1ER", "swindon" if town == "Swindon" else "wiltshire",
                                   "A youth group new to the Foundation.", "Bench Lead",
                                   f"lead{oid}@{DOMAIN}", status, submitted, submitted,
                                   submitted + timedelta(days=5) if status in ("approved", "suspended") else None))  # fmt: skip
            return oid

        def decision(org_id: int, action: str, from_status: str, to_status: str, at: datetime) -> None:
            r.add("vetting_decision", (r.take("vetting_decision"), org_id, action, from_status, to_status,
                                       None if action == "approve" else "Please see our email.", staff_id, at))  # fmt: skip

        def document(org_id: int, kind: str, valid_until: date | None, by: int | None, at: datetime) -> None:
            did = r.take("organisation_document")
            name = {"safeguarding_policy": "safeguarding-policy.pdf", "insurance": "insurance-certificate.pdf",
                    "governing_document": "constitution.pdf"}[kind]  # fmt: skip
            r.add("organisation_document", (did, org_id, kind, name, f"bench-{uuid.uuid4().hex}.pdf",
                                            "application/pdf", 180_000 + did % 1000, uuid.uuid4().hex * 2,
                                            valid_until, by, at))  # fmt: skip

        # --- members: about five to each organisation, the first its admin -------------------------------------
        all_orgs = venue_orgs + grant_orgs
        admin_of: dict[int, int] = {}
        members_of: dict[int, list[int]] = {}
        population = []
        for k in range(n_members):
            uid = user(f"member{k + 1}@{DOMAIN}", f"Bench Member {k + 1}")
            org = all_orgs[k % len(all_orgs)]
            role = "admin" if org not in admin_of else "member"
            admin_of.setdefault(org, uid)
            members_of.setdefault(org, []).append(uid)
            member(uid, org, role)
            population.append(uid)

        # --- the users the benchmark signs in as ----------------------------------------------------------------
        owner_org, bookings_org = venue_orgs[0], venue_orgs[1]
        people = {role: user(email, f"Bench {role.capitalize()} User") for role, email in USERS.items()}
        member(people["inbox"], venue_orgs[2])
        for n, org in enumerate(venue_orgs[3:8]):
            member(people["dashboard"], org, "admin" if n < 2 else "member")
        applicant_org = organisation(APPLICANT_ORG, "approved", 1, now - timedelta(days=500))
        decision(applicant_org, "approve", "pending", "approved", now - timedelta(days=495))
        member(people["applicant"], applicant_org, "admin")
        member(people["applicant"], grant_orgs[0])
        member(people["owner"], owner_org, "admin")
        member(people["bookings"], bookings_org)

        # --- documents and approvals of every approved organisation ---------------------------------------------
        for n, org in enumerate([*all_orgs, applicant_org]):
            by = admin_of.get(org)
            joined = now - timedelta(days=400 + n % 300)
            lapsed = n % 20 == 7 and org != applicant_org  # venue_orgs[7] is one of the dashboard's
            document(org, "safeguarding_policy", today - timedelta(days=30), by, joined)
            document(
                org,
                "safeguarding_policy",
                today + timedelta(days=200 + n % 100),
                by,
                joined + timedelta(days=330),
            )
            document(org, "insurance", today + timedelta(days=-10 if lapsed else 100 + n % 200), by, joined)
            document(org, "governing_document", None, by, joined)
            if org != applicant_org:
                decision(org, "approve", "pending", "approved", joined + timedelta(days=3))

        # --- organisations awaiting vetting, and the other outcomes ---------------------------------------------
        counts = {"pending": n_pending, "changes_requested": n_changes, "rejected": n_rejected,
                  "suspended": n_suspended}  # fmt: skip
        n = 0
        for status, how_many in counts.items():
            for _ in range(how_many):
                n += 1
                applied = now - timedelta(days=rng.randint(1, 45), hours=rng.randint(0, 23))
                label = status.replace("_", " ").capitalize()
                oid = organisation(f"{PEOPLE_ORG_PREFIX} {label} Group {n}", status, n, applied)
                registrant = user(f"registrant{n}@{DOMAIN}", f"Bench Registrant {n}")
                member(registrant, oid, "admin")
                for kind in ("safeguarding_policy", "insurance", "governing_document")[: n % 4]:
                    valid = None if kind == "governing_document" else today + timedelta(days=300)
                    document(oid, kind, valid, registrant, applied + timedelta(hours=1))
                if status == "changes_requested":
                    decision(
                        oid, "request_changes", "pending", "changes_requested", applied + timedelta(days=2)
                    )
                elif status == "rejected":
                    decision(oid, "reject", "pending", "rejected", applied + timedelta(days=2))
                elif status == "suspended":
                    decision(oid, "approve", "pending", "approved", applied + timedelta(days=2))
                    decision(oid, "suspend", "approved", "suspended", applied + timedelta(days=20))

        # --- sign-ins of the last two months (the session lookup of every signed-in request searches these) -----
        for uid in population:
            for _ in range(2):
                created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
                revoked = created + timedelta(hours=2) if rng.random() < 0.5 else None
                r.add("user_session", (r.take("user_session"), uid, uuid.uuid4().hex + uuid.uuid4().hex, created,
                                       revoked or created + timedelta(minutes=30), revoked, "Firefox on Windows"))  # fmt: skip

        # --- notifications: the inbox user's, and the rest spread over the members --------------------------------
        recipients = [people["inbox"]] * n_inbox + [
            rng.choice(population) for _ in range(n_notifications - n_inbox)
        ]
        rng.shuffle(recipients)  # one user's messages are spread over the table, as they arrive over time
        for uid in recipients:
            created = now - timedelta(minutes=rng.randint(1, 365 * 24 * 60))
            kind = rng.choice(KINDS)
            emailed = rng.random() < 0.5
            unread = rng.random() < 0.33
            nid = r.take("notification")
            r.add("notification", (nid, uid, None, kind, f"Bench message {nid} about {kind.replace('_', ' ')}",
                                   "Something happened that you may want to know about.", "/dashboard", True,
                                   "sent" if emailed else "not_requested", 1 if emailed else 0,
                                   created + timedelta(seconds=5) if emailed else None,
                                   None if unread else created + timedelta(hours=3), created))  # fmt: skip

        # --- requests waiting at the owner's venues ---------------------------------------------------------------
        cur.execute(
            "SELECT s.id, s.capacity FROM space s JOIN venue v ON v.id = s.venue_id "
            "WHERE v.organisation_id = %s ORDER BY s.id",
            (owner_org,),
        )
        owner_spaces = cur.fetchall()
        requesters = venue_orgs[2:]
        for k in range(n_requests):
            space_id, capacity = rng.choice(owner_spaces)
            org = rng.choice(requesters)
            weeks = rng.choice((1, 1, 4, 6, 10))
            first = today + timedelta(days=rng.randint(3, 40))
            hour = rng.choice(SLOT_HOURS)
            bid = r.take("booking")
            r.add("booking", (bid, space_id, org, rng.choice(members_of[org]), f"{REQUEST_PURPOSE} {k + 1}",
                              max(1, min(capacity, 15)), "weekly" if weeks > 1 else "one_off",
                              str(first.weekday()) if weeks > 1 else "", first, first + timedelta(weeks=weeks - 1),
                              time(hour), time(hour + 2), False, False, uuid.uuid4().hex,
                              now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))))  # fmt: skip
            for w in range(weeks):
                day = first + timedelta(weeks=w)
                starts = datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)
                ends = datetime.combine(day, time(hour + 2), tzinfo=LONDON).astimezone(UTC)
                r.add("occurrence", (r.take("occurrence"), bid, space_id, starts, ends, "requested"))

        # --- the bookings organisation's history: past weekly series, each on a space and ten weeks of its own,
        # all before the weeks bench/generate.py fills (which start ten weeks before this week's Monday) -----
        window = today - timedelta(days=today.weekday()) - timedelta(weeks=10)
        history_spaces = ids_where(cur, "SELECT id FROM space ORDER BY id LIMIT %s", HISTORY_SPACES)
        occupancy: list[tuple] = []
        for k in range(n_history):
            space_id = history_spaces[k % len(history_spaces)]
            monday = window - timedelta(weeks=HISTORY_WEEKS * (k // len(history_spaces) + 1))
            weekday, hour = rng.randrange(7), rng.choice(SLOT_HOURS)
            first = monday + timedelta(days=weekday)
            bid = r.take("booking")
            r.add("booking", (bid, space_id, bookings_org, people["bookings"], f"{HISTORY_PURPOSE} {k + 1}", 20,
                              "weekly", str(weekday), first,
                              first + timedelta(weeks=HISTORY_WEEKS - 1), time(hour), time(hour + 2), False, False,
                              uuid.uuid4().hex,
                              datetime.combine(first - timedelta(days=14), time(10), tzinfo=UTC)))  # fmt: skip
            for w in range(HISTORY_WEEKS):
                day = first + timedelta(weeks=w)
                starts = datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)
                ends = datetime.combine(day, time(hour + 2), tzinfo=LONDON).astimezone(UTC)
                oid = r.take("occurrence")
                confirmed = rng.random() < 0.9
                r.add(
                    "occurrence",
                    (oid, bid, space_id, starts, ends, "confirmed" if confirmed else "cancelled"),
                )
                if confirmed:
                    occupancy.append((oid, space_id, starts, ends))

        # --- an open round taking applications -------------------------------------------------------------------
        round_id = r.take("grant_round")
        opens, closes = now - timedelta(days=10), now + timedelta(days=18)
        submitted_apps = n_open_apps - n_open_apps // 3
        r.add("grant_round", (round_id, "Seed grants: bench open round", OPEN_ROUND_CODE,
                              "Small grants for new youth projects, open now.", "Mental health; rural isolation.",
                              "Member organisations in good standing.", opens, closes, 50_000, 500_000, "open", 20,
                              submitted_apps + 1, staff_id, opens - timedelta(days=14), opens))  # fmt: skip
        r.add("grant_round_event", (r.take("grant_round_event"), round_id, "draft", "open", staff_id, opens))
        for position, (name, weight) in enumerate(CRITERIA):
            r.add("grant_criterion", (r.take("grant_criterion"), round_id, name,
                                      f"How well the project shows {name.lower()}.", weight, 5, position))  # fmt: skip
        questions = []
        for position, prompt in enumerate(
            ("How will young people lead this project?", "How will you reach young people in rural areas?")
        ):
            qid = r.take("grant_round_question")
            questions.append(qid)
            r.add("grant_round_question", (qid, round_id, prompt, "", True, 300, position))
        account = r.take("ledger_account")
        r.add("ledger_account", (account, f"round:{round_id}", "Budget of Seed grants: bench open round",
                                 "round_budget", opens))  # fmt: skip
        txn = r.take("ledger_transaction")
        r.add("ledger_transaction", (txn, "allocation", "Budget for the bench open round", "round", round_id,
                                     staff_id, opens - timedelta(days=1)))  # fmt: skip
        r.add("ledger_transaction_tag", (f"round:{round_id}", txn))
        r.add("ledger_entry", (r.take("ledger_entry"), txn, 2, -3_000_000))
        r.add("ledger_entry", (r.take("ledger_entry"), txn, account, 3_000_000))
        # grant_orgs[0] (the applicant user's second organisation) has a draft; the first third are drafts.
        for n, org in enumerate(grant_orgs[:n_open_apps]):
            aid = r.take("grant_application")
            draft = n < n_open_apps // 3
            by = admin_of.get(org)
            created = opens + timedelta(days=rng.randint(0, 8), hours=rng.randint(8, 20))
            submitted = None if draft else created + timedelta(hours=rng.randint(1, 30))
            requested = rng.randrange(50_000, 500_001, 500)
            ref = None if draft else f"WYPF-{opens.year}-{OPEN_ROUND_CODE}-{n - n_open_apps // 3 + 1:04d}"
            r.add("grant_application", (aid, round_id, org, ref, "draft" if draft else "submitted",
                                        f"Youth project {aid}", "Weekly sessions designed with young people.",
                                        "A project designed and led by young people.",
                                        json.dumps(rng.sample(TOWNS, 2)), rng.randint(10, 150), 11, 18,
                                        closes.date() + timedelta(days=90), closes.date() + timedelta(days=330),
                                        requested, "More confident young people.", "Local school", by, created,
                                        submitted or created, submitted, by if submitted else None, 1))  # fmt: skip
            half = requested // 2
            r.add("grant_budget_line", (r.take("grant_budget_line"), aid, "Youth worker hours", half, 0))
            r.add("grant_budget_line", (r.take("grant_budget_line"), aid, "Activities", requested - half, 1))
            for qid in questions:
                r.add("grant_answer", (r.take("grant_answer"), aid, qid, "Young people plan every session."))
            r.add(
                "grant_application_event",
                (r.take("grant_application_event"), aid, "created", None, by, created),
            )
            if submitted:
                r.add("grant_application_event", (r.take("grant_application_event"), aid, "submitted", None, by,
                                                  submitted))  # fmt: skip

        click.echo("Writing rows with COPY...", err=True)
        for table, columns in COLUMNS.items():
            copy_rows(cur, table, columns, r.rows.get(table, []))
        copy_rows(cur, "space_occupancy", ["occurrence_id", "space_id", "starts_at", "ends_at"], occupancy)
        # Some of bench/generate.py's current series become the bookings organisation's too.
        cur.execute(
            "UPDATE booking SET organisation_id = %s, booked_by_id = %s WHERE id %% %s = 0 AND purpose LIKE %s",
            (bookings_org, people["bookings"], UPCOMING_EVERY, "Weekly youth club %"),
        )
        moved = cur.rowcount
        finish_copy(conn, cur, COLUMNS)

    out = {table: len(rows) for table, rows in r.rows.items()}
    out["current_bookings_moved"] = moved
    out["open_round"] = round_id
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    counts = generate(args.database_url, args.scale, args.seed)
    click.echo(" ".join(f"{k}={v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
