"""Writing notifications into the outbox, and delivering each one at most once per attempt.

A service calls `notify(...)` in the same transaction as the change it reports. When that transaction
commits, the ids of the new rows are handed to Celery (`deliver_notification`); if it rolls back, nothing
is handed over and no row exists. If the broker is down the rows simply wait: `sweep` (Celery beat, or
`flask notifications sweep`) re-enqueues anything still unsent, so mail is delayed, never lost.

Every change of a row's email status is one of the moves in EMAIL_TRANSITIONS (models.py), made here by a
conditional UPDATE, so of two runs that race for a row only one moves it. An attempt is recorded before
anything is sent: the claim (PENDING -> SENDING, attempt n, since when, and the row's Message-ID, made once)
is committed before connecting, and SENDING -> SENDING_DATA is committed before the message itself goes.

A failure the server cannot have accepted the message through (refused connection, an error before or at
MAIL/RCPT, a 4xx to DATA or to the message) goes back to PENDING with an exponential backoff, or to FAILED
when it is permanent or the last attempt; staff can retry it. A failure after the whole message was sent
(no answer: a timeout, a dropped connection) may have been delivered, so the row becomes UNCERTAIN and is
never sent again on its own; staff decide. The sweep judges a row a dead run left behind by the same rule:
SENDING is tried again, SENDING_DATA becomes UNCERTAIN. A resend, by staff, carries the same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from celery.result import EagerResult
from flask import current_app, g, has_request_context
from jinja2 import TemplateNotFound
from sqlalchemy import event
from sqlalchemy.orm import Session

from foundation import after_commit
from foundation.errors import IllegalTransition
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.notifications import mailer
from foundation.notifications.models import (
    EMAIL_TRANSITIONS,
    EmailStatus,
    EmailStep,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from foundation.types import utcnow

log = logging.getLogger(__name__)

# Backoff never waits longer than this between attempts.
MAX_BACKOFF = timedelta(hours=6)
INTERRUPTED = (
    "The worker stopped before handing the message to the mail server, so it was not sent; it is tried again."
)
INTERRUPTED_LAST = (
    "The worker stopped before handing the message to the mail server, on every attempt. It was not sent."
)
INTERRUPTED_IN_DATA = (
    "The worker stopped while handing the message to the mail server, so it may have arrived. "
    "It is not sent again automatically."
)
ANSWER_LOST = (
    "The mail server was given the whole message but did not confirm it ({}), so it may have arrived."
)


class ClaimLost(Exception):
    """The row is no longer under this run's claim (the sweep judged the run dead): send nothing more."""


# --- writing into the outbox ----------------------------------------------------------------------------


def wants_email(user: User, kind: NotificationKind) -> bool:
    if kind.email_mandatory:
        return True
    pref = db.session.scalar(
        sa.select(NotificationPreference).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind
        )
    )
    return True if pref is None else pref.email


def email_choices(user: User) -> dict[NotificationKind, bool]:
    """Every kind a user may route, with True for email and inbox, False for the inbox only."""
    saved = {
        p.kind: p.email
        for p in db.session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {k: saved.get(k, True) for k in NotificationKind if not k.email_mandatory}


def save_email_choices(user: User, choices: Mapping[NotificationKind, bool]) -> None:
    existing = {
        p.kind: p
        for p in db.session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, by_email in choices.items():
        if kind.email_mandatory:
            continue  # always by email, whatever is asked
        pref = existing.get(kind)
        if pref is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, email=by_email))
        else:
            pref.email = by_email


def _render(template: str, context: dict[str, Any]) -> tuple[str, str | None]:
    # Straight from the Jinja environment: the page context processors (signed-in user, unread count)
    # need a request, and mail is also written by tasks and commands that have none.
    env = current_app.jinja_env
    ctx = {"base_url": current_app.config["BASE_URL"].rstrip("/"), **context}
    text = env.get_template(f"emails/{template}.txt").render(ctx)
    try:
        html_template = env.get_template(f"emails/{template}.html")
    except TemplateNotFound:  # plain text only
        return text, None
    return text, html_template.render(ctx)


def notify(
    user: User,
    kind: NotificationKind,
    subject: str,
    template: str,
    link: str | None = None,
    in_inbox: bool = True,
    attachment: mailer.Attachment | None = None,
    **context: Any,
) -> Notification:
    """Queue a message for a user: in the inbox, and by email if they want it (or it is mandatory), with the
    attachment if one is given (by email only).

    A message kept out of the inbox goes by email whatever the preference, as email is its only way
    to arrive. Closed accounts get no email.
    """
    text, html = _render(template, {"user": user, "link": link, "subject": subject, **context})
    send_email = (wants_email(user, kind) or not in_inbox) and user.closed_at is None
    n = Notification(
        user=user,
        email_to=user.email,
        kind=kind,
        subject=subject,
        body_text=text,
        body_html=html,
        link=link,
        in_inbox=in_inbox,
        attachment_name=attachment.filename if attachment else None,
        attachment_type=attachment.content_type if attachment else None,
        attachment=attachment.data if attachment else None,
        email_status=EmailStatus.PENDING if send_email else EmailStatus.NOT_REQUESTED,
        attempts=0,
        next_attempt_at=utcnow() if send_email else None,
    )
    db.session.add(n)
    if in_inbox:
        _forget_unread_count(user.id)
    return n


def notify_staff(
    kind: NotificationKind, subject: str, template: str, link: str | None = None, **context: Any
) -> int:
    """Queue the message for every active member of Foundation staff; how many were queued."""
    staff = db.session.scalars(
        sa.select(User).where(User.is_staff.is_(True), User.closed_at.is_(None)).order_by(User.id)
    ).all()
    for member in staff:
        notify(member, kind, subject, template, link=link, **context)
    return len(staff)


def notify_members(
    organisation: Organisation,
    kind: NotificationKind,
    subject: str,
    template: str,
    /,
    link: str | None = None,
    **context: Any,
) -> int:
    """Queue the message for every member (any role) of the organisation whose account is open.

    Positional-only, so templates can be given `org=` in the context.
    """
    sent = 0
    for membership in organisation.memberships:
        if membership.user.closed_at is None:
            notify(membership.user, kind, subject, template, link=link, **context)
            sent += 1
    return sent


def email_address(
    to: str, kind: NotificationKind, subject: str, template: str, user: User | None = None, **context: Any
) -> Notification:
    """Queue an email to an address that is not (or not yet) a user's, e.g. an invitation or a new address."""
    text, html = _render(template, {"user": user, "subject": subject, **context})
    n = Notification(
        user=user,
        email_to=to,
        kind=kind,
        subject=subject,
        body_text=text,
        body_html=html,
        in_inbox=False,
        email_status=EmailStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(n)
    return n


# --- the inbox ------------------------------------------------------------------------------------------


def remember_unread_count(user: User, count: int) -> None:
    """Keep the count read with the sign-in for the rest of this request."""
    g.unread_count = (user.id, count)


def _forget_unread_count(user_id: int | None) -> None:
    if has_request_context() and g.get("unread_count", (None, 0))[0] == user_id:
        g.pop("unread_count")


def unread_count(user: User) -> int:
    if has_request_context():
        cached = g.get("unread_count")
        if cached is not None and cached[0] == user.id:
            return int(cached[1])
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id,
                Notification.in_inbox.is_(True),
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(n: Notification) -> None:
    if n.read_at is None:
        n.read_at = utcnow()
        _forget_unread_count(n.user_id)


def mark_all_read(user: User) -> int:
    _forget_unread_count(user.id)
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.in_inbox.is_(True),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return cast("sa.CursorResult[Any]", result).rowcount or 0


# --- staff ----------------------------------------------------------------------------------------------


def retry(n: Notification) -> None:
    """Staff send an email again, enqueued on commit: a failed one, or an uncertain one that did not arrive.

    It gets a fresh set of attempts and keeps its Message-ID, so a copy that did arrive after all can be
    recognised as the same message.
    """
    if n.email_status is EmailStatus.FAILED:
        step = EmailStep.STAFF_RETRY
    elif n.email_status is EmailStatus.UNCERTAIN:
        step = EmailStep.STAFF_RESEND
    else:
        raise IllegalTransition(
            "Only a failed email, or one whose delivery is uncertain, can be sent again; "
            f"this one is {n.email_status.label}."
        )
    moved = _move(step, Notification.id == n.id, attempts=0, next_attempt_at=utcnow(), claimed_at=None)
    db.session.expire(n)
    if not moved:
        raise IllegalTransition("This email changed while you were looking at it. Reload the page.")
    enqueue_after_commit([n.id])


# --- delivery -------------------------------------------------------------------------------------------


def max_attempts() -> int:
    return int(current_app.config["NOTIFICATION_MAX_ATTEMPTS"])


def stale_after() -> timedelta:
    """How long an attempt may run before the sweep takes its worker for dead.

    A live attempt that overruns loses nothing: before DATA it finds its claim gone and stops; during
    DATA its own answer, when it comes, still settles the row.
    """
    return timedelta(seconds=int(current_app.config["NOTIFICATION_STALE_SECONDS"]))


def _move(step: EmailStep, *where: sa.ColumnElement[bool], **values: Any) -> int:
    """Make one move of the state machine on the rows that match and are in a state it starts from.

    A conditional UPDATE: the database re-checks the state against the committed row (PostgreSQL waits for
    a concurrent writer's row lock, then re-evaluates; SQLite serialises writers), so of two runs that race,
    the second moves nothing. Returns how many rows moved; never commits.
    """
    allowed_from, to = EMAIL_TRANSITIONS[step]
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.email_status.in_(sorted(allowed_from, key=lambda s: s.value)), *where)
        .values(email_status=to, **values)
        .execution_options(synchronize_session=False)
    )
    return cast("sa.CursorResult[Any]", result).rowcount or 0


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)


