"""Things waiting on the dashboard from events: offers of places waiting for the person's answer and places held
for a fee they have not paid yet (the soonest to lapse first), for the admins of an organiser organisation the
registrations waiting for their approval, and for staff the fees to record or pay back by hand (one query each)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from foundation.events.models import Event, EventStatus, Registration, RegistrationPlace, RegistrationStatus
from foundation.events.registrations import when
from foundation.extensions import db
from foundation.members.models import Organisation
from foundation.payments.models import Payment, PaymentStatus
from foundation.payments.providers import OFFLINE
from foundation.todo import Audience, TodoGroup, TodoItem, Viewer, first_rows, todo_section

URGENT_WITHIN = timedelta(hours=12)


@todo_section("events", order=40)
def events_todo(viewer: Viewer) -> list[TodoGroup]:
    return _offers(viewer) + _approvals(viewer) + _fees_to_pay(viewer) + _fees_by_hand(viewer)


def _offers(viewer: Viewer) -> list[TodoGroup]:
    named = sa.select(RegistrationPlace.registration_id).where(RegistrationPlace.user_id == viewer.user.id)
    deadline = sa.func.coalesce(Registration.offer_expires_at, Registration.pay_by)
    rows, total = first_rows(
        sa.select(
            Registration.id,
            Registration.places,
            Registration.status,
            Registration.fee_pence,
            deadline,
            Event.title,
        )
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status.in_([RegistrationStatus.OFFERED, RegistrationStatus.AWAITING_PAYMENT]),
            deadline > viewer.now,
            sa.or_(Registration.id.in_(named), Registration.made_by_id == viewer.user.id),
        )
        .order_by(deadline, Registration.id)
    )
    items = [
        TodoItem(
            f"{'Places offered' if status is RegistrationStatus.OFFERED else 'Pay the fee'}: {title}",
            url_for("events.registration", registration_id=rid),
            detail=(
                f"{places} place{'s' if places != 1 else ''}, answer by {when(until)}"
                if status is RegistrationStatus.OFFERED
                else f"£{fee / 100:,.2f} for {places} place{'s' if places != 1 else ''}, by {when(until)}"
            ),
            urgent=until - viewer.now <= URGENT_WITHIN,
        )
        for rid, places, status, fee, until, title in rows
    ]
    return [
        TodoGroup(
            Audience.YOU,
            "Event places waiting for you",
            items,
            total,
            url_for("events.my_registrations"),
            "All your events",
        )
    ]


def _approvals(viewer: Viewer) -> list[TodoGroup]:
    if not viewer.admin_org_ids:
        return []
    rows, total = first_rows(
        sa.select(Registration.id, Registration.places, Event.title, Organisation.name)
        .join(Event, Event.id == Registration.event_id)
        .join(Organisation, Organisation.id == Registration.organisation_id)
        .where(
            Registration.status == RegistrationStatus.PENDING_APPROVAL,
            Event.organisation_id.in_(viewer.admin_org_ids),
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > viewer.now,
        )
        .order_by(Registration.created_at, Registration.id)
    )
    items = [
        TodoItem(
            f"{title}: {org}",
            url_for("events.registration", registration_id=rid),
            detail=f"{places} place{'s' if places != 1 else ''} waiting for approval",
        )
        for rid, places, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Event registrations to approve", items, total)]


def _fees_to_pay(viewer: Viewer) -> list[TodoGroup]:
    """For the admins of an organisation: its entries whose places wait for their fee, the soonest to lapse first
    (whoever made them: an admin may pay for their colleagues)."""
    if not viewer.admin_org_ids:
        return []
    rows, total = first_rows(
        sa.select(
            Registration.id, Registration.places, Registration.fee_pence, Registration.pay_by, Event.title,
            Organisation.name,
        )
        .join(Event, Event.id == Registration.event_id)
        .join(Organisation, Organisation.id == Registration.organisation_id)
        .where(
            Registration.status == RegistrationStatus.AWAITING_PAYMENT,
            Registration.organisation_id.in_(viewer.admin_org_ids),
            Registration.pay_by > viewer.now,
        )
        .order_by(Registration.pay_by, Registration.id)
    )  # fmt: skip
    items = [
        TodoItem(
            f"{title}: {org}",
            url_for("events.registration", registration_id=rid),
            detail=f"£{fee / 100:,.2f} for {places} place{'s' if places != 1 else ''}, by {when(until)}",
            urgent=until - viewer.now <= URGENT_WITHIN,
        )
        for rid, places, fee, until, title, org in rows
    ]
    return [TodoGroup(Audience.ORGANISATIONS, "Event fees to pay", items, total)]


def _fees_by_hand(viewer: Viewer) -> list[TodoGroup]:
    """Staff: fees waiting for a bank transfer, and fees received offline to pay back (one query)."""
    if not viewer.user.is_staff:
        return []
    offline = Payment.provider == OFFLINE.name
    waiting, owed = db.session.execute(
        sa.select(
            sa.func.count().filter(
                Registration.status == RegistrationStatus.AWAITING_PAYMENT,
                Payment.status == PaymentStatus.PENDING,
            ),
            sa.func.count().filter(
                Payment.status == PaymentStatus.SUCCEEDED, Payment.refund_requested_at.is_not(None)
            ),
        )
        .select_from(Registration)
        .join(Payment, Payment.id == Registration.payment_id)
        .where(offline)
    ).one()
    link = url_for("events.staff_fees")
    items = []
    if waiting:
        items.append(
            TodoItem(f"{waiting} event fee{'s' if waiting != 1 else ''} waiting for a bank transfer", link)
        )
    if owed:
        items.append(TodoItem(f"{owed} event fee{'s' if owed != 1 else ''} to pay back", link, urgent=True))
    return [TodoGroup(Audience.STAFF, "Event fees by hand", items, len(items))] if items else []
