"""Builders for funding data. They flush, never commit: the test decides."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from foundation.bids import funders
from foundation.bids.models import (
    DigestSent,
    Funder,
    FunderType,
    FundingOpportunity,
    InterestArea,
    InterestTheme,
    OpportunityArea,
    OpportunityStatus,
    OpportunityTheme,
    ProspectFunder,
    ProspectImport,
    Theme,
)
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import utcnow

_seq = itertools.count(1)


def make_funder(
    name: str | None = None, kind: FunderType = FunderType.TRUST_OR_FOUNDATION, **fields
) -> Funder:
    n = next(_seq)
    name = name or f"Test Funder {n}"
    funder = Funder(name=name, name_key=funders.name_key(name), funder_type=kind, **fields)
    db.session.add(funder)
    db.session.flush()
    return funder


def make_opportunity(
    funder: Funder | None = None,
    status: OpportunityStatus = OpportunityStatus.PUBLISHED,
    themes: tuple[Theme, ...] = (Theme.SPORT,),
    areas: tuple[str, ...] = ("Calne",),
    deadline: date | None = None,
    published_days_ago: int = 30,
    programme: str | None = None,
    min_pence: int = 100_000,
    max_pence: int = 500_000,
    consortium: bool = False,
    suggested_by: User | None = None,
    suggested_for: Organisation | None = None,
) -> FundingOpportunity:
    n = next(_seq)
    opportunity = FundingOpportunity(
        funder=funder or make_funder(),
        programme=programme or f"Programme {n}",
        min_pence=min_pence,
        max_pence=max_pence,
        deadline=deadline or date.today() + timedelta(days=60),
        accepts_consortium=consortium,
        status=status,
        published_at=utcnow() - timedelta(days=published_days_ago)
        if status is not OpportunityStatus.SUGGESTED
        else None,
        suggested_by=suggested_by,
        suggested_for=suggested_for,
        theme_rows=[OpportunityTheme(theme=t) for t in themes],
        area_rows=[OpportunityArea(area=a) for a in areas],
    )
    db.session.add(opportunity)
    db.session.flush()
    return opportunity


def add_interests(user: User, themes: tuple[Theme, ...] = (), areas: tuple[str, ...] = ()) -> None:
    db.session.add_all(InterestTheme(user_id=user.id, theme=t) for t in themes)
    db.session.add_all(InterestArea(user_id=user.id, area=a) for a in areas)
    db.session.flush()


def make_import(by: User | None = None, funders_found: int = 2) -> ProspectImport:
    n = next(_seq)
    record = ProspectImport(
        filename=f"grants-{n}.json", file_format="json", grant_count=10, matched_grant_count=funders_found,
        uploaded_by=by,
    )  # fmt: skip
    record.funders = [
        ProspectFunder(
            org_id=f"GB-CHC-99{n:03d}{i:02d}",
            name=f"Prospect {n}-{i}",
            grant_count=1,
            local_grant_count=1,
            youth_grant_count=0,
            total_pence=100_000 * (i + 1),
            first_award=date(2025, 1, 1),
            last_award=date(2025, 6, 1),
        )  # fmt: skip
        for i in range(funders_found)
    ]
    db.session.add(record)
    db.session.flush()
    return record


def bids_world(staff: User, member: User, org: Organisation) -> dict[str, int]:
    """For the permissions matrix: a published opportunity, a funder and an import."""
    funder = make_funder("Matrix Trust", org_id="GB-CHC-9999901")
    opportunity = make_opportunity(funder, themes=(Theme.ARTS,), areas=("Chippenham",))
    make_opportunity(funder, OpportunityStatus.SUGGESTED, suggested_by=member, suggested_for=org)
    add_interests(member, (Theme.ARTS,), ("Chippenham",))
    record = make_import(by=staff)
    return {"funder_id": funder.id, "opportunity_id": opportunity.id, "import_id": record.id}


def grow_bids(i: int, staff: User, member: User, org: Organisation) -> None:
    """For the query-count guard: more funders, opportunities of every state (with themes and areas),
    suggestions, interests, digests and imports."""
    funder = make_funder(f"Growth Trust {i}", org_id=f"GB-CHC-98{i:05d}")
    for status in OpportunityStatus:
        make_opportunity(
            funder, status, themes=(Theme.ARTS, Theme.SPORT), areas=("Chippenham", "Calne"),
            suggested_by=member if status in (OpportunityStatus.SUGGESTED, OpportunityStatus.REJECTED) else None,
            suggested_for=org if status in (OpportunityStatus.SUGGESTED, OpportunityStatus.REJECTED) else None,
            consortium=True,
        )  # fmt: skip
    db.session.add(
        DigestSent(
            user_id=member.id,
            week_starting=date(2020, 1, 6) + timedelta(weeks=i),
            new_count=1,
            closing_count=0,
        )
    )
    make_import(by=staff, funders_found=3)
