"""What funding holds about a person: the themes and towns they chose for the weekly digest, the digests sent to
them, the opportunities they suggested (with staff's answer), and the steps they took as staff. Closing an account
forgets the interests, so no digest goes again; suggestions stay, as the opportunities are the Foundation's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.bids import interests, opportunities
from foundation.bids.models import (
    Bid,
    BidAward,
    BidDocument,
    BidPartner,
    BidStep,
    BidTask,
    Funder,
    FunderPayment,
    FundingOpportunity,
    ProspectImport,
    SubAwardInstalment,
)
from foundation.extensions import db
from foundation.members.models import User
from foundation.privacy import export_section, on_close, plain


@export_section(
    "funding",
    covers=(
        "funding_interest_theme.user_id",
        "funding_interest_area.user_id",
        "funding_digest_sent.user_id",
        "funding_opportunity.suggested_by_id",
    ),
)
def _funding(user: User) -> dict[str, Any]:
    chosen = interests.interests_of(user)
    return {
        "interests": {
            "themes": sorted(t.label for t in chosen.themes),
            "towns": sorted(chosen.areas),
        },
        "digests_sent": [
            {
                "week_starting": plain(d.week_starting),
                "new_opportunities": d.new_count,
                "closing_soon": d.closing_count,
                "sent_at": plain(d.sent_at),
            }
            for d in interests.digests_of(user)
        ],
        "suggestions": [
            {
                "opportunity_id": o.id,
                "funder": o.funder.name,
                "programme": o.programme,
                "status": o.status.value,
                "suggested_at": plain(o.created_at),
                "rejection_reason": o.rejection_reason,
            }
            for o in opportunities.suggestions_of(user)
        ],
    }


@export_section(
    "funding_steps",
    covers=(
        "funder.created_by_id",
        "funding_opportunity.created_by_id",
        "funding_opportunity.decided_by_id",
        "funder_prospect_import.uploaded_by_id",
    ),
)
def _steps(user: User) -> dict[str, Any]:
    added = db.session.scalars(sa.select(Funder).where(Funder.created_by_id == user.id).order_by(Funder.id))
    made = db.session.scalars(
        sa.select(FundingOpportunity)
        .where(
            sa.or_(
                FundingOpportunity.created_by_id == user.id,
                FundingOpportunity.decided_by_id == user.id,
            )
        )
        .order_by(FundingOpportunity.id)
    )
    imports = db.session.scalars(
        sa.select(ProspectImport).where(ProspectImport.uploaded_by_id == user.id).order_by(ProspectImport.id)
    )
    return {
        "funders_added": [{"funder_id": f.id, "name": f.name} for f in added],
        "opportunities": [
            {
                "opportunity_id": o.id,
                "programme": o.programme,
                "added": o.created_by_id == user.id,
                "decided": o.decided_by_id == user.id,
            }
            for o in made
        ],
        "prospecting_imports": [
            {"import_id": i.id, "file": i.filename, "at": plain(i.uploaded_at)} for i in imports
        ],
    }


@export_section(
    "bids",
    covers=(
        "bid.created_by_id",
        "bid_step.by_id",
        "bid_partner.invited_by_id",
        "bid_partner.responded_by_id",
        "bid_partner.part_updated_by_id",
        "bid_task.owner_id",
        "bid_task.created_by_id",
        "bid_task.done_by_id",
        "bid_document.uploaded_by_id",
    ),
)
def _bids(user: User) -> dict[str, Any]:
    """What the person did on bids: started them, moved them on, invited or answered partners, wrote parts,
    owned or set tasks, shared documents. The bids themselves belong to their consortium and the Foundation."""
    uid = user.id
    started = db.session.scalars(sa.select(Bid).where(Bid.created_by_id == uid).order_by(Bid.id))
    steps = db.session.scalars(sa.select(BidStep).where(BidStep.by_id == uid).order_by(BidStep.id))
    partners = db.session.scalars(
        sa.select(BidPartner)
        .where(
            sa.or_(
                BidPartner.invited_by_id == uid,
                BidPartner.responded_by_id == uid,
                BidPartner.part_updated_by_id == uid,
            )
        )
        .order_by(BidPartner.id)
    )
    tasks = db.session.scalars(
        sa.select(BidTask)
        .where(sa.or_(BidTask.owner_id == uid, BidTask.created_by_id == uid, BidTask.done_by_id == uid))
        .order_by(BidTask.id)
    )
    documents = db.session.scalars(
        sa.select(BidDocument).where(BidDocument.uploaded_by_id == uid).order_by(BidDocument.id)
    )
    return {
        "started": [{"bid_id": b.id, "title": b.title, "at": plain(b.created_at)} for b in started],
        "steps": [
            {"bid_id": s.bid_id, "to": s.to_status.value, "at": plain(s.at), "note": s.note} for s in steps
        ],
        "partners": [
            {
                "bid_id": p.bid_id,
                "organisation_id": p.organisation_id,
                "invited": p.invited_by_id == uid,
                "answered": p.responded_by_id == uid,
                "wrote_part": p.part_updated_by_id == uid,
            }
            for p in partners
        ],
        "tasks": [
            {
                "bid_id": t.bid_id,
                "title": t.title,
                "due": plain(t.due),
                "owner": t.owner_id == uid,
                "set": t.created_by_id == uid,
                "done": plain(t.done_at) if t.done_by_id == uid else None,
            }
            for t in tasks
        ],
        "documents": [
            {"bid_id": d.bid_id, "title": d.title, "file": d.original_filename, "at": plain(d.uploaded_at)}
            for d in documents
        ],
    }


@export_section("bid_monitoring_returns", covers=("bid_monitoring_return.submitted_by_id",))
def _monitoring_returns(user: User) -> dict[str, Any]:
    """The monitoring returns the person submitted for their organisation (the figures are the organisation's)."""
    from foundation.bids.monitoring import returns_submitted_by

    return {
        "submitted": [
            {
                "return_id": ret.id,
                "bid_id": bid_id,
                "organisation_id": ret.partner.organisation_id,
                "reporting_date": plain(reporting_date),
                "due": plain(ret.due),
                "submitted_at": plain(ret.submitted_at),
            }
            for ret, bid_id, reporting_date in returns_submitted_by(user)
        ]
    }


@export_section(
    "bid_awards",
    covers=(
        "bid_award.recorded_by_id",
        "bid_funder_payment.recorded_by_id",
        "bid_sub_award_instalment.paid_by_id",
    ),
)
def _bid_awards(user: User) -> dict[str, Any]:
    """Awards, funders' payments and instalments the person recorded as staff."""
    uid = user.id
    recorded = db.session.scalars(
        sa.select(BidAward).where(BidAward.recorded_by_id == uid).order_by(BidAward.id)
    )
    payments = db.session.scalars(
        sa.select(FunderPayment).where(FunderPayment.recorded_by_id == uid).order_by(FunderPayment.id)
    )
    instalments = db.session.scalars(
        sa.select(SubAwardInstalment)
        .where(SubAwardInstalment.paid_by_id == uid)
        .order_by(SubAwardInstalment.id)
    )
    return {
        "awards_recorded": [
            {"award_id": a.id, "bid_id": a.bid_id, "at": plain(a.recorded_at)} for a in recorded
        ],
        "funder_payments_recorded": [
            {"payment_id": p.id, "award_id": p.award_id, "at": plain(p.recorded_at)} for p in payments
        ],
        "instalments_paid": [
            {"instalment_id": i.id, "sub_award_id": i.sub_award_id, "at": plain(i.paid_at)}
            for i in instalments
        ],
    }


@on_close
def _forget_interests(user: User) -> None:
    interests.forget_interests(user)
