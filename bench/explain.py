"""Query plans of the benchmark's pages: every SQL statement each page runs, with EXPLAIN (ANALYZE, BUFFERS).

    python bench/explain.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench

For each page bench/run.py measures, the app is created in this process on the bench database (page cache off),
the page's user is signed in on a test client, and the page is requested twice: the first request may do
one-off work (a round's ranking is scored once and kept per worker), the second is what a request costs from
then on. Every statement of both requests is captured with its parameters. Each SELECT is explained on a
connection of its own (run --repeat times, the fastest kept: the tables are in memory after the first run) and
its plan written to bench/plans/<page>.txt with the statement, its parameters bound, and its execution time.
Statements of the first request only are marked "first request only".

The summary printed at the end: per page the statements, the second request's wall time in this process and
the part of it spent in the database driver, and the PostgreSQL execution time of its SELECTs; the slowest
statements of all pages; every sequential scan over a table of more than --seq-scan-rows rows. It is also
written to bench/plans/summary.json. With --profile, bench/plans/<page>.profile.txt shows where a request's time
goes in Python (cProfile over five requests, by own and by cumulative time).

--index "CREATE INDEX ..." (repeatable) tries indexes: each statement is explained without them, then they are
created inside the explaining transaction, which is rolled back at the end (the database is never changed), and
each statement is explained again; the plans with the indexes go to bench/plans/with-index/ and the times before
and after are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from generate_grants import STAFF_EMAIL  # noqa: E402
from run import STAFF, USERS, Page, anonymous_pages, find_ids, signed_in_pages  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench"
PLANS = BENCH / "plans"


@dataclass
class Statement:
    sql: str
    params: Any
    app_ms: float  # as the app ran it (including the round trip)
    warm: bool  # also run by the second request
    bound: str = ""  # the statement with its parameters, as explained
    explain_ms: float | None = None  # PostgreSQL's Execution Time, fastest of --repeat
    planning_ms: float | None = None
    plan: str = ""
    seq_scans: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PageResult:
    key: str
    name: str
    path: str
    user: str | None
    status: int
    statements: list[Statement]
    wall_ms: float  # the second request, in this process

    @property
    def app_sql_ms(self) -> float:
        """Time spent in the database driver by the second request (round trips included)."""
        return sum(s.app_ms for s in self.statements if s.warm)

    @property
    def explained_ms(self) -> float:
        return sum(s.explain_ms or 0.0 for s in self.statements if s.warm)


def capture(app: Any, page: Page, email: str | None, profile_to: Path | None = None) -> PageResult:
    """Request the page twice as its user; every statement of both requests, with its parameters and time."""
    from foundation.auth import open_session
    from foundation.extensions import db
    from foundation.members.models import User

    client = app.test_client()
    if email is not None:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                raise SystemExit(f"no user {email}: run bench/generate_people.py first")
            token = open_session(user, "bench explain")[1]
            db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True

    runs: list[list[tuple[str, Any, float]]] = []
    started: list[float] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        started.append(time.perf_counter())

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        runs[-1].append((statement, parameters, (time.perf_counter() - started.pop()) * 1000))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        statuses = []
        for _ in range(2):
            runs.append([])
            t0 = time.perf_counter()
            statuses.append(client.get(page.path).status_code)
            wall_ms = (time.perf_counter() - t0) * 1000
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    first, second = runs
    warm_sql = {s for s, _, _ in second}
    statements = [Statement(s, p, ms, True) for s, p, ms in second]
    statements += [Statement(s, p, ms, False) for s, p, ms in first if s not in warm_sql]
    result = PageResult(page.key, page.name, page.path, page.user, statuses[-1], statements, wall_ms)
    if profile_to is not None:
        profile_to.write_text(profile(client, page.path, wall_ms))
    return result


def profile(client: Any, path: str, wall_ms: float, repeat: int = 5) -> str:
    """Where a request's time goes in Python: cProfile over a few requests, by own time and by cumulative time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(repeat):
        client.get(path)
    profiler.disable()
    per_request = (time.perf_counter() - t0) * 1000 / repeat
    text = io.StringIO()
    text.write(
        f"{path}: {wall_ms:.1f} ms per request unprofiled, {per_request:.1f} ms profiled ({repeat} requests)\n"
    )
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs()
    text.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(30)
    text.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(45)
    return text.getvalue()


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("Plans", []):
        out.extend(_walk(child))
    return out


