"""A real HTTP server and a real SMTP server around the test app, for browser and concurrency tests.

Use the fixtures from a conftest, and build the app on settings that send mail to the sink:

    from tests.livesupport import live_server, smtp  # noqa: F401  (fixtures)

    @pytest.fixture
    def app_config(app_config, smtp):
        return live_settings(app_config, smtp)

The server runs the `app` fixture's application on 127.0.0.1 (a free port) in a background thread. Every request
runs in its own thread and so in its own app context and database session, as in production; the test's own
session must commit before the server can see what the test built. With no broker configured, notifications are
delivered in-process when the request commits, so their emails have reached the sink by the time the response
arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.notifications.smtp import SmtpSink

__all__ = ["LiveServer", "SmtpSink", "live_server", "live_settings", "smtp"]


def live_settings(config: dict, sink: SmtpSink, csrf: bool = True) -> dict:
    """Test settings that deliver mail over SMTP to `sink`, with the real CSRF checks on by default."""
    return {
        **config,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": sink.port,
        "MAIL_TIMEOUT": 5,
        "WTF_CSRF_ENABLED": csrf,
    }


class LiveServer:
    """Werkzeug's threaded server on 127.0.0.1:<free port>, serving one app until `stop()`."""

    def __init__(self, app: Flask) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        # Links in emails (BASE_URL) then lead back to this server, as they would in production.
        app.config["BASE_URL"] = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="live-server", daemon=True
        )

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()
