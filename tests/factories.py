"""Small builders for test data. They flush, never commit: the test decides."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from werkzeug.security import generate_password_hash

from foundation.extensions import db
from foundation.members.models import (
    Area,
    DocumentKind,
    LegalForm,
    MemberRole,
    Membership,
    Organisation,
    OrganisationDocument,
    OrganisationStatus,
    Sector,
    User,
)
from foundation.types import utcnow

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

# One hash for every test user, made once. It is scrypt like every stored password, at a low work factor: the
# parameters travel with the hash, so signing in checks it exactly as it checks any other, in a few milliseconds
# rather than the tenth of a second the production setting costs each sign-in.
_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


def make_user(
    email: str | None = None,
    name: str | None = None,
    confirmed: bool = True,
    staff: bool = False,
    panel: bool = False,
) -> User:
    n = next(_seq)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        name=name or f"User {n}",
        password_hash=_HASH,
        email_confirmed_at=utcnow() if confirmed else None,
        is_staff=staff,
        is_panel_reviewer=panel,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_org(
    admin: User | None = None,
    status: OrganisationStatus = OrganisationStatus.APPROVED,
    name: str | None = None,
    town: str = "Chippenham",
    documents: bool = True,
    valid_until: date | None = None,
    sector: Sector = Sector.VOLUNTARY,
    **fields: object,
) -> Organisation:
    n = next(_seq)
    org = Organisation(
        name=name or f"Youth Group {n}",
        sector=sector,
        legal_form=fields.pop("legal_form", LegalForm.UNINCORPORATED),
        address_line1=f"{n} High Street",
        town=town,
        postcode="SN15 1ER",
        area=fields.pop("area", Area.WILTSHIRE),
        description="Weekly youth club for young people aged 11 to 18.",
        safeguarding_lead_name="Sam Lead",
        safeguarding_lead_email=f"lead{n}@example.org",
        status=status,
        approved_at=utcnow() if status is OrganisationStatus.APPROVED else None,
        **fields,
    )
    db.session.add(org)
    if admin is not None:
        db.session.add(Membership(user=admin, organisation=org, role=MemberRole.ADMIN))
    db.session.flush()
    if documents:
        until = valid_until or (date.today() + timedelta(days=365))
        for kind in (DocumentKind.SAFEGUARDING_POLICY, DocumentKind.INSURANCE):
            add_document(org, kind, until)
    db.session.flush()
    db.session.refresh(org)
    return org


def add_document(
    org: Organisation, kind: DocumentKind, valid_until: date | None, uploaded_by: User | None = None
) -> OrganisationDocument:
    n = next(_seq)
    doc = OrganisationDocument(
        organisation=org,
        kind=kind,
        original_filename=f"{kind.value}.pdf",
        stored_name=f"test-{n}-{kind.value}.pdf",
        content_type="application/pdf",
        size_bytes=100,
        sha256="0" * 64,
        valid_until=valid_until,
        uploaded_by=uploaded_by,
    )
    db.session.add(doc)
    db.session.flush()
    return doc


def add_member(org: Organisation, user: User, role: MemberRole = MemberRole.MEMBER) -> Membership:
    m = Membership(user=user, organisation=org, role=role)
    db.session.add(m)
    db.session.flush()
    db.session.refresh(user)
    return m


def login(client, user: User, password: str = PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})
