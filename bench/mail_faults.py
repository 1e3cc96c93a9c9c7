"""Email under faults: how many notifications arrive, arrive twice, or are left for staff to decide.

    .venv/bin/python bench/mail_faults.py [--notifications 60] [--root DIR]

Runs the real parts on 127.0.0.1 only, each started here and stopped at the end: a PostgreSQL database of its
own (created and dropped on the server at --admin-url), a private redis-server, `celery -A make_celery worker`
(prefork, several processes) and `beat` with short sweep settings, and an aiosmtpd server in its own process.
The SMTP server answers the first DATA of every --slow-every'th message only after MAIL_TIMEOUT (it has taken
the message, its confirmation is late), and records every message it takes. Notifications are committed a few
per second, as web requests would; meanwhile the worker is killed with SIGKILL while a slow DATA is in flight,
then restarted, and the SMTP server is killed while a DATA is in flight, then restarted on the same port.

When every row has settled (sent, failed or uncertain) or --settle seconds have passed, the figures are
printed: rows by final status, messages received, notifications received twice, copies that carried a
different Message-ID, rows marked sent that never arrived (lost), and uncertain rows with whether they arrived.

--root runs the worker and the app from another checkout of the project (to measure an older version).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
UNSETTLED = ("pending", "sending", "sending_data")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


# --- the SMTP server (run in its own process, so it can be killed) --------------------------------------------


def serve_smtp(port: int, log_path: Path, slow_every: int, slow_seconds: float) -> None:
    """Accept mail on 127.0.0.1:port, appending one JSON line per event to log_path."""
    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 (lives as long as the process)
    seen: set[str] = set()

    def record(event: str, **fields: Any) -> None:
        log.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")
        log.flush()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            to = envelope.rcpt_tos[0]
            message_id = str(email.message_from_bytes(envelope.content)["Message-ID"])
            number = int(to.split("@")[0].rsplit("-", 1)[1])
            slow = number % slow_every == 0 and to not in seen
            seen.add(to)
            # The message is taken (queued) before the answer goes back, as a real server does: a client
            # that stops waiting for the answer does not stop the delivery.
            record("accepted", to=to, message_id=message_id, slow=slow)
            if slow:
                record("slow_answer_started", to=to)
                try:
                    await asyncio.sleep(slow_seconds)
                finally:  # also when the client has gone and aiosmtpd cancels the handler
                    record("slow_answer_ended", to=to)
            return "250 2.0.0 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    record("listening", port=port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


# --- processes ------------------------------------------------------------------------------------------------


class Processes:
    """Every process started here, each in its own process group, so a kill takes its children too."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts: Counter[str] = Counter()

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        self.starts[name] += 1
        with open(self.folder / f"{name}-{self.starts[name]}.log", "wb") as log:
            proc = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}-{self.starts[name]}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL, grace: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Children of a killed parent (prefork pool processes) may outlive it: end the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)


# --- the run --------------------------------------------------------------------------------------------------


def smtp_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            events.append(json.loads(line))
    return events


def slow_answer_in_flight(path: Path) -> bool:
    open_answers: Counter[str] = Counter()
    for e in smtp_events(path):
        if e["event"] == "slow_answer_started":
            open_answers[e["to"]] += 1
        elif e["event"] == "slow_answer_ended":
            open_answers[e["to"]] -= 1
    return any(v > 0 for v in open_answers.values())


