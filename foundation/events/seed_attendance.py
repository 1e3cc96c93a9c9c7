"""Demo attendance and feedback: the past demo event's register marked by its organiser (most people came, a few
did not) and feedback from some of the people who came. Idempotent: only entries still registered are marked, and
feedback is added only to an event that has none."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from foundation.events import attendance
from foundation.events.models import Event, EventFeedback, Registration, RegistrationPlace, RegistrationStatus
from foundation.events.seed import CALNE_ADMIN, PAST_EVENT_TITLE, STAFF
from foundation.extensions import db
from foundation.members.models import User
from foundation.seed import demo_data

# The ratings and comments given, in the order of the people who came.
FEEDBACK = [
    (5, "Really useful case studies, and the changes to referral paths were explained clearly."),
    (4, "Good refresher. More time for questions next year, please."),
    (5, ""),
    (3, "The venue was great; the slides were hard to read from the back of the hall."),
]
NO_SHOW_EVERY = 4  # every fourth person on the register did not come


@demo_data("events-attendance", order=65)
def seed_attendance() -> Iterator[str]:
    event = db.session.scalar(sa.select(Event).where(Event.title == PAST_EVENT_TITLE))
    if event is None:
        return
    by = db.session.scalar(
        sa.select(User).where(User.email.in_([CALNE_ADMIN, STAFF])).order_by(User.is_staff)
    )
    if by is None:
        return
    waiting = [
        p
        for p in attendance.register_places(event.id)
        if p.registration.status is RegistrationStatus.REGISTERED
    ]
    if waiting:
        marks = {p.id: (i + 1) % NO_SHOW_EVERY != 0 for i, p in enumerate(waiting)}
        attendance.mark(event, marks, by, now=event.ends_at)
        db.session.commit()
        yield f"register of {PAST_EVENT_TITLE}: {sum(marks.values())} attended, {len(marks) - sum(marks.values())} not"
    if db.session.scalar(sa.select(EventFeedback.id).where(EventFeedback.event_id == event.id).limit(1)):
        return
    came = db.session.scalars(
        sa.select(RegistrationPlace)
        .join(Registration, Registration.id == RegistrationPlace.registration_id)
        .where(
            RegistrationPlace.event_id == event.id,
            RegistrationPlace.live.is_(True),
            RegistrationPlace.attended.is_(True),
            Registration.status == RegistrationStatus.ATTENDED,
        )
        .order_by(RegistrationPlace.id)
    ).all()
    for place, (rating, comments) in zip(came, FEEDBACK, strict=False):
        db.session.add(
            EventFeedback(
                event_id=event.id,
                place_id=place.id,
                rating=rating,
                comments=comments,
                created_at=event.ends_at,
            )
        )
        yield f"feedback on {PAST_EVENT_TITLE}: {rating} out of 5"
    db.session.flush()