def claim(notification_id: int) -> bool:
    """Atomically move a due row to SENDING and count the attempt. Only one caller can win. Commits."""
    return _claim(notification_id) is not None


def _claim(notification_id: int) -> datetime | None:
    """The claim itself; returns its timestamp, which identifies this attempt in every later move.

    The attempt is counted here, before sending, so a message that kills its worker still runs out of
    attempts; the Message-ID is made by the first claim and kept by every later one.
    """
    now = utcnow()
    moved = _move(
        EmailStep.CLAIMED,
        Notification.id == notification_id,
        _due(now),
        claimed_at=now,
        attempts=Notification.attempts + 1,
        message_id=sa.func.coalesce(Notification.message_id, mailer.new_message_id(notification_id)),
    )
    db.session.commit()
    return now if moved == 1 else None


def _permanent(exc: Exception) -> bool:
    """Errors that repeating the same message cannot fix: every recipient or the content refused (5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def backoff(attempts: int) -> timedelta:
    base = timedelta(seconds=int(current_app.config["NOTIFICATION_RETRY_AFTER_SECONDS"]))
    delay: timedelta = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    return delay


def deliver(notification_id: int) -> EmailStatus | None:
    """Make one attempt at a row if it is due and unsent. Safe to call any number of times, concurrently too.

    Returns the row's new status, or None when there was nothing to do (already sent, not due, claimed
    by another run, inbox only, or no such row).
    """
    claimed_at = _claim(notification_id)
    if claimed_at is None:
        return None
    row = db.session.execute(
        sa.select(
            Notification.email_to,
            Notification.subject,
            Notification.body_text,
            Notification.body_html,
            Notification.attempts,
            Notification.message_id,
            Notification.attachment_name,
            Notification.attachment_type,
            Notification.attachment,
        ).where(Notification.id == notification_id)
    ).one_or_none()
    # End the read before the slow send: on SQLite a transaction that read first cannot later write once
    # another connection has written (the snapshot is stale), so each write below starts its own.
    db.session.commit()
    if row is None:
        return None

    def before_data() -> None:
        # Committed before the message goes, so a run that dies from here on leaves a row that says so.
        moved = _move(
            EmailStep.HANDING_OVER, Notification.id == notification_id, Notification.claimed_at == claimed_at
        )
        db.session.commit()
        if moved != 1:
            raise ClaimLost

    try:
        attachment = (
            mailer.Attachment(
                row.attachment_name, row.attachment_type or "application/octet-stream", row.attachment
            )
            if row.attachment is not None and row.attachment_name
            else None
        )
        msg = mailer.build_message(
            row.email_to or "", row.subject, row.body_text, row.body_html, row.message_id or "", attachment
        )
        mailer.send(msg, before_data)
    except ClaimLost:
        log.warning(
            "notification %s: attempt %s was taken over; it sent nothing", notification_id, row.attempts
        )
        return None
    except mailer.MaybeDelivered as exc:
        log.error(
            "notification %s: no answer after the message was sent (attempt %s): delivery uncertain, "
            "left for staff: %s",
            notification_id,
            row.attempts,
            exc,
        )
        error = ANSWER_LOST.format(exc)[:2000]
        _finish(notification_id, claimed_at, EmailStep.ANSWER_LOST, next_attempt_at=None, last_error=error)
        return EmailStatus.UNCERTAIN
    except Exception as exc:  # refused, unreachable, DNS: the server did not take it; try again later
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= max_attempts() or _permanent(exc):
            step, next_at = EmailStep.GIVEN_UP, None
            log.error(
                "notification %s failed for good after %s attempts: %s", notification_id, row.attempts, error
            )
        else:
            step, next_at = EmailStep.REFUSED, utcnow() + backoff(row.attempts)
            log.warning("notification %s attempt %s failed: %s", notification_id, row.attempts, error)
        _finish(notification_id, claimed_at, step, claimed_at=None, next_attempt_at=next_at, last_error=error)
        return EMAIL_TRANSITIONS[step][1]
    _finish(
        notification_id,
        claimed_at,
        EmailStep.ACCEPTED,
        claimed_at=None,
        sent_at=utcnow(),
        next_attempt_at=None,
        last_error=None,
    )
    return EmailStatus.SENT


def _finish(notification_id: int, claim: datetime, step: EmailStep, **values: Any) -> None:
    """Record an attempt's outcome, only on the row still under that attempt's claim. Commits."""
    moved = _move(step, Notification.id == notification_id, Notification.claimed_at == claim, **values)
    db.session.commit()
    if moved != 1:
        log.warning("notification %s: the outcome of an attempt came after the row moved on", notification_id)


def due_ids(limit: int = 500) -> list[int]:
    """Due PENDING rows, for the sweep to hand to Celery.

    A row never tried yet is left alone for a short grace period, since its own task is most likely
    still on its way through the queue.
    """
    now = utcnow()
    grace = timedelta(seconds=int(current_app.config["NOTIFICATION_SWEEP_GRACE_SECONDS"]))
    return list(
        db.session.scalars(
            sa.select(Notification.id)
            .where(
                Notification.email_status == EmailStatus.PENDING,
                _due(now),
                sa.or_(
                    Notification.attempts > 0,
                    Notification.next_attempt_at.is_(None),
                    Notification.next_attempt_at <= now - grace,
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def settle_interrupted() -> dict[EmailStep, int]:
    """Judge the attempts whose worker died (older than stale_after()): how many rows made each move.

    Died before DATA: nothing deliverable was sent, so it is tried again (or FAILED, if that was the last
    attempt). Died during DATA: the server may have the message, so it is UNCERTAIN, left for staff.
    """
    now = utcnow()
    # No start time at all (a row carried over from an older version) cannot be a live attempt either.
    stale = sa.or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - stale_after())
    return {
        EmailStep.INTERRUPTED_BEFORE_DATA: _move(
            EmailStep.INTERRUPTED_BEFORE_DATA,
            stale,
            Notification.attempts < max_attempts(),
            claimed_at=None,
            next_attempt_at=now,
            last_error=INTERRUPTED,
        ),
        EmailStep.INTERRUPTED_LAST_ATTEMPT: _move(
            EmailStep.INTERRUPTED_LAST_ATTEMPT,
            stale,
            Notification.attempts >= max_attempts(),
            claimed_at=None,
            next_attempt_at=None,
            last_error=INTERRUPTED_LAST,
        ),
        EmailStep.INTERRUPTED_IN_DATA: _move(
            EmailStep.INTERRUPTED_IN_DATA, stale, next_attempt_at=None, last_error=INTERRUPTED_IN_DATA
        ),
    }


def sweep() -> int:
    """Settle dead workers' attempts, then re-enqueue every row due. Commits; returns how many were queued."""
    settled = settle_interrupted()
    ids = due_ids()
    db.session.commit()
    if settled[EmailStep.INTERRUPTED_LAST_ATTEMPT]:
        log.error(
            "%s notifications failed for good after interrupted deliveries",
            settled[EmailStep.INTERRUPTED_LAST_ATTEMPT],
        )
    if settled[EmailStep.INTERRUPTED_IN_DATA]:
        log.error(
            "%s notifications interrupted while being handed over: delivery uncertain, left for staff",
            settled[EmailStep.INTERRUPTED_IN_DATA],
        )
    return enqueue(ids)


