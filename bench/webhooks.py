"""Webhook throughput: signed Stripe events delivered to gunicorn (2 workers) as fast as 16 senders can, with
duplicates, then a check that none was lost or counted twice.

    python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench --events 2000
    python bench/webhooks.py --events 2000 --worker-after     # the Celery worker starts once the deliveries end
    python bench/webhooks.py --events 2000 --threads 4        # each gunicorn worker with 4 threads (gthread)

It needs a database with a live campaign (bench/generate_fundraising.py). The Stripe API is the local stand-in the
tests use (tests/payments/stripe_standin.py): the app opens one Checkout Session per donation there, and reads each
payment's fee from it afterwards. The script makes --events donations through the app's own services (pending,
each with its checkout), builds each one's checkout.session.completed event signed with the stripe library's own
code, and sends them all, plus a --duplicates share sent again, in a shuffled order from --senders threads on
keep-alive connections. It prints events per second accepted (target at least 300 with 2 workers) and latency
percentiles.

The endpoint is an inbox: it verifies the event, stores it once and answers "Received." (a repeat: "Already
received."); a Celery worker (--celery-workers processes, beside gunicorn from the start as in production, or
started once the deliveries are done with --worker-after; --worker-nice runs it at a lower priority) applies the
stored events in batches: the donations, their ledger movements, the campaign's totals and the receipts; then it
reads each payment's fee from Stripe and records it. The script waits for the worker and prints how long after
the last delivery every event was applied, every fee was in the ledger and every receipt was written, then
checks: every event stored and applied once, every donation succeeded once with one donation movement and one fee
movement, one receipt each, the campaign's kept totals equal to its donations counted again, every ledger
transaction balanced, no 5xx.

The two cores are shared by everything here (and by whatever else the machine runs), so events per second move
with the machine's load, which is printed before and after. The CPU each part used per delivery while the events
were sent does not: gunicorn's processes, PostgreSQL's server processes serving gunicorn and the worker (told
apart by their connections' application names, as the database may serve other benchmarks at the same time),
this process's senders, and the worker; and, from their sum, the deliveries per second two idle cores could take.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import random
import secrets
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


def make_donations(
    database_url: str, standin: StripeStandIn, count: int
) -> tuple[list[tuple[int, str]], int]:
    """`count` pending donations to the busiest live campaign, each with its Checkout Session at the stand-in."""
    logging.getLogger("stripe").setLevel(logging.WARNING)
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
    run = secrets.token_hex(3)  # each run's donors are its own, so its receipts can be counted
    with app.app_context(), app.test_request_context("/"):
        campaign = db.session.scalar(
            sa.select(Campaign).where(Campaign.status == CampaignStatus.LIVE).order_by(Campaign.id).limit(1)
        )
        if campaign is None:
            raise SystemExit("no live campaign: run bench/generate_fundraising.py first")
        campaign.ends_on = max(campaign.ends_on, campaign.starts_on)
        for n in range(count):
            gift = donations.Gift(
                500 + 100 * (n % 50), f"Webhook Donor {n}", f"webhook{n}-{run}@donors.bench.example"
            )
            donation: Donation = donations.give(campaign, gift, None)
            db.session.commit()
            donations.checkout(donation)
            db.session.commit()
            assert donation.payment is not None and donation.payment.checkout_reference is not None
            made.append((donation.id, donation.payment.checkout_reference))
        campaign_id = campaign.id
    return made, campaign_id


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def processes_in_group(pgid: int) -> list[int]:
    """A process group's members (gunicorn's master and workers, a Celery worker and its pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def database_backends(engine: sa.Engine, application: str) -> list[int]:
    """PostgreSQL's server processes serving connections that named themselves `application` (the database is
    shared with other benchmarks, so its name is not enough)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application},
            ).scalars()
        )


def named(database_url: str, application: str) -> str:
    """The database URL with an application name, so its server processes can be told apart."""
    url = sa.engine.make_url(database_url)
    return url.update_query_dict({"application_name": application}).render_as_string(hide_password=False)


WEB, WORKER = "bench-webhooks-web", "bench-webhooks-worker"


class CpuUse:
    """CPU used by each part while deliveries are sent: gunicorn, PostgreSQL's backends for the bench database,
    this process (the senders), and the Celery worker when it runs beside. Figures per delivery do not depend on
    what else the machine is doing, as throughput does."""

    def __init__(self, gunicorn: int, engine: sa.Engine, worker: int | None) -> None:
        self.groups = {"gunicorn": gunicorn, **({"Celery worker": worker} if worker is not None else {})}
        self.engine = engine
        self.before = self._now()

    def _now(self) -> dict[str, float]:
        now = {name: cpu_seconds(processes_in_group(pgid)) for name, pgid in self.groups.items()}
        now["PostgreSQL for gunicorn"] = cpu_seconds(database_backends(self.engine, WEB))
        if "Celery worker" in self.groups:
            now["PostgreSQL for the worker"] = cpu_seconds(database_backends(self.engine, WORKER))
        now["senders (this process)"] = time.process_time()
        return now

    def per_delivery_ms(self, deliveries: int) -> dict[str, float]:
        after = self._now()
        return {name: (after[name] - self.before[name]) * 1000 / deliveries for name in after}


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


def check(database_url: str, donation_ids: list[int], campaign_id: int) -> dict[str, Any]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:

        def one(sql: str) -> int:
            return int(
                conn.execute(sa.text(sql), {"ids": donation_ids, "campaign": campaign_id}).scalar() or 0
            )

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
            "events applied 'succeeded'": one(
                "SELECT count(*) FROM payment_event e JOIN donation d ON d.payment_id = e.payment_id "
                "WHERE d.id = ANY(:ids) AND e.status = 'applied' AND e.outcome = 'succeeded'"
            ),
            "receipts": one(
                "SELECT count(*) FROM notification n JOIN donation d ON d.donor_email = n.email_to "
                "WHERE d.id = ANY(:ids)"
            ),
            "campaign totals off by (pence)": one(
                "SELECT c.donations_pence - (SELECT coalesce(sum(amount_pence), 0) FROM donation "
                "WHERE campaign_id = c.id AND status = 'succeeded') FROM campaign c WHERE c.id = :campaign"
            ),
            "campaign supporters off by": one(
                "SELECT c.supporters - (SELECT count(*) FROM donation "
                "WHERE campaign_id = c.id AND status = 'succeeded') FROM campaign c WHERE c.id = :campaign"
            ),
            "unbalanced transactions": one(
                "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entry GROUP BY transaction_id "
                "HAVING sum(amount_pence) <> 0) unbalanced"
            ),
        }
    engine.dispose()
    return found


def progress(engine: sa.Engine, donation_ids: list[int], mail: str) -> dict[str, int]:
    """How far the worker has got: events applied, fees in the ledger, receipts written."""
    with engine.connect() as conn:
        applied, fees = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM payment_event e JOIN donation d ON d.payment_id = e.payment_id "
                "        WHERE d.id = ANY(:ids) AND e.status <> 'received'), "
                "       (SELECT count(*) FROM ledger_transaction WHERE kind = 'provider_fee' "
                "        AND source_type = 'donation' AND source_id = ANY(:ids))"
            ),
            {"ids": donation_ids},
        ).one()
    return {"applied": int(applied), "fees": int(fees), "receipts": len(list(Path(mail).glob("*")))}


def celery_worker(
    database_url: str, env: dict[str, str], processes: int, mail: str, niceness: int = 0
) -> subprocess.Popen[bytes]:
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [
            *(["nice", "-n", str(niceness)] if niceness else []),
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
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (gthread): a delivery mostly waits for PostgreSQL's commit",
    )
    parser.add_argument(
        "--celery-workers",
        type=int,
        default=1,
        help="Celery worker processes (applying events, fees, receipts)",
    )
    parser.add_argument(
        "--worker-after", action="store_true", help="start the Celery worker once the deliveries are done"
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="run the Celery worker at this niceness (10: it takes the CPU the web workers leave)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/15",
        help="Celery broker (Redis): the worker's wake-ups, fee reads and receipts",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    standin = StripeStandIn().start()
    try:
        print(f"Making {args.events:,} pending donations with their checkouts...", file=sys.stderr)
        made, campaign_id = make_donations(args.database_url, standin, args.events)
        events = [standin.signed(standin.completed_event(session)) for _, session in made]
        repeats = rng.sample(events, int(len(events) * args.duplicates))
        bodies = events + repeats
        rng.shuffle(bodies)
        # As in production: after each commit the app hands stored events (then fees, receipts) to Celery via Redis.
        env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "STRIPE_API_BASE": standin.url, "CELERY_BROKER_URL": args.broker}  # fmt: skip
        web_env = {**env, "GUNICORN_CMD_ARGS": f"--threads {args.threads}"} if args.threads > 1 else env
        mail = tempfile.mkdtemp(prefix="bench-mail-")
        worker = (
            None
            if args.worker_after
            else celery_worker(
                named(args.database_url, WORKER), env, args.celery_workers, mail, args.worker_nice
            )
        )
        load_before = os.getloadavg()
        ids = [d for d, _ in made]
        engine = sa.create_engine(args.database_url)
        try:
            with serve(named(args.database_url, WEB), args.workers, page_cache=True, extra_env=web_env) as (
                base,
                master,
            ):
                cpu = CpuUse(master, engine, worker.pid if worker is not None else None)
                wall, answers = send_all(base, bodies, args.senders)
                cpu_ms = cpu.per_delivery_ms(len(bodies))
            sent_at = time.perf_counter()
            load_sent = os.getloadavg()
            if worker is None:
                worker = celery_worker(
                    named(args.database_url, WORKER), env, args.celery_workers, mail, args.worker_nice
                )
            done_at: dict[str, float] = {}
            now = progress(engine, ids, mail)
            while len(done_at) < 3 and time.perf_counter() - sent_at < 600:
                for what, count in now.items():
                    if count >= len(events) and what not in done_at:
                        done_at[what] = time.perf_counter() - sent_at
                time.sleep(0.2)
                now = progress(engine, ids, mail)
            fees, receipts = now["fees"], now["receipts"]
            worker_cpu = cpu_seconds(processes_in_group(worker.pid))
        finally:
            engine.dispose()
            if worker is not None:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=30)
    finally:
        standin.stop()
    statuses: dict[int, int] = {}
    for status, _, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(seconds * 1000 for _, _, seconds in answers)
    received = sum(1 for status, text, _ in answers if status == 200 and text == "Received.")
    already = sum(1 for status, text, _ in answers if status == 200 and text == "Already received.")
    rate = len(answers) / wall
    print(f"{len(bodies):,} deliveries ({len(events):,} events, {len(repeats):,} repeats) from {args.senders} senders "
          f"to {args.workers} workers{f' x {args.threads} threads' if args.threads > 1 else ''} in {wall:.1f} s: {rate:,.0f} events/s "
          f"(target {TARGET_EVENTS_PER_SECOND}: {'met' if rate >= TARGET_EVENTS_PER_SECOND else 'NOT met'})")  # fmt: skip
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, p95 {latencies[int(0.95 * len(latencies)) - 1]:.1f}, "
          f"p99 {latencies[int(0.99 * len(latencies)) - 1]:.1f}")  # fmt: skip
    print(f"answers: {statuses}; 'Received.' {received:,}, 'Already received.' {already:,}")
    when = "started after the deliveries" if args.worker_after else "beside gunicorn from the start"
    if args.worker_nice:
        when += f", at niceness {args.worker_nice}"
    labels = {
        "applied": "every event applied",
        "fees": "every fee in the ledger",
        "receipts": "every receipt written",
    }
    times = ", ".join(
        f"{label} {done_at[what]:.1f} s" if what in done_at else f"{label}: NOT within 600 s"
        for what, label in labels.items()
    )
    print(f"{args.celery_workers} Celery worker process(es) {when}; after the last delivery: {times}")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after the deliveries {load_sent[0]:.2f} {load_sent[1]:.2f} {load_sent[2]:.2f}")  # fmt: skip
    print(
        f"Celery worker CPU in all (applying, receipts, fees): {worker_cpu * 1000 / len(events):.2f} ms per event"
    )
    spent = ", ".join(f"{name} {ms:.2f}" for name, ms in cpu_ms.items())
    total = sum(cpu_ms.values())
    print(
        f"CPU ms per delivery: {spent}; {total:.2f} in all (2 cores: at most {2000 / total:,.0f} deliveries/s)"
    )
    found = check(args.database_url, ids, campaign_id)
    print("check: " + ", ".join(f"{k} {v:,}" for k, v in found.items()))
    ok = (
        received == len(events)
        and already == len(repeats)
        and found["donations succeeded"]
        == found["donation movements"]
        == found["fee movements"]
        == found["receipts"]
        == fees
        == receipts
        == len(events)
        and found["events stored"] == found["events applied 'succeeded'"] == len(events)
        and found["campaign totals off by (pence)"] == 0
        and found["campaign supporters off by"] == 0
        and found["unbalanced transactions"] == 0
        and set(statuses) == {200}
    )
    print("none lost, none counted twice" if ok else "MISMATCH: see the figures above")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
