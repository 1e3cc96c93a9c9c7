"""Load benchmark: gunicorn (2 workers) serving the app on a seeded PostgreSQL, driven by wrk.

    python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench

Each page is loaded for --seconds with --connections keep-alive connections, after a warm-up. The figures:
requests per second, p50/p95/p99 latency, the ratio of each page's throughput to /healthz on the same server
(the in-process ceiling), and the SQL statements one request of that page runs (X-Query-Count header).

With --grants (after bench/generate_grants.py) the seed-grant pages are measured too: the public scorecard, and
a round's ranking, which only staff may see: the script signs in as the generator's staff user and gives wrk the
session cookie. --no-venues leaves out the Venue Bank pages (for a database with grants data only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = Path(__file__).resolve().parent / "report.lua"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def next_weekday(weekday: int) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def default_pages(space_id: int) -> dict[str, str]:
    tuesday = next_weekday(1).isoformat()
    return {
        "healthz": "/healthz",
        "search (free at)": f"/venues?town=Chippenham&capacity=20&date={tuesday}&start=18:00&end=20:00",
        "space calendar": f"/spaces/{space_id}/calendar?week={tuesday}",
    }


def grant_pages(round_id: int) -> dict[str, str]:
    return {"scorecard": "/scorecard", "ranking": f"/staff/grants/rounds/{round_id}/ranking"}


STAFF_ONLY = {"ranking"}
# The generator's staff user (bench/generate_grants.py).
STAFF_EMAIL = "staff@grants.bench.example"
STAFF_PASSWORD = "bench-staff-password"


def round_in_review(database_url: str) -> int:
    """A round in review: its ranking has every application's scores to weigh."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT id FROM grant_round WHERE status = 'in_review' ORDER BY id LIMIT 1")
            ).scalar()
    finally:
        engine.dispose()
    if found is None:
        raise SystemExit("no round in review: run bench/generate_grants.py first, or pass --round-id")
    return int(found)


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the login form (with its CSRF token) and return the Cookie header value for wrk."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/login", timeout=10) as r:
        page = r.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"email": email, "password": password, "next": ""}
    if token:
        form["csrf_token"] = token.group(1)
    try:
        with opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10) as r:
            r.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"could not sign in as {email}: {exc.code}") from exc
    cookies = {c.name: c.value for c in jar}
    if "session" not in cookies:
        raise SystemExit(f"could not sign in as {email}: no session cookie")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def start_server(database_url: str, port: int, workers: int, page_cache: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUERY_COUNT_HEADER": "1",
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": "0",
    }
    if not page_cache:
        env["PUBLIC_PAGE_CACHE_SECONDS"] = "0"
    env.pop("CELERY_BROKER_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def query_count(url: str, cookie: str | None = None) -> tuple[int, int]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    # Signed in, redirects are not followed: being sent to the sign-in form is an error, not a result.
    opener = urllib.request.build_opener(_NoRedirect) if cookie else urllib.request.build_opener()
    try:
        with opener.open(request, timeout=30) as r:
            return r.status, int(r.headers.get("X-Query-Count", "-1"))
    except urllib.error.HTTPError as exc:
        return exc.code, int(exc.headers.get("X-Query-Count", "-1"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def run_wrk(url: str, seconds: int, connections: int, threads: int, cookie: str | None = None) -> dict:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", "2s", *headers, url], capture_output=True
    )
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(REPORT),
            *headers,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--space-id", type=int, default=7)
    parser.add_argument("--page", action="append", default=[], help="extra NAME=PATH to measure")
    parser.add_argument("--queries-only", action="store_true", help="only print queries per page")
    parser.add_argument(
        "--no-page-cache", action="store_true", help="render every request (PUBLIC_PAGE_CACHE_SECONDS=0)"
    )
    parser.add_argument("--grants", action="store_true", help="also measure the seed-grant pages")
    parser.add_argument("--no-venues", action="store_true", help="leave out the Venue Bank pages")
    parser.add_argument(
        "--round-id", type=int, help="round whose ranking is measured (default: one in review)"
    )
    parser.add_argument("--staff-email", default=STAFF_EMAIL)
    parser.add_argument("--staff-password", default=STAFF_PASSWORD)
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.queries_only:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    pages = default_pages(args.space_id)
    if args.no_venues:
        pages = {"healthz": pages["healthz"]}
    if args.grants:
        pages.update(grant_pages(args.round_id or round_in_review(args.database_url)))
    for extra in args.page:
        name, _, path = extra.partition("=")
        pages[name] = path
    port = free_port()
    server = start_server(args.database_url, port, args.workers, page_cache=not args.no_page_cache)
    base = f"http://127.0.0.1:{port}"
    try:
        cookie = sign_in(base, args.staff_email, args.staff_password) if STAFF_ONLY & set(pages) else None
        rows = []
        for name, path in pages.items():
            page_cookie = cookie if name in STAFF_ONLY else None
            status, queries = query_count(base + path, page_cookie)
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
            result = (
                {}
                if args.queries_only
                else run_wrk(base + path, args.seconds, args.connections, args.threads, page_cookie)
            )
            rows.append((name, path, queries, result))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)

    ceiling = rows[0][3].get("rps") if rows and rows[0][3] else None
    cache = "off" if args.no_page_cache else "on (anonymous pages kept per worker)"
    print(
        f"\n{args.connections} connections, {args.workers} gunicorn workers, {args.seconds}s per page, page cache {cache}"
    )
    print(
        f"{'page':22} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs healthz':>10} {'queries':>8} {'errors':>7}"
    )
    for name, _path, queries, r in rows:
        if not r:
            print(f"{name:22} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} {queries:>8}")
            continue
        ratio = r["rps"] / ceiling if ceiling else float("nan")
        print(
            f"{name:22} {r['rps']:>9.1f} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f} {ratio:>10.2f} {queries:>8} {r['errors']:>7}"
        )
    for name, path, *_ in rows:
        print(f"  {name}: {path}")


if __name__ == "__main__":
    main()
