"""The dashboard says what needs doing, per role, each item a link to where it is done."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from foundation.grants.models import (
    ApplicationStatus,
    ConflictDeclaration,
    GrantStatus,
    ReviewAssignment,
    RoundStatus,
)
from foundation.members.models import DocumentKind, MemberRole, OrganisationStatus
from foundation.notifications.models import EmailStatus, NotificationKind
from foundation.notifications.services import notify
from foundation.types import utcnow
from foundation.venues.models import OccurrenceStatus
from tests.factories import add_document, add_member, login, make_org, make_user
from tests.grants.factories import make_application, make_awarded_grant, make_round
from tests.venues.factories import make_booking, make_space, make_venue

pytestmark = pytest.mark.usefixtures("request_context")


def dashboard(client) -> str:
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def section(html: str, heading: str) -> str:
    """The part of the page under one audience heading (up to the next panel)."""
    start = html.index(f">{heading}</h2>")
    end = html.find("</section>", start)
    return html[start:end]


def link_for(html: str, text: str) -> str:
    match = re.search(r'<a href="([^"]+)">' + re.escape(text.replace("'", "&#39;")), html)
    assert match, f"{text!r} is not a link"
    return match.group(1).replace("&amp;", "&")


def follows(client, html: str, text: str) -> None:
    """The item is a link, and the page it leads to opens."""
    url = link_for(html, text).split("#")[0]
    assert client.get(url).status_code == 200, url


def test_an_organisation_admin_sees_what_their_organisations_must_do(client, db):
    admin = make_user(name="Ada Admin")
    org = make_org(admin=admin, name="Calne Youth Forum", documents=False)
    add_document(org, DocumentKind.SAFEGUARDING_POLICY, date.today() + timedelta(days=365))
    add_document(org, DocumentKind.INSURANCE, date.today() + timedelta(days=5))
    open_round = make_round(name="Spring seed grants", closes_at=utcnow() + timedelta(days=2))
    make_application(open_round, org, by=admin, status=ApplicationStatus.DRAFT, title="Night Kitchen")
    decided = make_round(status=RoundStatus.DECIDED, name="Autumn seed grants")
    offer = make_awarded_grant(decided, org, amount_pence=150_000, title="Skate Jam")
    offer.status = GrantStatus.OFFERED
    earlier = make_round(status=RoundStatus.DECIDED, name="Spring 2025 seed grants")
    due = make_awarded_grant(earlier, org, amount_pence=90_000, title="Youth Voice", paid=1)
    due.report_due_on = date.today() - timedelta(days=3)
    venue = make_venue(org, name="Calne Town Hall")
    hall = make_space(venue, "Main hall")
    visitor = make_org(name="Devizes Scouts")
    make_booking(hall, visitor, date.today() + timedelta(days=10), status=OccurrenceStatus.REQUESTED,
                 purpose="Scout night")  # fmt: skip
    make_booking(hall, org, date.today() + timedelta(days=3), start=time(18), purpose="Forum meeting")
    notify(admin, NotificationKind.GENERAL, "Your roles changed", "role_granted", roles=["admin"])
    db.session.commit()
    login(client, admin)

    html = dashboard(client)

    you = section(html, "For you")
    assert "1 unread message" in you
    orgs = section(html, "For your organisations")
    for text in (
        "Finish and submit Night Kitchen",
        "Accept the grant of £1,500 for Skate Jam",
        "End-of-grant report for Youth Voice",
        "Calne Youth Forum: the public liability insurance expires on",
        "Devizes Scouts asks for Main hall: Scout night",
        "Main hall at Calne Town Hall",
    ):
        assert text.replace("'", "&#39;") in orgs, text
        follows(client, orgs, text)
    assert "the round closes" in orgs and "overdue since" in orgs
    assert "For Foundation staff" not in html and "For the review panel" not in html


def test_a_panel_reviewer_sees_reviews_to_declare_and_score(client, db):
    reviewer = make_user(panel=True, name="Pat Panel")
    round_ = make_round(status=RoundStatus.IN_REVIEW, name="Summer seed grants")
    first = make_application(round_, make_org(), status=ApplicationStatus.SUBMITTED, title="Art Bus")
    second = make_application(round_, make_org(), status=ApplicationStatus.SUBMITTED, title="Surf Club")
    db.session.add_all(
        [
            ReviewAssignment(application_id=first.id, reviewer_id=reviewer.id),
            ReviewAssignment(
                application_id=second.id, reviewer_id=reviewer.id, conflict=ConflictDeclaration.NONE,
                declared_at=utcnow(),
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    login(client, reviewer)

    panel = section(dashboard(client), "For the review panel")

    assert "Declare any conflict of interest, then score an application" in panel
    assert "Art Bus" not in panel, "the application is named only once no conflict is declared"
    assert "Score Surf Club" in panel and "Summer seed grants" in panel
    follows(client, panel, "Score Surf Club")


def test_staff_see_the_foundations_queues_and_are_not_asked_to_register(client, db):
    staff = make_user(staff=True, name="Sam Staff")
    make_org(status=OrganisationStatus.PENDING, name="Westbury Youth Band")
    round_ = make_round(status=RoundStatus.IN_REVIEW, name="Winter seed grants")
    make_application(round_, make_org(), status=ApplicationStatus.SUBMITTED)
    make_application(round_, make_org(), status=ApplicationStatus.SUBMITTED)
    decided = make_round(status=RoundStatus.DECIDED, name="Old round")
    grant = make_awarded_grant(decided, make_org(name="Melksham Makers"), amount_pence=100_000,
                               instalments=(50_000, 50_000), paid=1)  # fmt: skip
    grant.instalments[1].due_on = date.today() - timedelta(days=1)
    late = make_awarded_grant(decided, make_org(name="Trowbridge Theatre"), paid=1)
    late.report_due_on = date.today() - timedelta(days=20)
    failed = notify(make_user(), NotificationKind.GENERAL, "Your roles changed", "role_granted", roles=["x"])
    failed.email_status = EmailStatus.FAILED
    db.session.commit()
    login(client, staff)

    html = dashboard(client)

    work = section(html, "For Foundation staff")
    for text in (
        "Vet Westbury Youth Band",
        "2 applications to decide in Winter seed grants",
        "Pay £500 to Melksham Makers",
        "Chase the end-of-grant report from Trowbridge Theatre",
        "1 email failed",
    ):
        assert text in work, text
        follows(client, work, text)
    assert "Register an organisation" not in html and "Your organisations" not in html


def test_someone_with_nothing_to_do_is_told_so(client, db):
    user = make_user()
    org = make_org(name="Quiet Club")
    add_member(org, user, MemberRole.MEMBER)
    db.session.commit()
    login(client, user)

    html = dashboard(client)

    assert "Nothing needs doing just now." in html
    assert "Quiet Club" in html


def test_each_list_shows_five_and_links_the_rest(client, db):
    staff = make_user(staff=True)
    for i in range(7):
        make_org(status=OrganisationStatus.PENDING, name=f"Pending Group {i}")
    db.session.commit()
    login(client, staff)

    work = section(dashboard(client), "For Foundation staff")

    assert work.count("Vet Pending Group") == 5
    assert "(7)" in work and "The vetting queue (2 more)" in work
