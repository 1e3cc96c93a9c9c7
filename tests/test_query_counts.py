"""No page runs a query per row: every GET route of the permissions matrix, rendered as its real user, runs the
same number of SQL statements whatever the number of rows it lists.

The world of the permissions matrix is built, then grown twice by adding rows of everything a page may list
(organisations waiting for vetting, members, documents, venues, spaces, bookings and their dates, requests for
the owner, notifications, rounds, applications, review assignments, grants, payments, holidays, ...). Each page
is measured after each growth (X-Query-Count); a page whose count moves with the data fails, named with both
counts.
"""

from __future__ import annotations

import os
from datetime import date, time, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from foundation.auth import open_session
from foundation.events.models import Event, Registration
from foundation.extensions import db
from foundation.fundraising import campaigns, claims, donations
from foundation.fundraising.models import Campaign, CampaignStatus, Donation, DonationStatus, MessageStatus
from foundation.fundraising.views_staff import Seek
from foundation.grants.models import (
    Application,
    ConflictDeclaration,
    GrantRound,
    ReviewAssignment,
    RoundStatus,
    Score,
)
from foundation.members.models import DocumentKind, Invitation, MemberRole, OrganisationStatus
from foundation.notifications.models import EmailStatus, NotificationKind
from foundation.notifications.services import notify
from foundation.types import utcnow
from foundation.venues.models import Holiday, HolidayKind, OccurrenceStatus, Venue
from tests.bids.factories import grow_bids
from tests.events.attendance_factories import grow_on_the_day
from tests.events.factories import grow_events
from tests.events.registration_factories import grow_fees, grow_registrations
from tests.factories import add_document, add_member, make_org, make_user
from tests.fundraising.factories import make_campaign, make_donation, make_pledge
from tests.grants.factories import make_application, make_awarded_grant, make_round
from tests.library.factories import grow_library
from tests.test_permissions import MATRIX, OK, ROLES, TOKEN, World, _expected, _rules, _url, build_world
from tests.venues.factories import add_closure, make_booking, make_space, make_venue

# Who really uses a page, in order of preference among the visitors the matrix lets in: the organisation's
# admin (the richest signed-in view), then the assigned reviewer, staff, an ordinary member.
REAL_USERS = ("org_admin", "reviewer", "staff", "member", "panel", "other_admin")

_seq = count(1)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "QUERY_COUNT_HEADER": True}


