"""A round's review deadline: set by staff, shown to the panel, and reminded a week, two days and on the day before
it, each reminder once, only about reviews still to do."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation.grants import reviews
from foundation.grants.models import ApplicationStatus, ReviewAssignment, RoundStatus
from foundation.notifications.models import Notification
from foundation.types import london_today, utcnow
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application, make_review, make_round

pytestmark = pytest.mark.usefixtures("request_context")


def messages_to(db, user) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


@pytest.fixture
def reviewers(db):
    return make_user(name="Ann Panel", panel=True), make_user(name="Ben Panel", panel=True)


def test_reminders_go_a_week_two_days_and_on_the_day_each_once(db, round_, staff, reviewers):
    ann, ben = reviewers
    deadline = date(2026, 12, 20)
    round_.review_deadline = deadline
    first = make_application(round_, make_org(), title="Art Bus")
    second = make_application(round_, make_org(), title="Surf Club")
    reviews.assign(first, ann, staff, notify_reviewer=False)
    reviews.assign(second, ann, staff, notify_reviewer=False)
    make_review(first, ben, {c.name: 3 for c in round_.criteria}, by=staff)  # Ben is done
    db.session.commit()

    assert reviews.send_deadline_reminders(deadline - timedelta(days=8)) == 0
    assert reviews.send_deadline_reminders(deadline - timedelta(days=7)) == 1
    assert reviews.send_deadline_reminders(deadline - timedelta(days=6)) == 0  # the week's reminder went
    [week] = messages_to(db, ann)
    assert week.subject == f"Reviews due in 7 days: 2 to finish in {round_.name}"
    assert "Art Bus" in week.body_text and "Surf Club" in week.body_text
    assert "They are due by the end of Sunday 20 December 2026." in week.body_text
    assert messages_to(db, ben) == []

    # Ann declares a conflict on one; two days before, only the other is left.
    ann_first = next(a for a in first.assignments if a.reviewer_id == ann.id)
    reviews.declare(ann_first, ann, has_conflict=True, reason="I chair their board")
    db.session.commit()
    assert reviews.send_deadline_reminders(deadline - timedelta(days=2)) == 1
    assert reviews.send_deadline_reminders(deadline - timedelta(days=2)) == 0
    two_days = messages_to(db, ann)[-1]
    assert two_days.subject == f"Reviews due in 2 days: 1 to finish in {round_.name}"
    assert "Surf Club" in two_days.body_text and "Art Bus" not in two_days.body_text

    assert reviews.send_deadline_reminders(deadline) == 1
    assert messages_to(db, ann)[-1].subject.startswith("Reviews due today")
    assert reviews.send_deadline_reminders(deadline + timedelta(days=1)) == 0, "nothing after the deadline"
    assert len(messages_to(db, ann)) == 3


def test_a_late_sweep_sends_one_reminder_for_the_windows_it_missed(db, round_, staff, reviewers):
    ann, _ = reviewers
    deadline = date(2026, 12, 20)
    round_.review_deadline = deadline
    reviews.assign(make_application(round_, make_org()), ann, staff, notify_reviewer=False)
    db.session.commit()

    assert reviews.send_deadline_reminders(deadline - timedelta(days=1)) == 1
    assert reviews.send_deadline_reminders(deadline - timedelta(days=1)) == 0
    assert len(messages_to(db, ann)) == 1


def test_no_reminders_without_a_deadline_or_once_the_round_is_decided(db, staff, reviewers):
    ann, _ = reviewers
    undated = make_round(status=RoundStatus.IN_REVIEW)
    decided = make_round(status=RoundStatus.DECIDED)
    decided.review_deadline = london_today()
    reviews.assign(make_application(undated, make_org()), ann, staff, notify_reviewer=False)
    decided_app = make_application(decided, make_org(), status=ApplicationStatus.SUBMITTED)
    db.session.add(ReviewAssignment(application_id=decided_app.id, reviewer_id=ann.id))
    db.session.commit()

    assert reviews.send_deadline_reminders(london_today()) == 0


def test_staff_set_the_deadline_on_a_round_in_review(client, db, round_, staff):
    round_.closes_at = utcnow() - timedelta(days=3)
    db.session.commit()
    login(client, staff)
    page = client.get(f"/staff/grants/rounds/{round_.id}").get_data(as_text=True)
    assert "No deadline set" in page and "Save the review deadline" in page
    path = f"/staff/grants/rounds/{round_.id}/review-deadline"

    past = client.post(path, data={"deadline-review_deadline": "2020-01-01"})
    assert past.status_code == 422
    assert "The review deadline cannot be in the past." in past.get_data(as_text=True)
    early = client.post(path, data={"deadline-review_deadline": str(london_today() + timedelta(days=400))})
    assert early.status_code == 303, "any day after the round closed will do"

    when = london_today() + timedelta(days=10)
    resp = client.post(path, data={"deadline-review_deadline": when.isoformat()})
    assert resp.status_code == 303
    db.session.expire_all()
    assert round_.review_deadline == when
    shown = client.get(f"/staff/grants/rounds/{round_.id}").get_data(as_text=True)
    assert f"{when:%-d %b %Y}" in shown


def test_a_deadline_before_the_round_closes_is_refused_at_its_field(client, db, staff):
    db.session.commit()
    login(client, staff)
    closes = london_today() + timedelta(days=30)
    form = {
        "name": "Spring seed grants", "code": "SP27", "description": "Small grants.",
        "opens_at": f"{london_today() + timedelta(days=1)}T09:00", "closes_at": f"{closes}T17:00",
        "min_award": "500", "max_award": "5000", "review_deadline": str(closes - timedelta(days=1)),
    }  # fmt: skip

    resp = client.post("/staff/grants/rounds/new", data=form)

    assert resp.status_code == 422
    assert "Reviews can only be due on or after the day the round closes." in resp.get_data(as_text=True)
    form["review_deadline"] = str(closes + timedelta(days=14))
    assert client.post("/staff/grants/rounds/new", data=form).status_code in (302, 303)


def test_the_panel_sees_the_deadline_on_its_reviews_and_dashboard(client, db, round_, staff, reviewers):
    ann, _ = reviewers
    round_.review_deadline = london_today() + timedelta(days=2)
    reviews.assign(make_application(round_, make_org(), title="Art Bus"), ann, staff, notify_reviewer=False)
    db.session.commit()
    login(client, ann)
    due = f"due by {round_.review_deadline:%-d %b %Y}"

    assert due in client.get("/panel").get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert due in dashboard and 'class="urgent"' in dashboard
