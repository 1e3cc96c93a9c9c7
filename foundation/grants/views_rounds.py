"""Funding rounds and the fund.

Staff pages under /staff/grants: the rounds and the fund at a glance, creating and managing a round (details,
criteria, questions, budget, its steps from draft to decided), the fund and its ledger (deposits), and the list of
decline reasons. Public pages: the rounds (/grants), a round (/grants/rounds/<id>, not for drafts) and the public
ledger (/grants/ledger).
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from foundation.db_setup import begin_write_transaction
from foundation.errors import DomainError
from foundation.extensions import db
from foundation.grants import bp, money
from foundation.grants import rounds as svc
from foundation.grants import tasks as _tasks  # noqa: F401  (registers the periodic task and `flask grants ...`)
from foundation.grants.forms_rounds import (
    AdvanceForm,
    AllocateForm,
    CriteriaForm,
    DeallocateForm,
    DeclineReasonForm,
    DepositForm,
    OpenRoundForm,
    QuestionsForm,
    ReviewDeadlineForm,
    RoundForm,
)
from foundation.grants.models import DeclineReason, GrantRound, RoundStatus
from foundation.navigation import staff_area
from foundation.pagecache import public_page
from foundation.permissions import signed_in_user, staff_required
from foundation.types import utcnow
from foundation.web import field_error, submit_form

BLANK_ROWS = 6
LEDGER_PAGE_SIZE = 50
STAFF_LEDGER_SIZE = 100

RowsFormT = TypeVar("RowsFormT", CriteriaForm, QuestionsForm)


def _round(round_id: int) -> GrantRound:
    return db.get_or_404(GrantRound, round_id)


def _endpoint(name: str) -> bool:
    return name in current_app.view_functions


# --- staff: rounds -------------------------------------------------------------------------------------------------


staff_area(
    "Seed grants",
    "grants.staff_rounds",
    "Funding rounds, applications, the panel's ranking, decisions, grants and the fund.",
    20,
)


@bp.get("/staff/grants")
@staff_required
def staff_rounds() -> ResponseReturnValue:
    all_rounds = db.session.scalars(
        sa.select(GrantRound).order_by(GrantRound.opens_at.desc(), GrantRound.id.desc())
    ).all()
    return render_template(
        "grants/round_staff_list.html",
        rounds=all_rounds,
        money=money.round_money([r.id for r in all_rounds]),
        fund_balance=money.fund_balance(),
    )


@bp.route("/staff/grants/rounds/new", methods=["GET", "POST"])
@staff_required
def round_new() -> ResponseReturnValue:
    form = RoundForm()
    outcome = submit_form(form, lambda: svc.create_round(form.values(), signed_in_user()))
    status = outcome.status
    if outcome.done:
        round_ = outcome.result
        flash(
            f"{round_.name} is saved as a draft. Add its criteria, questions and budget, then open it.",
            "success",
        )
        return redirect(url_for("grants.round_manage", round_id=round_.id))
    return render_template("grants/round_form.html", form=form, round=None), status


def _render_manage(
    round_: GrantRound,
    allocate_form: AllocateForm | None = None,
    deallocate_form: DeallocateForm | None = None,
    advance_error: str | None = None,
    status: int = 200,
    deadline_form: ReviewDeadlineForm | None = None,
) -> tuple[str, int]:
    advance_form = AdvanceForm(formdata=None, data={"expected": round_.status.value})
    if deadline_form is None and round_.status in (RoundStatus.CLOSED, RoundStatus.IN_REVIEW):
        deadline_form = ReviewDeadlineForm(
            formdata=None, prefix="deadline", data={"review_deadline": round_.review_deadline}
        )
    target = svc.next_status(round_)
    return render_template(
        "grants/round_manage.html",
        round=round_,
        money=money.money_for(round_),
        fund_balance=money.fund_balance(),
        allocate_form=allocate_form or AllocateForm(formdata=None, prefix="allocate"),
        deallocate_form=deallocate_form or DeallocateForm(formdata=None, prefix="deallocate"),
        advance_form=advance_form,
        target=target,
        action_label=svc.ACTION_LABELS.get(target) if target else None,
        blockers=svc.blockers(round_) if target else [],
        advance_error=advance_error,
        transactions=svc.ledger_page(1, STAFF_LEDGER_SIZE, round_id=round_.id),
        public_page=round_.status is not RoundStatus.DRAFT,
        grant_page=_endpoint("grants.grant_manage"),
        deadline_form=deadline_form,
        decline_counts=(
            svc.decline_counts(round_.id)
            if round_.status in (RoundStatus.IN_REVIEW, RoundStatus.DECIDED)
            else []
        ),
    ), status


@bp.get("/staff/grants/rounds/<int:round_id>")
@staff_required
def round_manage(round_id: int) -> ResponseReturnValue:
    return _render_manage(_round(round_id))


@bp.post("/staff/grants/rounds/<int:round_id>/review-deadline")
@staff_required
def round_review_deadline(round_id: int) -> ResponseReturnValue:
    round_ = svc.lock_round(_round(round_id))
    form = ReviewDeadlineForm(prefix="deadline")
    outcome = submit_form(form, lambda: svc.set_review_deadline(round_, form.review_deadline.data))
    if outcome.done:
        deadline = round_.review_deadline
        flash(
            f"Reviews are due by {deadline:%-d %B %Y}." if deadline else "The review deadline is removed.",
            "success",
        )
        return redirect(url_for("grants.round_manage", round_id=round_.id, _anchor="details"), 303)
    return _render_manage(round_, status=outcome.status, deadline_form=form)


@bp.route("/staff/grants/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@staff_required
def round_edit(round_id: int) -> ResponseReturnValue:
    round_ = _round(round_id)
    if round_.status not in (RoundStatus.DRAFT, RoundStatus.OPEN):
        flash(f"This round is {round_.status.label.lower()}: its details can no longer be changed.", "error")
        return redirect(url_for("grants.round_manage", round_id=round_.id)), 303
    form_cls = RoundForm if round_.status is RoundStatus.DRAFT else OpenRoundForm
    form = form_cls(data=form_cls.data_from(round_)) if request.method == "GET" else form_cls()
    outcome = submit_form(form, lambda: svc.update_round(round_, form.values()))
    status = outcome.status
    if outcome.done:
        flash("The round's details are saved.", "success")
        return redirect(url_for("grants.round_manage", round_id=round_.id))
    return render_template("grants/round_form.html", form=form, round=round_), status


def _rows_form(
    form_cls: type[RowsFormT],
    existing: list[dict[str, Any]],
    blank: int,
    blank_row: dict[str, Any] | None = None,
) -> RowsFormT:
    form = form_cls(formdata=None, data={"rows": existing})
    for _ in range(blank):
        form.rows.append_entry(blank_row)
    return form


def _criteria_form(round_: GrantRound) -> CriteriaForm:
    existing = [
        {"name": c.name, "description": c.description, "weight": c.weight, "max_score": c.max_score}
        for c in round_.criteria
    ]
    return _rows_form(CriteriaForm, existing, max(BLANK_ROWS - len(existing), 3))


def _questions_form(round_: GrantRound) -> QuestionsForm:
    existing = [
        {"prompt": q.prompt, "help_text": q.help_text, "required": q.required, "max_words": q.max_words}
        for q in round_.questions
    ]
    return _rows_form(QuestionsForm, existing, max(BLANK_ROWS - len(existing), 3), {"required": True})


def _locked(round_: GrantRound, what: str) -> ResponseReturnValue:
    flash(
        f"{what} can be changed only while the round is a draft; this round is {round_.status.label.lower()}.",
        "error",
    )
    return redirect(url_for("grants.round_manage", round_id=round_.id)), 303


@bp.route("/staff/grants/rounds/<int:round_id>/criteria", methods=["GET", "POST"])
@staff_required
def round_criteria(round_id: int) -> ResponseReturnValue:
    round_ = _round(round_id)
    if request.method == "GET":
        if round_.status is not RoundStatus.DRAFT:
            return _locked(round_, "The scoring criteria")
        return render_template("grants/round_criteria.html", round=round_, form=_criteria_form(round_))
    form = CriteriaForm()
    outcome = submit_form(form, lambda: svc.set_criteria(round_, form.values()))
    status = outcome.status
    if outcome.done:
        flash(f"The scoring criteria are saved ({len(round_.criteria)}).", "success")
        return redirect(url_for("grants.round_manage", round_id=round_.id))
    return render_template("grants/round_criteria.html", round=round_, form=form), status


@bp.route("/staff/grants/rounds/<int:round_id>/questions", methods=["GET", "POST"])
@staff_required
def round_questions(round_id: int) -> ResponseReturnValue:
    round_ = _round(round_id)
    if request.method == "GET":
        if round_.status is not RoundStatus.DRAFT:
            return _locked(round_, "The questions")
        return render_template("grants/round_questions.html", round=round_, form=_questions_form(round_))
    form = QuestionsForm()
    outcome = submit_form(form, lambda: svc.set_questions(round_, form.values()))
    status = outcome.status
    if outcome.done:
        flash(f"The questions are saved ({len(round_.questions)}).", "success")
        return redirect(url_for("grants.round_manage", round_id=round_.id))
    return render_template("grants/round_questions.html", round=round_, form=form), status


@bp.post("/staff/grants/rounds/<int:round_id>/advance")
@staff_required
def round_advance(round_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    round_ = _round(round_id)
    form = AdvanceForm()
    if not form.validate_on_submit() or form.expected_status() is None:
        return _render_manage(
            round_, advance_error="Use the button on this page to move the round on.", status=400
        )
    try:
        event = svc.advance(round_, signed_in_user(), expected=form.expected_status())
    except DomainError as exc:
        db.session.rollback()
        return _render_manage(_round(round_id), advance_error=exc.message, status=exc.status_code)
    db.session.commit()
    flash(f"{round_.name} is now {event.to_status.label.lower()}.", "success")
    return redirect(url_for("grants.round_manage", round_id=round_.id))


@bp.post("/staff/grants/rounds/<int:round_id>/allocate")
@staff_required
def round_allocate(round_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    round_ = _round(round_id)
    form = AllocateForm(prefix="allocate")
    outcome = submit_form(
        form, lambda: svc.allocate_budget(round_, form.amount.data, signed_in_user(), form.reason.data)
    )
    if not outcome.done:
        # a refused action was rolled back: the round is read afresh
        return _render_manage(_round(round_id), allocate_form=form, status=outcome.status)
    assert form.amount.data is not None  # the allocation ran, so the amount was given
    flash(f"£{form.amount.data / 100:,.2f} allocated to {round_.name}.", "success")
    return redirect(url_for("grants.round_manage", round_id=round_.id) + "#budget")


@bp.post("/staff/grants/rounds/<int:round_id>/deallocate")
@staff_required
def round_deallocate(round_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    round_ = _round(round_id)
    form = DeallocateForm(prefix="deallocate")
    outcome = submit_form(
        form, lambda: svc.deallocate_budget(round_, form.amount.data, signed_in_user(), form.reason.data)
    )
    if not outcome.done:
        # a refused action was rolled back: the round is read afresh
        return _render_manage(_round(round_id), deallocate_form=form, status=outcome.status)
    assert form.amount.data is not None  # the amount was handed back, so it was given
    flash(f"£{form.amount.data / 100:,.2f} handed back to the fund from {round_.name}.", "success")
    return redirect(url_for("grants.round_manage", round_id=round_.id) + "#budget")


# --- staff: the fund -----------------------------------------------------------------------------------------------


def _render_fund(form: DepositForm | None = None, status: int = 200) -> tuple[str, int]:
    page_no = request.args.get("page", 1, type=int) or 1
    all_rounds = db.session.scalars(
        sa.select(GrantRound).order_by(GrantRound.opens_at.desc(), GrantRound.id.desc())
    ).all()
    return render_template(
        "grants/fund.html",
        form=form or DepositForm(formdata=None),
        fund_balance=money.fund_balance(),
        rounds=all_rounds,
        money=money.round_money([r.id for r in all_rounds]),
        ledger_page=svc.ledger_page(page_no, STAFF_LEDGER_SIZE),
        grant_page=_endpoint("grants.grant_manage"),
    ), status


@bp.get("/staff/grants/fund")
@staff_required
def fund() -> ResponseReturnValue:
    return _render_fund()


@bp.post("/staff/grants/fund/deposits")
@staff_required
def fund_deposit() -> ResponseReturnValue:
    form = DepositForm()
    if not form.validate_on_submit():
        return _render_fund(form, 422)
    try:
        svc.record_deposit(form.amount.data, form.reason.data, form.source.data, signed_in_user())
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _render_fund(form, exc.status_code)
    db.session.commit()
    assert form.amount.data is not None  # the deposit was recorded, so the amount was given
    flash(f"£{form.amount.data / 100:,.2f} added to the fund.", "success")
    return redirect(url_for("grants.fund"))


# --- staff: decline reasons ----------------------------------------------------------------------------------------


def _render_reasons(form: DeclineReasonForm | None = None, editing: tuple[int, DeclineReasonForm] | None = None,
                    status: int = 200) -> tuple[str, int]:  # fmt: skip
    return render_template(
        "grants/round_decline_reasons.html",
        reasons=svc.decline_reasons(include_inactive=True),
        form=form or DeclineReasonForm(formdata=None),
        editing=editing,
    ), status


@bp.route("/staff/grants/decline-reasons", methods=["GET", "POST"])
@staff_required
def decline_reasons() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_reasons()
    form = DeclineReasonForm()
    if not form.validate_on_submit():
        return _render_reasons(form, status=422)
    try:
        reason = svc.add_decline_reason(form.label.data)
    except DomainError as exc:
        db.session.rollback()
        field_error(form, exc)
        return _render_reasons(form, status=exc.status_code)
    db.session.commit()
    flash(f"“{reason.label}” added.", "success")
    return redirect(url_for("grants.decline_reasons"))


@bp.post("/staff/grants/decline-reasons/<int:reason_id>")
@staff_required
def decline_reason_update(reason_id: int) -> ResponseReturnValue:
    reason = db.get_or_404(DeclineReason, reason_id)
    action = request.form.get("action", "rename")
    try:
        if action == "deactivate":
            svc.set_decline_reason_active(reason, False)
            message = f"“{reason.label}” is switched off: it is no longer offered for new decisions."
        elif action == "activate":
            svc.set_decline_reason_active(reason, True)
            message = f"“{reason.label}” is offered again."
        elif action == "rename":
            form = DeclineReasonForm(prefix=f"r{reason.id}")
            if not form.validate_on_submit():
                return _render_reasons(editing=(reason.id, form), status=422)
            try:
                svc.rename_decline_reason(reason, form.label.data)
            except DomainError as exc:
                db.session.rollback()
                field_error(form, exc)
                return _render_reasons(editing=(reason.id, form), status=exc.status_code)
            message = f"Renamed to “{reason.label}”."
        else:
            abort(400)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("grants.decline_reasons")), 303
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("grants.decline_reasons"))


# --- public --------------------------------------------------------------------------------------------------------


@bp.get("/grants")
@public_page
def rounds_public() -> ResponseReturnValue:
    shown = db.session.scalars(
        sa.select(GrantRound)
        .where(GrantRound.status != RoundStatus.DRAFT)
        .order_by(GrantRound.closes_at.desc(), GrantRound.id.desc())
    ).all()
    by_status: dict[RoundStatus, list[GrantRound]] = {s: [] for s in RoundStatus}
    for r in shown:
        by_status[r.status].append(r)
    by_status[RoundStatus.OPEN].sort(key=lambda r: r.closes_at)
    return render_template(
        "grants/round_public_list.html",
        open_rounds=by_status[RoundStatus.OPEN],
        assessing=by_status[RoundStatus.CLOSED] + by_status[RoundStatus.IN_REVIEW],
        decided=by_status[RoundStatus.DECIDED],
        money=money.round_money([r.id for r in shown]),
        has_scorecard=_endpoint("grants.scorecard"),
        now=utcnow(),
    )


@bp.get("/grants/rounds/<int:round_id>")
@public_page
def round_public(round_id: int) -> ResponseReturnValue:
    round_ = db.session.get(GrantRound, round_id)
    staff = current_user.is_authenticated and current_user.is_staff
    if round_ is None or (round_.status is RoundStatus.DRAFT and not staff):
        abort(404)
    now = utcnow()
    return render_template(
        "grants/round_public.html",
        round=round_,
        money=money.money_for(round_),
        now=now,
        accepting=round_.status is RoundStatus.OPEN and round_.opens_at <= now < round_.closes_at,
        has_apply=_endpoint("grants.application_new"),
        has_scorecard=_endpoint("grants.scorecard"),
        staff=staff,
    )


@bp.get("/grants/ledger")
@public_page
def ledger_public() -> ResponseReturnValue:
    page_no = request.args.get("page", 1, type=int) or 1
    return render_template(
        "grants/fund_ledger.html",
        ledger_page=svc.ledger_page(page_no, LEDGER_PAGE_SIZE),
        fund_balance=money.fund_balance(),
    )
