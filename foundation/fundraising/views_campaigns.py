"""Running a campaign: starting one, the consortium, and the steps from draft to closed.

The lead organisation's administrators and Foundation staff manage a campaign; a partner's administrators answer
its invitation. Everyone else gets 404 for a campaign that is not public yet, 403 for one that is.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm import selectinload

from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.fundraising import bp, campaigns, donations, match
from foundation.fundraising.forms_campaigns import (
    AnswerForm,
    CampaignForm,
    InviteForm,
    SendBackForm,
    StepForm,
)
from foundation.fundraising.models import Campaign, CampaignPartner, CampaignStatus, PartnerStatus
from foundation.fundraising.views_public import IMAGE_FOLDER
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.members.organisations import organisations_for
from foundation.permissions import deny, signed_in_user
from foundation.uploads import IMAGE_TYPES, remove_stored, store_upload
from foundation.web import submit_form


def _campaign(campaign_id: int, user: User) -> Campaign:
    found = db.session.get(
        Campaign,
        campaign_id,
        options=[selectinload(Campaign.partners).selectinload(CampaignPartner.organisation)],
    )
    if found is None:
        abort(404)
    if not campaigns.can_manage(user, found):
        if found.status in (CampaignStatus.LIVE, CampaignStatus.CLOSED):
            deny()
        abort(404)
    return found


def _lead_choices(user: User) -> list[SelectChoice]:
    if user.is_staff:
        orgs = db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.status == OrganisationStatus.APPROVED)
            .order_by(sa.func.lower(Organisation.name))
        ).all()
    else:
        orgs = [o for o in organisations_for(user) if user.is_admin_of(o.id)]
    return [SelectChoice(o.id, o.name) for o in orgs]


def _destination_choices() -> list[SelectChoice]:
    return [SelectChoice(a.id, campaigns.destination_label(a)) for a in campaigns.destinations()]


def _save_image(form: CampaignForm, found: Campaign) -> None:
    upload = form.image.data
    if upload is None or not getattr(upload, "filename", ""):
        return
    stored = store_upload(upload, IMAGE_TYPES, IMAGE_FOLDER, "image")
    if not (form.image_alt.data or "").strip():
        remove_stored(IMAGE_FOLDER, stored.stored_name)
        raise DomainError("Describe the picture for people who cannot see it.", field="image_alt")
    old = found.image_name
    found.image_name = stored.stored_name
    if old:
        remove_stored(IMAGE_FOLDER, old)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new() -> ResponseReturnValue:
    user = signed_in_user()
    leads = _lead_choices(user)
    if not leads:
        deny(403, "Only an administrator of a member organisation can start a campaign.")
    destinations = _destination_choices()
    form = CampaignForm()
    form.offer(leads, destinations)
    if request.method == "GET":
        form.destination.data = destinations[0].value

    def create() -> Campaign:
        lead = db.session.get(Organisation, form.lead_organisation.data)
        if lead is None or lead.id not in {c.value for c in leads}:
            raise DomainError("Choose one of your organisations.", field="lead_organisation")
        found = campaigns.create(form.details(), lead, user)
        _save_image(form, found)
        return found

    outcome = submit_form(form, create)
    if outcome.done:
        flash(
            "The campaign is saved as a draft. Invite your partners, then send it to the Foundation.",
            "success",
        )
        return redirect(url_for("fundraising.campaign_manage", campaign_id=outcome.result.id))
    return render_template("fundraising/campaign_form.html", form=form, found=None), outcome.status


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(campaign_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _campaign(campaign_id, user)
    form = CampaignForm(obj=None if request.method == "POST" else found)
    form.offer(
        [SelectChoice(found.lead_organisation_id, found.lead_organisation.name)], _destination_choices()
    )
    if request.method == "GET":
        form.lead_organisation.data = found.lead_organisation_id
        form.target.data = found.target_pence
        form.destination.data = found.destination_id
    else:
        form.lead_organisation.data = found.lead_organisation_id

    def save() -> Campaign:
        campaigns.update(found, form.details(), user)
        _save_image(form, found)
        return found

    outcome = submit_form(form, save)
    if outcome.done:
        flash("The campaign is saved.", "success")
        return redirect(url_for("fundraising.campaign_manage", campaign_id=found.id))
    return render_template("fundraising/campaign_form.html", form=form, found=found), outcome.status


def _render_manage(found: Campaign, status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    invited = {p.organisation_id for p in found.partners if p.status is not PartnerStatus.DECLINED}
    invite_form = forms.get("invite_form") or InviteForm(formdata=None)
    assert isinstance(invite_form, InviteForm)
    candidates = db.session.scalars(
        sa.select(Organisation)
        .where(
            Organisation.status == OrganisationStatus.APPROVED,
            Organisation.id != found.lead_organisation_id,
            Organisation.id.not_in(invited or {0}),
        )
        .order_by(sa.func.lower(Organisation.name))
    ).all()
    invite_form.organisation.choices = [SelectChoice(o.id, o.name) for o in candidates]
    return render_template(
        "fundraising/campaign_manage.html",
        campaign=found,
        raised=donations.raised([found.id])[found.id],
        pledges=match.matched([found.id])[found.id],
        invite_form=invite_form,
        send_back_form=forms.get("send_back_form") or SendBackForm(formdata=None),
        step_form=StepForm(formdata=None),
        staff=user.is_staff,
        statuses=CampaignStatus,
        partner_statuses=PartnerStatus,
        destination=campaigns.destination_label(found.destination),
    ), status


@bp.get("/campaigns/<int:campaign_id>/manage")
@login_required
def campaign_manage(campaign_id: int) -> ResponseReturnValue:
    return _render_manage(_campaign(campaign_id, signed_in_user()))


@bp.post("/campaigns/<int:campaign_id>/partners")
@login_required
def campaign_invite(campaign_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _campaign(campaign_id, user)
    form = InviteForm()
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED))]  # fmt: skip

    def invite() -> CampaignPartner:
        org = db.session.get(Organisation, form.organisation.data)
        if org is None:
            raise DomainError("Choose an organisation to invite.", field="organisation")
        return campaigns.invite(found, org, user)

    outcome = submit_form(form, invite)
    if outcome.done:
        flash(
            f"{outcome.result.organisation.name} is invited. It joins once an administrator accepts.",
            "success",
        )
        return redirect(url_for("fundraising.campaign_manage", campaign_id=found.id) + "#partners")
    return _render_manage(db.session.get(Campaign, campaign_id) or found, outcome.status, invite_form=form)


@bp.route("/campaigns/<int:campaign_id>/partners/<int:partner_id>", methods=["GET", "POST"])
@login_required
def partner_invitation(campaign_id: int, partner_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    partner = db.session.get(CampaignPartner, partner_id)
    if partner is None or partner.campaign_id != campaign_id:
        abort(404)
    if not user.is_admin_of(partner.organisation_id):
        if user.is_staff or user.is_admin_of(partner.campaign.lead_organisation_id):
            deny(403, "Only an administrator of the invited organisation can answer.")
        abort(404)
    form = AnswerForm()
    outcome = submit_form(form, lambda: campaigns.respond(partner, form.answer.data == "accept", user))
    if outcome.done:
        joined = partner.status is PartnerStatus.ACCEPTED
        flash(
            f"{partner.organisation.name} has joined {partner.campaign.title}."
            if joined
            else "You have declined the invitation.",
            "success",
        )
        return redirect(url_for("fundraising.campaign", slug=partner.campaign.slug) if joined and
                        partner.campaign.status in (CampaignStatus.LIVE, CampaignStatus.CLOSED)
                        else url_for("members.dashboard"))  # fmt: skip
    return render_template(
        "fundraising/partner_invitation.html", partner=partner, campaign=partner.campaign, form=form,
        statuses=PartnerStatus,
    ), outcome.status  # fmt: skip


STEPS = {
    "submit": (campaigns.submit, "The campaign is with the Foundation for approval."),
    "approve": (campaigns.approve, "The campaign is live."),
    "close": (campaigns.close, "The campaign is closed and its money has gone to its fund or round."),
}


@bp.post("/campaigns/<int:campaign_id>/<any(submit, approve, close):step>")
@login_required
def campaign_step(campaign_id: int, step: str) -> ResponseReturnValue:
    user = signed_in_user()
    found = _campaign(campaign_id, user)
    action, done = STEPS[step]
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(found, user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render_manage(_campaign(campaign_id, user), exc.status_code)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("fundraising.campaign_manage", campaign_id=found.id))


@bp.post("/campaigns/<int:campaign_id>/send-back")
@login_required
def campaign_send_back(campaign_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _campaign(campaign_id, user)
    form = SendBackForm()
    outcome = submit_form(form, lambda: campaigns.send_back(found, user, form.message.data or ""))
    if outcome.done:
        flash("The campaign is back with its lead organisation, with your message.", "success")
        return redirect(url_for("fundraising.campaign_manage", campaign_id=found.id))
    return _render_manage(_campaign(campaign_id, user), outcome.status, send_back_form=form)
