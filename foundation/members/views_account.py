"""Account pages: register, confirm, sign in and out, reset, change email and password."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from wtforms import Form

from foundation.auth import current_session_id, log_event, sign_in, sign_out
from foundation.errors import DomainError
from foundation.extensions import db, limiter
from foundation.members import accounts, bp
from foundation.members.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from foundation.web import field_error, safe_next, submit_form


def _login_account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()


def _failed(response: Response) -> bool:
    # Only failed attempts count against the limits.
    return response.status_code != 302


@bp.route("/register", methods=["GET", "POST"])
# Each sign-up sends an email, to a new address or to the owner of a taken one.
@limiter.limit("10 per hour", methods=["POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = RegisterForm()
    outcome = submit_form(
        form,
        lambda: accounts.register_user(form.name.data or "", form.email.data or "", form.password.data or ""),
    )
    if outcome.done:
        registration: accounts.Registration = outcome.result
        user_id = registration.user.id if registration.user else "-"
        log_event("register" if registration.created else "register_taken_address", user=user_id)
        # The same answer whether or not the address already had an account: nobody learns who is a member
        # by trying addresses. The person signs in with the password they chose.
        flash(
            f"Check your email: we have sent a message to {form.email.data}. "
            "Follow its link to confirm your address, then sign in.",
            "success",
        )
        next_page = safe_next(request.args.get("next"))
        return redirect(url_for("members.login", next=next_page) if next_page else url_for("members.login"))
    return render_template("members/register.html", form=form), outcome.status


@bp.get("/confirm/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    try:
        accounts.confirm_email(token)
    except DomainError as exc:
        return render_template("members/link_problem.html", message=exc.message), 400
    db.session.commit()
    flash("Thank you: your email address is confirmed.", "success")
    return redirect(
        url_for("members.dashboard") if current_user.is_authenticated else url_for("members.login")
    )


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour", key_func=lambda: f"resend:{current_user.id}")
def resend_confirmation() -> ResponseReturnValue:
    if current_user.email_confirmed:
        flash("Your email address is already confirmed.", "info")
    else:
        accounts.send_confirmation(current_user)
        db.session.commit()
        flash(f"We have sent a new confirmation link to {current_user.email}.", "success")
    return redirect(url_for("members.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            log_event("login_failed", email_domain=(form.email.data or "").rpartition("@")[2])
            form.password.errors = ["The email address or password is not right."]
            status = 401
        else:
            user = accounts.record_sign_in(user.id)
            sign_in(user, remember=form.remember.data)
            db.session.commit()
            log_event("login", user=user.id)
            return redirect(safe_next(form.next.data) or url_for("members.dashboard"))
    elif form.is_submitted():
        status = 422
    return render_template("members/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    log_event("logout", user=current_user.id)
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("public.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data or "")
        db.session.commit()
        flash("If that address has an account, a reset link is on its way. It works for two hours.", "info")
        return redirect(url_for("members.login"))
    return render_template("members/forgot_password.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    try:
        user = accounts.user_for_reset_token(token)
    except DomainError as exc:
        return render_template("members/link_problem.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(user, form.password.data or "", reason="reset")
        if user.email_confirmed_at is None:
            # Following a link sent to the address proves it, as a confirmation link would.
            from foundation.types import utcnow

            user.email_confirmed_at = utcnow()
        db.session.commit()
        log_event("password_reset", user=user.id)
        flash("Your password has been changed. Please sign in.", "success")
        return redirect(url_for("members.login"))
    return render_template("members/reset_password.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    profile = ProfileForm(obj=current_user, prefix="profile")
    pw_form = ChangePasswordForm(prefix="pw")
    email_form = ChangeEmailForm(prefix="email")
    status = 200
    action = request.form.get("action", "")
    if request.method == "POST":
        try:
            if action == "profile" and profile.validate():
                current_user.name = profile.name.data
                db.session.commit()
                flash("Your name has been updated.", "success")
                return redirect(url_for("members.account"))
            if action == "password" and pw_form.validate():
                accounts.change_password(
                    current_user,
                    pw_form.current_password.data or "",
                    pw_form.password.data or "",
                    keep_session=current_session_id(),
                )
                db.session.commit()
                log_event("password_changed", user=current_user.id)
                flash("Your password has been changed. Other devices have been signed out.", "success")
                return redirect(url_for("members.account"))
            if action == "email" and email_form.validate():
                accounts.request_email_change(
                    current_user, email_form.email.data or "", email_form.current_password.data or ""
                )
                db.session.commit()
                flash(
                    f"We have sent a link to {email_form.email.data}. Your address changes when you follow it.",
                    "info",
                )
                return redirect(url_for("members.account"))
        except DomainError as exc:
            db.session.rollback()
            forms: dict[str, Form] = {"profile": profile, "password": pw_form, "email": email_form}
            field_error(forms[action], exc)
            status = exc.status_code
        else:
            status = 422
    return render_template(
        "members/account.html", profile=profile, pw_form=pw_form, email_form=email_form
    ), status


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str) -> ResponseReturnValue:
    try:
        user = accounts.confirm_email_change(token)
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "members/link_problem.html", message=exc.message
        ), exc.status_code if exc.status_code != 422 else 400
    db.session.commit()
    log_event("email_changed", user=user.id)
    flash(f"Your email address is now {user.email}.", "success")
    return redirect(url_for("members.account") if current_user.is_authenticated else url_for("members.login"))
