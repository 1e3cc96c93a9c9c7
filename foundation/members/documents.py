"""Organisation documents: uploading, downloading, and reminders before they expire.

A safeguarding policy carries its next review date and an insurance certificate its expiry date
(`valid_until`); a governing document has no date. The newest document of a kind is the current one, and
only the current one counts for good standing and gets reminders.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage

from foundation.errors import DomainError, NotAllowed, NotFound
from foundation.extensions import db
from foundation.members.models import (
    DocumentKind,
    DocumentReminder,
    Organisation,
    OrganisationDocument,
    OrganisationStatus,
    User,
)
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.reminders import ReminderSchedule, Window
from foundation.types import london_today, utcnow
from foundation.uploads import DOCUMENT_TYPES, remove_stored, store_upload, stored_path

FOLDER = "documents"
DATED_KINDS = frozenset({DocumentKind.SAFEGUARDING_POLICY, DocumentKind.INSURANCE})
# Days before valid_until at which the organisation's admins are reminded, widest first.
REMINDER_DAYS = (30, 7)
REMINDERS = ReminderSchedule(
    windows=tuple(Window(days, days) for days in REMINDER_DAYS),
    item_id=DocumentReminder.document_id,
    key=DocumentReminder.days_before,
)


class FileTooLarge(DomainError):
    status_code = 413


def expiry_phrase(kind: DocumentKind) -> str:
    """What happens on a document's date: "is due for review" or "expires"."""
    return "is due for review" if kind is DocumentKind.SAFEGUARDING_POLICY else "expires"


def days_left(doc: OrganisationDocument, today: date | None = None) -> int | None:
    if doc.valid_until is None:
        return None
    return (doc.valid_until - (today or london_today())).days


# --- uploading ------------------------------------------------------------------------------------------


def upload_document(
    org: Organisation,
    user: User,
    kind: DocumentKind,
    upload: FileStorage | None,
    valid_until: date | None,
    today: date | None = None,
) -> OrganisationDocument:
    """Store a new document of `kind` for `org`; it becomes the current one and older ones stay as history.

    The date is checked before the file is written, and a failure after writing removes the file again, so a
    refusal leaves neither a row nor a file behind.
    """
    if not user.is_admin_of(org.id):
        raise NotAllowed("Only the organisation's admins can upload its documents.")
    today = today or london_today()
    if kind in DATED_KINDS:
        label = (kind.date_label or "date").lower()
        if valid_until is None:
            raise DomainError(f"Enter the {label} of the {kind.label.lower()}.", field="valid_until")
        if valid_until < today:
            raise DomainError(
                f"The {label} is in the past. Upload the current {kind.label.lower()}.", field="valid_until"
            )
    else:
        valid_until = None  # a governing document does not expire
    refuse_oversize(upload)
    stored = store_upload(upload, DOCUMENT_TYPES, FOLDER, "file")
    doc = OrganisationDocument(
        organisation=org,
        kind=kind,
        original_filename=stored.original_filename,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        valid_until=valid_until,
        uploaded_by=user,
        uploaded_at=utcnow(),
    )
    try:
        db.session.add(doc)
        db.session.flush()
    except Exception:
        remove_stored(FOLDER, stored.stored_name)
        raise
    return doc


def discard_file(doc: OrganisationDocument) -> None:
    """Remove the stored file of a document whose row was not saved (the transaction rolled back)."""
    remove_stored(FOLDER, doc.stored_name)


def refuse_oversize(upload: FileStorage | None) -> None:
    # store_upload refuses an oversize file too, but as a 422; a file over the limit deserves a 413, the same
    # answer as a request body over MAX_CONTENT_LENGTH.
    if upload is None or not upload.filename:
        return
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    size = _stream_size(upload)
    if size is not None and size > limit:
        raise FileTooLarge(f"The file is larger than the {limit // (1024 * 1024)} MB limit.", field="file")


def _stream_size(upload: FileStorage) -> int | None:
    stream = upload.stream
    try:
        start = stream.tell()
        stream.seek(0, os.SEEK_END)
        end = stream.tell()
        stream.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return end - start


# --- downloading ----------------------------------------------------------------------------------------


def can_download(user: User, org: Organisation) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.membership_of(org.id) is not None))


def document_for_download(user: User, org: Organisation, doc_id: int) -> tuple[OrganisationDocument, Path]:
    """The document and its file, for the organisation's members and foundation staff; anyone else, or a
    document of another organisation, gets NotFound so its existence is not revealed."""
    if not can_download(user, org):
        raise NotFound("There is no such document.")
    doc = db.session.get(OrganisationDocument, doc_id)
    if doc is None or doc.organisation_id != org.id:
        raise NotFound("There is no such document.")
    path = stored_path(FOLDER, doc.stored_name)
    if not path.is_file():
        current_app.logger.error("document %s: stored file %s is missing", doc.id, doc.stored_name)
        raise NotFound("The file of this document is missing. Please upload it again.")
    return doc, path


# --- reminders ------------------------------------------------------------------------------------------


def due_for_reminder(today: date) -> list[OrganisationDocument]:
    """Current dated documents whose date is between today and the widest reminder window."""
    newer = aliased(OrganisationDocument)
    newer_exists = (
        sa.select(newer.id)
        .where(
            newer.organisation_id == OrganisationDocument.organisation_id,
            newer.kind == OrganisationDocument.kind,
            sa.or_(
                newer.uploaded_at > OrganisationDocument.uploaded_at,
                sa.and_(
                    newer.uploaded_at == OrganisationDocument.uploaded_at, newer.id > OrganisationDocument.id
                ),
            ),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(OrganisationDocument)
            .join(Organisation, Organisation.id == OrganisationDocument.organisation_id)
            .where(
                OrganisationDocument.kind.in_(DATED_KINDS),
                OrganisationDocument.valid_until >= today,
                OrganisationDocument.valid_until <= REMINDERS.horizon(today),
                Organisation.status != OrganisationStatus.REJECTED,
                ~newer_exists,
            )
            .order_by(OrganisationDocument.valid_until, OrganisationDocument.id)
        )
    )


def send_document_reminders(today: date | None = None) -> int:
    """Remind the admins of each organisation 30 and 7 days before a current document's date; return the
    number of reminders sent.

    Each (document, window) goes once, whatever the number of runs: a DocumentReminder row claims it, and of
    two concurrent runs the unique constraint lets one through. A run that comes late still sends a reminder
    while the date is not past; when several windows are due at once (say the 30-day one was missed and 5
    days are left) one message goes, with the nearest window, and every due window is marked as sent.
    Needs a request context for the links (the task and the command provide one).
    """
    today = today or london_today()
    return REMINDERS.send(due_for_reminder(today), today, lambda doc: doc.valid_until, _remind_admins)


def _remind_admins(doc: OrganisationDocument, left: int, window: int) -> None:
    org = doc.organisation
    when = "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")
    subject = f"Your {doc.kind.label.lower()} {expiry_phrase(doc.kind)} {when}: {org.name}"[:200]
    link = url_for("members.organisation", org_id=org.id, _anchor="documents")
    for admin in org.admins():
        notify(
            admin,
            NotificationKind.DOCUMENT_EXPIRY,
            subject,
            "document_reminder",
            link=link,
            org=org,
            doc=doc,
            document_kind=doc.kind,
            phrase=expiry_phrase(doc.kind),
            when=when,
            days_left=left,
            window=window,
        )
