"""People in an organisation through the real forms: roles, removal, and the last-admin protections."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.members.models import MemberRole, Membership
from tests.factories import add_member, login, make_org, make_user


def role_url(org, m) -> str:
    return f"/organisations/{org.id}/members/{m.id}/role"


def remove_url(org, m) -> str:
    return f"/organisations/{org.id}/members/{m.id}/remove"


@pytest.fixture
def team(db):
    admin = make_user(email="admin@example.org", name="Alex Admin")
    org = make_org(admin=admin, name="Devizes Scouts")
    member = make_user(email="member@example.org", name="Mo Member")
    m = add_member(org, member)
    db.session.commit()
    admin_m = admin.membership_of(org.id)
    return org, admin, admin_m, member, m


def test_organisation_page_lists_people_and_admin_tools(client, team):
    org, admin, _, member, _ = team
    login(client, admin)
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Alex Admin (you)" in html and "Mo Member" in html
    assert "Invite a colleague" in html and "Change role" in html
    client.post("/logout")
    login(client, member)
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Alex Admin" in html and "Mo Member (you)" in html
    assert "Invite a colleague" not in html and "Change role" not in html


def test_admin_promotes_a_member_then_steps_down(client, db, team):
    org, admin, admin_m, member, m = team
    login(client, admin)
    resp = client.post(role_url(org, m), data={"role": "admin"})
    assert resp.status_code == 302
    assert "Mo Member is now admin of Devizes Scouts." in client.get(resp.location).get_data(as_text=True)
    db.session.refresh(m)
    assert m.role is MemberRole.ADMIN
    # With another admin in place, the first may become a plain member.
    assert client.post(role_url(org, admin_m), data={"role": "member"}).status_code == 302
    db.session.refresh(admin_m)
    assert admin_m.role is MemberRole.MEMBER
    # ...and is no longer allowed to manage people.
    assert client.post(role_url(org, admin_m), data={"role": "admin"}).status_code == 403


def test_last_admin_cannot_step_down(client, db, team):
    org, admin, admin_m, *_ = team
    login(client, admin)
    resp = client.post(role_url(org, admin_m), data={"role": "member"})
    assert resp.status_code == 409
    assert "You are the only admin of Devizes Scouts." in resp.get_data(as_text=True)
    db.session.refresh(admin_m)
    assert admin_m.role is MemberRole.ADMIN


def test_last_admin_cannot_remove_themselves(client, db, team):
    org, admin, admin_m, *_ = team
    login(client, admin)
    resp = client.post(remove_url(org, admin_m))
    assert resp.status_code == 409
    assert "You are the only admin of Devizes Scouts and cannot be removed." in resp.get_data(as_text=True)
    assert db.session.get(Membership, admin_m.id) is not None


def test_a_closed_admin_does_not_count_as_an_admin(client, db, team):
    org, admin, admin_m, *_ = team
    gone = make_user()
    add_member(org, gone, MemberRole.ADMIN)
    from foundation.types import utcnow

    gone.closed_at = utcnow()
    db.session.commit()
    login(client, admin)
    assert client.post(role_url(org, admin_m), data={"role": "member"}).status_code == 409


def test_admin_removes_a_member_who_then_loses_access(client, db, team):
    org, admin, _, member, m = team
    m_id = m.id
    login(client, admin)
    resp = client.post(remove_url(org, m))
    assert resp.status_code == 302
    assert "Mo Member is no longer a member of Devizes Scouts." in client.get(resp.location).get_data(
        as_text=True
    )
    assert db.session.get(Membership, m_id) is None
    client.post("/logout")
    login(client, member)
    assert client.get(f"/organisations/{org.id}").status_code == 404


def test_admin_may_leave_when_another_admin_remains(client, db, team):
    org, admin, admin_m, member, m = team
    m.role = MemberRole.ADMIN
    admin_m_id = admin_m.id
    db.session.commit()
    login(client, admin)
    resp = client.post(remove_url(org, admin_m))
    assert resp.status_code == 302 and resp.location.endswith("/dashboard")
    assert "You have left Devizes Scouts." in client.get(resp.location).get_data(as_text=True)
    assert db.session.scalar(sa.select(Membership).where(Membership.id == admin_m_id)) is None


def test_unknown_role_is_422_and_changes_nothing(client, db, team):
    org, admin, _, _, m = team
    login(client, admin)
    resp = client.post(role_url(org, m), data={"role": "owner"})
    assert resp.status_code == 422
    assert "Choose admin or member." in resp.get_data(as_text=True)
    db.session.refresh(m)
    assert m.role is MemberRole.MEMBER


def test_membership_of_another_organisation_is_404(client, db, team):
    org, admin, *_ = team
    other = make_org(admin=make_user())
    other_m = add_member(other, make_user())
    db.session.commit()
    login(client, admin)
    assert client.post(role_url(org, other_m), data={"role": "admin"}).status_code == 404
    assert client.post(remove_url(org, other_m)).status_code == 404
    assert db.session.get(Membership, other_m.id) is not None


@pytest.mark.parametrize(
    ("who", "expected"), [("anonymous", 302), ("member", 403), ("other_admin", 404), ("staff", 403)]
)
def test_only_the_organisations_admins_manage_people(client, db, team, who, expected):
    org, admin, admin_m, member, m = team
    users = {"member": member, "other_admin": make_user(), "staff": make_user(staff=True)}
    make_org(admin=users["other_admin"])
    db.session.commit()
    if who != "anonymous":
        login(client, users[who])
    assert client.post(role_url(org, m), data={"role": "admin"}).status_code == expected
    assert client.post(remove_url(org, admin_m)).status_code == expected
    db.session.refresh(m)
    assert m.role is MemberRole.MEMBER
    assert db.session.get(Membership, admin_m.id) is not None
