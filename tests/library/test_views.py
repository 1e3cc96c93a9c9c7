"""The library through its pages and forms: what members, staff and the public see, and bad input."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.library import services
from foundation.library.models import LibraryResource, ResourceStatus, ResourceVersion, VersionStatus
from foundation.members.models import User
from foundation.notifications.models import Notification
from foundation.uploads import simple_pdf
from tests.factories import login
from tests.library.factories import make_resource

FORM = {
    "title": "Safeguarding policy template",
    "summary": "A policy for small clubs.",
    "kind": "policy_template",
    "topics": ["safeguarding", "governance"],
    "licence": "cc_by_sa_4",
}


def pdf(name: str = "policy.pdf", title: str = "Policy") -> tuple[io.BytesIO, str]:
    return io.BytesIO(simple_pdf(title, ["Text"])), name


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / services.FOLDER
    return sorted(folder.glob("*")) if folder.exists() else []


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def as_user(client, user: User):
    client.post("/logout")
    login(client, user)
    return client


def test_bad_input_is_shown_at_its_field_with_an_error_summary_and_nothing_written(
    app, db, client, admin, org
):
    login(client, admin)
    empty = client.post("/library/share", data={"organisation": org.id})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert "<title>Error: " in page and 'class="error-summary"' in page
    for anchor in ('href="#title"', 'href="#summary"', 'href="#kind-0"', 'href="#licence-0"'):
        assert anchor in page
    no_topic = client.post(
        "/library/share", data={**FORM, "topics": [], "organisation": org.id, "file": pdf()},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert no_topic.status_code == 422
    assert 'href="#topics-0"' in no_topic.get_data(
        as_text=True
    ) and "Choose at least one topic" in no_topic.get_data(as_text=True)
    bad_link = client.post(
        "/library/share", data={**FORM, "organisation": org.id, "link": "http://example.org/x"}
    )
    assert bad_link.status_code == 422 and 'id="link-error"' in bad_link.get_data(as_text=True)
    assert count(LibraryResource) == 0 and stored_files(app) == []


def test_a_file_pretending_to_be_a_pdf_is_refused_at_the_file_field(app, db, client, admin, org):
    login(client, admin)
    fake = (io.BytesIO(b"<html><script>alert(1)</script></html>"), "policy.pdf")
    refused = client.post(
        "/library/share",
        data={**FORM, "organisation": org.id, "file": fake},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'href="#file"' in page and "This file is not one we accept" in page and 'id="file-error"' in page
    assert count(LibraryResource) == 0 and count(ResourceVersion) == 0 and stored_files(app) == []


def test_share_review_and_read_through_the_pages(app, db, client, admin, org, staff, reader, mailbox):
    login(client, admin)
    shared = client.post(
        "/library/share",
        data={**FORM, "organisation": org.id, "file": pdf()},
        content_type="multipart/form-data",
    )
    assert shared.status_code == 303
    resource = _db.session.scalar(sa.select(LibraryResource))
    assert resource.status is ResourceStatus.PENDING and len(stored_files(app)) == 1
    own = client.get(f"/library/{resource.id}").get_data(as_text=True)
    assert "Waiting for Foundation staff" in own and "Versions" in own
    assert "Safeguarding policy template" in client.get("/library/ours").get_data(as_text=True)

    # Not yet in the list, and other members are told nothing exists.
    as_user(client, reader)
    assert "Safeguarding policy template" not in client.get("/library").get_data(as_text=True)
    assert client.get(f"/library/{resource.id}").status_code == 404
    assert client.get(f"/library/{resource.id}/download").status_code == 404

    as_user(client, staff)
    queue = client.get("/staff/library").get_data(as_text=True)
    assert f"/staff/library/{resource.id}/review" in queue
    no_reason = client.post(f"/staff/library/{resource.id}/review", data={"decision": "reject", "reason": ""})
    assert no_reason.status_code == 422 and 'href="#reason"' in no_reason.get_data(as_text=True)
    assert (
        client.post(f"/staff/library/{resource.id}/review", data={"decision": "approve"}).status_code == 303
    )
    told = _db.session.scalar(sa.select(Notification).where(Notification.user_id == admin.id))
    assert told.subject == "Approved for the library: Safeguarding policy template"
    assert "members of the Foundation can now find it" in told.body_text

    as_user(client, reader)
    listing = client.get("/library?q=SAFEGUARDING&topic=governance").get_data(as_text=True)
    assert f'href="/library/{resource.id}"' in listing
    page = client.get(f"/library/{resource.id}").get_data(as_text=True)
    assert "CC BY-SA 4.0" in page and "Versions" not in page, "the history is the organisation's and staff's"
    download = client.get(f"/library/{resource.id}/download")
    assert download.status_code == 200 and download.get_data().startswith(b"%PDF-")
    assert download.headers["Content-Type"] == "application/pdf"
    _db.session.refresh(resource)
    assert resource.download_count == 1


def test_anonymous_visitors_see_titles_only_and_people_outside_good_standing_cannot_open(
    app, db, client, admin, org, lapsed, outsider
):
    resource = make_resource(org, admin, title="First aid kit checklist", write_files=True)
    listing = client.get("/library")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "First aid kit checklist" in text and f'href="/library/{resource.id}"' not in text
    assert "/login" in client.get(f"/library/{resource.id}").headers.get("Location", "")
    for person in (lapsed, outsider):
        as_user(client, person)
        assert client.get(f"/library/{resource.id}").status_code == 403
        assert client.get(f"/library/{resource.id}/download").status_code == 403
        assert client.get("/library/share").status_code == 403


def test_a_new_version_is_kept_with_the_old_ones_and_history_is_shown(
    app, db, client, admin, org, staff, reader
):
    resource = make_resource(org, admin, title="Trustee pack", write_files=True)
    login(client, admin)
    missing = client.post(f"/library/{resource.id}/replace", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a file to upload" in missing.get_data(as_text=True)
    uploaded = client.post(
        f"/library/{resource.id}/replace",
        data={"file": pdf("trustee-pack-2026.pdf", "Trustee pack 2026"), "note": "New for 2026"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    page = client.get(f"/library/{resource.id}").get_data(as_text=True)
    assert "2: trustee-pack-2026.pdf" in page and "New for 2026" in page and "A new version waits" in page
    old = min(_db.session.get(LibraryResource, resource.id).versions, key=lambda v: v.number)
    assert client.get(f"/library/{resource.id}/versions/{old.id}").status_code == 200
    # Members still get version 1 until staff approve version 2.
    as_user(client, reader)
    assert b"Version 1" in client.get(f"/library/{resource.id}/download").get_data()
    assert client.get(f"/library/{resource.id}/versions/{old.id}").status_code == 404
    as_user(client, staff)
    client.post(f"/staff/library/{resource.id}/review", data={"decision": "approve"})
    as_user(client, reader)
    assert b"Trustee pack 2026" in client.get(f"/library/{resource.id}/download").get_data()
    versions = _db.session.scalars(sa.select(ResourceVersion.status).order_by(ResourceVersion.number)).all()
    assert versions == [VersionStatus.APPROVED, VersionStatus.APPROVED]


def test_admins_change_and_withdraw_and_others_are_refused(app, db, client, admin, org, colleague, staff):
    resource = make_resource(org, admin, title="Funding tips")
    login(client, colleague)
    assert client.get(f"/library/{resource.id}/edit").status_code == 403
    assert client.post(f"/library/{resource.id}/withdraw").status_code == 403
    as_user(client, admin)
    bad = client.post(f"/library/{resource.id}/edit", data={**FORM, "title": ""})
    assert bad.status_code == 422 and 'href="#title"' in bad.get_data(as_text=True)
    assert (
        client.post(f"/library/{resource.id}/edit", data={**FORM, "title": "Better funding tips"}).status_code
        == 303
    )
    assert _db.session.get(LibraryResource, resource.id).title == "Better funding tips"
    assert client.post(f"/library/{resource.id}/withdraw").status_code == 303
    again = client.post(f"/library/{resource.id}/withdraw")
    assert again.status_code == 409 and "cannot be withdrawn" in again.get_data(as_text=True)
    assert _db.session.get(LibraryResource, resource.id).status is ResourceStatus.WITHDRAWN
    as_user(client, staff)
    assert "Better funding tips" not in client.get("/library").get_data(as_text=True)


def test_a_link_resource_opens_its_link_and_counts(app, db, client, admin, org, reader):
    resource = make_resource(org, admin, link="https://www.gov.uk/guidance/safe")
    login(client, reader)
    opened = client.get(f"/library/{resource.id}/download")
    assert opened.status_code == 303 and opened.headers["Location"] == "https://www.gov.uk/guidance/safe"
    _db.session.refresh(resource)
    assert resource.download_count == 1


def test_a_bad_filter_answers_400_with_the_message_at_its_field(app, db, client):
    bad = client.get("/library?topic=astrology&q=" + "x" * 101)
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'id="topic-error"' in page and 'id="q-error"' in page and "<title>Error: " in page
    assert client.get("/library?page=999").status_code == 200


def test_the_export_lists_what_a_person_shared(app, db, client, admin, org):
    make_resource(org, admin, title="Exported guide")
    _db.session.commit()
    login(client, admin)
    data = client.get("/account/privacy/export").get_json() or {}
    assert [r["title"] for r in data["library"]["resources_shared"]] == ["Exported guide"]


def test_staff_see_what_waits_on_their_dashboard_and_in_the_navigation(app, db, client, admin, org, staff):
    make_resource(org, admin, ResourceStatus.PENDING, title="Waiting session plan")
    login(client, staff)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Library resources waiting for review" in page and "Waiting session plan" in page
    assert 'aria-label="1 waiting">1</span>' in client.get("/library").get_data(as_text=True)
