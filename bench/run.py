"""Load benchmark: gunicorn (2 workers) serving the app on a seeded PostgreSQL, driven by wrk.

    python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench

Each page is loaded for --seconds with --connections keep-alive connections, after a warm-up. The figures:
requests per second, p50/p95/p99 latency, the ratio of each page's throughput to /healthz on the same server
(the in-process ceiling), and the SQL statements one request of that page runs (X-Query-Count header).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
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


def start_server(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUERY_COUNT_HEADER": "1",
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": "0",
    }
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


def query_count(url: str) -> tuple[int, int]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, int(r.headers.get("X-Query-Count", "-1"))


def run_wrk(url: str, seconds: int, connections: int, threads: int) -> dict:
    subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", "2s", url], capture_output=True)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(REPORT), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--space-id", type=int, default=7)
    parser.add_argument("--page", action="append", default=[], help="extra NAME=PATH to measure")
    parser.add_argument("--queries-only", action="store_true", help="only print queries per page")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.queries_only:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    pages = default_pages(args.space_id)
    for extra in args.page:
        name, _, path = extra.partition("=")
        pages[name] = path
    port = free_port()
    server = start_server(args.database_url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        rows = []
        for name, path in pages.items():
            status, queries = query_count(base + path)
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
            result = {} if args.queries_only else run_wrk(base + path, args.seconds, args.connections, args.threads)
            rows.append((name, path, queries, result))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)

    ceiling = rows[0][3].get("rps") if rows and rows[0][3] else None
    print(f"\n{args.connections} connections, {args.workers} gunicorn workers, {args.seconds}s per page")
    print(f"{'page':22} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs healthz':>10} {'queries':>8} {'errors':>7}")
    for name, _path, queries, r in rows:
        if not r:
            print(f"{name:22} {'':>9} {'':>8} {'':>8} {'':>8} {'':>10} {queries:>8}")
            continue
        ratio = r["rps"] / ceiling if ceiling else float("nan")
        print(f"{name:22} {r['rps']:>9.1f} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f} {ratio:>10.2f} {queries:>8} {r['errors']:>7}")
    for name, path, *_ in rows:
        print(f"  {name}: {path}")


if __name__ == "__main__":
    main()
