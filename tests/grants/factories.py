"""Builders for seed-grant test data. They flush, never commit."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from foundation.extensions import db
from foundation.grants import ledger
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    BudgetLine,
    Criterion,
    GrantRound,
    RoundQuestion,
    RoundStatus,
)
from foundation.members.models import Organisation, User
from foundation.types import utcnow

_seq = itertools.count(1)

DEFAULT_CRITERIA = (
    ("Need", "How clearly the project meets a need young people have.", 3, 5),
    ("Young people's voice", "Young people shaped the project.", 2, 5),
    ("Deliverability", "The plan, people and timetable are realistic.", 2, 5),
    ("Value for money", "Costs are reasonable for what is achieved.", 1, 5),
)


def fund(amount_pence: int = 10_000_000) -> None:
    """Put money in the seed-grant fund (an opening balance)."""
    ledger.deposit(amount_pence, "Opening balance", ("opening_balance", None))


def make_round(
    status: RoundStatus = RoundStatus.OPEN,
    budget_pence: int | None = 5_000_000,
    min_award_pence: int = 50_000,
    max_award_pence: int = 500_000,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    criteria: tuple[tuple[str, str, int, int], ...] = DEFAULT_CRITERIA,
    questions: tuple[str, ...] = ("How will young people lead this project?",),
    name: str | None = None,
    by: User | None = None,
) -> GrantRound:
    """A round in the given state; with a budget, the fund is topped up and the budget allocated via the ledger."""
    n = next(_seq)
    now = utcnow()
    round_ = GrantRound(
        name=name or f"Seed grants round {n}",
        code=f"R{n}",
        description="Small grants for new youth projects across Wiltshire and Swindon.",
        priorities="Young people's mental health; rural isolation.",
        eligibility="Member organisations in good standing.",
        opens_at=opens_at or now - timedelta(days=7),
        closes_at=closes_at or now + timedelta(days=21),
        min_award_pence=min_award_pence,
        max_award_pence=max_award_pence,
        status=status,
        created_by_id=by.id if by else None,
    )
    db.session.add(round_)
    db.session.flush()
    for position, (cname, description, weight, max_score) in enumerate(criteria):
        db.session.add(
            Criterion(
                round_id=round_.id, name=cname, description=description, weight=weight, max_score=max_score,
                position=position,
            )
        )  # fmt: skip
    for position, prompt in enumerate(questions):
        db.session.add(RoundQuestion(round_id=round_.id, prompt=prompt, position=position))
    db.session.flush()
    if budget_pence:
        fund(budget_pence)
        ledger.allocate(round_, budget_pence, by)
    db.session.refresh(round_)
    return round_


def make_application(
    round_: GrantRound,
    org: Organisation,
    by: User | None = None,
    status: ApplicationStatus = ApplicationStatus.SUBMITTED,
    amount_pence: int = 200_000,
    towns: tuple[str, ...] = ("Chippenham",),
    title: str | None = None,
) -> Application:
    """A complete application (budget lines add up), submitted with a reference unless it is a draft."""
    n = next(_seq)
    app = Application(
        round_id=round_.id,
        organisation_id=org.id,
        status=status,
        project_title=title or f"Youth project {n}",
        summary="Weekly sessions run with young people.",
        description="A project designed and led by young people, with trained youth workers.",
        towns=list(towns),
        young_people_count=40,
        age_min=11,
        age_max=18,
        starts_on=date.today() + timedelta(days=60),
        ends_on=date.today() + timedelta(days=240),
        amount_requested_pence=amount_pence,
        outcomes="Young people report feeling more confident.",
        partners="Local school",
        created_by_id=by.id if by else None,
    )
    db.session.add(app)
    db.session.flush()
    half = amount_pence // 2
    db.session.add(BudgetLine(application_id=app.id, item="Youth worker hours", cost_pence=half, position=0))
    db.session.add(
        BudgetLine(
            application_id=app.id, item="Activities and materials", cost_pence=amount_pence - half, position=1
        )
    )
    if status is not ApplicationStatus.DRAFT:
        app.reference = f"{round_.reference_prefix}-{round_.next_reference:04d}"
        round_.next_reference += 1
        app.submitted_at = utcnow()
        app.submitted_by_id = by.id if by else None
    db.session.flush()
    db.session.refresh(app)
    return app
