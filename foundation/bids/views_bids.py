"""Consortium bids.

/bids                                           the bids a person's organisations are in (staff: all), invitations
/funding/<id>/bid                               start a bid for an opportunity
/bids/<id>                                      the bid: consortium, budget, tasks, documents, history, next steps
/bids/<id>/edit                                 title, case for support, management fee (staff)
/bids/<id>/partners                             invite a partner (POST)
/bids/<id>/invitations/<partner>                an invited organisation's admins answer
/bids/<id>/parts/<partner>                      a partner's part: activities and outcomes, reach, budget lines
/bids/<id>/steps/<step>                         move the bid on (POST)
/bids/<id>/tasks, .../tasks/<task>/done         tasks (POST)
/bids/<id>/documents[/<doc>[/remove]]           the shared document area
/bids/<id>/assembled, /bids/<id>/budget.csv     the assembled bid (printable) and its budget as CSV

A bid is seen by staff and the people of the organisations in its consortium; to anyone else it does not exist
(404). An invited organisation's admins see only the invitation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.bids import bids, bp, opportunities, teamwork
from foundation.bids.forms import ConfirmForm
from foundation.bids.forms_bids import (
    AnswerForm,
    AwardForm,
    BidEditForm,
    BidStartForm,
    BudgetLineForm,
    DocumentForm,
    InviteForm,
    PartForm,
    ReachForm,
    StepForm,
    TaskForm,
)
from foundation.bids.models import (
    TOWNS,
    Bid,
    BidBudgetLine,
    BidDocument,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BidTask,
    BudgetCategory,
)
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.pagination import page_number
from foundation.permissions import deny, signed_in_user
from foundation.uploads import send_stored
from foundation.web import field_error, spreadsheet_safe, submit_form

FOUNDATION_LEADS = 0  # the "who leads" choice for a bid the Foundation leads


def _bid(bid_id: int, user: User) -> Bid:
    found = bids.load(bid_id)
    if found is None or not bids.in_team(user, found):
        deny(404, f"bid {bid_id} is not theirs")
    return found


def _partner(found: Bid, bid_partner_id: int) -> BidPartner:
    partner = next((p for p in found.partners if p.id == bid_partner_id), None)
    if partner is None:
        abort(404)
    return partner


# --- lists and starting ----------------------------------------------------------------------------------------


@bp.route("/bids")
@login_required
def bids_list() -> ResponseReturnValue:
    user = signed_in_user()
    if not user.is_staff and not opportunities.can_browse(user):
        deny(403, "bids are for member organisations")
    status = None
    if request.args.get("status") in {s.value for s in BidStatus}:
        status = BidStatus(request.args["status"])
    result = bids.bids_for(user, page_number(), status)
    return render_template(
        "bids/bids.html",
        result=result,
        status=status,
        statuses=list(BidStatus),
        invitations=bids.invitations_for(user),
        tasks=teamwork.open_tasks_of(user),
    )


@bp.route("/funding/<int:opportunity_id>/bid", methods=["GET", "POST"])
@login_required
def bid_start(opportunity_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    if not opportunities.can_browse(user):
        deny(403, "funding opportunities are for member organisations")
    found = opportunities.load(opportunity_id)
    if found is None or not opportunities.can_see(user, found):
        abort(404)
    leads = bids.lead_choices(user)
    if not user.is_staff and not leads:
        deny(403, "only staff and admins of organisations in good standing start bids")
    form = BidStartForm()
    choices = [SelectChoice(FOUNDATION_LEADS, "The Foundation")] if user.is_staff else []
    form.lead.choices = choices + [SelectChoice(o.id, o.name) for o in leads]
    if request.method == "GET":
        form.title.data = found.programme
        form.lead.data = form.lead.choices[0].value if form.lead.choices else None

    def start() -> Bid:
        lead = None
        if form.lead.data != FOUNDATION_LEADS or not user.is_staff:
            lead = next((o for o in leads if o.id == form.lead.data), None)
            if lead is None:
                raise DomainError("Choose one of the organisations you can lead a bid for.", field="lead")
        return bids.start(found, form.title.data or "", user, lead)

    outcome = submit_form(form, start)
    if outcome.done:
        flash("The bid is started. Invite the partners who will bid with you.", "success")
        return redirect(url_for("bids.bid", bid_id=outcome.result.id))
    return render_template("bids/bid_start.html", form=form, opportunity=found), outcome.status


# --- the bid ---------------------------------------------------------------------------------------------------


def _invitable(found: Bid) -> list[Organisation]:
    taken = {p.organisation_id for p in found.partners if p.status is not BidPartnerStatus.DECLINED}
    orgs = db.session.scalars(
        db.select(Organisation)
        .where(Organisation.status == OrganisationStatus.APPROVED)
        .order_by(Organisation.name)
    ).all()
    return [o for o in orgs if o.id not in taken]


def render_bid(found: Bid, status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    manage = bids.can_manage(user, found)
    invite_form = forms.get("invite_form") or InviteForm()
    if manage and isinstance(invite_form, InviteForm) and not invite_form.organisation.choices:
        invite_form.organisation.choices = [SelectChoice(o.id, o.name) for o in _invitable(found)]
    task_form = forms.get("task_form") or TaskForm()
    if manage and isinstance(task_form, TaskForm) and not task_form.owner.choices:
        task_form.owner.choices = [SelectChoice(u.id, u.name) for u in teamwork.owner_choices(found)]
    steps = bids.available_steps(user, found)
    return render_template(
        "bids/bid.html",
        found=found,
        budget=bids.budget(found),
        reach=bids.reach_by_town(found),
        manage=manage,
        mine={m.organisation_id for m in user.memberships},
        steps=steps,
        readiness={s: bids.readiness(found, s) for s in steps},
        needs_note=bids.NEEDS_NOTE,
        invite_form=invite_form,
        task_form=task_form,
        document_form=forms.get("document_form") or DocumentForm(),
        step_form=forms.get("step_form") or StepForm(),
        award_form=forms.get("award_form") or AwardForm(),
        failed_step=forms.get("failed_step"),
        button=ConfirmForm(),
    ), status


@bp.route("/bids/<int:bid_id>")
@login_required
def bid(bid_id: int) -> ResponseReturnValue:
    return render_bid(_bid(bid_id, signed_in_user()))


@bp.route("/bids/<int:bid_id>/edit", methods=["GET", "POST"])
@login_required
def bid_edit(bid_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    if not bids.can_manage(user, found):
        deny(403, "only the bid's managers change it")
    form = BidEditForm(obj=None)
    if request.method == "GET":
        form.title.data = found.title
        form.case_for_support.data = found.case_for_support
        form.fee_percent.data = found.fee_basis_points / 100  # type: ignore[assignment]
    outcome = submit_form(
        form,
        lambda: bids.update(
            found,
            form.title.data or "",
            form.case_for_support.data or "",
            user,
            float(form.fee_percent.data) if form.fee_percent.data is not None else None,
        ),
    )
    if outcome.done:
        flash("Saved.", "success")
        return redirect(url_for("bids.bid", bid_id=found.id))
    return render_template(
        "bids/bid_edit.html", form=form, found=found, user_is_staff=user.is_staff
    ), outcome.status


@bp.post("/bids/<int:bid_id>/partners")
@login_required
def bid_invite(bid_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    if not bids.can_manage(user, found):
        deny(403, "only the bid's managers invite partners")
    form = InviteForm()
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in _invitable(found)] or [
        SelectChoice(p.organisation_id, p.organisation.name) for p in found.partners
    ]

    def invite() -> BidPartner:
        org = db.session.get(Organisation, form.organisation.data)
        if org is None:
            raise DomainError("Choose an organisation to invite.", field="organisation")
        return bids.invite(found, org, user)

    outcome = submit_form(form, invite)
    if outcome.done:
        flash(
            f"{outcome.result.organisation.name} is invited. It joins once an administrator accepts.",
            "success",
        )
        return redirect(url_for("bids.bid", bid_id=found.id, _anchor="consortium"))
    return render_bid(_bid(bid_id, user), outcome.status, invite_form=form)


@bp.route("/bids/<int:bid_id>/invitations/<int:bid_partner_id>", methods=["GET", "POST"])
@login_required
def bid_invitation(bid_id: int, bid_partner_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    partner = db.session.get(BidPartner, bid_partner_id)
    if partner is None or partner.bid_id != bid_id:
        abort(404)
    if not user.is_admin_of(partner.organisation_id):
        if bids.can_manage(user, partner.bid):
            deny(403, "only an administrator of the invited organisation answers")
        abort(404)
    form = AnswerForm()
    outcome = submit_form(form, lambda: bids.respond(partner, form.answer.data == "accept", user))
    if outcome.done:
        if partner.status is BidPartnerStatus.ACCEPTED:
            flash(f"{partner.organisation.name} has joined the bid. Now write your part.", "success")
            return redirect(url_for("bids.bid_part", bid_id=bid_id, bid_partner_id=partner.id))
        flash("You have declined the invitation.", "success")
        return redirect(url_for("bids.bids_list"))
    found = partner.bid
    return render_template(
        "bids/bid_invitation.html",
        partner=partner,
        found=found,
        lead_name=bids.lead_name(found),
        form=form,
    ), outcome.status


# --- parts -----------------------------------------------------------------------------------------------------


def render_part(found: Bid, partner: BidPartner, status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    part_form = forms.get("part_form") or PartForm(
        formdata=None, activities=partner.activities, outcomes=partner.outcomes
    )
    reach_form = forms.get("reach_form")
    if reach_form is None:
        reach_form = ReachForm(formdata=None)
        reach_form.fill({row.town: row.young_people for row in partner.reach_rows})
    return render_template(
        "bids/part.html",
        found=found,
        partner=partner,
        writable=bids.can_write_part(user, partner)
        and partner.status is BidPartnerStatus.ACCEPTED
        and found.status.parts_open,
        part_form=part_form,
        reach_form=reach_form,
        line_form=forms.get("line_form") or BudgetLineForm(),
        towns=[(town, bids.town_field(town)) for town in TOWNS],
        categories=list(BudgetCategory),
        button=ConfirmForm(),
    ), status


def _part(bid_id: int, bid_partner_id: int) -> tuple[User, Bid, BidPartner]:
    """The partner's part; for a change (POST), only its own people get further."""
    user = signed_in_user()
    found = _bid(bid_id, user)
    partner = _partner(found, bid_partner_id)
    if partner.status is not BidPartnerStatus.ACCEPTED:
        abort(404)
    if request.method == "POST" and not bids.can_write_part(user, partner):
        deny(403, "only the partner's own people write its part")
    return user, found, partner


