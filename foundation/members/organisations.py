"""Organisations: registration, editing, vetting decisions and good standing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from foundation.errors import Conflict, DomainError, IllegalTransition
from foundation.extensions import db
from foundation.members.models import (
    VETTING_TRANSITIONS,
    Area,
    DocumentKind,
    LegalForm,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
    Standing,
    User,
    VettingAction,
    VettingDecision,
)
from foundation.members.signals import StandingChange, organisation_standing_changed
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify, notify_staff
from foundation.types import utcnow

EDITABLE_FIELDS = (
    "name", "sector", "legal_form", "charity_number", "company_number", "address_line1", "address_line2",
    "town", "postcode", "area", "website", "description", "age_min", "age_max", "young_people_per_year",
    "safeguarding_lead_name", "safeguarding_lead_email", "safeguarding_lead_phone",
)  # fmt: skip

MESSAGE_REQUIRED = {VettingAction.REQUEST_CHANGES, VettingAction.REJECT, VettingAction.SUSPEND}
# Decisions that take an organisation out of good standing: the capabilities are told, and staff choose whether
# its upcoming bookings are cancelled.
LEAVES_STANDING = {VettingAction.REJECT, VettingAction.SUSPEND}


@dataclass
class VettingOutcome:
    """A recorded vetting decision, and what the capabilities did because of it (sentences for staff)."""

    decision: VettingDecision
    consequences: list[str] = field(default_factory=list)


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values.get(k) for k in EDITABLE_FIELDS if k in values}
    for key, enum_cls in (("sector", Sector), ("legal_form", LegalForm), ("area", Area)):
        if isinstance(out.get(key), str):
            out[key] = enum_cls(out[key])
    for key in ("charity_number", "company_number", "address_line2", "website", "safeguarding_lead_phone"):
        if key in out and not out[key]:
            out[key] = None
    return out


def _check_unique_numbers(values: dict[str, Any], org_id: int | None = None) -> None:
    for key, label in (("charity_number", "charity"), ("company_number", "company")):
        number = values.get(key)
        if not number:
            continue
        col = getattr(Organisation, key)
        stmt = sa.select(Organisation.id).where(col == number)
        if org_id is not None:
            stmt = stmt.where(Organisation.id != org_id)
        if db.session.scalar(stmt) is not None:
            raise Conflict(
                f"An organisation with {label} number {number} is already registered. "
                "Ask one of its admins to invite you.",
                field=key,
            )


def register_organisation(user: User, values: dict[str, Any]) -> Organisation:
    if not user.email_confirmed:
        raise DomainError("Confirm your email address before registering an organisation.")
    data = _coerce(values)
    _check_unique_numbers(data)
    org = Organisation(**data, status=OrganisationStatus.PENDING, submitted_at=utcnow())
    db.session.add(org)
    db.session.add(Membership(user=user, organisation=org, role=MemberRole.ADMIN))
    db.session.flush()
    _tell_staff(org, "New organisation awaiting vetting")
    return org


def update_organisation(org: Organisation, values: dict[str, Any]) -> Organisation:
    data = _coerce(values)
    _check_unique_numbers(data, org.id)
    for key, value in data.items():
        setattr(org, key, value)
    return org


def resubmit(org: Organisation, user: User) -> VettingDecision:
    """An organisation asked for changes sends itself back to the vetting queue."""
    decision = _transition(org, VettingAction.SUBMIT, user, None)
    org.submitted_at = utcnow()
    _tell_staff(org, "Organisation resubmitted for vetting")
    return decision


def decide(
    org: Organisation,
    staff: User,
    action: VettingAction,
    message: str | None,
    cancel_future_bookings: bool = False,
) -> VettingOutcome:
    """Record a staff vetting decision (who, when, why) and tell the organisation's admins.

    Suspending or rejecting sends `organisation_standing_changed` with the staff member's choice about the
    organisation's upcoming bookings (ignored for other decisions). Its receivers write in this transaction.
    Approving its booking requests, paying its grants and the like check `good_standing` when they happen, so
    they are held while the organisation is out of good standing, and resume when it is back.
    """
    if not staff.is_staff:
        raise DomainError("Only foundation staff can vet organisations.")
    if action is VettingAction.SUBMIT:
        raise IllegalTransition("Staff do not submit organisations.")
    message = (message or "").strip() or None
    if action in MESSAGE_REQUIRED and not message:
        raise DomainError("Say why, so the organisation knows what to do next.", field="message")
    decision = _transition(org, action, staff, message)
    if action is VettingAction.APPROVE:
        org.approved_at = utcnow()
    for admin in org.admins():
        notify(
            admin,
            NotificationKind.ORGANISATION_VETTING,
            f"{org.name}: {action.label.lower()}",
            "vetting_decision",
            link=url_for("members.organisation", org_id=org.id),
            org=org,
            action=action,
            message=message,
        )
    outcome = VettingOutcome(decision)
    if action in LEAVES_STANDING:
        change = StandingChange(
            organisation_id=org.id,
            by_user_id=staff.id,
            cancel_future_bookings=cancel_future_bookings,
        )
        db.session.flush()
        for _receiver, said in organisation_standing_changed.send(org, change=change):
            if said:
                outcome.consequences.append(str(said))
    return outcome


def _transition(org: Organisation, action: VettingAction, user: User, message: str | None) -> VettingDecision:
    allowed_from, to_status = VETTING_TRANSITIONS[action]
    if org.status not in allowed_from:
        raise IllegalTransition(
            f"An organisation that is {org.status.label.lower()} cannot be {action.label.lower()}."
        )
    decision = VettingDecision(
        organisation=org,
        action=action,
        from_status=org.status,
        to_status=to_status,
        message=message,
        decided_by=user,
    )
    org.status = to_status
    db.session.add(decision)
    return decision


def _tell_staff(org: Organisation, subject: str) -> None:
    notify_staff(
        NotificationKind.STAFF_QUEUE,
        f"{subject}: {org.name}",
        "staff_vetting_queue",
        link=url_for("members.vetting_review", org_id=org.id),
        org=org,
    )


def good_standing(org: Organisation, on: date | None = None) -> Standing:
    """Approved, with a safeguarding policy not past its review date and insurance not expired."""
    on = on or date.today()
    reasons: list[str] = []
    if org.status is not OrganisationStatus.APPROVED:
        reasons.append(f"The organisation is not approved (it is {org.status.label.lower()}).")
    for kind in (DocumentKind.SAFEGUARDING_POLICY, DocumentKind.INSURANCE):
        doc = org.current_document(kind)
        if doc is None:
            reasons.append(f"No {kind.label.lower()} has been uploaded.")
        elif doc.valid_until is None or doc.valid_until < on:
            word = "was due for review" if kind is DocumentKind.SAFEGUARDING_POLICY else "expired"
            when = doc.valid_until.strftime("%-d %B %Y") if doc.valid_until else "on an unknown date"
            reasons.append(f"The {kind.label.lower()} {word} on {when}.")
    return Standing(ok=not reasons, reasons=reasons)


def organisations_for(user: User) -> list[Organisation]:
    """The person's organisations by name, with what good_standing() reads loaded in the same round trip."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id)
            .order_by(sa.func.lower(Organisation.name), Organisation.id)
            .options(selectinload(Organisation.documents))
        )
    )


def vetting_queue() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.status == OrganisationStatus.PENDING)
            .order_by(Organisation.submitted_at)
            .options(selectinload(Organisation.documents))
        )
    )
