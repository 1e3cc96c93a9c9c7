"""Good standing: approved, with a current safeguarding policy and current insurance (the newest of each)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from foundation.members.models import DocumentKind, OrganisationStatus
from foundation.members.organisations import good_standing
from tests.factories import add_document, login, make_org, make_user

ON = date(2026, 9, 1)
NEXT_YEAR = ON + timedelta(days=365)


def org_with(db, status=OrganisationStatus.APPROVED, policy=NEXT_YEAR, insurance=NEXT_YEAR, admin=None):
    org = make_org(admin, status=status, documents=False)
    if policy is not None:
        add_document(org, DocumentKind.SAFEGUARDING_POLICY, policy)
    if insurance is not None:
        add_document(org, DocumentKind.INSURANCE, insurance)
    db.session.commit()  # reloads org.documents in their newest-first order
    return org


def test_approved_with_current_documents_is_in_good_standing(db):
    standing = good_standing(org_with(db), on=ON)
    assert standing.ok and bool(standing) and standing.reasons == []


def test_documents_dated_today_are_still_current(db):
    assert good_standing(org_with(db, policy=ON, insurance=ON), on=ON).ok


def test_expired_insurance(db):
    standing = good_standing(org_with(db, insurance=ON - timedelta(days=1)), on=ON)
    assert not standing.ok and not bool(standing)
    assert standing.reasons == ["The public liability insurance expired on 31 August 2026."]


def test_overdue_safeguarding_review(db):
    standing = good_standing(org_with(db, policy=date(2026, 3, 31)), on=ON)
    assert not standing.ok
    assert standing.reasons == ["The safeguarding policy was due for review on 31 March 2026."]


def test_missing_documents(db):
    org = org_with(db, policy=None, insurance=None)
    add_document(org, DocumentKind.GOVERNING_DOCUMENT, None)  # does not stand in for either
    db.session.commit()
    standing = good_standing(org, on=ON)
    assert not standing.ok
    assert standing.reasons == [
        "No safeguarding policy has been uploaded.",
        "No public liability insurance has been uploaded.",
    ]


@pytest.mark.parametrize(
    "status",
    [
        OrganisationStatus.PENDING,
        OrganisationStatus.CHANGES_REQUESTED,
        OrganisationStatus.REJECTED,
        OrganisationStatus.SUSPENDED,
    ],
)
def test_not_approved(db, status):
    standing = good_standing(org_with(db, status=status), on=ON)
    assert not standing.ok
    assert standing.reasons == [f"The organisation is not approved (it is {status.label.lower()})."]


def test_every_reason_is_given_at_once(db):
    org = org_with(db, status=OrganisationStatus.SUSPENDED, policy=None, insurance=ON - timedelta(days=10))
    assert len(good_standing(org, on=ON).reasons) == 3


def _add_later(db, org, kind, valid_until, minutes):
    older = org.current_document(kind)
    doc = add_document(org, kind, valid_until)
    doc.uploaded_at = older.uploaded_at + timedelta(minutes=minutes)
    db.session.commit()
    return doc


def test_a_newer_current_document_replaces_an_expired_one(db):
    org = org_with(db, insurance=ON - timedelta(days=30))
    assert not good_standing(org, on=ON).ok
    _add_later(db, org, DocumentKind.INSURANCE, NEXT_YEAR, minutes=5)
    assert good_standing(org, on=ON).ok


def test_the_newest_document_counts_even_when_an_older_one_is_still_current(db):
    org = org_with(db)
    _add_later(db, org, DocumentKind.SAFEGUARDING_POLICY, ON - timedelta(days=1), minutes=5)
    standing = good_standing(org, on=ON)
    assert not standing.ok
    assert standing.reasons == ["The safeguarding policy was due for review on 31 August 2026."]


def test_standing_moves_with_the_date(db):
    org = org_with(db, insurance=ON + timedelta(days=7))
    assert good_standing(org, on=ON + timedelta(days=7)).ok
    assert not good_standing(org, on=ON + timedelta(days=8)).ok


def test_the_organisation_page_says_why_it_is_not_in_good_standing(client, db):
    admin = make_user()
    org = org_with(db, policy=None, insurance=date.today() - timedelta(days=2), admin=admin)
    login(client, admin)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Not yet in good standing" in page
    assert "No safeguarding policy has been uploaded." in page
    assert "The public liability insurance expired on" in page
