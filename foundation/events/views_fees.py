"""Paying for places at priced events, and staff's part in fees that come offline.

/events/registrations/<id>/pay          the entry's people open the checkout for its fee (Stripe); offline, the
                                        entry's page says how to pay by bank transfer
/staff/events/fees                      fees waiting for a bank transfer, and fees to pay back by hand
/staff/events/fees/<payment>/received   staff record that a fee arrived (the entry is registered)
/staff/events/fees/<payment>/cancel     staff record that a fee will not come (the places are released)
/staff/events/fees/<payment>/refunded   staff record that a fee was paid back
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.db_setup import begin_write_transaction
from foundation.errors import DomainError
from foundation.events import bp, fees, registrations
from foundation.events.forms_registrations import ConfirmForm
from foundation.events.models import Registration
from foundation.events.views_registrations import _entry, render_entry
from foundation.extensions import db
from foundation.navigation import staff_area
from foundation.payments import service as payments
from foundation.payments.forms import ReceivedForm
from foundation.permissions import deny, signed_in_user, staff_required
from foundation.web import submit_form


@bp.post("/events/registrations/<int:registration_id>/pay")
@login_required
def registration_pay(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    entry = _entry(registration_id)
    if not registrations.is_attendee_side(user, entry):
        deny(403, "only the entry's organisation pays for its places")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        to = fees.pay(entry, user)
    except DomainError as exc:  # PaymentUnavailable among them: nothing was taken, the places stay held
        db.session.rollback()
        return render_entry(_entry(registration_id), exc.status_code, exc.message)
    db.session.commit()
    if to is None:
        flash(
            f"Please pay £{entry.fee_pence / 100:,.2f} by bank transfer, quoting "
            f"{fees.reference(entry.payment_id)}.",
            "success",
        )
        return redirect(url_for("events.registration", registration_id=entry.id), 303)
    return redirect(to, 303)


# --- staff ------------------------------------------------------------------------------------------------------

staff_area(
    "Event fees",
    "events.staff_fees",
    "Fees for events waiting for a bank transfer, and fees to pay back.",
    52,
)


def render_staff_fees(
    status: int = 200, forms: dict[int, ReceivedForm] | None = None, problem: str | None = None
) -> ResponseReturnValue:
    waiting = fees.waiting_offline()
    forms = forms or {}
    received_forms = {
        e.payment_id: forms.get(e.payment_id or 0)
        or ReceivedForm(formdata=None, prefix=f"received-{e.payment_id}")
        for e in waiting
    }
    return render_template(
        "events/staff_fees.html",
        waiting=waiting,
        refunds=fees.refunds_to_pay_offline(),
        received_forms=received_forms,
        problem_forms=[f for f in forms.values() if f.errors],
        problem=problem,
        reference=fees.reference,
        when=registrations.when,
    ), status


@bp.route("/staff/events/fees")
@staff_required
def staff_fees() -> ResponseReturnValue:
    return render_staff_fees()


def _fee_entry(payment_id: int) -> Registration:
    entry = fees.entry_for_payment(payment_id)
    if entry is None:
        abort(404)
    return entry


@bp.post("/staff/events/fees/<int:payment_id>/received")
@staff_required
def staff_fee_received(payment_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    entry = _fee_entry(payment_id)
    form = ReceivedForm(prefix=f"received-{payment_id}")

    def record() -> object:
        assert form.received_on.data is not None  # the form required it
        return payments.record_received(
            payment_id,
            signed_in_user(),
            form.received_by_value(),
            form.received_on.data,
            form.reference.data or "",
        )

    outcome = submit_form(form, record)
    if not outcome.done:
        return render_staff_fees(outcome.status, {payment_id: form})
    flash(
        f"The fee from {entry.organisation.name} is recorded as received: their places at "
        f"{entry.event.title} are confirmed and they have been told.",
        "success",
    )
    return redirect(url_for("events.staff_fees"), 303)


def _staff_act(payment_id: int, action: Callable[[], object], done: str) -> ResponseReturnValue:
    begin_write_transaction()
    _fee_entry(payment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        return render_staff_fees(exc.status_code, problem=exc.message)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("events.staff_fees"), 303)


@bp.post("/staff/events/fees/<int:payment_id>/cancel")
@staff_required
def staff_fee_cancel(payment_id: int) -> ResponseReturnValue:
    return _staff_act(
        payment_id,
        lambda: payments.cancel_pledge(payment_id, signed_in_user(), "The fee will not be paid."),
        "The fee will not come: the places are released and offered to the next people waiting.",
    )


@bp.post("/staff/events/fees/<int:payment_id>/refunded")
@staff_required
def staff_fee_refunded(payment_id: int) -> ResponseReturnValue:
    return _staff_act(
        payment_id,
        lambda: payments.refund_offline(payment_id, signed_in_user()),
        "The fee is recorded as paid back.",
    )
