"""A real SMTP server for tests (aiosmtpd), with switches to fail, delay or stall the next messages."""

from __future__ import annotations

import asyncio
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
        self.late_answers = 0  # late answers begun (the message is in, its confirmation not yet sent)
        self.held_rcpts = 0
        self._late_next = 0
        self._late_seconds = 0.0
        self._hold_rcpt: threading.Event | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._fail_next = 0
        self._fail_reply = self.TEMPORARY
        self._refuse: dict[str, str] = {}
        self._cond = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # --- switches ---

    def fail_next(self, count: int, reply: str = TEMPORARY) -> None:
        """Answer DATA for the next `count` messages with `reply` (a 4xx or 5xx line)."""
        with self._cond:
            self._fail_next = count
            self._fail_reply = reply

    def answer_late(self, count: int, seconds: float) -> None:
        """For the next `count` messages, wait `seconds` after the final dot, then accept the message.

        The message is accepted at the end of the wait even if the client stopped waiting and hung up
        (aiosmtpd cancels a handler when its connection drops), as a real server that is slow to confirm
        still delivers what it received.
        """
        with self._cond:
            self._late_next = count
            self._late_seconds = seconds

    def hold_next_rcpt(self) -> threading.Event:
        """Stall the next RCPT until the returned event is set: a client held up before DATA."""
        hold = threading.Event()
        with self._cond:
            self._hold_rcpt = hold
        return hold

    def refuse(self, address: str, reply: str = "550 5.1.1 No such mailbox here") -> None:
        """Refuse this recipient at RCPT, for good by default (550), or for now with a 4xx reply."""
        self._refuse[address.lower()] = reply

    def accept(self, address: str) -> None:
        """Stop refusing this recipient."""
        self._refuse.pop(address.lower(), None)

    # --- aiosmtpd handler hooks ---

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self._cond:
            hold, self._hold_rcpt = self._hold_rcpt, None
            if hold is not None:
                self.held_rcpts += 1
                self._cond.notify_all()
        while hold is not None and not hold.is_set():
            await asyncio.sleep(0.01)
        if address.lower() in self._refuse:
            return self._refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            late = self._late_next > 0
            if late:
                self._late_next -= 1
                self.late_answers += 1
                self._cond.notify_all()
            elif self._fail_next > 0:
                self._fail_next -= 1
                self.refused_data += 1
                return self._fail_reply
            else:
                self._accept(envelope)
        if late:
            accepting = asyncio.ensure_future(self._accept_after(envelope, self._late_seconds))
            self._background.add(accepting)
            accepting.add_done_callback(self._background.discard)
            await asyncio.shield(accepting)
        return "250 2.0.0 Message accepted"

    async def _accept_after(self, envelope: Any, seconds: float) -> None:
        await asyncio.sleep(seconds)
        with self._cond:
            self._accept(envelope)

    def _accept(self, envelope: Any) -> None:
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        self.messages.append(msg)
        self._cond.notify_all()

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
        if getattr(self, "_stopped_once", False):  # a Controller does not start twice: a new one, same port
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        """Stop listening (the port then refuses connections). Safe to call twice."""
        if getattr(self, "_running", False):
            self._controller.stop()
            self._running = False
            self._stopped_once = True


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a multipart/alternative message ('' when a part is missing)."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return (text.get_content() if text else "", html.get_content() if html else "")
