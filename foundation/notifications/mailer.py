"""Send one email: SMTP when MAIL_SERVER is set, else a file in the mail folder (embedded default).

`send` tells its caller which side of the line a failure fell on. Until the message's final dot has left,
the server cannot have accepted it, so any error means "not sent". Once the whole message is out, only the
server's answer says whether it kept it: if that answer never comes (a timeout, a dropped connection),
`MaybeDelivered` is raised, since the server may have queued the message and be about to deliver it.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app

from foundation.types import utcnow

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message."""

    filename: str
    content_type: str  # "text/calendar", ...
    data: bytes


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    attachment: Attachment | None = None,
) -> EmailMessage:
    """A plain-text message, with an HTML alternative when there is one (multipart/alternative), and the
    attachment when there is one (multipart/mixed)."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id
    # Tells mail servers not to send out-of-office replies to a no-reply address.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg


def mail_folder() -> Path:
    folder = current_app.config.get("MAIL_FOLDER") or str(Path(current_app.instance_path) / "mail")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


class MaybeDelivered(Exception):
    """The whole message reached the server, but its answer did not come back: it may have been accepted."""


class _SMTP(smtplib.SMTP):
    """smtplib's client, with the DATA step taken apart so the moment the message leaves is known."""

    def __init__(self, before_data: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._before_data = before_data

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        # Sender and recipient were accepted; nothing deliverable has been sent yet. The hook may refuse
        # (it raises), and then the DATA command is never sent.
        self._before_data()
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        content = msg.encode("ascii") if isinstance(msg, str) else bytes(msg)
        content = re.sub(rb"(?m)^\.", b"..", content)  # dot-stuffing (RFC 5321, 4.5.2)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        # A failure while sending leaves the final dot unsent (it is the last thing written), so the
        # server cannot have taken the message: that error propagates as a plain failure.
        self.send(content + b".\r\n")
        try:
            code, reply = self.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise MaybeDelivered(f"{type(exc).__name__}: {exc}") from exc
        if 200 <= code < 300:
            return 250, reply  # any success code: sendmail only counts 250 as one
        if 400 <= code < 600:
            return code, reply  # refused: sendmail raises SMTPDataError
        # smtplib's -1 for a garbled line, or a code no server sends: not an answer either way.
        raise MaybeDelivered(f"unreadable answer to the message: {code} {reply!r}")


def send(msg: EmailMessage, before_data: Callable[[], None]) -> None:
    """Send one message, calling `before_data` just before the message itself is handed over.

    Raises MaybeDelivered when the server may have it without having said so; any other exception
    means it was not delivered.
    """
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        before_data()
        _write_file(msg)
        return
    smtp = _SMTP(before_data, timeout=cfg["MAIL_TIMEOUT"])
    try:
        smtp.connect(cfg["MAIL_SERVER"], cfg["MAIL_PORT"])
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)
    finally:
        _hang_up(smtp)


def _hang_up(smtp: smtplib.SMTP) -> None:
    # The outcome is settled by now: a QUIT that goes wrong must not turn a delivery into an error
    # (smtplib's own context manager raises when QUIT is not answered with 221).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _write_file(msg: EmailMessage) -> None:
    # One file per send (never overwritten, so a repeated send would show), written under a temporary
    # name and renamed, so a reader never sees half a message.
    name = msg["Message-ID"].strip("<>").split("@")[0]
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    final = mail_folder() / f"{stamp}-{name}-{secrets.token_hex(3)}.eml"
    partial = final.with_suffix(".part")
    partial.write_bytes(bytes(msg))
    os.replace(partial, final)


def new_message_id(notification_id: int) -> str:
    """A Message-ID for a notification's first attempt; the row keeps it for every later one.

    The random part keeps it unique when two databases (a restored copy, a staging site) share a host.
    """
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"<notification-{notification_id}-{secrets.token_hex(8)}@{host}>"
