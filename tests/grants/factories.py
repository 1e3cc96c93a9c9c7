"""Builders for seed-grant test data. They flush, never commit."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from foundation.extensions import db
from foundation.grants import money
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    BudgetLine,
    Criterion,
    GrantRound,
    RoundQuestion,
    RoundStatus,
)
from foundation.ledger import service as ledger
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
        money.allocate(round_, budget_pence, by)
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


def make_awarded_grant(
    round_: GrantRound,
    org: Organisation,
    amount_pence: int = 200_000,
    requested_pence: int | None = None,
    towns: tuple[str, ...] = ("Chippenham",),
    title: str | None = None,
    instalments: tuple[int, ...] | None = None,
    paid: int = 0,
    reached: int | None = None,
    report_status: str = "accepted",
    outcome: str | None = None,
    by: User | None = None,
):
    """An awarded application with its decision, grant, instalments and ledger entries, written directly.

    `instalments` are the planned payments (default: the whole amount in one); the first `paid` of them are paid,
    each with a ledger PAYMENT. With `reached`, an end-of-grant report in `report_status` is added. The round's
    budget must cover the award.
    """
    from foundation.grants.models import (
        Decision,
        DecisionOutcome,
        Grant,
        GrantReport,
        GrantStatus,
        Instalment,
        ReportStatus,
    )
    from foundation.ledger.models import TransactionKind

    requested = requested_pence if requested_pence is not None else amount_pence
    app = make_application(
        round_, org, by=by, status=ApplicationStatus.AWARDED, amount_pence=requested, towns=towns, title=title
    )
    chosen = (
        DecisionOutcome(outcome)
        if outcome
        else (DecisionOutcome.AWARD_FULL if amount_pence == requested else DecisionOutcome.AWARD_PART)
    )
    decided_by_id = by.id if by else None
    db.session.add(
        Decision(
            application_id=app.id, outcome=chosen, amount_pence=amount_pence, decided_by_id=decided_by_id
        )
    )
    grant = Grant(
        application_id=app.id, round_id=round_.id, organisation_id=org.id, amount_pence=amount_pence,
        status=GrantStatus.ACTIVE, report_due_on=date.today() + timedelta(days=300), accepted_at=utcnow(),
    )  # fmt: skip
    db.session.add(grant)
    db.session.flush()
    ledger.transfer(
        TransactionKind.AWARD, f"Award to {org.name}", ("grant", grant.id), money.round_account(round_),
        money.grant_account(grant), amount_pence, by, money.tags(round_, grant),
    )  # fmt: skip
    plan = instalments or (amount_pence,)
    assert sum(plan) == amount_pence, "instalments must add up to the amount awarded"
    for n, part in enumerate(plan):
        inst = Instalment(grant_id=grant.id, due_on=date.today() + timedelta(days=30 * n), amount_pence=part)
        db.session.add(inst)
        db.session.flush()
        if n < paid:
            txn = ledger.transfer(
                TransactionKind.PAYMENT, f"Instalment {n + 1}", ("instalment", inst.id), money.grant_account(grant),
                ledger.account(ledger.PAID_OUT), part, by, money.tags(round_, grant),
            )  # fmt: skip
            inst.paid_at = utcnow()
            inst.payment_reference = f"BACS-{inst.id}"
            inst.transaction_id = txn.id
    if reached is not None:
        db.session.add(
            GrantReport(
                grant_id=grant.id, status=ReportStatus(report_status), what_happened="Sessions ran weekly.",
                young_people_reached=reached, spent_pence=amount_pence,
            )
        )  # fmt: skip
    db.session.flush()
    db.session.refresh(grant)
    return grant


def make_decided_grant(
    round_: GrantRound,
    org: Organisation,
    staff: User,
    amount_pence: int = 200_000,
    requested_pence: int | None = None,
    accepted_by: User | None = None,
    title: str | None = None,
):
    """An application decided through the real service (award in full, or in part when `requested_pence` is
    larger): a grant OFFERED with the standard conditions, accepted by `accepted_by` (an admin) if given."""
    from foundation.grants import awards, decisions
    from foundation.grants.models import DecisionOutcome

    requested = requested_pence if requested_pence is not None else amount_pence
    app = make_application(round_, org, by=staff, amount_pence=requested, title=title)
    outcome = DecisionOutcome.AWARD_FULL if requested == amount_pence else DecisionOutcome.AWARD_PART
    decisions.decide(app, staff, decisions.DecisionInput(outcome, amount_pence=amount_pence))
    grant = app.grant
    assert grant is not None
    if accepted_by is not None:
        awards.accept_grant(grant, accepted_by, awards.offer_fingerprint(grant))
    db.session.flush()
    return grant


def make_review(
    application: Application,
    reviewer: User,
    scores: dict[str, int | str],
    by: User | None = None,
    submit: bool = True,
):
    """A panel review through the real services: assigned, no conflict declared, scored, submitted.

    `scores` maps criterion names to a score or "n/a" (given with a reason). Needs a request context (the
    services link to the panel pages in notifications).
    """
    from foundation.grants import reviews

    assignment = reviews.assign(application, reviewer, by or reviewer, notify_reviewer=False)
    reviews.declare(assignment, reviewer, has_conflict=False)
    by_name = {c.name: c for c in application.round.criteria}
    entries = {
        by_name[name].id: (
            reviews.ScoreInput(not_applicable=True, na_reason="Does not apply to this project")
            if value == "n/a"
            else reviews.ScoreInput(score=int(value))
        )
        for name, value in scores.items()
    }
    reviews.save_scores(assignment, reviewer, entries)
    if submit:
        reviews.submit_review(assignment, reviewer)
    db.session.flush()
    return assignment
