"""Fixtures for the outbox: a real SMTP server, and apps that deliver through it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notifications.celery_support import CeleryProcesses, forget_queue
from tests.notifications.smtp import SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_config(app_config: dict, smtp: SmtpSink) -> dict:
    """Settings that send mail over SMTP to the test server; a module's `app_config` may build on them."""
    return {
        **app_config,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5,
        "NOTIFICATION_MAX_ATTEMPTS": 3,
        "NOTIFICATION_RETRY_AFTER_SECONDS": 60,
    }


@pytest.fixture
def queue() -> str:
    """A queue of our own, so a shared Redis never hands our tasks to anyone else's worker."""
    return f"wypf-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def celery_config(smtp_config: dict, broker: str, queue: str) -> dict:
    """Settings for an app that hands notifications to Redis. A module using it defines `broker`."""
    return {
        **smtp_config,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_QUEUE": queue,
        "NOTIFICATION_RETRY_AFTER_SECONDS": 0,
        "NOTIFICATION_SWEEP_SECONDS": 1,
        "NOTIFICATION_SWEEP_GRACE_SECONDS": 0,
    }


@pytest.fixture
def celery_procs(app, celery_config: dict, tmp_path: Path) -> Iterator[CeleryProcesses]:
    """Start `celery -A make_celery worker/beat` on the test database, broker, queue and SMTP server."""
    cfg = celery_config
    env = {
        "FOUNDATION_CONFIG": "default",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": cfg["CELERY_BROKER_URL"],
        "CELERY_TASK_QUEUE": cfg["CELERY_TASK_QUEUE"],
        "MAIL_SERVER": cfg["MAIL_SERVER"],
        "MAIL_PORT": str(cfg["MAIL_PORT"]),
        "MAIL_TIMEOUT": str(cfg["MAIL_TIMEOUT"]),
        "MAIL_FOLDER": cfg["MAIL_FOLDER"],
        "UPLOAD_FOLDER": cfg["UPLOAD_FOLDER"],
        "BASE_URL": cfg["BASE_URL"],
        "RATELIMIT_STORAGE_URI": "memory://",
        **{
            name: str(cfg[name])
            for name in (
                "NOTIFICATION_MAX_ATTEMPTS",
                "NOTIFICATION_RETRY_AFTER_SECONDS",
                "NOTIFICATION_SWEEP_SECONDS",
                "NOTIFICATION_SWEEP_GRACE_SECONDS",
                "NOTIFICATION_STALE_SECONDS",
            )
        },
    }
    logs = tmp_path / "celery"
    logs.mkdir()
    procs = CeleryProcesses(env, logs)
    try:
        yield procs
    finally:
        procs.stop()
        app.extensions["celery"].close()
        forget_queue(cfg["CELERY_BROKER_URL"], cfg["CELERY_TASK_QUEUE"])
