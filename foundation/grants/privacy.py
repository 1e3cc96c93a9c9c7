"""What Seed grants holds about a person: applications they wrote or submitted, their reviews (conflicts
declared, scores and comments), and the steps they took as staff (rounds, decisions, payments, reports; the
ledger's movements are in the ledger's own section). Closing an account keeps these records: applications, reviews and decisions are the Foundation's
record of how public money was given; the person's name and email go with the account itself."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from foundation.extensions import db
from foundation.grants.models import (
    Application,
    ApplicationEvent,
    Decision,
    Grant,
    GrantReport,
    GrantRound,
    Instalment,
    ReviewAssignment,
    RoundEvent,
    Score,
)
from foundation.members.models import User
from foundation.privacy import export_section, plain


def _application(a: Application) -> dict[str, Any]:
    return {
        "application_id": a.id,
        "reference": a.reference,
        "round": a.round.code,
        "organisation": a.organisation.name,
        "project_title": a.project_title,
        "status": a.status.value,
    }


@export_section(
    "grant_applications",
    covers=(
        "grant_application.created_by_id",
        "grant_application.submitted_by_id",
        "grant_application.late_accepted_by_id",
        "grant_application_event.by_id",
    ),
)
def _applications(user: User) -> dict[str, list[dict[str, Any]]]:
    mine = db.session.scalars(
        sa.select(Application)
        .where(
            sa.or_(
                Application.created_by_id == user.id,
                Application.submitted_by_id == user.id,
                Application.late_accepted_by_id == user.id,
            )
        )
        .order_by(Application.created_at)
        .options(joinedload(Application.round), joinedload(Application.organisation))
    )
    applications = [
        {
            **_application(a),
            "started_by_you": a.created_by_id == user.id,
            "submitted_by_you": a.submitted_by_id == user.id,
            "submitted_at": plain(a.submitted_at),
            "accepted_late_by_you": a.late_accepted_by_id == user.id,
            "late_reason": a.late_reason if a.late_accepted_by_id == user.id else None,
        }
        for a in mine
    ]
    events = db.session.scalars(
        sa.select(ApplicationEvent)
        .where(ApplicationEvent.by_id == user.id)
        .order_by(ApplicationEvent.created_at)
        .options(joinedload(ApplicationEvent.application).joinedload(Application.round))
    )
    history = [
        {
            "application_id": e.application_id,
            "reference": e.application.reference,
            "action": e.action.value,
            "message": e.message,
            "at": plain(e.created_at),
        }
        for e in events
    ]
    return {"applications": applications, "actions": history}


@export_section(
    "grant_reviews", covers=("grant_review_assignment.reviewer_id", "grant_review_assignment.assigned_by_id")
)
def _reviews(user: User) -> dict[str, list[dict[str, Any]]]:
    mine = db.session.scalars(
        sa.select(ReviewAssignment)
        .where(ReviewAssignment.reviewer_id == user.id)
        .order_by(ReviewAssignment.assigned_at)
        .options(
            joinedload(ReviewAssignment.application).joinedload(Application.round),
            joinedload(ReviewAssignment.application).joinedload(Application.organisation),
            selectinload(ReviewAssignment.scores).joinedload(Score.criterion),
        )
    )
    reviews = [
        {
            **_application(r.application),
            "assigned_at": plain(r.assigned_at),
            "conflict": r.conflict.value,
            "conflict_reason": r.conflict_reason,
            "declared_at": plain(r.declared_at),
            "submitted_at": plain(r.submitted_at),
            "scores": [
                {
                    "criterion": s.criterion.name,
                    "score": s.score,
                    "not_applicable": s.not_applicable,
                    "na_reason": s.na_reason,
                    "comment": s.comment,
                }
                for s in sorted(r.scores, key=lambda s: s.criterion.position)
            ],
        }
        for r in mine
    ]
    assigned = db.session.execute(
        sa.select(ReviewAssignment.application_id, ReviewAssignment.reviewer_id, ReviewAssignment.assigned_at)
        .where(ReviewAssignment.assigned_by_id == user.id)
        .order_by(ReviewAssignment.assigned_at)
    )
    assignments_made = [
        {"application_id": a, "reviewer_id": r, "assigned_at": plain(at)} for a, r, at in assigned
    ]
    return {"reviews": reviews, "assignments_made": assignments_made}


@export_section(
    "grant_staff_actions",
    covers=(
        "grant_round.created_by_id",
        "grant_round_event.by_id",
        "grant_decision.decided_by_id",
        "grant_instalment.paid_by_id",
        "grant_report.reviewed_by_id",
        "grant_award.closed_by_id",
    ),
)
def _staff_actions(user: User) -> dict[str, list[dict[str, Any]]]:
    rounds = db.session.scalars(
        sa.select(GrantRound).where(GrantRound.created_by_id == user.id).order_by(GrantRound.created_at)
    )
    steps = db.session.scalars(
        sa.select(RoundEvent)
        .where(RoundEvent.by_id == user.id)
        .order_by(RoundEvent.created_at)
        .options(joinedload(RoundEvent.round))
    )
    decisions = db.session.scalars(
        sa.select(Decision)
        .where(Decision.decided_by_id == user.id)
        .order_by(Decision.decided_at)
        .options(joinedload(Decision.application))
    )
    payments = db.session.scalars(
        sa.select(Instalment).where(Instalment.paid_by_id == user.id).order_by(Instalment.paid_at)
    )
    reports = db.session.scalars(
        sa.select(GrantReport).where(GrantReport.reviewed_by_id == user.id).order_by(GrantReport.reviewed_at)
    )
    closed = db.session.scalars(
        sa.select(Grant).where(Grant.closed_by_id == user.id).order_by(Grant.closed_at, Grant.id)
    )
    return {
        "rounds_created": [{"round": r.code, "name": r.name, "at": plain(r.created_at)} for r in rounds],
        "round_steps": [
            {
                "round": e.round.code,
                "from": e.from_status.value,
                "to": e.to_status.value,
                "at": plain(e.created_at),
            }
            for e in steps
        ],
        "decisions": [
            {
                "application_id": d.application_id,
                "reference": d.application.reference,
                "outcome": d.outcome.value,
                "amount_pence": d.amount_pence,
                "at": plain(d.decided_at),
            }
            for d in decisions
        ],
        "payments_recorded": [
            {
                "grant_id": i.grant_id,
                "amount_pence": i.amount_pence,
                "payment_reference": i.payment_reference,
                "at": plain(i.paid_at),
            }
            for i in payments
        ],
        "reports_reviewed": [
            {
                "grant_id": r.grant_id,
                "status": r.status.value,
                "message": r.staff_message,
                "at": plain(r.reviewed_at),
            }
            for r in reports
        ],
        "offers_withdrawn_or_ended": [
            {"grant_id": g.id, "status": g.status.value, "reason": g.closed_reason, "at": plain(g.closed_at)}
            for g in closed
        ],
    }


@export_section(
    "grant_offers_and_reports", covers=("grant_award.accepted_by_id", "grant_report.submitted_by_id")
)
def _offers_and_reports(user: User) -> dict[str, list[dict[str, Any]]]:
    accepted = db.session.scalars(
        sa.select(Grant)
        .where(Grant.accepted_by_id == user.id)
        .order_by(Grant.accepted_at)
        .options(joinedload(Grant.application), joinedload(Grant.organisation))
    )
    reports = db.session.scalars(
        sa.select(GrantReport)
        .where(GrantReport.submitted_by_id == user.id)
        .order_by(GrantReport.submitted_at)
        .options(joinedload(GrantReport.grant).joinedload(Grant.application))
    )
    return {
        "offers_accepted": [
            {
                "grant_id": g.id,
                "reference": g.application.reference,
                "organisation": g.organisation.name,
                "amount_pence": g.amount_pence,
                "conditions": g.conditions,
                "accepted_at": plain(g.accepted_at),
            }
            for g in accepted
        ],
        "reports_submitted": [
            {
                "grant_id": r.grant_id,
                "reference": r.grant.application.reference,
                "status": r.status.value,
                "what_happened": r.what_happened,
                "young_people_reached": r.young_people_reached,
                "spend_summary": r.spend_summary,
                "submitted_at": plain(r.submitted_at),
            }
            for r in reports
        ],
    }
