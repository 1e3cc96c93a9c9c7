"""UK identifiers: postcodes, charity and company numbers."""

from __future__ import annotations

import re

POSTCODE_RE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
CHARITY_RE = re.compile(r"^[0-9]{6,7}$")
COMPANY_RE = re.compile(r"^(?:[0-9]{8}|(?:SC|NI|OC|SO|NC|R0|RC|IP|SP|LP|SL|FC|GE|CE|CS)[0-9]{6})$")


def normalise_postcode(raw: str) -> str | None:
    """Upper-case with one space before the inward code, or None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if not 5 <= len(compact) <= 7:
        return None
    formatted = f"{compact[:-3]} {compact[-3:]}"
    return formatted if POSTCODE_RE.match(formatted) else None


def normalise_charity_number(raw: str) -> str | None:
    """Charity Commission (England & Wales) numbers: 6 or 7 digits, e.g. 1012345."""
    value = re.sub(r"\s+", "", raw or "")
    return value if CHARITY_RE.match(value) else None


def normalise_company_number(raw: str) -> str | None:
    """Companies House numbers are 8 characters; leading zeros are significant and kept (or restored)."""
    value = re.sub(r"\s+", "", raw or "").upper()
    if value.isdigit() and 1 <= len(value) <= 8:
        value = value.zfill(8)
    return value if COMPANY_RE.match(value) else None
