"""Builders for library data. They flush, never commit: the test decides."""

from __future__ import annotations

import io
import itertools

from werkzeug.datastructures import FileStorage

from foundation.extensions import db
from foundation.library import services
from foundation.library.models import (
    LibraryResource,
    Licence,
    ResourceKind,
    ResourceStatus,
    ResourceTopic,
    ResourceVersion,
    Topic,
    VersionStatus,
)
from foundation.members.models import Organisation, User
from foundation.types import utcnow
from foundation.uploads import simple_pdf, stored_path

_seq = itertools.count(1)


def pdf_upload(title: str = "A guide", filename: str = "guide.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(simple_pdf(title, ["For members."])), filename=filename)


def fake_pdf(filename: str = "policy.pdf") -> FileStorage:
    """A file named and labelled as a PDF that is really a web page."""
    return FileStorage(
        io.BytesIO(b"<html><script>alert(1)</script></html>"),
        filename=filename,
        content_type="application/pdf",
    )


def details(title: str = "Safeguarding policy template", **changes: object) -> services.ResourceDetails:
    values: dict[str, object] = {
        "title": title,
        "summary": "A policy for small clubs.",
        "kind": ResourceKind.POLICY_TEMPLATE,
        "licence": Licence.CC_BY,
        "topics": [Topic.SAFEGUARDING],
        "link": None,
    }
    values.update(changes)
    return services.ResourceDetails(**values)  # type: ignore[arg-type]


def make_resource(
    org: Organisation,
    by: User | None,
    status: ResourceStatus = ResourceStatus.APPROVED,
    title: str | None = None,
    summary: str = "A useful resource for youth groups.",
    topics: tuple[Topic, ...] = (Topic.SAFEGUARDING,),
    kind: ResourceKind = ResourceKind.GUIDE,
    link: str | None = None,
    versions: int = 1,
    write_files: bool = False,
) -> LibraryResource:
    """A resource straight into the database (no notifications), with `versions` approved versions of a PDF
    (unless it is a link)."""
    n = next(_seq)
    resource = LibraryResource(
        organisation_id=org.id,
        submitted_by_id=by.id if by else None,
        title=title or f"Resource {n}",
        summary=summary,
        kind=kind,
        licence=Licence.CC_BY,
        link=link,
        status=status,
        approved_at=utcnow() if status is ResourceStatus.APPROVED else None,
        topic_rows=[ResourceTopic(topic=t) for t in topics],
    )
    db.session.add(resource)
    db.session.flush()
    if link is None:
        for number in range(1, versions + 1):
            stored = f"test-{n}-v{number}.pdf"
            data = simple_pdf(resource.title, [f"Version {number}"])
            db.session.add(
                ResourceVersion(
                    resource_id=resource.id, number=number, note="" if number == 1 else f"Change {number}",
                    status=VersionStatus.APPROVED if status is ResourceStatus.APPROVED else VersionStatus.WAITING,
                    original_filename=f"resource-{n}-v{number}.pdf", stored_name=stored,
                    content_type="application/pdf", size_bytes=len(data), sha256="0" * 64,
                    uploaded_by_id=by.id if by else None,
                )
            )  # fmt: skip
            if write_files:
                path = stored_path(services.FOLDER, stored)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    db.session.flush()
    db.session.expire(resource)
    return resource


def library_world(org: Organisation, admin: User, staff: User) -> dict[str, int]:
    """For the permissions matrix: an approved resource of A's with two versions (their files stored)."""
    resource = make_resource(org, admin, title="A's safeguarding template", versions=2, write_files=True)
    old = min(resource.versions, key=lambda v: v.number)
    return {"resource_id": resource.id, "version_id": old.id}


def grow_library(i: int, org: Organisation, admin: User, other: Organisation) -> None:
    """For the query-count guard: approved resources of A's and another organisation's (two versions, two
    topics), one waiting for review and one rejected."""
    for owner in (org, other):
        make_resource(
            owner, admin, title=f"Growth guide {i}", topics=(Topic.SAFEGUARDING, Topic.DIGITAL), versions=2
        )
    make_resource(org, admin, ResourceStatus.PENDING, title=f"Growth waiting {i}")
    make_resource(org, admin, ResourceStatus.REJECTED, title=f"Growth rejected {i}")
    make_resource(org, admin, title=f"Growth link {i}", link=f"https://example.org/{i}")
