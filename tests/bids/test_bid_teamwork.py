"""Working on a bid together: tasks, their reminders and the funder's deadline, the shared documents."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from werkzeug.datastructures import FileStorage

from foundation.bids import bids, teamwork
from foundation.bids.bids import Step
from foundation.bids.models import BidDeadlineReminder, BidDocument, BidTaskReminder
from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.extensions import db
from foundation.notifications.models import Notification
from foundation.uploads import stored_path
from tests.bids.factories import make_bid, make_opportunity
from tests.factories import make_org, make_user

pytestmark = pytest.mark.usefixtures("request_context")

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TODAY = date(2027, 3, 1)


def _messages(user) -> list[str]:
    return [
        n.subject
        for n in db.session.scalars(
            db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def _pdf(name: str = "letter.pdf", data: bytes = PDF) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


# --- tasks -----------------------------------------------------------------------------------------------------


def test_a_manager_gives_a_task_to_someone_in_the_team(member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    task = teamwork.add_task(
        bid, " Collect  letters of support ", partner_admin, TODAY + timedelta(days=10), member, TODAY
    )
    assert (task.title, task.owner, task.due) == (
        "Collect letters of support",
        partner_admin,
        date(2027, 3, 11),
    )
    assert (
        _messages(partner_admin)[-1] == f"A task for you on the bid {bid.title}: Collect letters of support"
    )
    owners = {u.name for u in teamwork.owner_choices(bid)}
    assert {"Mia Member", "Pat Partner"} <= owners


def test_a_task_is_refused_with_the_field_at_fault(member, org, partner_admin, staff):
    bid = make_bid(member, org)
    outsider = make_user(name="Otto")
    cases = [
        (("  ", member, TODAY), "title"),
        (("Submit", outsider, TODAY), "owner"),  # not in the consortium nor staff
        (("Submit", partner_admin, TODAY), "owner"),  # invited nowhere yet
        (("Submit", member, None), "due"),
        (("Submit", member, TODAY - timedelta(days=1)), "due"),
    ]
    for (title, owner, due), field in cases:
        with pytest.raises(DomainError) as refused:
            teamwork.add_task(bid, title, owner, due, member, TODAY)
        assert refused.value.field == field
    teamwork.add_task(bid, "Trustees' sign-off", staff, TODAY, member, TODAY)  # staff can own tasks
    with pytest.raises(NotAllowed):
        teamwork.add_task(bid, "Mine", partner_admin, TODAY, partner_admin, TODAY)


def test_the_owner_or_a_manager_ticks_a_task_off_once(member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    task = teamwork.add_task(bid, "Draft the case", member, TODAY, member, TODAY)
    with pytest.raises(NotAllowed):
        teamwork.complete_task(task, partner_admin)
    teamwork.complete_task(task, member)
    assert task.done_by == member and task.done_at is not None
    with pytest.raises(Conflict, match="already done"):
        teamwork.complete_task(task, member)


def test_task_reminders_go_a_week_and_a_day_before_each_once(member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    teamwork.add_task(bid, "Budget", partner_admin, TODAY + timedelta(days=10), member, TODAY)
    done = teamwork.add_task(bid, "Done already", partner_admin, TODAY + timedelta(days=2), member, TODAY)
    teamwork.complete_task(done, partner_admin)
    before = len(_messages(partner_admin))
    assert teamwork.send_task_reminders(TODAY) == 0  # 10 days out: no window open
    assert teamwork.send_task_reminders(TODAY + timedelta(days=3)) == 1  # 7 days left
    assert teamwork.send_task_reminders(TODAY + timedelta(days=4)) == 0  # already sent
    assert teamwork.send_task_reminders(TODAY + timedelta(days=9)) == 1  # 1 day left
    assert teamwork.send_task_reminders(TODAY + timedelta(days=9)) == 0
    assert _messages(partner_admin)[before:] == [
        f"Due in 7 days: Budget ({bid.title})",
        f"Due tomorrow: Budget ({bid.title})",
    ]
    assert db.session.scalar(db.select(db.func.count(BidTaskReminder.id))) == 2


def test_the_team_is_reminded_of_the_funders_deadline_while_preparing(
    member, org, partner_org, partner_admin
):
    opportunity = make_opportunity(deadline=TODAY + timedelta(days=20))
    bid = make_bid(member, org, opportunity=opportunity, partners=(partner_org,))
    quiet = make_bid(member, org, opportunity=opportunity, partners=(partner_org,))
    bids.step(quiet, Step.WITHDRAW, member, note="Another bid instead.")
    assert teamwork.send_deadline_reminders(TODAY) == 0
    assert (
        teamwork.send_deadline_reminders(TODAY + timedelta(days=7)) == 1
    )  # 13 days left; the withdrawn bid: none
    assert teamwork.send_deadline_reminders(TODAY + timedelta(days=8)) == 0
    assert teamwork.send_deadline_reminders(TODAY + timedelta(days=18)) == 1  # 2 days left
    subject = f"The funder's deadline is in 13 days: {bid.title}"
    assert subject in _messages(member) and subject in _messages(partner_admin)
    assert db.session.scalar(db.select(db.func.count(BidDeadlineReminder.id))) == 2


# --- documents -------------------------------------------------------------------------------------------------


def test_the_team_shares_documents_and_only_the_team_reads_them(app, member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    doc = teamwork.upload(bid, " Letter from the council ", _pdf(), partner_admin)
    db.session.commit()
    assert doc.title == "Letter from the council" and doc.content_type == "application/pdf"
    found, path = teamwork.document_for_download(member, bid, doc.id)
    assert found == doc and path.read_bytes() == PDF
    outsider = make_org(admin=make_user(name="Otto")).memberships[0].user
    with pytest.raises(NotFound):
        teamwork.document_for_download(outsider, bid, doc.id)
    with pytest.raises(NotAllowed):
        teamwork.upload(bid, "Mine", _pdf(), outsider)


def test_a_file_that_is_not_a_document_leaves_nothing_behind(app, member, org):
    bid = make_bid(member, org)
    with pytest.raises(DomainError) as refused:
        teamwork.upload(bid, "Script", _pdf("evil.pdf", b"<script>alert(1)</script>"), member)
    assert refused.value.field == "file"
    with pytest.raises(DomainError, match="Give the document a title") as untitled:
        teamwork.upload(bid, " ", _pdf(), member)
    assert untitled.value.field == "title"
    assert db.session.scalar(db.select(db.func.count(BidDocument.id))) == 0
    folder = stored_path(teamwork.FOLDER, "x").parent
    assert not folder.exists() or list(folder.iterdir()) == []


def test_whoever_uploaded_or_a_manager_removes_a_document(app, member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    mine = teamwork.upload(bid, "Minute", _pdf(), member)
    db.session.commit()
    with pytest.raises(NotAllowed):
        teamwork.remove_document(mine, partner_admin)
    stored = teamwork.remove_document(mine, member)
    db.session.commit()
    teamwork.remove_file(stored)
    assert db.session.get(BidDocument, mine.id) is None and not stored_path(teamwork.FOLDER, stored).exists()
