"""A person's own data: export everything held about them, and close their account.

Packages add what they hold about a person with `@export_section(name, covers=...)` (a function from
the user to JSON-ready data) and what closing must erase with `@on_close` (a function given the user
before its details are overwritten). Any column that references a user and is not covered by a named
section still appears in the export under "other_records", so nothing referencing the person is left out.

Closing keeps the rows the Foundation must keep (vetting decisions, bookings, later payments) linked to
the same user id, whose name, email and password no longer say or open anything.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from foundation.errors import Conflict
from foundation.extensions import db
from foundation.members.accounts import check_password
from foundation.members.models import (
    Invitation,
    MemberRole,
    Membership,
    OrganisationDocument,
    User,
    VettingDecision,
)
from foundation.notifications.models import EmailStatus, Notification, NotificationPreference
from foundation.types import utcnow

FORMER_USER_NAME = "Former user"
ERASED_TEXT = "(Removed when the account was closed.)"

ExportFn = Callable[[User], Any]
CloseFn = Callable[[User], None]


@dataclass
class ExportSection:
    name: str
    build: ExportFn
    # "table.column" pairs this section reports, so they are not listed again under other_records.
    covers: tuple[str, ...] = field(default_factory=tuple)


EXPORT_SECTIONS: list[ExportSection] = []
CLOSE_STEPS: list[CloseFn] = []


def export_section(name: str, covers: tuple[str, ...] = ()) -> Callable[[ExportFn], ExportFn]:
    def register(fn: ExportFn) -> ExportFn:
        if any(s.name == name for s in EXPORT_SECTIONS):
            raise ValueError(f"export section {name!r} is registered twice")
        EXPORT_SECTIONS.append(ExportSection(name, fn, tuple(covers)))
        return fn

    return register


def on_close(fn: CloseFn) -> CloseFn:
    CLOSE_STEPS.append(fn)
    return fn


def closed_email(user: User) -> str:
    """Unique (ids are) and undeliverable (.invalid is reserved for that, RFC 2606)."""
    return f"closed-{user.id}@invalid"


# --- JSON shaping ---------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def row_dict(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a mapped object, JSON-ready."""
    mapper = sa.inspect(obj).mapper
    return {c.key: plain(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in exclude}


# --- export ---------------------------------------------------------------------------------------------


def export_user_data(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"exported_at": utcnow().isoformat(), "user_id": user.id}
    for section in EXPORT_SECTIONS:
        data[section.name] = section.build(user)
    other = other_records(user, {c for s in EXPORT_SECTIONS for c in s.covers})
    if other:
        data["other_records"] = other
    return data


def user_reference_columns() -> list[sa.Column[Any]]:
    """Every column in the schema with a foreign key to user.id."""
    user_table = User.__table__
    return [
        col
        for table in db.metadata.sorted_tables
        for col in table.columns
        if any(fk.column.table is user_table for fk in col.foreign_keys)
    ]


def other_records(user: User, covered: set[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for col in user_reference_columns():
        key = f"{col.table.name}.{col.name}"
        if key in covered:
            continue
        rows = db.session.execute(sa.select(col.table).where(col == user.id)).mappings().all()
        if rows:
            out[key] = [{k: plain(v) for k, v in r.items()} for r in rows]
    return out


@export_section("account")
def _account(user: User) -> dict[str, Any]:
    return row_dict(user, exclude=("password_hash", "session_version"))


@export_section("memberships", covers=("membership.user_id",))
def _memberships(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Membership).where(Membership.user_id == user.id).order_by(Membership.created_at)
    )
    return [
        {
            "organisation_id": m.organisation_id,
            "organisation": m.organisation.name,
            "role": m.role.value,
            "joined_at": plain(m.created_at),
        }
        for m in rows
    ]


def _notification_filter(user: User) -> sa.ColumnElement[bool]:
    # Mail sent to the address before it had an account (an invitation, say) is theirs too.
    return sa.or_(
        Notification.user_id == user.id,
        sa.and_(Notification.user_id.is_(None), Notification.email_to == user.email),
    )


@export_section("notifications", covers=("notification.user_id",))
def _notifications(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Notification).where(_notification_filter(user)).order_by(Notification.created_at)
    )
    keep = (
        "id", "kind", "subject", "body_text", "link", "in_inbox", "email_to", "email_status",
        "sent_at", "read_at", "created_at",
    )  # fmt: skip
    return [{k: plain(getattr(n, k)) for k in keep} for n in rows]


@export_section("notification_preferences", covers=("notification_preference.user_id",))
def _preferences(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.id)
    )
    return [{"kind": p.kind.value, "by_email": p.email} for p in rows]


