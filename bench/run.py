"""Load benchmark: gunicorn (2 workers) serving the app on a seeded PostgreSQL, driven by wrk.

    python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/wypf_bench

Needs the data of bench/generate.py, bench/generate_grants.py, bench/generate_people.py,
bench/generate_fundraising.py, bench/generate_bids.py and bench/generate_events.py. Two servers are run one after
the other:

- page cache off (PUBLIC_PAGE_CACHE_SECONDS=0): /healthz, then every page signed in as its real user (the
  inbox, the dashboard, a grant application form, a space's calendar, venue search, an organisation's
  bookings, a venue owner's request queue, the staff vetting queue and vetting list, a round's ranking, the
  scorecard, the fundraising and bids pages, the events listing filtered four ways, the busiest event's page,
  the library searched by words and topic), then the public pages anonymously, then /healthz again;
- page cache on (the default setting): /healthz, the public pages anonymously, /healthz again.

Each user signs in through the login form and keeps that session. Before each page the script waits until the
server has drained the previous one (--drain-count answers of /healthz in a row, each under --drain-ms), then
wrk loads the page for --warmup and then --seconds with --connections keep-alive connections. Per page: requests
per second, p50/p95/p99 latency, the ratio of its throughput to /healthz on the same server (the mean of the
runs before and after the pages), the SQL statements one request runs (X-Query-Count), the response size, and
the target ratio with whether it is met (the ratio, and p95 under 100 ms). At the end of each server run the
resident memory of each gunicorn worker (now and its peak) is printed (target under 200 MB).

Targets (page cache off, signed in, 16 connections, 2 gunicorn workers): the inbox 0.5 of /healthz; the
dashboard, the application form and the calendar 0.3; search 0.25; bookings, the request queue, vetting, the
ranking, the scorecard and every page added since (fundraising, bids, events, library) 0.15. The anonymous pages are held to the target of the same page signed in (the
round's scorecard page to the scorecard's).

--queries-only prints each page's statements and size without loading it; with --compare-with it does the same
on a second database (e.g. scale 0.1 against scale 1) and names every page whose statement count differs.
--json and --markdown write the results to files. --healthz-each loads /healthz for a few seconds just before
each page and compares the page with that figure (the "healthz" column) instead of the run's ceiling: steadier
when other work shares the machine.
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
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
REPORT = BENCH / "report.lua"
sys.path.insert(0, str(BENCH))

from generate_grants import STAFF_EMAIL, STAFF_PASSWORD  # noqa: E402
from generate_people import OPEN_ROUND_CODE, USERS  # noqa: E402
from generate_people import PASSWORD as PEOPLE_PASSWORD  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wypf_bench"
# The same browser in the sign-in and in the load, as a real visitor: a session signed in from one user agent
# and used from another is marked not fresh on every request.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
STAFF = "staff"
RSS_TARGET_MB = 200
P95_MS = 100.0  # every page's p95 latency must stay under this


@dataclass(frozen=True)
class Page:
    key: str  # short name: plan files, --pages
    name: str
    path: str
    user: str | None  # a role of generate_people.USERS, or "staff"; None: anonymous
    target: float | None  # throughput as a share of /healthz


@dataclass(frozen=True)
class Ids:
    space_id: int
    bookings_org: int
    open_round: int
    ranking_round: int
    scorecard_round: int
    campaign_slug: str
    busiest_event: int


HEALTHZ = Page("healthz", "/healthz", "/healthz", None, None)


def next_weekday(weekday: int) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


FUNDING_PATH = "/funding?theme=mental_health&town=Chippenham&closing=60&consortium=y"
LIBRARY_PATH = "/library?q=safeguarding+policy&topic=governance"


def events_path() -> str:
    """Events to come filtered four ways: a topic, a town, the next year, places left."""
    today = date.today()
    return (
        f"/events?topic=safeguarding&town=Chippenham&date_from={today.isoformat()}"
        f"&date_to={(today + timedelta(days=365)).isoformat()}&places_left=y"
    )


def search_path() -> str:
    tuesday = next_weekday(1).isoformat()
    return f"/venues?town=Chippenham&capacity=20&date={tuesday}&start=18:00&end=20:00"


def signed_in_pages(ids: Ids) -> list[Page]:
    week = next_weekday(1).isoformat()
    return [
        Page("inbox", "inbox", "/inbox", "inbox", 0.5),
        Page("dashboard", "dashboard", "/dashboard", "dashboard", 0.3),
        Page("apply", "grant apply", f"/grants/rounds/{ids.open_round}/apply", "applicant", 0.3),
        Page("calendar", "space calendar", f"/spaces/{ids.space_id}/calendar?week={week}", "bookings", 0.3),
        Page("search", "search (free at)", search_path(), "inbox", 0.25),
        Page("bookings", "org bookings", f"/organisations/{ids.bookings_org}/bookings", "bookings", 0.15),
        Page("requests", "request queue", "/venues/requests", "owner", 0.15),
        Page("vetting", "vetting queue", "/staff/vetting", STAFF, 0.15),
        Page("vetting-approved", "vetting: approved", "/staff/vetting?status=approved", STAFF, 0.15),
        Page("ranking", "ranking", f"/staff/grants/rounds/{ids.ranking_round}/ranking", STAFF, 0.15),
        Page("scorecard", "scorecard", "/scorecard", "inbox", 0.15),
        Page("campaign", "campaign (20,000 gifts)", f"/campaigns/{ids.campaign_slug}", "inbox", 0.15),
        Page("money-trail", "where the money goes", "/where-the-money-goes", "inbox", 0.15),
        Page("staff-fundraising", "fundraising (staff)", "/staff/fundraising", STAFF, 0.15),
        Page("staff-donations", "donations (staff)", "/staff/donations", STAFF, 0.15),
        Page(
            "staff-pledges",
            "offline pledges (staff)",
            "/staff/donations?status=pending&provider=offline",
            STAFF,
            0.15,
        ),
        Page(
            "staff-live",
            "live campaigns, page 2 (staff)",
            "/staff/fundraising?section=live&page=2",
            STAFF,
            0.15,
        ),
        # Funding and bids (bench/generate_bids.py): open opportunities filtered four ways, and staff's pipeline.
        Page("funding", "funding (filtered)", FUNDING_PATH, "inbox", 0.15),
        Page("pipeline", "bids pipeline (staff)", "/staff/bids/pipeline", STAFF, 0.15),
        Page("bid-success", "bid success rates (staff)", "/staff/bids/success", STAFF, 0.15),
        # Events and the library (bench/generate_events.py).
        Page("events", "events (filtered)", events_path(), "inbox", 0.15),
        Page("event", "busiest event", f"/events/{ids.busiest_event}", "inbox", 0.15),
        Page("library", "library (text search)", LIBRARY_PATH, "inbox", 0.15),
    ]


def anonymous_pages(ids: Ids) -> list[Page]:
    week = next_weekday(1).isoformat()
    return [
        Page("anon-search", "search (free at)", search_path(), None, 0.25),
        Page("anon-calendar", "space calendar", f"/spaces/{ids.space_id}/calendar?week={week}", None, 0.3),
        Page("anon-scorecard", "scorecard", "/scorecard", None, 0.15),
        Page(
            "anon-scorecard-round", "round scorecard", f"/scorecard/rounds/{ids.scorecard_round}", None, 0.15
        ),
        Page("anon-campaigns", "campaigns", "/campaigns", None, 0.15),
        Page("anon-campaigns-past", "past campaigns, page 2", "/campaigns?section=past&page=2", None, 0.15),
        Page("anon-campaign", "campaign (20,000 gifts)", f"/campaigns/{ids.campaign_slug}", None, 0.15),
        Page("anon-money-trail", "where the money goes", "/where-the-money-goes", None, 0.15),
        Page("anon-events", "events", "/events", None, 0.15),
    ]


def find_ids(database_url: str) -> Ids:
    """The rows the pages show, found by what the generators wrote."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:

            def one(sql: str, what: str, **params: object) -> int:
                found = conn.execute(sa.text(sql), params).scalar()
                if found is None:
                    raise SystemExit(f"no {what} in the database: run the bench/generate*.py scripts first")
                return int(found)

            def slug(found: object) -> str:
                if not isinstance(found, str):
                    raise SystemExit("no live campaign: run bench/generate_fundraising.py first")
                return found

            bookings_org = one(
                'SELECT m.organisation_id FROM membership m JOIN "user" u ON u.id = m.user_id '
                "WHERE u.email = :email ORDER BY m.id LIMIT 1",
                "bookings organisation",
                email=USERS["bookings"],
            )
            return Ids(
                # A space the bookings organisation books now: its calendar shows the organisation's own titles.
                space_id=one(
                    "SELECT space_id FROM booking WHERE organisation_id = :org AND last_date >= current_date "
                    "GROUP BY space_id ORDER BY count(*) DESC, space_id LIMIT 1",
                    "booked space",
                    org=bookings_org,
                ),
                bookings_org=bookings_org,
                open_round=one(
                    "SELECT id FROM grant_round WHERE code = :code", "open round", code=OPEN_ROUND_CODE
                ),
                ranking_round=one(
                    "SELECT id FROM grant_round WHERE status = 'in_review' ORDER BY id LIMIT 1",
                    "round in review",
                ),
                scorecard_round=one(
                    "SELECT id FROM grant_round WHERE status = 'decided' ORDER BY id DESC LIMIT 1",
                    "decided round",
                ),
                # The campaign with the most gifts (bench/generate_fundraising.py gives the first a tenth).
                campaign_slug=slug(
                    conn.execute(
                        sa.text(
                            "SELECT c.slug FROM campaign c JOIN donation d ON d.campaign_id = c.id "
                            "WHERE c.status = 'live' GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1"
                        )
                    ).scalar()
                ),
                # The published event to come at a Venue Bank space with the most entries (its waiting list the
                # longest; bench/generate_events.py gives its first event, a course at a space, one in a hundred).
                busiest_event=one(
                    "SELECT e.id FROM event e JOIN event_registration r ON r.event_id = e.id "
                    "WHERE e.status = 'published' AND e.starts_at > now() AND e.location_kind = 'venue' "
                    "GROUP BY e.id ORDER BY count(*) DESC, e.id LIMIT 1",
                    "published event at a space with registrations",
                ),
            )
    finally:
        engine.dispose()