# --- after-commit hand-off to Celery ------------------------------------------------------------------

_PENDING_KEY = "foundation.notifications.to_enqueue"


def enqueue_after_commit(ids: Iterable[int], session: Session | None = None) -> None:
    """Hand these rows to Celery once the current transaction commits (never if it rolls back)."""
    after_commit.defer(_PENDING_KEY, ids, session)


@event.listens_for(Session, "after_flush")
def _collect_new_notifications(session: Session, flush_context: Any) -> None:
    # Ids are known after the INSERT and, unlike after commit, reading them here emits no SQL.
    ids = [
        obj.id
        for obj in session.new
        if isinstance(obj, Notification) and obj.email_status is EmailStatus.PENDING
    ]
    if ids:
        enqueue_after_commit(ids, session)


@after_commit.handler(_PENDING_KEY)
def _enqueue_committed(ids: list[int]) -> None:
    enqueue(ids)  # looked up when called, so tests can put another in its place


def enqueue(ids: list[int]) -> int:
    """Hand ids to Celery (run in-process when no broker is configured). Returns how many were queued."""
    # Registers the task with every Celery app; then use this Flask app's own Celery (its broker and
    # queue), whichever app happens to be Celery's process-wide default.
    from foundation.notifications.tasks import deliver_notification

    task = current_app.extensions["celery"].tasks[deliver_notification.name]
    queued = 0
    for nid in ids:
        try:
            result = task.delay(nid)
        except Exception as exc:  # broker down: the rows wait for the sweep
            log.warning(
                "could not enqueue notification %s (%s); %s left for the sweep", nid, exc, len(ids) - queued
            )
            break
        if isinstance(result, EagerResult) and result.failed():
            log.error("in-process delivery of notification %s failed: %r", nid, result.result)
        queued += 1
    return queued