@bp.route("/bids/<int:bid_id>/parts/<int:bid_partner_id>", methods=["GET", "POST"])
@login_required
def bid_part(bid_id: int, bid_partner_id: int) -> ResponseReturnValue:
    user, found, partner = _part(bid_id, bid_partner_id)
    if request.method == "GET":
        return render_part(found, partner)
    form = PartForm()
    outcome = submit_form(
        form, lambda: bids.save_part(partner, form.activities.data or "", form.outcomes.data or "", user)
    )
    if outcome.done:
        flash("Your part is saved.", "success")
        return redirect(url_for("bids.bid_part", bid_id=bid_id, bid_partner_id=bid_partner_id))
    return render_part(found, partner, outcome.status, part_form=form)


@bp.post("/bids/<int:bid_id>/parts/<int:bid_partner_id>/reach")
@login_required
def bid_part_reach(bid_id: int, bid_partner_id: int) -> ResponseReturnValue:
    user, found, partner = _part(bid_id, bid_partner_id)
    form = ReachForm()
    outcome = submit_form(form, lambda: bids.save_reach(partner, form.reach(), user))
    if outcome.done:
        flash("The young people you will reach are saved.", "success")
        return redirect(
            url_for("bids.bid_part", bid_id=bid_id, bid_partner_id=bid_partner_id, _anchor="reach")
        )
    return render_part(found, partner, outcome.status, reach_form=form)


