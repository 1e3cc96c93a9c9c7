"""Reading a 360Giving file (Data Standard 1.4): a JSON grant package, or a CSV with the standard's column titles,
checked against the standard's JSON Schema (foundation/bids/standards/).

CSV rows are turned into the JSON grant structure first (the standard's "flattened" form: "Recipient Org:Name"
is recipientOrganization[0].name, "Beneficiary Location:1:Name" is beneficiaryLocation[1].name), so both kinds of
file are checked by the same schema and every problem names its row (CSV) or grant (JSON) and its field.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

STANDARDS = Path(__file__).parent / "standards"
MAX_PROBLEMS = 20

# The standard's CSV titles for the fields prospecting reads and those a grant must have, as (title, JSON key).
GRANT_COLUMNS: dict[str, str] = {
    "Identifier": "id",
    "Title": "title",
    "Description": "description",
    "Currency": "currency",
    "Amount Applied For": "amountAppliedFor",
    "Amount Awarded": "amountAwarded",
    "Amount Disbursed": "amountDisbursed",
    "Award Date": "awardDate",
    "URL": "url",
    "From An Open Call?": "fromOpenCall",
    "Data Source": "dataSource",
    "Last Modified": "dateModified",
    "Location Scope": "locationScope",
    "For Regrant Type": "regrantType",
}
ORGANISATION_FIELDS: dict[str, str] = {
    "Identifier": "id",
    "Name": "name",
    "Department": "department",
    "Charity Number": "charityNumber",
    "Company Number": "companyNumber",
    "Street Address": "streetAddress",
    "City": "addressLocality",
    "County": "addressRegion",
    "Country": "addressCountry",
    "Postal Code": "postalCode",
    "Web Address": "url",
    "Description": "description",
    "Organisation Type": "organisationType",
}
LOCATION_FIELDS: dict[str, str] = {
    "Identifier": "id",
    "Name": "name",
    "Description": "description",
    "Country Code": "countryCode",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "Geographic Code": "geoCode",
    "Geographic Code Type": "geoCodeType",
}
PROGRAMME_FIELDS: dict[str, str] = {
    "Code": "code",
    "Title": "title",
    "Description": "description",
    "URL": "url",
}
LISTS: dict[str, tuple[str, dict[str, str]]] = {
    "Recipient Org": ("recipientOrganization", ORGANISATION_FIELDS),
    "Funding Org": ("fundingOrganization", ORGANISATION_FIELDS),
    "Beneficiary Location": ("beneficiaryLocation", LOCATION_FIELDS),
    "Grant Programme": ("grantProgramme", PROGRAMME_FIELDS),
}
NUMBER_KEYS = {"amountAppliedFor", "amountAwarded", "amountDisbursed", "latitude", "longitude"}
# For messages: the JSON keys in the words of the CSV titles.
TITLES: dict[str, str] = {
    **{key: title for title, key in GRANT_COLUMNS.items()},
    "recipientOrganization": "Recipient Org",
    "fundingOrganization": "Funding Org",
    "beneficiaryLocation": "Beneficiary Location",
    "grantProgramme": "Grant Programme",
    "recipientIndividual": "Recipient Ind",
}
NESTED_TITLES = {
    key: title for fields in (ORGANISATION_FIELDS, LOCATION_FIELDS) for title, key in fields.items()
}
FIELD_HEADING = re.compile(r"^(?P<list>[^:]+):(?:(?P<index>\d+):)?(?P<field>.+)$")


@dataclass(frozen=True)
class Problem:
    where: str  # "Row 4" (CSV) or "Grant 3 (360G-xyz-1)" (JSON); "The file" for the whole file
    field: str  # the column title, or "" for the whole grant or file
    message: str


class NotThreeSixtyGiving(Exception):
    """The file cannot be used: it is not JSON/CSV, or it breaks the standard. `problems` says where."""

    def __init__(self, summary: str, problems: list[Problem] | None = None, total: int = 0) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems or []
        self.total = total or len(self.problems)


@dataclass(frozen=True)
class GrantFile:
    file_format: str  # "json" or "csv"
    grants: list[dict[str, Any]]


# --- the schema ----------------------------------------------------------------------------------------------


@cache
def package_validator() -> Draft202012Validator:
    package_schema = json.loads((STANDARDS / "360-giving-package-schema.json").read_text("utf-8"))
    grant_schema = json.loads((STANDARDS / "360-giving-schema.json").read_text("utf-8"))
    grant = DRAFT202012.create_resource(grant_schema)
    registry: Registry[Any] = Registry().with_resources(
        [
            (package_schema["$id"], DRAFT202012.create_resource(package_schema)),
            (grant_schema["$id"], grant),
            # The package schema points at the grant schema by another version's URL.
            (package_schema["properties"]["grants"]["items"]["$ref"], grant),
        ]
    )
    # FORMAT_CHECKER checks date-time with rfc3339-validator: a plain date then matches only the date pattern of
    # the standard's `oneOf`, as it must.
    return Draft202012Validator(
        package_schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


# --- reading -------------------------------------------------------------------------------------------------


def read(data: bytes, filename: str) -> GrantFile:
    """The grants of a 360Giving file, checked against the standard; NotThreeSixtyGiving if it cannot be used."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotThreeSixtyGiving("The file is not text in UTF-8: save it as UTF-8 JSON or CSV.") from None
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith(("{", "[")):
        try:
            package = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NotThreeSixtyGiving(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        if not isinstance(package, dict):
            raise NotThreeSixtyGiving('A 360Giving JSON file is a package: an object with a "grants" list.')
        _check(package, rows=None)
        return GrantFile("json", package["grants"])
    if filename.lower().endswith(".csv") or "," in stripped.split("\n", 1)[0]:
        grants = grants_from_csv(text)
        _check({"grants": grants}, rows=[i + 2 for i in range(len(grants))])
        return GrantFile("csv", grants)
    raise NotThreeSixtyGiving(
        "Upload a 360Giving file: JSON (a grant package) or CSV (the standard's columns)."
    )


def grants_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise NotThreeSixtyGiving("The CSV file is empty.") from None
    if "Identifier" not in header:
        raise NotThreeSixtyGiving(
            'The CSV file has no "Identifier" column: use the 360Giving standard\'s column titles.'
        )
    grants: list[dict[str, Any]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            grants.append(_grant_from_row(header, row))
    except csv.Error as exc:
        raise NotThreeSixtyGiving(f"The CSV file cannot be read (line {reader.line_num}: {exc}).") from None
    if not grants:
        raise NotThreeSixtyGiving("The CSV file has a header but no grants.")
    return grants


def _value(key: str, cell: str) -> Any:
    if key in NUMBER_KEYS:
        try:
            number = Decimal(cell.replace(",", ""))
        except InvalidOperation:
            return cell  # the schema reports it: "must be a number"
        return int(number) if number == number.to_integral_value() else float(number)
    return cell


def _grant_from_row(header: list[str], row: list[str]) -> dict[str, Any]:
    grant: dict[str, Any] = {}
    for title, cell in zip(header, row, strict=False):
        cell = cell.strip()
        if not cell:
            continue
        if title in GRANT_COLUMNS:
            grant[GRANT_COLUMNS[title]] = _value(GRANT_COLUMNS[title], cell)
            continue
        found = FIELD_HEADING.match(title)
        if not found or found["list"] not in LISTS:
            continue  # a column prospecting does not need (classifications, transactions, ...)
        key, fields = LISTS[found["list"]]
        nested = fields.get(found["field"])
        if nested is None:
            continue
        items: list[dict[str, Any]] = grant.setdefault(key, [])
        index = int(found["index"] or 0)
        while len(items) <= index:
            items.append({})
        items[index][nested] = _value(nested, cell)
    for key, _fields in LISTS.values():
        if key in grant:
            grant[key] = [item for item in grant[key] if item]
    return grant


# --- problems in words ---------------------------------------------------------------------------------------


def _check(package: dict[str, Any], rows: list[int] | None) -> None:
    errors = sorted(package_validator().iter_errors(package), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    listed = package.get("grants")
    grants: list[Any] = listed if isinstance(listed, list) else []
    problems = [_problem(error, grants, rows) for error in errors]
    unique = list(dict.fromkeys(problems))
    noun = "problem" if len(unique) == 1 else "problems"
    raise NotThreeSixtyGiving(
        f"The file does not follow the 360Giving Data Standard: {len(unique)} {noun}.",
        unique[:MAX_PROBLEMS],
        total=len(unique),
    )


def _problem(error: ValidationError, grants: list[Any], rows: list[int] | None) -> Problem:
    path = list(error.absolute_path)
    if not path or path[0] != "grants" or len(path) < 2 or not isinstance(path[1], int):
        field = ".".join(str(p) for p in path)
        return Problem("The file", field, _message(error))
    index = path[1]
    grant = grants[index] if index < len(grants) else {}
    if rows is not None:
        where = f"Row {rows[index]}"
    else:
        ident = grant.get("id") if isinstance(grant, dict) else None
        where = f"Grant {index + 1}" + (f" ({ident})" if isinstance(ident, str) and ident else "")
    return Problem(where, _field(path[2:]), _message(error))


def _field(path: list[Any]) -> str:
    if not path:
        return ""
    title = TITLES.get(str(path[0]), str(path[0]))
    if len(path) >= 3 and isinstance(path[1], int):
        nested = NESTED_TITLES.get(str(path[2]), str(path[2]))
        return f"{title}:{nested}" if path[1] == 0 else f"{title}:{path[1]}:{nested}"
    return title


def _message(error: ValidationError) -> str:
    instance = error.instance
    shown = repr(instance) if len(repr(instance)) <= 60 else repr(instance)[:57] + "..."
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else str(error.message)
        return f"{TITLES.get(missing, NESTED_TITLES.get(missing, missing))} is missing."
    if (
        error.validator in ("anyOf", "oneOf")
        and isinstance(instance, dict)
        and "required" in str(error.validator_value)
    ):
        needed = (
            "id",
            "title",
            "description",
            "currency",
            "amountAwarded",
            "awardDate",
            "fundingOrganization",
        )
        absent = [TITLES.get(k, k) for k in needed if k not in instance]
        if "recipientOrganization" not in instance and "recipientIndividual" not in instance:
            absent.append("Recipient Org (or Recipient Ind)")
        if absent:
            return "Missing: " + ", ".join(absent) + "."
        if "recipientOrganization" in instance and "recipientIndividual" in instance:
            return "Give a Recipient Org or a Recipient Ind, not both."
        return "The grant is not valid."
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"Must be {' or '.join('a ' + str(k) for k in kinds)}; found {shown}."
    if error.validator == "oneOf" and "pattern" in str(error.validator_value):
        return f"Must be a date like 2025-04-01 (or a full date-time); found {shown}."
    if error.validator == "enum":
        return f"{shown} is not one of the standard's codes."
    if error.validator == "format":
        return f"Must be a {error.validator_value}; found {shown}."
    if error.validator == "minItems":
        return "Must not be empty."
    return str(error.message)[:200]