# --- the server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    database_url: str, workers: int, page_cache: bool, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """gunicorn on a free port: yields its base URL and the master's pid."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUERY_COUNT_HEADER": "1",
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": "0",
    }
    env.pop("PUBLIC_PAGE_CACHE_SECONDS", None)
    if not page_cache:
        env["PUBLIC_PAGE_CACHE_SECONDS"] = "0"
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(extra_env or {})
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit("gunicorn did not start:\n" + log.read()[-3000:])
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield base, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.seek(0)
        errors = [
            ln for ln in log.read().splitlines() if "Traceback" in ln or " ERROR " in ln or "[ERROR]" in ln
        ]
        log.close()
        if errors:
            print(f"gunicorn logged {len(errors)} errors, see {log.name}", file=sys.stderr)
        else:
            os.unlink(log.name)


def worker_rss_kb(master_pid: int) -> dict[int, tuple[int, int]]:
    """VmRSS and VmHWM (the peak), in kB, of each child of the gunicorn master."""
    out: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            peak = fields.get("VmHWM", fields["VmRSS"])
            out[int(entry.name)] = (int(fields["VmRSS"].split()[0]), int(peak.split()[0]))
    return out


# --- HTTP --------------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    status: int
    queries: int
    size: int
    seconds: float


def fetch(url: str, cookie: str | None = None) -> Answer:
    """One GET, redirects not followed: a page that sends its user to the sign-in form is an error here."""
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    started = time.perf_counter()
    try:
        with _OPENER.open(urllib.request.Request(url, headers=headers), timeout=60) as r:
            body = r.read()
            return Answer(
                r.status, int(r.headers.get("X-Query-Count", "-1")), len(body), time.perf_counter() - started
            )
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return Answer(
            exc.code, int(exc.headers.get("X-Query-Count", "-1")), len(body), time.perf_counter() - started
        )


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the login form (with its CSRF token) and return the Cookie header value for wrk."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/login", timeout=30) as r:
        page = r.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"email": email, "password": password, "next": ""}
    if token:
        form["csrf_token"] = token.group(1)
    try:
        with opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=30) as r:
            r.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"could not sign in as {email}: {exc.code}") from exc
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    # The form answers 200 with an error when the password is wrong: signed in means a page that needs it opens.
    if fetch(f"{base}/dashboard", cookie).status != 200:
        raise SystemExit(f"could not sign in as {email}")
    return cookie


