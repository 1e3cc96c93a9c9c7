"""Send one email: SMTP when MAIL_SERVER is set, else a file in the mail folder (embedded default)."""

from __future__ import annotations

import os
import secrets
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from flask import current_app

from foundation.types import utcnow


def build_message(to: str, subject: str, text: str, html: str | None, message_id: str) -> EmailMessage:
    """A plain-text message, with an HTML alternative when there is one (multipart/alternative)."""
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
    return msg


def mail_folder() -> Path:
    folder = current_app.config.get("MAIL_FOLDER") or str(Path(current_app.instance_path) / "mail")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def send(msg: EmailMessage) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        _write_file(msg)
        return
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)


def _write_file(msg: EmailMessage) -> None:
    # One file per send (never overwritten, so a repeated send would show), written under a temporary
    # name and renamed, so a reader never sees half a message.
    name = msg["Message-ID"].strip("<>").split("@")[0]
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    final = mail_folder() / f"{stamp}-{name}-{secrets.token_hex(3)}.eml"
    partial = final.with_suffix(".part")
    partial.write_bytes(bytes(msg))
    os.replace(partial, final)


def message_id_for(notification_id: int) -> str:
    # Stable per row, so a receiving server can spot a duplicate if a send is ever repeated.
    return f"<notification-{notification_id}@wypf.org.uk>"
