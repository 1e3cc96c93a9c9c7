"""Sign-ins live on the server: signing out, a password change or closing the account ends them there, so a copied
session or remember-me cookie stops opening the account."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from foundation.members.models import UserSession
from foundation.types import utcnow
from tests.conftest import link_in
from tests.factories import PASSWORD, login, make_user

NEW_PASSWORD = "another long password"


def cookie(client: FlaskClient, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def with_cookie(app: Flask, name: str, value: str) -> FlaskClient:
    """A second browser holding a copy of one cookie, as someone who copied it would."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def session_token(app: Flask, client: FlaskClient) -> str:
    data = app.session_interface.get_signing_serializer(app).loads(cookie(client, "session"))
    return data["_user_id"]


def test_signing_out_ends_a_copied_session_cookie(app, client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    assert login(client, user).status_code == 302
    copied = with_cookie(app, "session", cookie(client, "session"))
    assert copied.get("/dashboard").status_code == 200

    assert client.post("/logout").status_code == 302

    assert client.get("/dashboard").status_code == 302
    resp = copied.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.location


def test_signing_out_ends_a_copied_remember_me_cookie(app, client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert resp.status_code == 302
    remembered = cookie(client, "remember_token")
    assert with_cookie(app, "remember_token", remembered).get("/dashboard").status_code == 200

    client.post("/logout")

    assert with_cookie(app, "remember_token", remembered).get("/dashboard").status_code == 302


def test_remember_me_lasts_thirty_days_not_a_year(client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = next(p.split("=", 1)[1] for p in header.split("; ") if p.lower().startswith("expires="))
    lasts = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(days=29) < lasts <= timedelta(days=30, minutes=1)


def test_remember_me_days_are_a_setting(app_config, request):
    app_config["REMEMBER_COOKIE_DAYS"] = 7
    app = request.getfixturevalue("app")
    db = request.getfixturevalue("db")
    user = make_user(email="ada@example.org")
    db.session.commit()
    client = app.test_client()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = next(p.split("=", 1)[1] for p in header.split("; ") if p.lower().startswith("expires="))
    assert parsedate_to_datetime(expires) - datetime.now(UTC) <= timedelta(days=7, minutes=1)


def test_a_sign_in_older_than_the_remember_lifetime_has_ended(app, client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    login(client, user)
    db.session.execute(sa.update(UserSession).values(created_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert client.get("/dashboard").status_code == 302


def test_each_sign_in_is_recorded_with_only_a_hash_of_its_token(app, client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    login(client, user, PASSWORD)
    token = session_token(app, client)

    [row] = db.session.scalars(sa.select(UserSession)).all()
    assert row.user_id == user.id and row.revoked_at is None
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.user_agent}
    assert row.created_at is not None and row.last_seen_at is not None

    client.post("/logout")
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_a_password_change_ends_every_other_sign_in_and_keeps_this_one(app, db, mailbox):
    user = make_user(email="pw@example.org")
    db.session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    elsewhere.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remembered = cookie(elsewhere, "remember_token")

    resp = here.post(
        "/account",
        data={"action": "password", "pw-current_password": PASSWORD, "pw-password": NEW_PASSWORD,
              "pw-confirm": NEW_PASSWORD},
    )  # fmt: skip
    assert resp.status_code == 302

    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert with_cookie(app, "remember_token", remembered).get("/dashboard").status_code == 302
    live = db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.revoked_at.is_(None)))
    assert live == 1


def test_a_password_reset_ends_every_sign_in(app, client, db, mailbox):
    user = make_user(email="reset@example.org")
    db.session.commit()
    signed_in = app.test_client()
    login(signed_in, user)

    client.post("/password/forgot", data={"email": user.email})
    link = link_in(mailbox.last_to(user.email), "/password/reset/")
    resp = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302

    assert signed_in.get("/dashboard").status_code == 302


def test_closing_the_account_erases_its_sign_ins(app, client, db):
    user = make_user(email="pat@example.org")
    db.session.commit()
    elsewhere = app.test_client()
    login(elsewhere, user)
    login(client, user)
    copied = with_cookie(app, "session", cookie(client, "session"))

    resp = client.post("/account/close", data={"current_password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 302

    assert copied.get("/dashboard").status_code == 302
    assert elsewhere.get("/dashboard").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0


def test_the_data_download_lists_sign_ins_without_their_tokens(app, client, db):
    user = make_user(email="ada@example.org")
    db.session.commit()
    login(client, user)
    token = session_token(app, client)

    data = client.get("/account/privacy/export").get_json()

    [sign_in] = data["sign_ins"]
    assert set(sign_in) >= {"created_at", "last_seen_at", "revoked_at", "device"}
    assert token not in str(data)
    assert hashlib.sha256(token.encode()).hexdigest() not in str(data)


def test_a_sign_in_notes_when_it_was_last_used_without_getting_in_the_way(client, db):
    user = make_user(email="ada@example.org", name="Ada Worker")
    db.session.commit()
    login(client, user)
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(UserSession).values(last_seen_at=an_hour_ago))
    db.session.commit()

    # A page that writes (a new name) and then the note of the visit: both are kept.
    resp = client.post("/account", data={"action": "profile", "profile-name": "Ada Lovelace"})
    assert resp.status_code == 302

    row = db.session.scalars(sa.select(UserSession)).one()
    assert row.last_seen_at > an_hour_ago + timedelta(minutes=59)
    db.session.refresh(user)
    assert user.name == "Ada Lovelace"
    seen = row.last_seen_at
    assert client.get("/dashboard").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at == seen, "noted at most every few minutes"
