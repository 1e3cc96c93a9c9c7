"""Users, organisations, memberships, vetting and documents."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.types import UTCDateTime, enum_column, utcnow


class Sector(enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    VOLUNTARY = "voluntary"
    COMMUNITY = "community"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class LegalForm(enum.Enum):
    REGISTERED_CHARITY = "registered_charity"
    CIO = "cio"
    CHARITABLE_COMPANY = "charitable_company"
    CIC = "cic"
    COMPANY = "company"
    SCHOOL = "school"
    LOCAL_AUTHORITY = "local_authority"
    UNINCORPORATED = "unincorporated"

    @property
    def label(self) -> str:
        return LEGAL_FORM_LABELS[self]

    @property
    def needs_charity_number(self) -> bool:
        return self in {LegalForm.REGISTERED_CHARITY, LegalForm.CIO, LegalForm.CHARITABLE_COMPANY}

    @property
    def needs_company_number(self) -> bool:
        return self in {LegalForm.CHARITABLE_COMPANY, LegalForm.CIC, LegalForm.COMPANY}


LEGAL_FORM_LABELS = {
    LegalForm.REGISTERED_CHARITY: "Registered charity",
    LegalForm.CIO: "Charitable incorporated organisation (CIO)",
    LegalForm.CHARITABLE_COMPANY: "Charitable company",
    LegalForm.CIC: "Community interest company (CIC)",
    LegalForm.COMPANY: "Company",
    LegalForm.SCHOOL: "School",
    LegalForm.LOCAL_AUTHORITY: "Local-authority service",
    LegalForm.UNINCORPORATED: "Unincorporated group",
}


class Area(enum.Enum):
    WILTSHIRE = "wiltshire"
    SWINDON = "swindon"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OrganisationStatus(enum.Enum):
    PENDING = "pending"  # awaiting vetting
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class VettingAction(enum.Enum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    SUSPEND = "suspend"

    @property
    def label(self) -> str:
        return {
            VettingAction.SUBMIT: "Submitted for vetting",
            VettingAction.APPROVE: "Approved",
            VettingAction.REQUEST_CHANGES: "Changes requested",
            VettingAction.REJECT: "Rejected",
            VettingAction.SUSPEND: "Suspended",
        }[self]


# The vetting state machine, in one place: action -> (allowed from-states, resulting state).
VETTING_TRANSITIONS: dict[VettingAction, tuple[frozenset[OrganisationStatus], OrganisationStatus]] = {
    VettingAction.SUBMIT: (frozenset({OrganisationStatus.CHANGES_REQUESTED}), OrganisationStatus.PENDING),
    VettingAction.APPROVE: (
        frozenset({OrganisationStatus.PENDING, OrganisationStatus.SUSPENDED}),
        OrganisationStatus.APPROVED,
    ),
    VettingAction.REQUEST_CHANGES: (
        frozenset({OrganisationStatus.PENDING}),
        OrganisationStatus.CHANGES_REQUESTED,
    ),
    VettingAction.REJECT: (
        frozenset({OrganisationStatus.PENDING, OrganisationStatus.CHANGES_REQUESTED}),
        OrganisationStatus.REJECTED,
    ),
    VettingAction.SUSPEND: (frozenset({OrganisationStatus.APPROVED}), OrganisationStatus.SUSPENDED),
}


class MemberRole(enum.Enum):
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class DocumentKind(enum.Enum):
    SAFEGUARDING_POLICY = "safeguarding_policy"
    INSURANCE = "insurance"
    GOVERNING_DOCUMENT = "governing_document"

    @property
    def label(self) -> str:
        return {
            DocumentKind.SAFEGUARDING_POLICY: "Safeguarding policy",
            DocumentKind.INSURANCE: "Public liability insurance",
            DocumentKind.GOVERNING_DOCUMENT: "Governing document",
        }[self]

    @property
    def date_label(self) -> str | None:
        return {
            DocumentKind.SAFEGUARDING_POLICY: "Next review date",
            DocumentKind.INSURANCE: "Expiry date",
            DocumentKind.GOVERNING_DOCUMENT: None,
        }[self]


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_panel_reviewer: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    def get_id(self) -> str:
        # Only compares users (UserMixin.__eq__): the session cookie carries a UserSession token (foundation/auth.py).
        return str(self.id)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to closed accounts
        return self.closed_at is None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def membership_of(self, organisation_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.organisation_id == organisation_id), None)

    def is_admin_of(self, organisation_id: int) -> bool:
        m = self.membership_of(organisation_id)
        return m is not None and m.role is MemberRole.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserSession(Model):
    """One sign-in on one device. The session (and remember-me) cookie carries a random token and only its SHA-256
    is kept here, so this table opens no account. Signing out revokes the row, which ends every copy of the cookie.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Firefox on Windows": enough to recognise a device in a list, no more.
    user_agent: Mapped[str] = mapped_column(sa.String(80), default="")

    user: Mapped[User] = relationship()


