"""The library's rules: who shares, who reads, staff's review, versions, search and download counts.

Who sees what:
- Approved resources are for signed-in people belonging to an organisation in good standing, and for staff.
  Anyone, signed in or not, may see the list of approved titles (title, kind, topics, organisation, summary) so
  the library shows what membership offers; opening a resource, its file or its link needs the sign-in above.
- A resource waiting for review, not approved or withdrawn is seen only by its organisation's people and staff.
- Members of an organisation in good standing share resources for it; its admins change, replace and withdraw
  them; staff approve or reject (with a reason) and may withdraw one. Old versions are for the organisation and
  staff.

Changing the words about a resource (title, summary, kind, topics, licence) takes effect at once. A new file for an
approved resource waits for staff while members keep the last approved version; a resource not yet approved simply
gets its new file. A link cannot be changed once approved: withdraw the resource and share the new link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from foundation.errors import DomainError, IllegalTransition, NotAllowed, NotFound
from foundation.extensions import db
from foundation.library.models import (
    DecisionAction,
    LibraryDecision,
    LibraryResource,
    Licence,
    ResourceKind,
    ResourceStatus,
    ResourceTopic,
    ResourceVersion,
    Topic,
    VersionStatus,
)
from foundation.members.documents import refuse_oversize
from foundation.members.models import Organisation, User
from foundation.members.organisations import good_standing, organisations_for
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify, notify_staff
from foundation.pagination import Page, paginate
from foundation.types import utcnow
from foundation.uploads import DOCUMENT_TYPES, remove_stored, store_upload, stored_path

FOLDER = "library"
RESOURCES_PER_PAGE = 20
MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_LINK = 500
MAX_NOTE = 500
MAX_REASON = 1000

S = ResourceStatus
# The moves a resource's state may make, and nothing else.
TRANSITIONS: dict[DecisionAction, tuple[frozenset[ResourceStatus], ResourceStatus]] = {
    DecisionAction.APPROVE: (frozenset({S.PENDING}), S.APPROVED),
    DecisionAction.REJECT: (frozenset({S.PENDING}), S.REJECTED),
    DecisionAction.WITHDRAW: (frozenset({S.PENDING, S.APPROVED, S.REJECTED}), S.WITHDRAWN),
}


def _move(resource: LibraryResource, action: DecisionAction) -> None:
    allowed, to = TRANSITIONS[action]
    if resource.status not in allowed:
        raise IllegalTransition(
            f"A resource that is {resource.status.label.lower()} cannot be {to.label.lower()}.",
            field="decision",
        )
    resource.status = to


def _lock(resource: LibraryResource) -> None:
    """Hold the resource's row until the commit and read it again, so two people acting at once (two staff
    deciding, two admins uploading) act one after the other on what the first left (PostgreSQL; SQLite lets one
    writer in at a time anyway)."""
    db.session.execute(
        sa.select(LibraryResource.id).where(LibraryResource.id == resource.id).with_for_update()
    )
    db.session.refresh(resource)
    db.session.refresh(resource, attribute_names=["versions"])


# --- who may do what -----------------------------------------------------------------------------------------


def reading_organisations(user: Any) -> list[Organisation]:
    """The person's organisations in good standing: membership of one opens the library and lets them share."""
    if not user.is_authenticated:
        return []
    return [o for o in organisations_for(user) if good_standing(o).ok]


def can_read(user: Any) -> bool:
    """Staff, and people belonging to an organisation in good standing."""
    return bool(user.is_authenticated and (user.is_staff or reading_organisations(user)))


def is_owner(user: Any, resource: LibraryResource) -> bool:
    """A person of the resource's organisation (any role)."""
    return bool(user.is_authenticated and user.membership_of(resource.organisation_id) is not None)


def can_manage(user: Any, resource: LibraryResource) -> bool:
    """The resource's organisation's admins change, replace and withdraw it."""
    return bool(user.is_authenticated and user.is_admin_of(resource.organisation_id))


def can_see(user: Any, resource: LibraryResource, reader: bool) -> bool:
    """`reader`: can_read(user), worked out once by the caller."""
    if user.is_authenticated and (user.is_staff or is_owner(user, resource)):
        return True
    return resource.status is S.APPROVED and reader


def can_see_old_versions(user: Any, resource: LibraryResource) -> bool:
    return bool(user.is_authenticated and (user.is_staff or is_owner(user, resource)))


# --- details -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceDetails:
    title: str
    summary: str
    kind: ResourceKind
    licence: Licence
    topics: Sequence[Topic] = field(default_factory=list)
    link: str | None = None


def checked_https_link(value: str | None, field_name: str = "link") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme != "https" or "." not in host or parts.username or parts.password or " " in text:
        raise DomainError(
            "Enter a web address starting https://, like https://www.example.org.uk/guide", field=field_name
        )
    if len(text) > MAX_LINK:
        raise DomainError(f"The web address must be {MAX_LINK} characters or fewer.", field=field_name)
    return text


def _check(details: ResourceDetails) -> tuple[str, str]:
    title = " ".join(details.title.split())
    summary = details.summary.strip()
    if not title:
        raise DomainError("Enter a title.", field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"The title must be {MAX_TITLE} characters or fewer.", field="title")
    if not summary:
        raise DomainError("Say in a sentence or two what the resource is and who it helps.", field="summary")
    if len(summary) > MAX_SUMMARY:
        raise DomainError(f"The summary must be {MAX_SUMMARY} characters or fewer.", field="summary")
    if not details.topics:
        raise DomainError("Choose at least one topic.", field="topics")
    return title, summary


def _fill(resource: LibraryResource, details: ResourceDetails, title: str, summary: str) -> None:
    resource.title = title
    resource.summary = summary
    resource.kind = details.kind
    resource.licence = details.licence
    chosen = sorted(set(details.topics), key=lambda t: t.value)
    if [r.topic for r in resource.topic_rows] != chosen:
        resource.topic_rows = [ResourceTopic(topic=t) for t in chosen]


# --- sharing -------------------------------------------------------------------------------------------------


def submit(
    details: ResourceDetails, upload: FileStorage | None, by: User, organisation: Organisation
) -> LibraryResource:
    """A member shares a resource for their organisation: a file or an https link, never both. It waits for staff.

    Every check comes before the file is written; a failure after writing removes the file again, so a refusal
    leaves neither a row nor a file behind.
    """
    if by.membership_of(organisation.id) is None:
        raise NotAllowed("Share a resource for one of your own organisations.", field="organisation")
    standing = good_standing(organisation)
    if not standing.ok:
        raise NotAllowed(
            f"{organisation.name} is not in good standing, so cannot share resources: "
            + " ".join(standing.reasons),
            field="organisation",
        )
    title, summary = _check(details)
    has_file = upload is not None and bool(upload.filename)
    link = checked_https_link(details.link)
    if has_file and link:
        raise DomainError("Upload a file or give a link, not both.", field="file")
    if not has_file and not link:
        raise DomainError("Upload the file, or give a link to the resource.", field="file")
    resource = LibraryResource(organisation=organisation, submitted_by=by, status=S.PENDING, link=link)
    _fill(resource, details, title, summary)
    db.session.add(resource)
    if has_file:
        _add_version(resource, upload, by, note="", status=VersionStatus.WAITING)
    else:
        db.session.flush()
    _tell_staff(resource, organisation, by, replaced=False)
    return resource


def _add_version(
    resource: LibraryResource, upload: FileStorage | None, by: User, note: str, status: VersionStatus
) -> ResourceVersion:
    # Checked exactly as organisation documents are: by content, within the same size limit.
    refuse_oversize(upload)
    stored = store_upload(upload, DOCUMENT_TYPES, FOLDER, "file")
    number = max((v.number for v in resource.versions), default=0) + 1  # the row is locked (see _lock)
    version = ResourceVersion(
        number=number,
        note=note,
        status=status,
        original_filename=stored.original_filename,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by=by,
        uploaded_at=utcnow(),
    )
    resource.versions.insert(0, version)
    try:
        db.session.flush()
    except Exception:
        remove_stored(FOLDER, stored.stored_name)
        raise
    return version


def _tell_staff(resource: LibraryResource, organisation: Organisation, by: User, replaced: bool) -> None:
    what = "New file for a library resource" if replaced else "Library resource shared"
    notify_staff(
        NotificationKind.STAFF_QUEUE,
        f"{what}: {resource.title}"[:200],
        "library/staff_review",
        link=url_for("library.review", resource_id=resource.id),
        resource=resource,
        organisation=organisation,
        by=by,
        replaced=replaced,
    )


