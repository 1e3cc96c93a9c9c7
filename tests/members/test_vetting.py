"""Staff vetting through the real review form: the queue, documents, each decision, illegal moves, who may."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.members.documents import london_today
from foundation.members.models import DocumentKind, OrganisationStatus, VettingAction, VettingDecision
from foundation.types import utcnow
from tests.conftest import text_of
from tests.factories import login, make_org, make_user

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def staff(db):
    return make_user(email="vera@wypf.org.uk", name="Vera Vetting", staff=True)


@pytest.fixture
def admin(db):
    return make_user(email="ada@example.org", name="Ada Worker")


def org_with(admin, status):
    return make_org(admin, status=status, name="Swindon Skate Collective", documents=False)


def decide(client, org, action, message=""):
    return client.post(f"/staff/organisations/{org.id}", data={"action": action, "message": message})


def decisions(db, org):
    return db.session.scalars(
        sa.select(VettingDecision)
        .where(VettingDecision.organisation_id == org.id)
        .order_by(VettingDecision.id)
    ).all()


# --- the queue and the review page ------------------------------------------------------------------------------


def test_queue_lists_organisations_awaiting_vetting_oldest_first(client, db, staff, admin):
    newer = make_org(admin, status=OrganisationStatus.PENDING, name="Newer Group", documents=False)
    older = make_org(admin, status=OrganisationStatus.PENDING, name="Older Group", documents=False)
    older.submitted_at = utcnow() - timedelta(days=3)
    make_org(admin, status=OrganisationStatus.APPROVED, name="Approved Already")
    login(client, staff)

    page = client.get("/staff/vetting").get_data(as_text=True)
    assert "Approved Already" not in page
    assert page.index("Older Group") < page.index("Newer Group")
    assert f'/staff/organisations/{newer.id}"' in page
    assert "Approved Already" in client.get("/staff/vetting?status=approved").get_data(as_text=True)


def test_review_page_lists_the_documents_with_download_links_that_work(client, db, staff, admin):
    org = org_with(admin, OrganisationStatus.PENDING)
    login(client, admin)
    until = london_today() + timedelta(days=200)
    for kind, name in (
        (DocumentKind.SAFEGUARDING_POLICY, "Our policy.pdf"),
        (DocumentKind.INSURANCE, "Cover.pdf"),
    ):
        resp = client.post(
            f"/organisations/{org.id}/documents",
            data={"kind": kind.value, "valid_until": until.isoformat(), "file": (io.BytesIO(PDF), name)},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 303
    client.post("/logout")
    db.session.expire_all()
    policy = org.current_document(DocumentKind.SAFEGUARDING_POLICY)

    login(client, staff)
    page = client.get(f"/staff/organisations/{org.id}").get_data(as_text=True)
    assert "Our policy.pdf" in page and "Cover.pdf" in page
    assert "Governing document" in page and "Not uploaded yet." in page
    link = f"/organisations/{org.id}/documents/{policy.id}"
    assert f'href="{link}"' in page
    assert 'enctype="multipart/form-data"' not in page  # staff read; only the organisation's admins upload
    resp = client.get(link)
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Disposition"].startswith("attachment;")


# --- decisions --------------------------------------------------------------------------------------------------


def test_approve_records_who_when_and_tells_the_admins(client, db, staff, admin, mailbox):
    org = org_with(admin, OrganisationStatus.PENDING)
    login(client, staff)
    before = utcnow()

    resp = decide(client, org, "approve", "Welcome aboard.")

    assert resp.status_code == 302 and resp.location.endswith("/staff/vetting")
    db.session.expire_all()
    assert org.status is OrganisationStatus.APPROVED and org.approved_at is not None
    [d] = decisions(db, org)
    assert (d.action, d.from_status, d.to_status) == (
        VettingAction.APPROVE,
        OrganisationStatus.PENDING,
        OrganisationStatus.APPROVED,
    )
    assert d.decided_by_id == staff.id and d.message == "Welcome aboard." and d.created_at >= before
    msg = mailbox.last_to("ada@example.org")
    assert msg["Subject"] == "Swindon Skate Collective: approved"
    assert "Welcome aboard." in text_of(msg)
    assert "Swindon Skate Collective: approved." in client.get("/staff/vetting").get_data(as_text=True)


def test_asking_for_changes_needs_a_message(client, db, staff, admin, mailbox):
    org = org_with(admin, OrganisationStatus.PENDING)
    login(client, staff)

    resp = decide(client, org, "request_changes", "   ")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="message-error"' in page and "Say why, so the organisation knows what to do next." in page
    db.session.expire_all()
    assert org.status is OrganisationStatus.PENDING and decisions(db, org) == []
    assert mailbox.to("ada@example.org") == []

    resp = decide(client, org, "request_changes", "Please upload your safeguarding policy.")
    assert resp.status_code == 302
    db.session.expire_all()
    assert org.status is OrganisationStatus.CHANGES_REQUESTED
    [d] = decisions(db, org)
    assert d.decided_by_id == staff.id and d.message == "Please upload your safeguarding policy."
    msg = mailbox.last_to("ada@example.org")
    assert msg["Subject"] == "Swindon Skate Collective: changes requested"
    assert "Please upload your safeguarding policy." in text_of(msg)

    # The admin sees what was asked, and sends the organisation back to the queue.
    client.post("/logout")
    login(client, admin)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Please upload your safeguarding policy." in page
    assert client.post(f"/organisations/{org.id}/resubmit").status_code == 302
    db.session.expire_all()
    assert org.status is OrganisationStatus.PENDING


@pytest.mark.parametrize(
    ("start", "action", "end", "subject"),
    [
        (OrganisationStatus.PENDING, "reject", OrganisationStatus.REJECTED, "rejected"),
        (OrganisationStatus.CHANGES_REQUESTED, "reject", OrganisationStatus.REJECTED, "rejected"),
        (OrganisationStatus.APPROVED, "suspend", OrganisationStatus.SUSPENDED, "suspended"),
        (OrganisationStatus.SUSPENDED, "approve", OrganisationStatus.APPROVED, "approved"),
    ],
)
def test_reject_suspend_and_reinstate(client, db, staff, admin, mailbox, start, action, end, subject):
    org = org_with(admin, start)
    login(client, staff)
    why = "Our checks found a problem with your safeguarding arrangements."

    if action != "approve":  # rejecting and suspending need a reason too
        assert decide(client, org, action, "").status_code == 422
        assert decisions(db, org) == []

    assert decide(client, org, action, why).status_code == 302
    db.session.expire_all()
    assert org.status is end
    [d] = decisions(db, org)
    assert (d.from_status, d.to_status, d.decided_by_id, d.message) == (start, end, staff.id, why)
    assert mailbox.last_to("ada@example.org")["Subject"] == f"Swindon Skate Collective: {subject}"


@pytest.mark.parametrize(
    ("start", "action", "message"),
    [
        (OrganisationStatus.APPROVED, "approve", "An organisation that is approved cannot be approved."),
        (OrganisationStatus.APPROVED, "reject", "An organisation that is approved cannot be rejected."),
        (OrganisationStatus.PENDING, "suspend", "An organisation that is pending cannot be suspended."),
        (
            OrganisationStatus.CHANGES_REQUESTED,
            "request_changes",
            "An organisation that is changes requested cannot be changes requested.",
        ),
        (OrganisationStatus.REJECTED, "approve", "An organisation that is rejected cannot be approved."),
        (OrganisationStatus.PENDING, "submit", "Staff do not submit organisations."),
    ],
)
def test_illegal_transitions_are_409_with_a_message_and_change_nothing(
    client, db, staff, admin, mailbox, start, action, message
):
    org = org_with(admin, start)
    login(client, staff)

    resp = decide(client, org, action, "A reason given anyway.")

    assert resp.status_code == 409
    assert message in resp.get_data(as_text=True)
    db.session.expire_all()
    assert org.status is start and decisions(db, org) == []
    assert mailbox.to("ada@example.org") == []


def test_no_decision_chosen_is_422(client, db, staff, admin):
    org = org_with(admin, OrganisationStatus.PENDING)
    login(client, staff)
    resp = decide(client, org, "", "Hello")
    assert resp.status_code == 422
    assert "Choose a decision." in resp.get_data(as_text=True)
    assert decisions(db, org) == []


def test_every_decision_stays_on_the_record_newest_first(client, db, staff, admin):
    org = org_with(admin, OrganisationStatus.PENDING)
    other_staff = make_user(name="Sid Staff", staff=True)
    login(client, staff)
    assert decide(client, org, "approve").status_code == 302
    client.post("/logout")
    login(client, other_staff)
    assert decide(client, org, "suspend", "Insurance lapsed.").status_code == 302

    [first, second] = decisions(db, org)
    assert (first.action, first.decided_by_id) == (VettingAction.APPROVE, staff.id)
    assert (second.action, second.decided_by_id, second.message) == (
        VettingAction.SUSPEND,
        other_staff.id,
        "Insurance lapsed.",
    )
    page = client.get(f"/staff/organisations/{org.id}").get_data(as_text=True)
    assert page.index("Suspended</strong> by Sid Staff") < page.index("Approved</strong> by Vera Vetting")
    assert "Insurance lapsed." in page


# --- who may ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "panel", "member"])
def test_non_staff_get_403_and_decide_nothing(client, db, admin, who):
    org = org_with(admin, OrganisationStatus.PENDING)
    user = {"admin": admin, "panel": make_user(panel=True), "member": make_user()}[who]
    login(client, user)

    assert client.get("/staff/vetting").status_code == 403
    assert client.get(f"/staff/organisations/{org.id}").status_code == 403
    assert decide(client, org, "approve").status_code == 403
    db.session.expire_all()
    assert org.status is OrganisationStatus.PENDING and decisions(db, org) == []


def test_anonymous_is_sent_to_sign_in(client, db, admin):
    org = org_with(admin, OrganisationStatus.PENDING)
    for resp in (client.get("/staff/vetting"), decide(client, org, "approve")):
        assert resp.status_code == 302 and "/login" in resp.location
    assert decisions(db, org) == []


def test_an_unknown_organisation_is_404(client, db, staff):
    login(client, staff)
    assert client.get("/staff/organisations/999999").status_code == 404
