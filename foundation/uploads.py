"""Uploaded files: checked by their content (not their name), stored outside the static folder.

Used by organisation documents and venue photos. Files live under UPLOAD_FOLDER (default: the instance
folder) with a random name; the original name, cleaned, is kept only to name the download (with the extension of
the type the content really is).

DOCX and ODT are zip archives. Looking inside one is done with limits (entries, inflated sizes, compression
ratio), so a small upload that inflates to gigabytes (a "zip bomb") is refused instead of filling the memory.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from foundation.errors import DomainError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
JPEG = "image/jpeg"
PNG = "image/png"

EXTENSIONS = {PDF: "pdf", DOCX: "docx", ODT: "odt", JPEG: "jpg", PNG: "png"}
LABELS = {PDF: "PDF", DOCX: "Word (DOCX)", ODT: "OpenDocument text (ODT)", JPEG: "JPEG", PNG: "PNG"}

DOCUMENT_TYPES = frozenset({PDF, DOCX, ODT, JPEG, PNG})
IMAGE_TYPES = frozenset({JPEG, PNG})
ZIP_TYPES = frozenset({DOCX, ODT})
ZIP_MAGIC = b"PK\x03\x04"

# What a real word-processor document stays far inside. A DOCX or ODT has tens to a few hundred entries; its XML
# inflates ten or twenty times, its pictures hardly at all.
MAX_ARCHIVE_ENTRIES = 1000
MAX_ARCHIVE_DIRECTORY_BYTES = 256 * 1024  # the central directory, parsed in full before any entry is read
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # one entry, inflated
MAX_ARCHIVE_BYTES = 128 * 1024 * 1024  # every entry, inflated
MAX_COMPRESSION_RATIO = 100
RATIO_GRACE_BYTES = 100 * 1024  # a small entry may compress better than that, harmlessly
INFLATE_CHUNK_BYTES = 64 * 1024
MIMETYPE_READ_BYTES = 256
ARCHIVE_REFUSED_MESSAGE = (
    "This file could not be checked safely: it is packed to expand to far more than a real document would. "
    "Save it again from your word processor and upload that copy."
)


class ArchiveRefused(Exception):
    """A DOCX or ODT (a zip archive) outside the limits: too many entries, or entries that inflate too far."""


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the ones we accept, or None.

    Raises ArchiveRefused for a zip archive that cannot be looked into within the limits above.
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(ZIP_MAGIC):
        try:
            return _zip_document_type(data)
        except (
            zipfile.BadZipFile,  # not a zip, or damaged: an entry's CRC or length does not match its header
            zipfile.LargeZipFile,
            KeyError,
            EOFError,
            OSError,
            RuntimeError,  # an encrypted entry
            ValueError,
            zlib.error,
        ):
            return None
    return None


def _zip_document_type(data: bytes) -> str | None:
    directory = _archive_directory(data)
    if directory is None:
        return None
    entries, directory_bytes = directory
    # Checked from the end-of-archive record before zipfile parses the directory: parsing a directory of a
    # hundred thousand tiny entries would itself take a hundred megabytes.
    if entries > MAX_ARCHIVE_ENTRIES or directory_bytes > MAX_ARCHIVE_DIRECTORY_BYTES:
        raise ArchiveRefused
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ARCHIVE_ENTRIES:
            raise ArchiveRefused
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return None  # encrypted, or packed in a way no word processor packs a document
            declared += info.file_size
            if info.file_size > MAX_ENTRY_BYTES or declared > MAX_ARCHIVE_BYTES or _ratio_too_high(info):
                raise ArchiveRefused
        # Every entry is inflated once, in chunks and counted, so what the headers declare is also what is there
        # (a mismatch is a damaged file, refused); only the start of `mimetype` is kept.
        mimetype = b""
        for info in infos:
            start = _inflate(archive, info, keep=MIMETYPE_READ_BYTES)
            if info.filename == "mimetype":
                mimetype = start
    names = {info.filename for info in infos}
    if "mimetype" in names and mimetype.strip() == ODT.encode():
        return ODT
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return DOCX
    return None


def _archive_directory(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory size) from the end-of-archive record (ZIP64 too), or None if there is none."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        return None
    entries, directory_bytes = struct.unpack("<HI", data[end + 10 : end + 16])
    locator = end - 20
    if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        (record_at,) = struct.unpack("<Q", data[locator + 8 : locator + 16])
        record = data[record_at : record_at + 56]
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            return None
        entries, directory_bytes = struct.unpack("<QQ", record[32:48])
    return entries, directory_bytes


def _ratio_too_high(info: zipfile.ZipInfo) -> bool:
    return info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, keep: int) -> bytes:
    """Inflate one entry a chunk at a time, never past its declared size or the limits; the first `keep` bytes."""
    kept = b""
    size = 0
    with archive.open(info) as entry:
        while chunk := entry.read(INFLATE_CHUNK_BYTES):
            size += len(chunk)
            if size > info.file_size or size > MAX_ENTRY_BYTES:
                raise ArchiveRefused
            if len(kept) < keep:
                kept += chunk[: keep - len(kept)]
    return kept


# Characters a file name must not carry: controls, invisible formatting (a right-to-left override shows
# "invoice\u202efdp.exe" as "invoiceexe.pdf"), line and paragraph separators, surrogates, private and unassigned.
_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
MAX_NAME_CHARS = 120


def clean_filename(name: str | None) -> str:
    """A file name as people see and save it: no folders, no hidden characters, no leading or trailing dots or
    spaces, one space between words, at most MAX_NAME_CHARS characters. May be empty."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch) not in _NOT_IN_NAMES
    )
    return " ".join(name.split())[:MAX_NAME_CHARS].strip(" .")