@export_section("documents_uploaded", covers=("organisation_document.uploaded_by_id",))
def _documents(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(OrganisationDocument)
        .where(OrganisationDocument.uploaded_by_id == user.id)
        .order_by(OrganisationDocument.uploaded_at)
    )
    return [
        {
            "organisation_id": d.organisation_id,
            "kind": d.kind.value,
            "original_filename": d.original_filename,
            "content_type": d.content_type,
            "size_bytes": d.size_bytes,
            "sha256": d.sha256,
            "valid_until": plain(d.valid_until),
            "uploaded_at": plain(d.uploaded_at),
        }
        for d in rows
    ]


@export_section("vetting_decisions_made", covers=("vetting_decision.decided_by_id",))
def _decisions(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(VettingDecision)
        .where(VettingDecision.decided_by_id == user.id)
        .order_by(VettingDecision.created_at)
    )
    return [
        {
            "organisation_id": d.organisation_id,
            "organisation": d.organisation.name,
            "action": d.action.value,
            "from_status": d.from_status.value,
            "to_status": d.to_status.value,
            "message": d.message,
            "created_at": plain(d.created_at),
        }
        for d in rows
    ]


@export_section("invitations", covers=("invitation.invited_by_id", "invitation.accepted_by_id"))
def _invitations(user: User) -> dict[str, list[dict[str, Any]]]:
    def shape(inv: Invitation) -> dict[str, Any]:
        return {
            "organisation_id": inv.organisation_id,
            "organisation": inv.organisation.name,
            "email": inv.email,
            "role": inv.role.value,
            "created_at": plain(inv.created_at),
            "expires_at": plain(inv.expires_at),
            "accepted_at": plain(inv.accepted_at),
            "revoked_at": plain(inv.revoked_at),
        }

    sent = db.session.scalars(
        sa.select(Invitation).where(Invitation.invited_by_id == user.id).order_by(Invitation.created_at)
    )
    received = db.session.scalars(
        sa.select(Invitation)
        .where(sa.or_(Invitation.accepted_by_id == user.id, Invitation.email == user.email))
        .order_by(Invitation.created_at)
    )
    return {"sent": [shape(i) for i in sent], "received": [shape(i) for i in received]}


@export_section("bookings_made", covers=("booking.booked_by_id", "occurrence.decided_by_id"))
def _bookings(user: User) -> dict[str, list[dict[str, Any]]]:
    from foundation.venues.models import Booking, Occurrence

    bookings = db.session.scalars(
        sa.select(Booking).where(Booking.booked_by_id == user.id).order_by(Booking.created_at)
    )
    made = [
        {
            "id": b.id,
            "organisation_id": b.organisation_id,
            "organisation": b.organisation.name,
            "venue": b.space.venue.name,
            "space": b.space.name,
            "purpose": b.purpose,
            "expected_attendance": b.expected_attendance,
            "recurrence": b.recurrence.value,
            "weekdays": b.weekday_list,
            "first_date": plain(b.first_date),
            "last_date": plain(b.last_date),
            "start_time": plain(b.start_time),
            "end_time": plain(b.end_time),
            "created_at": plain(b.created_at),
            "dates": [
                {"starts_at": plain(o.starts_at), "ends_at": plain(o.ends_at), "status": o.status.value}
                for o in b.occurrences
            ],
        }
        for b in bookings
    ]
    decided = db.session.scalars(
        sa.select(Occurrence).where(Occurrence.decided_by_id == user.id).order_by(Occurrence.decided_at)
    )
    decisions = [
        {
            "booking_id": o.booking_id,
            "starts_at": plain(o.starts_at),
            "status": o.status.value,
            "reason": o.status_reason,
            "decided_at": plain(o.decided_at),
        }
        for o in decided
    ]
    return {"made": made, "decisions_on_requests": decisions}


