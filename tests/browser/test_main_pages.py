"""The main pages of every kind of user, on the demo data, at a phone's width (390 px) and a laptop's (1280 px):
each answers 200, nothing scrolls sideways on the phone (`document.documentElement.scrollWidth <= 390`; a wide
table scrolls inside its own box), axe-core finds no serious or critical violation at either width, and a
screenshot of each is kept under test-artifacts/screenshots/ (main-<who>-<page>-<width>.png).

The demo data is seeded once per test process, on the live server's application, and saved; the tour is cut
into visits of a few pages each (one visitor, signed in once), each starting from the demo data as seeded, so
the test processes share the visits out between them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from foundation.bids.models import (
    Bid,
    BidAward,
    BidPartner,
    FundingOpportunity,
    MonitoringReturn,
    OpportunityStatus,
)
from foundation.bids.seed import BID_TITLE, WON_TITLE
from foundation.events.models import Event, Registration, RegistrationStatus
from foundation.events.seed import (
    COURSE_TITLE,
    FULL_EVENT_TITLE,
    ONLINE_EVENT_TITLE,
    PAST_EVENT_TITLE,
    VENUE_EVENT_TITLE,
)
from foundation.extensions import db
from foundation.fundraising.models import (
    Campaign,
    CampaignPartner,
    CampaignStatus,
    Donation,
    DonationStatus,
    GiftAidClaim,
    PartnerStatus,
)
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    Grant,
    GrantRound,
    GrantStatus,
    Instalment,
    ReviewAssignment,
    RoundStatus,
)
from foundation.library.models import LibraryResource, ResourceStatus
from foundation.members.models import Organisation, OrganisationStatus, User
from foundation.seed import DEMO_PASSWORD, seed
from foundation.venues.models import Booking, Space, Venue
from tests.conftest import DatabaseSnapshot, clear_tables, make_test_app, settings_for
from tests.livesupport import LiveServer, SmtpSink, live_settings

# Layout, widths and accessibility do not depend on the database: the tour runs on SQLite alone.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

WIDTHS = (390, 1280)

# Who visits (an email signs in first; None is an anonymous visitor), and the pages they open. Braces name ids
# looked up in the demo data by `_ids`.
PAGES: dict[str | None, list[str]] = {
    None: [
        "/",
        "/venues",
        "/venues?town=Chippenham&date={next_tuesday}&start=18:00&end=20:00",
        "/venues/{venue}",
        "/spaces/{busiest}/calendar",
        "/grants",
        "/grants/rounds/{open_round}",
        "/grants/awards",
        "/grants/ledger",
        "/members",
        "/members/{calne}",
        "/scorecard",
        "/scorecard/rounds/{decided}",
        "/accessibility",
        "/privacy",
        "/contact",
        "/open-data",
        "/login",
        "/register",
        "/campaigns",
        "/campaigns/{live_campaign}",
        "/campaigns/{live_campaign}/donate",
        "/campaigns/{closed_campaign}",
        "/where-the-money-goes",
        "/awards/{award}/money",
        # events
        "/events",
        "/events?past=y&topic=safeguarding",
        "/events/{venue_event}",
        "/events/{online_event}",
        "/events/{full_event}",
        "/library",
    ],
    "admin@calne-youth.example": [
        "/dashboard",
        "/organisations/{calne}",
        "/organisations/{calne}/edit",
        "/organisations/{calne}/venues",
        "/venues/{venue}/manage",
        "/venues/{venue}/edit",
        "/spaces/{space}/edit",
        "/venues/requests",
        "/bookings",
        "/bookings?when=past",
        "/bookings/{calne_booking}",
        "/bookings/{at_calne}",
        "/spaces/{space}/book",
        "/spaces/{busiest}/calendar?day=3",
        "/organisations/{calne}/applications",
        "/grants/applications/{calne_draft}",
        "/grants/awards/{calne_grant}",
        "/inbox",
        "/account",
        "/account/privacy",
        "/campaigns/new",
        "/campaigns/{live_campaign_id}/manage",
        "/campaigns/{waiting_campaign_id}/manage",
        "/campaigns/{waiting_campaign_id}/edit",
        "/staff/campaigns/{live_campaign_id}/report",
        "/account/giving",
        "/account/giving/{this_year}",
        "/funding",
        "/funding/{open_opportunity}",
        "/funding/suggest",
        "/funding/interests",
        "/bids",
        "/bids/{drafting_bid}",
        "/bids/{drafting_bid}/parts/{calne_part}",
        "/bids/{drafting_bid}/assembled",
        # events
        "/events/mine",
        "/events/new",
        "/events/{course_event}/manage",
        "/events/{course_event}/edit",
        "/events/{full_event}/register",
        "/events/registrations/{calne_entry}",
        "/account/events",
        "/account/training",
        "/organisations/{calne}/training",
        "/library",
        "/library/{resource}",
        "/library/share",
        "/library/ours",
    ],
    "team@westbury-detached.example": ["/bids/awards/{award}", "/bids/returns/{return_in}"],
    "youthworker@wypf.example": ["/campaigns/{waiting_campaign_id}/partners/{invitation}"],
    "panel@wypf.example": ["/dashboard", "/panel", "/panel/assignments/{assignment}"],
    "panel4@wypf.example": ["/panel/assignments/{scoring}"],
    "staff@wypf.example": [
        "/dashboard",
        "/staff",
        "/staff/vetting",
        "/staff/organisations/{pending}",
        "/staff/users",
        "/staff/outbox",
        "/staff/grants",
        "/staff/grants/rounds/{in_review}",
        "/staff/grants/rounds/{in_review}/ranking",
        "/staff/grants/applications",
        "/staff/grants/applications/{submitted}/decide",
        "/staff/grants/applications/{deciding}/decide",
        "/staff/grants/grants",
        "/staff/grants/grants/{calne_grant}",
        "/staff/grants/grants/{offered}/withdraw",
        "/staff/grants/grants/{part_paid}",
        "/staff/grants/grants/{part_paid}/end",
        "/staff/grants/fund",
        "/staff/fundraising",
        "/campaigns/{waiting_campaign_id}/manage",
        "/staff/donations",
        "/staff/donations/{pledge}",
        "/staff/donations/messages",
        "/staff/campaigns/{live_campaign_id}/match",
        "/staff/campaigns/{live_campaign_id}/report",
        "/staff/gift-aid",
        "/staff/gift-aid/claims/{claim}",
        "/staff/funders",
        "/staff/funding",
        "/staff/funding/{suggested_opportunity}/review",
        "/staff/funders/prospecting",
        "/bids/{won_bid}",
        "/bids/awards/{award}",
        "/bids/awards/{award}/reporting/{reporting_date}",
        "/staff/bids/pipeline",
        "/staff/bids/success",
        "/events/{full_event}/registrations",
        "/events/{past_event}/register-sheet",
        "/events/{past_event}/register-sheet/print",
        "/events/{past_event}/feedback/results",
        "/staff/events/coverage",
        "/staff/events/fees",
        "/events/registrations/{awaiting_entry}",
        "/events/{course_event}/registrations",
        "/staff/library",
        "/staff/library/{waiting_resource}/review",
    ],
}


def _ids(db: Any) -> dict[str, object]:
    from datetime import date, timedelta

    one = db.session.scalar
    calne = one(sa.select(Organisation.id).where(Organisation.name == "Calne Youth Project"))
    venue = one(sa.select(Venue.id).where(Venue.organisation_id == calne).order_by(Venue.id))
    today = date.today()
    paid = sa.select(Instalment.id).where(Instalment.grant_id == Grant.id, Instalment.paid_at.is_not(None))
    unpaid = sa.select(Instalment.id).where(Instalment.grant_id == Grant.id, Instalment.paid_at.is_(None))
    return {
        # The space with the most bookings, so its calendar shows booked and requested times as well as free.
        "busiest": one(
            sa.select(Booking.space_id)
            .group_by(Booking.space_id)
            .order_by(sa.func.count().desc(), Booking.space_id)
            .limit(1)
        ),
        # A weekly booking at a venue of the Calne Youth Project's, so its admin sees its page with every date.
        "at_calne": one(sa.select(Booking.id).where(Booking.uid == "demo-booking-calne-football")),
        # A review in progress, an application with a declared conflict, an offer not yet accepted and a grant
        # paid in part (to withdraw, and to end early).
        "scoring": one(
            sa.select(ReviewAssignment.id)
            .join(User, User.id == ReviewAssignment.reviewer_id)
            .where(
                User.email == "panel4@wypf.example",
                ReviewAssignment.submitted_at.is_(None),
                ReviewAssignment.conflict == ConflictDeclaration.NONE,
            )
        ),
        "deciding": one(
            sa.select(ReviewAssignment.application_id)
            .where(ReviewAssignment.conflict == ConflictDeclaration.CONFLICT)
            .limit(1)
        ),
        "offered": one(sa.select(Grant.id).where(Grant.status == GrantStatus.OFFERED).limit(1)),
        "part_paid": one(
            sa.select(Grant.id)
            .where(Grant.status == GrantStatus.ACTIVE, paid.exists(), unpaid.exists())
            .limit(1)
        ),
        "calne": calne,
        "venue": venue,
        "space": one(sa.select(Space.id).where(Space.venue_id == venue).order_by(Space.id)),
        "next_tuesday": (today + timedelta(days=(1 - today.weekday()) % 7 or 7)).isoformat(),
        "open_round": one(sa.select(GrantRound.id).where(GrantRound.status == RoundStatus.OPEN)),
        "decided": one(sa.select(GrantRound.id).where(GrantRound.status == RoundStatus.DECIDED)),
        "in_review": one(sa.select(GrantRound.id).where(GrantRound.status == RoundStatus.IN_REVIEW)),
        "calne_booking": one(
            sa.select(Booking.id).where(Booking.organisation_id == calne).order_by(Booking.id)
        ),
        "calne_draft": one(
            sa.select(Application.id).where(
                Application.organisation_id == calne, Application.status == ApplicationStatus.DRAFT
            )
        ),
        "calne_grant": one(sa.select(Grant.id).where(Grant.organisation_id == calne).order_by(Grant.id)),
        "submitted": one(
            sa.select(Application.id)
            .join(GrantRound)
            .where(GrantRound.status == RoundStatus.IN_REVIEW)
            .order_by(Application.id)
        ),
        "assignment": one(
            sa.select(ReviewAssignment.id)
            .join(User, User.id == ReviewAssignment.reviewer_id)
            .where(User.email == "panel@wypf.example")
            .order_by(ReviewAssignment.id)
        ),
        "pending": one(sa.select(Organisation.id).where(Organisation.status == OrganisationStatus.PENDING)),
        "live_campaign": one(sa.select(Campaign.slug).where(Campaign.status == CampaignStatus.LIVE)),
        "live_campaign_id": one(sa.select(Campaign.id).where(Campaign.status == CampaignStatus.LIVE)),
        "closed_campaign": one(sa.select(Campaign.slug).where(Campaign.status == CampaignStatus.CLOSED)),
        "waiting_campaign_id": one(
            sa.select(Campaign.id).where(Campaign.status == CampaignStatus.AWAITING_APPROVAL)
        ),
        "pledge": one(sa.select(Donation.id).where(Donation.status == DonationStatus.PENDING).limit(1)),
        "claim": one(sa.select(GiftAidClaim.id).limit(1)),
        "this_year": today.year,
        # The demo bids: one in drafting led by the Calne Youth Project (and Calne's own part of it), one won,
        # its award, its first reporting date and the return Westbury has sent in for it.
        "drafting_bid": one(sa.select(Bid.id).where(Bid.title == BID_TITLE)),
        "calne_part": one(
            sa.select(BidPartner.id)
            .join(Bid, Bid.id == BidPartner.bid_id)
            .where(Bid.title == BID_TITLE, BidPartner.organisation_id == calne)
        ),
        "won_bid": one(sa.select(Bid.id).where(Bid.title == WON_TITLE)),
        "award": one(
            sa.select(BidAward.id).join(Bid, Bid.id == BidAward.bid_id).where(Bid.title == WON_TITLE)
        ),
        "return_in": one(
            sa.select(MonitoringReturn.id).where(MonitoringReturn.submitted_at.is_not(None)).limit(1)
        ),
        "reporting_date": one(
            sa.select(MonitoringReturn.reporting_date_id)
            .where(MonitoringReturn.submitted_at.is_not(None))
            .limit(1)
        ),
        "open_opportunity": one(
            sa.select(FundingOpportunity.id)
            .where(FundingOpportunity.status == OpportunityStatus.PUBLISHED)
            .order_by(FundingOpportunity.id)
            .limit(1)
        ),
        "suggested_opportunity": one(
            sa.select(FundingOpportunity.id)
            .where(FundingOpportunity.status == OpportunityStatus.SUGGESTED)
            .limit(1)
        ),
        # events: one at a venue (with its accessibility), one online, and the Calne Youth Project's course
        "venue_event": one(sa.select(Event.id).where(Event.title == VENUE_EVENT_TITLE)),
        "online_event": one(sa.select(Event.id).where(Event.title == ONLINE_EVENT_TITLE)),
        "course_event": one(sa.select(Event.id).where(Event.title == COURSE_TITLE)),
        # the full event with its waiting list, an entry of the Calne Youth Project's, and the past event
        "full_event": one(sa.select(Event.id).where(Event.title == FULL_EVENT_TITLE)),
        "past_event": one(sa.select(Event.id).where(Event.title == PAST_EVENT_TITLE)),
        "calne_entry": one(
            sa.select(Registration.id)
            .where(Registration.organisation_id == calne)
            .order_by(Registration.id)
            .limit(1)
        ),
        # the course's entry waiting for its fee by bank transfer
        "awaiting_entry": one(
            sa.select(Registration.id)
            .where(Registration.status == RegistrationStatus.AWAITING_PAYMENT)
            .limit(1)
        ),
        # the library: a resource members see, and one waiting for staff
        "resource": one(
            sa.select(LibraryResource.id)
            .where(LibraryResource.status == ResourceStatus.APPROVED)
            .order_by(LibraryResource.id)
            .limit(1)
        ),
        "waiting_resource": one(
            sa.select(LibraryResource.id).where(LibraryResource.status == ResourceStatus.PENDING).limit(1)
        ),
        "invitation": one(
            sa.select(CampaignPartner.id)
            .join(Campaign, Campaign.id == CampaignPartner.campaign_id)
            .where(
                Campaign.status == CampaignStatus.AWAITING_APPROVAL,
                CampaignPartner.status == PartnerStatus.INVITED,
            )
        ),
    }


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


# At most this many pages per visit: each visit is a test of its own, and the test processes share them out.
PAGES_PER_VISIT = 8


def _visits() -> list[Any]:
    """Each visitor's pages, PAGES_PER_VISIT at a time, in the order of PAGES."""
    visits = []
    for email, paths in PAGES.items():
        who = (email or "anonymous").split("@")[0]
        parts = [paths[i : i + PAGES_PER_VISIT] for i in range(0, len(paths), PAGES_PER_VISIT)]
        for n, part in enumerate(parts, 1):
            visits.append(pytest.param(email, part, id=f"{who}-{n}" if len(parts) > 1 else who))
    return visits


