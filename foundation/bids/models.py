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
from foundation.towns import TOWNS
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


# --- consortium bids -------------------------------------------------------------------------------------------


class BidStatus(enum.Enum):
    IDEA = "idea"
    FORMING = "forming"  # partners are being invited
    DRAFTING = "drafting"  # partners write their parts
    SIGN_OFF = "sign_off"  # with the Foundation's trustees for internal sign-off; parts are frozen
    SUBMITTED = "submitted"  # sent to the funder
    AWARDED = "awarded"
    PART_AWARDED = "part_awarded"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            BidStatus.IDEA: "Idea",
            BidStatus.FORMING: "Forming consortium",
            BidStatus.DRAFTING: "Drafting",
            BidStatus.SIGN_OFF: "Internal sign-off",
            BidStatus.SUBMITTED: "Submitted",
            BidStatus.AWARDED: "Awarded",
            BidStatus.PART_AWARDED: "Part awarded",
            BidStatus.DECLINED: "Declined",
            BidStatus.WITHDRAWN: "Withdrawn",
        }[self]

    @property
    def finished(self) -> bool:
        return self in (BidStatus.AWARDED, BidStatus.PART_AWARDED, BidStatus.DECLINED, BidStatus.WITHDRAWN)

    @property
    def parts_open(self) -> bool:
        """Partners can still write and change their parts."""
        return self in (BidStatus.IDEA, BidStatus.FORMING, BidStatus.DRAFTING)


# The Foundation's management fee is a percentage of the partners' budgets, kept in basis points (1000 = 10%).
DEFAULT_FEE_BASIS_POINTS = 1000
MAX_FEE_BASIS_POINTS = 2500


