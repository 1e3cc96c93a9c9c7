"""The register of funders: one row per funder, unique by org-id when it is known and by name always.

Org-ids follow org-id.guide: a list prefix (country code and register, e.g. GB-CHC for the Charity Commission
for England and Wales, GB-COH for Companies House, or a 360Giving publisher prefix 360G-...) and the identifier
in that list. Names are compared without case, spacing, punctuation or a leading "The", so "The Rowan Trust"
and "Rowan  Trust" are the same funder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from foundation.bids.models import Funder, FunderType
from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.pagination import Page, paginate
from foundation.types import utcnow

# "GB-CHC-1234567", "GB-COH-01234567", "GB-SC-SC012345", "360G-wypf", "XI-PB-123": a list prefix of two parts
# (letters/digits) and an identifier of letters, digits and hyphens/dots/slashes.
ORG_ID_RE = re.compile(r"^[A-Z0-9]{2,5}-[A-Z0-9]{2,12}-[A-Za-z0-9][A-Za-z0-9./_-]{0,59}$")
# 360Giving publishers without a register identifier use their own prefix: "360G-<publisher>(-<id>)".
ORG_ID_360G_RE = re.compile(r"^360G-[A-Za-z0-9][A-Za-z0-9./_-]{0,70}$")
ORG_ID_MESSAGE = (
    "Enter an org-id like GB-CHC-1234567 (list prefix, then the identifier in that list), or leave it blank."
)
FUNDERS_PER_PAGE = 25


def name_key(name: str) -> str:
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower().replace("&", " and ")).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)[:200]


def normal_org_id(value: str | None) -> str | None:
    """The org-id as stored (prefix in capitals), None for blank; DomainError if it is not one."""
    text = (value or "").strip()
    if not text:
        return None
    parts = text.split("-", 2)
    if len(parts) == 3 and not text.upper().startswith("360G-"):
        text = f"{parts[0].upper()}-{parts[1].upper()}-{parts[2]}"
    elif text.upper().startswith("360G-"):
        text = "360G-" + text[5:]
    if not (ORG_ID_RE.match(text) or ORG_ID_360G_RE.match(text)):
        raise DomainError(ORG_ID_MESSAGE, field="org_id")
    return text


def checked_https_url(value: str | None, field: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme != "https" or "." not in host or parts.username or parts.password or " " in text:
        raise DomainError(
            "Enter a web address starting https://, like https://www.example.org.uk", field=field
        )
    if len(text) > 300:
        raise DomainError("The web address must be 300 characters or fewer.", field=field)
    return text


@dataclass(frozen=True)
class FunderDetails:
    name: str
    funder_type: FunderType
    org_id: str | None = None
    website: str | None = None
    notes: str = ""


def _check(details: FunderDetails, funder: Funder | None) -> tuple[str, str | None, str | None]:
    name = " ".join(details.name.split())
    key = name_key(name)
    if not key:
        raise DomainError("Enter the funder's name.", field="name")
    org_id = normal_org_id(details.org_id)
    website = checked_https_url(details.website, "website")
    others = sa.select(Funder).where(Funder.id != funder.id) if funder else sa.select(Funder)
    if org_id:
        same_id = db.session.scalar(others.where(sa.func.upper(Funder.org_id) == org_id.upper()))
        if same_id is not None:
            raise Conflict(f"{same_id.name} already has the org-id {same_id.org_id}.", field="org_id")
    same_name = db.session.scalar(others.where(Funder.name_key == key))
    if same_name is not None:
        raise Conflict(
            f"{same_name.name} is already in the register. Change that funder instead of adding it twice.",
            field="name",
        )
    return name, org_id, website


def create(details: FunderDetails, by: User) -> Funder:
    name, org_id, website = _check(details, None)
    funder = Funder(
        name=name,
        name_key=name_key(name),
        funder_type=details.funder_type,
        org_id=org_id,
        website=website,
        notes=details.notes.strip(),
        created_by=by,
    )
    db.session.add(funder)
    db.session.flush()
    return funder


def update(funder: Funder, details: FunderDetails) -> Funder:
    name, org_id, website = _check(details, funder)
    funder.name = name
    funder.name_key = name_key(name)
    funder.funder_type = details.funder_type
    funder.org_id = org_id
    funder.website = website
    funder.notes = details.notes.strip()
    funder.updated_at = utcnow()
    return funder


def search(page: int, text: str = "", funder_type: FunderType | None = None) -> Page[Funder]:
    stmt = sa.select(Funder)
    key = name_key(text)
    if key:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Funder.name_key.like(f"%{escaped}%", escape="\\"))
    if funder_type is not None:
        stmt = stmt.where(Funder.funder_type == funder_type)
    return paginate(stmt.order_by(Funder.name_key, Funder.id), page, FUNDERS_PER_PAGE)


def all_by_name() -> list[Funder]:
    return list(db.session.scalars(sa.select(Funder).order_by(Funder.name_key, Funder.id)))


def known(org_ids: set[str], name_keys: set[str]) -> tuple[set[str], set[str]]:
    """Of these org-ids (upper case) and name keys, those the register already has."""
    if not org_ids and not name_keys:
        return set(), set()
    rows = db.session.execute(
        sa.select(Funder.org_id, Funder.name_key).where(
            sa.or_(sa.func.upper(Funder.org_id).in_(org_ids), Funder.name_key.in_(name_keys))
        )
    ).all()
    return {r.org_id.upper() for r in rows if r.org_id}, {r.name_key for r in rows}
