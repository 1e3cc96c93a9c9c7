"""Security behaviour a visitor or an attacker would notice: headers, cookies, CSRF, sign-in throttling,
the security log, redirects that stay on the site, links that lead to the site whatever the request said, and
private pages that are never stored."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import ProdConfig
from foundation import pagecache
from foundation.extensions import db
from foundation.members.models import MemberRole
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.web import CSP
from tests.conftest import link_in, text_of
from tests.factories import PASSWORD, add_member, login, make_org, make_user
from tests.venues.factories import make_space, make_venue

TOO_MANY = "Too many attempts. Please wait a few minutes and try again."
WRONG = "Wrong-Horse-Battery-77"


@pytest.fixture
def make_app(app_config: dict, request: pytest.FixtureRequest) -> Callable[..., Flask]:
    """The test's app with some settings changed. Each call to the fixture is a fresh app, so rate limits kept in
    memory start from zero in every test."""

    def build(**settings: object) -> Flask:
        app_config.update(settings)
        return request.getfixturevalue("app")

    return build


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def set_cookies(resp) -> dict[str, dict[str, str]]:
    """Set-Cookie headers by cookie name: their attributes, lower-cased (flags map to "")."""
    found: dict[str, dict[str, str]] = {}
    for header in resp.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        attrs: dict[str, str] = {}
        for part in rest.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            attrs[key.lower()] = value
        found[name] = attrs
    return found


# --- headers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/members", "/login", "/no-such-page"])
def test_security_headers_on_html_pages(client, path):
    resp = client.get(path)
    assert resp.mimetype == "text/html"
    assert resp.headers["Content-Security-Policy"] == CSP
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    # Plain HTTP in development: no HSTS, which would lock a developer's browser to HTTPS.
    assert "Strict-Transport-Security" not in resp.headers


def test_content_security_policy_allows_no_inline_code_or_framing(client):
    policy = dict(
        part.strip().split(" ", 1) for part in client.get("/").headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"
    assert "unsafe" not in client.get("/").headers["Content-Security-Policy"]
    # And the pages keep to it: no inline script or style for the policy to block.
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
    assert scripts and all(body.strip() == "" for body in scripts), "scripts come from files, none inline"
    assert all(src.startswith("/static/") for src in re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', page))
    assert "style=" not in page and "<style" not in page


# --- production cookies -----------------------------------------------------------------------------------------


def prod_settings() -> dict:
    settings = {k: getattr(ProdConfig, k) for k in dir(ProdConfig) if k.isupper()}
    for name in ("SQLALCHEMY_DATABASE_URI", "MAIL_FOLDER", "UPLOAD_FOLDER", "SERVER_NAME"):
        settings.pop(name, None)  # keep the test's database and folders
    return {
        **settings,
        "SECRET_KEY": "prod-like-test-secret",
        "BASE_URL": "https://wypf.test",
        "CELERY_BROKER_URL": None,
        "MAIL_SERVER": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "TESTING": False,
        "WTF_CSRF_ENABLED": True,  # Flask-WTF's default, which only the test settings turn off
    }


def test_production_cookies_are_secure_httponly_and_lax(make_app):
    app = make_app(**prod_settings())
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["WTF_CSRF_ENABLED"] and app.config["RATELIMIT_ENABLED"]
    user = make_user(email="ada@example.org")
    client = app.test_client()
    https = {"base_url": "https://wypf.test"}

    page = client.get("/login", **https)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    resp = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(page.text),
        },
        headers={"Referer": "https://wypf.test/login"},
        **https,
    )

    assert resp.status_code == 302 and resp.location.endswith("/dashboard")
    cookies = set_cookies(resp)
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        attrs = cookies[name]
        assert "secure" in attrs, name
        assert "httponly" in attrs, name
        assert attrs.get("samesite") == "Lax", name
    # The remembered sign-in survives the end of the browser session.
    assert "expires" in cookies["remember_token"]
    assert client.get("/dashboard", **https).status_code == 200


# --- CSRF -------------------------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app) -> Flask:
    return make_app(WTF_CSRF_ENABLED=True)


def test_post_without_a_csrf_token_is_refused(csrf_app):
    user = make_user(email="ada@example.org")
    client = csrf_app.test_client()

    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert "The form expired or was sent from elsewhere. Please try again." in resp.text
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert resp.status_code == 400
    assert client.get("/dashboard").status_code == 302  # still signed out


def test_post_with_the_token_from_the_page_works(csrf_app):
    user = make_user(email="ada@example.org")
    client = csrf_app.test_client()
    token = csrf_token(client.get("/login").text)

    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.location.endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200

    # Signing out is a POST too, and needs the token as well.
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200
    token = csrf_token(client.get("/dashboard").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_a_token_from_another_session_is_refused(csrf_app):
    user = make_user(email="ada@example.org")
    attacker = csrf_app.test_client()
    victim = csrf_app.test_client()
    token = csrf_token(attacker.get("/login").text)
    resp = victim.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 400


# --- sign-in throttling -----------------------------------------------------------------------------------------

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 7


@pytest.fixture
def throttled(make_app) -> Flask:
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        LOGIN_LIMIT_PER_ACCOUNT=f"{ACCOUNT_LIMIT} per 15 minutes",
        LOGIN_LIMIT_PER_ADDRESS=f"{ADDRESS_LIMIT} per 15 minutes",
    )


def from_address(app: Flask, ip: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def attempt(client: FlaskClient, email: str, password: str = WRONG):
    return client.post("/login", data={"email": email, "password": password})


def assert_throttled(resp) -> None:
    assert resp.status_code == 429
    assert TOO_MANY in resp.text
    assert int(resp.headers["Retry-After"]) > 0


def test_failed_attempts_on_one_account_are_throttled_but_other_accounts_still_work(throttled):
    ada = make_user(email="ada@example.org")
    bob = make_user(email="bob@example.org")
    client = from_address(throttled, "198.51.100.7")

    for _ in range(ACCOUNT_LIMIT):
        resp = attempt(client, "ada@example.org")
        assert resp.status_code == 401
        assert "The email address or password is not right." in resp.text

    assert_throttled(attempt(client, "ada@example.org"))
    # Even the right password waits: the account is being guessed at.
    assert_throttled(attempt(client, ada.email, PASSWORD))
    # The same account under another case, or from another address, is the same account.
    assert_throttled(attempt(client, "  ADA@Example.org"))
    assert_throttled(attempt(from_address(throttled, "203.0.113.9"), ada.email, PASSWORD))

    # Someone else signing in from the same address is not held up.
    resp = attempt(client, bob.email, PASSWORD)
    assert resp.status_code == 302 and resp.location.endswith("/dashboard")


def test_failed_attempts_from_one_address_are_throttled_across_accounts(throttled):
    carol = make_user(email="carol@example.org")
    client = from_address(throttled, "198.51.100.8")

    statuses = [attempt(client, f"guess{n}@example.org").status_code for n in range(ADDRESS_LIMIT)]
    assert statuses == [401] * ADDRESS_LIMIT  # each account only once: no per-account limit reached

    assert_throttled(attempt(client, "guess-next@example.org"))
    assert_throttled(attempt(client, carol.email, PASSWORD))
    # The same person from another address is fine.
    resp = attempt(from_address(throttled, "203.0.113.10"), carol.email, PASSWORD)
    assert resp.status_code == 302


def test_per_account_lockout_leaves_room_until_the_address_limit(throttled):
    make_user(email="ada@example.org")
    bob = make_user(email="bob@example.org")
    client = from_address(throttled, "198.51.100.9")

    for _ in range(ACCOUNT_LIMIT):
        assert attempt(client, "ada@example.org").status_code == 401
    assert_throttled(attempt(client, "ada@example.org"))

    # Bob mistypes a few times from the same address, then gets it right...
    assert attempt(client, bob.email).status_code == 401
    assert attempt(client, bob.email, PASSWORD).status_code == 302
    client.post("/logout")
    # ...until the address as a whole has failed too often.
    results = [attempt(client, f"other{n}@example.org").status_code for n in range(ADDRESS_LIMIT)]
    assert 429 in results
    first_refusal = results.index(429)
    assert results[:first_refusal] == [401] * first_refusal
    assert set(results[first_refusal:]) == {429}
    assert_throttled(attempt(client, bob.email, PASSWORD))


def test_successful_sign_ins_do_not_count(throttled):
    ada = make_user(email="ada@example.org")
    client = from_address(throttled, "198.51.100.10")

    for _ in range(ADDRESS_LIMIT + 2):
        resp = attempt(client, ada.email, PASSWORD)
        assert resp.status_code == 302
        assert client.post("/logout").status_code == 302

    # The whole failure allowance is still there.
    for _ in range(ACCOUNT_LIMIT):
        assert attempt(client, ada.email).status_code == 401
    assert_throttled(attempt(client, ada.email))


def test_limits_start_afresh_with_a_new_app(throttled, app_config):
    """What one test (or one server start with memory storage) used up does not leak into the next."""
    make_user(email="ada@example.org")
    client = from_address(throttled, "198.51.100.11")
    for _ in range(ACCOUNT_LIMIT):
        attempt(client, "ada@example.org")
    assert_throttled(attempt(client, "ada@example.org"))

    from foundation import create_app

    fresh = create_app(app_config)
    try:
        assert attempt(from_address(fresh, "198.51.100.11"), "ada@example.org").status_code == 401
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_throttling_is_off_in_the_test_settings(client):
    make_user(email="ada@example.org")
    statuses = {attempt(client, "ada@example.org").status_code for _ in range(25)}
    assert statuses == {401}


# --- the security log -------------------------------------------------------------------------------------------


def test_sign_ins_failures_and_permission_refusals_are_logged_without_secrets(client, db, caplog):
    caplog.set_level(logging.INFO, logger="foundation.security")
    ada = make_user(email="ada@example.org")
    org = make_org(name="Calne Young Carers")
    add_member(org, ada, MemberRole.MEMBER)
    db.session.commit()

    def security_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "foundation.security"]

    assert attempt(client, ada.email, WRONG).status_code == 401
    [failed] = security_lines()
    assert failed.startswith("login_failed ip=127.0.0.1") and "email_domain=example.org" in failed

    assert login(client, ada).status_code == 302
    assert security_lines()[-1] == f"login ip=127.0.0.1 user={ada.id}"

    assert client.get(f"/organisations/{org.id}/edit").status_code == 403
    denied = security_lines()[-1]
    assert denied.startswith(f"permission_denied ip=127.0.0.1 user={ada.id} status=403")

    assert len(security_lines()) == 3
    everything = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (WRONG, PASSWORD):
        assert secret not in everything
    # A failed attempt names no account: only the domain.
    assert "ada@example.org" not in failed


# --- redirects after sign-in stay on the site -------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/dashboard",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "  //evil.example",
        "/\t/evil.example",
        "https:evil.example",
        "javascript:alert(1)",
    ],
)
def test_open_redirects_are_refused(client, db, target):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    page = client.get("/login", query_string={"next": target}).text
    hidden = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', page)
    assert hidden, "the sign-in form carries the next page"

    resp = client.post("/login", data={"email": ada.email, "password": PASSWORD, "next": target})

    assert resp.status_code == 302
    where = urlsplit(resp.location)
    assert where.netloc in ("", "localhost") and where.path == "/dashboard"


def test_a_page_on_the_site_is_where_sign_in_leads(client, db):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    resp = client.get("/organisations/new")
    assert resp.status_code == 302
    login_page = resp.location
    assert "next=" in login_page

    page = client.get(login_page).text
    assert 'value="/organisations/new"' in page
    resp = client.post(
        "/login", data={"email": ada.email, "password": PASSWORD, "next": "/organisations/new"}
    )
    assert resp.status_code == 302 and resp.location == "/organisations/new"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example"])
def test_registering_does_not_redirect_off_site(client, db, target):
    resp = client.post(
        "/register",
        query_string={"next": target},
        data={
            "name": "Ada Worker",
            "email": "ada@example.org",
            "password": "a long enough passphrase",
            "confirm": "a long enough passphrase",
        },
    )
    assert resp.status_code == 302
    where = urlsplit(resp.location)
    # To sign in, and the sign-in page is not told to go off site afterwards either.
    assert where.netloc in ("", "localhost") and where.path == "/login" and where.query == ""


# --- a line break in the next page ------------------------------------------------------------------------------

BROKEN_NEXT = ["/inbox\nSet-Cookie: x=1", "/a\rb", "/a\x00b", "/in\u2028box", "/inbox\u202e", "/a\u0085b"]


@pytest.mark.parametrize("target", BROKEN_NEXT)
def test_a_next_page_with_control_characters_leads_to_the_dashboard(client, db, target):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    assert client.get("/login", query_string={"next": target}).status_code == 200

    resp = client.post("/login", data={"email": ada.email, "password": PASSWORD, "next": target})

    assert resp.status_code == 302 and resp.location == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_a_next_page_with_a_line_break_in_the_address_bar(client, db):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    page = client.get("/login?next=/a%0Ab")
    assert page.status_code == 200
    hidden = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', page.text)
    assert hidden is not None
    resp = client.post("/login", data={"email": ada.email, "password": PASSWORD, "next": "/a\nb"})
    assert resp.status_code == 302 and resp.location == "/dashboard"


def test_a_broken_next_page_does_not_count_as_a_failed_sign_in(throttled):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    client = from_address(throttled, "198.51.100.40")
    for _ in range(ACCOUNT_LIMIT + 1):
        resp = client.post("/login", data={"email": ada.email, "password": PASSWORD, "next": "/a\nb"})
        assert resp.status_code == 302 and resp.location == "/dashboard"
        client.post("/logout")
    # The whole failure allowance is still there.
    for _ in range(ACCOUNT_LIMIT):
        assert attempt(client, ada.email).status_code == 401


def test_registering_with_a_broken_next_page_gets_the_usual_answer(client, db):
    resp = client.post(
        "/register?next=/a%0Ab",
        data={"name": "Ada Worker", "email": "ada@example.org", "password": "a long enough passphrase",
              "confirm": "a long enough passphrase"},
    )  # fmt: skip
    assert resp.status_code == 302 and resp.location == "/login"


def test_marking_a_message_read_with_a_broken_next_page_goes_to_the_inbox(client, db):
    ada = make_user(email="ada@example.org")
    note = notify(
        ada, NotificationKind.GENERAL, "You have a new role", "role_granted", link="/dashboard", roles=["x"]
    )
    db.session.commit()
    login(client, ada)
    resp = client.post(f"/inbox/{note.id}/read", data={"next": "/inbox\r\nLocation: https://evil.example"})
    assert resp.status_code == 302 and resp.location == "/inbox"


# --- links in emails and feeds lead to the site, whatever Host the request named ------------------------------------

PUBLIC = "https://platform.wypf.example"


def test_links_in_emails_use_the_public_address_not_the_requests_host(make_app, mailbox):
    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS=["platform.wypf.example", "internal.wypf.example"])
    make_user(email="ada@example.org")
    db.session.commit()
    client = app.test_client()

    resp = client.post(
        "/password/forgot", data={"email": "ada@example.org"}, base_url="http://internal.wypf.example:8080"
    )

    assert resp.status_code == 302
    urls = re.findall(r"https?://[^\s<>\"]+", text_of(mailbox.last_to("ada@example.org")))
    assert urls and all(u.startswith(PUBLIC + "/") for u in urls), urls
    assert link_in(mailbox.last_to("ada@example.org"), "/password/reset/")


def test_api_and_calendar_links_use_the_public_address_not_the_requests_host(make_app):
    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS=["platform.wypf.example", "internal.wypf.example"])
    admin = make_user(email="admin@example.org")
    org = make_org(admin=admin, name="Calne Scouts")
    hall = make_space(make_venue(org, name="Calne Scout Hut"), "Main hall")
    db.session.commit()
    client = app.test_client()
    internal = {"base_url": "http://internal.wypf.example:8080"}

    listing = client.get("/api/venues", query_string={"per_page": 1}, **internal).text
    freebusy = client.get(f"/api/spaces/{hall.id}/freebusy", **internal).text
    client.post("/login", data={"email": admin.email, "password": PASSWORD}, **internal)
    feeds = client.get(f"/organisations/{org.id}/calendars", **internal).text

    for body in (listing, freebusy, feeds):
        urls = re.findall(r"https?://[^\s<>\"']+", body)
        assert urls, body[:300]
        assert all(u.startswith(PUBLIC + "/") for u in urls if "w3.org" not in u), urls
    assert f"{PUBLIC}/spaces/{hall.id}/busy.ics" in feeds


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/login"), ("POST", "/password/forgot"), ("POST", "/login"), ("GET", "/api/venues"),
     ("GET", "/no-such-page")],
)  # fmt: skip
def test_a_request_naming_another_host_is_refused(client, db, mailbox, method, path):
    make_user(email="ada@example.org")
    db.session.commit()

    resp = client.open(
        path,
        method=method,
        data={"email": "ada@example.org", "password": PASSWORD},
        base_url="http://evil.example",
    )

    assert resp.status_code == 400
    assert "evil.example" not in resp.text
    assert mailbox.messages() == []
    assert client.get("/").status_code == 200  # our own host is still served


def test_the_trusted_hosts_are_a_setting(make_app):
    app = make_app(TRUSTED_HOSTS=["wypf.test"])
    client = app.test_client()
    assert client.get("/", base_url="https://wypf.test").status_code == 200
    assert client.get("/", base_url="http://localhost").status_code == 400


def test_by_default_the_public_address_and_this_machine_are_trusted(make_app):
    app = make_app(BASE_URL=PUBLIC)
    client = app.test_client()
    for base in (PUBLIC, "http://localhost", "http://127.0.0.1:5000"):
        assert client.get("/", base_url=base).status_code == 200, base
    assert client.get("/", base_url="https://platform.wypf.example.evil.example").status_code == 400


# --- behind a reverse proxy -------------------------------------------------------------------------------------


def through_proxy(app: Flask, client_ip: str) -> FlaskClient:
    client = from_address(app, "10.0.0.2")  # every request reaches the app from the proxy
    client.environ_base["HTTP_X_FORWARDED_FOR"] = client_ip
    return client


def test_behind_a_proxy_throttling_sees_each_client_not_the_proxy(make_app, caplog):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        LOGIN_LIMIT_PER_ACCOUNT=f"{ACCOUNT_LIMIT} per 15 minutes",
        LOGIN_LIMIT_PER_ADDRESS=f"{ADDRESS_LIMIT} per 15 minutes",
        PROXY_FIX_X_FOR=1,
    )
    carol = make_user(email="carol@example.org")
    db.session.commit()
    caplog.set_level(logging.INFO, logger="foundation.security")
    guesser = through_proxy(app, "198.51.100.50")
    for n in range(ADDRESS_LIMIT):
        assert attempt(guesser, f"guess{n}@example.org").status_code == 401
    assert_throttled(attempt(guesser, "guess-next@example.org"))

    # Carol comes through the same proxy from her own address and is not held up.
    resp = attempt(through_proxy(app, "203.0.113.60"), carol.email, PASSWORD)
    assert resp.status_code == 302
    assert any(r.getMessage().startswith("login ip=203.0.113.60 ") for r in caplog.records)


def test_without_a_proxy_setting_a_forwarded_address_is_ignored(throttled):
    client = through_proxy(throttled, "198.51.100.51")
    for n in range(ADDRESS_LIMIT):
        assert attempt(client, f"guess{n}@example.org").status_code == 401
    # A client cannot claim a fresh address for itself by sending the header.
    assert_throttled(attempt(through_proxy(throttled, "203.0.113.61"), "other@example.org"))


# --- private pages are never stored -------------------------------------------------------------------------------


def test_pages_for_a_signed_in_person_are_never_stored(client, db):
    ada = make_user(email="ada@example.org")
    org = make_org(admin=ada, name="Calne Young Carers")
    db.session.commit()
    login(client, ada)
    for path in ("/dashboard", "/account", "/inbox", f"/organisations/{org.id}", "/", "/members", "/venues"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "no-store" in resp.headers.get("Cache-Control", ""), path
    # Redirects and refusals for a signed-in person are private too.
    assert "no-store" in client.get("/login").headers.get("Cache-Control", "")


def test_public_pages_for_anonymous_visitors_stay_cacheable(client, db):
    for path in ("/", "/members", "/venues", "/login"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "no-store" not in resp.headers.get("Cache-Control", ""), path


def test_the_public_page_cache_never_keeps_a_signed_in_page(make_app):
    app = make_app(PUBLIC_PAGE_CACHE_SECONDS=60)
    pagecache.clear()
    try:
        ada = make_user(email="ada@example.org", name="Ada Private")
        db.session.commit()
        signed_in, anonymous = app.test_client(), app.test_client()
        login(signed_in, ada)
        assert "Ada Private" in signed_in.get("/venues").text
        page = anonymous.get("/venues")
        assert page.headers.get("X-Page-Cache") == "miss" and "Ada Private" not in page.text
        again = signed_in.get("/venues")
        assert "X-Page-Cache" not in again.headers and "no-store" in again.headers["Cache-Control"]
    finally:
        pagecache.clear()
