"""Registration pages.

/events/<id>/register                   a member registers themselves and colleagues of their organisation
/events/registrations/<id>              an entry: its state, people, offer (accept or decline), cancelling
/events/registrations/<id>/<action>     accept, decline-offer, cancel (the entry's side); approve, decline, move
                                        (the organiser)
/events/<id>/registrations              the organiser's list: entries by state, the waiting list to reorder
/account/events                         the person's own registrations

An entry is seen by its organisation's people, the event's organiser and staff; to anyone else it does not exist
(404). Someone who may see it but not do what they ask (staff answering an organisation's offer, a member
approving) is refused (403).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.errors import DomainError
from foundation.events import bp, fees, registrations
from foundation.events.forms_registrations import ConfirmForm, DeclineForm, MoveForm, RegisterForm
from foundation.events.models import Event, EventStatus, Registration, RegistrationStatus
from foundation.extensions import db
from foundation.forms import SelectChoice
from foundation.members.models import Organisation
from foundation.members.organisations import organisations_for
from foundation.payments.providers import checkout_origin
from foundation.permissions import deny, signed_in_user
from foundation.types import utcnow
from foundation.web import csp_with_form_action, submit_form

S = RegistrationStatus


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or (
        event.status is EventStatus.DRAFT and not registrations.can_manage(signed_in_user(), event)
    ):
        abort(404)
    return event


def _entry(registration_id: int) -> Registration:
    entry = registrations.load(registration_id)
    if entry is None or not registrations.can_see(signed_in_user(), entry):
        abort(404)
    return entry


# --- registering -------------------------------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@login_required
def register(event_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    event = _event(event_id)
    organisations = organisations_for(user)
    if not organisations:
        deny(403, "registration is for members of an organisation")
    form = RegisterForm()
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in organisations]
    wanted = (
        form.organisation.data if request.method == "POST" else request.args.get("organisation", type=int)
    )
    chosen = next((o for o in organisations if o.id == wanted), None)
    if chosen is None and (request.method == "GET" or len(organisations) == 1):
        chosen = organisations[0]
    if request.method == "GET":
        form.organisation.data = chosen.id if chosen else None
    colleagues = registrations.members_of(chosen) if chosen else []
    form.people.choices = [SelectChoice(u.id, u.name) for u in colleagues]
    if request.method == "GET" and any(u.id == user.id for u in colleagues):
        form.people.data = [user.id]
    taken = registrations.registered_user_ids(event, [u.id for u in colleagues])

    def run() -> Registration:
        org = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        if org is None or org.id not in {o.id for o in organisations}:
            raise DomainError("Choose one of your own organisations.", field="organisation")
        people = registrations.people_by_id(form.chosen_ids())
        if len(people) != len(form.chosen_ids()):
            raise DomainError(
                f"You can register only people from {org.name}: choose from the list.", field="people"
            )
        return registrations.register(event, org, user, people)

    outcome = submit_form(form, run)
    if outcome.done:
        entry: Registration = outcome.result
        messages = {
            S.REGISTERED: "You are registered. We have emailed the details, with a link to add the event to your calendar.",
            S.PENDING_APPROVAL: "Your places are held while the organiser approves registrations.",
            S.WAITLISTED: "The event is full, so you are on the waiting list. We will email you if places free up.",
            S.AWAITING_PAYMENT: "Your places are held until the fee is paid: pay below.",
        }
        flash(messages.get(entry.status, "Saved."), "success")
        return redirect(url_for("events.registration", registration_id=entry.id), 303)
    return render_template(
        "events/register.html",
        event=event,
        form=form,
        organisations=organisations,
        chosen=chosen,
        taken=taken,
        now=utcnow(),
    ), outcome.status


# --- one entry ---------------------------------------------------------------------------------------------------


def _entry_headers(entry: Registration) -> dict[str, str]:
    """An entry waiting for its fee has a button that leads to the card checkout: the page's forms may go there
    (Chromium applies form-action to the redirect as well)."""
    if entry.status is not S.AWAITING_PAYMENT:
        return {}
    return {"Content-Security-Policy": csp_with_form_action(checkout_origin() or "")}


def render_entry(
    entry: Registration, status: int = 200, problem: str | None = None, forms: dict[str, object] | None = None
) -> ResponseReturnValue:
    user = signed_in_user()
    now = utcnow()
    event = entry.event
    organiser = registrations.can_manage(user, event)
    attendee = registrations.is_attendee_side(user, entry)
    lapsed = registrations.offer_lapsed(entry, now)
    return (
        render_template(
            "events/registration.html",
            entry=entry,
            event=event,
            organiser=organiser,
            attendee=attendee,
            can_answer=attendee and entry.status is S.OFFERED and not lapsed,
            lapsed=lapsed,
            can_cancel=registrations.cancel_allowed(user, entry, now),
            cutoff=registrations.cutoff(event),
            position=registrations.queue_places(event).get(entry.id)
            if entry.status is S.WAITLISTED
            else None,
            problem=problem,
            decline_form=(forms or {}).get("decline") or DeclineForm(),
            fee_reference=fees.reference(entry.payment_id),
            back_from_checkout=request.args.get("paid") == "1" and entry.status is S.AWAITING_PAYMENT,
            pays_offline=fees.is_offline(entry),
            refund_expected=registrations.refund_expected(entry, now),
            when=registrations.when,
            now=now,
        ),
        status,
        _entry_headers(entry),
    )


@bp.route("/events/registrations/<int:registration_id>")
@login_required
def registration(registration_id: int) -> ResponseReturnValue:
    return render_entry(_entry(registration_id))


def _act(
    registration_id: int,
    action: Callable[[Registration], object],
    done: str,
    allowed: Callable[[Registration], bool],
    back: Callable[[Registration], str] | None = None,
) -> ResponseReturnValue:
    """A button on the entry: check who may press it, run it, commit, or show why it was refused (its status)."""
    entry = _entry(registration_id)
    if not allowed(entry):
        deny(403, "not theirs to do")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(entry)
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 403:
            deny(403, exc.message)
        return render_entry(_entry(registration_id), exc.status_code, exc.message)
    db.session.commit()
    flash(done, "success")
    return redirect(back(entry) if back else url_for("events.registration", registration_id=entry.id), 303)


@bp.post("/events/registrations/<int:registration_id>/accept")
@login_required
def registration_accept(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    return _act(
        registration_id,
        lambda e: registrations.accept_offer(e, user),
        "You have accepted the places. We have emailed the details.",
        lambda e: registrations.is_attendee_side(user, e),
    )


@bp.post("/events/registrations/<int:registration_id>/decline-offer")
@login_required
def registration_decline_offer(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    return _act(
        registration_id,
        lambda e: registrations.decline_offer(e, user),
        "You have declined the places: they go to the next people waiting.",
        lambda e: registrations.is_attendee_side(user, e),
    )


@bp.post("/events/registrations/<int:registration_id>/cancel")
@login_required
def registration_cancel(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    return _act(
        registration_id,
        lambda e: registrations.cancel(e, user),
        "The registration is cancelled.",
        lambda e: (
            registrations.may_cancel_for_organisation(user, e) or registrations.can_manage(user, e.event)
        ),
    )


def _organiser_back(entry: Registration) -> str:
    return url_for("events.event_registrations", event_id=entry.event_id)


@bp.post("/events/registrations/<int:registration_id>/approve")
@login_required
def registration_approve(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    return _act(
        registration_id,
        lambda e: registrations.approve(e, user),
        "Approved: the people registered have been told.",
        lambda e: registrations.can_manage(user, e.event),
        _organiser_back,
    )


@bp.post("/events/registrations/<int:registration_id>/decline")
@login_required
def registration_decline(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    entry = _entry(registration_id)
    if not registrations.can_manage(user, entry.event):
        deny(403, "only the organiser decides")
    form = DeclineForm()
    outcome = submit_form(form, lambda: registrations.decline(entry, user, form.reason.data or ""))
    if outcome.done:
        flash("Declined: the people registered have been told, and the places offered on.", "success")
        return redirect(_organiser_back(entry), 303)
    problem = next(iter(form.form_errors), None)
    return render_entry(_entry(registration_id), outcome.status, problem, {"decline": form})


@bp.post("/events/registrations/<int:registration_id>/move")
@login_required
def registration_move(registration_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    entry = _entry(registration_id)
    event = entry.event
    if not registrations.can_manage(user, event):
        deny(403, "only the organiser reorders the waiting list")
    form = MoveForm(prefix=f"move-{entry.id}")
    outcome = submit_form(
        form, lambda: registrations.reorder(entry, form.position.data or 0, user, form.note.data or "")
    )
    if outcome.done:
        flash(f"Moved to position {form.position.data} of the waiting list.", "success")
        return redirect(_organiser_back(entry), 303)
    return render_organiser_page(db.session.get(Event, event.id) or event, outcome.status, {entry.id: form})


# --- the organiser's list ----------------------------------------------------------------------------------------


def render_organiser_page(
    event: Event, status: int = 200, move_forms: dict[int, MoveForm] | None = None
) -> ResponseReturnValue:
    entries = registrations.entries_of(event)
    by_state: dict[RegistrationStatus, list[Registration]] = {s: [] for s in RegistrationStatus}
    for entry in entries:
        by_state[entry.status].append(entry)
    move_forms = move_forms or {}
    forms = {
        e.id: move_forms.get(e.id) or MoveForm(formdata=None, prefix=f"move-{e.id}")
        for e in by_state[S.WAITLISTED]
    }
    return render_template(
        "events/registrations.html",
        event=event,
        by_state=by_state,
        reliability=registrations.reliability(sorted({e.organisation_id for e in entries})),
        move_forms=forms,
        problem_forms=[f for f in move_forms.values() if f.errors],
        when=registrations.when,
        S=S,
    ), status


@bp.route("/events/<int:event_id>/registrations")
@login_required
def event_registrations(event_id: int) -> ResponseReturnValue:
    event = _event(event_id)
    if not registrations.can_manage(signed_in_user(), event):
        deny(403, "the organiser's page")
    return render_organiser_page(event)


# --- the person's own --------------------------------------------------------------------------------------------


@bp.route("/account/events")
@login_required
def my_registrations() -> ResponseReturnValue:
    user = signed_in_user()
    entries = registrations.of_person(user)
    now = utcnow()
    coming = [e for e in entries if e.event.ends_at > now]
    past = [e for e in entries if e.event.ends_at <= now]
    return render_template(
        "events/my_registrations.html", coming=list(reversed(coming)), past=past, when=registrations.when
    )
