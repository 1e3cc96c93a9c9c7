"""Accounts through the real forms: register, confirm, sign in/out, reset, change email and password."""

from __future__ import annotations

import sqlalchemy as sa

from foundation.members.models import User
from tests.conftest import link_in, text_of
from tests.factories import PASSWORD, login, make_user

CHECK_EMAIL = "Check your email: we have sent a message to {email}. Follow its link to confirm your address, then sign in."


def register(client, email="ada@example.org", password="a long enough password"):
    return client.post(
        "/register",
        data={"name": "Ada Worker", "email": email, "password": password, "confirm": password},
    )


def test_register_confirm_and_sign_in(client, db, mailbox):
    resp = register(client, email="Ada@Example.org")
    assert resp.status_code == 302 and resp.location == "/login"
    assert CHECK_EMAIL.format(email="ada@example.org") in client.get(resp.location).text
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.org"))
    assert user is not None and not user.email_confirmed

    msg = mailbox.last_to("ada@example.org")
    assert msg["Subject"] == "Confirm your email address"
    assert msg.get_body(preferencelist=("html",)) is not None, "email has an HTML part"
    resp = client.get(link_in(msg, "/confirm/"))
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.email_confirmed

    assert client.get("/dashboard").status_code == 302  # signing up does not sign in: the password does
    resp = client.post("/login", data={"email": "ada@example.org", "password": "a long enough password"})
    assert resp.status_code == 302 and resp.location.endswith("/dashboard")
    assert "Hello, Ada Worker" in client.get("/dashboard").get_data(as_text=True)


def test_register_rejects_bad_input_at_the_field(client, db):
    resp = client.post(
        "/register", data={"name": "", "email": "not-an-email", "password": "short", "confirm": "x"}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Use at least 10 characters." in html
    assert "Invalid email address." in html
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_signing_up_with_a_taken_address_answers_as_for_a_new_one(app, client, db, mailbox):
    owner = make_user(email="taken@example.org", name="Tara Taken")
    db.session.commit()
    fresh = app.test_client()

    taken = register(client, email="Taken@Example.org", password="an attacker's password")
    new = register(fresh, email="free@example.org", password="an attacker's password")

    # Nothing in the answer tells the two apart: same status, same page, same words.
    assert (taken.status_code, taken.location) == (new.status_code, new.location) == (302, "/login")
    taken_page, new_page = client.get(taken.location).text, fresh.get(new.location).text
    assert CHECK_EMAIL.format(email="taken@example.org") in taken_page
    assert taken_page.replace("taken@", "free@") == new_page
    assert client.get("/dashboard").status_code == fresh.get("/dashboard").status_code == 302

    # The owner hears about it, with a way back in; the account and its password are untouched.
    msg = mailbox.last_to("taken@example.org")
    assert msg["Subject"] == "Someone tried to create an account with your email address"
    assert "Tara Taken" in text_of(msg) and msg.get_body(preferencelist=("html",)) is not None
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "taken@example.org")) == 1
    assert login(client, owner).status_code == 302
    client.post("/logout")
    reset = link_in(msg, "/password/reset/")
    resp = client.post(reset, data={"password": "brand new password", "confirm": "brand new password"})
    assert resp.status_code == 302
    assert login(client, owner, "brand new password").status_code == 302


def test_wrong_password_is_401_and_does_not_sign_in(client, db):
    user = make_user()
    db.session.commit()
    resp = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert resp.status_code == 401
    assert "email address or password is not right" in resp.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_next_redirect_is_kept_on_site(client, db):
    user = make_user()
    db.session.commit()
    for evil in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": evil})
        assert resp.status_code == 302
        assert resp.location.endswith("/dashboard"), evil
        client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": "/inbox"})
    assert resp.location.endswith("/inbox")


def test_password_reset_link_works_once(client, db, mailbox):
    user = make_user(email="reset@example.org")
    db.session.commit()
    resp = client.post("/password/forgot", data={"email": "reset@example.org"})
    assert resp.status_code == 302
    link = link_in(mailbox.last_to("reset@example.org"), "/password/reset/")
    resp = client.post(link, data={"password": "brand new password", "confirm": "brand new password"})
    assert resp.status_code == 302
    assert client.get(link).status_code == 400  # used: the old hash no longer matches
    assert login(client, user, "brand new password").status_code == 302


def test_forgot_password_does_not_reveal_accounts(client, db, mailbox):
    resp = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert resp.status_code == 302
    assert mailbox.messages() == []


def test_change_password_signs_out_other_sessions(app, db, mailbox):
    user = make_user(email="pw@example.org")
    db.session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    resp = here.post(
        "/account",
        data={"action": "password", "pw-current_password": PASSWORD, "pw-password": "another long password",
              "pw-confirm": "another long password"},
    )  # fmt: skip
    assert resp.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert mailbox.last_to("pw@example.org")["Subject"] == "Your password was changed"


def test_change_password_with_wrong_current_password(client, db):
    user = make_user()
    db.session.commit()
    login(client, user)
    resp = client.post(
        "/account",
        data={"action": "password", "pw-current_password": "nope nope nope", "pw-password": "another long password",
              "pw-confirm": "another long password"},
    )  # fmt: skip
    assert resp.status_code == 422
    assert "That is not your current password." in resp.get_data(as_text=True)


def test_change_email_confirms_new_and_tells_old(client, db, mailbox):
    user = make_user(email="old@example.org")
    db.session.commit()
    login(client, user)
    resp = client.post(
        "/account",
        data={"action": "email", "email-email": "new@example.org", "email-current_password": PASSWORD},
    )
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.email == "old@example.org"  # not until confirmed
    resp = client.get(link_in(mailbox.last_to("new@example.org"), "/account/email/confirm/"))
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.email == "new@example.org"
    told = mailbox.last_to("old@example.org")
    assert told["Subject"] == "Your email address was changed"
    assert "new@example.org" in told.get_body(preferencelist=("plain",)).get_content()