@export_section("booking_alert_preference", covers=("booking_alert_preference.user_id",))
def _booking_alerts(user: User) -> dict[str, Any] | None:
    from foundation.venues.models import BookingAlertPreference

    pref = db.session.scalar(
        sa.select(BookingAlertPreference).where(BookingAlertPreference.user_id == user.id)
    )
    return None if pref is None else {"request_alerts": pref.request_alerts.value}


# --- closing --------------------------------------------------------------------------------------------


def admin_handover_needed(user: User) -> list[str]:
    """Organisations this user is the only admin of while others still belong to them."""
    blocking = []
    for m in user.memberships:
        if m.role is not MemberRole.ADMIN:
            continue
        others = [o for o in m.organisation.memberships if o.user_id != user.id and o.user.closed_at is None]
        if others and not any(o.role is MemberRole.ADMIN for o in others):
            blocking.append(m.organisation.name)
    return sorted(blocking)


def close_account(user: User, password: str) -> None:
    """Erase or pseudonymise the person; keep the records the Foundation must keep. The caller commits."""
    if user.closed_at is not None:
        raise Conflict("This account is already closed.")
    check_password(user, password, field="current_password")
    blocking = admin_handover_needed(user)
    if blocking:
        raise Conflict(
            f"You are the only admin of {', '.join(blocking)}. Make another member an admin "
            "(on the organisation page) before closing your account."
        )
    for step in CLOSE_STEPS:
        step(user)
    user.name = FORMER_USER_NAME
    user.email = closed_email(user)
    # Not a hash werkzeug can check ("method$salt$hash"), so no password ever matches it.
    user.password_hash = "closed!" + secrets.token_hex(16)
    user.email_confirmed_at = None
    user.is_staff = False
    user.is_panel_reviewer = False
    user.last_login_at = None
    user.session_version += 1
    user.closed_at = utcnow()
    db.session.flush()


@on_close
def _leave_organisations(user: User) -> None:
    # The organisations stay (they may hold bookings, grants, history); the person leaves them.
    for m in list(user.memberships):
        db.session.delete(m)
    db.session.flush()
    db.session.expire(user, ["memberships"])


@on_close
def _erase_notifications(user: User) -> None:
    mine = _notification_filter(user)
    db.session.execute(
        sa.delete(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    # Unsent mail and inbox-only messages go; what was sent stays as a bare record without the content.
    db.session.execute(
        sa.delete(Notification)
        .where(mine, Notification.email_status.notin_([EmailStatus.SENT, EmailStatus.SENDING]))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Notification)
        .where(mine)
        .values(email_to=closed_email(user), body_text=ERASED_TEXT, body_html=None, link=None)
        .execution_options(synchronize_session=False)
    )


@on_close
def _erase_invitation_addresses(user: User) -> None:
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.email == user.email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Invitation)
        .where(sa.or_(Invitation.email == user.email, Invitation.accepted_by_id == user.id))
        .values(email=closed_email(user))
        .execution_options(synchronize_session=False)
    )


@on_close
def _erase_booking_alerts(user: User) -> None:
    from foundation.venues.models import BookingAlertPreference

    db.session.execute(
        sa.delete(BookingAlertPreference)
        .where(BookingAlertPreference.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