@bp.post("/bids/<int:bid_id>/parts/<int:bid_partner_id>/lines")
@login_required
def bid_part_line(bid_id: int, bid_partner_id: int) -> ResponseReturnValue:
    user, found, partner = _part(bid_id, bid_partner_id)
    form = BudgetLineForm()
    outcome = submit_form(
        form,
        lambda: bids.add_line(
            partner, form.selected(), form.description.data or "", form.amount.data or 0, user
        ),
    )
    if outcome.done:
        flash("The budget line is added.", "success")
        return redirect(
            url_for("bids.bid_part", bid_id=bid_id, bid_partner_id=bid_partner_id, _anchor="budget")
        )
    return render_part(found, partner, outcome.status, line_form=form)


@bp.post("/bids/<int:bid_id>/parts/<int:bid_partner_id>/lines/<int:bid_line_id>/remove")
@login_required
def bid_part_line_remove(bid_id: int, bid_partner_id: int, bid_line_id: int) -> ResponseReturnValue:
    user, found, partner = _part(bid_id, bid_partner_id)
    line = db.session.get(BidBudgetLine, bid_line_id)
    if line is None or line.partner_id != partner.id:
        abort(404)
    back = url_for("bids.bid_part", bid_id=bid_id, bid_partner_id=bid_partner_id, _anchor="budget")
    return _press(lambda: bids.remove_line(line, user), back, "The budget line is removed.")


