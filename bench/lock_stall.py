"""One held row lock against the whole site: gunicorn (4 sync workers) on PostgreSQL while psql holds a grant
round's row (SELECT ... FOR UPDATE) for 45 seconds.

    python bench/lock_stall.py --prepare          # create the database, migrate, seed the demo data, then measure
    python bench/lock_stall.py                    # measure again on the same database

Meanwhile, from 127.0.0.1 only and in bounded loops, staff send the action that needs the locked row (remind a
round's reviewers) while an anonymous visitor polls /healthz and the home page. Each kind of request is counted:
sent, answered 2xx/3xx, 4xx, 503 ("busy, try again"), other 5xx, failed (no HTTP answer: the worker was killed
or the client gave up) and its latency. --app-dir serves another checkout of the app (to measure a version
before a change); --server-env passes settings to the server (DB_LOCK_TIMEOUT_MS=0 turns the timeouts off).

Figures (2026-11-30, the 2-core development machine, PostgreSQL 15 on the same machine, demo data, round SU26):

Before (no lock or statement timeout; --app-dir on a checkout of the previous version), 4 staff clients:

    requests                      sent  2xx/3xx  4xx  503  other 5xx  failed   p50 s   max s
    staff: remind (locked row)       8        4    0    0          4       0   22.72   30.63
    /healthz                         3        3    0    0          0       0    5.36   39.23
    public: home page                3        3    0    0          0       0    4.63   39.98

After (DB_LOCK_TIMEOUT_MS=5000, DB_STATEMENT_TIMEOUT_MS=15000, the defaults), 4 staff clients:

    requests                      sent  2xx/3xx  4xx  503  other 5xx  failed   p50 s   max s
    staff: remind (locked row)      28        4    0   24          0       0    5.03   10.60
    /healthz                        17       17    0    0          0       0    3.75    5.05
    public: home page               17       17    0    0          0       0    3.76    5.04

With 2 staff clients (fewer waiting requests than workers), before and then after:

    staff: remind (locked row)       4        2    0    0          2       0   22.62   30.38
    /healthz                       161      161    0    0          0       0    0.00    3.79
    public: home page              160      160    0    0          0       0    0.00    3.97

    staff: remind (locked row)      10        2    0    8          0       0    9.88   10.31
    /healthz                       177      177    0    0          0       0    0.00    0.01
    public: home page              177      177    0    0          0       0    0.00    0.31

Before, a staff request waited for the row until gunicorn killed its worker at 30 s (500) or the lock went; with
as many waiting requests as workers nothing else was answered for up to 40 s. After, each waiting request gives
up with 503 and Retry-After, no worker is killed, and /healthz and public pages wait at most for a worker to come
free (one lock timeout). PostgreSQL counts lock_timeout per lock attempt: a request queued behind another waiter
for the same row waits for the row lock in turn (about 10 s here), bounded by the statement timeout (15 s). The
requests that succeed were sent just before the lock was released.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
MAX_REQUESTS_PER_CLIENT = 2000
CLIENT_TIMEOUT_SECONDS = (
    65  # longer than gunicorn's 30 s worker timeout, so a killed worker shows as a failure
)
STAFF, HEALTH, PUBLIC = "staff: remind (locked row)", "/healthz", "public: home page"


@dataclass
class Outcome:
    kind: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer
    error: str = ""


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def conninfo(database_url: str) -> str:
    url = sa.engine.make_url(database_url)
    parts = {"host": url.host or HOST, "port": url.port or 5432, "user": url.username or "postgres",
             "dbname": url.database}  # fmt: skip
    return " ".join(f"{k}={v}" for k, v in parts.items())


def psql(database_url: str, *statements: str, admin: bool = False) -> str:
    info = conninfo(database_url)
    if admin:
        info = re.sub(r"dbname=\S+", "dbname=postgres", info)
    args = ["psql", info, "-v", "ON_ERROR_STOP=1", "-At"]
    for statement in statements:
        args += ["-c", statement]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def prepare(database_url: str, app_dir: Path, env: dict[str, str]) -> None:
    name = sa.engine.make_url(database_url).database
    psql(
        database_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
        admin=True,
    )
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [str(VENV_BIN / "flask"), *command], cwd=app_dir, env=env, check=True, capture_output=True
        )


def server_env(database_url: str, extra: list[str]) -> dict[str, str]:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "lock-stall",
        "UPLOAD_FOLDER": "/tmp/lock-stall/uploads",
        "MAIL_FOLDER": "/tmp/lock-stall/mail",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    for item in extra:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def start_gunicorn(app_dir: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{port}",
            "--timeout",
            "30",
            "wsgi:app",
        ],
        cwd=app_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise SystemExit("gunicorn did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def request(
    port: int,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    cookie: str = "",
    timeout: float = CLIENT_TIMEOUT_SECONDS,
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Host": f"{HOST}:{port}"}
        data = None
        if cookie:
            headers["Cookie"] = cookie
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        return resp.status, {"set-cookie": "\n".join(cookies)}, text
    finally:
        conn.close()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


def merge_cookies(cookie: str, set_cookie: str) -> str:
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    for line in filter(None, set_cookie.split("\n")):
        name, _, rest = line.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port: int, email: str, password: str) -> str:
    status, headers, page = request(port, "GET", "/login")
    cookie = merge_cookies("", headers["set-cookie"])
    form = {"email": email, "password": password, "next": "", "csrf_token": csrf_token(page)}
    status, headers, _ = request(port, "POST", "/login", form, cookie)
    if status not in (302, 303):
        raise SystemExit(f"could not sign in as {email}: {status}")
    return merge_cookies(cookie, headers["set-cookie"])


def client_loop(
    tally: Tally, kind: str, port: int, t0: float, until: float, pause: float, method: str, path: str,
    body: dict[str, str] | None = None, cookie: str = "",
) -> None:  # fmt: skip
    """Requests one after another (each waits for the last answer) until `until`, at most a bounded number."""
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= until:
            return
        started = time.monotonic()
        try:
            status, _, _ = request(port, method, path, body, cookie)
            tally.add(Outcome(kind, started - t0, time.monotonic() - started, status))
        except (OSError, http.client.HTTPException) as exc:
            tally.add(Outcome(kind, started - t0, time.monotonic() - started, None, type(exc).__name__))
        time.sleep(pause)


def hold_lock(database_url: str, round_id: int, seconds: int) -> subprocess.Popen[bytes]:
    """psql holding the round's row for `seconds`, the way someone at a psql prompt would."""
    proc = subprocess.Popen(
        ["psql", conninfo(database_url), "-v", "ON_ERROR_STOP=1", "-q",
         "-c", "BEGIN", "-c", f"SELECT id FROM grant_round WHERE id = {round_id} FOR UPDATE",
         "-c", f"SELECT pg_sleep({seconds})", "-c", "COMMIT"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = psql(
            database_url,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(%' AND state = 'active'",
        )
        if waiting == "1":
            return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("psql did not take the lock")


def summarise(tally: Tally, kinds: list[str]) -> str:
    lines = [
        f"{'requests':<28}{'sent':>6}{'2xx/3xx':>9}{'4xx':>5}{'503':>5}{'other 5xx':>11}{'failed':>8}"
        f"{'p50 s':>8}{'max s':>8}"
    ]
    for kind in kinds:
        rows = [o for o in tally.outcomes if o.kind == kind]
        ok = sum(1 for o in rows if o.status is not None and o.status < 400)
        client = sum(1 for o in rows if o.status is not None and 400 <= o.status < 500)
        busy = sum(1 for o in rows if o.status == 503)
        other = sum(1 for o in rows if o.status is not None and o.status >= 500 and o.status != 503)
        failed = sum(1 for o in rows if o.status is None)
        times = [o.seconds for o in rows] or [0.0]
        lines.append(
            f"{kind:<28}{len(rows):>6}{ok:>9}{client:>5}{busy:>5}{other:>11}{failed:>8}"
            f"{statistics.median(times):>8.2f}{max(times):>8.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_lockstall"
    )
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="checkout whose wsgi:app gunicorn serves")
    parser.add_argument(
        "--prepare", action="store_true", help="recreate, migrate and seed the database first"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--hold", type=int, default=45, help="seconds psql holds the row")
    parser.add_argument("--staff-clients", type=int, default=4)
    parser.add_argument("--staff-email", default="staff@wypf.example")
    parser.add_argument("--password", default="demo-password-2026")
    parser.add_argument("--round-code", default="SU26", help="the demo round in review")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    env = server_env(args.database_url, args.server_env)
    if args.prepare:
        prepare(args.database_url, args.app_dir, env)
    round_id = int(psql(args.database_url, f"SELECT id FROM grant_round WHERE code = '{args.round_code}'"))
    port = free_port()
    server = start_gunicorn(args.app_dir, port, args.workers, env)
    try:
        cookie = sign_in(port, args.staff_email, args.password)
        path = f"/staff/grants/rounds/{round_id}/reviewers"
        status, _, page = request(port, "GET", path, cookie=cookie)
        if status != 200:
            raise SystemExit(f"staff page answered {status}")
        remind = {"action": "remind", "csrf_token": csrf_token(page)}

        holder = hold_lock(args.database_url, round_id, args.hold)
        t0 = time.monotonic()
        until = t0 + args.hold
        tally = Tally()
        loops = [(STAFF, 0.1, "POST", path, remind, cookie)] * args.staff_clients + [
            (HEALTH, 0.25, "GET", "/healthz", None, ""),
            (PUBLIC, 0.25, "GET", "/", None, ""),
        ]
        clients = [
            threading.Thread(
                target=client_loop, args=(tally, kind, port, t0, until, pause, method, url, body, c)
            )
            for kind, pause, method, url, body, c in loops
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        holder.wait(args.hold + 30)
        elapsed = time.monotonic() - t0
    finally:
        stop(server)

    print(f"app: {args.app_dir}  server settings: {' '.join(args.server_env) or '(defaults)'}")
    print(
        f"gunicorn {args.workers} sync workers (timeout 30 s); psql held grant_round {round_id} for {args.hold} s;"
    )
    print(f"{args.staff_clients} staff clients, 1 health and 1 public client; loops ran {elapsed:.1f} s")
    print(summarise(tally, [STAFF, HEALTH, PUBLIC]))


if __name__ == "__main__":
    main()
