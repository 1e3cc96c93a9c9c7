"""360Giving open data: the JSON package validates against the standard's schema, the CSV uses its column titles,
and only awarded grants of decided rounds are published, in pounds, with what has been paid so far."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from foundation.grants.models import ApplicationStatus, Decision, RoundStatus
from foundation.grants.scorecard import published_grants
from foundation.members.models import LegalForm
from foundation.types import LONDON, utcnow
from tests.factories import make_org, make_user
from tests.grants.factories import make_application, make_awarded_grant, make_round

# The published 360Giving schemas (version 1.4.3, CC BY 4.0) are kept beside these tests (see SOURCE.md there);
# STANDARDS_360GIVING points at another copy, e.g. a newer release to check against.
STANDARD = Path(
    os.environ.get("STANDARDS_360GIVING", Path(__file__).resolve().parent / "standards/360giving")
)


def _load(name: str) -> dict:
    return json.loads((STANDARD / name).read_text())


@pytest.fixture(scope="module")
def schemas() -> tuple[dict, dict]:
    return _load("360-giving-package-schema.json"), _load("360-giving-schema.json")


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    # The standard's dates are oneOf date-time and a YYYY-MM-DD pattern: a checker that lets a plain date pass as a
    # date-time would make every date match both and fail.
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


def package_validator(schemas: tuple[dict, dict]) -> Draft202012Validator:
    package_schema, grant_schema = schemas
    grant = DRAFT202012.create_resource(grant_schema)
    registry = Registry().with_resources(
        [
            (package_schema["$id"], DRAFT202012.create_resource(package_schema)),
            (grant_schema["$id"], grant),
            # The package schema points at the grant schema by another version's URL.
            (package_schema["properties"]["grants"]["items"]["$ref"], grant),
        ]
    )
    return Draft202012Validator(package_schema, registry=registry, format_checker=FORMATS)


def decided_round(**kwargs):
    round_ = make_round(status=RoundStatus.DECIDED, **kwargs)
    round_.decided_at = utcnow()
    return round_


def get_json(client) -> dict:
    resp = client.get("/open-data/360giving.json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def get_csv(client) -> tuple[list[str], list[dict[str, str]]]:
    resp = client.get("/open-data/360giving.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(resp.get_data(as_text=True)))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


@pytest.fixture
def published(db):
    """A decided round with two awards (one part-paid, one serving two towns) and a declined application."""
    round_ = decided_round(name="Spring 2025 seed grants")
    charity = make_org(
        name="Trowbridge Youth Trust", town="Trowbridge", legal_form=LegalForm.REGISTERED_CHARITY,
        charity_number="1100001",
    )  # fmt: skip
    group = make_org(name="Calne Skate Collective", town="Calne")
    paid = make_awarded_grant(
        round_, charity, amount_pence=125_050, requested_pence=150_000, instalments=(100_000, 25_050), paid=1,
        towns=("Trowbridge",), title="Friday night detached youth work",
    )  # fmt: skip
    multi = make_awarded_grant(
        round_, group, amount_pence=80_000, towns=("Calne", "Chippenham"), title="Skate jam"
    )
    make_application(
        round_, make_org(name="Declined Drama"), status=ApplicationStatus.DECLINED, title="No thanks"
    )
    db.session.commit()
    return {"round": round_, "paid": paid, "multi": multi, "charity": charity, "group": group}


def test_json_package_validates_against_the_360giving_schema(client, published, schemas):
    body = get_json(client)

    errors = sorted(package_validator(schemas).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert body["version"] == "1.4"
    assert len(body["grants"]) == 2


def test_the_validator_really_checks(published, client, schemas):
    body = get_json(client)
    del body["grants"][0]["awardDate"]
    body["grants"][1]["amountAwarded"] = "£800"
    body["grants"][1]["plannedDates"][0]["startDate"] = "next spring"

    errors = list(package_validator(schemas).iter_errors(body))

    assert len(errors) == 3


def test_grant_records_use_identifiers_pounds_and_dates(client, db, published, app):
    app.config["FOUNDATION_ORG_ID"] = "GB-CHC-1000000"
    paid, multi, group = published["paid"], published["multi"], published["group"]

    grants = {g["title"]: g for g in get_json(client)["grants"]}

    detached = grants["Friday night detached youth work"]
    assert detached["id"] == f"360G-wypf-{paid.application.reference}"
    assert detached["currency"] == "GBP"
    assert detached["amountAwarded"] == 1250.5
    assert detached["amountAppliedFor"] == 1500
    assert detached["amountDisbursed"] == 1000
    decided_at = db.session.get(Decision, paid.application.decision.id).decided_at
    assert detached["awardDate"] == decided_at.astimezone(LONDON).date().isoformat()
    assert detached["plannedDates"] == [
        {"startDate": paid.application.starts_on.isoformat(), "endDate": paid.application.ends_on.isoformat()}
    ]
    assert detached["recipientOrganization"][0]["id"] == "GB-CHC-1100001"
    assert detached["recipientOrganization"][0]["charityNumber"] == "1100001"
    assert detached["fundingOrganization"] == [
        {"id": "GB-CHC-1000000", "name": "Wiltshire Young People's Foundation"}
    ]
    assert detached["grantProgramme"] == [
        {"code": published["round"].code, "title": "Spring 2025 seed grants"}
    ]
    skate = grants["Skate jam"]
    assert skate["id"] == f"360G-wypf-{multi.application.reference}"
    assert skate["recipientOrganization"][0]["id"] == f"360G-wypf-{group.id}"
    assert skate["amountDisbursed"] == 0
    assert skate["beneficiaryLocation"] == [
        {"name": "Calne", "countryCode": "GB"},
        {"name": "Chippenham", "countryCode": "GB"},
    ]


def test_funder_defaults_to_the_foundation_prefix(client, published, app):
    app.config.pop("FOUNDATION_ORG_ID", None)

    body = get_json(client)

    assert body["grants"][0]["fundingOrganization"][0]["id"] == "360G-wypf"
    assert body["publisher"]["identifier"] == "360G-wypf"


def test_only_awards_of_decided_rounds_are_published(client, db):
    decided = decided_round()
    in_review = make_round(status=RoundStatus.IN_REVIEW)
    shown = make_awarded_grant(decided, make_org(), title="Published project")
    make_awarded_grant(in_review, make_org(), title="Undecided round project")
    make_application(decided, make_org(), status=ApplicationStatus.DECLINED, title="Declined project")
    make_application(decided, make_org(), status=ApplicationStatus.WITHDRAWN, title="Withdrawn project")
    db.session.commit()

    body = get_json(client)
    titles, rows = get_csv(client)

    assert [g["title"] for g in body["grants"]] == ["Published project"]
    assert [r["Title"] for r in rows] == ["Published project"]
    assert rows[0]["Identifier"] == f"360G-wypf-{shown.application.reference}"


def test_amount_disbursed_follows_payments(client, db):
    round_ = decided_round()
    grant = make_awarded_grant(round_, make_org(), amount_pence=90_000, instalments=(60_000, 30_000), paid=0)
    db.session.commit()
    assert get_json(client)["grants"][0]["amountDisbursed"] == 0

    from foundation.grants import money
    from foundation.ledger import service as ledger
    from foundation.ledger.models import TransactionKind

    first = grant.instalments[0]
    txn = ledger.transfer(
        TransactionKind.PAYMENT, "Instalment 1", ("instalment", first.id), money.grant_account(grant),
        ledger.account(ledger.PAID_OUT), first.amount_pence, None, money.tags(grant.round, grant),
    )  # fmt: skip
    first.paid_at, first.transaction_id = utcnow(), txn.id
    db.session.commit()

    assert get_json(client)["grants"][0]["amountDisbursed"] == 600
    assert get_csv(client)[1][0]["Amount Disbursed"] == "600"


def test_csv_columns_are_the_standards_titles(client, published, schemas):
    _, grant_schema = schemas

    titles, rows = get_csv(client)

    for title in titles:
        assert _resolves(grant_schema, title), f"{title!r} is not a 360Giving column title"
    for required in ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
                     "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name"):  # fmt: skip
        assert required in titles
    assert "Beneficiary Location:1:Name" in titles
    by_title = {r["Title"]: r for r in rows}
    detached = by_title["Friday night detached youth work"]
    assert detached["Amount Awarded"] == "1250.50"
    assert detached["Amount Applied For"] == "1500"
    assert detached["Amount Disbursed"] == "1000"
    assert detached["Currency"] == "GBP"
    assert detached["Recipient Org:Identifier"] == "GB-CHC-1100001"
    assert detached["Beneficiary Location:0:Name"] == "Trowbridge"
    assert detached["Beneficiary Location:1:Name"] == ""
    skate = by_title["Skate jam"]
    assert (skate["Beneficiary Location:0:Name"], skate["Beneficiary Location:1:Name"]) == (
        "Calne",
        "Chippenham",
    )
    assert skate["Beneficiary Location:1:Country Code"] == "GB"


def _resolves(schema: dict, title: str) -> bool:
    """Whether a column title names a field of the grant schema: titles joined by ':', list positions as numbers."""
    node: dict = schema
    parts = title.split(":")
    i = 0
    while i < len(parts):
        node = _deref(schema, node)
        if node.get("type") == "array" or "items" in node:
            node = _deref(schema, node["items"])
            if parts[i].isdigit():
                i += 1
                continue
        match = next(
            (p for p in node.get("properties", {}).values() if _title(schema, p) == parts[i]),
            None,
        )
        if match is None:
            return False
        node = match
        i += 1
    return True


def _deref(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _title(schema: dict, prop: dict) -> str | None:
    return prop.get("title") or _deref(schema, prop).get("title")


def test_no_personal_data_is_published(client, db):
    lead = make_user(email="private.person@example.org", name="Private Person")
    org = make_org(admin=lead, name="Westbury Youth", town="Westbury")
    org.safeguarding_lead_name = "Safe Guarder"
    make_awarded_grant(decided_round(), org, by=lead)
    db.session.commit()

    json_text = client.get("/open-data/360giving.json").get_data(as_text=True)
    csv_text = client.get("/open-data/360giving.csv").get_data(as_text=True)

    for secret in (
        lead.email,
        lead.name,
        "Safe Guarder",
        org.safeguarding_lead_email,
        org.address_line1,
        org.postcode,
    ):
        assert secret not in json_text
        assert secret not in csv_text
    assert "Westbury Youth" in json_text and "Westbury Youth" in csv_text


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client, db):
    make_awarded_grant(decided_round(), make_org(), title='=HYPERLINK("http://evil.example","Click")')
    db.session.commit()

    _, rows = get_csv(client)

    assert rows[0]["Title"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert get_json(client)["grants"][0]["title"] == '=HYPERLINK("http://evil.example","Click")'


def test_nothing_published_yet(client, db):
    make_awarded_grant(make_round(status=RoundStatus.IN_REVIEW), make_org())
    db.session.commit()

    resp = client.get("/open-data/360giving.json")
    assert resp.status_code == 404
    assert resp.get_json()["message"] == "No grants have been published yet."
    titles, rows = get_csv(client)
    assert rows == [] and titles[0] == "Identifier"
    assert published_grants() == []


def test_open_data_can_be_fetched_cross_origin(client, published):
    for path in ("/open-data/360giving.json", "/open-data/360giving.csv"):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*"


def test_published_through_the_real_decision_and_payment_services(app, client, db, schemas):
    from foundation.grants import awards, rounds
    from tests.grants.factories import make_decided_grant

    staff = make_user(staff=True)
    admin = make_user()
    org = make_org(admin=admin, name="Salisbury Street Dance")
    round_ = make_round(status=RoundStatus.IN_REVIEW)
    with app.test_request_context():
        grant = make_decided_grant(
            round_, org, staff, amount_pence=300_000, accepted_by=admin, title="Street dance"
        )
    db.session.commit()
    assert client.get("/open-data/360giving.json").status_code == 404  # the round is still in review

    with app.test_request_context():
        rounds.advance(round_, staff)
        awards.record_payment(grant, grant.instalments[0].id, staff, "BACS-0001")
    db.session.commit()

    body = get_json(client)
    assert not list(package_validator(schemas).iter_errors(body))
    [record] = body["grants"]
    assert (record["title"], record["amountAwarded"], record["amountDisbursed"]) == (
        "Street dance",
        3000,
        3000,
    )
    assert record["recipientOrganization"][0]["name"] == "Salisbury Street Dance"
