"""The weekly digest: what matches, nothing when nothing matches, and never the same week twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.bids import interests
from foundation.bids.models import ALL_AREAS, DigestSent, Theme
from foundation.bids.tasks import send_weekly_digest
from foundation.extensions import db as _db
from foundation.notifications.models import Notification
from foundation.types import utcnow
from tests.bids.factories import add_interests, make_opportunity
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("request_context")


def digests_to(user) -> list[Notification]:
    return list(_db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


def test_the_digest_sends_new_and_closing_opportunities_that_match(db, member):
    add_interests(member, (Theme.SPORT, Theme.ARTS), ("Calne",))
    new = make_opportunity(
        programme="New Calne Sport", themes=(Theme.SPORT,), areas=("Calne",), published_days_ago=2
    )
    closing = make_opportunity(
        programme="County Arts",
        themes=(Theme.ARTS,),
        areas=(ALL_AREAS,),
        deadline=date.today() + timedelta(days=10),
    )
    make_opportunity(
        programme="Swindon Sport", themes=(Theme.SPORT,), areas=("Swindon",), published_days_ago=1
    )
    make_opportunity(
        programme="Calne Digital", themes=(Theme.DIGITAL,), areas=("Calne",), published_days_ago=1
    )
    make_opportunity(
        programme="Old Calne Sport", themes=(Theme.SPORT,), areas=("Calne",), published_days_ago=20
    )
    assert interests.send_weekly_digests() == 1
    (note,) = digests_to(member)
    assert "New Calne Sport" in note.body_text and "County Arts" in note.body_text
    for unwanted in ("Swindon Sport", "Calne Digital", "Old Calne Sport"):
        assert unwanted not in note.body_text
    assert f"/funding/{new.id}" in note.body_text and f"/funding/{closing.id}" in note.body_text
    sent = _db.session.scalars(sa.select(DigestSent)).one()
    assert (sent.new_count, sent.closing_count) == (1, 1)


def test_nothing_is_sent_when_nothing_matches(db, member):
    add_interests(member, (Theme.DIGITAL,), ())
    make_opportunity(themes=(Theme.SPORT,), published_days_ago=1)
    other = make_user()  # no interests at all: no digest
    assert interests.send_weekly_digests() == 0
    assert digests_to(member) == [] and digests_to(other) == []
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(DigestSent)) == 0


def test_a_week_is_never_sent_twice_but_next_week_is(db, member):
    add_interests(member, (), ("Calne",))
    make_opportunity(areas=("Calne",), deadline=date.today() + timedelta(days=30), published_days_ago=1)
    assert interests.send_weekly_digests() == 1
    assert interests.send_weekly_digests() == 0
    assert len(digests_to(member)) == 1
    # A week on the first is no longer new nor closing soon; one published today is new that week.
    make_opportunity(areas=("Calne",), deadline=date.today() + timedelta(days=40), published_days_ago=0)
    next_week = date.today() + timedelta(days=7)
    assert interests.send_weekly_digests(next_week) == 1
    assert interests.send_weekly_digests(next_week) == 0
    assert len(digests_to(member)) == 2
    weeks = _db.session.scalars(sa.select(DigestSent.week_starting)).all()
    assert sorted(weeks) == [interests.week_starting(date.today()), interests.week_starting(next_week)]


def test_closed_accounts_get_no_digest(db, member):
    add_interests(member, (Theme.SPORT,), ())
    make_opportunity(themes=(Theme.SPORT,), published_days_ago=1)
    member.closed_at = utcnow()
    assert interests.send_weekly_digests() == 0


def test_the_task_commits_and_the_command_runs_it(app, db, member):
    add_interests(member, (Theme.SPORT,), ())
    make_opportunity(themes=(Theme.SPORT,), published_days_ago=1)
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["bids", "send-digest"])
    assert result.exit_code == 0 and "1 funding digest(s) sent." in result.output
    assert send_weekly_digest.run() == 0


def test_beat_runs_the_digest_and_closes_past_deadlines(app, db):
    tasks = {entry["task"] for entry in app.extensions["celery"].conf.beat_schedule.values()}
    assert {
        "foundation.bids.tasks.send_weekly_digest",
        "foundation.bids.tasks.close_due_opportunities",
    } <= tasks
    make_opportunity(deadline=date.today() - timedelta(days=2))
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["bids", "close-due-opportunities"])
    assert result.exit_code == 0 and "1 opportunity closed." in result.output
