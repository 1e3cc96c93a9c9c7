"""The donor's side: the campaigns, giving, the thank-you page, and a signed-in donor's own giving."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.fundraising import bp, campaigns, donations, giftaid, match
from foundation.fundraising.forms_donations import OTHER, ConfirmForm, DonationForm
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    GiftAidDeclaration,
    MessageStatus,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import AccountKind, TransactionKind
from foundation.pagecache import public_page
from foundation.pagination import page_number
from foundation.payments.providers import checkout_origin
from foundation.payments.service import PaymentUnavailable
from foundation.permissions import signed_in_user
from foundation.types import london_today
from foundation.uploads import simple_pdf, stored_path
from foundation.web import csp_with_form_action, field_error

IMAGE_FOLDER = "campaigns"


def _public_campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
    if campaign is None or campaign.status not in (CampaignStatus.LIVE, CampaignStatus.CLOSED):
        abort(404)
    return campaign


@bp.get("/campaigns")
@public_page
def campaigns_list() -> ResponseReturnValue:
    # Live campaigns and past ones are paged apart: `page` turns the live list's pages, or the past list's with
    # section=past (the other list stays on its first page).
    past_section = request.args.get("section") == "past"
    live, past = campaigns.public_campaigns(
        live_page=1 if past_section else page_number(), past_page=page_number() if past_section else 1
    )
    ids = [c.id for c in live.items] + [c.id for c in past.items]
    matched = match.matched(ids)
    return render_template(
        "fundraising/campaigns.html",
        live=live,
        past=past,
        raised=donations.raised(ids),
        matched={cid: sum(m.earned_pence for m in ms) for cid, ms in matched.items()},
        today=london_today(),
    )


@bp.get("/campaigns/<slug>")
@public_page
def campaign(slug: str) -> ResponseReturnValue:
    found = _public_campaign(slug)
    return _render_campaign(found)


def _render_campaign(found: Campaign) -> ResponseReturnValue:
    raised = donations.raised([found.id])[found.id]
    pledges = match.matched([found.id])[found.id]
    today = london_today()
    return render_template(
        "fundraising/campaign.html",
        campaign=found,
        partners=campaigns.partners_in(found),
        raised=raised,
        pledges=pledges,
        matched_pence=sum(m.earned_pence for m in pledges),
        recent=donations.recent(found),
        shown=MessageStatus.SHOWN,
        open_for_gifts=campaigns.taking_donations(found, today),
        days_left=max(0, (found.ends_on - today).days) if found.status is CampaignStatus.LIVE else None,
        starts_later=found.status is CampaignStatus.LIVE and found.starts_on > today,
        cancelled=request.args.get("cancelled") == "1",
        destination=campaigns.destination_label(found.destination),
        ratio_words=match.ratio_words,
    )


@bp.get("/campaigns/<slug>/image")
@public_page
def campaign_image(slug: str) -> ResponseReturnValue:
    found = _public_campaign(slug)
    if not found.image_name:
        abort(404)
    response = send_file(stored_path(IMAGE_FOLDER, found.image_name), max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _donation_form(found: Campaign) -> DonationForm:
    form = DonationForm()
    if request.method == "GET":
        form.amount_choice.data = str(donations.PRESETS_PENCE[1])
        if current_user.is_authenticated:
            form.name.data = current_user.name
            form.email.data = current_user.email
    return form


@bp.route("/campaigns/<slug>/donate", methods=["GET", "POST"])
def donate(slug: str) -> ResponseReturnValue:
    found = _public_campaign(slug)
    if not campaigns.taking_donations(found):
        flash("This campaign is not taking donations now.", "info")
        return redirect(url_for("fundraising.campaign", slug=found.slug))
    form = _donation_form(found)
    user = signed_in_user() if current_user.is_authenticated else None
    existing = giftaid.current_declaration(form.email.data or "", user) if form.email.data else None
    status = 200
    if form.validate_on_submit():
        try:
            gift = form.gift()
            donations.check_amount(form.amount_pence())
            donation = donations.give(found, gift, user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            if exc.field == "amount" and form.amount_choice.data != OTHER:
                form.amount_choice.errors = [*form.amount_choice.errors, exc.message]
            else:
                field_error(form, exc)
            status = exc.status_code
        else:
            try:
                url = donations.checkout(donation)
            except PaymentUnavailable as exc:
                db.session.commit()  # the payment is recorded as not completed
                form.form_errors.append(exc.message)
                return _render_donate(found, form, existing, 503)
            db.session.commit()
            if url:
                return redirect(url, code=303)
            return redirect(
                url_for(
                    "fundraising.donation_thanks", donation_id=donation.id, key=donations.thanks_key(donation)
                ),
                code=303,
            )
    elif form.is_submitted():
        status = 422
    return _render_donate(found, form, existing, status)


def _render_donate(
    found: Campaign, form: DonationForm, existing: GiftAidDeclaration | None, status: int
) -> ResponseReturnValue:
    low, high = donations.limits()
    page = render_template(
        "fundraising/donate.html",
        campaign=found,
        form=form,
        declaration_text=giftaid.wording(),
        existing_declaration=existing,
        low=low,
        high=high,
        other=OTHER,
        offline=current_app.config.get("STRIPE_SECRET_KEY") is None,
    )
    # The form's answer sends the donor on to the provider's checkout: this page's policy allows it.
    return page, status, {"Content-Security-Policy": csp_with_form_action(checkout_origin() or "")}


@bp.get("/donations/<int:donation_id>/thanks")
def donation_thanks(donation_id: int) -> ResponseReturnValue:
    """The page the donor lands on. It reports what we know; only the provider's event makes a gift count."""
    donation = db.session.get(Donation, donation_id)
    if donation is None or not donations.check_thanks_key(donation_id, request.args.get("key", "")):
        abort(404)
    response = render_template(
        "fundraising/thanks.html",
        donation=donation,
        campaign=donation.campaign,
        offline=donation.payment is not None and donation.payment.provider == "offline",
        statuses=DonationStatus,
        gift_aid_pence=giftaid.gift_aid_on(donation.amount_pence) if donation.declaration_id else 0,
        contact=current_app.config["FOUNDATION_CONTACT_EMAIL"],
        postal_address=current_app.config["FOUNDATION_POSTAL_ADDRESS"],
    )
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# --- a signed-in donor's own giving --------------------------------------------------------------------------------


