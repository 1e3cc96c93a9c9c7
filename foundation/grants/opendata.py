"""Awarded grants as 360Giving Data Standard open data (version 1.4): a JSON package and a flat CSV.

Published: grants of decided rounds whose decision is an award (the scorecard's grants), nothing else. No personal
data: recipients are organisations, described by name, public register numbers and town only (no street address,
postcode, contacts or people's names).

Choices worth knowing:
- Identifiers: grant "360G-wypf-<application reference>" (or the grant's id if it has no reference); recipient
  org-id "GB-CHC-<charity number>", "GB-COH-<company number>" or "360G-wypf-<organisation id>"; funder from the
  FOUNDATION_ORG_ID setting.
- Amounts are in pounds (numbers, not pence). Amount Disbursed is what has been paid so far.
- Award Date is the date of the decision (Europe/London); Planned Dates come from the application.
- Beneficiary Location: one entry per town the project serves, with country code GB. No geographic code: the towns
  are names given by applicants, not mapped to ONS codes, and a made-up code would be worse than none.
- CSV: the standard's column titles. Single-item lists use the roll-up titles ("Recipient Org:Identifier");
  beneficiary locations, which can be several, are numbered from 0 ("Beneficiary Location:0:Name",
  "Beneficiary Location:1:Name", ...) with as many columns as the grant serving most towns needs. Text that a
  spreadsheet would run as a formula (starting with =, +, -, @) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from foundation.grants.scorecard import PublishedGrant, published_grants
from foundation.web import spreadsheet_safe

STANDARD_VERSION = "1.4"
GRANT_PREFIX = "360G-wypf"
DEFAULT_FUNDER_ID = "360G-wypf"
FUNDER_NAME = "Wiltshire Young People's Foundation"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def funder() -> dict[str, str]:
    return {"id": current_app.config.get("FOUNDATION_ORG_ID") or DEFAULT_FUNDER_ID, "name": FUNDER_NAME}


def grant_identifier(grant: PublishedGrant) -> str:
    return f"{GRANT_PREFIX}-{grant.reference or grant.grant_id}"


def pounds(pence: int) -> int | float:
    """Pence as a number of pounds: whole pounds as an integer, otherwise to the penny."""
    whole, part = divmod(pence, 100)
    return whole if part == 0 else round(pence / 100, 2)


def grant_record(grant: PublishedGrant) -> dict[str, Any]:
    org = grant.organisation
    recipient: dict[str, Any] = {"id": org.org_id, "name": org.name}
    if org.charity_number:
        recipient["charityNumber"] = org.charity_number
    if org.company_number:
        recipient["companyNumber"] = org.company_number
    if org.town:
        recipient["addressLocality"] = org.town
    record: dict[str, Any] = {
        "id": grant_identifier(grant),
        "title": grant.project_title or f"Seed grant {grant.reference or grant.grant_id}",
        "description": grant.summary.strip() or grant.project_title or "Seed grant for a youth project.",
        "currency": "GBP",
        "amountAppliedFor": pounds(grant.amount_applied_pence),
        "amountAwarded": pounds(grant.amount_pence),
        "amountDisbursed": pounds(grant.paid_pence),
        "awardDate": grant.award_date.isoformat(),
        "recipientOrganization": [recipient],
        "fundingOrganization": [funder()],
        "grantProgramme": [{"code": grant.round_code, "title": grant.round_name}],
        "fromOpenCall": "Yes",
    }
    if grant.starts_on or grant.ends_on:
        planned: dict[str, str] = {}
        if grant.starts_on:
            planned["startDate"] = grant.starts_on.isoformat()
        if grant.ends_on:
            planned["endDate"] = grant.ends_on.isoformat()
        record["plannedDates"] = [planned]
    if grant.towns:
        record["beneficiaryLocation"] = [{"name": town, "countryCode": "GB"} for town in grant.towns]
    return record


def package(download_url: str | None = None, access_url: str | None = None) -> dict[str, Any]:
    """The 360Giving package: the grants and the package metadata."""
    grants = published_grants()
    now = datetime.now(UTC).replace(microsecond=0)
    body: dict[str, Any] = {
        "version": STANDARD_VERSION,
        "title": f"{FUNDER_NAME}: seed grants awarded",
        "description": (
            "Seed grants awarded by the Wiltshire Young People's Foundation to youth organisations in Wiltshire "
            "and Swindon, from rounds whose decisions have been made. Amounts in pounds sterling."
        ),
        "identifier": f"{GRANT_PREFIX}-seed-grants",
        "issued": now.date().isoformat(),
        "modified": now.isoformat(),
        "publisher": {"identifier": funder()["id"], "name": FUNDER_NAME},
        "license": LICENSE,
        "grants": [grant_record(g) for g in grants],
    }
    base = current_app.config.get("BASE_URL")
    if base:
        body["publisher"]["website"] = base.rstrip("/") + "/"
    if download_url:
        body["downloadURL"] = download_url
    if access_url:
        body["accessURL"] = access_url
    return body


# --- CSV -----------------------------------------------------------------------------------------------------------

FIXED_COLUMNS: list[tuple[str, str]] = [
    ("Identifier", "id"),
    ("Title", "title"),
    ("Description", "description"),
    ("Currency", "currency"),
    ("Amount Applied For", "amountAppliedFor"),
    ("Amount Awarded", "amountAwarded"),
    ("Amount Disbursed", "amountDisbursed"),
    ("Award Date", "awardDate"),
    ("Planned Dates:Start Date", "plannedDates/0/startDate"),
    ("Planned Dates:End Date", "plannedDates/0/endDate"),
    ("Recipient Org:Identifier", "recipientOrganization/0/id"),
    ("Recipient Org:Name", "recipientOrganization/0/name"),
    ("Recipient Org:Charity Number", "recipientOrganization/0/charityNumber"),
    ("Recipient Org:Company Number", "recipientOrganization/0/companyNumber"),
    ("Recipient Org:City", "recipientOrganization/0/addressLocality"),
    ("Funding Org:Identifier", "fundingOrganization/0/id"),
    ("Funding Org:Name", "fundingOrganization/0/name"),
    ("Grant Programme:Code", "grantProgramme/0/code"),
    ("Grant Programme:Title", "grantProgramme/0/title"),
    ("From An Open Call?", "fromOpenCall"),
]
LOCATION_COLUMNS: list[tuple[str, str]] = [("Name", "name"), ("Country Code", "countryCode")]


def csv_columns(location_count: int) -> list[tuple[str, str]]:
    """(column title, JSON path) pairs; at least one set of beneficiary-location columns."""
    columns = list(FIXED_COLUMNS)
    for i in range(max(1, location_count)):
        for title, key in LOCATION_COLUMNS:
            columns.append((f"Beneficiary Location:{i}:{title}", f"beneficiaryLocation/{i}/{key}"))
    return columns


def _at(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        if isinstance(value, list):
            index = int(part)
            value = value[index] if index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        if value is None:
            return None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return str(value)
    return spreadsheet_safe(str(value))


def csv_text() -> str:
    records = [grant_record(g) for g in published_grants()]
    columns = csv_columns(max((len(r.get("beneficiaryLocation", [])) for r in records), default=1))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for title, _ in columns])
    for record in records:
        writer.writerow([_cell(_at(record, path)) for _, path in columns])
    return out.getvalue()