@dataclass
class Tour:
    app: Flask
    server: LiveServer
    ids: dict[str, object]
    seeded: DatabaseSnapshot


@pytest.fixture(scope="module")
def tour(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    """The live server, its application sending mail to an SMTP sink, and the demo data seeded once and saved."""
    sink = SmtpSink().start()
    app = make_test_app(live_settings(settings_for(database_url, tmp_path_factory.mktemp("tour")), sink))
    server = LiveServer(app).start()
    try:
        with app.app_context():
            list(seed())
            ids = _ids(db)
            db.session.commit()
            seeded = DatabaseSnapshot(Path(app.config["UPLOAD_FOLDER"]))
            db.session.remove()
        yield Tour(app=app, server=server, ids=ids, seeded=seeded)
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            clear_tables()
            db.engine.dispose()
        sink.stop()


@pytest.fixture
def live_server(tour: Tour) -> LiveServer:
    """The tour's server, for `browse`, with the demo data put back as seeded for each visit."""
    with tour.app.app_context():
        tour.seeded.restore()
    return tour.server


@pytest.mark.parametrize(("email", "paths"), _visits())
def test_main_pages_fit_a_phone_and_a_laptop_and_pass_the_accessibility_check(
    tour, browse, screenshot, email, paths
):
    ids = tour.ids
    missing = [name for name, value in ids.items() if value is None]
    assert missing == [], f"the demo data has none of: {missing}"
    too_wide = []
    who = (email or "anonymous").split("@")[0]
    visitor = browse(who)
    page = visitor.page
    if email:
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard")
    for path in paths:
        url = path.format(**ids)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844 if width < 600 else 900})
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{who}: {url} at {width} px"
            if width < 600:
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                if scroll_width > width:
                    widest = page.evaluate(
                        "() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 392)"
                        ".slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
                    )
                    too_wide.append(f"{who} {url}: {scroll_width} px ({', '.join(widest)})")
            screenshot(page, f"main-{who}-{_slug(path)}-{width}")
    visitor.assert_clean()
    assert too_wide == [], "\n".join(too_wide)