class Organisation(Model):
    __tablename__ = "organisation"
    __table_args__ = (
        sa.CheckConstraint(
            "young_people_per_year IS NULL OR young_people_per_year >= 0", name="reach_non_negative"
        ),
        sa.CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    sector: Mapped[Sector] = mapped_column(enum_column(Sector))
    legal_form: Mapped[LegalForm] = mapped_column(enum_column(LegalForm))
    charity_number: Mapped[str | None] = mapped_column(sa.String(8), unique=True)
    company_number: Mapped[str | None] = mapped_column(sa.String(8), unique=True)
    address_line1: Mapped[str] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    town: Mapped[str] = mapped_column(sa.String(100), index=True)
    postcode: Mapped[str] = mapped_column(sa.String(8))
    area: Mapped[Area] = mapped_column(enum_column(Area))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    young_people_per_year: Mapped[int | None]
    safeguarding_lead_name: Mapped[str] = mapped_column(sa.String(120))
    safeguarding_lead_email: Mapped[str] = mapped_column(sa.String(254))
    safeguarding_lead_phone: Mapped[str | None] = mapped_column(sa.String(30))
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_column(OrganisationStatus), default=OrganisationStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    documents: Mapped[list[OrganisationDocument]] = relationship(
        back_populates="organisation", order_by="OrganisationDocument.uploaded_at.desc()"
    )
    decisions: Mapped[list[VettingDecision]] = relationship(
        back_populates="organisation", order_by="VettingDecision.created_at.desc()"
    )

    @property
    def org_id(self) -> str:
        """360Giving org-id: charity number first, then company number, else a Foundation identifier."""
        if self.charity_number:
            return f"GB-CHC-{self.charity_number}"
        if self.company_number:
            return f"GB-COH-{self.company_number}"
        return f"360G-wypf-{self.id}"

    @property
    def is_approved(self) -> bool:
        return self.status is OrganisationStatus.APPROVED

    def admins(self) -> list[User]:
        return [m.user for m in self.memberships if m.role is MemberRole.ADMIN and m.user.closed_at is None]

    def current_document(self, kind: DocumentKind) -> OrganisationDocument | None:
        docs = [d for d in self.documents if d.kind is kind]
        return docs[0] if docs else None

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Membership(Model):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole), default=MemberRole.MEMBER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Pages that list memberships name the person and the organisation: loaded with the row.
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")


class OrganisationDocument(Model):
    """An uploaded file. The newest of each kind is the current one; older ones stay as history."""

    __tablename__ = "organisation_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # Review date for a safeguarding policy, expiry date for insurance; none for a governing document.
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship(lazy="joined")


class DocumentReminder(Model):
    """One row per reminder sent, so a reminder goes once whatever the number of sweeps."""

    __tablename__ = "document_reminder"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "days_before", name="uq_document_reminder_doc_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation_document.id"), index=True)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VettingDecision(Model):
    __tablename__ = "vetting_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    action: Mapped[VettingAction] = mapped_column(enum_column(VettingAction))
    from_status: Mapped[OrganisationStatus] = mapped_column(enum_column(OrganisationStatus))
    to_status: Mapped[OrganisationStatus] = mapped_column(enum_column(OrganisationStatus))
    message: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="decisions")
    decided_by: Mapped[User | None] = relationship(lazy="joined")


class Invitation(Model):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole), default=MemberRole.MEMBER)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="joined")


@dataclass(frozen=True)
class Standing:
    """The answer to "is this organisation in good standing?", with the reasons when it is not."""

    ok: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok
