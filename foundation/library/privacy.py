"""What the library holds about a person: the resources they shared, the files they uploaded, and the decisions
they took (as staff, or withdrawing their organisation's resource). The resources are their organisations', so
closing an account keeps them; the person's name is shown as a former user's from then on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.library.models import LibraryDecision, LibraryResource, ResourceVersion
from foundation.members.models import User
from foundation.privacy import export_section, plain


@export_section(
    "library",
    covers=(
        "library_resource.submitted_by_id",
        "library_resource_version.uploaded_by_id",
        "library_decision.decided_by_id",
    ),
)
def _library(user: User) -> dict[str, Any]:
    shared = db.session.scalars(
        sa.select(LibraryResource)
        .where(LibraryResource.submitted_by_id == user.id)
        .order_by(LibraryResource.id)
    )
    uploaded = db.session.scalars(
        sa.select(ResourceVersion)
        .where(ResourceVersion.uploaded_by_id == user.id)
        .order_by(ResourceVersion.id)
    )
    decided = db.session.scalars(
        sa.select(LibraryDecision)
        .where(LibraryDecision.decided_by_id == user.id)
        .order_by(LibraryDecision.id)
    )
    return {
        "resources_shared": [
            {
                "resource_id": r.id,
                "organisation_id": r.organisation_id,
                "title": r.title,
                "status": r.status.value,
                "shared_at": plain(r.created_at),
            }
            for r in shared
        ],
        "files_uploaded": [
            {
                "resource_id": v.resource_id,
                "version": v.number,
                "file": v.original_filename,
                "note": v.note,
                "at": plain(v.uploaded_at),
            }
            for v in uploaded
        ],
        "decisions": [
            {
                "resource_id": d.resource_id,
                "action": d.action.value,
                "reason": d.reason,
                "at": plain(d.decided_at),
            }
            for d in decided
        ],
    }
