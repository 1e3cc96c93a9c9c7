"""Lists that grow with history come a page at a time, with counts for the whole list."""

from __future__ import annotations

import pytest

from foundation.members.models import OrganisationStatus
from tests.factories import login, make_org, make_user
from tests.grants.factories import make_application, make_round


@pytest.fixture
def staff_client(client, db):
    staff = make_user(staff=True)
    db.session.commit()
    login(client, staff)
    return client


def test_vetting_queue_shows_fifty_a_page_and_counts_them_all(staff_client, db):
    for n in range(53):
        make_org(status=OrganisationStatus.PENDING, name=f"Waiting group {n:02d}", documents=False)
    db.session.commit()

    first = staff_client.get("/staff/vetting").get_data(as_text=True)
    assert first.count("Waiting group") == 50
    assert "Pending (53)" in first
    assert "Page 1 of 2 (1 to 50 of 53 organisations)" in first
    assert 'href="/staff/vetting?page=2&amp;status=pending"' in first

    second = staff_client.get("/staff/vetting?page=2&status=pending").get_data(as_text=True)
    assert second.count("Waiting group") == 3
    assert "Page 2 of 2 (51 to 53 of 53 organisations)" in second

    # Nonsense and pages past the end are not errors: the first and the last page.
    assert staff_client.get("/staff/vetting?page=abc").get_data(as_text=True).count("Waiting group") == 50
    assert staff_client.get("/staff/vetting?page=99999999999999999999").status_code == 200
    assert "Page 2 of 2" in staff_client.get("/staff/vetting?page=9").get_data(as_text=True)


def test_staff_applications_filter_by_town_in_the_database_and_total_every_page(staff_client, db):
    round_ = make_round()
    for n in range(55):
        town = "Calne" if n % 5 == 0 else "Devizes"
        make_application(round_, make_org(name=f"Applicant {n:02d}"), amount_pence=100_000, towns=(town,))
    db.session.commit()

    page = staff_client.get("/staff/grants/applications").get_data(as_text=True)
    assert "55 applications, asking for £55,000 in all." in page
    assert page.count("Applicant ") == 50

    calne = staff_client.get("/staff/grants/applications?town=Calne").get_data(as_text=True)
    assert "11 applications, asking for £11,000 in all." in calne
    assert calne.count("Applicant ") == 11
    assert "Page 1 of" not in calne


def test_inbox_and_outbox_come_a_page_at_a_time(staff_client, db):
    import sqlalchemy as sa

    from foundation.members.models import User
    from foundation.notifications.models import EmailStatus, Notification, NotificationKind
    from foundation.notifications.services import notify

    staff = db.session.scalar(sa.select(User).where(User.is_staff.is_(True)))
    for n in range(65):
        note = notify(staff, NotificationKind.STAFF_QUEUE, f"Queue note {n:02d}", "password_changed")
        note.email_status = EmailStatus.FAILED
    db.session.commit()

    inbox = staff_client.get("/inbox").get_data(as_text=True)
    assert inbox.count(">Queue note") == 30 and "Page 1 of 3 (1 to 30 of 65 messages)" in inbox
    assert staff_client.get("/inbox?page=3").get_data(as_text=True).count(">Queue note") == 5

    overview = staff_client.get("/staff/outbox").get_data(as_text=True)
    assert overview.count(">Queue note") == 20 and "See all 65" in overview
    failed = staff_client.get("/staff/outbox?section=failed&page=2").get_data(as_text=True)
    assert failed.count(">Queue note") == 15
    assert "Page 2 of 2 (51 to 65 of 65 emails)" in failed
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 65