def run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    import sqlalchemy as sa

    folder = Path(tempfile.mkdtemp(prefix="wypf-mail-faults-"))
    procs = Processes(folder)
    db_name = f"wypf_mail_faults_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    database_url = sa.engine.make_url(args.admin_url).set(database=db_name).render_as_string(False)
    created = False
    app = None
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
        created = True

        redis_port, smtp_port = free_port(), free_port()
        broker = f"redis://127.0.0.1:{redis_port}/0"
        queue = f"mail-faults-{secrets.token_hex(4)}"
        smtp_log = folder / "smtp.jsonl"
        settings = {
            "NOTIFICATION_MAX_ATTEMPTS": args.max_attempts,
            "NOTIFICATION_RETRY_AFTER_SECONDS": args.retry_after,
            "NOTIFICATION_SWEEP_SECONDS": args.sweep,
            "NOTIFICATION_SWEEP_GRACE_SECONDS": args.grace,
            "NOTIFICATION_STALE_SECONDS": args.stale,
            "MAIL_TIMEOUT": args.mail_timeout,
        }
        env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "PYTHONUNBUFFERED": "1",
            "FOUNDATION_CONFIG": "default",
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_QUEUE": queue,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "MAIL_FOLDER": str(folder / "mail"),
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "BASE_URL": "http://127.0.0.1:5000",
            "RATELIMIT_STORAGE_URI": "memory://",
            **{k: str(v) for k, v in settings.items()},
        }

        procs.start(
            "redis",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(folder)],
            env, folder,
        )  # fmt: skip
        wait_until(lambda: port_open(redis_port), 10, "redis-server")

        def start_smtp() -> None:
            procs.start(
                "smtp",
                [sys.executable, str(Path(__file__).resolve()), "smtp-server", "--port", str(smtp_port),
                 "--log", str(smtp_log), "--slow-every", str(args.slow_every),
                 "--slow-seconds", str(args.mail_timeout + args.slow_extra)],
                env, root,
            )  # fmt: skip
            wait_until(lambda: port_open(smtp_port), 15, "the SMTP server")

        start_smtp()

        from foundation import create_app
        from foundation.extensions import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CELERY_BROKER_URL": broker,
                "CELERY_TASK_QUEUE": queue,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": smtp_port,
                "MAIL_FOLDER": str(folder / "mail"),
                "UPLOAD_FOLDER": str(folder / "uploads"),
                **settings,
            }
        )
        with app.app_context():
            db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            db.session.commit()
            db.create_all()

        celery = [sys.executable, "-m", "celery", "-A", "make_celery"]

        def start_worker() -> None:
            procs.start(
                "worker",
                [*celery, "worker", "--pool=prefork", f"--concurrency={args.concurrency}", "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue,
                 "-n", f"{queue}@%h"],
                env, root,
            )  # fmt: skip
            wait_until(lambda: " ready." in procs.log("worker"), 60, "the Celery worker")

        start_worker()
        procs.start(
            "beat", [*celery, "beat", "--loglevel=INFO", "-s", str(folder / "celerybeat-schedule")], env, root
        )

        started = time.monotonic()
        faults: list[str] = []

        def send_all() -> None:
            from foundation.members.models import User
            from foundation.notifications import services
            from foundation.notifications.models import NotificationKind

            with app.app_context():
                for i in range(1, args.notifications + 1):
                    user = User(email=f"bench-{i}@example.org", name=f"Bench {i}", password_hash="-")
                    db.session.add(user)
                    db.session.flush()
                    services.notify(user, NotificationKind.GENERAL, f"Bench {i}", "role_granted", roles=["x"])
                    db.session.commit()  # handed to Redis after the commit, as in a web request
                    time.sleep(args.interval)
                db.session.remove()

        sender = threading.Thread(target=send_all)
        sender.start()

        def in_flight_after(seconds: float) -> str:
            # Waits for a slow DATA answer to be in flight; after a while a fault comes regardless.
            wait_until(lambda: time.monotonic() - started >= seconds, 60, f"{seconds}s into the run")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if slow_answer_in_flight(smtp_log):
                    return "a slow DATA answer in flight"
                time.sleep(0.05)
            return "no slow DATA answer in flight"

        # The worker dies (SIGKILL, every pool process too) while a slow DATA answer is awaited.
        why = in_flight_after(args.kill_worker_after)
        procs.kill("worker")
        faults.append(f"worker SIGKILLed at {time.monotonic() - started:.1f}s ({why})")
        time.sleep(args.worker_down)
        start_worker()
        faults.append(f"worker restarted at {time.monotonic() - started:.1f}s")

        # The SMTP server dies, then comes back on the same port.
        why = in_flight_after(args.kill_smtp_after)
        procs.kill("smtp")
        faults.append(f"SMTP server SIGKILLed at {time.monotonic() - started:.1f}s ({why})")
        time.sleep(args.smtp_down)
        start_smtp()
        faults.append(f"SMTP server restarted at {time.monotonic() - started:.1f}s")
        sender.join()

        probe = sa.create_engine(database_url)

        def statuses() -> Counter[str]:
            with probe.connect() as conn:
                found = conn.execute(sa.text("SELECT email_status, count(*) FROM notification GROUP BY 1"))
                return Counter({str(status): int(count) for status, count in found})

        deadline = time.monotonic() + args.settle
        while time.monotonic() < deadline:
            counts = statuses()
            if sum(counts.values()) == args.notifications and not any(counts[s] for s in UNSETTLED):
                break
            time.sleep(1)
        # A slow answer still running may yet be taken by the server: let the last ones land.
        time.sleep(args.mail_timeout + args.slow_extra + 1)
        procs.kill("beat", signal.SIGTERM)
        procs.kill("worker", signal.SIGTERM)
        elapsed = time.monotonic() - started

        with probe.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT email_to, email_status, attempts FROM notification ORDER BY id")
            ).all()
        probe.dispose()
        copies: dict[str, list[str]] = defaultdict(list)
        for e in smtp_events(smtp_log):
            if e["event"] == "accepted":
                copies[e["to"]].append(e["message_id"])
        slow_answers = sum(1 for e in smtp_events(smtp_log) if e["event"] == "slow_answer_started")

        status = Counter(r.email_status for r in rows)
        received = sum(len(c) for c in copies.values())
        doubled = sum(1 for c in copies.values() if len(c) > 1)
        new_ids = sum(len(set(c)) - 1 for c in copies.values() if c)
        lost = sum(1 for r in rows if r.email_status == "sent" and not copies.get(r.email_to))
        uncertain = [r for r in rows if r.email_status == "uncertain"]
        uncertain_arrived = sum(1 for r in uncertain if copies.get(r.email_to))
        never_arrived = sum(1 for r in rows if not copies.get(r.email_to))
        figures = [
            ("notifications", len(rows)),
            ("rows sent", status["sent"]),
            ("rows uncertain (staff decide)", len(uncertain)),
            ("  of which arrived", uncertain_arrived),
            ("rows failed (staff can retry)", status["failed"]),
            ("rows unsettled at the end", sum(status[s] for s in UNSETTLED)),
            ("messages received", received),
            ("notifications received", len(copies)),
            ("notifications received twice or more", doubled),
            ("copies with a different Message-ID", new_ids),
            ("sent but never received (lost)", lost),
            ("never received (any status)", never_arrived),
            ("attempts, total", sum(r.attempts for r in rows)),
            ("slow DATA answers", slow_answers),
        ]
        print(f"root: {root}")
        for line in faults:
            print(f"fault: {line}")
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"{name:<{width}}  {value}")
        print(f"{'elapsed seconds':<{width}}  {elapsed:.0f}")
        if args.keep_logs:
            print(f"logs: {folder}")
        return 0
    finally:
        procs.stop_all()
        if app is not None:
            with contextlib.suppress(Exception):
                app.extensions["celery"].close()
            with app.app_context():
                from foundation.extensions import db as _db

                _db.engine.dispose()
        if created:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "smtp-server":
        p = argparse.ArgumentParser()
        p.add_argument("smtp_server")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--log", type=Path, required=True)
        p.add_argument("--slow-every", type=int, required=True)
        p.add_argument("--slow-seconds", type=float, required=True)
        a = p.parse_args()
        serve_smtp(a.port, a.log, a.slow_every, a.slow_seconds)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default=str(ROOT), help="the checkout to run (default: this one)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL, to create a database of our own")
    parser.add_argument("--notifications", type=int, default=60)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between commits")
    parser.add_argument("--concurrency", type=int, default=4, help="worker pool processes")
    parser.add_argument("--slow-every", type=int, default=6, help="every n-th message gets a late answer")
    parser.add_argument("--mail-timeout", type=int, default=3)
    parser.add_argument("--slow-extra", type=float, default=1.5, help="a late answer comes this long after")
    parser.add_argument("--max-attempts", type=int, default=6)
    parser.add_argument("--retry-after", type=int, default=2)
    parser.add_argument("--sweep", type=int, default=1)
    parser.add_argument("--grace", type=int, default=3)
    parser.add_argument("--stale", type=int, default=20, help="NOTIFICATION_STALE_SECONDS")
    parser.add_argument("--kill-worker-after", type=float, default=3)
    parser.add_argument("--worker-down", type=float, default=2)
    parser.add_argument("--kill-smtp-after", type=float, default=8)
    parser.add_argument("--smtp-down", type=float, default=4)
    parser.add_argument("--settle", type=float, default=120, help="most seconds to wait for rows to settle")
    parser.add_argument("--keep-logs", action="store_true")
    raise SystemExit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
