"""Chromium (Debian's, never a downloaded one) driven through Playwright against the live server.

Every page a visitor opens is watched: a console error (which is how Chromium reports a CSP violation or a
missing stylesheet), an uncaught script error, a 5xx response, or a serious or critical accessibility violation
found by axe-core (run on every page once it has loaded) is recorded in `visitor.problems`;
`visitor.assert_clean()` checks them, and the `browse` fixture fails the test at teardown if any were left.

Each journey runs once, on PostgreSQL, the database the platform runs on in production; the 390/1280 px tour of
the main pages runs on SQLite, the embedded default. What differs between the databases (locking, constraints,
SQL) is tested on both by the service and view tests.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.livesupport import LiveServer, SmtpSink, live_server, live_settings, smtp  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--lang=en-GB",
]
TIMEOUT_MS = 10_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Chromium reports CSP violations on the console too; this makes them explicit, with the directive at fault.
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`);
});
"""


@functools.cache
def _axe_script() -> str:
    """axe-core, and a run of it on every page once loaded: serious and critical violations go to the console as
    errors (so they are recorded like any other problem), and window.__axe settles when the run is over."""
    import axe_playwright_python

    source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    return (
        source
        + """
;window.__axe = new Promise((done) => {
  window.addEventListener('load', () => {
    // Pages only: a JSON or CSV download shown by the browser is not ours to audit.
    if (document.contentType !== 'text/html') { done(0); return; }
    axe.run(document, {resultTypes: ['violations']}).then((result) => {
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical') {
          const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
          console.error(`axe ${v.impact}: ${v.id} (${v.help}) at ${where}`);
        }
      }
      done(result.violations.length);
    }, (error) => { console.error(`axe could not run: ${error}`); done(-1); });
  });
});
"""
    )


@pytest.fixture
def app_config(app_config: dict, smtp: SmtpSink) -> dict:  # noqa: F811
    return live_settings(app_config, smtp)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    try:
        _axe_script()
    except ImportError:
        skip_or_fail("the axe-playwright-python package (axe-core) is not installed")
    expect.set_options(timeout=TIMEOUT_MS)
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
    except Exception as exc:
        pw.stop()
        skip_or_fail(f"Chromium at {CHROMIUM} would not start: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


class Visitor:
    """One person in their own browser context (own cookies), with one page and what went wrong on it."""

    def __init__(self, browser: Any, server: LiveServer, name: str) -> None:
        self.name = name
        self.context = browser.new_context(
            base_url=server.url,
            locale="en-GB",
            timezone_id="Europe/London",
            viewport={"width": 1280, "height": 900},
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.set_default_navigation_timeout(TIMEOUT_MS)
        self.context.add_init_script(_CSP_LISTENER)
        self.context.add_init_script(_axe_script())
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"{self.name}: script error {exc}"))
        self.page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        # The site has no favicon; Chromium asks for one once per context and logs the 404.
        # A 4xx answer (a refused form shown again with its errors) is logged by Chromium too; the tests assert
        # those statuses themselves, and 5xx answers are caught in _response.
        if msg.text.startswith("Failed to load resource: the server responded with a status of 4"):
            return
        if msg.type == "error" and not (msg.location.get("url") or "").endswith("/favicon.ico"):
            self.problems.append(f"{self.name}: console error on {self.page.url}: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.problems.append(
                f"{self.name}: {response.status} from {response.request.method} {response.url}"
            )

    def audited(self) -> None:
        """Wait for axe to finish on the page now open, so its findings are in `problems`."""
        try:
            self.page.wait_for_function("window.__axe !== undefined")
            self.page.evaluate("() => window.__axe")
        except Exception as exc:  # the page navigated away meanwhile: the next page is audited in turn
            if "context was destroyed" not in str(exc):
                raise

    def assert_clean(self) -> None:
        self.audited()
        problems, self.problems = self.problems, []
        assert problems == [], "the browser saw problems:\n" + "\n".join(problems)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def browse(chromium: Any, live_server: LiveServer) -> Iterator[Callable[[str], Visitor]]:  # noqa: F811
    """`browse("name")` opens a fresh browser context on the live server; closed before the server stops."""
    visitors: list[Visitor] = []

    def open_visitor(name: str) -> Visitor:
        visitor = Visitor(chromium, live_server, name)
        visitors.append(visitor)
        return visitor

    yield open_visitor
    problems = [p for v in visitors for p in v.problems]
    for v in visitors:
        v.close()
    if problems:
        pytest.fail("the browser saw problems:\n" + "\n".join(problems))


@pytest.fixture
def screenshot(backend: str) -> Callable[[Any, str], None]:
    """Save a full-page PNG under test-artifacts/screenshots/ (SQLite run only: the pages look the same)."""

    def shoot(page: Any, name: str) -> None:
        # Every page worth a picture is audited in full, on both databases.
        page.wait_for_function("window.__axe !== undefined")
        page.evaluate("() => window.__axe")
        if backend != "sqlite":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shoot
