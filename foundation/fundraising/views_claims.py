"""Staff: Gift Aid claims (choose, export in HMRC's layout, mark claimed, record HMRC's payment)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.fundraising import bp, claims, giftaid
from foundation.fundraising.forms_claims import ClaimForm, ClaimPaymentForm
from foundation.fundraising.models import ClaimStatus, GiftAidClaim
from foundation.navigation import staff_area
from foundation.permissions import signed_in_user, staff_required
from foundation.types import london_today
from foundation.web import submit_form


def _render_claims(form: ClaimForm | None = None, status: int = 200) -> ResponseReturnValue:
    donations = claims.claimable()
    if form is None:
        form = ClaimForm(formdata=None)
        form.donations.data = [d.id for d in donations]
    form.donations.choices = [SelectChoice(d.id, f"Donation {d.id}") for d in donations]
    adjustments = claims.awaiting_adjustment()
    return render_template(
        "fundraising/staff_gift_aid.html",
        form=form,
        donations=donations,
        adjustments=adjustments,
        total=sum(d.amount_pence for d in donations),
        gift_aid_on=giftaid.gift_aid_on,
        claims=claims.all_claims(),
        expected=claims.expected_pence,
    ), status


staff_area(
    "Gift Aid", "fundraising.staff_gift_aid", "Claims to HMRC: donations to claim, batches and payments.", 35
)


@bp.get("/staff/gift-aid")
@staff_required
def staff_gift_aid() -> ResponseReturnValue:
    return _render_claims()


@bp.post("/staff/gift-aid/claims")
@staff_required
def claim_create() -> ResponseReturnValue:
    form = ClaimForm()
    form.donations.choices = [SelectChoice(d.id, str(d.id)) for d in claims.claimable()]
    outcome = submit_form(form, lambda: claims.create(list(form.donations.data or []), signed_in_user()))
    if not outcome.done:
        return _render_claims(form, outcome.status)
    claim = outcome.result
    flash(f"Claim {claim.id} made: {len(claim.items)} donations. Download the schedule for HMRC.", "success")
    return redirect(url_for("fundraising.claim", claim_id=claim.id))


def _claim(claim_id: int) -> GiftAidClaim:
    found = db.session.get(GiftAidClaim, claim_id)
    if found is None:
        abort(404)
    return found


def _render_claim(
    found: GiftAidClaim, form: ClaimPaymentForm | None = None, status: int = 200
) -> ResponseReturnValue:
    if form is None:
        form = ClaimPaymentForm(formdata=None)
        form.amount.data = claims.expected_pence(found)
        form.paid_on.data = london_today()
    return render_template(
        "fundraising/staff_claim.html",
        claim=found,
        expected=claims.expected_pence(found),
        form=form,
        paid=ClaimStatus.PAID,
        adjusted=claims.adjusted_in(found),
    ), status


@bp.get("/staff/gift-aid/claims/<int:claim_id>")
@staff_required
def claim(claim_id: int) -> ResponseReturnValue:
    return _render_claim(_claim(claim_id))


@bp.get("/staff/gift-aid/claims/<int:claim_id>/schedule.csv")
@staff_required
def claim_schedule(claim_id: int) -> ResponseReturnValue:
    found = _claim(claim_id)
    return (
        claims.schedule_csv(found),
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="gift-aid-claim-{found.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/staff/gift-aid/claims/<int:claim_id>/payment")
@staff_required
def claim_payment(claim_id: int) -> ResponseReturnValue:
    found = _claim(claim_id)
    form = ClaimPaymentForm()

    def record() -> GiftAidClaim:
        assert form.amount.data is not None and form.paid_on.data is not None  # required fields
        return claims.record_payment(
            found, form.amount.data, form.paid_on.data, form.reference.data or "", signed_in_user()
        )

    outcome = submit_form(form, record)
    if not outcome.done:
        return _render_claim(_claim(claim_id), form, outcome.status)
    flash("HMRC's payment is recorded: the Gift Aid is in the campaigns' accounts.", "success")
    return redirect(url_for("fundraising.claim", claim_id=found.id))
