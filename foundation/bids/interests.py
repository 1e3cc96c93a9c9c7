"""Members' interests (themes and towns) and the weekly digest of opportunities that match them.

The digest for a week goes to each person with interests: the opportunities published in the last 7 days and
those closing in the next 14 that match a theme they chose (if they chose any) and a town they chose (if they
chose any; a county-wide opportunity matches every town). Nothing is sent when nothing matches. Each digest sent
is recorded against its week (the Monday, Europe/London) under a unique constraint, so a second run, or two runs
at once, never send the same week twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from foundation.bids.models import (
    ALL_AREAS,
    AREA_CHOICES,
    DigestSent,
    FundingOpportunity,
    InterestArea,
    InterestTheme,
    OpportunityStatus,
    Theme,
)
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.types import LONDON, london_today

NEW_WITHIN_DAYS = 7
CLOSING_WITHIN_DAYS = 14


@dataclass(frozen=True)
class Interests:
    themes: frozenset[Theme]
    areas: frozenset[str]

    @property
    def any(self) -> bool:
        return bool(self.themes or self.areas)

    def match(self, opportunity: FundingOpportunity) -> bool:
        if not self.any:
            return False
        if self.themes and not self.themes.intersection(opportunity.themes):
            return False
        areas = set(opportunity.areas)
        return not self.areas or ALL_AREAS in areas or ALL_AREAS in self.areas or bool(self.areas & areas)


def interests_of(user: User) -> Interests:
    themes = db.session.scalars(sa.select(InterestTheme.theme).where(InterestTheme.user_id == user.id))
    areas = db.session.scalars(sa.select(InterestArea.area).where(InterestArea.user_id == user.id))
    return Interests(frozenset(themes), frozenset(areas))


def save_interests(user: User, themes: list[Theme], areas: list[str]) -> Interests:
    unknown = [a for a in areas if a not in AREA_CHOICES]
    if unknown:
        raise DomainError("Choose towns from the list.", field="areas")
    db.session.execute(sa.delete(InterestTheme).where(InterestTheme.user_id == user.id))
    db.session.execute(sa.delete(InterestArea).where(InterestArea.user_id == user.id))
    chosen = Interests(frozenset(themes), frozenset([ALL_AREAS] if ALL_AREAS in areas else areas))
    db.session.add_all(InterestTheme(user_id=user.id, theme=t) for t in chosen.themes)
    db.session.add_all(InterestArea(user_id=user.id, area=a) for a in chosen.areas)
    return chosen


def forget_interests(user: User) -> None:
    db.session.execute(sa.delete(InterestTheme).where(InterestTheme.user_id == user.id))
    db.session.execute(sa.delete(InterestArea).where(InterestArea.user_id == user.id))


def week_starting(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Digest:
    new: list[FundingOpportunity]
    closing: list[FundingOpportunity]

    @property
    def empty(self) -> bool:
        return not (self.new or self.closing)


def candidates(today: date) -> tuple[list[FundingOpportunity], list[FundingOpportunity]]:
    """Open opportunities published in the last 7 days, and those closing in the next 14 (not new)."""
    since = datetime.combine(today - timedelta(days=NEW_WITHIN_DAYS), time(0), LONDON).astimezone(UTC)
    rows = db.session.scalars(
        sa.select(FundingOpportunity)
        .where(
            FundingOpportunity.status == OpportunityStatus.PUBLISHED,
            FundingOpportunity.deadline >= today,
            sa.or_(
                FundingOpportunity.published_at >= since,
                FundingOpportunity.deadline <= today + timedelta(days=CLOSING_WITHIN_DAYS),
            ),
        )
        .options(
            joinedload(FundingOpportunity.funder),
            selectinload(FundingOpportunity.theme_rows),
            selectinload(FundingOpportunity.area_rows),
        )
        .order_by(FundingOpportunity.deadline, FundingOpportunity.id)
    ).all()
    new = [o for o in rows if o.published_at is not None and o.published_at >= since]
    closing = [o for o in rows if o not in new]
    return new, closing


def digest_for(interests: Interests, today: date) -> Digest:
    new, closing = candidates(today)
    return Digest([o for o in new if interests.match(o)], [o for o in closing if interests.match(o)])


def send_weekly_digests(today: date | None = None) -> int:
    """Send this week's digest to everyone interested who has not had it; how many were sent."""
    today = today or london_today()
    week = week_starting(today)
    new, closing = candidates(today)
    if not new and not closing:
        return 0
    chosen: dict[int, tuple[set[Theme], set[str]]] = defaultdict(lambda: (set(), set()))
    for user_id, theme in db.session.execute(sa.select(InterestTheme.user_id, InterestTheme.theme)):
        chosen[user_id][0].add(theme)
    for user_id, area in db.session.execute(sa.select(InterestArea.user_id, InterestArea.area)):
        chosen[user_id][1].add(area)
    already = set(db.session.scalars(sa.select(DigestSent.user_id).where(DigestSent.week_starting == week)))
    waiting = sorted(set(chosen) - already)
    if not waiting:
        return 0
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(waiting), User.closed_at.is_(None)).order_by(User.id)
    ).all()
    link = url_for("bids.opportunities_list")
    sent = 0
    for user in users:
        interests = Interests(frozenset(chosen[user.id][0]), frozenset(chosen[user.id][1]))
        digest = Digest([o for o in new if interests.match(o)], [o for o in closing if interests.match(o)])
        if digest.empty:
            continue
        try:
            with db.session.begin_nested():  # another run sending the same week at the same time: skip them
                db.session.add(
                    DigestSent(
                        user_id=user.id,
                        week_starting=week,
                        new_count=len(digest.new),
                        closing_count=len(digest.closing),
                    )
                )
        except IntegrityError:
            continue
        notify(
            user,
            NotificationKind.GENERAL,
            f"Funding opportunities for you: {len(digest.new)} new, {len(digest.closing)} closing soon",
            "bids/digest",
            link=link,
            digest=digest,
            week=week,
            interests_link=url_for("bids.interests_settings"),
        )
        sent += 1
    return sent


def digests_of(user: User) -> list[DigestSent]:
    return list(
        db.session.scalars(
            sa.select(DigestSent).where(DigestSent.user_id == user.id).order_by(DigestSent.week_starting)
        )
    )
