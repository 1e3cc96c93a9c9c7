"""What fundraising holds about a person: their donations and Gift Aid declarations (by account or by the email
address they gave), and the steps they took running campaigns or as staff. Closing an account keeps them:
donations are the Foundation's financial records, and HMRC asks for Gift Aid declarations to be kept for six years
after the last claim on them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation.extensions import db
from foundation.fundraising import donations, giftaid
from foundation.fundraising.models import (
    Campaign,
    CampaignPartner,
    Donation,
    GiftAidClaim,
    MatchPayment,
    MatchPledge,
)
from foundation.members.models import User
from foundation.privacy import export_section, plain


@export_section("donations", covers=("donation.user_id", "gift_aid_declaration.user_id"))
def _donations(user: User) -> dict[str, Any]:
    return {
        "donations": [
            {
                "donation_id": d.id,
                "campaign": d.campaign.title,
                "amount_pence": d.amount_pence,
                "status": d.status.value,
                "name_given": d.donor_name,
                "email_given": d.donor_email,
                "anonymous": d.anonymous,
                "message": d.message,
                "gift_aid_declaration_id": d.declaration_id,
                "at": plain(d.created_at),
            }
            for d in donations.donations_of(user)
        ],
        "gift_aid_declarations": [
            {
                "declaration_id": g.id,
                "name": g.full_name,
                "house": g.house,
                "postcode": g.postcode,
                "email": g.email,
                "wording_version": g.wording_version,
                "charity": g.charity_name,
                "declared_at": plain(g.declared_at),
                "cancelled_at": plain(g.cancelled_at),
            }
            for g in giftaid.declarations_of(user)
        ],
    }


@export_section(
    "fundraising_steps",
    covers=(
        "campaign.created_by_id",
        "campaign.approved_by_id",
        "campaign.closed_by_id",
        "campaign_partner.invited_by_id",
        "campaign_partner.responded_by_id",
        "match_pledge.created_by_id",
        "match_payment.recorded_by_id",
        "gift_aid_claim.created_by_id",
        "gift_aid_claim.paid_recorded_by_id",
        "donation.moderated_by_id",
    ),
)
def _steps(user: User) -> dict[str, Any]:
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(
            sa.or_(
                Campaign.created_by_id == user.id,
                Campaign.approved_by_id == user.id,
                Campaign.closed_by_id == user.id,
            )
        )
        .order_by(Campaign.id)
    )
    partners = db.session.scalars(
        sa.select(CampaignPartner)
        .where(sa.or_(CampaignPartner.invited_by_id == user.id, CampaignPartner.responded_by_id == user.id))
        .order_by(CampaignPartner.id)
    )
    pledges = db.session.scalars(
        sa.select(MatchPledge).where(MatchPledge.created_by_id == user.id).order_by(MatchPledge.id)
    )
    match_payments = db.session.scalars(
        sa.select(MatchPayment).where(MatchPayment.recorded_by_id == user.id).order_by(MatchPayment.id)
    )
    claims = db.session.scalars(
        sa.select(GiftAidClaim)
        .where(sa.or_(GiftAidClaim.created_by_id == user.id, GiftAidClaim.paid_recorded_by_id == user.id))
        .order_by(GiftAidClaim.id)
    )
    moderated = db.session.scalars(
        sa.select(Donation).where(Donation.moderated_by_id == user.id).order_by(Donation.id)
    )
    return {
        "campaigns": [
            {
                "campaign": c.title,
                "created": c.created_by_id == user.id,
                "approved": c.approved_by_id == user.id,
                "closed": c.closed_by_id == user.id,
            }
            for c in campaigns
        ],
        "partner_invitations": [
            {
                "campaign": p.campaign.title,
                "organisation": p.organisation.name,
                "invited": p.invited_by_id == user.id,
                "answered": p.responded_by_id == user.id,
                "status": p.status.value,
            }
            for p in partners
        ],
        "match_pledges_recorded": [{"pledge_id": p.id, "funder": p.funder_name} for p in pledges],
        "match_payments_recorded": [
            {"payment_id": m.id, "amount_pence": m.amount_pence, "at": plain(m.received_on)}
            for m in match_payments
        ],
        "gift_aid_claims": [{"claim_id": c.id, "status": c.status.value} for c in claims],
        "donor_messages_decided": [
            {"donation_id": d.id, "decision": d.message_status.value, "at": plain(d.moderated_at)}
            for d in moderated
        ],
    }
