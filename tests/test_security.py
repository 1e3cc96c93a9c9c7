"""Security behaviour a visitor or an attacker would notice: headers, cookies, CSRF, sign-in throttling,
the security log, and redirects that stay on the site."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import ProdConfig
from foundation.extensions import db
from foundation.members.models import MemberRole
from foundation.web import CSP
from tests.factories import PASSWORD, add_member, login, make_org, make_user

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


def set_cookies(resp) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
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
    assert "<script" not in page and "style=" not in page and "<style" not in page


# --- production cookies -----------------------------------------------------------------------------------------


def prod_settings() -> dict:
    settings = {k: getattr(ProdConfig, k) for k in dir(ProdConfig) if k.isupper()}
    for name in ("SQLALCHEMY_DATABASE_URI", "MAIL_FOLDER", "UPLOAD_FOLDER", "SERVER_NAME"):
        settings.pop(name, None)  # keep the test's database and folders
    return {
        **settings,
        "SECRET_KEY": "prod-like-test-secret",
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
def csrf_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
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
def throttled(make_app) -> Flask:  # type: ignore[no-untyped-def]
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


def attempt(client: FlaskClient, email: str, password: str = WRONG):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password})


def assert_throttled(resp) -> None:  # type: ignore[no-untyped-def]
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
    assert where.netloc in ("", "localhost") and where.path == "/dashboard"
