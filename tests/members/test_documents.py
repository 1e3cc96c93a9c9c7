"""Organisation documents through the real upload form: accepted types, refusals, limits, who may download."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.members.documents import london_today
from foundation.members.models import DocumentKind, MemberRole, OrganisationDocument, OrganisationStatus
from tests.factories import add_member, login, make_org, make_user

MB = 1024 * 1024

# --- real, minimal files ----------------------------------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # one scanline: no filter, a white pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    """A baseline 8x8 grey JPEG: one Huffman code each for 'DC difference 0' and 'end of block'."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    sof = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"
    dht = b"\xff\xc4\x00\x14\x00" + one_code + b"\xff\xc4\x00\x14\x10" + one_code
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + dqt + sof + dht + sos + b"\x3f" + b"\xff\xd9"


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/'
            'word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Safeguarding policy</w:t></w:r></w:p></w:body>'
            "</w:document>",
        )
    return buf.getvalue()


def odt_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # The mimetype entry comes first and uncompressed, as the OpenDocument packaging rules ask.
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        z.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
            'opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            "<office:body><office:text><text:p>Constitution</text:p></office:text></office:body>"
            "</office:document-content>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return buf.getvalue()


# --- helpers ----------------------------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    return make_user(email="admin@example.org", name="Alex Admin")


@pytest.fixture
def org(admin):
    return make_org(admin, status=OrganisationStatus.PENDING, name="Calne Youth Club", documents=False)


@pytest.fixture
def stored_files(app_config):
    root = Path(app_config["UPLOAD_FOLDER"])

    def files() -> list[Path]:
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files


def upload(client, org_id, kind, data, filename, valid_until=None):
    form = {"kind": kind.value, "file": (io.BytesIO(data), filename)}
    if valid_until is not None:
        form["valid_until"] = valid_until if isinstance(valid_until, str) else valid_until.isoformat()
    return client.post(f"/organisations/{org_id}/documents", data=form, content_type="multipart/form-data")


def documents(db):
    return db.session.scalars(sa.select(OrganisationDocument).order_by(OrganisationDocument.id)).all()


def next_year() -> date:
    return london_today() + timedelta(days=365)


# --- accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "make", "filename", "content_type"),
    [
        (DocumentKind.SAFEGUARDING_POLICY, lambda: PDF, "Safeguarding Policy 2026.pdf", "application/pdf"),
        (DocumentKind.INSURANCE, png_bytes, "insurance-certificate.png", "image/png"),
        (DocumentKind.INSURANCE, jpeg_bytes, "certificate photo.jpg", "image/jpeg"),
        (
            DocumentKind.SAFEGUARDING_POLICY,
            docx_bytes,
            "policy.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            DocumentKind.GOVERNING_DOCUMENT,
            odt_bytes,
            "constitution.odt",
            "application/vnd.oasis.opendocument.text",
        ),
    ],
    ids=["pdf", "png", "jpeg", "docx", "odt"],
)
def test_admin_uploads_a_real_file_of_each_accepted_type(
    client, db, admin, org, stored_files, kind, make, filename, content_type
):
    data = make()
    login(client, admin)
    until = None if kind is DocumentKind.GOVERNING_DOCUMENT else next_year()

    resp = upload(client, org.id, kind, data, filename, until)

    assert resp.status_code == 303
    assert resp.location.endswith(f"/organisations/{org.id}#documents")
    [doc] = documents(db)
    assert (doc.kind, doc.content_type, doc.original_filename) == (kind, content_type, filename)
    assert doc.valid_until == until and doc.size_bytes == len(data) and doc.uploaded_by_id == admin.id
    [path] = stored_files()
    assert path.read_bytes() == data and path.name == doc.stored_name
    assert "static" not in path.parts
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert f"{kind.label} uploaded" in page and filename in page


def test_upload_keeps_older_versions_as_history_and_the_newest_is_current(client, db, admin, org):
    login(client, admin)
    soon = london_today() + timedelta(days=10)
    assert upload(client, org.id, DocumentKind.INSURANCE, PDF, "insurance-2025.pdf", soon).status_code == 303
    assert (
        upload(client, org.id, DocumentKind.INSURANCE, PDF, "insurance-2026.pdf", next_year()).status_code
        == 303
    )

    db.session.expire_all()
    assert org.current_document(DocumentKind.INSURANCE).original_filename == "insurance-2026.pdf"
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Earlier versions (1)" in page and "insurance-2025.pdf" in page