def download_name(original: str | None, content_type: str) -> str:
    """The name a file is saved under: the uploader's name, cleaned, with the extension of what the content really
    is (an "evil.html" that is a PDF is saved as "evil.pdf", and opens as a PDF)."""
    stem = clean_filename(original)
    base, dot, extension = stem.rpartition(".")
    if dot and base and len(extension) <= 5 and extension.isascii() and extension.isalnum():
        stem = base.rstrip(" .")
    return f"{stem or 'document'}.{EXTENSIONS[content_type]}"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition header (RFC 6266): the UTF-8 name as filename* (RFC 8187) and a plain-ASCII
    fallback as filename for clients that do not read filename*."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = "".join(ch if ch.isalnum() or ch in " ._-()+,&'" else "_" for ch in folded)
    fallback = (" ".join(safe.split()).strip(" ._") or "document") + (f".{extension}" if extension else "")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_filename: str
    content_type: str
    size_bytes: int
    sha256: str


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def store_upload(upload: FileStorage | None, allowed: frozenset[str], folder: str, field: str) -> StoredFile:
    """Validate an uploaded file by content and size, write it under UPLOAD_FOLDER/folder, describe it.

    Raises DomainError on the given form field when the file is missing, empty, too large or of a type not in
    `allowed`; nothing is written then.
    """
    if upload is None or not upload.filename:
        raise DomainError("Choose a file to upload.", field=field)
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = upload.stream.read(limit + 1)
    if not data:
        raise DomainError("The file is empty.", field=field)
    if len(data) > limit:
        raise DomainError(f"The file is larger than the {limit // (1024 * 1024)} MB limit.", field=field)
    if data.startswith(ZIP_MAGIC) and not allowed & ZIP_TYPES:
        content_type = None  # a zip is never a photo: no need to look inside
    else:
        try:
            content_type = sniff(data)
        except ArchiveRefused:
            raise DomainError(ARCHIVE_REFUSED_MESSAGE, field=field) from None
    if content_type not in allowed:
        accepted = ", ".join(sorted(LABELS[t] for t in allowed))
        raise DomainError(f"This file is not one we accept. Upload {accepted}.", field=field)
    return store_bytes(data, folder, upload.filename, content_type)


def store_bytes(data: bytes, folder: str, original: str | None, content_type: str) -> StoredFile:
    """Write checked bytes under UPLOAD_FOLDER/folder with a fresh name, and describe them."""
    stored_name = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    target = upload_root() / folder
    target.mkdir(parents=True, exist_ok=True)
    (target / stored_name).write_bytes(data)
    name = clean_filename(original) or stored_name
    return StoredFile(stored_name, name, content_type, len(data), hashlib.sha256(data).hexdigest())


def simple_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF of a title and a few lines of plain text (demo documents)."""

    def text(value: str) -> str:
        latin = value.encode("latin-1", "replace").decode("latin-1")
        return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 18 Tf 72 760 Td (" + text(title) + ") Tj /F1 11 Tf"
    for line in lines:
        stream += " 0 -20 Td (" + text(line) + ") Tj"
    stream += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def stored_path(folder: str, stored_name: str) -> Path:
    # stored names are generated by store_upload, never taken from a request
    return upload_root() / folder / Path(stored_name).name


def remove_stored(folder: str, stored_name: str) -> None:
    stored_path(folder, stored_name).unlink(missing_ok=True)


def send_stored(path: Path, original_filename: str | None, content_type: str) -> Response:
    """A private stored file as a download: named from the uploader's name with the extension of what it really is
    (both name forms always, from the cleaned name: Werkzeug sends filename* only for non-ASCII names), never
    sniffed by the browser, never kept in a cache."""
    name = download_name(original_filename, content_type)
    response = send_file(
        path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0, conditional=False,
        etag=False,
    )  # fmt: skip
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
