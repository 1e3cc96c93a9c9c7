"""Names, addresses and titles that end up in an email's headers (To, Subject) are one line of plain text: a line
break or a hidden control character is refused at the field, so no message to or about the person can fail."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from foundation.forms import HEADER_SAFE_MESSAGE
from foundation.grants.forms_applications import ApplicationForm
from foundation.grants.forms_rounds import RoundForm
from foundation.members.models import Invitation, Organisation, User
from foundation.venues.forms_venues import SpaceForm, VenueForm
from tests.factories import PASSWORD, login, make_org, make_user
from tests.members.test_organisation_journey import valid_form

BROKEN = [
    "Ada\nBcc: everyone@example.org",
    "Ada\r\nWorker",
    "Ada\u2028Worker",  # a line separator: the email library splits headers on it too
    "Ada\x85Worker",  # next line (C1 control)
    "\u202eAda Worker",  # right-to-left override
    "Ada\u200bWorker",  # zero-width space
    "Ada\tWorker",
    "Ada\x00Worker",
]


def errors_at(page: str, field_id: str) -> list[str]:
    found = re.findall(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page)
    return [html.unescape(m) for m in found]


@pytest.mark.parametrize("name", BROKEN)
def test_a_name_with_a_line_break_or_hidden_character_is_refused_at_sign_up(client, db, name):
    resp = client.post(
        "/register",
        data={"name": name, "email": "ada@example.org", "password": "a long enough password",
              "confirm": "a long enough password"},
    )  # fmt: skip
    assert resp.status_code == 422
    assert errors_at(resp.text, "name") == [HEADER_SAFE_MESSAGE]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_ordinary_names_from_anywhere_are_welcome(client, db, mailbox):
    for n, name in enumerate(
        ["Siân O'Brien-Smith", "José Álvarez", "Zoë 李", "Nguyễn Văn An", "Ada  Worker"]
    ):
        resp = client.post(
            "/register",
            data={"name": name, "email": f"person{n}@example.org", "password": "a long enough password",
                  "confirm": "a long enough password"},
        )  # fmt: skip
        assert resp.status_code == 302, name
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 5


def test_changing_your_name_to_two_lines_is_refused_and_changes_nothing(client, db):
    ada = make_user(email="ada@example.org", name="Ada Worker")
    db.session.commit()
    login(client, ada)
    resp = client.post("/account", data={"action": "profile", "profile-name": "Ada\nWorker"})
    assert resp.status_code == 422
    assert errors_at(resp.text, "profile-name") == [HEADER_SAFE_MESSAGE]
    db.session.refresh(ada)
    assert ada.name == "Ada Worker"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Calne Young Carers\nSubject: you won"),
        ("name", "Calne \u202eYoung Carers"),
        ("safeguarding_lead_name", "Priya\r\nShah"),
        ("safeguarding_lead_email", "priya@example.org\nbcc@example.org"),
    ],
)
def test_an_organisation_with_a_header_breaking_name_is_refused(client, db, field, value):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    login(client, ada)
    resp = client.post("/organisations/new", data=valid_form(**{field: value}))
    assert resp.status_code == 422
    assert HEADER_SAFE_MESSAGE in errors_at(resp.text, field)
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 0


@pytest.mark.parametrize("email", ["new@example.org\nBcc: all@example.org", "new@example.org\u202e"])
def test_an_invitation_to_a_header_breaking_address_is_refused(client, db, email):
    admin = make_user(email="admin@example.org")
    org = make_org(admin=admin)
    db.session.commit()
    login(client, admin)
    resp = client.post(f"/organisations/{org.id}/invitations", data={"email": email, "role": "member"})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_a_new_email_address_with_a_line_break_is_refused(client, db, mailbox):
    ada = make_user(email="ada@example.org")
    db.session.commit()
    login(client, ada)
    resp = client.post(
        "/account",
        data={"action": "email", "email-email": "new@example.org\nBcc: x@example.org", "email-current_password": PASSWORD},
    )  # fmt: skip
    assert resp.status_code == 422
    assert errors_at(resp.text, "email-email") == [HEADER_SAFE_MESSAGE]
    assert mailbox.messages() == []


@pytest.mark.parametrize(
    ("form_class", "field", "data"),
    [
        (VenueForm, "name", {"name": "Scout Hut\nSubject: free hire"}),
        (SpaceForm, "name", {"name": "Main\u202ehall"}),
        (RoundForm, "name", {"name": "Spring\r\nround"}),
        (ApplicationForm, "project_title", {"project_title": "Skate\u2029park"}),
    ],
)
def test_names_that_go_into_email_subjects_elsewhere_are_refused_too(app, form_class, field, data):
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(data))
        assert not form[field].validate(form)
    assert form[field].errors == [HEADER_SAFE_MESSAGE]