def grow(world: World, n: int) -> None:
    """Add n more rows of everything a page may list, around organisation A and its people."""
    users = world.users
    org_admin, member, staff, reviewer = (users[k] for k in ("org_admin", "member", "staff", "reviewer"))
    org_a = org_admin.memberships[0].organisation
    venue_a = db.session.get(Venue, world.values["venue_id"])
    start = date.today() + timedelta(days=21)
    for _ in range(n):
        i = next(_seq)
        # Members: organisations waiting for vetting (with documents), approved ones, colleagues of A.
        pending_admin = make_user()
        make_org(admin=pending_admin, status=OrganisationStatus.PENDING, name=f"Pending group {i}")
        other_admin = make_user()
        other = make_org(admin=other_admin, name=f"Approved group {i}")
        add_document(other, DocumentKind.GOVERNING_DOCUMENT, None, uploaded_by=other_admin)
        # People belong to several organisations: their dashboards and menus list each.
        add_member(other, org_admin, MemberRole.MEMBER)
        add_member(org_a, make_user(), MemberRole.MEMBER)
        db.session.add(
            Invitation(
                organisation_id=org_a.id,
                email=f"invitee{i}@example.org",
                role=MemberRole.MEMBER,
                invited_by_id=org_admin.id,
                expires_at=utcnow() + timedelta(days=7),
            )
        )
        # Venue Bank: another venue and space of A's, bookings of A's space by others (requests and
        # confirmed), A's own bookings elsewhere, closures and holidays.
        venue = make_venue(org_a, name=f"Hall {i}")
        space = make_space(venue, needs_approval=True)
        make_space(venue_a, name=f"Room {i}")
        day = start + timedelta(days=7 * i)
        make_booking(
            space, other, day, day + timedelta(weeks=2), weekdays=(day.weekday(),),
            status=OccurrenceStatus.REQUESTED, booked_by=other_admin,
        )  # fmt: skip
        make_booking(
            space, other, day, start=time(10), end=time(11), status=OccurrenceStatus.CONFIRMED,
            booked_by=other_admin,
        )  # fmt: skip
        elsewhere = make_space(make_venue(other, name=f"Other hall {i}"))
        make_booking(
            elsewhere, org_a, day, day + timedelta(weeks=2), weekdays=(day.weekday(),),
            status=OccurrenceStatus.CONFIRMED, booked_by=member,
        )  # fmt: skip
        add_closure(venue, day + timedelta(days=1))
        db.session.add(Holiday(kind=HolidayKind.SCHOOL, name=f"Break {i}", starts_on=day, ends_on=day))
        # Notifications: inbox rows for each person, a failed email for the staff outbox.
        for person in (org_admin, member, staff, reviewer):
            notify(person, NotificationKind.GENERAL, f"Note {i}", "staff_vetting_queue", org=org_a)
        failed = notify(staff, NotificationKind.STAFF_QUEUE, f"Failed {i}", "staff_vetting_queue", org=org_a)
        failed.email_status = EmailStatus.FAILED
        # Seed grants: another round with applications (one of them A's, assigned to the reviewer) and
        # grants awarded, paid in part, reported.
        round_ = make_round(RoundStatus.IN_REVIEW, budget_pence=10_000_000)
        application = make_application(round_, other, by=other_admin)
        db.session.add(
            ReviewAssignment(
                application_id=application.id, reviewer_id=reviewer.id, conflict=ConflictDeclaration.NONE,
                declared_at=utcnow(),
            )
        )  # fmt: skip
        make_application(round_, org_a, by=member)
        # A's application in the matrix gets another submitted review (a mark and comment per criterion) and a
        # declared conflict: the decide page lists every reviewer's marks.
        application_a = db.session.get(Application, world.values["application_id"])
        for conflict in (ConflictDeclaration.NONE, ConflictDeclaration.CONFLICT):
            extra = ReviewAssignment(
                application_id=application_a.id, reviewer_id=make_user(panel=True).id, conflict=conflict,
                declared_at=utcnow(), submitted_at=utcnow() if conflict is ConflictDeclaration.NONE else None,
                conflict_reason=None if conflict is ConflictDeclaration.NONE else f"Conflict {i}",
            )  # fmt: skip
            db.session.add(extra)
            db.session.flush()
            if conflict is ConflictDeclaration.NONE:
                for criterion in application_a.round.criteria:
                    db.session.add(
                        Score(assignment_id=extra.id, criterion_id=criterion.id, score=3, comment=f"Note {i}")
                    )
        decided = make_round(RoundStatus.IN_REVIEW, budget_pence=10_000_000)
        make_awarded_grant(decided, org_a, instalments=(100_000, 100_000), paid=1, reached=30, by=staff)
        make_awarded_grant(decided, other, towns=("Swindon",), reached=12, by=staff)
        decided.status = RoundStatus.DECIDED
        # Fundraising: another live campaign with a partner; gifts to A's campaign (received with Gift Aid and a
        # message shown, pledged with a message waiting, one by A's member), a partner invited, a match pledge,
        # a Gift Aid claim, and a closed campaign.
        campaign_a = db.session.get(Campaign, world.values["campaign_id"])
        other_campaign = make_campaign(CampaignStatus.LIVE, lead=other, by=staff, title=f"Campaign {i}")
        campaigns.invite(other_campaign, org_a, staff)
        campaigns.invite(campaign_a, make_org(name=f"Partner group {i}"), staff)
        for target in (campaign_a, other_campaign):
            shown = make_donation(
                target, 2_000 + i, DonationStatus.SUCCEEDED, gift_aid=True, message=f"Go {i}", by=staff
            )
            donations.moderate_message(shown, MessageStatus.SHOWN, staff)
            make_donation(target, 700, DonationStatus.REFUNDED, by=staff)
            make_donation(target, 1_500, DonationStatus.PENDING, message=f"Waiting {i}", by=staff)
            make_donation(
                target,
                1_000,
                DonationStatus.SUCCEEDED,
                user=member,
                email=member.email,
                gift_aid=True,
                by=staff,
            )
            make_pledge(target, by=staff)
        claims.create([d.id for d in claims.claimable()][:2], staff)
        make_campaign(CampaignStatus.CLOSED, lead=other, by=staff, title=f"Closed campaign {i}")
        # Funding: a funder with an opportunity in every state, suggestions by A's member, digests, imports.
        grow_bids(i, staff, member, org_a)
        grow_library(i, org_a, org_admin, other)  # library
        grow_events(i, org_a, org_admin, other)  # events
        grow_on_the_day(i, world.values["event_id"], org_a, member, org_admin)  # events: on the day and after
        grow_registrations(i, world.values["event_id"], org_a, org_admin)  # events: registration
        grow_fees(i, org_a, staff)  # events: fees waiting, paid and due back
    db.session.commit()


