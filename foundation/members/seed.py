"""Members' demo data: staff, panel reviewers and members, and organisations as vetting leaves them.

The capabilities' demo data builds on these (venues owned by the organisations, grant applications made by
their admins), and adds organisations and accounts of its own with `add_organisation` and `add_demo_user`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from foundation.extensions import db
from foundation.members.accounts import hash_password
from foundation.members.documents import FOLDER as DOCUMENTS_FOLDER
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
    VettingAction,
    VettingDecision,
)
from foundation.seed import DEMO_PASSWORD, demo_data, demo_logins_section
from foundation.types import utcnow
from foundation.uploads import simple_pdf, store_bytes

USERS = [
    ("staff@wypf.example", "Fran Staff", {"is_staff": True}),
    ("panel@wypf.example", "Pat Panel", {"is_panel_reviewer": True}),
    ("panel2@wypf.example", "Ravi Patel", {"is_panel_reviewer": True}),
    ("panel3@wypf.example", "Sian Morgan", {"is_panel_reviewer": True}),
    ("panel4@wypf.example", "Gareth Hughes", {"is_panel_reviewer": True}),
    ("youthworker@wypf.example", "Yusuf Worker", {}),
    ("admin@calne-youth.example", "Alex Admin", {}),
    ("member@calne-youth.example", "Morgan Member", {}),
]

ORGS = [
    # name, town, area, sector, legal form, charity, company, status, admin email
    ("Calne Youth Project", "Calne", Area.WILTSHIRE, Sector.VOLUNTARY, LegalForm.REGISTERED_CHARITY, "1101234", None,
     OrganisationStatus.APPROVED, "admin@calne-youth.example"),
    ("Swindon Sports Trust", "Swindon", Area.SWINDON, Sector.VOLUNTARY, LegalForm.CHARITABLE_COMPANY, "1123456", "04567890",
     OrganisationStatus.APPROVED, "youthworker@wypf.example"),
    ("Devizes Skate Collective", "Devizes", Area.WILTSHIRE, Sector.COMMUNITY, LegalForm.UNINCORPORATED, None, None,
     OrganisationStatus.PENDING, "youthworker@wypf.example"),
    ("Trowbridge Town Council Youth Service", "Trowbridge", Area.WILTSHIRE, Sector.PUBLIC, LegalForm.LOCAL_AUTHORITY, None, None,
     OrganisationStatus.APPROVED, None),
    ("Salisbury Arts for Young People CIC", "Salisbury", Area.WILTSHIRE, Sector.PRIVATE, LegalForm.CIC, None, "12345678",
     OrganisationStatus.APPROVED, None),
    ("Melksham Girls' Football Club", "Melksham", Area.WILTSHIRE, Sector.COMMUNITY, LegalForm.UNINCORPORATED, None, None,
     OrganisationStatus.CHANGES_REQUESTED, None),
]  # fmt: skip


@functools.cache
def demo_password_hash() -> str:
    # Every demo account has the same password; hashing it once keeps seeding quick.
    return hash_password(DEMO_PASSWORD)


def add_demo_user(email: str, name: str, **flags: bool) -> User:
    """A confirmed account with the demo password, added to the session."""
    user = User(
        email=email,
        name=name,
        password_hash=demo_password_hash(),
        email_confirmed_at=utcnow(),
        **flags,
    )
    db.session.add(user)
    return user


@demo_data("members", order=10)
def seed_members() -> Iterator[str]:
    users: dict[str, User] = {}
    for email, name, flags in USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = add_demo_user(email, name, **flags)
            yield f"user {email}"
        users[email] = user
    db.session.flush()
    staff = users["staff@wypf.example"]
    for name, town, area, sector, legal, charity, company, status, admin_email in ORGS:
        if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name)) is not None:
            continue
        org = add_organisation(name, town, area, sector, legal, charity, company, status, staff)
        if admin_email:
            db.session.add(Membership(user=users[admin_email], organisation=org, role=MemberRole.ADMIN))
        if name == "Calne Youth Project":
            db.session.add(
                Membership(user=users["member@calne-youth.example"], organisation=org, role=MemberRole.MEMBER)
            )
        yield f"organisation {name}"


@demo_logins_section("members", order=10)
def member_logins() -> Iterator[str]:
    for email, _name, flags in USERS:
        role = (
            "staff"
            if flags.get("is_staff")
            else "panel reviewer"
            if flags.get("is_panel_reviewer")
            else "member"
        )
        yield f"  {role:15} {email}"


def add_organisation(
    name: str,
    town: str,
    area: Area,
    sector: Sector,
    legal: LegalForm,
    charity: str | None,
    company: str | None,
    status: OrganisationStatus,
    staff: User,
    description: str | None = None,
) -> Organisation:
    """An organisation as vetting leaves it: approved ones with their documents checked and in date."""
    org = Organisation(
        name=name, town=town, area=area, sector=sector, legal_form=legal, charity_number=charity,
        company_number=company, address_line1="1 Market Place", postcode="SN15 1ER" if area is Area.WILTSHIRE else "SN1 1AA",
        description=description or f"{name} runs activities for young people in and around {town}.",
        age_min=11, age_max=19, young_people_per_year=250, safeguarding_lead_name="Jo Safe",
        safeguarding_lead_email=f"safeguarding@{town.lower()}.example", status=status,
        approved_at=utcnow() if status is OrganisationStatus.APPROVED else None,
    )  # fmt: skip
    db.session.add(org)
    if status is OrganisationStatus.APPROVED:
        db.session.add(
            VettingDecision(
                organisation=org,
                action=VettingAction.APPROVE,
                from_status=OrganisationStatus.PENDING,
                to_status=status,
                decided_by=staff,
                message="Documents checked.",
            )
        )
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:40]
        valid_until = date.today() + timedelta(days=300)
        for kind in (DocumentKind.SAFEGUARDING_POLICY, DocumentKind.INSURANCE):
            # A real (small) file, so the download links work like any uploaded document's.
            pdf = simple_pdf(
                f"{kind.label} (demo)",
                [
                    name,
                    f"Valid until {valid_until:%-d %B %Y}.",
                    "A made-up document for the demonstration site.",
                ],
            )
            stored = store_bytes(pdf, DOCUMENTS_FOLDER, f"{slug}-{kind.value}.pdf", "application/pdf")
            db.session.add(OrganisationDocument(
                organisation=org, kind=kind, original_filename=stored.original_filename,
                stored_name=stored.stored_name, content_type=stored.content_type, size_bytes=stored.size_bytes,
                sha256=stored.sha256, valid_until=valid_until,
            ))  # fmt: skip
    if status is OrganisationStatus.CHANGES_REQUESTED:
        db.session.add(
            VettingDecision(
                organisation=org,
                action=VettingAction.REQUEST_CHANGES,
                from_status=OrganisationStatus.PENDING,
                to_status=status,
                decided_by=staff,
                message="Please upload your public liability insurance.",
            )
        )
    return org
