"""Decisions, grants, payments and end-of-grant reports.

Staff: decide an application (with every reviewer's scores and comments, and the ranking's figures); list
grants; on a grant set its conditions, report date and payment schedule, record payments, review the end-of-grant
report, and withdraw the offer or end the grant early (each confirmed on a page of its own, with a reason).
Organisations: see the offer, accept the conditions (admins), and write the report (members). Pages for
organisations never show reviewers' names or scores.

Write views that check and then write (decide, accept, pay, report, withdraw, end) begin with
begin_write_transaction(): on SQLite it takes the write lock first; on PostgreSQL the services lock the round or
grant row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm.exc import StaleDataError

from foundation.db_setup import begin_write_transaction
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.grants import awards, bp, decisions, money, ranking, reports
from foundation.grants import report_tasks as _report_tasks  # noqa: F401  (registers `flask grants send-report-reminders`)
from foundation.grants.forms_awards import (
    AcceptForm,
    DecisionForm,
    EndGrantForm,
    PaymentForm,
    ReportForm,
    ReportReviewForm,
    ScheduleForm,
    TermsForm,
    WithdrawOfferForm,
)
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    DecisionOutcome,
    Grant,
    GrantReport,
    GrantStatus,
    ReportStatus,
)
from foundation.ledger import service as ledger
from foundation.pagination import page_number, paginate
from foundation.permissions import organisation_for, signed_in_user, staff_required
from foundation.web import field_error

BLANK_INSTALMENT_ROWS = 3
CHANGED_MEANWHILE = "Someone changed this at the same time. Check it again and retry."


# --- staff: deciding -------------------------------------------------------------------------------------------


@bp.route("/staff/grants/applications/<int:application_id>/decide", methods=["GET", "POST"])
@staff_required
def decide(application_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        begin_write_transaction()
    application = db.get_or_404(Application, application_id)
    if application.status is ApplicationStatus.DRAFT:
        abort(404)
    form = DecisionForm()
    reasons = decisions.active_decline_reasons()
    form.decline_reason.choices = [SelectChoice("", "Choose a reason")] + [
        SelectChoice(r.id, r.label) for r in reasons
    ]
    if request.method == "GET":
        d = application.decision
        form.version.data = str(d.version) if d is not None else ""
        if d is not None:
            form.outcome.data = d.outcome.value
            form.amount.data = d.amount_pence if d.outcome is DecisionOutcome.AWARD_PART else None
            form.decline_reason.data = d.decline_reason_id
            form.feedback.data = d.feedback
    status = 200
    if form.validate_on_submit():
        choice = decisions.DecisionInput(
            outcome=DecisionOutcome(form.outcome.data),
            amount_pence=form.amount.data,
            decline_reason_id=form.decline_reason.data,
            feedback=form.feedback.data or "",
        )
        try:
            decision = decisions.decide(
                application, signed_in_user(), choice, decisions.SeenDecision(form.seen_version)
            )
            db.session.commit()
        except decisions.StaleDecision as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            # The page now shows the current decision; sending the form again is a choice made knowing it.
            current = application.decision
            form.version.data = str(current.version) if current is not None else ""
            status = exc.status_code
        except DomainError as exc:
            db.session.rollback()
            field_error(form, exc)
            status = exc.status_code
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(CHANGED_MEANWHILE)
            status = 409
        else:
            ref = application.reference or application.project_title
            flash(f"{ref}: {decision.outcome.label.lower()}. The organisation has been told.", "success")
            return redirect(url_for("grants.decide", application_id=application.id))
    elif form.is_submitted():
        status = 422
    scores = ranking.application_reviews(application)
    return render_template(
        "grants/decide.html",
        application=application,
        form=form,
        money=scores.money,
        reviews=scores,
        why_not=decisions.decidable(application),
    ), status


# --- staff: grants ---------------------------------------------------------------------------------------------


@bp.get("/staff/grants/grants")
@staff_required
def grant_list() -> ResponseReturnValue:
    status_value = request.args.get("status", "")
    status = next((s for s in GrantStatus if s.value == status_value), None)
    stmt = (
        sa.select(Grant)
        .order_by(Grant.created_at.desc(), Grant.id.desc())
        .options(*awards.grant_list_options())
    )
    if status is not None:
        stmt = stmt.where(Grant.status == status)
    grants = paginate(stmt, page_number())
    counts = dict(
        db.session.execute(sa.select(Grant.status, sa.func.count()).group_by(Grant.status)).tuples().all()
    )
    return render_template(
        "grants/grant_list.html",
        grants=grants,
        status=status,
        statuses=list(GrantStatus),
        counts=counts,
        today=awards.london_today(),
    )


def _manage_page(grant: Grant, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The staff grant page, with any form given (carrying its errors) in place of a fresh one."""
    terms = forms.get("terms") or TermsForm(formdata=None, obj=grant)
    schedule = forms.get("schedule")
    if schedule is None:
        schedule = ScheduleForm(
            formdata=None,
            data={
                "instalments": [
                    {"due_on": i.due_on, "amount": i.amount_pence}
                    for i in grant.instalments
                    if i.paid_at is None
                ]
            },
        )
        for _ in range(BLANK_INSTALMENT_ROWS):
            schedule.instalments.append_entry()
    payment_forms = {i.id: PaymentForm(formdata=None, prefix=f"pay{i.id}") for i in grant.instalments}
    if forms.get("payment") is not None:
        payment_forms[forms["payment_instalment_id"]] = forms["payment"]
    review = forms.get("review") or ReportReviewForm(formdata=None)
    return render_template(
        "grants/grant_manage.html",
        grant=grant,
        application=grant.application,
        report=grant.report,
        terms_form=terms,
        schedule_form=schedule,
        payment_forms=payment_forms,
        review_form=review,
        transactions=ledger.entries_for(money.grant_tag(grant.id)),
        paid_ids=[i.id for i in grant.instalments if i.paid_at is not None],
        payable=awards.payable(grant),
        payments_held=awards.PAYMENTS_HELD,
        can_withdraw=awards.stop_refusal(grant, awards.Stop.WITHDRAW) is None,
        can_end=awards.stop_refusal(grant, awards.Stop.END) is None,
    ), status