def explain(
    cur: psycopg.ClientCursor, stmt: Statement, repeat: int, table_rows: dict[str, int], min_rows: int
) -> None:
    stmt.bound = cur.mogrify(stmt.sql, stmt.params)
    if not re.match(r"\s*(SELECT|WITH)\b", stmt.sql, re.IGNORECASE):
        return
    # The plan kept is that of the fastest of `repeat` runs: the first may read pages from disk, and the
    # machine may be busy.
    for _ in range(max(1, repeat)):
        cur.execute("SAVEPOINT explain")
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + stmt.bound)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("ROLLBACK TO SAVEPOINT explain")
        execution = float(re.findall(r"Execution Time: ([\d.]+) ms", plan)[-1])
        if stmt.explain_ms is None or execution < stmt.explain_ms:
            stmt.explain_ms, stmt.plan = execution, plan
            stmt.planning_ms = float(re.findall(r"Planning Time: ([\d.]+) ms", plan)[-1])
    # The same plan again as JSON, to find its sequential scans.
    cur.execute("SAVEPOINT explain")
    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + stmt.bound)
    row = cur.fetchone()
    assert row is not None, "EXPLAIN returns one row"
    best = row[0][0]
    cur.execute("ROLLBACK TO SAVEPOINT explain")
    for node in _walk(best["Plan"]):
        if "Seq Scan" not in node["Node Type"]:
            continue
        table = node.get("Relation Name", "?")
        if table_rows.get(table, 0) > min_rows:
            stmt.seq_scans.append(
                {
                    "table": table,
                    "table_rows": table_rows[table],
                    "rows_returned": node.get("Actual Rows", 0) * node.get("Actual Loops", 1),
                    "rows_removed": node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1),
                    "loops": node.get("Actual Loops", 1),
                    "filter": node.get("Filter", ""),
                    "ms": node.get("Actual Total Time", 0.0) * node.get("Actual Loops", 1),
                }
            )


def write_plan(result: PageResult, out: Path, database: str, indexes: list[str]) -> None:
    lines = [
        f"page: {result.name} ({result.key})",
        f"path: {result.path}",
        f"user: {result.user or 'anonymous'}",
        f"database: {database}, explained {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, status {result.status}",
        f"statements: {sum(s.warm for s in result.statements)} per request"
        + (
            f", {sum(not s.warm for s in result.statements)} more on the first"
            if not all(s.warm for s in result.statements)
            else ""
        ),
        f"execution time of the SELECTs of one request (sum): {result.explained_ms:.2f} ms; the request took"
        f" {result.wall_ms:.1f} ms in-process, {result.app_sql_ms:.1f} ms of it in the database driver",
    ]
    if indexes:
        lines.append("with indexes created for this run only: " + "; ".join(indexes))
    for n, stmt in enumerate(result.statements, start=1):
        lines.append("")
        lines.append("=" * 110)
        when = "" if stmt.warm else " (first request only)"
        timing = (
            f"execution {stmt.explain_ms:.3f} ms, planning {stmt.planning_ms:.3f} ms, " if stmt.plan else ""
        )
        lines.append(f"-- statement {n}{when}: {timing}{stmt.app_ms:.2f} ms as the app ran it")
        lines.append(stmt.bound.strip())
        if stmt.plan:
            lines.append("")
            lines.append(stmt.plan)
        for scan in stmt.seq_scans:
            lines.append(
                f"!! sequential scan of {scan['table']} ({scan['table_rows']:,} rows): "
                f"{scan['rows_removed']:,} rows removed by filter, {scan['ms']:.2f} ms"
            )
    out.write_text("\n".join(lines) + "\n")


