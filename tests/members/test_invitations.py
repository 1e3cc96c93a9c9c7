"""Inviting colleagues through the real forms: the email, the link, accepting it once and only as the addressee."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.members.models import Invitation, MemberRole, Membership, User
from foundation.notifications.models import Notification
from foundation.types import utcnow
from tests.conftest import link_in, text_of
from tests.factories import PASSWORD, add_member, login, make_org, make_user


def invite(client, org, email, role="member"):
    return client.post(f"/organisations/{org.id}/invitations", data={"email": email, "role": role})


def memberships(db, org) -> list[Membership]:
    return list(db.session.scalars(sa.select(Membership).where(Membership.organisation_id == org.id)))


@pytest.fixture
def scene(db):
    admin = make_user(email="admin@example.org", name="Alex Admin")
    org = make_org(admin=admin, name="Calne Youth Club")
    db.session.commit()
    return admin, org


def sent_link(app, client, mailbox, scene, email="new@example.org", role="member") -> str:
    admin, org = scene
    login(client, admin)
    resp = invite(client, org, email, role)
    assert resp.status_code == 302
    client.post("/logout")
    return link_in(mailbox.last_to(email), "/invitations/")


def test_invite_someone_new_who_registers_then_joins(app, client, db, mailbox, scene):
    admin, org = scene
    login(client, admin)
    resp = invite(client, org, "New.Person@Example.org")
    assert resp.status_code == 302
    assert "Invitation sent to new.person@example.org" in client.get(resp.location).get_data(as_text=True)

    msg = mailbox.last_to("new.person@example.org")
    assert msg["Subject"] == "Alex Admin invited you to join Calne Youth Club"
    assert "as member" in text_of(msg)
    assert msg.get_body(preferencelist=("html",)) is not None
    link = link_in(msg, "/invitations/")
    client.post("/logout")

    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Join Calne Youth Club" in html and "Create an account" in html

    resp = client.post(
        f"/register?next={link}",
        data={"name": "Nia New", "email": "new.person@example.org", "password": "a long enough password",
              "confirm": "a long enough password"},
    )  # fmt: skip
    assert resp.status_code == 302 and resp.location.startswith("/login?next=")
    resp = client.post(
        resp.location,
        data={"email": "new.person@example.org", "password": "a long enough password", "next": link},
    )
    assert resp.location.endswith(link), "after registering and signing in, back to the invitation"
    page = client.get(link)
    assert page.status_code == 200 and "Accept and join Calne Youth Club" in page.get_data(as_text=True)

    resp = client.post(link)
    assert resp.status_code == 302 and resp.location.endswith(f"/organisations/{org.id}")
    assert "Welcome to Calne Youth Club" in client.get(resp.location).get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
    m = user.membership_of(org.id)
    assert m is not None and m.role is MemberRole.MEMBER
    inv = db.session.scalar(sa.select(Invitation))
    assert inv.accepted_at is not None and inv.accepted_by_id == user.id
    # The confirmation sent at registration still works as usual.
    assert client.get(link_in(mailbox.last_to("new.person@example.org"), "/confirm/")).status_code == 302
    db.session.refresh(user)
    assert user.email_confirmed


def test_invite_an_existing_user_as_admin(app, client, db, mailbox, scene):
    admin, org = scene
    colleague = make_user(email="colleague@example.org", name="Cara Colleague")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene, email="colleague@example.org", role="admin")
    assert "as admin" in text_of(mailbox.last_to("colleague@example.org"))
    # Through notify(): the invitation is also in their inbox.
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == colleague.id))
    assert note is not None and note.link == link

    page = client.get(link)
    assert page.status_code == 200 and "Sign in to accept" in page.get_data(as_text=True)
    resp = client.post("/login", data={"email": "colleague@example.org", "password": PASSWORD, "next": link})
    assert resp.status_code == 302 and resp.location.endswith(link)
    assert client.post(link).status_code == 302
    db.session.refresh(colleague)
    assert colleague.membership_of(org.id).role is MemberRole.ADMIN
    assert "Invite a colleague" in client.get(f"/organisations/{org.id}").get_data(as_text=True)


def test_anonymous_accept_is_sent_to_sign_in(app, client, db, mailbox, scene):
    link = sent_link(app, client, mailbox, scene)
    resp = client.post(link)
    assert resp.status_code == 302 and "/login" in resp.location
    assert len(memberships(db, scene[1])) == 1


def test_link_works_once(app, client, db, mailbox, scene):
    user = make_user(email="new@example.org")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene)
    login(client, user)
    assert client.post(link).status_code == 302
    for method in (client.get, client.post):
        resp = method(link)
        assert resp.status_code == 400
        assert "already been used" in resp.get_data(as_text=True)
    assert len(memberships(db, scene[1])) == 2


def test_expired_invitation_is_refused(app, client, db, mailbox, scene):
    user = make_user(email="new@example.org")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene)
    inv = db.session.scalar(sa.select(Invitation))
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "has expired" in client.get(link).get_data(as_text=True)
    login(client, user)
    resp = client.post(link)
    assert resp.status_code == 400
    assert "has expired. Ask one of its admins to send a new one." in resp.get_data(as_text=True)
    assert user.membership_of(scene[1].id) is None
    db.session.refresh(inv)
    assert inv.accepted_at is None


def test_revoked_invitation_is_refused(app, client, db, mailbox, scene):
    admin, org = scene
    user = make_user(email="new@example.org")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene)
    inv = db.session.scalar(sa.select(Invitation))

    login(client, admin)
    assert "new@example.org" in client.get(f"/organisations/{org.id}").get_data(as_text=True)
    resp = client.post(f"/organisations/{org.id}/invitations/{inv.id}/revoke")
    assert resp.status_code == 302
    assert "Invitations waiting" not in client.get(f"/organisations/{org.id}").get_data(as_text=True)
    again = client.post(f"/organisations/{org.id}/invitations/{inv.id}/revoke")
    assert again.status_code == 409 and "already revoked" in again.get_data(as_text=True)
    client.post("/logout")

    login(client, user)
    resp = client.post(link)
    assert resp.status_code == 400
    assert "withdrawn by the organisation" in resp.get_data(as_text=True)
    assert user.membership_of(org.id) is None


def test_signed_in_as_someone_else_is_refused(app, client, db, mailbox, scene):
    other = make_user(email="other@example.org")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene)
    login(client, other)
    for method in (client.get, client.post):
        resp = method(link)
        assert resp.status_code == 403
        html = resp.get_data(as_text=True)
        assert "sent to new@example.org, but you are signed in as other@example.org" in html
    assert other.membership_of(scene[1].id) is None
    inv = db.session.scalar(sa.select(Invitation))
    assert inv.accepted_at is None  # still usable by the right person


def test_tampered_link_is_refused(app, client, db, mailbox, scene):
    link = sent_link(app, client, mailbox, scene)
    resp = client.get(link[:-3] + "xyz")
    assert resp.status_code == 400
    assert "This link is not valid" in resp.get_data(as_text=True)


def test_accepting_when_already_a_member_changes_nothing(app, client, db, mailbox, scene):
    admin, org = scene
    user = make_user(email="new@example.org")
    db.session.commit()
    link = sent_link(app, client, mailbox, scene, role="admin")
    add_member(org, user)  # joined by another route meanwhile
    db.session.commit()
    login(client, user)
    resp = client.post(link)
    assert resp.status_code == 409
    assert "already a member of Calne Youth Club" in resp.get_data(as_text=True)
    db.session.refresh(user)
    assert user.membership_of(org.id).role is MemberRole.MEMBER
    assert db.session.scalar(sa.select(Invitation)).accepted_at is None


def test_existing_member_cannot_be_invited_twice(client, db, mailbox, scene):
    admin, org = scene
    add_member(org, make_user(email="member@example.org"))
    db.session.commit()
    login(client, admin)
    resp = invite(client, org, "member@example.org")
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert 'id="email-error">member@example.org is already a member of Calne Youth Club.' in html
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
    assert mailbox.to("member@example.org") == []


def test_a_waiting_invitation_is_not_sent_twice(client, db, mailbox, scene):
    admin, org = scene
    login(client, admin)
    assert invite(client, org, "new@example.org").status_code == 302
    resp = invite(client, org, "new@example.org")
    assert resp.status_code == 409
    assert "An invitation to new@example.org is already waiting" in resp.get_data(as_text=True)
    assert len(mailbox.to("new@example.org")) == 1


def test_invalid_invite_form_answers_422_at_the_field(client, db, scene):
    admin, org = scene
    login(client, admin)
    resp = invite(client, org, "not-an-email", role="owner")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="email-error">Invalid email address.' in html
    assert "Not a valid choice" in html
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("member", 403), ("other_admin", 404), ("staff", 403), ("admin", 302)],
)
def test_who_may_invite_and_revoke(client, db, scene, who, expected):
    admin, org = scene
    member = make_user()
    add_member(org, member)
    other_admin = make_user()
    make_org(admin=other_admin)
    staff = make_user(staff=True)
    inv = Invitation(
        organisation_id=org.id, email="waiting@example.org", invited_by_id=admin.id,
        expires_at=utcnow() + timedelta(days=7),
    )  # fmt: skip
    db.session.add(inv)
    db.session.commit()
    users = {"member": member, "other_admin": other_admin, "staff": staff, "admin": admin}
    if who != "anonymous":
        login(client, users[who])
    resp = invite(client, org, "someone@example.org")
    assert resp.status_code == expected
    revoke = client.post(f"/organisations/{org.id}/invitations/{inv.id}/revoke")
    assert revoke.status_code == expected
    if expected == 302 and who == "anonymous":
        assert "/login" in resp.location
    count = db.session.scalar(sa.select(sa.func.count(Invitation.id)))
    db.session.refresh(inv)
    if who == "admin":
        assert count == 2 and inv.revoked_at is not None
    else:
        assert count == 1 and inv.revoked_at is None


def test_another_organisations_invitation_cannot_be_revoked_through_mine(client, db, scene):
    admin, org = scene
    other_org = make_org(admin=make_user())
    inv = Invitation(
        organisation_id=other_org.id, email="x@example.org", expires_at=utcnow() + timedelta(days=1)
    )
    db.session.add(inv)
    db.session.commit()
    login(client, admin)
    assert client.post(f"/organisations/{org.id}/invitations/{inv.id}/revoke").status_code == 404
    db.session.refresh(inv)
    assert inv.revoked_at is None


def test_the_service_itself_refuses_the_wrong_account(app, db, scene):
    from foundation.members import invitations

    admin, org = scene
    with app.test_request_context():
        inv = invitations.invite(org, admin, "new@example.org", MemberRole.ADMIN)
    other = make_user(email="other@example.org")
    with pytest.raises(invitations.WrongAccount):
        invitations.accept(inv, other)
    assert inv.accepted_at is None and other.membership_of(org.id) is None
