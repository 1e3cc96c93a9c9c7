"""Consortium bids to funders. This part: the register of funders, the funding opportunities they offer (suggested
by members, published by staff, closed after their deadline), members' interests with the weekly digest sent to
them, and funder prospecting from 360Giving open data (only the summary of each import is kept).

Money is integer pence. Themes and areas of an opportunity or an interest are rows of their own, so lists filter
on them in SQL and load them in one query per page. Bids, partners, budgets and awards will hang off `Funder` and
`FundingOpportunity`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.extensions import Model
from foundation.members.models import Organisation, User
from foundation.types import UTCDateTime, enum_column, utcnow

# Far above any grant a youth group would bid for: a slipped key is refused before it reaches the database.
MAX_AMOUNT_PENCE = 10_000_000 * 100


class FunderType(enum.Enum):
    TRUST_OR_FOUNDATION = "trust_or_foundation"
    LOTTERY = "lottery"
    STATUTORY = "statutory"
    POLICE_AND_CRIME_COMMISSIONER = "police_and_crime_commissioner"
    BUSINESS = "business"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return {
            FunderType.TRUST_OR_FOUNDATION: "Trust or foundation",
            FunderType.LOTTERY: "Lottery",
            FunderType.STATUTORY: "Statutory (council or government)",
            FunderType.POLICE_AND_CRIME_COMMISSIONER: "Police and Crime Commissioner",
            FunderType.BUSINESS: "Business",
            FunderType.INDIVIDUAL: "Individual",
        }[self]


class Theme(enum.Enum):
    """What a funder pays for, in the words youth work uses."""

    MENTAL_HEALTH = "mental_health"
    SPORT = "sport"
    ARTS = "arts"
    EMPLOYABILITY = "employability"
    YOUTH_VOICE = "youth_voice"
    SAFEGUARDING = "safeguarding"
    INCLUSION = "inclusion"
    DIGITAL = "digital"
    OUTDOOR_LEARNING = "outdoor_learning"
    DETACHED_YOUTH_WORK = "detached_youth_work"
    CRIME_PREVENTION = "crime_prevention"
    CORE_COSTS = "core_costs"

    @property
    def label(self) -> str:
        return {
            Theme.MENTAL_HEALTH: "Mental health and wellbeing",
            Theme.SPORT: "Sport and physical activity",
            Theme.ARTS: "Arts and culture",
            Theme.EMPLOYABILITY: "Employability and skills",
            Theme.YOUTH_VOICE: "Youth voice and participation",
            Theme.SAFEGUARDING: "Safeguarding",
            Theme.INCLUSION: "Inclusion and equality",
            Theme.DIGITAL: "Digital",
            Theme.OUTDOOR_LEARNING: "Outdoor learning",
            Theme.DETACHED_YOUTH_WORK: "Detached and outreach youth work",
            Theme.CRIME_PREVENTION: "Crime and violence prevention",
            Theme.CORE_COSTS: "Core costs",
        }[self]


# The towns of Wiltshire and Swindon an opportunity can be for (the members' towns, the seed grants' towns and the
# other market towns), and the whole county.
TOWNS = (
    "Amesbury", "Bradford on Avon", "Calne", "Chippenham", "Corsham", "Cricklade", "Devizes", "Highworth",
    "Malmesbury", "Marlborough", "Melksham", "Pewsey", "Royal Wootton Bassett", "Salisbury", "Swindon", "Tidworth",
    "Trowbridge", "Warminster", "Westbury",
)  # fmt: skip
ALL_AREAS = "All of Wiltshire and Swindon"
AREA_CHOICES = (ALL_AREAS, *TOWNS)


class OpportunityStatus(enum.Enum):
    SUGGESTED = "suggested"  # by a member, waiting for staff
    PUBLISHED = "published"  # open: members see it, the digest sends it
    CLOSED = "closed"  # its deadline passed
    REJECTED = "rejected"  # staff turned the suggestion down, with a reason
    ARCHIVED = "archived"  # withdrawn by staff

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Funder(Model):
    __tablename__ = "funder"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The name as compared for duplicates: lower case, spaces collapsed, "the" and punctuation dropped.
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    funder_type: Mapped[FunderType] = mapped_column(enum_column(FunderType), index=True)
    org_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)  # e.g. GB-CHC-1234567
    website: Mapped[str | None] = mapped_column(sa.String(300))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()


class FundingOpportunity(Model):
    __tablename__ = "funding_opportunity"
    __table_args__ = (
        sa.CheckConstraint("min_pence > 0", name="min_positive"),
        sa.CheckConstraint("max_pence >= min_pence", name="max_at_least_min"),
        sa.CheckConstraint(f"max_pence <= {MAX_AMOUNT_PENCE}", name="max_not_absurd"),
        # The open list and the digest read published opportunities by deadline.
        sa.Index("ix_funding_opportunity_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(sa.ForeignKey("funder.id"), index=True)
    programme: Mapped[str] = mapped_column(sa.String(200))
    min_pence: Mapped[int] = mapped_column(sa.BigInteger)
    max_pence: Mapped[int] = mapped_column(sa.BigInteger)
    deadline: Mapped[date]
    eligibility: Mapped[str] = mapped_column(sa.Text, default="")
    accepts_consortium: Mapped[bool] = mapped_column(default=False)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[OpportunityStatus] = mapped_column(enum_column(OpportunityStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # A member's suggestion: who, for which of their organisations.
    suggested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    suggested_for_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    funder: Mapped[Funder] = relationship()
    suggested_by: Mapped[User | None] = relationship(foreign_keys=[suggested_by_id])
    suggested_for: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    theme_rows: Mapped[list[OpportunityTheme]] = relationship(
        cascade="all, delete-orphan", order_by="OpportunityTheme.theme"
    )
    area_rows: Mapped[list[OpportunityArea]] = relationship(
        cascade="all, delete-orphan", order_by="OpportunityArea.area"
    )

    @property
    def themes(self) -> list[Theme]:
        return [row.theme for row in self.theme_rows]

    @property
    def areas(self) -> list[str]:
        return [row.area for row in self.area_rows]


class OpportunityTheme(Model):
    __tablename__ = "funding_opportunity_theme"

    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_opportunity.id"), primary_key=True)
    theme: Mapped[Theme] = mapped_column(enum_column(Theme), primary_key=True, index=True)


class OpportunityArea(Model):
    __tablename__ = "funding_opportunity_area"

    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_opportunity.id"), primary_key=True)
    area: Mapped[str] = mapped_column(sa.String(60), primary_key=True, index=True)


class InterestTheme(Model):
    """A theme a person wants to hear about in the weekly digest."""

    __tablename__ = "funding_interest_theme"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    theme: Mapped[Theme] = mapped_column(enum_column(Theme), primary_key=True)


class InterestArea(Model):
    """A town (or the whole county) a person wants to hear about in the weekly digest."""

    __tablename__ = "funding_interest_area"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    area: Mapped[str] = mapped_column(sa.String(60), primary_key=True)


class DigestSent(Model):
    """One weekly digest sent to one person: the unique week keeps a second run from sending it again."""

    __tablename__ = "funding_digest_sent"
    __table_args__ = (sa.UniqueConstraint("user_id", "week_starting", name="uq_funding_digest_user_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    week_starting: Mapped[date]  # the Monday (Europe/London) of the week it was for
    new_count: Mapped[int]
    closing_count: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProspectImport(Model):
    """What a 360Giving file said, kept without the file: who uploaded it, its size in grants, and per funder the
    grants that concern Wiltshire and Swindon or youth work."""

    __tablename__ = "funder_prospect_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    file_format: Mapped[str] = mapped_column(sa.String(4))  # "json" or "csv"
    grant_count: Mapped[int]
    matched_grant_count: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    uploaded_by: Mapped[User | None] = relationship()
    funders: Mapped[list[ProspectFunder]] = relationship(
        back_populates="prospect_import",
        cascade="all, delete-orphan",
        order_by="(ProspectFunder.total_pence.desc(), ProspectFunder.id)",
    )


class ProspectFunder(Model):
    __tablename__ = "funder_prospect"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("funder_prospect_import.id"), index=True)
    org_id: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(200))
    grant_count: Mapped[int]
    local_grant_count: Mapped[int]  # to recipients or beneficiaries in Wiltshire and Swindon
    youth_grant_count: Mapped[int]  # for youth work
    total_pence: Mapped[int] = mapped_column(sa.BigInteger)  # GBP grants only
    first_award: Mapped[date | None]
    last_award: Mapped[date | None]
    added_funder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("funder.id"))

    prospect_import: Mapped[ProspectImport] = relationship(back_populates="funders")
    added_funder: Mapped[Funder | None] = relationship()