def drain(base: str, fast_ms: float, needed: int, timeout: float) -> tuple[float, bool]:
    """Wait until /healthz answers `needed` times in a row in under `fast_ms`: the previous load has drained."""
    started = time.monotonic()
    streak = 0
    while time.monotonic() - started < timeout:
        try:
            answer = fetch(f"{base}/healthz")
            fast = answer.status == 200 and answer.seconds * 1000 < fast_ms
        except OSError:
            fast = False
        streak = streak + 1 if fast else 0
        if streak >= needed:
            return time.monotonic() - started, True
        time.sleep(0.02 if fast else 0.2)
    return time.monotonic() - started, False


def run_wrk(
    url: str, seconds: int, warmup: int, args: argparse.Namespace, cookie: str | None
) -> dict[str, Any]:
    headers = ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        headers += ["-H", f"Cookie: {cookie}"]
    common = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "--timeout",
        f"{args.wrk_timeout}s",
    ]
    if warmup > 0:
        subprocess.run([*common, "-d", f"{warmup}s", *headers, url], capture_output=True, check=False)
    out = subprocess.run(
        [*common, "-d", f"{seconds}s", "--latency", "-s", str(REPORT), *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return dict(json.loads(line))


# --- one server run ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    name: str
    path: str
    user: str | None
    target: float | None
    status: int = 0
    queries: int = -1
    first_queries: int = -1  # the most of several requests: a worker's first may do one-off work
    size: int = 0
    wrk: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None
    met: bool | None = None
    drain_seconds: float = 0.0
    drained: bool = True
    problem: str = ""
    local_ceiling: float | None = None  # /healthz req/s just before this page (--healthz-each)


@dataclass
class Run:
    label: str
    page_cache: bool
    database: str
    rows: list[Row]
    ceiling: float | None = None
    rss_kb: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid: (VmRSS, VmHWM)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def measure(base: str, page: Page, cookie: str | None, args: argparse.Namespace, queries_only: bool) -> Row:
    row = Row(page.key, page.name, page.path, page.user, page.target)
    if not queries_only:
        row.drain_seconds, row.drained = drain(base, args.drain_ms, args.drain_count, args.drain_timeout)
    # Several requests, so both workers have done their one-off work (a ranking is scored once per worker):
    # the fewest statements are what a request costs from then on, the most what a worker's first one costs.
    answers = [fetch(base + page.path, cookie) for _ in range(8)]
    row.status, row.size = answers[-1].status, answers[-1].size
    row.queries = min(a.queries for a in answers)
    row.first_queries = max(a.queries for a in answers)
    bad = [a.status for a in answers if a.status != 200]
    if bad:
        row.problem = f"answered {bad[0]}"
        return row
    if queries_only:
        return row
    if args.healthz_each and page is not HEALTHZ:
        row.local_ceiling = run_wrk(base + HEALTHZ.path, args.healthz_each, 0, args, None)["rps"]
        drain(base, args.drain_ms, args.drain_count, args.drain_timeout)
    row.wrk = run_wrk(base + page.path, args.seconds, args.warmup, args, cookie)
    after = fetch(base + page.path, cookie)
    if after.status != 200:
        row.problem = f"answered {after.status} after the load (signed out?)"
    elif row.wrk.get("errors"):
        row.problem = f"{row.wrk['errors']} wrk errors ({row.wrk.get('timeouts', 0)} timeouts)"
    return row


def server_run(
    database_url: str,
    page_cache: bool,
    pages: list[Page],
    args: argparse.Namespace,
    queries_only: bool = False,
) -> Run:
    label = "page cache on" if page_cache else "page cache off"
    run = Run(label, page_cache, database_url.rsplit("/", 1)[-1], [], load_before=os.getloadavg())
    emails = {**USERS, STAFF: args.staff_email}
    passwords = {STAFF: args.staff_password}
    with serve(database_url, args.workers, page_cache) as (base, master):
        cookies = {
            role: sign_in(base, emails[role], passwords.get(role, args.password))
            for role in dict.fromkeys(p.user for p in pages if p.user)
        }
        measured = [HEALTHZ, *pages] if queries_only else [HEALTHZ, *pages, HEALTHZ]
        for n, page in enumerate(measured):
            row = measure(base, page, cookies.get(page.user) if page.user else None, args, queries_only)
            if page is HEALTHZ and not queries_only:
                row.name = "/healthz (before)" if n == 0 else "/healthz (after)"
            run.rows.append(row)
            if not queries_only:
                print(
                    f"  {label}: {row.name:24} {row.wrk.get('rps', 0):8.1f} req/s {row.problem}",
                    file=sys.stderr,
                )
        run.rss_kb = worker_rss_kb(master)
    run.load_after = os.getloadavg()
    if not queries_only:
        ceilings = [r.wrk["rps"] for r in run.rows if r.key == HEALTHZ.key and r.wrk]
        run.ceiling = sum(ceilings) / len(ceilings) if ceilings else None
        for row in run.rows:
            ceiling = row.local_ceiling or run.ceiling
            if row.wrk and ceiling:
                row.ratio = row.wrk["rps"] / ceiling
            if row.target is not None and row.ratio is not None:
                row.met = row.ratio >= row.target and row.wrk["p95"] < P95_MS and not row.problem
    return run


# --- output ------------------------------------------------------------------------------------------------------

COLUMNS = (
    "page",
    "user",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "healthz",
    "vs healthz",
    "target",
    "met",
    "queries",
    "bytes",
)


def cells(row: Row) -> list[str]:
    w = row.wrk
    queries = (
        str(row.queries) if row.queries == row.first_queries else f"{row.queries} (cold {row.first_queries})"
    )
    met = "" if row.met is None else ("yes" if row.met else "NO")
    if row.met is False:
        missed = [
            *(
                ["ratio"]
                if row.ratio is not None and row.target is not None and row.ratio < row.target
                else []
            ),
            *(["p95"] if w and w["p95"] >= P95_MS else []),
            *([row.problem] if row.problem else []),
        ]
        met = f"NO ({', '.join(missed)})"
    elif row.problem:
        met = f"{met} ({row.problem})".strip()
    return [
        row.name,
        row.user or "anonymous",
        f"{w['rps']:.1f}" if w else "",
        f"{w['p50']:.1f}" if w else "",
        f"{w['p95']:.1f}" if w else "",
        f"{w['p99']:.1f}" if w else "",
        f"{row.local_ceiling:.0f}" if row.local_ceiling else "",
        f"{row.ratio:.2f}" if row.ratio is not None else "",
        f"≥ {row.target:.2f}" if row.target is not None else "",
        met,
        queries,
        f"{row.size:,}",
    ]


def run_heading(run: Run, args: argparse.Namespace) -> str:
    cache = "on (anonymous pages kept per worker)" if run.page_cache else "off (PUBLIC_PAGE_CACHE_SECONDS=0)"
    ceiling = f"{run.ceiling:.1f}" if run.ceiling else "-"
    load = "/".join(f"{x:.1f}" for x in run.load_before), "/".join(f"{x:.1f}" for x in run.load_after)
    return (
        f"{run.database}: page cache {cache}; {args.connections} connections, {args.workers} gunicorn workers, "
        f"{args.seconds} s per page after {args.warmup} s warm-up; /healthz ceiling {ceiling} req/s "
        f"(mean of before and after"
        + (
            f"; each page is compared with /healthz loaded {args.healthz_each} s just before it"
            if args.healthz_each
            else ""
        )
        + f"); load average {load[0]} -> {load[1]}"
    )


def rss_line(run: Run) -> str:
    parts = [
        f"pid {pid} {rss / 1024:.0f} MB (peak {peak / 1024:.0f} MB)"
        + ("" if peak / 1024 < RSS_TARGET_MB else " OVER TARGET")
        for pid, (rss, peak) in sorted(run.rss_kb.items())
    ]
    return f"gunicorn worker RSS (target under {RSS_TARGET_MB} MB): " + (", ".join(parts) or "none found")


def print_run(run: Run, args: argparse.Namespace) -> None:
    rows = [list(COLUMNS)] + [cells(r) for r in run.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    print("\n" + run_heading(run, args))
    for n, r in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if i < 2 or n == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    for row in run.rows:
        if not row.drained:
            print(f"  note: {row.name}: the server had not drained after {row.drain_seconds:.0f} s")
    print(rss_line(run))


def page_paths(runs: list[Run]) -> list[tuple[str, str]]:
    """Each measured path once, with its page's name."""
    paths = {r.path: "/healthz" if r.key == HEALTHZ.key else r.name for run in runs for r in run.rows}
    return sorted(paths.items(), key=lambda pn: pn[1])


def markdown(runs: list[Run], args: argparse.Namespace) -> str:
    out = []
    for run in runs:
        out.append(run_heading(run, args) + ":\n")
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|" + "---|" * 2 + "---:|" * (len(COLUMNS) - 2))
        out.extend("| " + " | ".join(cells(r)) + " |" for r in run.rows)
        out.append("\n" + rss_line(run) + "\n")
    out.append("Pages:\n")
    out.extend(f"- {name}: `{path}`" for path, name in page_paths(runs))
    return "\n".join(out) + "\n"


def queries_only(args: argparse.Namespace, pages_for: Any) -> None:
    urls = [args.database_url, *([args.compare_with] if args.compare_with else [])]
    runs = [server_run(url, False, pages_for(url), args, queries_only=True) for url in urls]
    names = [run.database for run in runs]
    header = ["page", "user", *(f"queries {n}" for n in names), *(f"bytes {n}" for n in names), "status"]
    lines = [header]
    differs = []
    for rows in zip(*(run.rows for run in runs), strict=True):
        first = rows[0]
        counts = [r.queries for r in rows]
        if len(set(counts)) > 1:
            differs.append(first.name + (" (anonymous)" if first.user is None else ""))
        status = ", ".join(sorted({r.problem or str(r.status) for r in rows}))
        lines.append(
            [first.name, first.user or "anonymous", *map(str, counts), *(f"{r.size:,}" for r in rows), status]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print("\nSQL statements per request, page cache off")
    for line in lines:
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    if len(runs) > 1:
        print("\nstatement counts differ: " + (", ".join(differs) if differs else "none"))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(run) for run in runs], indent=2, default=str))
    if differs or any(r.problem for run in runs for r in run.rows):
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--wrk-timeout", type=int, default=5, help="seconds before wrk counts a request timed out"
    )
    parser.add_argument(
        "--cache", choices=("both", "off", "on"), default="both", help="which server runs to do"
    )
    parser.add_argument("--pages", help="comma-separated page keys to measure (default: all)")
    parser.add_argument(
        "--healthz-each",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also load /healthz for this long just before each page, and compare the page with that figure"
        " (steadier on a machine shared with other work)",
    )
    parser.add_argument("--drain-ms", type=float, default=20.0)
    parser.add_argument("--drain-count", type=int, default=3)
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument(
        "--queries-only", action="store_true", help="only print statements and sizes per page"
    )
    parser.add_argument("--compare-with", help="with --queries-only: a second database URL to compare with")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--markdown", help="write the tables to this Markdown file")
    parser.add_argument(
        "--password", default=PEOPLE_PASSWORD, help="password of the generate_people.py users"
    )
    parser.add_argument("--staff-email", default=STAFF_EMAIL)
    parser.add_argument("--staff-password", default=STAFF_PASSWORD)
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.queries_only:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    wanted = set(args.pages.split(",")) if args.pages else None

    def chosen(pages: list[Page]) -> list[Page]:
        return [p for p in pages if wanted is None or p.key in wanted]

    if args.queries_only:

        def pages_for(url: str) -> list[Page]:
            ids = find_ids(url)
            return chosen(signed_in_pages(ids) + anonymous_pages(ids))

        queries_only(args, pages_for)
        return

    ids = find_ids(args.database_url)
    runs = []
    if args.cache in ("both", "off"):
        runs.append(
            server_run(args.database_url, False, chosen(signed_in_pages(ids) + anonymous_pages(ids)), args)
        )
    if args.cache in ("both", "on"):
        runs.append(server_run(args.database_url, True, chosen(anonymous_pages(ids)), args))
    for run in runs:
        print_run(run, args)
    print("\nPages:")
    for path, name in page_paths(runs):
        print(f"  {name}: {path}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps([asdict(run) for run in runs], indent=2, default=str))
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(markdown(runs, args))


if __name__ == "__main__":
    main()
