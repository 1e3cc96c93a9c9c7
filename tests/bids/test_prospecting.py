"""Funder prospecting from 360Giving files: good JSON and CSV, broken files refused with nothing saved, and staff
adding the funders they tick."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.bids import prospecting
from foundation.bids.models import Funder, FunderType, ProspectFunder, ProspectImport
from foundation.bids.threesixty import NotThreeSixtyGiving, read
from foundation.extensions import db as _db
from tests.bids.factories import make_funder
from tests.factories import login

SAMPLES = Path(__file__).resolve().parents[2] / "foundation" / "bids" / "samples"
BROKEN = Path(__file__).resolve().parent / "broken-grants.json"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def upload(client, data: bytes, filename: str):
    return client.post(
        "/staff/funders/prospecting",
        data={"grants_file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_the_sample_files_follow_the_standard_and_name_local_and_youth_funders():
    json_file = read(sample("fictional-grants.json"), "fictional-grants.json")
    csv_file = read(sample("fictional-grants.csv"), "fictional-grants.csv")
    assert (json_file.file_format, len(json_file.grants)) == ("json", 6)
    assert (csv_file.file_format, len(csv_file.grants)) == ("csv", 5)
    found, matched = prospecting.summarise(json_file.grants)
    assert matched == 4
    assert [(f.name, f.grant_count, f.total_pence) for f in found] == [
        ("Northmoor Fictional Foundation", 2, 5_800_000),  # Swindon by ONS code; youth work in Leeds
        ("Avonside Fictional Trust", 2, 1_450_050),  # Calne and Trowbridge postcodes; not the Bath lunch club
    ]
    avonside = found[1]
    assert (min(avonside.award_dates), max(avonside.award_dates)) == (date(2025, 4, 10), date(2025, 9, 1))
    found, _ = prospecting.summarise(csv_file.grants)
    kingsdown = next(f for f in found if f.name == "Kingsdown Fictional Fund")
    # Warminster (BA12) and Salisbury (SP1) count; the Faringdon museum (SN7, Oxfordshire) does not.
    assert (kingsdown.grant_count, kingsdown.total_pence) == (2, 1_070_000)


def test_a_csv_row_that_breaks_the_standard_is_named_by_row_and_column():
    text = sample("fictional-grants.csv").decode().replace(",6500,", ",six thousand,")
    with pytest.raises(NotThreeSixtyGiving) as refused:
        read(text.encode(), "grants.csv")
    assert [(p.where, p.field) for p in refused.value.problems] == [("Row 2", "Amount Awarded")]


def test_the_broken_sample_is_refused_with_each_problem():
    with pytest.raises(NotThreeSixtyGiving) as refused:
        read(BROKEN.read_bytes(), "broken.json")
    problems = {(p.where, p.field, p.message) for p in refused.value.problems}
    assert ("Grant 1 (360G-broken-1)", "", "Missing: Amount Awarded.") in problems
    assert any(p[0].startswith("Grant 2") and p[1] == "Award Date" for p in problems)
    assert any(p[0].startswith("Grant 3") and p[1] == "Currency" for p in problems)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "a package"),
        (b'{"grants": []}', "does not follow"),
        (b"\xff\xfe\x00", "not text in UTF-8"),
        (b"Identifier\n", "no grants"),
    ],
)
def test_files_that_are_not_360giving_are_refused(data, words):
    with pytest.raises(NotThreeSixtyGiving) as refused:
        read(data, "upload.json" if data.startswith((b"{", b"[")) else "upload.csv")
    assert words in refused.value.summary


def test_staff_upload_a_json_file_and_add_the_funders_they_tick(app, db, client, staff):
    make_funder("Northmoor Fictional Foundation")  # already in the register, by name
    _db.session.commit()
    login(client, staff)
    response = upload(client, sample("fictional-grants.json"), "fictional-grants.json")
    assert response.status_code == 302
    record = _db.session.scalars(sa.select(ProspectImport)).one()
    assert (record.filename, record.grant_count, record.matched_grant_count) == (
        "fictional-grants.json",
        6,
        4,
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Avonside Fictional Trust" in page and "£14,500.50" in page and "In the register" in page
    avonside = _db.session.scalars(
        sa.select(ProspectFunder).where(ProspectFunder.name == "Avonside Fictional Trust")
    ).one()
    northmoor = _db.session.scalars(
        sa.select(ProspectFunder).where(ProspectFunder.name.like("Northmoor%"))
    ).one()
    refused = client.post(f"/staff/funders/prospecting/{record.id}", data={"prospects": [northmoor.id]})
    assert refused.status_code == 422
    assert client.post(f"/staff/funders/prospecting/{record.id}", data={}).status_code == 422
    added = client.post(f"/staff/funders/prospecting/{record.id}", data={"prospects": [avonside.id]})
    assert added.status_code == 302
    funder = _db.session.scalars(sa.select(Funder).where(Funder.org_id == "GB-CHC-9990101")).one()
    assert (funder.name, funder.funder_type) == ("Avonside Fictional Trust", FunderType.TRUST_OR_FOUNDATION)
    assert (
        client.post(f"/staff/funders/prospecting/{record.id}", data={"prospects": [avonside.id]}).status_code
        == 422
    )


def test_staff_upload_a_csv_file(app, db, client, staff):
    login(client, staff)
    response = upload(client, sample("fictional-grants.csv"), "fictional-grants.csv")
    assert response.status_code == 302
    names = set(_db.session.scalars(sa.select(ProspectFunder.name)))
    assert names == {"Kingsdown Fictional Fund", "Wolds Fictional Giving Ltd"}


def test_a_broken_file_is_refused_with_the_problems_listed_and_nothing_saved(app, db, client, staff):
    login(client, staff)
    response = upload(client, BROKEN.read_bytes(), "broken.json")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<title>Error: " in page and 'href="#grants_file"' in page
    assert "does not follow the 360Giving Data Standard" in page and "Missing: Amount Awarded." in page
    not_json = upload(client, b"{oops", "grants.json")
    assert not_json.status_code == 422 and "not valid JSON" in not_json.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ProspectImport)) == 0


def test_a_file_over_5_mb_is_refused(app, db, client, staff):
    login(client, staff)
    big = json.dumps({"grants": [], "padding": "x" * (prospecting.MAX_FILE_BYTES + 10)}).encode()
    response = upload(client, big, "big.json")
    assert response.status_code == 413
    assert "larger than 5 MB" in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ProspectImport)) == 0
