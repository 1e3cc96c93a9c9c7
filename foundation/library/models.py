"""The good-practice library: resources, their topics, the versions of their file and staff's decisions.

A resource is either a file (kept as numbered versions: replacing the file adds a version, the old ones stay) or a
link to a page elsewhere (https only). Staff approve a resource before members see it; a new version of an
approved resource waits for staff too, while members keep the last approved one. Every decision (approve,
reject with a reason, withdraw) is a row of its own: who, when, why.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import Organisation, User
from foundation.topics import Topic
from foundation.types import UTCDateTime, enum_column, utcnow


class ResourceKind(enum.Enum):
    POLICY_TEMPLATE = "policy_template"
    GUIDE = "guide"
    SESSION_PLAN = "session_plan"
    FUNDING_TIP = "funding_tip"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            ResourceKind.POLICY_TEMPLATE: "Policy template",
            ResourceKind.GUIDE: "Guide",
            ResourceKind.SESSION_PLAN: "Session plan",
            ResourceKind.FUNDING_TIP: "Funding tip",
            ResourceKind.OTHER: "Other",
        }[self]


class Licence(enum.Enum):
    """The terms a resource is shared under: a short list people can understand."""

    CC_BY = "cc_by_4"
    CC_BY_SA = "cc_by_sa_4"
    OGL = "ogl_3"
    MEMBERS_ONLY = "members_only"

    @property
    def label(self) -> str:
        return {
            Licence.CC_BY: "CC BY 4.0",
            Licence.CC_BY_SA: "CC BY-SA 4.0",
            Licence.OGL: "Open Government Licence v3.0",
            Licence.MEMBERS_ONLY: "All rights reserved, shared for members' use",
        }[self]

    @property
    def url(self) -> str | None:
        return {
            Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/",
            Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/",
            Licence.OGL: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            Licence.MEMBERS_ONLY: None,
        }[self]


class ResourceStatus(enum.Enum):
    PENDING = "pending"  # waiting for staff
    APPROVED = "approved"  # members see it
    REJECTED = (
        "rejected"  # staff turned it down, with a reason; its organisation may change it and send it again
    )
    WITHDRAWN = "withdrawn"  # taken down by its organisation or by staff, for good

    @property
    def label(self) -> str:
        return {
            ResourceStatus.PENDING: "Waiting for review",
            ResourceStatus.APPROVED: "Approved",
            ResourceStatus.REJECTED: "Not approved",
            ResourceStatus.WITHDRAWN: "Withdrawn",
        }[self]


class VersionStatus(enum.Enum):
    WAITING = "waiting"  # uploaded, not yet checked by staff
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            VersionStatus.WAITING: "Waiting for review",
            VersionStatus.APPROVED: "Approved",
            VersionStatus.REJECTED: "Not approved",
        }[self]


class DecisionAction(enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return {
            DecisionAction.APPROVE: "Approved",
            DecisionAction.REJECT: "Not approved",
            DecisionAction.WITHDRAW: "Withdrawn",
        }[self]


class LibraryResource(Model):
    __tablename__ = "library_resource"
    __table_args__ = (
        sa.CheckConstraint("download_count >= 0", name="downloads_not_negative"),
        # The list reads approved resources newest first.
        sa.Index("ix_library_resource_status_approved_at", "status", "approved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind))
    licence: Mapped[Licence] = mapped_column(enum_column(Licence))
    # A resource that is a page elsewhere; None for a file (its versions).
    link: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[ResourceStatus] = mapped_column(
        enum_column(ResourceStatus), default=ResourceStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When staff first approved it: the list's order (newest first).
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised by one UPDATE ... SET download_count = download_count + 1 per download, so none is lost when two
    # people download at once.
    download_count: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    topic_rows: Mapped[list[ResourceTopic]] = relationship(
        cascade="all, delete-orphan", order_by="ResourceTopic.topic"
    )
    versions: Mapped[list[ResourceVersion]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="ResourceVersion.number.desc()"
    )
    decisions: Mapped[list[LibraryDecision]] = relationship(
        cascade="all, delete-orphan", order_by="LibraryDecision.id.desc()"
    )

    @property
    def topics(self) -> list[Topic]:
        return [row.topic for row in self.topic_rows]

    @property
    def is_link(self) -> bool:
        return self.link is not None

    @property
    def public_version(self) -> ResourceVersion | None:
        """The newest version staff approved: what members download."""
        return next((v for v in self.versions if v.status is VersionStatus.APPROVED), None)

    @property
    def waiting_versions(self) -> list[ResourceVersion]:
        return [v for v in self.versions if v.status is VersionStatus.WAITING]


class ResourceTopic(Model):
    __tablename__ = "library_resource_topic"

    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("library_resource.id"), primary_key=True)
    topic: Mapped[Topic] = mapped_column(enum_column(Topic), primary_key=True, index=True)


class ResourceVersion(Model):
    """One upload of a resource's file, checked by its content like an organisation document."""

    __tablename__ = "library_resource_version"
    __table_args__ = (
        sa.UniqueConstraint("resource_id", "number", name="uq_library_resource_version_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("library_resource.id"), index=True)
    number: Mapped[int]  # 1, 2, 3... within the resource
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # what changed
    status: Mapped[VersionStatus] = mapped_column(enum_column(VersionStatus), default=VersionStatus.WAITING)
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    resource: Mapped[LibraryResource] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()


class LibraryDecision(Model):
    """A step staff or the resource's organisation took: who, when, and why (a rejection's reason)."""

    __tablename__ = "library_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("library_resource.id"), index=True)
    # The version decided on, when the decision was about a replacement file of an approved resource.
    version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("library_resource_version.id"))
    action: Mapped[DecisionAction] = mapped_column(enum_column(DecisionAction))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decided_by: Mapped[User | None] = relationship()
    version: Mapped[ResourceVersion | None] = relationship()
