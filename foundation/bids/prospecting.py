"""Finding funders in 360Giving data: which funders gave to recipients in Wiltshire and Swindon, or for youth
work, how much, how often and when. The file is read in the request and not kept; the import's summary is.

A grant is local when a recipient's postcode is in a Wiltshire or Swindon postcode district, a beneficiary
location has the ONS code of Wiltshire or Swindon, or a recipient's town or county or a beneficiary location
names Wiltshire, Swindon or one of their towns. It is for youth work when its title or description says so.
Totals count grants in pounds sterling only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from foundation.bids import funders
from foundation.bids.models import TOWNS, Funder, FunderType, ProspectFunder, ProspectImport
from foundation.bids.threesixty import GrantFile
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.members.models import User
from foundation.pagination import Page, paginate

MAX_FILE_BYTES = 5 * 1024 * 1024

# Postcode districts of Wiltshire and Swindon: SN (but SN7, Faringdon, is Oxfordshire), BA12 to BA15, SP1 to SP5
# and SP9 (Tidworth).
LOCAL_DISTRICT = re.compile(r"^(SN\d{1,2}|BA1[2-5]|SP[1-59])$")
NOT_LOCAL_DISTRICTS = {"SN7"}
# ONS codes: Wiltshire and Swindon unitary authorities.
LOCAL_GEOCODES = {"E06000054", "E06000030"}
LOCAL_NAMES = re.compile(
    r"\b(" + "|".join(re.escape(n) for n in ("Wiltshire", "Swindon", *TOWNS)) + r")\b", re.IGNORECASE
)
YOUTH_WORDS = re.compile(
    r"\b(youth|young (people|person|adults?)|teenagers?|teens|adolescents?|aged 1[0-9] ?(to|-) ?(1[0-9]|2[0-5]))\b",
    re.IGNORECASE,
)


@dataclass
class FunderSummary:
    org_id: str
    name: str
    grant_count: int = 0
    local_grant_count: int = 0
    youth_grant_count: int = 0
    total_pence: int = 0
    award_dates: list[date] = field(default_factory=list)


def _texts(items: Any, keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            out += [str(item[k]) for k in keys if isinstance(item.get(k), str)]
    return out


def postcode_district(postcode: str) -> str | None:
    """The outward code (district) of a Wiltshire or Swindon postcode ("SN15 1ER" -> "SN15"), else None."""
    compact = "".join(postcode.upper().split())
    outward = compact[:-3] if len(compact) >= 5 else compact
    if LOCAL_DISTRICT.match(outward) and outward not in NOT_LOCAL_DISTRICTS:
        return outward
    return None


def is_local(grant: dict[str, Any]) -> bool:
    recipients = grant.get("recipientOrganization")
    locations = grant.get("beneficiaryLocation")
    for postcode in _texts(recipients, ("postalCode",)):
        if postcode_district(postcode) is not None:
            return True
    if any(code.strip().upper() in LOCAL_GEOCODES for code in _texts(locations, ("geoCode",))):
        return True
    names = _texts(recipients, ("addressLocality", "addressRegion")) + _texts(locations, ("name",))
    return any(LOCAL_NAMES.search(name) for name in names)


def is_youth(grant: dict[str, Any]) -> bool:
    text = " ".join(str(grant.get(k) or "") for k in ("title", "description"))
    return bool(YOUTH_WORDS.search(text))


def _award_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _pence(grant: dict[str, Any]) -> int:
    amount = grant.get("amountAwarded")
    if grant.get("currency") != "GBP" or not isinstance(amount, int | float):
        return 0
    return int((Decimal(str(amount)) * 100).to_integral_value())


def summarise(grants: list[dict[str, Any]]) -> tuple[list[FunderSummary], int]:
    """Per funder, the local or youth-work grants; and how many grants matched in all."""
    found: dict[str, FunderSummary] = {}
    matched = 0
    for grant in grants:
        local, youth = is_local(grant), is_youth(grant)
        if not (local or youth):
            continue
        matched += 1
        for funder in grant.get("fundingOrganization") or []:
            org_id = str(funder.get("id", "")).strip()
            if not org_id:
                continue
            summary = found.setdefault(
                org_id.upper(), FunderSummary(org_id, str(funder.get("name", "")).strip())
            )
            summary.grant_count += 1
            summary.local_grant_count += local
            summary.youth_grant_count += youth
            summary.total_pence += _pence(grant)
            when = _award_date(grant.get("awardDate"))
            if when:
                summary.award_dates.append(when)
    ordered = sorted(found.values(), key=lambda s: (-s.total_pence, s.name.lower()))
    return ordered, matched


def record_import(grant_file: GrantFile, filename: str, by: User) -> ProspectImport:
    summaries, matched = summarise(grant_file.grants)
    record = ProspectImport(
        filename=(filename or "upload")[:200],
        file_format=grant_file.file_format,
        grant_count=len(grant_file.grants),
        matched_grant_count=matched,
        uploaded_by=by,
    )
    record.funders = [
        ProspectFunder(
            org_id=s.org_id[:80],
            name=(s.name or s.org_id)[:200],
            grant_count=s.grant_count,
            local_grant_count=s.local_grant_count,
            youth_grant_count=s.youth_grant_count,
            total_pence=s.total_pence,
            first_award=min(s.award_dates) if s.award_dates else None,
            last_award=max(s.award_dates) if s.award_dates else None,
        )
        for s in summaries
    ]
    db.session.add(record)
    db.session.flush()
    return record


def load_import(import_id: int) -> ProspectImport | None:
    return db.session.get(
        ProspectImport,
        import_id,
        options=[selectinload(ProspectImport.funders).joinedload(ProspectFunder.added_funder)],
    )


def recent_imports(page: int) -> Page[ProspectImport]:
    return paginate(
        sa.select(ProspectImport).order_by(ProspectImport.uploaded_at.desc(), ProspectImport.id.desc()),
        page,
        10,
    )


def in_register(prospects: list[ProspectFunder]) -> set[int]:
    """The prospects the register already has (by org-id or by name)."""
    ids, keys = funders.known(
        {p.org_id.upper() for p in prospects}, {funders.name_key(p.name) for p in prospects}
    )
    return {
        p.id
        for p in prospects
        if p.added_funder_id is not None or p.org_id.upper() in ids or funders.name_key(p.name) in keys
    }


def guess_type(org_id: str, name: str) -> FunderType:
    """A first guess at the kind of funder, for staff to correct in the register."""
    lowered = name.lower()
    prefix = org_id.upper()
    if "police and crime commissioner" in lowered or "pcc" in lowered.split():
        return FunderType.POLICE_AND_CRIME_COMMISSIONER
    if "lottery" in lowered:
        return FunderType.LOTTERY
    if (
        prefix.startswith(("GB-LAE", "GB-LAS", "GB-GOR", "GB-PLA", "GB-UKPRN", "GB-NHS"))
        or "council" in lowered
    ):
        return FunderType.STATUTORY
    if prefix.startswith("GB-COH") and not any(w in lowered for w in ("trust", "foundation", "fund")):
        return FunderType.BUSINESS
    return FunderType.TRUST_OR_FOUNDATION


def add_to_register(record: ProspectImport, prospect_ids: list[int], by: User) -> list[Funder]:
    """Add the ticked funders (org-id and name from the file) to the register; those already there are refused."""
    if not prospect_ids:
        raise DomainError("Tick at least one funder to add.", field="prospects")
    chosen = [p for p in record.funders if p.id in set(prospect_ids)]
    if len(chosen) != len(set(prospect_ids)):
        raise DomainError("Tick funders from this import.", field="prospects")
    already = in_register(chosen)
    if already:
        names = ", ".join(p.name for p in chosen if p.id in already)
        raise DomainError(f"Already in the register: {names}.", field="prospects")
    added = []
    for prospect in chosen:
        try:
            org_id = funders.normal_org_id(prospect.org_id)
        except DomainError:
            org_id = None  # an identifier the register's format does not take: the funder is added by name
        funder = funders.create(
            funders.FunderDetails(
                name=prospect.name,
                funder_type=guess_type(prospect.org_id, prospect.name),
                org_id=org_id,
                notes=f"Found in 360Giving data ({record.filename}): {prospect.grant_count} grant(s).",
            ),
            by,
        )
        prospect.added_funder = funder
        added.append(funder)
    return added
