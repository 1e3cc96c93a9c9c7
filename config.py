"""Configuration classes, read from the environment.

The embedded default (no environment at all) runs on a SQLite file in the instance folder, with tasks run
in-process and email written to files, so `make run` needs no other service.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _list(name: str) -> list[str] | None:
    """A comma-separated setting as a list; None when it is not set."""
    value = os.environ.get(name)
    if not value:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


class Config:
    # The packages the app loads, in this order: the base (public pages, members, notifications) first, then
    # the capabilities. Each package says in its __init__ which of its modules to import (MODULES) and which
    # periodic tasks it runs (BEAT_SCHEDULE); see foundation/packages.py.
    PACKAGES: tuple[str, ...] = (
        "foundation.public",
        "foundation.members",
        "foundation.notifications",
        "foundation.ledger",
        "foundation.payments",
        "foundation.venues",
        "foundation.grants",
        "foundation.fundraising",
        "foundation.bids",
        "foundation.events",
        "foundation.library",
    )

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # PostgreSQL waits, in milliseconds (0: no limit; foundation/db_setup.py). A web request gives up on a row lock
    # or a long statement soon and answers "busy, try again" (503), so one held lock cannot tie up every worker.
    # Celery workers, and flask commands (migrations, seeding), use the longer DB_WORKER_* pair.
    DB_LOCK_TIMEOUT_MS = _int("DB_LOCK_TIMEOUT_MS", 5000)
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 15000)
    DB_WORKER_LOCK_TIMEOUT_MS = _int("DB_WORKER_LOCK_TIMEOUT_MS", 30000)
    DB_WORKER_STATEMENT_TIMEOUT_MS = _int("DB_WORKER_STATEMENT_TIMEOUT_MS", 300000)
    # "web" or "worker": which pair this process uses. None: "worker" under the `flask` command, else "web".
    DB_TIMEOUT_PROFILE: str | None = None
    SQLALCHEMY_RECORD_QUERIES = _bool("SQLALCHEMY_RECORD_QUERIES")
    # Adds X-Query-Count to every response (used by the benchmark to show queries per page).
    QUERY_COUNT_HEADER = _bool("QUERY_COUNT_HEADER")
    CALENDAR_FEED_HISTORY_DAYS = _int("CALENDAR_FEED_HISTORY_DAYS", 365)
    # Public pages as anonymous visitors see them are kept this long per worker (foundation/pagecache.py).
    PUBLIC_PAGE_CACHE_SECONDS = _int("PUBLIC_PAGE_CACHE_SECONDS", 10)
    PUBLIC_PAGE_CACHE_ENTRIES = _int("PUBLIC_PAGE_CACHE_ENTRIES", 2000)
    GRANT_STANDARD_CONDITIONS = os.environ.get("GRANT_STANDARD_CONDITIONS")  # None: the built-in conditions

    # Celery: no broker means tasks run in-process (the embedded default).
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
    NOTIFICATION_SWEEP_SECONDS = _int("NOTIFICATION_SWEEP_SECONDS", 60)
    NOTIFICATION_RETRY_AFTER_SECONDS = _int("NOTIFICATION_RETRY_AFTER_SECONDS", 60)
    NOTIFICATION_MAX_ATTEMPTS = _int("NOTIFICATION_MAX_ATTEMPTS", 6)
    # The sweep leaves a row that was never tried alone this long: its own task is probably still queued.
    NOTIFICATION_SWEEP_GRACE_SECONDS = _int("NOTIFICATION_SWEEP_GRACE_SECONDS", 30)
    # An attempt still running after this long belongs to a worker that died; the sweep then settles it.
    NOTIFICATION_STALE_SECONDS = _int("NOTIFICATION_STALE_SECONDS", 600)
    CELERY_TASK_QUEUE = os.environ.get("CELERY_TASK_QUEUE", "celery")

    # Email: with no SMTP host, messages are written to MAIL_FOLDER (default: instance/mail).
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Wiltshire Young People's Foundation <no-reply@wypf.org.uk>"
    )
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER")

    # Public address used in every link that leaves the site: emails, feeds, open data, API links.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Host names the site answers to; any other Host header gets 400. Unset: the BASE_URL host, localhost and
    # 127.0.0.1 (foundation/web.py).
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS")
    # How many reverse proxies in front of the app append X-Forwarded-For (0: none, the header is ignored).
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    FOUNDATION_ORG_ID = os.environ.get("FOUNDATION_ORG_ID", "360G-wypf")
    # How people reach the Foundation: shown on the contact, privacy and accessibility pages. The demo phone number
    # is in a range Ofcom keeps for fiction (01632 960xxx), so nobody real is called; set all three in production.
    FOUNDATION_CONTACT_EMAIL = os.environ.get("FOUNDATION_CONTACT_EMAIL", "hello@wypf.org.uk")
    FOUNDATION_CONTACT_PHONE = os.environ.get("FOUNDATION_CONTACT_PHONE", "01632 960 123")
    # Comma-separated lines of the postal address.
    FOUNDATION_POSTAL_ADDRESS = os.environ.get(
        "FOUNDATION_POSTAL_ADDRESS", "Wiltshire Young People's Foundation, PO Box 1234, Trowbridge, Wiltshire"
    )

    # Payments: Stripe Checkout when both keys are set (the webhook endpoint is BASE_URL/payments/webhooks/stripe,
    # sending checkout.session.completed, .async_payment_succeeded, .async_payment_failed, .expired and
    # charge.refunded); otherwise the offline provider records pledges that staff mark received.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
    STRIPE_CHECKOUT_ORIGIN = os.environ.get("STRIPE_CHECKOUT_ORIGIN", "https://checkout.stripe.com")
    # The charity that claims Gift Aid, named in the declaration and on receipts.
    CHARITY_NAME = os.environ.get("CHARITY_NAME", "Wiltshire Young People's Foundation")
    CHARITY_NUMBER = os.environ.get("CHARITY_NUMBER", "1234567")
    # Donations: the smallest and largest single gift, in pence.
    DONATION_MIN_PENCE = _int("DONATION_MIN_PENCE", 200)
    DONATION_MAX_PENCE = _int("DONATION_MAX_PENCE", 2_500_000)

    # Uploads live outside the static folder.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER")  # default: instance/uploads
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 64 * 1024  # form overhead
    MAX_UPLOAD_BYTES = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

    # Sign-in throttling (Flask-Limiter); memory storage by default, Redis in production.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    # "Keep me signed in" lasts this long; every sign-in also ends on the server after this long (foundation/auth.py).
    REMEMBER_COOKIE_DAYS = _int("REMEMBER_COOKIE_DAYS", 30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    WTF_CSRF_TIME_LIMIT = None

    # Token lifetimes (seconds)
    EMAIL_TOKEN_MAX_AGE = _int("EMAIL_TOKEN_MAX_AGE", 3 * 24 * 3600)
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 2 * 3600)
    INVITATION_MAX_AGE = _int("INVITATION_MAX_AGE", 7 * 24 * 3600)

    TESTING = False
    DEBUG = False


class DevConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    PUBLIC_PAGE_CACHE_SECONDS = 0
    CELERY_BROKER_URL = None
    MAIL_SERVER = None
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None


class ProdConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {"dev": DevConfig, "test": TestConfig, "prod": ProdConfig, "default": Config}


def config_from_env() -> type[Config]:
    return CONFIGS.get(os.environ.get("FOUNDATION_CONFIG", "default"), Config)
