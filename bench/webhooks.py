"""Webhook throughput: signed Stripe events delivered to gunicorn (2 workers) as fast as 16 senders can, with
duplicates, then a check that none was lost or counted twice.

    python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --events 3000

It needs a database with a live campaign (bench/generate_fundraising.py). The Stripe API is the local stand-in the
tests use (tests/payments/stripe_standin.py): the app opens one Checkout Session per donation there, and reads each
payment's fee from it when the event arrives. The script makes --events donations through the app's own services
(pending, each with its checkout), builds each one's checkout.session.completed event signed with the stripe
library's own code, and sends them all, plus a --duplicates share sent again, in a shuffled order from --senders
threads on keep-alive connections. It prints events per second (target at least 300 with 2 workers), latency
percentiles, and the check: every donation succeeded once with one donation movement in the ledger, one stored
event each, every repeat answered "Already received.", no 5xx.

The webhook answers once the gift is counted; Stripe's fee is read afterwards by a Celery task (another call to
Stripe), and the receipt is emailed by another. A Celery worker (--celery-workers processes) runs beside gunicorn
from the start, as in production, and the script waits for it to finish: it prints how long after the last
delivery every fee was in the ledger and every receipt written, and checks one fee movement per donation.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from run import DEFAULT_URL, serve  # noqa: E402

from tests.payments.stripe_standin import SECRET_KEY, WEBHOOK_SECRET, StripeStandIn  # noqa: E402

TARGET_EVENTS_PER_SECOND = 300


def make_donations(database_url: str, standin: StripeStandIn, count: int) -> list[tuple[int, str]]:
    logging.getLogger("stripe").setLevel(logging.WARNING)
    """`count` pending donations to the busiest live campaign, each with its Checkout Session at the stand-in."""
    from foundation import create_app
    from foundation.extensions import db
    from foundation.fundraising import donations
    from foundation.fundraising.models import Campaign, CampaignStatus, Donation

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": False,
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": standin.url,
        }
    )
    made: list[tuple[int, str]] = []
    with app.app_context(), app.test_request_context("/"):
        campaign = db.session.scalar(
            sa.select(Campaign).where(Campaign.status == CampaignStatus.LIVE).order_by(Campaign.id).limit(1)
        )
        if campaign is None:
            raise SystemExit("no live campaign: run bench/generate_fundraising.py first")
        campaign.ends_on = max(campaign.ends_on, campaign.starts_on)
        for n in range(count):
            gift = donations.Gift(
                500 + 100 * (n % 50), f"Webhook Donor {n}", f"webhook{n}@donors.bench.example"
            )
            donation: Donation = donations.give(campaign, gift, None)
            db.session.commit()
            donations.checkout(donation)
            db.session.commit()
            assert donation.payment is not None and donation.payment.checkout_reference is not None
            made.append((donation.id, donation.payment.checkout_reference))
    return made


def send_all(
    base: str, bodies: list[tuple[bytes, str]], senders: int
) -> tuple[float, list[tuple[int, str, float]]]:
    """POST every (body, signature) from `senders` threads; the wall time and each answer (status, text, seconds)."""
    host, port = base.removeprefix("http://").split(":")
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    answers: list[tuple[int, str, float] | None] = [None] * len(bodies)

    def sender() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                i, (body, signature) = queue.pop()
            started = time.perf_counter()
            for attempt in range(3):
                try:
                    conn.request("POST", "/payments/webhooks/stripe", body=body,
                                 headers={"Content-Type": "application/json", "Stripe-Signature": signature})  # fmt: skip
                    response = conn.getresponse()
                    answers[i] = (response.status, response.read().decode(), time.perf_counter() - started)
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                    if attempt == 2:
                        answers[i] = (0, "connection failed", time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return wall, [a for a in answers if a is not None]


def check(database_url: str, donation_ids: list[int]) -> dict[str, Any]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:

        def one(sql: str) -> int:
            return int(conn.execute(sa.text(sql), {"ids": donation_ids}).scalar() or 0)

        found = {
            "donations succeeded": one(
                "SELECT count(*) FROM donation WHERE id = ANY(:ids) AND status = 'succeeded'"
            ),
            "donation movements": one(
                "SELECT count(*) FROM ledger_transaction WHERE kind = 'donation' AND source_type = 'donation' "
                "AND source_id = ANY(:ids)"
            ),
            "fee movements": one(
                "SELECT count(*) FROM ledger_transaction WHERE kind = 'provider_fee' AND source_id = ANY(:ids)"
            ),
            "events stored": one(
                "SELECT count(*) FROM payment_event e JOIN donation d ON d.payment_id = e.payment_id "
                "WHERE d.id = ANY(:ids)"
            ),
            "unbalanced transactions": one(
                "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entry GROUP BY transaction_id "
                "HAVING sum(amount_pence) <> 0) unbalanced"
            ),
        }
    engine.dispose()
    return found


def fee_movements(database_url: str, donation_ids: list[int]) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM ledger_transaction WHERE kind = 'provider_fee' AND source_id = ANY(:ids)"
            ),
            {"ids": donation_ids},
        ).scalar()
    engine.dispose()
    return int(found or 0)


def celery_worker(
    database_url: str, env: dict[str, str], processes: int, mail: str
) -> subprocess.Popen[bytes]:
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "make_celery",
            "worker",
            "-c",
            str(processes),
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **env, "DATABASE_URL": database_url, "MAIL_FOLDER": mail, "SECRET_KEY": "bench"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of events sent a second time")
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--celery-workers", type=int, default=1, help="Celery worker processes (fees, receipts)"
    )
    parser.add_argument(
        "--worker-after", action="store_true", help="start the Celery worker once the deliveries are done"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--broker", default="redis://127.0.0.1:6379/15", help="Celery broker for the receipts"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    standin = StripeStandIn().start()
    try:
        print(f"Making {args.events:,} pending donations with their checkouts...", file=sys.stderr)
        made = make_donations(args.database_url, standin, args.events)
        events = [standin.signed(standin.completed_event(session)) for _, session in made]
        repeats = rng.sample(events, int(len(events) * args.duplicates))
        bodies = events + repeats
        rng.shuffle(bodies)
        # As in production: receipts are handed to Celery through Redis after commit (no worker needs to run).
        env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "STRIPE_API_BASE": standin.url, "CELERY_BROKER_URL": args.broker}  # fmt: skip
        mail = tempfile.mkdtemp(prefix="bench-mail-")
        worker = (
            None if args.worker_after else celery_worker(args.database_url, env, args.celery_workers, mail)
        )
        try:
            with serve(args.database_url, args.workers, page_cache=True, extra_env=env) as (base, _pid):
                wall, answers = send_all(base, bodies, args.senders)
            sent_at = time.perf_counter()
            if worker is None:
                worker = celery_worker(args.database_url, env, args.celery_workers, mail)
            ids = [d for d, _ in made]
            fees = fee_movements(args.database_url, ids)
            while fees < len(events) and time.perf_counter() - sent_at < 600:
                time.sleep(0.5)
                fees = fee_movements(args.database_url, ids)
            drained = time.perf_counter() - sent_at
            receipts = len(list(Path(mail).glob("*")))
        finally:
            if worker is not None:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=30)
    finally:
        standin.stop()
    statuses: dict[int, int] = {}
    for status, _, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(seconds * 1000 for _, _, seconds in answers)
    applied = sum(1 for status, text, _ in answers if status == 200 and text == "succeeded")
    already = sum(1 for status, text, _ in answers if status == 200 and text == "Already received.")
    rate = len(answers) / wall
    print(f"{len(bodies):,} deliveries ({len(events):,} events, {len(repeats):,} repeats) from {args.senders} senders "
          f"to {args.workers} workers in {wall:.1f} s: {rate:,.0f} events/s "
          f"(target {TARGET_EVENTS_PER_SECOND}: {'met' if rate >= TARGET_EVENTS_PER_SECOND else 'NOT met'})")  # fmt: skip
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, p95 {latencies[int(0.95 * len(latencies)) - 1]:.1f}, "
          f"p99 {latencies[int(0.99 * len(latencies)) - 1]:.1f}")  # fmt: skip
    print(f"answers: {statuses}; applied {applied:,}, 'Already received.' {already:,}")
    found = check(args.database_url, [d for d, _ in made])
    print("check: " + ", ".join(f"{k} {v:,}" for k, v in found.items()))
    print(f"{args.celery_workers} Celery worker process(es) beside them: every fee in the ledger {drained:.1f} s after "
          f"the last delivery ({fees:,} fee movements; {receipts:,} receipts written)")  # fmt: skip
    ok = (
        applied == len(events)
        and already == len(repeats)
        and found["donations succeeded"]
        == found["donation movements"]
        == found["fee movements"]
        == fees
        == len(events)
        and found["events stored"] == len(events)
        and found["unbalanced transactions"] == 0
        and set(statuses) == {200}
    )
    print("none lost, none counted twice" if ok else "MISMATCH: see the figures above")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
