"""Seed a PostgreSQL database with Venue Bank data at scale, for the load benchmark.

    python bench/generate.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Scale 1 is 2,000 venues, 5,000 spaces and 500,000 booking occurrences (plus their occupancy rows); --scale 0.1
is a tenth of that, used to show that queries per page do not grow with the data. The database is dropped and
created afresh, migrated with the project's migrations, then filled with COPY.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LONDON = ZoneInfo("Europe/London")
TOWNS = [
    "Calne", "Chippenham", "Cricklade", "Devizes", "Malmesbury", "Marlborough", "Melksham", "Salisbury",
    "Swindon", "Trowbridge", "Warminster", "Westbury",
]  # fmt: skip
FEATURES = [
    "kitchen", "sports_equipment", "projector", "wifi", "parking", "outdoor_space", "stage", "tables_chairs",
    "step_free_access", "accessible_toilet", "hearing_loop",
]  # fmt: skip
SPACE_NAMES = ["Main hall", "Meeting room", "Kitchen", "Sports pitch", "Studio", "Classroom", "Youth room"]
WEEKS = 20  # each series runs for 20 weeks, centred on today
SERIES_SLOTS = [(wd, h) for h in (9, 11, 14, 16, 18, 20) for wd in range(7)]  # non-overlapping 2-hour slots


def recreate_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from foundation import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        upgrade()


def copy_rows(cur: psycopg.Cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def scalar(cur: psycopg.Cursor, sql: str) -> Any:
    """The one value a query returns."""
    cur.execute(sql)
    row = cur.fetchone()
    if row is None:
        raise SystemExit(f"no row from: {sql}")
    return row[0]


def vacuum_analyze(conn: psycopg.Connection) -> None:
    """VACUUM ANALYZE, as autovacuum would have done on a live database: fresh statistics, no dead rows left by
    updates, and the visibility map set so index-only scans need not visit the table."""
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")


def finish_copy(conn: psycopg.Connection, cur: psycopg.Cursor, tables: Iterable[str]) -> None:
    """After COPY: move each table's id sequence past the rows copied in, check the ledger still balances,
    commit, and VACUUM ANALYZE."""
    for table in tables:
        cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'id'", (table,)
        )
        if cur.fetchone() is None:
            continue  # a table keyed otherwise (tags, claim items) has no sequence
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
        )
    unbalanced = scalar(
        cur,
        "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entry GROUP BY transaction_id "
        "HAVING sum(amount_pence) <> 0) unbalanced",
    )
    if unbalanced:
        raise SystemExit("ledger does not balance")
    # Rows copied in bypass posting, which keeps each account's running totals: work them out once.
    from foundation.ledger.service import TOTALS_FROM_ENTRIES

    cur.execute("DELETE FROM ledger_total")
    cur.execute(f"INSERT INTO ledger_total (account_id, kind, in_pence, out_pence) {TOTALS_FROM_ENTRIES}")
    conn.commit()
    vacuum_analyze(conn)


def forget_people(cur: psycopg.Cursor, user_ids: list[int], org_ids: list[int]) -> None:
    """Delete what refers to these users and organisations outside the grant tables (sign-ins, memberships,
    notifications, documents, vetting decisions...), so the users and organisations themselves can be deleted."""
    for table, column in (("user_session", "user_id"), ("notification", "user_id"),
                          ("notification_preference", "user_id"), ("booking_alert_preference", "user_id"),
                          ("membership", "user_id")):  # fmt: skip
        cur.execute(f'DELETE FROM "{table}" WHERE {column} = ANY(%s)', (user_ids,))
    for table, column in (("organisation_document", "uploaded_by_id"), ("vetting_decision", "decided_by_id"),
                          ("invitation", "invited_by_id"), ("invitation", "accepted_by_id"),
                          ("booking", "booked_by_id"), ("occurrence", "decided_by_id")):  # fmt: skip
        cur.execute(f'UPDATE "{table}" SET {column} = NULL WHERE {column} = ANY(%s)', (user_ids,))
    cur.execute(
        "DELETE FROM document_reminder WHERE document_id IN "
        "(SELECT id FROM organisation_document WHERE organisation_id = ANY(%s))",
        (org_ids,),
    )
    for table in ("membership", "organisation_document", "vetting_decision", "invitation", "calendar_token"):
        cur.execute(f'DELETE FROM "{table}" WHERE organisation_id = ANY(%s)', (org_ids,))


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    n_venues = max(1, int(2000 * scale))
    n_spaces = max(n_venues, int(5000 * scale))
    occurrences_target = int(500_000 * scale)
    series_per_space = max(1, round(occurrences_target / n_spaces / WEEKS))
    n_orgs = max(2, n_venues // 4)
    now = datetime.now(UTC)
    today = date.today()
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS // 2)

    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        # Organisations (approved, in good standing) own the venues and make the bookings.
        orgs = [
            (i, f"Bench Youth Organisation {i}", "voluntary", "unincorporated", f"{i} Bench Street",
             TOWNS[i % len(TOWNS)], "SN15 1ER", "wiltshire", "Bench organisation", "Bench Lead",
             f"lead{i}@bench.example", "approved", now, now, now)
            for i in range(1, n_orgs + 1)
        ]  # fmt: skip
        copy_rows(cur, "organisation", ["id", "name", "sector", "legal_form", "address_line1", "town", "postcode",
                  "area", "description", "safeguarding_lead_name", "safeguarding_lead_email", "status",
                  "created_at", "submitted_at", "approved_at"], orgs)  # fmt: skip
        counts["organisations"] = len(orgs)

        venues = [
            (i, (i % n_orgs) + 1, f"{TOWNS[i % len(TOWNS)]} Community Venue {i}", f"{i} Market Place",
             TOWNS[i % len(TOWNS)], "SN15 1ER", "A well-used community venue.", 24, 365, 480, now)
            for i in range(1, n_venues + 1)
        ]  # fmt: skip
        copy_rows(cur, "venue", ["id", "organisation_id", "name", "address_line1", "town", "postcode", "description",
                  "min_notice_hours", "max_days_ahead", "max_booking_minutes", "created_at"], venues)  # fmt: skip
        counts["venues"] = len(venues)

        hours = []
        for v in range(1, n_venues + 1):
            for wd in range(7):
                hours.append((v, wd, time(8, 0), time(22, 0)))
        copy_rows(cur, "opening_hours", ["venue_id", "weekday", "opens", "closes"], hours)

        spaces, features = [], []
        for s in range(1, n_spaces + 1):
            venue_id = ((s - 1) % n_venues) + 1
            capacity = rng.choice([10, 20, 30, 50, 80, 120, 200])
            price = rng.choice([0, 0, 1000, 1500, 2500, 4000])
            spaces.append(
                (s, venue_id, SPACE_NAMES[s % len(SPACE_NAMES)], capacity, price, rng.random() < 0.5)
            )
            for f in rng.sample(FEATURES, rng.randint(1, 5)):
                features.append((s, f))
        copy_rows(cur, "space", ["id", "venue_id", "name", "capacity", "price_per_hour_pence", "needs_approval"],
                  spaces)  # fmt: skip
        copy_rows(cur, "space_feature", ["space_id", "feature"], features)
        counts["spaces"] = len(spaces)

        bookings, occurrences, occupancy = [], [], []
        booking_id = occurrence_id = 0
        with click.progressbar(range(1, n_spaces + 1), label="Bookings", file=sys.stderr) as bar:
            for s in bar:
                for k in range(series_per_space):
                    weekday, hour = SERIES_SLOTS[k % len(SERIES_SLOTS)]
                    booking_id += 1
                    first = first_monday + timedelta(days=weekday)
                    last = first + timedelta(weeks=WEEKS - 1)
                    org = rng.randint(1, n_orgs)
                    bookings.append((booking_id, s, org, f"Weekly youth club {booking_id}", 20,
                                     "weekly", str(weekday), first, last, time(hour), time(hour + 2), False, False,
                                     uuid.uuid4().hex, now))  # fmt: skip
                    for w in range(WEEKS):
                        day = first + timedelta(weeks=w)
                        starts = datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)
                        ends = datetime.combine(day, time(hour + 2), tzinfo=LONDON).astimezone(UTC)
                        occurrence_id += 1
                        status = "confirmed" if rng.random() < 0.9 else "requested"
                        occurrences.append((occurrence_id, booking_id, s, starts, ends, status))
                        if status == "confirmed":
                            occupancy.append((occurrence_id, s, starts, ends))
        click.echo("Writing rows with COPY...", err=True)
        copy_rows(cur, "booking", ["id", "space_id", "organisation_id", "purpose", "expected_attendance",
                  "recurrence", "weekdays", "first_date", "last_date", "start_time", "end_time", "skip_school_holidays",
                  "skip_bank_holidays", "uid", "created_at"],
                  bookings)  # fmt: skip
        copy_rows(
            cur, "occurrence", ["id", "booking_id", "space_id", "starts_at", "ends_at", "status"], occurrences
        )
        copy_rows(cur, "space_occupancy", ["occurrence_id", "space_id", "starts_at", "ends_at"], occupancy)
        counts["bookings"] = len(bookings)
        counts["occurrences"] = len(occurrences)
        counts["occupancy_rows"] = len(occupancy)
        for table in ("organisation", "venue", "space", "booking", "occurrence"):
            cur.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                ).text
            )
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
    click.echo(f"Recreating {sa.engine.make_url(args.database_url).database} and migrating...", err=True)
    recreate_database(args.database_url)
    migrate(args.database_url)
    counts = generate(args.database_url, args.scale, args.seed)
    click.echo(" ".join(f"{k}={v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