def measured_pages(app, world: World) -> dict[str, int]:
    """The statement count of each GET page, as its real user (and anonymously where the public may look)."""
    counts: dict[str, int] = {}
    with app.test_request_context():
        rules = [r for r in _rules(app) if "GET" in (r.methods or set())]
        urls = {(r.endpoint, r.rule): _url(r, world) for r in rules}
    visits: list[tuple[str, str, str]] = []
    for rule in rules:
        policy = MATRIX[rule.endpoint]
        policy = policy["GET"] if isinstance(policy, dict) else policy
        if policy == TOKEN:
            continue  # a bad token answers the same cheap page to everyone
        expected = _expected(policy)
        visitors = [r for r in REAL_USERS if expected[r] == OK][:1]
        if expected["anonymous"] == OK:
            visitors.append("anonymous")
        visits += [(rule.endpoint, urls[(rule.endpoint, rule.rule)], role) for role in visitors]
    # The other views of the same pages: past bookings, one part of the outbox, a decided round's grants.
    decided = db.session.scalar(
        sa.select(GrantRound.id)
        .where(GrantRound.status == RoundStatus.DECIDED)
        .order_by(GrantRound.id.desc())
    )
    # The donations list from a place in it (the newest and the oldest donation: what its links carry).
    newest = db.session.scalars(
        sa.select(Donation).order_by(Donation.happened_at.desc(), Donation.id.desc()).limit(1)
    ).one()
    oldest = db.session.scalars(
        sa.select(Donation).order_by(Donation.happened_at, Donation.id).limit(1)
    ).one()
    waiting_fee = db.session.scalar(
        sa.select(Registration.id).where(Registration.payment_id == world.values["payment_id"])
    )  # events: the member's entry waiting for its fee
    venue_course = db.session.scalar(
        sa.select(Event.id).where(Event.title.like("Growth course %")).order_by(Event.id.desc()).limit(1)
    )  # events
    visits += [
        ("venues.my_bookings", "/bookings?when=past", "org_admin"),
        ("notifications.staff_outbox", "/staff/outbox?section=failed", "staff"),
        ("grants.scorecard_round (the oldest decided round)", f"/scorecard/rounds/{decided}", "anonymous"),
        ("fundraising.staff_donations (older than the newest)", f"/staff/donations?older={Seek.of(newest).key}",
         "staff"),
        ("fundraising.staff_donations (newer than the oldest)", f"/staff/donations?newer={Seek.of(oldest).key}",
         "staff"),
        ("fundraising.staff_donations", f"/staff/donations?campaign={world.values['campaign_id']}", "staff"),
        ("fundraising.staff_donations", "/staff/donations?status=pending&provider=offline", "staff"),
        ("fundraising.staff_home", "/staff/fundraising?section=live&page=2", "staff"),
        ("fundraising.campaigns_list", "/campaigns?section=past&page=2", "anonymous"),
        ("fundraising.campaigns_list", "/campaigns?page=2", "anonymous"),
        ("bids.opportunities_list", "/funding?theme=arts&town=Calne&closing=60&consortium=y&amount=2000", "member"),
        ("bids.funders_list", "/staff/funders?q=trust&funder_type=trust_or_foundation", "staff"),
        ("bids.bids_list", "/bids?status=withdrawn", "staff"),
        ("bids.bids_list", "/bids", "member"),
        ("bids.bid", f"/bids/{world.values['bid_id']}", "other_admin"),
        # library: the list searched and filtered, as a member and anonymously; a resource as another member
        ("library.index", "/library?q=growth&topic=digital&kind=guide", "member"),
        ("library.index", "/library?q=growth&topic=safeguarding", "anonymous"),
        ("library.resource", f"/library/{world.values['resource_id']}", "other_admin"),
        # events: the listing filtered and its past events; the page, file and manage page of a venue course
        ("events.events_list", "/events?topic=safeguarding&town=Calne&event_type=training&free_only=y", "anonymous"),
        ("events.events_list", "/events?places_left=y&date_from=2020-01-01", "member"),
        ("events.events_list", "/events?past=y", "anonymous"),
        ("events.events_mine", "/events/mine", "staff"),
        ("events.event_page (a venue course)", f"/events/{venue_course}", "anonymous"),
        ("events.event_calendar (a venue course)", f"/events/{venue_course}.ics", "anonymous"),
        ("events.event_manage (a venue course)", f"/events/{venue_course}/manage", "org_admin"),
        # events, on the day and after: a member's training, last year's coverage
        ("events.my_training", "/account/training", "member"),
        ("events.coverage_table", f"/staff/events/coverage?year={date.today().year - 1}", "staff"),
        ("events.coverage_csv", f"/staff/events/coverage.csv?year={date.today().year}", "staff"),
        # events: an entry waiting for its fee, as its person and as staff
        ("events.registration (waiting for its fee)", f"/events/registrations/{waiting_fee}", "member"),
        ("events.registration (waiting for its fee)", f"/events/registrations/{waiting_fee}", "staff"),
    ]  # fmt: skip
    for endpoint, url, role in visits:
        client = app.test_client()
        if role != "anonymous":
            with client.session_transaction() as session:
                session["_user_id"] = open_session(world.users[role])[1]
                session["_fresh"] = True
        client.get(url)  # the first visit may do one-off work (a message marked read): count the next
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} as {role}: {response.status_code}"
        assert role in ROLES
        # A round's number may differ between the two sizes: such a visit is named by what it shows.
        page = "" if "(" in endpoint else f" {url}"
        counts[f"{endpoint}{page} as {role}"] = int(response.headers["X-Query-Count"])
    return counts


