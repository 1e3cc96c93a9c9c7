"""Seed a PostgreSQL database with funders, funding opportunities and consortium bids at scale, for the load
benchmark.

    python bench/generate_bids.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Scale 1 is 2,000 funders of every type, 10,000 opportunities (seven in ten published with a deadline in the next
year, two closed, the rest suggested, rejected or archived; each with one to three themes and one to three towns
or the whole county) and 1,000 bids in every state: led by an approved organisation or by the Foundation, with
accepted partners (and some invited or declined), their budget lines and reach, and every step they took. A bid
still being written is on an opportunity whose deadline is ahead (a quarter of them in the next 30 days); a
submitted or decided bid asked for its budget when it was sent; a declined one keeps the funder's feedback; an
awarded one (in full, or in part at 60 to 90%) has its award with the management fee's share, a reporting date
and one or two payments from the funder. Awards and payments fall over the last two years, so this year's income
and last year's both show. --scale 0.1 is a tenth of it.

Not written: tasks, documents, sub-awards, monitoring returns, members' interests and digests, and the ledger
movements of the funders' payments (the pages measured read the payments themselves, not the ledger).

Run after bench/generate.py and bench/generate_grants.py (it needs their approved organisations and the staff
user). Every funding and bid table is emptied first, so the script can be run again (in a bench database all of
it was written here).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import copy_rows, migrate, scalar, vacuum_analyze  # noqa: E402
from generate_grants import STAFF_EMAIL  # noqa: E402
from generate_people import PEOPLE_ORG_PREFIX  # noqa: E402

from foundation.bids.awards import award_fee  # noqa: E402
from foundation.bids.bids import fee_for  # noqa: E402
from foundation.bids.funders import name_key  # noqa: E402
from foundation.bids.models import ALL_AREAS, TOWNS, BidStatus, FunderType, Theme  # noqa: E402

T = TypeVar("T")

FUNDERS = 2_000
OPPORTUNITIES = 10_000
BIDS = 1_000
FUNDER_PREFIX = "Bench Funder"
# Share of funders of each type, most of them trusts and foundations as in the sector.
FUNDER_TYPES = [
    (FunderType.TRUST_OR_FOUNDATION, 55),
    (FunderType.LOTTERY, 5),
    (FunderType.STATUTORY, 15),
    (FunderType.POLICE_AND_CRIME_COMMISSIONER, 3),
    (FunderType.BUSINESS, 17),
    (FunderType.INDIVIDUAL, 5),
]
# Share of bids in each state: every stage of the pipeline, and decisions enough for success rates.
BID_STATES = [
    (BidStatus.IDEA, 10),
    (BidStatus.FORMING, 10),
    (BidStatus.DRAFTING, 15),
    (BidStatus.SIGN_OFF, 5),
    (BidStatus.SUBMITTED, 15),
    (BidStatus.AWARDED, 12),
    (BidStatus.PART_AWARDED, 8),
    (BidStatus.DECLINED, 20),
    (BidStatus.WITHDRAWN, 5),
]
PATH = [BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF, BidStatus.SUBMITTED]
CATEGORIES = ["staff", "activity", "venue_hire", "overheads"]
FEEDBACK = [
    "A strong application; we funded work in areas of greater need this round.",
    "The outcomes were not clear enough for our panel.",
    "Over-subscribed: we could fund one bid in eight.",
    "No feedback given.",
]


def funding_tables(cur: psycopg.Cursor) -> list[str]:
    """Every table of the funding and bids models that the database has."""
    from foundation.bids import models
    from foundation.extensions import Model

    names = sorted(
        str(cls.__tablename__)
        for cls in vars(models).values()
        if isinstance(cls, type) and issubclass(cls, Model) and cls.__module__ == models.__name__
    )
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)", (names,)
    )
    return sorted(row[0] for row in cur.fetchall())


def clear_previous(cur: psycopg.Cursor) -> None:
    """Empty every funding and bid table (one TRUNCATE, so their foreign keys between them do not matter)."""
    tables = funding_tables(cur)
    cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY")


def weighted_choice(rng: random.Random, choices: Sequence[tuple[T, int]]) -> T:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    n_funders = max(20, round(FUNDERS * scale))
    n_opportunities = max(100, round(OPPORTUNITIES * scale))
    n_bids = max(40, round(BIDS * scale))
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

    def at(day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hour)

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        clear_previous(cur)
        staff_id = scalar(cur, f"SELECT id FROM \"user\" WHERE email = '{STAFF_EMAIL}'")
        cur.execute(
            "SELECT id FROM organisation WHERE status = 'approved' AND name NOT LIKE %s ORDER BY id LIMIT 400",
            (f"{PEOPLE_ORG_PREFIX} %",),
        )
        orgs = [row[0] for row in cur.fetchall()]
        if len(orgs) < 10:
            raise SystemExit(
                "no approved organisations: run bench/generate.py and bench/generate_grants.py first"
            )

        # --- funders ---------------------------------------------------------------------------------------------
        funders = []
        for n in range(n_funders):
            fid = take("funder")
            kind = weighted_choice(rng, FUNDER_TYPES)
            funders.append(fid)
            name = f"{FUNDER_PREFIX} {n + 1} {kind.label.split(' ')[0]}"
            add("funder", (fid, name, name_key(name), kind.value, f"GB-CHC-8{n + 1:06d}",
                           f"https://funder-{n + 1}.bench.example", "", staff_id, now - timedelta(days=700), None))  # fmt: skip

        # --- opportunities ---------------------------------------------------------------------------------------
        themes = list(Theme)
        published_ahead: list[tuple[int, date, int, int]] = []  # (id, deadline, min, max)
        closed: list[tuple[int, date, int, int]] = []
        for n in range(n_opportunities):
            oid = take("funding_opportunity")
            roll = rng.random()
            if roll < 0.70:
                status, deadline = "published", today + timedelta(days=rng.randint(0, 365))
            elif roll < 0.90:
                status, deadline = "closed", today - timedelta(days=rng.randint(1, 700))
            else:
                status = ("suggested", "rejected", "archived")[n % 3]
                deadline = today + timedelta(days=rng.randint(-60, 200))
            low = rng.choice([100_000, 500_000, 1_000_000, 2_500_000])
            high = low * rng.choice([5, 10, 20, 40])
            created = at(min(deadline, today) - timedelta(days=rng.randint(30, 200)))
            decided = created + timedelta(days=2) if status != "suggested" else None
            published = decided if status in ("published", "closed", "archived") else None
            add("funding_opportunity", (oid, rng.choice(funders), f"Bench programme {n + 1}", low, high, deadline,
                                        "Registered charities and community groups working with young people.",
                                        n % 2 == 0, f"https://funder.bench.example/programmes/{n + 1}", status,
                                        created, staff_id, None, None,
                                        staff_id if decided else None,
                                        decided, "Outside what members can bid for." if status == "rejected" else None,
                                        published, at(deadline + timedelta(days=1)) if status == "closed" else None))  # fmt: skip
            for theme in rng.sample(themes, rng.randint(1, 3)):
                add("funding_opportunity_theme", (oid, theme.value))
            areas = [ALL_AREAS] if rng.random() < 0.25 else rng.sample(TOWNS, rng.randint(1, 3))
            for area in areas:
                add("funding_opportunity_area", (oid, area))
            if status == "published":
                published_ahead.append((oid, deadline, low, high))
            elif status == "closed":
                closed.append((oid, deadline, low, high))
        soon = [o for o in published_ahead if o[1] <= today + timedelta(days=30)]
        later = [o for o in published_ahead if o[1] > today + timedelta(days=30)]
        recent = [o for o in closed if o[1] >= today - timedelta(days=90)]
        older = [o for o in closed if today - timedelta(days=700) <= o[1] < today - timedelta(days=60)]

        # --- bids ------------------------------------------------------------------------------------------------
        counts = {s: 0 for s in BidStatus}
        income_this_year = 0
        for n in range(n_bids):
            bid_id = take("bid")
            state = weighted_choice(rng, BID_STATES)
            counts[state] += 1
            withdrawn_at = rng.choice(PATH) if state is BidStatus.WITHDRAWN else None
            reached = withdrawn_at or state
            if reached in (BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF):
                pool = soon if rng.random() < 0.25 and soon else later or soon
            elif reached is BidStatus.SUBMITTED:
                pool = recent or older
            else:
                pool = older or recent
            opportunity, deadline, low, high = rng.choice(pool)
            written = min(deadline, today)
            created = at(written - timedelta(days=rng.randint(40, 120)))
            lead = rng.choice(orgs) if rng.random() < 0.7 else None
            fee_bp = rng.choice([1000, 1000, 1000, 500, 1500])
            position = PATH.index(reached) if reached in PATH else len(PATH)

            # The consortium: the lead, partners who accepted (at least two organisations from drafting on), and
            # some invited who have not answered yet or declined.
            members = [lead] if lead else []
            if position == 0:
                extra = 0
            elif position == 1:
                extra = rng.randint(0, 1)
            else:
                extra = rng.randint(2, 4) - len(members)
            candidates = [o for o in rng.sample(orgs, extra + 3) if o not in members]
            members += candidates[:extra]
            others = candidates[extra : extra + rng.randint(0, 2)]
            parts = 0
            for k, org in enumerate(members):
                pid = take("bid_partner")
                joined = created + timedelta(days=k)
                writing = position >= 2 or (k == 0 and rng.random() < 0.5)
                add("bid_partner", (pid, bid_id, org, "accepted", staff_id, joined, staff_id, joined,
                                    "Weekly sessions after school and in the holidays." if writing else "",
                                    "Young people feel safer, more confident and better connected." if writing else "",
                                    staff_id if writing else None, joined + timedelta(days=5) if writing else None))  # fmt: skip
                if writing:
                    for town in rng.sample(TOWNS, rng.randint(1, 2)):
                        add("bid_part_reach", (pid, town, rng.randint(10, 120)))
                    for c in range(rng.randint(1, 4)):
                        amount = rng.randint(50_000, max(60_000, high // 6)) // 100 * 100 + rng.randint(0, 99)
                        parts += amount
                        add("bid_budget_line", (take("bid_budget_line"), pid, CATEGORIES[c % 4],
                                                f"Bench cost {c + 1}", amount))  # fmt: skip
            for k, org in enumerate(others):
                answer = "invited" if position <= 2 and k == 0 else "declined"
                invited = created + timedelta(days=3 + k)
                add("bid_partner", (take("bid_partner"), bid_id, org, answer, staff_id, invited,
                                    staff_id if answer == "declined" else None,
                                    invited + timedelta(days=2) if answer == "declined" else None,
                                    "", "", None, None))  # fmt: skip

            # Every step it took, from the idea on.
            step_at = created
            add("bid_step", (take("bid_step"), bid_id, None, "idea", staff_id, step_at, None))
            for before, after in zip(PATH, PATH[1 : position + 1], strict=False):
                step_at += timedelta(days=rng.randint(3, 15))
                add(
                    "bid_step", (take("bid_step"), bid_id, before.value, after.value, staff_id, step_at, None)
                )
            asked = parts + fee_for(parts, fee_bp) if position >= PATH.index(BidStatus.SUBMITTED) else None
            submitted_at = at(written) if asked is not None else None
            feedback = None
            if state is BidStatus.WITHDRAWN:
                step_at += timedelta(days=rng.randint(1, 10))
                add("bid_step", (take("bid_step"), bid_id, reached.value, "withdrawn", staff_id, step_at,
                                 "The consortium could not agree the budget in time."))  # fmt: skip
            elif state in (BidStatus.AWARDED, BidStatus.PART_AWARDED, BidStatus.DECLINED):
                assert asked is not None and asked > 0
                decided_on = min(deadline + timedelta(days=rng.randint(30, 120)), today)
                note = None
                if state is BidStatus.DECLINED:
                    feedback = note = rng.choice(FEEDBACK)
                else:
                    share = 100 if state is BidStatus.AWARDED else rng.randint(60, 90)
                    amount = asked * share // 100
                    award_id = take("bid_award")
                    fee = award_fee(amount, fee_bp)
                    add("bid_award", (award_id, bid_id, amount, fee, "Report on reach and outcomes each year.",
                                      decided_on, staff_id, at(decided_on, 15)))  # fmt: skip
                    add("bid_award_reporting_date", (take("bid_award_reporting_date"), award_id,
                                                     decided_on + timedelta(days=365)))  # fmt: skip
                    if decided_on.year == today.year:
                        income_this_year += amount
                    received = fee_taken = 0
                    for p, part in enumerate(
                        (amount // 2, amount - amount // 2) if rng.random() < 0.6 else (amount,)
                    ):
                        paid_on = decided_on + timedelta(days=30 + 120 * p)
                        if paid_on > today:
                            break
                        received += part
                        fee_due = (fee * received + amount // 2) // amount
                        add("bid_funder_payment", (take("bid_funder_payment"), award_id, part,
                                                   max(0, min(part, fee_due - fee_taken)), paid_on,
                                                   f"BACS {award_id}-{p + 1}", staff_id, at(paid_on, 16), None))  # fmt: skip
                        fee_taken += max(0, min(part, fee_due - fee_taken))
                    note = f"£{amount / 100:,.2f} of £{asked / 100:,.2f} asked"
                add("bid_step", (take("bid_step"), bid_id, "submitted", state.value, staff_id, at(decided_on, 15),
                                 note))  # fmt: skip
            add("bid", (bid_id, opportunity, f"Bench bid {n + 1}",
                        "Young people in the market towns have too few places to go in the evenings." if position >= 2
                        else "", lead, state.value, fee_bp, staff_id, created, submitted_at, asked, feedback))  # fmt: skip

        columns = {
            "funder": ["id", "name", "name_key", "funder_type", "org_id", "website", "notes", "created_by_id",
                       "created_at", "updated_at"],
            "funding_opportunity": ["id", "funder_id", "programme", "min_pence", "max_pence", "deadline",
                                    "eligibility", "accepts_consortium", "link", "status", "created_at",
                                    "created_by_id", "suggested_by_id", "suggested_for_id", "decided_by_id",
                                    "decided_at", "rejection_reason", "published_at", "closed_at"],
            "funding_opportunity_theme": ["opportunity_id", "theme"],
            "funding_opportunity_area": ["opportunity_id", "area"],
            "bid": ["id", "opportunity_id", "title", "case_for_support", "lead_organisation_id", "status",
                    "fee_basis_points", "created_by_id", "created_at", "submitted_at", "asked_pence",
                    "funder_feedback"],
            "bid_step": ["id", "bid_id", "from_status", "to_status", "by_id", "at", "note"],
            "bid_partner": ["id", "bid_id", "organisation_id", "status", "invited_by_id", "invited_at",
                            "responded_by_id", "responded_at", "activities", "outcomes", "part_updated_by_id",
                            "part_updated_at"],
            "bid_part_reach": ["partner_id", "town", "young_people"],
            "bid_budget_line": ["id", "partner_id", "category", "description", "amount_pence"],
            "bid_award": ["id", "bid_id", "amount_pence", "fee_pence", "conditions", "awarded_on", "recorded_by_id",
                          "recorded_at"],
            "bid_award_reporting_date": ["id", "award_id", "due"],
            "bid_funder_payment": ["id", "award_id", "amount_pence", "fee_pence", "received_on", "reference",
                                   "recorded_by_id", "recorded_at", "ledger_transaction_id"],
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
        conn.commit()
        vacuum_analyze(conn)
    return {
        "funders": n_funders,
        "opportunities": n_opportunities,
        "bids": n_bids,
        **{f"bids_{s.value}": counts[s] for s in BidStatus},
        "partners": len(rows.get("bid_partner", [])),
        "budget_lines": len(rows.get("bid_budget_line", [])),
        "awards": len(rows.get("bid_award", [])),
        "funder_payments": len(rows.get("bid_funder_payment", [])),
        "awarded_this_year_pence": income_this_year,
    }


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
