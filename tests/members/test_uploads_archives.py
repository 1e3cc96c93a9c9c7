"""DOCX and ODT uploads are zip archives: looking inside one stays small whatever the archive claims or holds.

The archives are built here with zipfile: a "zip bomb" (a few hundred kilobytes that inflate to 300 MB), one whose
headers understate what it holds, one with too many entries, one that compresses far beyond a real document.
"""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from foundation import uploads
from foundation.errors import DomainError
from foundation.members.models import DocumentKind, OrganisationDocument, OrganisationStatus
from foundation.types import london_today
from tests.factories import login, make_org, make_user
from tests.members.test_documents import docx_bytes, odt_bytes

MB = 1024 * 1024
# Looking inside an archive may hold a few chunks and the parsed directory, never the inflated content.
PEAK_LIMIT = 4 * MB
ODT_TYPE = b"application/vnd.oasis.opendocument.text"


def zip_bomb(inflated_mb: int = 300) -> bytes:
    """An ODT-shaped archive whose `mimetype` entry inflates to `inflated_mb` megabytes of zeros."""
    buf = io.BytesIO()
    zeros = bytes(MB)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("mimetype", "w") as entry:
            entry.write(ODT_TYPE)
            for _ in range(inflated_mb):
                entry.write(zeros)
        z.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


def understated_bomb() -> bytes:
    """The same bomb, its headers patched to declare a 39-byte `mimetype`: only reading finds out."""
    data = bytearray(zip_bomb(64))
    declared = len(ODT_TYPE)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("mimetype")
    # The uncompressed size is at offset 22 of the local header and 24 of the entry in the central directory,
    # whose first entry (`mimetype`, written first) starts where the end-of-archive record says.
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    (directory_at,) = struct.unpack_from("<I", data, len(data) - 22 + 16)
    assert data[directory_at : directory_at + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, directory_at + 24, declared)
    return bytes(data)


def many_entries(count: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for n in range(count - 2):
            z.writestr(f"word/media/{n}.txt", "")
    return buf.getvalue()


def over_compressed_docx() -> bytes:
    """A DOCX whose document.xml is 5 MB compressing about a thousand times: far beyond real text."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:p/>" + bytes(5 * MB))
    return buf.getvalue()


def peak_while(check: Callable[[], object]) -> tuple[object, int]:
    """What `check` returned or raised, and the most memory it held at once (Python allocations)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            outcome: object = check()
        except Exception as exc:  # noqa: BLE001  (the outcome is asserted by the caller)
            outcome = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


def stored(app, data: bytes, filename: str, allowed=uploads.DOCUMENT_TYPES):
    return uploads.store_upload(FileStorage(io.BytesIO(data), filename), allowed, "documents", "file")


# --- the check itself: refused, in bounded memory -------------------------------------------------------------------


def test_a_zip_bomb_is_refused_without_inflating_it(app):
    bomb = zip_bomb()
    assert len(bomb) < 400 * 1024  # a few hundred kilobytes on the wire

    outcome, peak = peak_while(lambda: stored(app, bomb, "constitution.odt"))

    assert isinstance(outcome, DomainError), outcome
    assert outcome.field == "file" and outcome.message == uploads.ARCHIVE_REFUSED_MESSAGE
    assert peak < PEAK_LIMIT, f"peak {peak / MB:.1f} MB"


def test_headers_that_understate_an_entry_do_not_let_it_inflate(app):
    bomb = understated_bomb()
    outcome, peak = peak_while(lambda: uploads.sniff(bomb))
    assert outcome is None  # damaged: what is there is not what the headers say
    assert peak < PEAK_LIMIT, f"peak {peak / MB:.1f} MB"


@pytest.mark.parametrize(
    "make",
    [lambda: many_entries(uploads.MAX_ARCHIVE_ENTRIES + 1), over_compressed_docx],
    ids=["too-many-entries", "compression-ratio"],
)
def test_archives_no_word_processor_writes_are_refused(app, make):
    data = make()
    outcome, peak = peak_while(lambda: uploads.sniff(data))
    assert isinstance(outcome, uploads.ArchiveRefused), outcome
    assert peak < PEAK_LIMIT


def test_a_directory_of_a_hundred_thousand_entries_is_refused_before_it_is_parsed(app):
    data = many_entries(100_000)
    outcome, peak = peak_while(lambda: uploads.sniff(data))
    assert isinstance(outcome, uploads.ArchiveRefused), outcome
    assert peak < PEAK_LIMIT, f"peak {peak / MB:.1f} MB"


def test_real_documents_at_the_edges_are_still_recognised(app):
    assert uploads.sniff(docx_bytes()) == uploads.DOCX
    assert uploads.sniff(odt_bytes()) == uploads.ODT
    assert uploads.sniff(many_entries(uploads.MAX_ARCHIVE_ENTRIES)) == uploads.DOCX
    # pictures hardly compress: a DOCX carrying 8 MB of them is an ordinary document
    buf = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/media/image1.png", random.Random(1).randbytes(8 * MB))
    assert uploads.sniff(buf.getvalue()) == uploads.DOCX


def test_a_bomb_sent_as_a_photo_is_simply_not_an_image(app):
    with pytest.raises(DomainError, match="This file is not one we accept"):
        stored(app, zip_bomb(8), "hall.jpg", uploads.IMAGE_TYPES)


# --- through the upload form ----------------------------------------------------------------------------------------


def test_uploading_a_zip_bomb_answers_422_at_the_field_and_stores_nothing(client, db, app_config):
    admin = make_user()
    org = make_org(admin, status=OrganisationStatus.PENDING, documents=False)
    login(client, admin)

    resp = client.post(
        f"/organisations/{org.id}/documents",
        data={
            "kind": DocumentKind.GOVERNING_DOCUMENT.value,
            "file": (io.BytesIO(zip_bomb()), "constitution.odt"),
        },
        content_type="multipart/form-data",
    )

    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="doc-governing_document-file-error"' in page
    assert "could not be checked safely" in page and "Save it again from your word processor" in page
    assert db.session.scalars(sa.select(OrganisationDocument)).all() == []
    root = Path(app_config["UPLOAD_FOLDER"])
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_an_insurance_docx_still_uploads(client, db):
    admin = make_user()
    org = make_org(admin, status=OrganisationStatus.PENDING, documents=False)
    login(client, admin)
    resp = client.post(
        f"/organisations/{org.id}/documents",
        data={"kind": DocumentKind.INSURANCE.value, "file": (io.BytesIO(docx_bytes()), "insurance.docx"),
              "valid_until": (london_today() + timedelta(days=200)).isoformat()},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert resp.status_code == 303
