"""Seed a PostgreSQL database with seed-grant data at scale, for the load benchmark.

    python bench/generate_grants.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Scale 1 is 50 rounds, 5,000 applications, 5 reviewers on each with 6 criteria (150,000 scores); the last tenth of
the rounds are in review, the others decided, with their awards, instalments (paid or not), end-of-grant reports and
the fund's ledger (deposit, allocations, awards, payments). --scale 0.1 is a tenth of it.

By default the grants data is added to the database bench/generate.py made (the venue data stays): earlier grants
data is cleared first, so the script can be run again. --recreate drops and creates the database instead.

A staff user is created for the pages only staff may see: bench/run.py signs in with --staff-email and
--staff-password (the defaults match).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import (  # noqa: E402
    TOWNS,
    copy_rows,
    finish_copy,
    forget_people,
    migrate,
    recreate_database,
    scalar,
)

STAFF_EMAIL = "staff@grants.bench.example"
STAFF_PASSWORD = "bench-staff-password"
USER_DOMAIN = "grants.bench.example"
ORG_PREFIX = "Bench Grant Applicant"
CRITERIA = [
    ("Need", 3), ("Young people's voice", 2), ("Deliverability", 2), ("Value for money", 1),
    ("Reach", 2), ("Partnership", 1),
]  # fmt: skip
REVIEWERS_PER_APPLICATION = 5
PANEL_SIZE = 40
AWARD_RATE = 0.3
ROUND_SPACING_DAYS = (
    30  # at least; rounds span about four years whatever the scale, so some grants have finished
)


def ensure_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).scalar()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def clear_previous(cur: psycopg.Cursor) -> None:
    """Remove earlier grants bench data: every grant and ledger table, and the bench users and organisations."""
    cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND (table_name LIKE 'grant\\_%' OR table_name LIKE 'ledger\\_%')"
    )
    tables = [row[0] for row in cur.fetchall()]
    if tables:
        names = ", ".join('"' + t + '"' for t in tables)
        cur.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    cur.execute('SELECT id FROM "user" WHERE email LIKE %s', (f"%@{USER_DOMAIN}",))
    user_ids = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT id FROM organisation WHERE name LIKE %s", (f"{ORG_PREFIX} %",))
    org_ids = [row[0] for row in cur.fetchall()]
    # Sign-ins from earlier benchmark runs, and bench/generate_people.py's memberships and documents.
    forget_people(cur, user_ids, org_ids)
    cur.execute('DELETE FROM "user" WHERE id = ANY(%s)', (user_ids,))
    cur.execute("DELETE FROM organisation WHERE id = ANY(%s)", (org_ids,))


def next_id(cur: psycopg.Cursor, table: str) -> int:
    return int(scalar(cur, f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))


def generate(url: str, scale: float, seed: int, staff_email: str, staff_password: str) -> dict[str, int]:
    from werkzeug.security import generate_password_hash

    rng = random.Random(seed)
    n_rounds = max(2, round(50 * scale))
    per_round = max(REVIEWERS_PER_APPLICATION, int(5000 * scale) // n_rounds)
    n_in_review = max(1, n_rounds // 10)
    n_orgs = per_round + per_round // 2  # more organisations than applications in a round: not all apply
    spacing = max(ROUND_SPACING_DAYS, 1500 // n_rounds)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    staff_hash = generate_password_hash(staff_password, method="scrypt")

    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        clear_previous(cur)

        # People: one staff member who signs in for the benchmark, and a review panel.
        user0 = next_id(cur, "user")
        staff_id = user0
        users = [(staff_id, staff_email.lower(), "Bench Staff", staff_hash, now, True, False, now)]
        reviewer_ids = list(range(user0 + 1, user0 + 1 + PANEL_SIZE))
        for n, uid in enumerate(reviewer_ids, start=1):
            users.append(
                (
                    uid,
                    f"reviewer{n}@{USER_DOMAIN}",
                    f"Panel Reviewer {n}",
                    staff_hash,
                    now,
                    False,
                    True,
                    now,
                )
            )
        copy_rows(cur, "user", ["id", "email", "name", "password_hash", "email_confirmed_at", "is_staff",
                  "is_panel_reviewer", "created_at"], users)  # fmt: skip
        counts["users"] = len(users)

        org0 = next_id(cur, "organisation")
        orgs, org_ids = [], list(range(org0, org0 + n_orgs))
        for n, oid in enumerate(org_ids):
            town = TOWNS[n % len(TOWNS)]
            charity = f"{1_100_000 + oid}" if n % 3 == 0 else None
            orgs.append((oid, f"{ORG_PREFIX} {n + 1}", "voluntary", "registered_charity" if charity else "unincorporated",
                         charity, f"{n + 1} Bench Street", town, "SN15 1ER",
                         "swindon" if town == "Swindon" else "wiltshire", "Youth organisation applying for grants.",
                         "Bench Lead", f"lead{n + 1}@{USER_DOMAIN}", "approved", now, now, now))  # fmt: skip
        copy_rows(cur, "organisation", ["id", "name", "sector", "legal_form", "charity_number", "address_line1", "town",
                  "postcode", "area", "description", "safeguarding_lead_name", "safeguarding_lead_email", "status",
                  "created_at", "submitted_at", "approved_at"], orgs)  # fmt: skip
        counts["organisations"] = len(orgs)

        rounds, criteria, questions, applications, budget_lines = [], [], [], [], []
        assignments, scores, decisions, grants, instalments, reports = [], [], [], [], [], []
        accounts = [(1, "income", "Income: donations, match funding and other deposits", "income", now),
                    (2, "fund", "Seed-grant fund (unallocated)", "fund", now),
                    (3, "paid_out", "Paid to grantees", "paid_out", now)]  # fmt: skip
        transactions, entries = [], []
        tags: list[tuple[str, int]] = []
        ids = {"criterion": 0, "app": 0, "line": 0, "assignment": 0, "score": 0, "decision": 0, "grant": 0,
               "instalment": 0, "report": 0, "account": 3, "txn": 0, "entry": 0}  # fmt: skip

        def take(kind: str) -> int:
            ids[kind] += 1
            return ids[kind]

        def move(kind: str, reason: str, source: tuple[str, int | None], from_acct: int, to_acct: int,
                 amount: int, at: datetime, round_id: int | None = None, grant_id: int | None = None) -> int:  # fmt: skip
            txn = take("txn")
            transactions.append((txn, kind, reason, source[0], source[1], staff_id, at))
            tags.extend(
                (f"{what}:{ident}", txn)
                for what, ident in (("round", round_id), ("grant", grant_id))
                if ident
            )
            entries.append((take("entry"), txn, from_acct, -amount))
            entries.append((take("entry"), txn, to_acct, amount))
            return txn

        allocations: list[tuple[int, int, datetime]] = []
        with click.progressbar(range(1, n_rounds + 1), label="Rounds", file=sys.stderr) as bar:
            for r in bar:
                opens = now - timedelta(days=spacing * (n_rounds - r) + 120)
                closes = opens + timedelta(days=28)
                decided = r <= n_rounds - n_in_review
                decided_at = closes + timedelta(days=42) if decided else None
                code = f"B{r:02d}"
                rounds.append((r, f"Seed grants round {r}", code, "Small grants for new youth projects.",
                               "Mental health; rural isolation.", "Member organisations in good standing.", opens,
                               closes, 50_000, 500_000, "decided" if decided else "in_review", 20, per_round + 1,
                               staff_id, opens - timedelta(days=14), opens, decided_at))  # fmt: skip
                crit_ids = []
                for position, (name, weight) in enumerate(CRITERIA):
                    cid = take("criterion")
                    crit_ids.append(cid)
                    criteria.append(
                        (cid, r, name, f"How well the project shows {name.lower()}.", weight, 5, position)
                    )
                questions.append((r, r, "How will young people lead this project?", "", True, 300, 0))
                round_account = take("account")
                accounts.append(
                    (round_account, f"round:{r}", f"Budget of Seed grants round {r}", "round_budget", opens)
                )
                awarded_total = 0
                for n, org_id in enumerate(rng.sample(org_ids, per_round), start=1):
                    app_id = take("app")
                    requested = rng.randrange(50_000, 500_001, 500)
                    towns = rng.sample(TOWNS, rng.choice((1, 1, 1, 2, 3)))
                    award = decided and rng.random() < AWARD_RATE
                    status = ("awarded" if award else "declined") if decided else "submitted"
                    submitted = opens + timedelta(days=rng.randint(1, 27), hours=rng.randint(8, 20))
                    starts = closes.date() + timedelta(days=90)
                    applications.append((app_id, r, org_id, f"WYPF-{opens.year}-{code}-{n:04d}", status,
                                         f"Youth project {app_id}", "Weekly sessions designed with young people.",
                                         "A project designed and led by young people, with trained youth workers.",
                                         json.dumps(towns), rng.randint(10, 150), 11, 18, starts,
                                         starts + timedelta(days=240), requested, "More confident young people.",
                                         "Local school", submitted, submitted, submitted, 1))  # fmt: skip
                    half = requested // 2
                    budget_lines.append((take("line"), app_id, "Youth worker hours", half, 0))
                    budget_lines.append(
                        (take("line"), app_id, "Activities and materials", requested - half, 1)
                    )
                    for reviewer in rng.sample(reviewer_ids, REVIEWERS_PER_APPLICATION):
                        aid = take("assignment")
                        reviewed = closes + timedelta(days=rng.randint(1, 20))
                        assignments.append(
                            (aid, app_id, reviewer, staff_id, closes, "none", reviewed, reviewed)
                        )
                        for cid in crit_ids:
                            na = rng.random() < 0.01
                            scores.append((take("score"), aid, cid, None if na else rng.randint(0, 5), na,
                                           "Not relevant to this project." if na else None, "", reviewed))  # fmt: skip
                    if not decided:
                        continue
                    assert decided_at is not None
                    if not award:
                        decisions.append((take("decision"), app_id, "decline", 0, "Thank you for applying.", staff_id,
                                          decided_at))  # fmt: skip
                        continue
                    amount = (
                        requested if rng.random() < 0.6 else max(50_000, (requested * 3 // 4) // 100 * 100)
                    )
                    decisions.append((take("decision"), app_id, "award_full" if amount == requested else "award_part",
                                      amount, "Congratulations.", staff_id, decided_at))  # fmt: skip
                    awarded_total += amount
                    gid = take("grant")
                    finished = starts + timedelta(days=300) < today
                    grants.append((gid, app_id, r, org_id, amount, "Report at the end of the grant.",
                                   "completed" if finished else "active", starts + timedelta(days=300),
                                   decided_at + timedelta(days=7), decided_at))  # fmt: skip
                    grant_account = take("account")
                    accounts.append((grant_account, f"grant:{gid}", f"Grant WYPF-{opens.year}-{code}-{n:04d}",
                                     "grant_payable", decided_at))  # fmt: skip
                    move("award", f"Award to {ORG_PREFIX}", ("grant", gid), round_account, grant_account, amount,
                         decided_at, round_id=r, grant_id=gid)  # fmt: skip
                    first = amount * 6 // 10
                    for k, part in enumerate((first, amount - first)):
                        iid = take("instalment")
                        due = decided_at.date() + timedelta(days=14 + 120 * k)
                        paid = due < today and (k == 0 or finished)
                        txn = None
                        paid_at = datetime.combine(due, datetime.min.time(), tzinfo=UTC) if paid else None
                        if paid and paid_at is not None:
                            txn = move("payment", f"Instalment {k + 1}", ("instalment", iid), grant_account, 3, part,
                                       paid_at, round_id=r, grant_id=gid)  # fmt: skip
                        instalments.append((iid, gid, due, part, paid_at, staff_id if paid else None,
                                            f"BACS-{iid}" if paid else None, txn))  # fmt: skip
                    if finished:
                        spent = amount - rng.choice((0, 0, 0, 5_000))
                        reports.append((take("report"), gid, "accepted", "Sessions ran every week.",
                                        rng.randint(5, 160), "Spent as budgeted.", spent, amount - spent,
                                        decided_at + timedelta(days=330), decided_at + timedelta(days=340)))  # fmt: skip
                budget = (awarded_total // 1_000_000 + 2) * 1_000_000
                allocations.append((r, budget, opens - timedelta(days=7)))
                # the round's budget is allocated before its awards are made
                txn = take("txn")
                transactions.append((txn, "allocation", f"Budget for Seed grants round {r}", "round", r, staff_id,
                                     opens - timedelta(days=7)))  # fmt: skip
                tags.append((f"round:{r}", txn))
                entries.append((take("entry"), txn, 2, -budget))
                entries.append((take("entry"), txn, round_account, budget))

        total = sum(b for _, b, _ in allocations)
        first_allocation = min(at for *_, at in allocations)
        move("deposit", "Opening balance", ("opening_balance", None), 1, 2, total + 5_000_000,
             first_allocation - timedelta(days=1))  # fmt: skip

        click.echo("Writing rows with COPY...", err=True)
        copy_rows(cur, "grant_round", ["id", "name", "code", "description", "priorities", "eligibility", "opens_at",
                  "closes_at", "min_award_pence", "max_award_pence", "status", "disagreement_threshold",
                  "next_reference", "created_by_id", "created_at", "opened_at", "decided_at"], rounds)  # fmt: skip
        copy_rows(cur, "grant_criterion", ["id", "round_id", "name", "description", "weight", "max_score", "position"],
                  criteria)  # fmt: skip
        copy_rows(cur, "grant_round_question", ["id", "round_id", "prompt", "help_text", "required", "max_words",
                  "position"], questions)  # fmt: skip
        copy_rows(cur, "grant_application", ["id", "round_id", "organisation_id", "reference", "status", "project_title",
                  "summary", "description", "towns", "young_people_count", "age_min", "age_max", "starts_on", "ends_on",
                  "amount_requested_pence", "outcomes", "partners", "created_at", "updated_at", "submitted_at",
                  "version"], applications)  # fmt: skip
        copy_rows(
            cur, "grant_budget_line", ["id", "application_id", "item", "cost_pence", "position"], budget_lines
        )
        copy_rows(cur, "grant_review_assignment", ["id", "application_id", "reviewer_id", "assigned_by_id",
                  "assigned_at", "conflict", "declared_at", "submitted_at"], assignments)  # fmt: skip
        copy_rows(cur, "grant_score", ["id", "assignment_id", "criterion_id", "score", "not_applicable", "na_reason",
                  "comment", "updated_at"], scores)  # fmt: skip
        copy_rows(cur, "grant_decision", ["id", "application_id", "outcome", "amount_pence", "feedback",
                  "decided_by_id", "decided_at"], decisions)  # fmt: skip
        copy_rows(cur, "grant_award", ["id", "application_id", "round_id", "organisation_id", "amount_pence",
                  "conditions", "status", "report_due_on", "accepted_at", "created_at"], grants)  # fmt: skip
        copy_rows(cur, "ledger_account", ["id", "code", "name", "kind", "created_at"], accounts)
        copy_rows(cur, "ledger_transaction", ["id", "kind", "reason", "source_type", "source_id", "created_by_id",
                  "created_at"], transactions)  # fmt: skip
        copy_rows(cur, "ledger_transaction_tag", ["tag", "transaction_id"], tags)
        copy_rows(cur, "ledger_entry", ["id", "transaction_id", "account_id", "amount_pence"], entries)
        copy_rows(cur, "grant_instalment", ["id", "grant_id", "due_on", "amount_pence", "paid_at", "paid_by_id",
                  "payment_reference", "transaction_id"], instalments)  # fmt: skip
        copy_rows(cur, "grant_report", ["id", "grant_id", "status", "what_happened", "young_people_reached",
                  "spend_summary", "spent_pence", "underspend_pence", "submitted_at", "reviewed_at"], reports)  # fmt: skip
        finish_copy(conn, cur, ("user", "organisation", "grant_round", "grant_criterion", "grant_round_question",
                      "grant_application", "grant_budget_line", "grant_review_assignment", "grant_score",
                      "grant_decision", "grant_award", "grant_instalment", "grant_report", "ledger_account",
                      "ledger_transaction", "ledger_transaction_tag", "ledger_entry"))  # fmt: skip

    in_review = [r[0] for r in rounds if r[10] == "in_review"]
    counts.update(
        rounds=len(rounds), applications=len(applications), assignments=len(assignments), scores=len(scores),
        decisions=len(decisions), grants=len(grants), instalments=len(instalments), reports=len(reports),
        ledger_transactions=len(transactions), first_round_in_review=in_review[0],
    )  # fmt: skip
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    parser.add_argument("--staff-email", default=STAFF_EMAIL)
    parser.add_argument("--staff-password", default=STAFF_PASSWORD)
    args = parser.parse_args()
    name = sa.engine.make_url(args.database_url).database
    if args.recreate:
        click.echo(f"Recreating {name} and migrating...", err=True)
        recreate_database(args.database_url)
    else:
        click.echo(f"Migrating {name} (grants data already there is replaced)...", err=True)
        ensure_database(args.database_url)
    migrate(args.database_url)
    counts = generate(args.database_url, args.scale, args.seed, args.staff_email, args.staff_password)
    refresh_scorecard(args.database_url)
    click.echo(" ".join(f"{k}={v:,}" for k, v in counts.items()))


def refresh_scorecard(url: str) -> None:
    """The scorecard reads stored totals, which the app keeps as it writes; rows copied in bypass it."""
    from foundation import create_app
    from foundation.extensions import db
    from foundation.grants.scorecard import refresh_all_totals

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        rounds = refresh_all_totals()
        db.session.commit()
    click.echo(f"Scorecard totals worked out for {rounds} rounds.", err=True)


if __name__ == "__main__":
    main()