class Bid(Model):
    """A consortium's bid to one funding opportunity, led by the Foundation (no lead organisation) or by a member
    organisation, with the Foundation as the accountable body."""

    __tablename__ = "bid"
    __table_args__ = (
        sa.CheckConstraint(
            f"fee_basis_points >= 0 AND fee_basis_points <= {MAX_FEE_BASIS_POINTS}", name="fee_in_range"
        ),
        sa.Index("ix_bid_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_opportunity.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    case_for_support: Mapped[str] = mapped_column(sa.Text, default="")
    lead_organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    status: Mapped[BidStatus] = mapped_column(enum_column(BidStatus), default=BidStatus.IDEA)
    fee_basis_points: Mapped[int] = mapped_column(default=DEFAULT_FEE_BASIS_POINTS)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the bid asked for when it was submitted (the parts and the fee then), kept as sent.
    asked_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    funder_feedback: Mapped[str | None] = mapped_column(sa.Text)

    opportunity: Mapped[FundingOpportunity] = relationship()
    lead_organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    partners: Mapped[list[BidPartner]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="BidPartner.id"
    )
    steps: Mapped[list[BidStep]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="BidStep.id"
    )
    tasks: Mapped[list[BidTask]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="(BidTask.due, BidTask.id)"
    )
    documents: Mapped[list[BidDocument]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="BidDocument.id.desc()"
    )
    award: Mapped[BidAward | None] = relationship(back_populates="bid", cascade="all, delete-orphan")


class BidStep(Model):
    """Each move of a bid from one state to the next: who, when, and any note (a reason, the funder's feedback)."""

    __tablename__ = "bid_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), index=True)
    from_status: Mapped[BidStatus | None] = mapped_column(enum_column(BidStatus))
    to_status: Mapped[BidStatus] = mapped_column(enum_column(BidStatus))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(2000))

    bid: Mapped[Bid] = relationship(back_populates="steps")
    by: Mapped[User | None] = relationship()


class BidPartnerStatus(enum.Enum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class BidPartner(Model):
    """A member organisation in a bid's consortium (the lead organisation too), and the part it writes."""

    __tablename__ = "bid_partner"
    __table_args__ = (sa.UniqueConstraint("bid_id", "organisation_id", name="uq_bid_partner_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    status: Mapped[BidPartnerStatus] = mapped_column(
        enum_column(BidPartnerStatus), default=BidPartnerStatus.INVITED
    )
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The partner's part of the bid.
    activities: Mapped[str] = mapped_column(sa.Text, default="")
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    part_updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    part_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bid: Mapped[Bid] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])
    part_updated_by: Mapped[User | None] = relationship(foreign_keys=[part_updated_by_id])
    reach_rows: Mapped[list[PartReach]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartReach.town"
    )
    budget_lines: Mapped[list[BidBudgetLine]] = relationship(
        back_populates="partner",
        cascade="all, delete-orphan",
        order_by="(BidBudgetLine.category, BidBudgetLine.id)",
    )

    @property
    def budget_pence(self) -> int:
        return sum(line.amount_pence for line in self.budget_lines)

    @property
    def young_people(self) -> int:
        return sum(row.young_people for row in self.reach_rows)

    @property
    def missing(self) -> list[str]:
        """What the part still lacks before the bid can go for sign-off."""
        gaps = []
        if not self.activities.strip():
            gaps.append("its activities")
        if not self.outcomes.strip():
            gaps.append("its outcomes")
        if not self.reach_rows:
            gaps.append("the young people it will reach")
        if not self.budget_lines:
            gaps.append("a budget")
        return gaps


class PartReach(Model):
    """How many young people a partner will reach in one town."""

    __tablename__ = "bid_part_reach"
    __table_args__ = (sa.CheckConstraint("young_people > 0", name="young_people_positive"),)

    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_partner.id"), primary_key=True)
    town: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    young_people: Mapped[int]

    partner: Mapped[BidPartner] = relationship(back_populates="reach_rows")


class BudgetCategory(enum.Enum):
    STAFF = "staff"
    ACTIVITY = "activity"
    VENUE_HIRE = "venue_hire"
    OVERHEADS = "overheads"

    @property
    def label(self) -> str:
        return {
            BudgetCategory.STAFF: "Staff",
            BudgetCategory.ACTIVITY: "Activity costs",
            BudgetCategory.VENUE_HIRE: "Venue hire",
            BudgetCategory.OVERHEADS: "Overheads",
        }[self]


class BidBudgetLine(Model):
    __tablename__ = "bid_budget_line"
    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(f"amount_pence <= {MAX_AMOUNT_PENCE}", name="amount_not_absurd"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_partner.id"), index=True)
    category: Mapped[BudgetCategory] = mapped_column(enum_column(BudgetCategory))
    description: Mapped[str] = mapped_column(sa.String(200))
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)

    partner: Mapped[BidPartner] = relationship(back_populates="budget_lines")


class BidTask(Model):
    """Something to do for the bid, by someone, by a date; reminded before it is due."""

    __tablename__ = "bid_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    due: Mapped[date] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bid: Mapped[Bid] = relationship(back_populates="tasks")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])


class BidTaskReminder(Model):
    """A reminder sent to a task's owner, once per window (foundation/reminders.py)."""

    __tablename__ = "bid_task_reminder"
    __table_args__ = (sa.UniqueConstraint("task_id", "days_before", name="uq_bid_task_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_task.id"), index=True)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BidDeadlineReminder(Model):
    """A reminder of the funder's deadline sent to a bid's team, once per window."""

    __tablename__ = "bid_deadline_reminder"
    __table_args__ = (sa.UniqueConstraint("bid_id", "days_before", name="uq_bid_deadline_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), index=True)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BidDocument(Model):
    """A file shared with the bid's team (letters of support, the trustees' minute, the funder's form): stored
    privately like organisation documents, downloadable only by the team and staff."""

    __tablename__ = "bid_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship()


# --- awards, sub-awards and monitoring ---------------------------------------------------------------------------


class BidAward(Model):
    """What the funder awarded a bid (in full or in part): the amount, its conditions, and the Foundation's
    management fee out of it. Money the funder pays arrives in a restricted fund account for this award."""

    __tablename__ = "bid_award"
    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint(f"amount_pence <= {MAX_AMOUNT_PENCE}", name="amount_not_absurd"),
        sa.CheckConstraint("fee_pence >= 0 AND fee_pence < amount_pence", name="fee_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bid.id"), unique=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    fee_pence: Mapped[int] = mapped_column(sa.BigInteger)  # the management fee out of the award
    conditions: Mapped[str] = mapped_column(sa.Text, default="")
    awarded_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="award")
    recorded_by: Mapped[User | None] = relationship()
    reporting_dates: Mapped[list[AwardReportingDate]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="AwardReportingDate.due"
    )
    payments: Mapped[list[FunderPayment]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="FunderPayment.id"
    )
    sub_awards: Mapped[list[SubAward]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="SubAward.id"
    )

    @property
    def for_partners_pence(self) -> int:
        return self.amount_pence - self.fee_pence


class AwardReportingDate(Model):
    """A date the funder wants a report by; the partners' monitoring returns are due before it."""

    __tablename__ = "bid_award_reporting_date"
    __table_args__ = (sa.UniqueConstraint("award_id", "due", name="uq_bid_award_reporting_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_award.id"), index=True)
    due: Mapped[date]

    award: Mapped[BidAward] = relationship(back_populates="reporting_dates")


class FunderPayment(Model):
    """Money the funder paid towards an award, as received by the Foundation."""

    __tablename__ = "bid_funder_payment"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_award.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    fee_pence: Mapped[int] = mapped_column(sa.BigInteger)  # the part of it taken as management fee
    received_on: Mapped[date]
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ledger_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"))

    award: Mapped[BidAward] = relationship(back_populates="payments")
    recorded_by: Mapped[User | None] = relationship()


class SubAward(Model):
    """The part of an award passed on to one partner (its budget share unless staff changed it)."""

    __tablename__ = "bid_sub_award"
    __table_args__ = (
        sa.UniqueConstraint("award_id", "partner_id", name="uq_bid_sub_award_partner"),
        sa.CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_award.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_partner.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)

    award: Mapped[BidAward] = relationship(back_populates="sub_awards")
    partner: Mapped[BidPartner] = relationship()
    instalments: Mapped[list[SubAwardInstalment]] = relationship(
        back_populates="sub_award", cascade="all, delete-orphan", order_by="SubAwardInstalment.id"
    )

    @property
    def paid_pence(self) -> int:
        return sum(i.amount_pence for i in self.instalments)


class SubAwardInstalment(Model):
    """A payment from the award's restricted fund to a partner."""

    __tablename__ = "bid_sub_award_instalment"
    __table_args__ = (sa.CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_award_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_sub_award.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    paid_on: Mapped[date]
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ledger_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transaction.id"))

    sub_award: Mapped[SubAward] = relationship(back_populates="instalments")
    paid_by: Mapped[User | None] = relationship()


# A partner's monitoring return is due this many days before the funder's reporting date, so the Foundation has
# time to put the consolidated return together.
RETURN_LEAD_DAYS = 14


class MonitoringReturn(Model):
    """One partner's monitoring return for one of the funder's reporting dates."""

    __tablename__ = "bid_monitoring_return"
    __table_args__ = (
        sa.UniqueConstraint("reporting_date_id", "partner_id", name="uq_bid_monitoring_return"),
        sa.CheckConstraint("sessions_delivered >= 0", name="sessions_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_date_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_award_reporting_date.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_partner.id"), index=True)
    due: Mapped[date] = mapped_column(index=True)
    sessions_delivered: Mapped[int] = mapped_column(default=0)
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    story: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reporting_date: Mapped[AwardReportingDate] = relationship()
    partner: Mapped[BidPartner] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    reach_rows: Mapped[list[ReturnReach]] = relationship(
        back_populates="monitoring_return", cascade="all, delete-orphan", order_by="ReturnReach.town"
    )
    spend_rows: Mapped[list[ReturnSpend]] = relationship(
        back_populates="monitoring_return", cascade="all, delete-orphan", order_by="ReturnSpend.category"
    )


class ReturnReach(Model):
    """Young people a partner reached in one town, as reported in a return."""

    __tablename__ = "bid_return_reach"
    __table_args__ = (sa.CheckConstraint("young_people > 0", name="young_people_positive"),)

    return_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_monitoring_return.id"), primary_key=True)
    town: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    young_people: Mapped[int]

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="reach_rows")


class ReturnSpend(Model):
    """What a partner spent against one kind of cost of its budget, as reported in a return."""

    __tablename__ = "bid_return_spend"
    __table_args__ = (sa.CheckConstraint("amount_pence >= 0", name="amount_not_negative"),)

    return_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_monitoring_return.id"), primary_key=True)
    category: Mapped[BudgetCategory] = mapped_column(enum_column(BudgetCategory), primary_key=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="spend_rows")


class ReturnReminder(Model):
    """A reminder sent to a partner about a monitoring return, once per window."""

    __tablename__ = "bid_return_reminder"
    __table_args__ = (sa.UniqueConstraint("return_id", "days_before", name="uq_bid_return_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("bid_monitoring_return.id"), index=True)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
