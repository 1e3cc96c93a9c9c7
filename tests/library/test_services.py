"""The library's rules, called directly: sharing, review, versions, withdrawal, search and download counts."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.errors import DomainError, IllegalTransition, NotAllowed
from foundation.library import services
from foundation.library.models import (
    DecisionAction,
    LibraryDecision,
    LibraryResource,
    ResourceKind,
    ResourceStatus,
    ResourceVersion,
    Topic,
    VersionStatus,
)
from foundation.members.models import Organisation
from foundation.notifications.models import Notification
from tests.library.factories import details, fake_pdf, make_resource, pdf_upload

pytestmark = pytest.mark.usefixtures("request_context")


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / services.FOLDER
    return sorted(folder.glob("*")) if folder.exists() else []


def messages_to(db, user) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.subject).where(Notification.user_id == user.id)))


# --- sharing ------------------------------------------------------------------------------------------------


def test_a_shared_file_waits_for_staff_who_are_told(app, db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    db.session.commit()
    assert resource.status is ResourceStatus.PENDING
    [version] = resource.versions
    assert (version.number, version.status, version.content_type) == (
        1,
        VersionStatus.WAITING,
        "application/pdf",
    )
    assert version.original_filename == "guide.pdf" and len(stored_files(app)) == 1
    assert messages_to(db, staff) == ["Library resource shared: Safeguarding policy template"]


def test_any_member_of_an_organisation_in_good_standing_may_share_a_link(app, db, colleague, org):
    resource = services.submit(details(link="https://www.gov.uk/guidance"), None, colleague, org)
    assert resource.link == "https://www.gov.uk/guidance" and resource.versions == []


@pytest.mark.parametrize(
    ("changes", "upload", "field", "message"),
    [
        ({"title": "   "}, "pdf", "title", "Enter a title."),
        ({"title": "x" * 201}, "pdf", "title", "200 characters"),
        ({"summary": ""}, "pdf", "summary", "what the resource is"),
        ({"topics": []}, "pdf", "topics", "at least one topic"),
        ({}, None, "file", "Upload the file, or give a link"),
        ({"link": "https://example.org/x"}, "pdf", "file", "not both"),
        ({"link": "http://example.org/x"}, None, "link", "starting https://"),
        ({"link": "https://localhost/x"}, None, "link", "starting https://"),
        ({}, "fake", "file", "not one we accept"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    app, db, admin, org, changes, upload, field, message
):
    file = {"pdf": pdf_upload(), "fake": fake_pdf(), None: None}[upload]
    with pytest.raises(DomainError) as refused:
        services.submit(details(**changes), file, admin, org)
    db.session.rollback()
    assert refused.value.field == field and message in refused.value.message
    assert count(db, LibraryResource) == 0 and count(db, ResourceVersion) == 0
    assert stored_files(app) == []


def test_a_file_pretending_to_be_a_pdf_is_refused_like_an_organisation_document(app, db, admin, org):
    from foundation.members import documents
    from foundation.members.models import DocumentKind

    with pytest.raises(DomainError) as as_document:
        documents.upload_document(org, admin, DocumentKind.GOVERNING_DOCUMENT, fake_pdf("evil.pdf"), None)
    with pytest.raises(DomainError) as as_resource:
        services.submit(details(), fake_pdf("evil.pdf"), admin, org)
    assert as_resource.value.message == as_document.value.message
    assert as_resource.value.message.startswith("This file is not one we accept.")
    assert as_resource.value.field == as_document.value.field == "file"


def test_only_members_of_an_organisation_in_good_standing_share(db, admin, org, lapsed, reader):
    lapsed_org = db.session.get(Organisation, lapsed.memberships[0].organisation_id)
    with pytest.raises(NotAllowed, match="not in good standing"):
        services.submit(details(), pdf_upload(), lapsed, lapsed_org)
    with pytest.raises(NotAllowed, match="one of your own organisations"):
        services.submit(details(), pdf_upload(), reader, org)


# --- review -------------------------------------------------------------------------------------------------


def test_staff_approve_recording_who_and_when_and_the_sharer_is_told(db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    services.approve(resource, staff)
    db.session.commit()
    assert resource.status is ResourceStatus.APPROVED and resource.approved_at is not None
    assert resource.public_version is not None and resource.public_version.number == 1
    [decision] = db.session.scalars(sa.select(LibraryDecision)).all()
    assert (decision.action, decision.decided_by_id, decision.reason) == (
        DecisionAction.APPROVE,
        staff.id,
        None,
    )
    assert decision.decided_at is not None
    assert "Approved for the library: Safeguarding policy template" in messages_to(db, admin)


def test_only_staff_decide_and_a_decided_resource_cannot_be_approved_again(db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    with pytest.raises(NotAllowed):
        services.approve(resource, admin)
    with pytest.raises(NotAllowed):
        services.reject(resource, admin, "No")
    services.approve(resource, staff)
    with pytest.raises(IllegalTransition):
        services.approve(resource, staff)


def test_rejecting_needs_a_reason_which_the_sharer_reads(db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    with pytest.raises(DomainError, match="Say why") as refused:
        services.reject(resource, staff, "  ")
    assert refused.value.field == "reason"
    services.reject(resource, staff, "It names a child: please remove the name.")
    db.session.commit()
    assert resource.status is ResourceStatus.REJECTED
    assert resource.decisions[0].reason == "It names a child: please remove the name."
    assert "Not approved for the library: Safeguarding policy template" in messages_to(db, admin)
    # Changing a rejected resource sends it to staff again.
    services.update_details(resource, details(title="Safeguarding policy (no names)"), admin)
    assert resource.status is ResourceStatus.PENDING and resource in services.review_queue()


# --- versions -----------------------------------------------------------------------------------------------


def test_a_new_file_for_an_approved_resource_waits_while_members_keep_the_old_one(app, db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    services.approve(resource, staff)
    second = services.replace_file(resource, pdf_upload("v2", "guide-2026.pdf"), "Updated for 2026", admin)
    db.session.commit()
    assert second.number == 2 and second.status is VersionStatus.WAITING and second.note == "Updated for 2026"
    assert resource.status is ResourceStatus.APPROVED and resource.public_version.number == 1
    assert services.needs_review(resource) and resource in services.review_queue()
    assert services.waiting_count() == 1
    services.approve(resource, staff)
    assert resource.public_version is second and [v.number for v in resource.versions] == [2, 1]
    assert len(stored_files(app)) == 2, "the old version is kept"
    assert not services.needs_review(resource)


def test_a_rejected_new_version_leaves_the_approved_one_in_place(db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    services.approve(resource, staff)
    second = services.replace_file(resource, pdf_upload(), "", admin)
    services.reject(resource, staff, "The new file is the wrong document.")
    assert second.status is VersionStatus.REJECTED and resource.status is ResourceStatus.APPROVED
    assert resource.public_version.number == 1 and resource.decisions[0].version_id == second.id


def test_only_the_organisations_admins_change_replace_or_withdraw(db, admin, org, colleague, reader, staff):
    resource = services.submit(details(), pdf_upload(), colleague, org)
    for person in (colleague, reader, staff):
        with pytest.raises(NotAllowed):
            services.update_details(resource, details(title="Mine now"), person)
        with pytest.raises(NotAllowed):
            services.replace_file(resource, pdf_upload(), "", person)
    for person in (colleague, reader):
        with pytest.raises(NotAllowed):
            services.withdraw(resource, person)
    services.update_details(resource, details(title="Better title", topics=[Topic.GOVERNANCE]), admin)
    assert resource.title == "Better title" and resource.topics == [Topic.GOVERNANCE]


def test_a_link_has_no_file_to_replace_and_keeps_its_address_once_approved(db, admin, org, staff):
    resource = services.submit(details(link="https://example.org/a"), None, admin, org)
    with pytest.raises(DomainError, match="no file to replace"):
        services.replace_file(resource, pdf_upload(), "", admin)
    services.approve(resource, staff)
    with pytest.raises(DomainError, match="cannot be changed") as refused:
        services.update_details(resource, details(link="https://example.org/b"), admin)
    assert refused.value.field == "link"


def test_withdrawn_by_its_admins_or_staff_for_good(db, admin, org, staff):
    resource = services.submit(details(), pdf_upload(), admin, org)
    services.approve(resource, staff)
    services.withdraw(resource, admin)
    assert resource.status is ResourceStatus.WITHDRAWN
    assert (
        resource.decisions[0].action is DecisionAction.WITHDRAW and resource.decisions[0].decided_by is admin
    )
    with pytest.raises(IllegalTransition):
        services.withdraw(resource, staff)
    with pytest.raises(IllegalTransition):
        services.replace_file(resource, pdf_upload(), "", admin)
    with pytest.raises(IllegalTransition):
        services.update_details(resource, details(), admin)


# --- reading ------------------------------------------------------------------------------------------------


def test_who_reads_the_library(db, admin, org, colleague, reader, lapsed, outsider, staff):
    from flask_login import AnonymousUserMixin

    assert services.can_read(admin) and services.can_read(colleague) and services.can_read(reader)
    assert services.can_read(staff)
    assert not services.can_read(lapsed) and not services.can_read(outsider)
    assert not services.can_read(AnonymousUserMixin())
    pending = make_resource(org, admin, ResourceStatus.PENDING)
    assert services.can_see(colleague, pending, reader=True) and services.can_see(staff, pending, reader=True)
    assert not services.can_see(reader, pending, reader=True)
    assert services.can_see_old_versions(colleague, pending) and not services.can_see_old_versions(
        reader, pending
    )


def test_search_finds_approved_resources_by_words_in_any_case_topic_and_kind(db, admin, org):
    first_aid = make_resource(
        org,
        admin,
        title="First Aid Kit Checklist",
        topics=(Topic.FIRST_AID,),
        kind=ResourceKind.POLICY_TEMPLATE,
    )
    forum = make_resource(
        org,
        admin,
        title="Youth forum guide",
        summary="Running a FORUM that lasts.",
        topics=(Topic.YOUTH_VOICE,),
    )
    make_resource(
        org, admin, ResourceStatus.PENDING, title="Waiting first aid guide", topics=(Topic.FIRST_AID,)
    )
    make_resource(
        org, admin, ResourceStatus.WITHDRAWN, title="Old first aid guide", topics=(Topic.FIRST_AID,)
    )

    def found(**chosen) -> list[int]:
        return [r.id for r in services.search(1, services.LibraryFilter(**chosen)).items]

    assert found(text="first AID") == [first_aid.id]
    assert found(text="forum") == [forum.id], "the summary is searched too"
    assert found(text="kit forum") == [], "every word must match"
    assert found(topic=Topic.YOUTH_VOICE) == [forum.id]
    assert found(kind=ResourceKind.POLICY_TEMPLATE) == [first_aid.id]
    assert found(text="%") == [] and found(text="_") == [], "wildcards are plain characters"
    assert set(found()) == {first_aid.id, forum.id}


def test_the_list_comes_a_page_at_a_time_newest_first(db, admin, org):
    made = [make_resource(org, admin, title=f"Guide {n}").id for n in range(services.RESOURCES_PER_PAGE + 3)]
    first = services.search(1, services.LibraryFilter())
    second = services.search(2, services.LibraryFilter())
    assert first.total == len(made) and first.pages == 2 and len(second.items) == 3
    assert {r.id for r in first.items} | {r.id for r in second.items} == set(made)


def test_a_download_is_counted_in_the_database(db, admin, org):
    resource = make_resource(org, admin)
    services.count_download(resource.id)
    services.count_download(resource.id)
    db.session.commit()
    db.session.refresh(resource)
    assert resource.download_count == 2


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_stored(app, db, admin, org):
    app.config["MAX_UPLOAD_BYTES"] = 200
    with pytest.raises(DomainError) as refused:
        services.submit(details(), pdf_upload(), admin, org)
    assert refused.value.status_code == 413 and refused.value.field == "file"
    db.session.rollback()
    assert count(db, LibraryResource) == 0 and stored_files(app) == []
