"""Gift Aid declarations, in HMRC's model wording, and which donations they make claimable.

A declaration is its own record: the wording it was made under, when, how, and the donor's name and home address
as HMRC needs them. It covers the gift it was made with and every later gift from the same email address (and
account, when signed in) until the donor cancels it; cancelling stops it covering gifts made after that moment.
A gift that buys the donor a benefit is never claimable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising.models import Donation, DonationStatus, GiftAidDeclaration
from foundation.members.models import User
from foundation.types import utcnow

WORDING_VERSION = "hmrc-model-2024"
BASIC_RATE_PERCENT = 25  # Gift Aid adds 25p for every £1 given (basic rate 20%, grossed up)

# UK postcodes: outward code (area, district) and inward code (sector, unit); the special GIR 0AA too.
POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})$")


def wording(charity_name: str | None = None) -> str:
    """HMRC's model declaration for a single donation and future ones, naming the charity that claims."""
    charity = charity_name or current_app.config["CHARITY_NAME"]
    return (
        f"I want to Gift Aid my donation and any donations I make in the future or have made in the past 4 years "
        f"to {charity}. I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax "
        f"than the amount of Gift Aid claimed on all my donations in that tax year it is my responsibility to pay "
        f"any difference."
    )


def normalise_postcode(raw: str) -> str:
    """Upper case with one space before the inward code; DomainError if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if not compact:
        raise DomainError("Enter your postcode.", field="postcode")
    if len(compact) < 5 or len(compact) > 7 or not POSTCODE.match(compact):
        raise DomainError(
            "Enter a UK postcode, like BA14 8JN. Gift Aid is for UK taxpayers.", field="postcode"
        )
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class DeclarationDetails:
    title: str | None
    first_name: str
    last_name: str
    house: str
    postcode: str
    uk_taxpayer: bool


def declare(
    details: DeclarationDetails, email: str, user: User | None, source: str = "online"
) -> GiftAidDeclaration:
    if not details.uk_taxpayer:
        raise DomainError(
            "Confirm that you are a UK taxpayer, or give without Gift Aid.", field="gift_aid_taxpayer"
        )
    for field, value, label in (
        ("gift_aid_first_name", details.first_name, "first name"),
        ("gift_aid_last_name", details.last_name, "last name"),
        ("gift_aid_house", details.house, "house name or number"),
    ):
        if not value.strip():
            raise DomainError(
                f"Enter your {label}: HMRC needs it to match you to your tax record.", field=field
            )
    try:
        postcode = normalise_postcode(details.postcode)
    except DomainError as exc:
        raise DomainError(exc.message, field="gift_aid_postcode") from exc
    declaration = GiftAidDeclaration(
        user=user,
        email=email.strip().lower(),
        title=(details.title or "").strip() or None,
        first_name=details.first_name.strip()[:35],
        last_name=details.last_name.strip()[:35],
        house=details.house.strip()[:40],
        postcode=postcode,
        wording_version=WORDING_VERSION,
        charity_name=current_app.config["CHARITY_NAME"],
        source=source,
        declared_at=utcnow(),
    )
    db.session.add(declaration)
    db.session.flush()
    return declaration


def current_declaration(email: str, user: User | None) -> GiftAidDeclaration | None:
    """The newest declaration not cancelled, made with this email address or by this account."""
    who = GiftAidDeclaration.email == email.strip().lower()
    if user is not None:
        who = sa.or_(who, GiftAidDeclaration.user_id == user.id)
    return db.session.scalar(
        sa.select(GiftAidDeclaration)
        .where(who, GiftAidDeclaration.cancelled_at.is_(None))
        .order_by(GiftAidDeclaration.declared_at.desc(), GiftAidDeclaration.id.desc())
        .limit(1)
    )


def current_declarations(
    donors: list[tuple[str, int | None]],
) -> dict[tuple[str, int | None], GiftAidDeclaration]:
    """`current_declaration` for many donors (email, account id) in one query: each donor's newest declaration not
    cancelled, made with that email address or by that account (donors with none are left out)."""
    if not donors:
        return {}
    emails = {email.strip().lower() for email, _ in donors}
    user_ids = {user_id for _, user_id in donors if user_id is not None}
    who: sa.ColumnElement[bool] = GiftAidDeclaration.email.in_(sorted(emails))
    if user_ids:
        who = sa.or_(who, GiftAidDeclaration.user_id.in_(sorted(user_ids)))
    newest_by_email: dict[str, GiftAidDeclaration] = {}
    newest_by_user: dict[int, GiftAidDeclaration] = {}
    for declaration in db.session.scalars(
        sa.select(GiftAidDeclaration)
        .where(who, GiftAidDeclaration.cancelled_at.is_(None))
        .order_by(GiftAidDeclaration.declared_at.desc(), GiftAidDeclaration.id.desc())
    ):
        newest_by_email.setdefault(declaration.email, declaration)
        if declaration.user_id is not None:
            newest_by_user.setdefault(declaration.user_id, declaration)
    found: dict[tuple[str, int | None], GiftAidDeclaration] = {}
    for email, user_id in donors:
        candidates = [newest_by_email.get(email.strip().lower())]
        if user_id is not None:
            candidates.append(newest_by_user.get(user_id))
        present = [c for c in candidates if c is not None]
        if present:
            found[(email, user_id)] = max(present, key=lambda d: (d.declared_at, d.id))
    return found


def declarations_of(user: User) -> list[GiftAidDeclaration]:
    return list(
        db.session.scalars(
            sa.select(GiftAidDeclaration)
            .where(
                sa.or_(GiftAidDeclaration.user_id == user.id, GiftAidDeclaration.email == user.email.lower())
            )
            .order_by(GiftAidDeclaration.declared_at.desc())
        )
    )


def cancel(declaration: GiftAidDeclaration, user: User) -> GiftAidDeclaration:
    if declaration.user_id != user.id and declaration.email != user.email.lower():
        raise DomainError("That declaration is not yours.")
    if declaration.cancelled_at is not None:
        raise Conflict("The declaration is already cancelled.")
    declaration.cancelled_at = utcnow()
    return declaration


def claimable() -> sa.ColumnElement[bool]:
    """Donations HMRC would pay Gift Aid on (join GiftAidDeclaration): received, not refunded, with a declaration
    that was in force when the money arrived, and no benefit to the donor."""
    return sa.and_(
        Donation.status == DonationStatus.SUCCEEDED,
        Donation.declaration_id.is_not(None),
        Donation.has_benefit.is_(False),
        sa.or_(
            GiftAidDeclaration.cancelled_at.is_(None), GiftAidDeclaration.cancelled_at > Donation.succeeded_at
        ),
    )


def gift_aid_on(amount_pence: int) -> int:
    return amount_pence * BASIC_RATE_PERCENT // 100


def in_force(declaration: GiftAidDeclaration | None, at: datetime) -> bool:
    return declaration is not None and (declaration.cancelled_at is None or declaration.cancelled_at > at)
