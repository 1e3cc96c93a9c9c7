"""Funding opportunities for members.

/funding                 open opportunities, filtered by theme, town, closing date, consortium bids and amount
/funding/<id>            one opportunity (a suggestion: only its suggester and staff)
/funding/suggest         suggest an opportunity (a member of an organisation in good standing)
/funding/interests       the themes and towns a person wants the weekly digest about

Members are people belonging to an approved organisation; staff see everything. Others signed in are refused
(403); a suggestion that is not theirs answers 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.bids import bids, bp, funders, interests, opportunities
from foundation.bids.forms import ConfirmForm, InterestsForm, OpportunityFilterForm, SuggestForm
from foundation.bids.models import FundingOpportunity, OpportunityStatus, Theme
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation
from foundation.pagination import page_number
from foundation.permissions import deny, signed_in_user
from foundation.web import submit_form


def _members_only() -> None:
    if not opportunities.can_browse(signed_in_user()):
        deny(403, "funding opportunities are for member organisations")


@bp.route("/funding")
@login_required
def opportunities_list() -> ResponseReturnValue:
    _members_only()
    form = OpportunityFilterForm(request.args)
    valid = form.validate() if request.args else True
    result = opportunities.open_opportunities(page_number(), form.chosen())
    args = {k: v for k, v in request.args.items(multi=False) if k != "page" and v and k in form}
    user = signed_in_user()
    return render_template(
        "bids/opportunities.html",
        form=form,
        result=result,
        args=args,
        can_suggest=not user.is_staff,
    ), (200 if valid else 400)


def render_opportunity(
    found: FundingOpportunity, status: int = 200, problems: list[str] | None = None
) -> ResponseReturnValue:
    user = signed_in_user()
    startable = found.status is OpportunityStatus.PUBLISHED and (
        user.is_staff or bool(bids.lead_choices(user))
    )
    return render_template(
        "bids/opportunity.html",
        found=found,
        archive_form=ConfirmForm(),
        problems=problems or [],
        can_start_bid=startable,
        bids_on_it=bids.on_opportunity(user, found.id),
    ), status


@bp.route("/funding/<int:opportunity_id>")
@login_required
def opportunity(opportunity_id: int) -> ResponseReturnValue:
    found = opportunities.load(opportunity_id)
    if found is None:
        abort(404)
    user = signed_in_user()
    if not opportunities.can_see(user, found):
        if found.suggested_by_id != user.id and not opportunities.can_browse(user):
            deny(403, "funding opportunities are for member organisations")
        deny(404, f"opportunity {opportunity_id} is not published")
    return render_opportunity(found)


@bp.route("/funding/suggest", methods=["GET", "POST"])
@login_required
def suggest() -> ResponseReturnValue:
    user = signed_in_user()
    organisations = opportunities.suggesting_organisations(user)
    if not organisations:
        deny(403, "only members of an organisation in good standing suggest opportunities")
    form = SuggestForm()
    form.offer([SelectChoice(f.id, f.name) for f in funders.all_by_name()])
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in organisations]
    if request.method == "GET" and len(organisations) == 1:
        form.organisation.data = organisations[0].id

    def run() -> FundingOpportunity:
        org = db.session.get(Organisation, form.organisation.data)
        if org is None or org.id not in {o.id for o in organisations}:
            raise DomainError("Choose one of your organisations.", field="organisation")
        return opportunities.suggest(form.details(), user, org)

    outcome = submit_form(form, run)
    if outcome.done:
        flash(
            "Thank you. Foundation staff will check it and publish it; we will tell you when they have.",
            "success",
        )
        return redirect(url_for("bids.opportunity", opportunity_id=outcome.result.id))
    return render_template("bids/suggest.html", form=form), outcome.status


@bp.route("/funding/interests", methods=["GET", "POST"])
@login_required
def interests_settings() -> ResponseReturnValue:
    user = signed_in_user()
    if user.is_staff and not user.memberships:
        deny(403, "the digest is for members")
    _members_only()
    form = InterestsForm()
    if request.method == "GET":
        saved = interests.interests_of(user)
        form.themes.data = [t.value for t in saved.themes]
        form.areas.data = sorted(saved.areas)
    outcome = submit_form(
        form,
        lambda: interests.save_interests(
            user, [Theme(t) for t in form.themes.data or []], list(form.areas.data or [])
        ),
    )
    if outcome.done:
        if outcome.result.any:
            flash("Saved. Each Monday we will email you the opportunities that match.", "success")
        else:
            flash("Saved. With nothing chosen, you will get no weekly digest.", "success")
        return redirect(url_for("bids.interests_settings"))
    return render_template("bids/interests.html", form=form), outcome.status
