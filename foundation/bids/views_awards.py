"""A won bid: the award, the funder's payments, the partners' sub-awards and their instalments.

/bids/<id>/award                                  staff record the funder's award of a submitted bid (POST)
/bids/awards/<award>                              the award: money in, the restricted fund, sub-awards (the team)
/bids/awards/<award>/payments                     staff record a payment from the funder (POST)
/bids/awards/<award>/split                        staff change the partners' sub-awards (POST)
/bids/awards/<award>/sub-awards/<sub>/instalments staff pay an instalment to a partner (POST)
/awards/<award>/money                             public: the money from the funder to the Foundation to partners
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.bids import awards, bids, bp, monitoring
from foundation.bids.forms_bids import AwardForm, FunderPaymentForm, InstalmentForm, SplitForm
from foundation.bids.models import BidAward
from foundation.bids.views_bids import _bid, render_bid
from foundation.ledger import service as ledger
from foundation.permissions import deny, signed_in_user
from foundation.web import submit_form


def _award(award_id: int, staff_only: bool = False) -> BidAward:
    user = signed_in_user()
    award = awards.load_award_by_id(award_id)
    if award is None or not bids.in_team(user, award.bid):
        deny(404, f"award {award_id} is not theirs")
    if staff_only and not user.is_staff:
        deny(403, "only staff handle an award's money")
    return award


def render_award(award: BidAward, status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    sub_ids = [s.id for s in award.sub_awards]
    split_form = forms.get("split_form")
    if split_form is None:
        split_form = SplitForm.for_award(
            sub_ids, formdata=None, data={f"sub_{s.id}": s.amount_pence for s in award.sub_awards}
        )
    manage = bids.can_manage(user, award.bid)
    mine = {m.organisation_id for m in user.memberships}
    returns = [
        (ret, monitoring.status_of(ret))
        for ret in awards.returns_of(award)
        if manage or ret.partner.organisation_id in mine
    ]
    return render_template(
        "bids/award.html",
        award=award,
        found=award.bid,
        money=awards.money(award),
        staff=user.is_staff,
        manage=manage,
        returns=returns,
        payment_form=forms.get("payment_form") or FunderPaymentForm(),
        split_form=split_form,
        instalment_forms={
            s.id: (forms.get("instalment_form") if forms.get("instalment_for") == s.id else None)
            or InstalmentForm(prefix=f"i{s.id}")
            for s in award.sub_awards
        },
    ), status


@bp.post("/bids/<int:bid_id>/award")
@login_required
def bid_award(bid_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    if not user.is_staff:
        deny(403, "only staff record a funder's decision")
    form = AwardForm()
    outcome = submit_form(
        form,
        lambda: awards.record_award(
            found, form.amount.data, form.conditions.data or "", form.awarded_on.data, form.dates(), user
        ),
    )
    if outcome.done:
        flash(
            f"The award is recorded: the bid is {found.status.label.lower()}. Record the funder's payments as they arrive.",
            "success",
        )
        return redirect(url_for("bids.award", award_id=outcome.result.id))
    return render_bid(_bid(bid_id, user), outcome.status, award_form=form)


@bp.get("/bids/awards/<int:award_id>")
@login_required
def award(award_id: int) -> ResponseReturnValue:
    return render_award(_award(award_id))


@bp.post("/bids/awards/<int:award_id>/payments")
@login_required
def award_payment(award_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _award(award_id, staff_only=True)
    form = FunderPaymentForm()
    outcome = submit_form(
        form,
        lambda: awards.record_funder_payment(
            found, form.amount.data, form.received_on.data, form.reference.data or "", user
        ),
    )
    if outcome.done:
        flash("The funder's payment is recorded in the restricted fund.", "success")
        return redirect(url_for("bids.award", award_id=award_id, _anchor="money"))
    return render_award(_award(award_id), outcome.status, payment_form=form)


@bp.post("/bids/awards/<int:award_id>/split")
@login_required
def award_split(award_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _award(award_id, staff_only=True)
    sub_ids = [s.id for s in found.sub_awards]
    form = SplitForm.for_award(sub_ids)
    outcome = submit_form(form, lambda: awards.set_sub_awards(found, form.amounts(sub_ids), user))
    if outcome.done:
        flash("The sub-awards are changed.", "success")
        return redirect(url_for("bids.award", award_id=award_id, _anchor="sub-awards"))
    return render_award(_award(award_id), outcome.status, split_form=form)


@bp.post("/bids/awards/<int:award_id>/sub-awards/<int:sub_award_id>/instalments")
@login_required
def award_instalment(award_id: int, sub_award_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _award(award_id, staff_only=True)
    sub = next((s for s in found.sub_awards if s.id == sub_award_id), None)
    if sub is None:
        abort(404)
    form = InstalmentForm(prefix=f"i{sub_award_id}")
    outcome = submit_form(form, lambda: awards.pay_instalment(sub, form.amount.data, form.paid_on.data, user))
    if outcome.done:
        flash(f"Paid to {sub.partner.organisation.name}.", "success")
        return redirect(url_for("bids.award", award_id=award_id, _anchor="sub-awards"))
    return render_award(_award(award_id), outcome.status, instalment_form=form, instalment_for=sub_award_id)


@bp.get("/awards/<int:award_id>/money")
def award_money(award_id: int) -> ResponseReturnValue:
    """Public: where a funder's award went, from the ledger."""
    found = awards.load_award_by_id(award_id)
    if found is None:
        abort(404)
    return render_template(
        "bids/award_money.html",
        award=found,
        found=found.bid,
        money=awards.money(found),
        movements=ledger.entries_for(awards.fund_code(found)),
    )