@bp.get("/staff/grants/grants/<int:grant_id>")
@staff_required
def grant_manage(grant_id: int) -> ResponseReturnValue:
    return _manage_page(db.get_or_404(Grant, grant_id))


def _locked_grant(grant_id: int) -> Grant:
    begin_write_transaction()
    db.get_or_404(Grant, grant_id)
    return awards.lock_grant(grant_id)


@bp.post("/staff/grants/grants/<int:grant_id>/terms")
@staff_required
def grant_terms(grant_id: int) -> ResponseReturnValue:
    grant = _locked_grant(grant_id)
    form = TermsForm()
    if not form.validate():
        db.session.rollback()
        return _manage_page(grant, 422, terms=form)
    try:
        # Once accepted the conditions are shown, not edited: keep them as they are.
        conditions = form.conditions.data if grant.status is GrantStatus.OFFERED else grant.conditions
        report_due_on = form.report_due_on.data
        assert report_due_on is not None  # InputRequired: the form has validated
        awards.set_terms(grant, signed_in_user(), conditions or "", report_due_on)
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _manage_page(grant, exc.status_code, terms=form)
    db.session.commit()
    flash("The grant's terms are saved.", "success")
    return redirect(url_for("grants.grant_manage", grant_id=grant_id))


@bp.post("/staff/grants/grants/<int:grant_id>/schedule")
@staff_required
def grant_schedule(grant_id: int) -> ResponseReturnValue:
    grant = _locked_grant(grant_id)
    form = ScheduleForm()
    if not form.validate():
        db.session.rollback()
        return _manage_page(grant, 422, schedule=form)
    try:
        awards.set_schedule(grant, signed_in_user(), form.rows())
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _manage_page(grant, exc.status_code, schedule=form)
    db.session.commit()
    flash("The payment schedule is saved.", "success")
    return redirect(url_for("grants.grant_manage", grant_id=grant_id, _anchor="schedule"))


@bp.post("/staff/grants/grants/<int:grant_id>/instalments/<int:instalment_id>/pay")
@staff_required
def record_payment(grant_id: int, instalment_id: int) -> ResponseReturnValue:
    grant = _locked_grant(grant_id)
    if all(i.id != instalment_id for i in grant.instalments):
        abort(404)
    form = PaymentForm(prefix=f"pay{instalment_id}")
    forms = {"payment": form, "payment_instalment_id": instalment_id}
    if not form.validate():
        db.session.rollback()
        return _manage_page(grant, 422, **forms)
    try:
        instalment = awards.record_payment(grant, instalment_id, signed_in_user(), form.reference.data)
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _manage_page(grant, exc.status_code, **forms)
    db.session.commit()
    flash(f"Payment of {awards.pounds(instalment.amount_pence)} recorded.", "success")
    return redirect(url_for("grants.grant_manage", grant_id=grant_id, _anchor="schedule"))