def test_governing_document_needs_no_date_and_ignores_one_sent(client, db, admin, org):
    login(client, admin)
    resp = upload(client, org.id, DocumentKind.GOVERNING_DOCUMENT, PDF, "constitution.pdf", "2001-01-01")
    assert resp.status_code == 303
    [doc] = documents(db)
    assert doc.valid_until is None


def test_organisation_page_warns_of_documents_about_to_expire(client, db, admin, org):
    from tests.factories import add_document

    add_document(org, DocumentKind.INSURANCE, london_today() + timedelta(days=12))
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, london_today() - timedelta(days=3))
    login(client, admin)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Expires in 12 days" in page
    assert "Review overdue" in page
    assert "was due for review" in page  # the standing panel says why


# --- refused ----------------------------------------------------------------------------------------------------


def test_a_pdf_name_with_other_content_is_refused_at_the_field(client, db, admin, org, stored_files):
    login(client, admin)
    resp = upload(
        client,
        org.id,
        DocumentKind.SAFEGUARDING_POLICY,
        b"MZ\x90\x00 not a pdf at all",
        "policy.pdf",
        next_year(),
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="doc-safeguarding_policy-file-error"' in page
    assert "This file is not one we accept." in page
    assert documents(db) == [] and stored_files() == []
    # The problem is named at the top of the page (the form itself is far down), linked to the file input.
    summary = page[page.index('class="error-summary"') : page.index('id="documents"')]
    assert page.index('class="error-summary"') < page.index("<h2>Details</h2>")
    assert '<a href="#doc-safeguarding_policy-file">This file is not one we accept.' in summary
    assert "<title>Error: " in page


def test_a_docx_name_on_a_plain_zip_is_refused(client, db, admin, org, stored_files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    login(client, admin)
    resp = upload(client, org.id, DocumentKind.GOVERNING_DOCUMENT, buf.getvalue(), "constitution.docx")
    assert resp.status_code == 422
    assert "This file is not one we accept." in resp.get_data(as_text=True)
    assert documents(db) == [] and stored_files() == []


def test_a_file_one_byte_over_10_mb_is_413_with_the_message_at_the_field(
    client, db, admin, org, stored_files
):
    login(client, admin)
    data = PDF + b"0" * (10 * MB + 1 - len(PDF))
    resp = upload(client, org.id, DocumentKind.SAFEGUARDING_POLICY, data, "big.pdf", next_year())
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert 'id="doc-safeguarding_policy-file-error"' in page
    assert "larger than the 10 MB limit" in page
    assert documents(db) == [] and stored_files() == []


def test_a_file_of_exactly_10_mb_is_accepted(client, db, admin, org, stored_files):
    login(client, admin)
    data = PDF + b"0" * (10 * MB - len(PDF))
    resp = upload(client, org.id, DocumentKind.SAFEGUARDING_POLICY, data, "big.pdf", next_year())
    assert resp.status_code == 303
    assert documents(db)[0].size_bytes == 10 * MB


def test_a_request_body_over_the_limit_is_413(app, client, db, admin, org, stored_files):
    login(client, admin)
    data = PDF + b"0" * app.config["MAX_CONTENT_LENGTH"]
    resp = upload(client, org.id, DocumentKind.SAFEGUARDING_POLICY, data, "huge.pdf", next_year())
    assert resp.status_code == 413
    assert "File too large" in resp.get_data(as_text=True)
    assert documents(db) == [] and stored_files() == []


@pytest.mark.parametrize(
    ("kind", "valid_until", "message"),
    [
        (DocumentKind.INSURANCE, None, "Enter the expiry date of the public liability insurance."),
        (DocumentKind.SAFEGUARDING_POLICY, "", "Enter the next review date of the safeguarding policy."),
        (DocumentKind.INSURANCE, "yesterday", "The expiry date is in the past."),
        (DocumentKind.INSURANCE, "31/02/2027", "Not a valid date value."),
    ],
)
def test_a_dated_document_needs_a_date_not_in_the_past(
    client, db, admin, org, stored_files, kind, valid_until, message
):
    if valid_until == "yesterday":
        valid_until = london_today() - timedelta(days=1)
    login(client, admin)
    resp = upload(client, org.id, kind, PDF, "doc.pdf", valid_until)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert f'id="doc-{kind.value}-valid_until-error"' in page and message in page
    assert documents(db) == [] and stored_files() == []


def test_no_file_chosen_is_422(client, db, admin, org):
    login(client, admin)
    resp = client.post(
        f"/organisations/{org.id}/documents",
        data={"kind": "insurance", "valid_until": next_year().isoformat()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "Choose a file to upload." in resp.get_data(as_text=True)


def test_an_unknown_kind_is_422(client, db, admin, org, stored_files):
    login(client, admin)
    resp = client.post(
        f"/organisations/{org.id}/documents",
        data={"kind": "bank_statement", "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "Not a valid choice" in resp.get_data(as_text=True)
    assert documents(db) == [] and stored_files() == []


# --- who may upload ---------------------------------------------------------------------------------------------


def test_a_plain_member_sees_documents_but_cannot_upload(client, db, org, stored_files):
    member = make_user()
    add_member(org, member, MemberRole.MEMBER)
    login(client, member)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Documents" in page and 'enctype="multipart/form-data"' not in page
    assert upload(client, org.id, DocumentKind.INSURANCE, PDF, "x.pdf", next_year()).status_code == 403
    assert documents(db) == [] and stored_files() == []


def test_another_organisations_admin_cannot_upload(client, db, org, stored_files):
    outsider = make_user()
    make_org(outsider, documents=False)
    login(client, outsider)
    assert upload(client, org.id, DocumentKind.INSURANCE, PDF, "x.pdf", next_year()).status_code == 404
    assert documents(db) == [] and stored_files() == []


def test_anonymous_upload_is_sent_to_sign_in(client, db, org, stored_files):
    resp = upload(client, org.id, DocumentKind.INSURANCE, PDF, "x.pdf", next_year())
    assert resp.status_code == 302 and "/login" in resp.location
    assert documents(db) == [] and stored_files() == []


# --- who may download -------------------------------------------------------------------------------------------


@pytest.fixture
def uploaded(client, db, admin, org):
    login(client, admin)
    assert (
        upload(client, org.id, DocumentKind.INSURANCE, PDF, "Insurance 2026.pdf", next_year()).status_code
        == 303
    )
    client.post("/logout")
    [doc] = documents(db)
    return doc


def download(client, doc):
    return client.get(f"/organisations/{doc.organisation_id}/documents/{doc.id}")


def assert_is_the_file(resp) -> None:
    assert resp.status_code == 200
    assert resp.data == PDF
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "Insurance 2026.pdf" in resp.headers["Content-Disposition"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in resp.headers["Cache-Control"]


def test_the_organisations_admin_and_members_can_download(client, db, admin, org, uploaded):
    login(client, admin)
    assert_is_the_file(download(client, uploaded))
    client.post("/logout")
    member = make_user()
    add_member(org, member)
    login(client, member)
    assert_is_the_file(download(client, uploaded))


def test_staff_can_download(client, db, uploaded):
    staff = make_user(staff=True)
    login(client, staff)
    assert_is_the_file(download(client, uploaded))


def test_another_organisations_admin_gets_404(client, db, uploaded):
    outsider = make_user()
    other = make_org(outsider, documents=False)
    login(client, outsider)
    assert download(client, uploaded).status_code == 404
    # Nor through their own organisation's address.
    assert client.get(f"/organisations/{other.id}/documents/{uploaded.id}").status_code == 404


def test_anonymous_download_is_sent_to_sign_in(client, db, uploaded):
    resp = download(client, uploaded)
    assert resp.status_code == 302 and "/login" in resp.location


def test_a_document_whose_file_is_gone_is_404_not_500(client, db, admin, uploaded, stored_files):
    stored_files()[0].unlink()
    login(client, admin)
    assert download(client, uploaded).status_code == 404