def _press(action: Callable[[], object], back: str, done: str) -> ResponseReturnValue:
    """A button (its form is only the CSRF token): run the action, or say on the page why it was refused."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 403:
            deny(403, exc.message)
        flash(exc.message, "error")
        return redirect(back, 303)
    db.session.commit()
    flash(done, "success")
    return redirect(back, 303)


# --- steps -----------------------------------------------------------------------------------------------------


@bp.post("/bids/<int:bid_id>/steps/<step>")
@login_required
def bid_step(bid_id: int, step: str) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    try:
        which = bids.Step(step)
    except ValueError:
        abort(404)
    who = bids.TRANSITIONS[which][2]
    if not bids.can_manage(user, found) or (who == "staff" and not user.is_staff):
        deny(403, "not allowed to move this bid")
    form = StepForm()
    if not form.validate_on_submit():
        return render_bid(found, 422, step_form=form, failed_step=which)
    try:
        bids.step(found, which, user, form.note.data or "")
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return render_bid(_bid(bid_id, user), exc.status_code, step_form=form, failed_step=which)
    db.session.commit()
    flash(f"The bid is now {found.status.label.lower()}.", "success")
    return redirect(url_for("bids.bid", bid_id=bid_id))


# --- tasks and documents ---------------------------------------------------------------------------------------


@bp.post("/bids/<int:bid_id>/tasks")
@login_required
def bid_task_add(bid_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    if not bids.can_manage(user, found):
        deny(403, "only the bid's managers set tasks")
    form = TaskForm()
    form.owner.choices = [SelectChoice(u.id, u.name) for u in teamwork.owner_choices(found)]
    outcome = submit_form(
        form,
        lambda: teamwork.add_task(
            found, form.title.data or "", db.session.get(User, form.owner.data), form.due.data, user
        ),
    )
    if outcome.done:
        flash("The task is set; its owner has been told.", "success")
        return redirect(url_for("bids.bid", bid_id=bid_id, _anchor="tasks"))
    return render_bid(_bid(bid_id, user), outcome.status, task_form=form)


@bp.post("/bids/<int:bid_id>/tasks/<int:bid_task_id>/done")
@login_required
def bid_task_done(bid_id: int, bid_task_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    task = db.session.get(BidTask, bid_task_id)
    if task is None or task.bid_id != found.id:
        abort(404)
    back = url_for("bids.bid", bid_id=bid_id, _anchor="tasks")
    return _press(lambda: teamwork.complete_task(task, user), back, f"Done: {task.title}.")


@bp.post("/bids/<int:bid_id>/documents")
@login_required
def bid_document_upload(bid_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    form = DocumentForm()
    status = 422
    if form.validate_on_submit():
        try:
            doc = teamwork.upload(found, form.title.data or "", form.file.data, user)
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        else:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                teamwork.discard_file(doc)
                raise
            flash(f"“{doc.title}” is shared with the bid's team.", "success")
            return redirect(url_for("bids.bid", bid_id=bid_id, _anchor="documents"), 303)
    return render_bid(_bid(bid_id, user), status, document_form=form)


@bp.get("/bids/<int:bid_id>/documents/<int:bid_doc_id>")
@login_required
def bid_document(bid_id: int, bid_doc_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    doc, path = teamwork.document_for_download(user, found, bid_doc_id)
    return send_stored(path, doc.original_filename, doc.content_type)


@bp.post("/bids/<int:bid_id>/documents/<int:bid_doc_id>/remove")
@login_required
def bid_document_remove(bid_id: int, bid_doc_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    found = _bid(bid_id, user)
    doc = next((d for d in found.documents if d.id == bid_doc_id), None)
    if doc is None:
        abort(404)
    stored_name = doc.stored_name
    back = url_for("bids.bid", bid_id=bid_id, _anchor="documents")
    response = _press(lambda: teamwork.remove_document(doc, user), back, f"“{doc.title}” is removed.")
    if db.session.get(BidDocument, bid_doc_id) is None:
        teamwork.remove_file(stored_name)  # the deletion is committed: the file goes too
    return response


# --- the assembled bid -----------------------------------------------------------------------------------------


@bp.get("/bids/<int:bid_id>/assembled")
@login_required
def bid_assembled(bid_id: int) -> ResponseReturnValue:
    found = _bid(bid_id, signed_in_user())
    return render_template(
        "bids/assembled.html",
        found=found,
        budget=bids.budget(found),
        reach=bids.reach_by_town(found),
        categories=list(BudgetCategory),
        lead_name=bids.lead_name(found),
    )


@bp.get("/bids/<int:bid_id>/budget.csv")
@login_required
def bid_budget_csv(bid_id: int) -> ResponseReturnValue:
    found = _bid(bid_id, signed_in_user())
    budget = bids.budget(found)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Partner", "Kind of cost", "What it is for", "Amount (GBP)"])
    for share in budget.shares:
        for line in share.partner.budget_lines:
            writer.writerow(
                [
                    spreadsheet_safe(share.partner.organisation.name),
                    line.category.label,
                    spreadsheet_safe(line.description),
                    f"{line.amount_pence / 100:.2f}",
                ]
            )
    writer.writerow(["Partners' total", "", "", f"{budget.parts_pence / 100:.2f}"])
    writer.writerow(
        [
            "Management fee",
            "",
            f"The Foundation as accountable body, {budget.fee_percent}",
            f"{budget.fee_pence / 100:.2f}",
        ]
    )
    writer.writerow(["Total asked", "", "", f"{budget.total_pence / 100:.2f}"])
    return (
        out.getvalue(),
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="bid-{found.id}-budget.csv"',
            "Cache-Control": "private, no-store",
        },
    )