@bp.post("/staff/grants/grants/<int:grant_id>/report/review")
@staff_required
def review_report(grant_id: int) -> ResponseReturnValue:
    grant = _locked_grant(grant_id)
    form = ReportReviewForm()
    action = request.form.get("action", "")
    if not form.validate() or action not in ("accept", "more_info"):
        if action not in ("accept", "more_info"):
            form.form_errors.append("Choose to accept the report or ask for more information.")
        db.session.rollback()
        return _manage_page(grant, 422, review=form)
    if action == "more_info" and not form.validate_message_needed():
        db.session.rollback()
        return _manage_page(grant, 422, review=form)
    try:
        if action == "accept":
            reports.accept_report(
                grant, signed_in_user(), form.underspend_received.data, form.message.data or ""
            )
        else:
            reports.request_more_info(grant, signed_in_user(), form.message.data or "")
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _manage_page(grant, exc.status_code, review=form)
    db.session.commit()
    flash(
        "Report accepted; the grant is completed."
        if action == "accept"
        else "The report was sent back with your message.",
        "success",
    )
    return redirect(url_for("grants.grant_manage", grant_id=grant_id, _anchor="report"))


# --- staff: withdrawing an offer, ending a grant early ---------------------------------------------------------

_STOP_FORMS: dict[awards.Stop, type[WithdrawOfferForm | EndGrantForm]] = {
    awards.Stop.WITHDRAW: WithdrawOfferForm,
    awards.Stop.END: EndGrantForm,
}
_STOP_SERVICES = {awards.Stop.WITHDRAW: awards.withdraw_offer, awards.Stop.END: awards.end_grant_early}


def _stop_page(
    grant: Grant,
    action: awards.Stop,
    form: WithdrawOfferForm | EndGrantForm,
    status: int = 200,
    refused: bool = False,
) -> tuple[str, int]:
    """The confirmation page: what will happen, the reason asked for, or why it cannot be done."""
    unpaid = [i for i in grant.instalments if i.paid_at is None and i.cancelled_at is None]
    return render_template(
        "grants/grant_stop.html",
        grant=grant,
        application=grant.application,
        action=action.value,
        form=form,
        refusal=awards.stop_refusal(grant, action),
        refused=refused,
        unpaid=unpaid,
        unpaid_pence=sum(i.amount_pence for i in unpaid),
    ), status


def _stop_view(grant_id: int, action: awards.Stop) -> ResponseReturnValue:
    form_class = _STOP_FORMS[action]
    if request.method == "GET":
        return _stop_page(db.get_or_404(Grant, grant_id), action, form_class(formdata=None))
    grant = _locked_grant(grant_id)
    form = form_class()
    if not form.validate():
        db.session.rollback()
        refusal = awards.stop_refusal(grant, action)
        return _stop_page(grant, action, form, 409 if refusal else 422, refused=bool(refusal))
    try:
        txn = _STOP_SERVICES[action](grant, signed_in_user(), form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _stop_page(grant, action, form, exc.status_code, refused=exc.status_code == 409)
    released = sum(e.amount_pence for e in txn.entries if e.amount_pence > 0) if txn is not None else 0
    db.session.commit()
    ref = grant.application.reference or grant.application.project_title
    what = "The offer was withdrawn" if action is awards.Stop.WITHDRAW else "The grant was ended early"
    flash(
        f"{ref}: {what}; {awards.pounds(released)} is back in the round's budget. The organisation has been told.",
        "success",
    )
    return redirect(url_for("grants.grant_manage", grant_id=grant_id), 303)


@bp.route("/staff/grants/grants/<int:grant_id>/withdraw", methods=["GET", "POST"])
@staff_required
def grant_withdraw(grant_id: int) -> ResponseReturnValue:
    return _stop_view(grant_id, awards.Stop.WITHDRAW)


@bp.route("/staff/grants/grants/<int:grant_id>/end", methods=["GET", "POST"])
@staff_required
def grant_end(grant_id: int) -> ResponseReturnValue:
    return _stop_view(grant_id, awards.Stop.END)


# --- organisations: the offer and the report -----------------------------------------------------------------


@bp.get("/grants/awards")
@login_required
def award_list() -> ResponseReturnValue:
    return render_template("grants/award_list.html", grants=awards.grants_of_user(signed_in_user()))


def _award_page(grant: Grant, form: AcceptForm | None = None, status: int = 200) -> tuple[str, int]:
    can_accept = grant.status is GrantStatus.OFFERED and signed_in_user().is_admin_of(grant.organisation_id)
    if form is None and can_accept:
        form = AcceptForm(formdata=None, offer=awards.offer_fingerprint(grant))
    return render_template(
        "grants/award_detail.html",
        grant=grant,
        application=grant.application,
        report=grant.report,
        form=form,
        can_accept=can_accept,
        is_member=signed_in_user().membership_of(grant.organisation_id) is not None,
        overdue=reports_overdue(grant),
        payable=awards.payable(grant),
    ), status


def reports_overdue(grant: Grant) -> bool:
    report = grant.report
    return (
        grant.status is GrantStatus.ACTIVE
        and grant.report_due_on < awards.london_today()
        and (report is None or report.status not in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED))
    )


