"""GET /healthz: database and broker health as JSON, for load balancers, without rendering any template."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, template_rendered

from foundation import create_app
from tests.conftest import port_open, skip_or_fail


@contextmanager
def templates_rendered(app: Flask) -> Iterator[list[str]]:
    """Names of the templates the app renders inside the block."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


@pytest.fixture
def rendered(app: Flask) -> Iterator[list[str]]:
    with templates_rendered(app) as names:
        yield names


def closed_port() -> int:
    """A local port nothing listens on: bind one, note it, and let it go."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthy_without_a_broker(app, client, rendered):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json() == {"database": "ok", "broker": "not configured", "status": "ok"}
    assert rendered == []


def test_the_signal_does_see_templates(client, rendered):
    # Guards the assertion above: the recorder notices a rendered page.
    client.get("/")
    assert "public/home.html" in rendered


def test_unreachable_broker_is_reported_but_the_site_stays_in_service(app, client, rendered):
    # A broker outage delays email (the outbox keeps it), so the web tier is still healthy for traffic.
    app.config["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{closed_port()}/0"

    resp = client.get("/healthz")

    assert resp.status_code == 200
    assert resp.get_json() == {"database": "ok", "broker": "unreachable", "status": "degraded"}
    assert rendered == []


def test_reachable_redis_broker_is_ok(app, client, rendered):
    if not port_open("127.0.0.1", 6379):
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"

    resp = client.get("/healthz")

    assert resp.status_code == 200
    assert resp.get_json() == {"database": "ok", "broker": "ok", "status": "ok"}
    assert rendered == []


def test_unreachable_database_is_a_503(app_config):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nothing"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": dead})
    with templates_rendered(app) as rendered:
        resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"database": "unreachable", "broker": "not configured", "status": "degraded"}
    assert rendered == []
