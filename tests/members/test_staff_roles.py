"""Staff grant and remove the panel-reviewer and staff roles; `flask create-staff` makes the first staff user."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.members.models import User
from foundation.types import utcnow
from tests.conftest import text_of
from tests.factories import PASSWORD, add_member, login, make_org, make_user


@pytest.fixture
def staff(db):
    user = make_user(email="staff@example.org", name="Stella Staff", staff=True)
    db.session.commit()
    return user


def set_roles(client, user, panel=False, staff=False):
    data = {}
    if panel:
        data["panel"] = "1"
    if staff:
        data["staff"] = "1"
    return client.post(f"/staff/users/{user.id}/roles", data=data)


def test_staff_list_users_with_their_organisations_and_search(client, db, staff):
    ada = make_user(email="ada@example.org", name="Ada Lovelace")
    make_org(admin=ada, name="Corsham Juniors")
    make_user(email="bob@example.org", name="Bob Builder")
    gone = make_user(email="gone@example.org", name="Gone Person")
    gone.closed_at = utcnow()
    db.session.commit()
    login(client, staff)
    html = client.get("/staff/users").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Corsham Juniors (admin)" in html and "Bob Builder" in html
    assert "Gone Person" not in html
    html = client.get("/staff/users?q=ADA").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Bob Builder" not in html
    html = client.get("/staff/users?q=bob@").get_data(as_text=True)
    assert "Bob Builder" in html and "Ada Lovelace" not in html


def test_staff_make_a_panel_reviewer_who_is_told(client, db, mailbox, staff):
    user = make_user(email="reviewer@example.org", name="Rita Reviewer")
    db.session.commit()
    login(client, staff)
    resp = set_roles(client, user, panel=True)
    assert resp.status_code == 302
    assert "Roles for Rita Reviewer are saved." in client.get(resp.location).get_data(as_text=True)
    db.session.refresh(user)
    assert user.is_panel_reviewer and not user.is_staff
    msg = mailbox.last_to("reviewer@example.org")
    assert msg["Subject"] == "You have a new role"
    assert "panel reviewer" in text_of(msg)


def test_staff_make_another_staff_member_and_remove_roles_quietly(client, db, mailbox, staff):
    user = make_user(email="colleague@example.org", panel=True)
    db.session.commit()
    login(client, staff)
    assert set_roles(client, user, panel=True, staff=True).status_code == 302
    db.session.refresh(user)
    assert user.is_staff and user.is_panel_reviewer
    assert "foundation staff" in text_of(mailbox.last_to("colleague@example.org"))
    assert "panel reviewer" not in text_of(mailbox.last_to("colleague@example.org"))
    count = len(mailbox.to("colleague@example.org"))
    assert set_roles(client, user).status_code == 302
    db.session.refresh(user)
    assert not user.is_staff and not user.is_panel_reviewer
    assert len(mailbox.to("colleague@example.org")) == count  # losing a role sends nothing


def test_the_new_staff_member_can_open_staff_pages(client, db, staff):
    user = make_user()
    db.session.commit()
    login(client, user)
    assert client.get("/staff/vetting").status_code == 403
    client.post("/logout")
    login(client, staff)
    set_roles(client, user, staff=True)
    client.post("/logout")
    login(client, user)
    assert client.get("/staff/vetting").status_code == 200


def test_staff_cannot_remove_their_own_staff_role(client, db, staff):
    login(client, staff)
    resp = set_roles(client, staff, panel=True)
    assert resp.status_code == 303
    assert "You cannot remove your own staff role" in client.get(resp.location).get_data(as_text=True)
    db.session.refresh(staff)
    assert staff.is_staff and not staff.is_panel_reviewer


def test_unknown_user_is_404(client, db, staff):
    login(client, staff)
    assert client.post("/staff/users/99999/roles", data={"panel": "1"}).status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "member", "panel"])
def test_only_staff_see_users_and_change_roles(client, db, who):
    target = make_user(email="target@example.org")
    member = make_user()
    add_member(make_org(admin=make_user()), member)
    panel = make_user(panel=True)
    db.session.commit()
    if who != "anonymous":
        login(client, {"member": member, "panel": panel}[who])
    expected = 302 if who == "anonymous" else 403
    assert client.get("/staff/users").status_code == expected
    assert set_roles(client, target, panel=True, staff=True).status_code == expected
    db.session.refresh(target)
    assert not target.is_staff and not target.is_panel_reviewer


def test_create_staff_command_makes_a_new_staff_user(app, client, db):
    result = app.test_cli_runner().invoke(
        args=[
            "create-staff",
            "--email",
            "Boss@Example.org",
            "--name",
            "Bea Boss",
            "--password",
            "a long password!",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "boss@example.org is foundation staff." in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.org"))
    assert user is not None and user.is_staff and user.email_confirmed and user.name == "Bea Boss"
    resp = client.post("/login", data={"email": "boss@example.org", "password": "a long password!"})
    assert resp.status_code == 302
    assert client.get("/staff/vetting").status_code == 200


def test_create_staff_command_promotes_an_existing_user(app, client, db):
    user = make_user(email="existing@example.org", name="Eve Existing", confirmed=False)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "create-staff",
            "--email",
            "existing@example.org",
            "--name",
            "Ignored",
            "--password",
            "other pw 123",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.is_staff and user.email_confirmed and user.name == "Eve Existing"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    # The existing password still works; the one given is not applied to an existing account.
    assert (
        client.post("/login", data={"email": "existing@example.org", "password": PASSWORD}).status_code == 302
    )


def test_create_staff_command_prompts_for_missing_details(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-staff"], input="prompted@example.org\nPip Prompted\nsecret pass 1\nsecret pass 1\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "prompted@example.org"))
    assert user is not None and user.is_staff