@bp.get("/grants/awards/<int:grant_id>")
@login_required
def award_detail(grant_id: int) -> ResponseReturnValue:
    grant = db.get_or_404(Grant, grant_id)
    organisation_for(grant.organisation_id)
    return _award_page(grant)


@bp.post("/grants/awards/<int:grant_id>/accept")
@login_required
def award_accept(grant_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    grant = db.get_or_404(Grant, grant_id)
    organisation_for(grant.organisation_id, admin=True)
    grant = awards.lock_grant(grant_id)
    form = AcceptForm()
    if not form.validate():
        db.session.rollback()
        return _award_page(grant, form, 422)
    try:
        awards.accept_grant(grant, signed_in_user(), form.offer.data or "")
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _award_page(grant, form, exc.status_code)
    db.session.commit()
    flash("Thank you: the grant conditions are accepted. Payments follow the schedule below.", "success")
    return redirect(url_for("grants.award_detail", grant_id=grant_id))


@bp.route("/grants/awards/<int:grant_id>/report", methods=["GET", "POST"])
@login_required
def award_report(grant_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        begin_write_transaction()
    grant = db.get_or_404(Grant, grant_id)
    organisation_for(grant.organisation_id)
    report: GrantReport | None = grant.report
    if request.method == "POST":
        if signed_in_user().membership_of(grant.organisation_id) is None:
            abort(403)  # staff read the report here; the organisation writes it
        grant = awards.lock_grant(grant_id)
        report = grant.report
    form = ReportForm(obj=report) if request.method == "GET" else ReportForm()
    if request.method == "GET" and report is not None:
        form.spent.data = report.spent_pence if report.submitted_at or report.spent_pence else None
    status = 200
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        valid = form.validate()
        if submit:  # every missing part is shown at once, with any typing errors
            valid = form.validate_for_submit() and valid
        if not valid:
            db.session.rollback()
            status = 422
        else:
            data = reports.ReportInput(
                what_happened=form.what_happened.data or "",
                young_people_reached=form.young_people_reached.data,
                spend_summary=form.spend_summary.data or "",
                spent_pence=form.spent.data,
            )
            try:
                reports.save_report(grant, signed_in_user(), data, submit)
            except DomainError as exc:
                db.session.rollback()
                field_error(form, exc)
                status = exc.status_code
            else:
                db.session.commit()
                flash(
                    "Your end-of-grant report is submitted. Staff will review it."
                    if submit
                    else "Your draft is saved. Submit it when it is complete.",
                    "success",
                )
                if submit:
                    return redirect(url_for("grants.award_detail", grant_id=grant_id))
                return redirect(url_for("grants.award_report", grant_id=grant_id))
    return render_template(
        "grants/award_report.html",
        grant=grant,
        report=grant.report,
        form=form,
        can_edit=(
            grant.status is GrantStatus.ACTIVE
            and reports.editable(grant.report)
            and signed_in_user().membership_of(grant.organisation_id) is not None
        ),
        overdue=reports_overdue(grant),
    ), status
