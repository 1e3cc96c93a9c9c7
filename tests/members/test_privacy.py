"""A person's own data: the download holds theirs and nobody else's; closing erases them, keeps the records."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation import privacy as base_privacy
from foundation.members.models import (
    DocumentKind,
    Invitation,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    User,
    VettingAction,
    VettingDecision,
)
from foundation.notifications.models import (
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from foundation.notifications.services import notify
from tests.conftest import link_in
from tests.factories import PASSWORD, add_document, add_member, login, make_org, make_user
from tests.venues.factories import make_booking, make_space, make_venue


def close(client, password=PASSWORD, confirm="y"):
    data = {"current_password": password}
    if confirm:
        data["confirm"] = confirm
    return client.post("/account/close", data=data)


@pytest.fixture
def person(db):
    """Someone with a bit of everything: a membership, a preference, an upload, a decision, a booking."""
    user = make_user(email="pat@example.org", name="Pat Person", staff=True)
    org = make_org(admin=user, name="Melksham Youth Forum")
    add_document(org, DocumentKind.GOVERNING_DOCUMENT, None, uploaded_by=user)
    other_org = make_org(admin=make_user(), status=OrganisationStatus.PENDING, name="Warminster Drama")
    db.session.add(
        VettingDecision(
            organisation_id=other_org.id, action=VettingAction.APPROVE, from_status=OrganisationStatus.PENDING,
            to_status=OrganisationStatus.APPROVED, message="All in order", decided_by_id=user.id,
        )
    )  # fmt: skip
    db.session.add(NotificationPreference(user_id=user.id, kind=NotificationKind.BOOKINGS, email=False))
    space = make_space(make_venue(make_org(admin=make_user()), name="Town Hall"), name="Main hall")
    booking = make_booking(
        space, org, date.today() + timedelta(days=10), booked_by=user, purpose="Pat's summer disco"
    )
    db.session.commit()
    return user, org, booking


@pytest.fixture
def stranger(db):
    user = make_user(email="sam@example.org", name="Sam Stranger")
    org = make_org(admin=user, name="Trowbridge Cadets")
    space = make_space(make_venue(org, name="Drill Hall"))
    make_booking(space, org, date.today() + timedelta(days=3), booked_by=user, purpose="Sam's band practice")
    db.session.add(NotificationPreference(user_id=user.id, kind=NotificationKind.GRANTS, email=False))
    db.session.commit()
    return user


def test_account_page_links_to_the_privacy_page(client, db, person):
    login(client, person[0])
    assert "Your data and closing your account" in client.get("/account").get_data(as_text=True)
    page = client.get("/account/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Download my data" in html and "Close my account" in html


def test_privacy_pages_need_sign_in(client, db):
    for resp in (client.get("/account/privacy"), client.get("/account/privacy/export"), close(client)):
        assert resp.status_code == 302 and "/login" in resp.location


def test_export_holds_my_data_and_none_of_anyone_elses(client, db, person, stranger):
    user, org, booking = person
    login(client, user)
    resp = client.get("/account/privacy/export")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    raw = resp.get_data(as_text=True)
    data = json.loads(raw)

    assert data["account"]["email"] == "pat@example.org" and data["account"]["name"] == "Pat Person"
    assert "password_hash" not in data["account"]
    assert [m["organisation"] for m in data["memberships"]] == ["Melksham Youth Forum"]
    assert data["notification_preferences"] == [{"kind": "bookings", "by_email": False}]
    assert [d["kind"] for d in data["documents_uploaded"]] == ["governing_document"]
    assert data["vetting_decisions_made"][0]["message"] == "All in order"
    made = data["bookings_made"]["made"]
    assert [b["purpose"] for b in made] == ["Pat's summer disco"]
    assert made[0]["venue"] == "Town Hall" and len(made[0]["dates"]) == 1

    for theirs in ("sam@example.org", "Sam Stranger", "Sam's band practice", "grants"):
        assert theirs not in raw


def test_export_lists_notifications_and_invitations(client, db, person):
    user, org, _ = person
    notify(user, NotificationKind.GENERAL, "Hello Pat", "role_granted", roles=["panel reviewer"])
    db.session.commit()
    login(client, user)
    assert (
        client.post(f"/organisations/{org.id}/invitations", data={"email": "x@example.org"}).status_code
        == 302
    )
    data = client.get("/account/privacy/export").get_json()
    assert [n["subject"] for n in data["notifications"]] == ["Hello Pat"]
    assert [i["email"] for i in data["invitations"]["sent"]] == ["x@example.org"]


def test_every_column_referencing_a_user_is_exported_by_a_named_section(app, db, person):
    user, *_ = person
    covered = base_privacy.covered_columns()
    columns = {f"{c.table.name}.{c.name}" for c in base_privacy.user_reference_columns()}
    assert {"booking.booked_by_id", "grant_review_assignment.reviewer_id", "notification.user_id"} <= columns
    # Each package names every column of its own that points at a person; none is left to the raw fallback.
    assert sorted(columns - covered) == []
    # A column no section names would still show up, raw, under other_records.
    raw = base_privacy.other_records(user, covered - {"booking.booked_by_id"})
    assert [r["purpose"] for r in raw["booking.booked_by_id"]] == ["Pat's summer disco"]
    assert base_privacy.other_records(user, covered) == {}


def test_closing_erases_the_person_and_keeps_the_records(app, client, db, mailbox, person, stranger):
    user, org, booking = person
    # An unsent message and a sent one.
    pending = notify(user, NotificationKind.GENERAL, "Waiting", "role_granted", roles=["x"])
    db.session.commit()
    sent = db.session.get(Notification, pending.id)
    assert sent.email_status is EmailStatus.SENT
    inbox_only = notify(user, NotificationKind.BOOKINGS, "Inbox only", "role_granted", roles=["x"])
    db.session.commit()
    assert inbox_only.email_status is EmailStatus.NOT_REQUESTED
    elsewhere = app.test_client()
    login(elsewhere, user)
    login(client, user)

    resp = close(client)
    assert resp.status_code == 302
    assert "Your account is closed" in client.get(resp.location).get_data(as_text=True)

    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.name == "Former user"
    assert user.email == f"closed-{user.id}@invalid"
    assert user.closed_at is not None and not user.is_staff
    assert "pat" not in user.password_hash
    assert db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id)) is None
    assert db.session.get(Organisation, org.id) is not None
    assert (
        db.session.scalar(sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id))
        is None
    )
    left = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all()
    assert [n.id for n in left] == [sent.id]  # the unsent inbox message is gone
    assert left[0].email_to == user.email and "Pat" not in left[0].body_text
    # Kept, and still linked to the pseudonymised person.
    decision = db.session.scalar(sa.select(VettingDecision))
    assert decision.decided_by_id == user.id and decision.decided_by.name == "Former user"
    db.session.refresh(booking)
    assert booking.booked_by_id == user.id
    # The stranger is untouched.
    db.session.refresh(stranger)
    assert stranger.name == "Sam Stranger"
    assert (
        db.session.scalar(
            sa.select(sa.func.count(NotificationPreference.id)).where(
                NotificationPreference.user_id == stranger.id
            )
        )
        == 1
    )

    # Signed out here and everywhere; the old details open nothing; the address is free again.
    assert client.get("/dashboard").status_code == 302
    assert elsewhere.get("/dashboard").status_code == 302
    assert client.post("/login", data={"email": "pat@example.org", "password": PASSWORD}).status_code == 401
    resp = client.post(
        "/register",
        data={"name": "Pat Again", "email": "pat@example.org", "password": "a long enough password",
              "confirm": "a long enough password"},
    )  # fmt: skip
    assert resp.status_code == 302
    again = db.session.scalar(sa.select(User).where(User.email == "pat@example.org"))
    assert again is not None and again.id != user.id


def test_wrong_password_or_unticked_box_closes_nothing(client, db, person):
    user, *_ = person
    login(client, user)
    resp = close(client, password="not my password")
    assert resp.status_code == 422
    assert 'id="current_password-error">That is not your current password.' in resp.get_data(as_text=True)
    resp = close(client, confirm=None)
    assert resp.status_code == 422
    assert "Tick the box to confirm." in resp.get_data(as_text=True)
    db.session.refresh(user)
    assert user.closed_at is None and user.name == "Pat Person"
    assert client.get("/dashboard").status_code == 200


def test_last_admin_with_colleagues_must_hand_over_first(client, db, person):
    user, org, _ = person
    colleague = make_user(name="Cleo Colleague")
    m = add_member(org, colleague)
    db.session.commit()
    login(client, user)
    assert "You are the only admin of Melksham Youth Forum" in client.get("/account/privacy").get_data(
        as_text=True
    )
    resp = close(client)
    assert resp.status_code == 409
    assert "You are the only admin of Melksham Youth Forum. Make another member an admin" in resp.get_data(
        as_text=True
    )
    db.session.refresh(user)
    assert user.closed_at is None and user.membership_of(org.id) is not None

    m.role = MemberRole.ADMIN
    db.session.commit()
    assert close(client).status_code == 302
    db.session.refresh(user)
    assert user.closed_at is not None
    db.session.refresh(org)
    assert [x.user_id for x in org.memberships] == [colleague.id]


def test_only_member_may_close_and_the_organisation_stays(client, db, person):
    user, org, booking = person
    login(client, user)
    assert close(client).status_code == 302
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert org is not None and org.memberships == []
    assert org.name == "Melksham Youth Forum"


def test_pending_invitation_to_a_closed_address_stops_working(app, client, db, mailbox, person):
    user, org, _ = person
    invitee = make_user(email="invitee@example.org")
    db.session.commit()
    login(client, user)
    client.post(f"/organisations/{org.id}/invitations", data={"email": "invitee@example.org"})
    client.post("/logout")
    link = link_in(mailbox.last_to("invitee@example.org"), "/invitations/")
    login(client, invitee)
    assert close(client).status_code == 302
    assert client.get(link).status_code == 400
    inv = db.session.scalar(sa.select(Invitation))
    assert inv.email == f"closed-{invitee.id}@invalid" and inv.revoked_at is not None