def short(sql: str, width: int = 150) -> str:
    one = re.sub(r"\s+", " ", sql).strip()
    return one if len(one) <= width else one[: width - 3] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--pages", help="comma-separated page keys (default: all of bench/run.py's)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="EXPLAIN ANALYZE runs per statement (fastest kept)"
    )
    parser.add_argument("--seq-scan-rows", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=15, help="how many of the slowest statements to list")
    parser.add_argument("--index", action="append", default=[], help="CREATE INDEX to try (rolled back)")
    parser.add_argument(
        "--out", help="folder for the plan files (default bench/plans, or bench/plans/with-index)"
    )
    parser.add_argument("--staff-email", default=STAFF_EMAIL)
    parser.add_argument("--profile", action="store_true", help="also write <page>.profile.txt (cProfile)")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)
    from foundation import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "TESTING": False,
            "PUBLIC_PAGE_CACHE_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "bench",
        }
    )
    import logging

    logging.getLogger("foundation").setLevel(logging.WARNING)
    ids = find_ids(args.database_url)
    pages = signed_in_pages(ids) + anonymous_pages(ids)
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [p for p in pages if p.key in wanted]
    emails = {**USERS, STAFF: args.staff_email}
    out = Path(args.out) if args.out else (PLANS / "with-index" if args.index else PLANS)
    out.mkdir(parents=True, exist_ok=True)
    database = sa.engine.make_url(args.database_url).database or ""

    results = [
        capture(
            app,
            page,
            emails[page.user] if page.user else None,
            out / f"{page.key}.profile.txt" if args.profile else None,
        )
        for page in pages
    ]

    conninfo = (
        sa.engine.make_url(args.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    baseline: dict[tuple[str, int], float | None] = {}
    with psycopg.connect(conninfo, cursor_factory=psycopg.ClientCursor) as conn:
        cur = conn.cursor()
        assert isinstance(cur, psycopg.ClientCursor)
        cur.execute("SET statement_timeout = '60s'")
        cur.execute("SELECT relname, greatest(reltuples, 0)::bigint FROM pg_class WHERE relkind = 'r'")
        table_rows = {name: int(n) for name, n in cur.fetchall()}
        if args.index:
            # Each statement without the indexes first, on the same connection just before: a fair comparison
            # on a busy machine. Then the indexes, in this transaction only.
            for result in results:
                for n, stmt in enumerate(result.statements):
                    explain(cur, stmt, args.repeat, table_rows, args.seq_scan_rows)
                    baseline[(result.key, n)] = stmt.explain_ms
                    stmt.explain_ms, stmt.plan, stmt.seq_scans = None, "", []
            for sql in args.index:
                cur.execute(sql)
            for table in sorted(
                {m.group(1) for sql in args.index if (m := re.search(r"\bON\s+(\w+)", sql, re.I))}
            ):
                cur.execute(f'ANALYZE "{table}"')
        for result in results:
            for stmt in result.statements:
                explain(cur, stmt, args.repeat, table_rows, args.seq_scan_rows)
            write_plan(result, out / f"{result.key}.txt", database, args.index)
        conn.rollback()

    # --- summary ---------------------------------------------------------------------------------------------
    print(
        f"\n{database}: plans in {out.relative_to(BENCH.parent) if out.is_relative_to(BENCH.parent) else out}/"
    )
    print(
        "Per page: statements of one request; its wall time in this process; time in the database driver (round"
        " trips included); PostgreSQL execution time of its SELECTs; the slowest statement."
    )
    print(
        f"{'page':32} {'status':>6} {'statements':>10} {'wall ms':>8} {'driver ms':>9} {'SQL ms':>8}  slowest statement"
    )
    for r in results:
        slowest = max(
            (s for s in r.statements if s.warm and s.explain_ms is not None),
            key=lambda s: s.explain_ms or 0,
            default=None,
        )
        name = f"{r.key} ({r.user or 'anonymous'})"
        worst = f"{slowest.explain_ms:.2f} ms {short(slowest.sql, 70)}" if slowest else ""
        print(
            f"{name:32} {r.status:>6} {sum(s.warm for s in r.statements):>10} {r.wall_ms:>8.1f} {r.app_sql_ms:>9.1f}"
            f" {r.explained_ms:>8.2f}  {worst}"
        )
        if r.status != 200:
            print(f"  !! {r.path} answered {r.status}")

    everything = [(r, s) for r in results for s in r.statements if s.explain_ms is not None]
    everything.sort(key=lambda rs: rs[1].explain_ms or 0, reverse=True)
    print(f"\nSlowest statements (execution time in PostgreSQL, fastest of {args.repeat}):")
    for r, s in everything[: args.top]:
        first = "" if s.warm else " [first request only]"
        print(f"  {s.explain_ms:8.2f} ms  {r.key}{first}: {short(s.sql)}")

    print(f"\nSequential scans of tables over {args.seq_scan_rows:,} rows:")
    scans = [(r, s, scan) for r, s in everything for scan in s.seq_scans]
    for r, s, scan in scans:
        print(
            f"  {r.key}: {scan['table']} ({scan['table_rows']:,} rows) x{scan['loops']} "
            f"{scan['ms']:.2f} ms, {scan['rows_removed']:,} removed by filter {scan['filter'][:80]!r} "
            f"in a statement of {s.explain_ms:.2f} ms: {short(s.sql, 90)}"
        )
    if not scans:
        print("  none")

    summary = {
        "database": database,
        "indexes": args.index,
        "pages": [
            {
                "key": r.key,
                "path": r.path,
                "user": r.user,
                "status": r.status,
                "explained_ms": r.explained_ms,
                "wall_ms": r.wall_ms,
                "app_sql_ms": r.app_sql_ms,
                "statements": [
                    {k: v for k, v in asdict(s).items() if k not in ("plan", "params", "bound")}
                    for s in r.statements
                ],
            }
            for r in results
        ],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    if args.index:
        print(f"\nWith {'; '.join(args.index)} (rolled back), fastest of {args.repeat} runs each:")
        print("  statements whose execution time changed by over 10% (and 0.2 ms):")
        for r in results:
            for n, s in enumerate(r.statements):
                old = baseline.get((r.key, n))
                new = s.explain_ms
                if old is not None and new is not None and abs(new - old) > max(0.1 * old, 0.2):
                    print(f"    {r.key}: {old:8.2f} -> {new:8.2f} ms  {short(s.sql, 100)}")
        print("  SQL execution time per request (warm statements):")
        for r in results:
            old_total = sum(baseline.get((r.key, n)) or 0.0 for n, s in enumerate(r.statements) if s.warm)
            print(f"    {r.key:24} {old_total:8.2f} -> {r.explained_ms:8.2f} ms")


if __name__ == "__main__":
    main()