def test_no_page_runs_a_query_per_row(app, db):  # noqa: ARG001
    with app.test_request_context():
        world = build_world()
        grow(world, 2)
    small = measured_pages(app, world)
    with app.test_request_context():
        grow(world, 5)
    large = measured_pages(app, world)
    moving = [
        f"{page}: {small[page]} -> {large[page]}" for page in sorted(small) if small[page] != large[page]
    ]
    if moving:
        pytest.fail(
            "SQL statements grow with the data (2 rows of everything -> 7 rows):\n" + "\n".join(moving)
        )


def debug_statements(app, world: World, url: str, role: str) -> list[str]:
    """The statements one page runs (for finding the query per row when the test above fails)."""
    import sqlalchemy as sa

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.replace("\n", " ")[:300])

    client = app.test_client()
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = open_session(world.users[role])[1]
            session["_fresh"] = True
    client.get(url)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get(url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


if os.environ.get("DEBUG_PAGE"):
    # DEBUG_PAGE="/venues/requests org_admin" pytest tests/test_query_counts.py -k debug -s: the statements one
    # page runs, most repeated first (for finding the query per row when the test above fails).

    @pytest.mark.sqlite_only
    def test_debug_page(app, db):  # noqa: ARG001
        from collections import Counter

        url, role = os.environ["DEBUG_PAGE"].split()
        with app.test_request_context():
            world = build_world()
            grow(world, 3)
        statements = debug_statements(app, world, url, role)
        print(f"{len(statements)} statements")
        for statement, times in Counter(statements).most_common():
            print(f"{times:3d} x {statement}")
