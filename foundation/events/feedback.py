"""Feedback on an event: a rating from 1 to 5 and comments, from the people marked as attending it.

Each person gives one feedback per event; sending the form again replaces their rating and comments (so a slip
can be put right), never adds a second. The organiser sees the count, the average, how the ratings spread and the
comments, without names, so people can say what they think.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from foundation.errors import DomainError, NotAllowed
from foundation.events import steps
from foundation.events.models import (
    Event,
    EventFeedback,
    EventStatus,
    Registration,
    RegistrationPlace,
    RegistrationStatus,
)
from foundation.extensions import db
from foundation.members.models import User
from foundation.pagination import Page, paginate
from foundation.types import utcnow

MAX_COMMENTS = 2_000
RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {1: "Poor", 2: "Fair", 3: "Good", 4: "Very good", 5: "Excellent"}
NOT_ATTENDED = "Only people marked as attending this event can give feedback on it."


def attended_place(event: Event, user: User) -> RegistrationPlace | None:
    """The user's place at the event if the organiser marked them as attending."""
    return db.session.scalars(
        sa.select(RegistrationPlace)
        .join(RegistrationPlace.registration)
        .where(
            RegistrationPlace.event_id == event.id,
            RegistrationPlace.user_id == user.id,
            RegistrationPlace.live.is_(True),
            RegistrationPlace.attended.is_(True),
            Registration.status == RegistrationStatus.ATTENDED,
        )
    ).first()


def feedback_of(place: RegistrationPlace) -> EventFeedback | None:
    return db.session.scalars(sa.select(EventFeedback).where(EventFeedback.place_id == place.id)).first()


def give_feedback(
    event: Event, user: User, rating: int, comments: str, now: datetime | None = None
) -> EventFeedback:
    """Record (or replace) the user's feedback on an event they attended."""
    now = now or utcnow()
    # One writer at a time per event: two tabs sending a first feedback at once make one row, not an error.
    event = steps.lock_event(event.id)
    if event.status is EventStatus.CANCELLED:
        raise DomainError("This event was cancelled, so there is no feedback to give.")
    place = attended_place(event, user)
    if place is None:
        raise NotAllowed(NOT_ATTENDED)
    if rating not in RATINGS:
        raise DomainError("Choose a rating from 1 to 5.", field="rating")
    comments = (comments or "").strip()
    if len(comments) > MAX_COMMENTS:
        raise DomainError(f"Comments must be {MAX_COMMENTS:,} characters or fewer.", field="comments")
    feedback = feedback_of(place)
    if feedback is None:
        feedback = EventFeedback(event_id=event.id, place_id=place.id, created_at=now)
        db.session.add(feedback)
    feedback.rating = rating
    feedback.comments = comments
    feedback.created_at = now
    db.session.flush()
    return feedback


@dataclass(frozen=True)
class FeedbackResults:
    count: int
    average: float | None
    distribution: dict[int, int]  # rating -> how many gave it, every rating present
    attended: int  # people marked as attending: how many could have answered

    @property
    def largest(self) -> int:
        return max(self.distribution.values(), default=0)

    def share(self, rating: int) -> int:
        """The rating's share of all answers, as a whole percentage (for the bar's width)."""
        return round(100 * self.distribution[rating] / self.count) if self.count else 0


def results(event: Event) -> FeedbackResults:
    """Count, average and spread of the ratings, summed in SQL."""
    rows = db.session.execute(
        sa.select(EventFeedback.rating, sa.func.count())
        .where(EventFeedback.event_id == event.id)
        .group_by(EventFeedback.rating)
    ).all()
    distribution = {r: 0 for r in RATINGS}
    for rating, n in rows:
        distribution[int(rating)] = int(n)
    count = sum(distribution.values())
    average = sum(r * n for r, n in distribution.items()) / count if count else None
    attended = db.session.scalar(
        sa.select(sa.func.count(RegistrationPlace.id)).where(
            RegistrationPlace.event_id == event.id,
            RegistrationPlace.live.is_(True),
            RegistrationPlace.attended.is_(True),
        )
    )
    return FeedbackResults(count, average, distribution, int(attended or 0))


def comments_page(event: Event, page: int) -> Page[EventFeedback]:
    """The feedback with comments, newest first, one page at a time."""
    stmt = (
        sa.select(EventFeedback)
        .where(EventFeedback.event_id == event.id, EventFeedback.comments != "")
        .order_by(EventFeedback.created_at.desc(), EventFeedback.id.desc())
    )
    return paginate(stmt, page)
