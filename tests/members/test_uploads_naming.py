"""Downloads are named for what the file really is, from a cleaned name: never by what the uploader claimed.

An "evil.html" that is a PDF is saved as "evil.pdf"; a right-to-left override, a folder or a quote in the name does
not reach the Content-Disposition header, which carries a UTF-8 filename* and a plain-ASCII filename (RFC 6266).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from foundation import uploads
from foundation.members.models import DocumentKind, OrganisationDocument, OrganisationStatus
from foundation.types import london_today
from foundation.venues.models import VenuePhoto
from tests.factories import add_member, login, make_org, make_user
from tests.members.test_documents import PDF, png_bytes
from tests.venues.factories import make_venue

RLO = "\u202e"


def disposition_names(header: str) -> tuple[str, str]:
    """(filename, decoded filename*) of a Content-Disposition header, asserting both are there."""
    plain = re.search(r'filename="([^"\\]*)"', header)
    encoded = re.search(r"filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+)$", header)
    assert plain and encoded, header
    return plain.group(1), unquote(encoded.group(1), errors="strict")


# --- the naming rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "content_type", "expected"),
    [
        ("Insurance 2026.pdf", uploads.PDF, "Insurance 2026.pdf"),
        ("evil.html", uploads.PDF, "evil.pdf"),
        ("photo.jpeg", uploads.JPEG, "photo.jpg"),
        (f"invoice{RLO}fdp.exe", uploads.PDF, "invoicefdp.pdf"),
        ("..\\..\\Windows\\System32\\policy.docx", uploads.DOCX, "policy.docx"),
        ("../../etc/passwd", uploads.PDF, "passwd.pdf"),
        ("line\r\nbreak\tand\x00nul.pdf", uploads.PDF, "linebreakandnul.pdf"),
        ("zero\u200bwidth  spaces .pdf", uploads.PDF, "zerowidth spaces.pdf"),
        ("...", uploads.PNG, "document.png"),
        ("", uploads.ODT, "document.odt"),
        ("Politique de sécurité.odt", uploads.ODT, "Politique de sécurité.odt"),
        ("v2.final draft.pdf", uploads.PDF, "v2.final draft.pdf"),
    ],
)
def test_download_name(original, content_type, expected):
    assert uploads.download_name(original, content_type) == expected


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Insurance 2026.pdf", "Insurance 2026.pdf"),
        ("Politique de sécurité.odt", "Politique de securite.odt"),
        ('my "best" policy.pdf', "my _best_ policy.pdf"),
        ("back\\slash.pdf", "back_slash.pdf"),
        ("保险单.pdf", "document.pdf"),
        ("semi;colon=1.pdf", "semi_colon_1.pdf"),
    ],
)
def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name(name, fallback):
    header = uploads.content_disposition(name)
    assert header.startswith("attachment; ")
    assert header.isascii()
    assert disposition_names(header) == (fallback, name)


# --- organisation documents -----------------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    return make_user()


@pytest.fixture
def org(admin):
    return make_org(admin, status=OrganisationStatus.PENDING, documents=False)


def upload(client, org, data: bytes, filename: str):
    return client.post(
        f"/organisations/{org.id}/documents",
        data={
            "kind": DocumentKind.INSURANCE.value,
            "file": (io.BytesIO(data), filename),
            "valid_until": (london_today() + timedelta(days=200)).isoformat(),
        },
        content_type="multipart/form-data",
    )


def only_document(db) -> OrganisationDocument:
    [doc] = db.session.scalars(sa.select(OrganisationDocument)).all()
    return doc


def download(client, doc):
    return client.get(f"/organisations/{doc.organisation_id}/documents/{doc.id}")


def test_an_html_name_on_a_pdf_downloads_as_a_pdf(client, db, admin, org):
    login(client, admin)
    assert upload(client, org, PDF, "evil.html").status_code == 303
    doc = only_document(db)

    resp = download(client, doc)

    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    header = resp.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    assert disposition_names(header) == ("evil.pdf", "evil.pdf")


def test_a_right_to_left_override_is_dropped_on_upload_and_never_sent(client, db, admin, org):
    login(client, admin)
    assert upload(client, org, PDF, f"safeguarding{RLO}fdp.exe").status_code == 303
    doc = only_document(db)
    assert doc.original_filename == "safeguardingfdp.exe"  # what the organisation page shows
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert RLO not in page

    header = download(client, doc).headers["Content-Disposition"]

    assert disposition_names(header) == ("safeguardingfdp.pdf", "safeguardingfdp.pdf")
    assert "%E2%80%AE" not in header


def test_a_name_stored_before_cleaning_is_cleaned_on_the_way_out(client, db, admin, org):
    login(client, admin)
    assert upload(client, org, PDF, "policy.pdf").status_code == 303
    doc = only_document(db)
    doc.original_filename = f'..\\..\\"Policy"{RLO}lmth.pdf\r\n'
    db.session.commit()
    member = make_user()
    add_member(org, member)
    login(client, member)

    header = download(client, doc).headers["Content-Disposition"]

    assert disposition_names(header) == ("Policy_lmth.pdf", '"Policy"lmth.pdf')
    assert "\r" not in header and "\n" not in header


def test_a_non_ascii_name_keeps_its_letters_in_filename_star(client, db, admin, org):
    login(client, admin)
    assert upload(client, org, PDF, "Assurance responsabilité civile.pdf").status_code == 303

    header = download(client, only_document(db)).headers["Content-Disposition"]

    assert disposition_names(header) == (
        "Assurance responsabilite civile.pdf",
        "Assurance responsabilité civile.pdf",
    )


# --- venue photos ---------------------------------------------------------------------------------------------------


def test_a_venue_photo_is_shown_inline_and_saved_under_a_name_for_its_type(client, db, admin, org):
    venue = make_venue(org)
    photo = VenuePhoto(venue_id=venue.id, stored_name="abc123.png", content_type=uploads.PNG, caption="Hall")
    db.session.add(photo)
    db.session.flush()
    path = uploads.stored_path("venue-photos", photo.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes())

    resp = client.get(f"/venues/{venue.id}/photos/{photo.id}")

    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    header = resp.headers["Content-Disposition"]
    assert header.startswith("inline; ")
    expected = f"venue-{venue.id}-photo-{photo.id}.png"
    assert disposition_names(header) == (expected, expected)
