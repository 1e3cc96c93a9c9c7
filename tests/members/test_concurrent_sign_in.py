"""People signing in at the same instant all get in, on SQLite (the embedded default) as on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from foundation.members.models import User
from tests.factories import PASSWORD, make_user
from tests.livesupport import live_server  # noqa: F401  (fixture)
from tests.venues.test_concurrency import Browser, all_at_once


def test_twelve_people_signing_in_at_once_all_get_in(db, live_server):  # noqa: F811
    emails = [make_user(email=f"worker{i}@example.org").email for i in range(12)]
    db.session.commit()
    browsers = [Browser(live_server) for _ in emails]
    jobs = [
        (lambda b=b, e=e: b.post("/login", {"email": e, "password": PASSWORD}))
        for b, e in zip(browsers, emails, strict=True)
    ]
    answers = all_at_once(jobs)
    assert [status for status, _ in answers] == [302] * 12
    db.session.expire_all()
    signed = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.last_login_at.is_not(None)))
    assert signed == 12
