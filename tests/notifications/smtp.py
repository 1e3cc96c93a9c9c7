"""A real SMTP server for tests (aiosmtpd), with switches to fail the next messages or refuse addresses."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections import Counter
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """Accepts mail on 127.0.0.1:<port> and keeps every message accepted, oldest first."""

    TEMPORARY = "451 4.3.0 Temporary failure, try again later"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused_data = 0
        self._fail_next = 0
        self._fail_reply = self.TEMPORARY
        self._refuse: set[str] = set()
        self._cond = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # --- switches ---

    def fail_next(self, count: int, reply: str = TEMPORARY) -> None:
        """Answer DATA for the next `count` messages with `reply` (a 4xx or 5xx line)."""
        with self._cond:
            self._fail_next = count
            self._fail_reply = reply

    def refuse(self, address: str) -> None:
        """Refuse this recipient for good (550 at RCPT)."""
        self._refuse.add(address.lower())

    # --- aiosmtpd handler hooks ---

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self._refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            if self._fail_next > 0:
                self._fail_next -= 1
                self.refused_data += 1
                return self._fail_reply
            msg = email.message_from_bytes(
                envelope.original_content or envelope.content, policy=default_policy
            )
            self.messages.append(msg)  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 2.0.0 Message accepted"

    # --- reading what arrived ---

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """Block until at least `count` messages arrived (or fail after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [f"{m['To']}: {m['Subject']}" for m in self.messages]
                    raise AssertionError(f"expected {count} emails within {timeout}s, got {len(got)}: {got}")
                self._cond.wait(left)
            return list(self.messages)

    def per_message_id(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def start(self) -> SmtpSink:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        """Stop listening (the port then refuses connections). Safe to call twice."""
        if getattr(self, "_running", False):
            self._controller.stop()
            self._running = False


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a multipart/alternative message ('' when a part is missing)."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return (text.get_content() if text else "", html.get_content() if html else "")
