"""What events hold about a person (the entries naming them or made by them, with their feedback; the events
they listed or cancelled; the register marks and registration steps they made), and what closing their account
erases: the words of their feedback. Entries stay, under the former user's name: the organiser's counts and
the register need them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from foundation.events.models import (
    Event,
    EventFeedback,
    Registration,
    RegistrationPlace,
    RegistrationStep,
)
from foundation.extensions import db
from foundation.members.models import User
from foundation.privacy import ERASED_TEXT, export_section, on_close, plain


@export_section(
    "event_registrations",
    covers=("event_registration.made_by_id", "event_registration_place.user_id"),
)
def _registrations(user: User) -> list[dict[str, Any]]:
    named = sa.select(RegistrationPlace.registration_id).where(RegistrationPlace.user_id == user.id)
    entries = db.session.scalars(
        sa.select(Registration)
        .where(sa.or_(Registration.id.in_(named), Registration.made_by_id == user.id))
        .order_by(Registration.created_at, Registration.id)
        .options(
            joinedload(Registration.event),
            joinedload(Registration.organisation),
            joinedload(Registration.payment),
            selectinload(Registration.people),
            selectinload(Registration.steps),
        )
    ).all()
    place_ids = [p.id for e in entries for p in e.people if p.user_id == user.id]
    feedback = {
        f.place_id: f
        for f in db.session.scalars(sa.select(EventFeedback).where(EventFeedback.place_id.in_(place_ids)))
    }
    out = []
    for entry in entries:
        mine = next((p for p in entry.people if p.user_id == user.id), None)
        given = feedback.get(mine.id) if mine else None
        out.append(
            {
                "id": entry.id,
                "event_id": entry.event_id,
                "event": entry.event.title,
                "starts_at": plain(entry.event.starts_at),
                "organisation": entry.organisation.name,
                "made_by_you": entry.made_by_id == user.id,
                "you_are_named": mine is not None,
                "places": entry.places,
                "status": entry.status.value,
                "created_at": plain(entry.created_at),
                "cancelled_at": plain(entry.cancelled_at),
                "late_cancellation": entry.late_cancellation,
                "fee_pence": entry.fee_pence,
                "fee_payment": None
                if entry.payment is None
                else {
                    "status": entry.payment.status.value,
                    "provider": entry.payment.provider,
                    "pay_by": plain(entry.pay_by),
                    "paid_back_due": entry.refund_due,
                },
                "attended": mine.attended if mine else None,
                "history": [
                    {
                        "from": plain(s.from_status),
                        "to": plain(s.to_status),
                        "at": plain(s.at),
                        "note": s.note,
                    }
                    for s in entry.steps
                ],
                "feedback": None
                if given is None
                else {
                    "rating": given.rating,
                    "comments": given.comments,
                    "given_at": plain(given.created_at),
                },
            }
        )
    return out


@export_section(
    "events_organised",
    covers=(
        "event.created_by_id",
        "event.cancelled_by_id",
        "event_registration_place.marked_by_id",
        "event_registration_step.by_id",
    ),
)
def _organised(user: User) -> dict[str, list[dict[str, Any]]]:
    events = db.session.scalars(
        sa.select(Event)
        .where(sa.or_(Event.created_by_id == user.id, Event.cancelled_by_id == user.id))
        .order_by(Event.created_at, Event.id)
    )
    marks = db.session.execute(
        sa.select(
            RegistrationPlace.id,
            RegistrationPlace.event_id,
            RegistrationPlace.attended,
            RegistrationPlace.marked_at,
        )
        .where(RegistrationPlace.marked_by_id == user.id)
        .order_by(RegistrationPlace.marked_at, RegistrationPlace.id)
    ).all()
    moves = db.session.scalars(
        sa.select(RegistrationStep)
        .where(RegistrationStep.by_id == user.id)
        .order_by(RegistrationStep.at, RegistrationStep.id)
    )
    return {
        "events": [
            {
                "id": e.id,
                "title": e.title,
                "listed_by_you": e.created_by_id == user.id,
                "cancelled_by_you": e.cancelled_by_id == user.id,
                "status": e.status.value,
                "starts_at": plain(e.starts_at),
                "cancel_reason": e.cancel_reason if e.cancelled_by_id == user.id else None,
            }
            for e in events
        ],
        "attendance_marked": [
            {"place_id": pid, "event_id": eid, "attended": attended, "marked_at": plain(at)}
            for pid, eid, attended, at in marks
        ],
        "registration_steps": [
            {
                "registration_id": s.registration_id,
                "from": plain(s.from_status),
                "to": plain(s.to_status),
                "at": plain(s.at),
                "note": s.note,
            }
            for s in moves
        ],
    }


@on_close
def _erase_feedback_words(user: User) -> None:
    places = sa.select(RegistrationPlace.id).where(RegistrationPlace.user_id == user.id)
    db.session.execute(
        sa.update(EventFeedback)
        .where(EventFeedback.place_id.in_(places), EventFeedback.comments != "")
        .values(comments=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )
