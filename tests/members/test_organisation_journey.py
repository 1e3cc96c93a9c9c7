"""Registering and editing an organisation through the real forms: identifiers, refusals, who may, resubmission."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from foundation.members.models import (
    Area,
    LegalForm,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
)
from foundation.notifications.models import Notification, NotificationKind
from tests.conftest import text_of
from tests.factories import add_member, login, make_org, make_user


def valid_form(**overrides: object) -> dict:
    data = {
        "name": "Calne Young Carers",
        "sector": "voluntary",
        "legal_form": "registered_charity",
        "charity_number": "1012345",
        "company_number": "",
        "address_line1": "The Old Forge, 4 Mill Street",
        "address_line2": "Quemerford",
        "town": "Calne",
        "postcode": "sn11 0ab",
        "area": "wiltshire",
        "website": "https://calneyoungcarers.org.uk",
        "description": "Breaks and peer support for young carers aged 8 to 18.",
        "age_min": "8",
        "age_max": "18",
        "young_people_per_year": "140",
        "safeguarding_lead_name": "Priya Shah",
        "safeguarding_lead_email": "Priya@CalneYoungCarers.org.uk",
        "safeguarding_lead_phone": "01249 000111",
    }
    data.update(overrides)
    return data


def errors_at(page: str, field_id: str) -> list[str]:
    """The messages shown under one form field."""
    found = re.findall(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page)
    return [html.unescape(m) for m in found]


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def staff(db):
    return make_user(email="vera@wypf.org.uk", name="Vera Vetting", staff=True)


@pytest.fixture
def ada(db):
    return make_user(email="ada@example.org", name="Ada Worker")


def register(client, **overrides):
    return client.post("/organisations/new", data=valid_form(**overrides))


# --- registering ------------------------------------------------------------------------------------------------


def test_confirmed_user_registers_an_organisation_with_every_field(client, db, staff, ada, mailbox):
    login(client, ada)
    page = client.get("/organisations/new")
    assert page.status_code == 200
    assert "Register your organisation" in page.get_data(as_text=True)

    resp = register(client)

    assert resp.status_code == 302
    org = db.session.scalars(sa.select(Organisation)).one()
    assert resp.location.endswith(f"/organisations/{org.id}")
    assert (org.name, org.sector, org.legal_form) == (
        "Calne Young Carers",
        Sector.VOLUNTARY,
        LegalForm.REGISTERED_CHARITY,
    )
    assert (org.charity_number, org.company_number) == ("1012345", None)
    assert (org.address_line1, org.address_line2, org.town) == (
        "The Old Forge, 4 Mill Street",
        "Quemerford",
        "Calne",
    )
    assert org.postcode == "SN11 0AB"
    assert org.area is Area.WILTSHIRE
    assert org.website == "https://calneyoungcarers.org.uk"
    assert org.description == "Breaks and peer support for young carers aged 8 to 18."
    assert (org.age_min, org.age_max, org.young_people_per_year) == (8, 18, 140)
    assert (org.safeguarding_lead_name, org.safeguarding_lead_email, org.safeguarding_lead_phone) == (
        "Priya Shah",
        "priya@calneyoungcarers.org.uk",
        "01249 000111",
    )
    assert org.status is OrganisationStatus.PENDING and org.submitted_at is not None
    assert org.org_id == "GB-CHC-1012345"

    # The registering user is its admin, and sees it as such.
    [m] = db.session.scalars(sa.select(Membership)).all()
    assert (m.user_id, m.organisation_id, m.role) == (ada.id, org.id, MemberRole.ADMIN)
    shown = client.get(resp.location).get_data(as_text=True)
    assert "Calne Young Carers is registered and waiting for vetting." in shown
    assert "GB-CHC-1012345" in shown and "SN11 0AB" in shown and "Edit details" in shown
    assert "Calne Young Carers" in client.get("/dashboard").get_data(as_text=True)

    # Staff hear about it, in the inbox and by email; the registering user does not get the staff message.
    [note] = db.session.scalars(sa.select(Notification)).all()
    assert (note.user_id, note.kind) == (staff.id, NotificationKind.STAFF_QUEUE)
    msg = mailbox.last_to("vera@wypf.org.uk")
    assert msg["Subject"] == "New organisation awaiting vetting: Calne Young Carers"
    assert f"/staff/organisations/{org.id}" in text_of(msg)
    assert mailbox.to("ada@example.org") == []


@pytest.mark.parametrize(
    ("fields", "expected_org_id", "stored"),
    [
        # Charity number first, even when a company number is there too.
        (
            {"legal_form": "charitable_company", "charity_number": "1 012 345", "company_number": "01234567"},
            "GB-CHC-1012345",
            ("1012345", "01234567"),
        ),
        # Leading zeros are kept...
        (
            {
                "legal_form": "company",
                "sector": "private",
                "charity_number": "",
                "company_number": "01234567",
            },
            "GB-COH-01234567",
            (None, "01234567"),
        ),
        # ...or restored when someone drops them.
        (
            {"legal_form": "cic", "charity_number": "", "company_number": "1234567"},
            "GB-COH-01234567",
            (None, "01234567"),
        ),
        # Scottish-style prefix, typed in lower case with a space.
        (
            {"legal_form": "company", "charity_number": "", "company_number": "sc 123456"},
            "GB-COH-SC123456",
            (None, "SC123456"),
        ),
        # A six-digit (older) charity number.
        ({"legal_form": "cio", "charity_number": "212345"}, "GB-CHC-212345", ("212345", None)),
    ],
)
def test_org_id_follows_the_registration_numbers(client, db, ada, fields, expected_org_id, stored):
    login(client, ada)
    resp = register(client, **fields)
    assert resp.status_code == 302, errors_at(resp.get_data(as_text=True), "company_number")
    org = db.session.scalars(sa.select(Organisation)).one()
    assert (org.charity_number, org.company_number) == stored
    assert org.org_id == expected_org_id
    assert expected_org_id in client.get(resp.location).get_data(as_text=True)


def test_group_without_numbers_gets_a_foundation_org_id(client, db, ada):
    login(client, ada)
    resp = register(
        client,
        name="Swindon Street Dance",
        sector="community",
        legal_form="unincorporated",
        charity_number="",
        company_number="",
        address_line2="",
        website="",
        age_min="",
        age_max="",
        young_people_per_year="",
        safeguarding_lead_phone="",
        postcode="sn1 1aa",
        town="Swindon",
        area="swindon",
    )
    assert resp.status_code == 302
    org = db.session.scalars(sa.select(Organisation)).one()
    assert org.org_id == f"360G-wypf-{org.id}"
    assert (org.charity_number, org.company_number, org.address_line2, org.website) == (
        None,
        None,
        None,
        None,
    )
    assert (org.age_min, org.age_max, org.young_people_per_year) == (None, None, None)
    assert org.area is Area.SWINDON and org.postcode == "SN1 1AA"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("sn151er", "SN15 1ER"),
        ("SN15 1ER", "SN15 1ER"),
        ("  sn15   1er ", "SN15 1ER"),
        ("ba12 0aa", "BA12 0AA"),
    ],
)
def test_postcode_is_normalised(client, db, ada, raw, normalised):
    login(client, ada)
    assert register(client, postcode=raw).status_code == 302
    assert db.session.scalars(sa.select(Organisation.postcode)).one() == normalised


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"postcode": "SN15"}, "postcode", "Enter a real UK postcode, e.g. SN15 1ER."),
        ({"postcode": "12345"}, "postcode", "Enter a real UK postcode, e.g. SN15 1ER."),
        (
            {"legal_form": "registered_charity", "charity_number": ""},
            "charity_number",
            "A registered charity needs its charity number.",
        ),
        (
            {"legal_form": "cio", "charity_number": ""},
            "charity_number",
            "A charitable incorporated organisation (cio) needs its charity number.",
        ),
        (
            {"legal_form": "company", "charity_number": "", "company_number": ""},
            "company_number",
            "A company needs its company number.",
        ),
        (
            {"legal_form": "charitable_company", "company_number": ""},
            "company_number",
            "A charitable company needs its company number.",
        ),
        (
            {"charity_number": "12345"},
            "charity_number",
            "A charity number for England & Wales has 6 or 7 digits, e.g. 1012345.",
        ),
        (
            {"charity_number": "SC012345"},
            "charity_number",
            "A charity number for England & Wales has 6 or 7 digits, e.g. 1012345.",
        ),
        (
            {"legal_form": "company", "charity_number": "", "company_number": "123456789"},
            "company_number",
            "A company number has 8 characters: digits, or two letters and 6 digits.",
        ),
        (
            {"legal_form": "company", "charity_number": "", "company_number": "AB123456"},
            "company_number",
            "A company number has 8 characters: digits, or two letters and 6 digits.",
        ),
        ({"age_min": "16", "age_max": "11"}, "age_max", "The oldest age must not be below the youngest."),
        ({"age_min": "-1"}, "age_min", "Enter an age from 0 to 30."),
        ({"young_people_per_year": "-5"}, "young_people_per_year", "Enter a number of 0 or more."),
        ({"young_people_per_year": "lots"}, "young_people_per_year", "Not a valid integer value."),
        ({"sector": ""}, "sector", "Choose a sector."),
        ({"legal_form": ""}, "legal_form", "Choose a legal form."),
        ({"area": ""}, "area", "Choose Wiltshire or Swindon."),
        ({"website": "calne.org"}, "website", "Enter a full web address, e.g. https://example.org.uk"),
        ({"safeguarding_lead_email": "not-an-email"}, "safeguarding_lead_email", "Invalid email address."),
        ({"name": "  "}, "name", "This field is required."),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_written(
    client, db, staff, ada, mailbox, fields, field_id, message
):
    login(client, ada)
    resp = register(client, **fields)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert message in errors_at(page, field_id)
    assert "There is a problem" in page
    assert (count(db, Organisation), count(db, Membership), count(db, Notification)) == (0, 0, 0)
    assert mailbox.messages() == []


def test_the_form_keeps_what_was_typed_after_a_refusal(client, db, ada):
    login(client, ada)
    page = register(client, postcode="nowhere").get_data(as_text=True)
    assert 'value="Calne Young Carers"' in page
    assert "Breaks and peer support for young carers" in page


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"charity_number": "1012345"},
            "charity_number",
            "An organisation with charity number 1012345 is already registered. Ask one of its admins to invite you.",
        ),
        (
            {"legal_form": "company", "charity_number": "", "company_number": "1234567"},
            "company_number",
            "An organisation with company number 01234567 is already registered. Ask one of its admins to invite you.",
        ),
    ],
)
def test_an_already_registered_number_is_a_409_at_that_field(
    client, db, staff, ada, mailbox, fields, field_id, message
):
    existing = make_org(name="Already Here", charity_number="1012345", company_number="01234567")
    db.session.commit()
    login(client, ada)

    resp = register(client, name="Calne Young Carers", **fields)

    assert resp.status_code == 409
    assert message in errors_at(resp.get_data(as_text=True), field_id)
    assert db.session.scalars(sa.select(Organisation.id)).all() == [existing.id]
    assert ada.memberships == [] and count(db, Notification) == 0
    assert mailbox.messages() == []


def test_unconfirmed_user_cannot_register_and_is_told_why(client, db, staff, mailbox):
    newbie = make_user(email="new@example.org", confirmed=False)
    db.session.commit()
    login(client, newbie)

    # The dashboard does not offer the form; the form's address says why instead of showing it.
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Confirm your email address" in dashboard and "Register an organisation" not in dashboard
    resp = client.get("/organisations/new")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert (
        "Before you register an organisation, confirm that <strong>new@example.org</strong> is yours" in page
    )
    assert 'name="name"' not in page and "Send the link again" in page

    resp = register(client)
    assert resp.status_code == 403
    assert "Confirm your email address before registering an organisation." in resp.get_data(as_text=True)
    assert (count(db, Organisation), count(db, Membership), count(db, Notification)) == (0, 0, 0)
    assert mailbox.to("vera@wypf.org.uk") == []


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    resp = client.get("/organisations/new")
    assert resp.status_code == 302 and "/login" in resp.location
    resp = client.post("/organisations/new", data=valid_form())
    assert resp.status_code == 302 and "/login" in resp.location
    assert count(db, Organisation) == 0


# --- editing ----------------------------------------------------------------------------------------------------


@pytest.fixture
def registered(client, db, ada):
    """Ada's organisation, registered through the form; Ada stays signed in."""
    login(client, ada)
    assert register(client).status_code == 302
    return db.session.scalars(sa.select(Organisation)).one()


def test_admin_sees_the_details_in_the_edit_form_and_saves_changes(client, db, registered):
    org = registered
    page = client.get(f"/organisations/{org.id}/edit").get_data(as_text=True)
    assert "Edit Calne Young Carers" in page
    assert 'value="SN11 0AB"' in page and 'value="1012345"' in page
    assert '<option selected value="registered_charity">' in page
    assert re.search(r'<input checked id="area-\d" name="area"[^>]*value="wiltshire">', page)

    resp = client.post(
        f"/organisations/{org.id}/edit",
        data=valid_form(
            name="Calne & District Young Carers",
            legal_form="charitable_company",
            company_number="07654321",
            town="Chippenham",
            postcode="sn151er",
            age_max="21",
            young_people_per_year="0",
            website="",
        ),
    )

    assert resp.status_code == 302 and resp.location.endswith(f"/organisations/{org.id}")
    db.session.expire_all()
    assert org.name == "Calne & District Young Carers"
    assert (org.legal_form, org.company_number, org.town, org.postcode) == (
        LegalForm.CHARITABLE_COMPANY,
        "07654321",
        "Chippenham",
        "SN15 1ER",
    )
    assert (org.age_max, org.young_people_per_year, org.website) == (21, 0, None)
    assert org.org_id == "GB-CHC-1012345"
    assert "Your organisation&#39;s details are saved." in client.get(resp.location).get_data(as_text=True)


def test_edit_refusals_leave_the_organisation_as_it_was(client, db, registered):
    org = registered
    other = make_org(name="Other Charity", charity_number="1099999")
    db.session.commit()

    resp = client.post(f"/organisations/{org.id}/edit", data=valid_form(name="Renamed", postcode="SN1"))
    assert resp.status_code == 422
    assert "Enter a real UK postcode, e.g. SN15 1ER." in errors_at(resp.get_data(as_text=True), "postcode")

    resp = client.post(
        f"/organisations/{org.id}/edit", data=valid_form(name="Renamed", charity_number="1099999")
    )
    assert resp.status_code == 409
    assert errors_at(resp.get_data(as_text=True), "charity_number") == [
        "An organisation with charity number 1099999 is already registered. Ask one of its admins to invite you."
    ]

    db.session.expire_all()
    assert (org.name, org.charity_number, org.postcode) == ("Calne Young Carers", "1012345", "SN11 0AB")
    assert other.charity_number == "1099999"
    # Keeping its own number is not a clash with itself.
    resp = client.post(f"/organisations/{org.id}/edit", data=valid_form(name="Renamed"))
    assert resp.status_code == 302


def test_plain_member_cannot_edit(client, db, registered):
    org = registered
    member = make_user(email="mo@example.org")
    add_member(org, member, MemberRole.MEMBER)
    db.session.commit()
    client.post("/logout")
    login(client, member)

    assert client.get(f"/organisations/{org.id}").status_code == 200
    assert "Edit details" not in client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert client.get(f"/organisations/{org.id}/edit").status_code == 403
    resp = client.post(f"/organisations/{org.id}/edit", data=valid_form(name="Hijacked"))
    assert resp.status_code == 403
    db.session.expire_all()
    assert org.name == "Calne Young Carers"


def test_another_organisations_admin_gets_404(client, db, registered):
    org = registered
    stranger = make_user(email="stranger@example.org")
    make_org(stranger, name="Stranger Things Club")
    db.session.commit()
    client.post("/logout")
    login(client, stranger)

    assert client.get(f"/organisations/{org.id}").status_code == 404
    assert client.get(f"/organisations/{org.id}/edit").status_code == 404
    assert client.post(f"/organisations/{org.id}/edit", data=valid_form(name="Hijacked")).status_code == 404
    assert client.post(f"/organisations/{org.id}/resubmit").status_code == 404
    assert client.get("/organisations/999999/edit").status_code == 404
    db.session.expire_all()
    assert org.name == "Calne Young Carers"


def test_staff_read_but_do_not_edit_an_organisation(client, db, staff, registered):
    org = registered
    client.post("/logout")
    login(client, staff)
    assert client.get(f"/organisations/{org.id}").status_code == 200
    assert (
        client.post(f"/organisations/{org.id}/edit", data=valid_form(name="Staff Rename")).status_code == 403
    )


# --- changes requested, then resubmitted ------------------------------------------------------------------------


def test_resubmitting_after_changes_requested_puts_it_back_in_the_queue(
    client, db, staff, ada, registered, mailbox
):
    org = registered
    client.post("/logout")
    login(client, staff)
    resp = client.post(
        f"/staff/organisations/{org.id}",
        data={"action": "request_changes", "message": "Please add your safeguarding lead's phone number."},
    )
    assert resp.status_code == 302
    in_queue = f'href="/staff/organisations/{org.id}"'
    assert in_queue not in client.get("/staff/vetting").get_data(as_text=True)
    client.post("/logout")

    login(client, ada)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Please add your safeguarding lead&#39;s phone number." in page
    assert "send back for vetting" in page
    member = make_user(email="mo@example.org")
    add_member(org, member, MemberRole.MEMBER)
    db.session.commit()
    assert (
        client.post(f"/organisations/{org.id}/edit", data=valid_form(safeguarding_lead_phone="07700 900123"))
    ).status_code == 302
    before = len(mailbox.to("vera@wypf.org.uk"))

    resp = client.post(f"/organisations/{org.id}/resubmit")

    assert resp.status_code == 302
    assert "Thank you. Your organisation is back in the vetting queue." in client.get(resp.location).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert org.status is OrganisationStatus.PENDING
    assert org.safeguarding_lead_phone == "07700 900123"
    mails = mailbox.to("vera@wypf.org.uk")
    assert len(mails) == before + 1
    assert mails[-1]["Subject"] == "Organisation resubmitted for vetting: Calne Young Carers"
    # Sending it back twice is refused; a plain member cannot send it back at all.
    assert client.post(f"/organisations/{org.id}/resubmit").status_code == 409
    client.post("/logout")
    login(client, member)
    assert client.post(f"/organisations/{org.id}/resubmit").status_code == 403
    client.post("/logout")

    login(client, staff)
    assert in_queue in client.get("/staff/vetting").get_data(as_text=True)


def test_resubmit_is_refused_unless_changes_were_requested(client, db, registered):
    org = registered
    resp = client.post(f"/organisations/{org.id}/resubmit")
    assert resp.status_code == 409
    db.session.expire_all()
    assert org.status is OrganisationStatus.PENDING