def update_details(resource: LibraryResource, details: ResourceDetails, by: User) -> None:
    """The organisation's admins change the words about a resource. A rejected one goes back to staff."""
    if not can_manage(by, resource):
        raise NotAllowed("Only the admins of the organisation that shared it can change a resource.")
    if resource.status is S.WITHDRAWN:
        raise IllegalTransition("A withdrawn resource cannot be changed.")
    title, summary = _check(details)
    if resource.is_link:
        link = checked_https_link(details.link)
        if link is None:
            raise DomainError("Give the link to the resource.", field="link")
        if link != resource.link and resource.status is S.APPROVED:
            raise DomainError(
                "The link of an approved resource cannot be changed: withdraw it and share the new link.",
                field="link",
            )
        resource.link = link
    _fill(resource, details, title, summary)
    resource.updated_at = utcnow()
    if resource.status is S.REJECTED:
        resource.status = S.PENDING
        db.session.flush()
        _tell_staff(resource, resource.organisation, by, replaced=False)


def replace_file(
    resource: LibraryResource, upload: FileStorage | None, note: str, by: User
) -> ResourceVersion:
    """A new version of a resource's file; older versions are kept. For an approved resource it waits for staff."""
    if not can_manage(by, resource):
        raise NotAllowed("Only the admins of the organisation that shared it can replace its file.")
    _lock(resource)
    if resource.is_link:
        raise DomainError("This resource is a link: it has no file to replace.", field="file")
    if resource.status is S.WITHDRAWN:
        raise IllegalTransition("A withdrawn resource cannot be changed.", field="file")
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise DomainError(f"Say what changed in {MAX_NOTE} characters or fewer.", field="note")
    version = _add_version(resource, upload, by, note=note, status=VersionStatus.WAITING)
    resource.updated_at = utcnow()
    if resource.status is S.REJECTED:
        resource.status = S.PENDING
    _tell_staff(resource, resource.organisation, by, replaced=True)
    return version


def withdraw(resource: LibraryResource, by: User) -> None:
    if not (by.is_staff or can_manage(by, resource)):
        raise NotAllowed("Only the organisation's admins or Foundation staff can withdraw a resource.")
    _lock(resource)
    _move(resource, DecisionAction.WITHDRAW)
    resource.updated_at = utcnow()
    resource.decisions.insert(0, LibraryDecision(action=DecisionAction.WITHDRAW, decided_by=by))


# --- review --------------------------------------------------------------------------------------------------


def needs_review(resource: LibraryResource) -> bool:
    return resource.status is S.PENDING or (resource.status is S.APPROVED and bool(resource.waiting_versions))