@bp.get("/account/giving")
@login_required
def my_giving() -> ResponseReturnValue:
    user = signed_in_user()
    gifts = donations.donations_of(user)
    years = sorted({d.succeeded_at.year for d in gifts if d.succeeded_at}, reverse=True)
    return render_template(
        "fundraising/my_giving.html",
        gifts=gifts,
        declarations=giftaid.declarations_of(user),
        years=years,
        form=ConfirmForm(),
    )


@bp.post("/account/giving/declarations/<int:declaration_id>/cancel")
@login_required
def cancel_declaration(declaration_id: int) -> ResponseReturnValue:
    declaration = db.session.get(GiftAidDeclaration, declaration_id)
    user = signed_in_user()
    if declaration is None or (declaration.user_id != user.id and declaration.email != user.email.lower()):
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        giftaid.cancel(declaration, user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("fundraising.my_giving")), exc.status_code
    db.session.commit()
    flash(
        "Your Gift Aid declaration is cancelled. Gifts you made before today can still be claimed.", "success"
    )
    return redirect(url_for("fundraising.my_giving"))


@bp.get("/account/giving/<int:year>")
@login_required
def statement(year: int) -> ResponseReturnValue:
    if not 2000 <= year <= date.today().year:
        abort(404)
    user = signed_in_user()
    gifts, total = donations.statement(user, year)
    config = current_app.config
    if request.args.get("format") == "pdf":
        lines = [
            f"{config['CHARITY_NAME']}, registered charity {config['CHARITY_NUMBER']}",
            f"Donor: {user.name}",
            "",
        ]
        lines += [
            f"{d.succeeded_at:%d %b %Y}  {d.campaign.title[:60]}  £{d.amount_pence / 100:,.2f}"
            + ("  (Gift Aid)" if d.declaration_id else "")
            for d in gifts
            if d.succeeded_at
        ]
        lines += ["", f"Total given in {year}: £{total / 100:,.2f}"]
        pdf = simple_pdf(f"Your donations in {year}", lines)
        return (
            pdf,
            200,
            {
                "Content-Type": "application/pdf",
                "Content-Disposition": f'attachment; filename="donations-{year}.pdf"',
                "Cache-Control": "no-store",
            },
        )
    return render_template(
        "fundraising/statement.html", gifts=gifts, total=total, year=year, charity_name=config["CHARITY_NAME"],
        charity_number=config["CHARITY_NUMBER"], postal_address=config["FOUNDATION_POSTAL_ADDRESS"],
    )  # fmt: skip


@bp.get("/where-the-money-goes")
@public_page
def money_trail() -> ResponseReturnValue:
    """The public trail: where the Foundation's money comes from, through campaigns and the fund, out to grants."""
    kinds = ledger.totals_by_kind()
    return render_template(
        "fundraising/money_trail.html",
        k=kinds,
        kinds=TransactionKind,
        campaigns=ledger.flows(AccountKind.CAMPAIGN),
        rounds=ledger.flows(AccountKind.ROUND_BUDGET),
        balances=ledger.balances([ledger.FUND, ledger.PAID_OUT, donations.FEES]),
        fund=ledger.FUND,
        paid_out=ledger.PAID_OUT,
        fees=donations.FEES,
    )
