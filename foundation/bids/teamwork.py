"""Working on a bid together: tasks with owners and due dates, reminders, and the shared document area.

Tasks are set by the bid's managers (staff and the lead's admins) for someone in the team; the owner or a manager
ticks them off. The owner is reminded 7 days and 1 day before a task is due, and the whole team 14 and 3 days
before the funder's deadline while the bid is still being prepared (each reminder once, foundation/reminders.py).

Documents are private to the team and staff, checked by content and stored outside the static folder like
organisation documents. Whoever uploaded one, or a manager, can remove it while the bid is undecided.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from foundation.bids.bids import accepted, can_manage, in_team
from foundation.bids.models import (
    Bid,
    BidDeadlineReminder,
    BidDocument,
    BidPartner,
    BidStatus,
    BidTask,
    BidTaskReminder,
    FundingOpportunity,
)
from foundation.errors import Conflict, DomainError, NotAllowed, NotFound
from foundation.extensions import db
from foundation.members.documents import refuse_oversize
from foundation.members.models import Membership, User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.reminders import ReminderSchedule, Window
from foundation.types import london_today, utcnow
from foundation.uploads import DOCUMENT_TYPES, remove_stored, store_upload, stored_path

FOLDER = "bid-documents"

TASK_REMINDERS: ReminderSchedule[int] = ReminderSchedule(
    windows=(Window(7, 7), Window(1, 1)), item_id=BidTaskReminder.task_id, key=BidTaskReminder.days_before
)
DEADLINE_REMINDERS: ReminderSchedule[int] = ReminderSchedule(
    windows=(Window(14, 14), Window(3, 3)),
    item_id=BidDeadlineReminder.bid_id,
    key=BidDeadlineReminder.days_before,
)
PREPARING = (BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING, BidStatus.SIGN_OFF)


# --- the team --------------------------------------------------------------------------------------------------


def team(bid: Bid) -> list[User]:
    """Who can own a task: the people of the organisations in the consortium (open accounts), by name."""
    org_ids = [p.organisation_id for p in accepted(bid)]
    if bid.lead_organisation_id is not None:
        org_ids.append(bid.lead_organisation_id)
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id.in_(org_ids), User.closed_at.is_(None))
            .order_by(User.name, User.id)
            .distinct()
        )
    )


def staff() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.is_staff.is_(True), User.closed_at.is_(None))
            .order_by(User.name, User.id)
        )
    )


def owner_choices(bid: Bid) -> list[User]:
    """Everyone a task can be given to: the team, then Foundation staff."""
    people = team(bid)
    seen = {u.id for u in people}
    return people + [u for u in staff() if u.id not in seen]


# --- tasks -----------------------------------------------------------------------------------------------------


def add_task(
    bid: Bid, title: str, owner: User | None, due: date | None, by: User, today: date | None = None
) -> BidTask:
    if not can_manage(by, bid):
        raise NotAllowed("Only the lead organisation's admins and Foundation staff set tasks.")
    if bid.status.finished:
        raise Conflict(f"The bid is {bid.status.label.lower()}: it needs no more tasks.")
    title = " ".join(title.split())
    if not title:
        raise DomainError("Say what needs doing.", field="title")
    if owner is None or owner.id not in {u.id for u in owner_choices(bid)}:
        raise DomainError("Choose someone in the consortium or on the Foundation's staff.", field="owner")
    if due is None:
        raise DomainError("Enter the date it is due.", field="due")
    if due < (today or london_today()):
        raise DomainError("The due date has passed: enter today's date or a later one.", field="due")
    task = BidTask(bid=bid, title=title[:200], owner=owner, due=due, created_by=by)
    db.session.add(task)
    db.session.flush()
    if owner.id != by.id:
        notify(
            owner,
            NotificationKind.GENERAL,
            f"A task for you on the bid {bid.title}: {task.title}",
            "bids/task_assigned",
            link=url_for("bids.bid", bid_id=bid.id, _anchor="tasks"),
            task=task,
            bid=bid,
        )
    return task


def complete_task(task: BidTask, by: User) -> None:
    if task.owner_id != by.id and not can_manage(by, task.bid):
        raise NotAllowed("Only the task's owner or the bid's managers tick it off.")
    if task.done_at is not None:
        raise Conflict("The task is already done.")
    task.done_by, task.done_at = by, utcnow()


def open_tasks_of(user: User) -> list[BidTask]:
    """Tasks this person owns that are not done, soonest first (for their to-do list)."""
    return list(
        db.session.scalars(
            sa.select(BidTask)
            .join(Bid, Bid.id == BidTask.bid_id)
            .where(
                BidTask.owner_id == user.id,
                BidTask.done_at.is_(None),
                Bid.status.in_(PREPARING + (BidStatus.SUBMITTED,)),
            )
            .options(joinedload(BidTask.bid))
            .order_by(BidTask.due, BidTask.id)
        )
    )


def send_task_reminders(today: date | None = None) -> int:
    today = today or london_today()
    due = list(
        db.session.scalars(
            sa.select(BidTask)
            .join(Bid, Bid.id == BidTask.bid_id)
            .where(
                BidTask.done_at.is_(None),
                BidTask.due >= today,
                BidTask.due <= TASK_REMINDERS.horizon(today),
                Bid.status.in_(PREPARING + (BidStatus.SUBMITTED,)),
            )
            .options(joinedload(BidTask.owner), joinedload(BidTask.bid))
            .order_by(BidTask.due, BidTask.id)
        )
    )
    return TASK_REMINDERS.send(due, today, lambda t: t.due, _remind_owner)


def _when(left: int) -> str:
    return "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")


def _remind_owner(task: BidTask, left: int, window: int) -> None:
    notify(
        task.owner,
        NotificationKind.GENERAL,
        f"Due {_when(left)}: {task.title} ({task.bid.title})",
        "bids/task_reminder",
        link=url_for("bids.bid", bid_id=task.bid_id, _anchor="tasks"),
        task=task,
        bid=task.bid,
        when=_when(left),
    )


def send_deadline_reminders(today: date | None = None) -> int:
    today = today or london_today()
    due = list(
        db.session.scalars(
            sa.select(Bid)
            .join(FundingOpportunity, FundingOpportunity.id == Bid.opportunity_id)
            .where(
                Bid.status.in_(PREPARING),
                FundingOpportunity.deadline >= today,
                FundingOpportunity.deadline <= DEADLINE_REMINDERS.horizon(today),
            )
            .options(
                joinedload(Bid.opportunity).joinedload(FundingOpportunity.funder),
                selectinload(Bid.partners).joinedload(BidPartner.organisation),
            )
            .order_by(Bid.id)
        )
    )
    return DEADLINE_REMINDERS.send(due, today, lambda b: b.opportunity.deadline, _remind_team)


def _remind_team(bid: Bid, left: int, window: int) -> None:
    people = {u.id: u for u in team(bid)}
    if bid.lead_organisation_id is None:
        people.update({u.id: u for u in staff()})
    for person in people.values():
        notify(
            person,
            NotificationKind.GENERAL,
            f"The funder's deadline is {_when(left)}: {bid.title}",
            "bids/deadline_reminder",
            link=url_for("bids.bid", bid_id=bid.id),
            bid=bid,
            when=_when(left),
        )


# --- documents -------------------------------------------------------------------------------------------------


def upload(bid: Bid, title: str, file: FileStorage | None, by: User) -> BidDocument:
    """Store a file for the team. A refusal leaves neither a row nor a file behind."""
    if not in_team(by, bid):
        raise NotAllowed("Only the bid's team shares documents on it.")
    if (
        bid.status.finished
        and bid.status is not BidStatus.AWARDED
        and bid.status is not BidStatus.PART_AWARDED
    ):
        raise Conflict(f"The bid is {bid.status.label.lower()}: no more documents can be added.")
    title = " ".join(title.split())
    if not title:
        raise DomainError(
            "Give the document a title, like “Letter of support from the council”.", field="title"
        )
    refuse_oversize(file)
    stored = store_upload(file, DOCUMENT_TYPES, FOLDER, "file")
    doc = BidDocument(
        bid=bid,
        title=title[:200],
        original_filename=stored.original_filename,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by=by,
        uploaded_at=utcnow(),
    )
    try:
        db.session.add(doc)
        db.session.flush()
    except Exception:
        remove_stored(FOLDER, stored.stored_name)
        raise
    return doc


def discard_file(doc: BidDocument) -> None:
    """Remove the stored file of a document whose row was not saved (the transaction rolled back)."""
    remove_stored(FOLDER, doc.stored_name)


def document_for_download(user: User, bid: Bid, doc_id: int) -> tuple[BidDocument, Path]:
    doc = db.session.get(BidDocument, doc_id)
    if doc is None or doc.bid_id != bid.id or not in_team(user, bid):
        raise NotFound("There is no such document.")
    path = stored_path(FOLDER, doc.stored_name)
    if not path.is_file():
        current_app.logger.error("bid document %s: stored file %s is missing", doc.id, doc.stored_name)
        raise NotFound("The file of this document is missing. Please upload it again.")
    return doc, path


def remove_document(doc: BidDocument, by: User) -> str:
    """Delete the document's row; the caller removes the file (returned) once the deletion is committed."""
    if doc.uploaded_by_id != by.id and not can_manage(by, doc.bid):
        raise NotAllowed("Only whoever uploaded it, or the bid's managers, can remove a document.")
    if doc.bid.status.finished:
        raise Conflict(f"The bid is {doc.bid.status.label.lower()}: its documents are kept as they were.")
    db.session.delete(doc)
    return doc.stored_name


def remove_file(stored_name: str) -> None:
    remove_stored(FOLDER, stored_name)