def approve(resource: LibraryResource, by: User) -> None:
    """Staff approve a waiting resource, or the new file of an approved one; the person who shared it is told."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff approve library resources.")
    _lock(resource)
    waiting = resource.waiting_versions
    now = utcnow()
    if resource.status is S.APPROVED and waiting:
        for version in waiting:
            version.status = VersionStatus.APPROVED
        subject = f"New version approved: {resource.title}"
        version_id: int | None = waiting[0].id
    else:
        _move(resource, DecisionAction.APPROVE)
        for version in waiting:
            version.status = VersionStatus.APPROVED
        resource.approved_at = resource.approved_at or now
        subject = f"Approved for the library: {resource.title}"
        version_id = None
    resource.decisions.insert(
        0,
        LibraryDecision(
            version_id=version_id,
            action=DecisionAction.APPROVE,
            decided_by=by,
            decided_at=now,
        ),
    )
    _tell_submitter(resource, subject, "library/approved", reason=None)


def reject(resource: LibraryResource, by: User, reason: str) -> None:
    """Staff turn down a waiting resource (or the new file of an approved one, which keeps its last approved
    version), saying why; the person who shared it is told."""
    if not by.is_staff:
        raise NotAllowed("Only Foundation staff decide on library resources.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why, so the member knows what to change.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason to {MAX_REASON} characters or fewer.", field="reason")
    _lock(resource)
    waiting = resource.waiting_versions
    if resource.status is S.APPROVED and waiting:
        for version in waiting:
            version.status = VersionStatus.REJECTED
        subject = f"New version not approved: {resource.title}"
        version_id: int | None = waiting[0].id
    else:
        _move(resource, DecisionAction.REJECT)
        for version in waiting:
            version.status = VersionStatus.REJECTED
        subject = f"Not approved for the library: {resource.title}"
        version_id = None
    resource.decisions.insert(
        0,
        LibraryDecision(
            version_id=version_id,
            action=DecisionAction.REJECT,
            reason=reason,
            decided_by=by,
        ),
    )
    _tell_submitter(resource, subject, "library/rejected", reason=reason)


def _tell_submitter(resource: LibraryResource, subject: str, template: str, reason: str | None) -> None:
    if resource.submitted_by is None:
        return
    notify(
        resource.submitted_by,
        NotificationKind.GENERAL,
        subject[:200],
        template,
        link=url_for("library.resource", resource_id=resource.id),
        resource=resource,
        reason=reason,
    )


def review_queue() -> list[LibraryResource]:
    """Resources waiting for staff, and approved ones with a new file waiting, oldest first."""
    return list(
        db.session.scalars(
            sa.select(LibraryResource)
            .where(waiting_clause())
            .order_by(
                sa.func.coalesce(LibraryResource.updated_at, LibraryResource.created_at), LibraryResource.id
            )
            .options(*_list_options())
        )
    )


# --- reading -------------------------------------------------------------------------------------------------


def _list_options() -> list[Any]:
    return [
        joinedload(LibraryResource.organisation),
        selectinload(LibraryResource.topic_rows),
    ]


def load(resource_id: int) -> LibraryResource | None:
    return db.session.get(
        LibraryResource,
        resource_id,
        options=[
            *_list_options(),
            joinedload(LibraryResource.submitted_by),
            selectinload(LibraryResource.versions).joinedload(ResourceVersion.uploaded_by),
            selectinload(LibraryResource.decisions).joinedload(LibraryDecision.decided_by),
        ],
    )


@dataclass(frozen=True)
class LibraryFilter:
    text: str = ""
    topic: Topic | None = None
    kind: ResourceKind | None = None


def _matching(chosen: LibraryFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    words = chosen.text.split()
    for word in words[:10]:
        needle = word.lower()
        where.append(
            sa.or_(
                sa.func.lower(LibraryResource.title).contains(needle, autoescape=True),
                sa.func.lower(LibraryResource.summary).contains(needle, autoescape=True),
            )
        )
    if chosen.topic is not None:
        where.append(
            sa.select(ResourceTopic.resource_id)
            .where(ResourceTopic.resource_id == LibraryResource.id, ResourceTopic.topic == chosen.topic)
            .exists()
        )
    if chosen.kind is not None:
        where.append(LibraryResource.kind == chosen.kind)
    return where


def search(page: int, chosen: LibraryFilter) -> Page[LibraryResource]:
    """Approved resources matching every word (in the title or summary, any case), the topic and the kind,
    newest first, a page at a time."""
    stmt = (
        sa.select(LibraryResource)
        .where(LibraryResource.status == S.APPROVED, *_matching(chosen))
        .order_by(LibraryResource.approved_at.desc(), LibraryResource.id.desc())
        .options(*_list_options())
    )
    return paginate(stmt, page, RESOURCES_PER_PAGE)


def of_organisations(org_ids: list[int], page: int) -> Page[LibraryResource]:
    """Every resource the organisations shared, in any state, newest first."""
    stmt = (
        sa.select(LibraryResource)
        .where(LibraryResource.organisation_id.in_(org_ids or [-1]))
        .order_by(LibraryResource.created_at.desc(), LibraryResource.id.desc())
        .options(*_list_options())
    )
    return paginate(stmt, page, RESOURCES_PER_PAGE)


def count_download(resource_id: int) -> None:
    """One more download, counted in the database in one statement, so concurrent downloads are all counted."""
    db.session.execute(
        sa.update(LibraryResource)
        .where(LibraryResource.id == resource_id)
        .values(download_count=LibraryResource.download_count + 1)
        .execution_options(synchronize_session=False)
    )


def version_file(resource: LibraryResource, version: ResourceVersion) -> Any:
    """The stored file of a version, or NotFound when it has gone missing."""
    path = stored_path(FOLDER, version.stored_name)
    if not path.is_file():
        raise NotFound("The file of this resource is missing. Please tell Foundation staff.")
    return path


def waiting_clause() -> sa.ColumnElement[bool]:
    """A resource waits for staff: new, or approved with a new version not yet checked."""
    new_version = (
        sa.select(ResourceVersion.id)
        .where(
            ResourceVersion.resource_id == LibraryResource.id, ResourceVersion.status == VersionStatus.WAITING
        )
        .exists()
    )
    return sa.or_(
        LibraryResource.status == S.PENDING, sa.and_(LibraryResource.status == S.APPROVED, new_version)
    )


def waiting_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count(LibraryResource.id)).where(waiting_clause())) or 0)
