"""Seed a PostgreSQL database with fundraising data at scale, for the load benchmark.

    python bench/generate_fundraising.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --scale 1

Scale 1 is 200 campaigns (a tenth closed) led by the approved organisations already in the database, with 0 to 3
partners each, and 200,000 donations (the first campaign gets a tenth of them), all taken through Stripe: each
with its payment, its provider event, its ledger movements (the gift, and Stripe's fee) and their tags; a third
with Gift Aid (50,000 donors, one declaration each), a fifth with a message, one in a hundred refunded. Half the
campaigns have a match pledge; closed campaigns have passed their money to the fund; one Gift Aid claim holds a
tenth of the claimable gifts. --scale 0.1 is a tenth of it.

Run after bench/generate.py and bench/generate_grants.py (it needs their organisations and the ledger's accounts);
earlier fundraising data is cleared first, so the script can be run again.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import copy_rows, finish_copy, migrate, scalar  # noqa: E402

CAMPAIGNS = 200
DONATIONS = 200_000
DONORS = 50_000
SLUG_PREFIX = "bench-campaign-"
POSTCODES = ["SN15 1ER", "BA14 8JN", "SP1 2AA", "SN1 4JJ", "SN11 0AB", "SN10 1HX", "BA12 9BN"]


def clear_previous(cur: psycopg.Cursor) -> None:
    """Remove what an earlier run wrote (every fundraising table, the payments, and their ledger movements)."""
    cur.execute(
        "SELECT transaction_id FROM ledger_transaction_tag WHERE tag LIKE 'campaign:%' "
        "UNION SELECT id FROM ledger_transaction WHERE kind IN "
        "('donation', 'refund', 'provider_fee', 'match_funding', 'gift_aid', 'campaign_close')"
    )
    txns = [row[0] for row in cur.fetchall()]
    for table in ("gift_aid_claim_item", "match_payment", "match_pledge", "donation", "campaign_partner"):
        cur.execute(f"DELETE FROM {table}")
    cur.execute("DELETE FROM gift_aid_claim")
    cur.execute("DELETE FROM gift_aid_declaration")
    cur.execute("DELETE FROM payment_event")
    cur.execute("DELETE FROM payment")
    cur.execute("DELETE FROM campaign")
    cur.execute("DELETE FROM ledger_transaction_tag WHERE transaction_id = ANY(%s)", (txns,))
    cur.execute("DELETE FROM ledger_entry WHERE transaction_id = ANY(%s)", (txns,))
    cur.execute("DELETE FROM ledger_transaction WHERE id = ANY(%s)", (txns,))
    accounts = "SELECT id FROM ledger_account WHERE code LIKE 'campaign:%' OR code = 'fees'"
    cur.execute(f"DELETE FROM ledger_total WHERE account_id IN ({accounts})")
    cur.execute(f"DELETE FROM ledger_account WHERE id IN ({accounts})")


def next_id(cur: psycopg.Cursor, table: str) -> int:
    return int(scalar(cur, f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))


def account_id(cur: psycopg.Cursor, code: str, name: str, kind: str, now: datetime) -> int:
    cur.execute("SELECT id FROM ledger_account WHERE code = %s", (code,))
    row = cur.fetchone()
    if row is not None:
        return int(row[0])
    cur.execute(
        "INSERT INTO ledger_account (code, name, kind, created_at) VALUES (%s, %s, %s, %s) RETURNING id",
        (code, name, kind, now),
    )
    found = cur.fetchone()
    assert found is not None
    return int(found[0])


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    n_campaigns = max(4, round(CAMPAIGNS * scale))
    n_donations = max(40, round(DONATIONS * scale))
    n_donors = max(10, round(DONORS * scale))
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        clear_previous(cur)
        cur.execute(
            "SELECT id FROM organisation WHERE status = 'approved' ORDER BY id LIMIT %s", (n_campaigns * 4,)
        )
        orgs = [row[0] for row in cur.fetchall()]
        if len(orgs) < 4:
            raise SystemExit(
                "no approved organisations: run bench/generate.py and bench/generate_grants.py first"
            )
        staff_id = scalar(cur, 'SELECT id FROM "user" WHERE is_staff ORDER BY id LIMIT 1')
        income = account_id(
            cur, "income", "Income: donations, match funding and other deposits", "income", now
        )
        fund = account_id(cur, "fund", "Seed-grant fund (unallocated)", "fund", now)
        fees = account_id(cur, "fees", "Payment providers' fees", "fees", now)

        ids = {t: next_id(cur, t) for t in ("campaign", "campaign_partner", "ledger_account", "ledger_transaction",
                                             "ledger_entry", "payment", "payment_event", "donation",
                                             "gift_aid_declaration", "match_pledge", "match_payment",
                                             "gift_aid_claim")}  # fmt: skip

        def take(table: str) -> int:
            ids[table] += 1
            return ids[table] - 1

        rows: dict[str, list[tuple]] = {}

        def add(table: str, row: tuple) -> None:
            rows.setdefault(table, []).append(row)

        def move(kind: str, reason: str, source: tuple[str, int], moves: list[tuple[int, int]], at: datetime,
                 tag: str) -> int:  # fmt: skip
            txn = take("ledger_transaction")
            add("ledger_transaction", (txn, kind, reason, source[0], source[1], None, at))
            for acct, pence in moves:
                add("ledger_entry", (take("ledger_entry"), txn, acct, pence))
            add("ledger_transaction_tag", (tag, txn))
            return txn

        campaigns = []
        campaign_rows: dict[int, tuple] = {}
        received: dict[int, list[tuple[datetime, int]]] = {}
        for n in range(n_campaigns):
            cid = take("campaign")
            closed = n % 10 == 9
            starts = today - timedelta(days=rng.randint(20, 200) if closed else rng.randint(5, 60))
            ends = starts + timedelta(days=60) if not closed else today - timedelta(days=rng.randint(1, 15))
            ends = max(ends, starts)
            acct = take("ledger_account")
            title = f"Bench campaign {n + 1}"
            add("ledger_account", (acct, f"campaign:{cid}", f"Campaign: {title}", "campaign", now))
            campaign_rows[cid] = ((cid, f"{SLUG_PREFIX}{n + 1}", title, "Kit, trips and youth workers for young people.",
                             "Young people asked for it; the groups of the consortium run it together.\n\n" * 3,
                             rng.choice([500_000, 1_500_000, 5_000_000]), starts, ends,
                             "closed" if closed else "live", orgs[n % len(orgs)], fund, staff_id, now, now,
                             staff_id, now))  # fmt: skip
            for k in range(rng.randint(0, 3)):
                partner = orgs[(n + 1 + k * 7) % len(orgs)]
                if partner != orgs[n % len(orgs)]:
                    add("campaign_partner", (take("campaign_partner"), cid, partner, "accepted", staff_id, now,
                                             staff_id, now))  # fmt: skip
            campaigns.append((cid, acct, starts, closed))
        counts["campaigns"] = n_campaigns

        declarations = []
        for d in range(n_donors):
            gid = take("gift_aid_declaration")
            add("gift_aid_declaration", (gid, None, f"donor{d}@donors.bench.example", None, "Dana", f"Donor{d}",
                                         str(d % 200 + 1), POSTCODES[d % len(POSTCODES)], "hmrc-model-2024",
                                         "Wiltshire Young People's Foundation", "online", now - timedelta(days=300),
                                         None))  # fmt: skip
            declarations.append(gid)

        held = {cid: 0 for cid, *_ in campaigns}
        eligible: dict[int, int] = {}
        claimable = []
        for i in range(n_donations):
            # The first campaign gets a tenth of the gifts (the page under load), the rest share them out.
            cid, acct, starts, closed = (
                campaigns[0] if i % 10 == 0 else campaigns[rng.randrange(len(campaigns))]
            )
            donor = rng.randrange(n_donors)
            amount = rng.choice([500, 1000, 1000, 2000, 2500, 2500, 5000, 10000, 25000])
            fee = 20 + amount * 15 // 1000
            at = datetime.combine(starts, datetime.min.time(), UTC) + timedelta(
                minutes=rng.randint(0, 50_000)
            )
            at = min(at, now - timedelta(minutes=1))
            refunded = i % 100 == 57
            gift_aid = donor % 3 == 0
            pid, did = take("payment"), take("donation")
            add("payment", (pid, "stripe", amount, "gbp", f"Donation to Bench campaign {cid}", "donation", did,
                            "refunded" if refunded else "succeeded", f"cs_bench_{pid}", None, f"pi_bench_{pid}", fee,
                            None, None, None, None, None, at, at, at if refunded else None, at))  # fmt: skip
            add("payment_event", (take("payment_event"), "stripe", f"evt_bench_{pid}", "checkout.session.completed",
                                  pid, "succeeded", f"pi_bench_{pid}", "applied", "succeeded", at, at))  # fmt: skip
            message = f"Good luck from donor {donor}!" if i % 5 == 0 else None
            add("donation", (did, cid, pid, amount, "refunded" if refunded else "succeeded", f"Dana Donor{donor}",
                             f"donor{donor}@donors.bench.example", None, i % 7 == 0, i % 11 == 0, message,
                             "shown" if message and i % 10 else ("waiting" if message else "none"),
                             declarations[donor] if gift_aid else None, False, False, None, at, at,
                             at if refunded else None, at))  # fmt: skip
            tag = f"campaign:{cid}"
            move("donation", f"Donation to Bench campaign {cid}", ("donation", did), [(income, -amount), (acct, amount)],
                 at, tag)  # fmt: skip
            move("provider_fee", "Card fee", ("donation", did), [(acct, -fee), (fees, fee)], at, tag)
            held[cid] += amount - fee
            if refunded:
                move(
                    "refund",
                    "Refund of a donation",
                    ("donation", did),
                    [(acct, -amount), (income, amount)],
                    at,
                    tag,
                )
                held[cid] -= amount
            else:
                received.setdefault(cid, []).append((at, amount))
                if gift_aid:
                    claimable.append((did, amount))
                    eligible[cid] = eligible.get(cid, 0) + amount
        counts["donations"] = n_donations

        for n, (cid, acct, starts, closed) in enumerate(campaigns):
            if n % 2 == 0:
                pledge = take("match_pledge")
                window = datetime.combine(starts, datetime.min.time(), UTC)
                window_end = window + timedelta(days=61)
                gifts = received.get(cid, [])
                before = sum(a for at, a in gifts if at < window)
                within = sum(a for at, a in gifts if window <= at < window_end)
                add("match_pledge", (pledge, cid, f"Bench match funder {n}", None, 100, 250_000, 10, starts,
                                     starts + timedelta(days=60), window, window_end, before, within, staff_id,
                                     now))  # fmt: skip
                paid = 10_000
                txn = move("match_funding", f"Match funding {n}", ("match_pledge", pledge), [(income, -paid), (acct, paid)],
                           now, f"campaign:{cid}")  # fmt: skip
                add(
                    "match_payment",
                    (take("match_payment"), pledge, paid, today, f"MATCH {n}", staff_id, txn, now),
                )
                held[cid] += paid
            if closed and held[cid] > 0:
                move("campaign_close", f"Raised by Bench campaign {cid}", ("campaign", cid),
                     [(acct, -held[cid]), (fund, held[cid])], now, f"campaign:{cid}")  # fmt: skip

        for cid, row in campaign_rows.items():
            gifts = received.get(cid, [])
            add("campaign", (*row, sum(a for _, a in gifts), len(gifts), eligible.get(cid, 0)))

        claim = take("gift_aid_claim")
        chosen = claimable[: len(claimable) // 10]
        add("gift_aid_claim", (claim, "submitted", sum(a for _, a in chosen), 0, staff_id, now, None, None, None,
                               None, None))  # fmt: skip
        for did, amount in chosen:
            add("gift_aid_claim_item", (did, claim, amount))

        columns = {
            "ledger_account": ["id", "code", "name", "kind", "created_at"],
            "campaign": ["id", "slug", "title", "summary", "story", "target_pence", "starts_on", "ends_on", "status",
                         "lead_organisation_id", "destination_id", "created_by_id", "created_at", "submitted_at",
                         "approved_by_id", "approved_at", "donations_pence", "supporters", "gift_aid_eligible_pence"],
            "campaign_partner": ["id", "campaign_id", "organisation_id", "status", "invited_by_id", "invited_at",
                                 "responded_by_id", "responded_at"],
            "gift_aid_declaration": ["id", "user_id", "email", "title", "first_name", "last_name", "house", "postcode",
                                     "wording_version", "charity_name", "source", "declared_at", "cancelled_at"],
            "payment": ["id", "provider", "amount_pence", "currency", "description", "purpose_type", "purpose_id",
                        "status", "checkout_reference", "checkout_url", "payment_reference", "fee_pence",
                        "failure_reason", "received_by", "received_on", "received_reference", "recorded_by_id",
                        "created_at", "settled_at", "refunded_at", "fee_recorded_at"],
            "payment_event": ["id", "provider", "event_id", "type", "payment_id", "reported", "payment_reference",
                              "status", "outcome", "received_at", "applied_at"],
            "gift_aid_claim": ["id", "status", "donations_pence", "adjustment_pence", "created_by_id", "created_at",
                               "paid_pence", "paid_on", "hmrc_reference", "paid_recorded_by_id", "transaction_id"],
            "donation": ["id", "campaign_id", "payment_id", "amount_pence", "status", "donor_name", "donor_email",
                         "user_id", "anonymous", "hide_amount", "message", "message_status", "declaration_id",
                         "has_benefit", "needs_adjustment", "adjusted_in_claim_id", "created_at", "succeeded_at",
                         "refunded_at", "receipt_sent_at"],
            "gift_aid_claim_item": ["donation_id", "claim_id", "amount_pence"],
            "match_pledge": ["id", "campaign_id", "funder_name", "organisation_id", "ratio_percent", "cap_pence",
                             "trigger_percent", "window_starts_on", "window_ends_on", "window_starts_at",
                             "window_ends_at", "before_pence", "within_pence", "created_by_id", "created_at"],
            "ledger_transaction": ["id", "kind", "reason", "source_type", "source_id", "created_by_id", "created_at"],
            "ledger_transaction_tag": ["tag", "transaction_id"],
            "ledger_entry": ["id", "transaction_id", "account_id", "amount_pence"],
            "match_payment": ["id", "pledge_id", "amount_pence", "received_on", "reference", "recorded_by_id",
                              "transaction_id", "created_at"],
        }  # fmt: skip
        with click.progressbar(list(columns), label="Copying", file=sys.stderr) as tables:
            for table in tables:
                copy_rows(cur, table, columns[table], rows.get(table, []))
        counts.update(ledger_transactions=len(rows["ledger_transaction"]), claim_items=len(chosen))
        finish_copy(
            conn, cur, [t for t in columns if t not in ("ledger_transaction_tag", "gift_aid_claim_item")]
        )
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
