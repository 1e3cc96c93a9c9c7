"""The permissions matrix: every route, for every kind of visitor.

Visitors: anonymous, a panel reviewer, the admin of another organisation, a member (not admin) of organisation A,
foundation staff, and the admin of organisation A. The world: A owns a venue with a space, has a booking of its
own space, a document, an invitation, a notification to its admin; B is another approved organisation.

Outcomes: "ok" (the route answered: any status except 401/403/404/405/500 and no redirect to sign in),
"login" (redirected to sign in), 403, 404, and "any" (links carrying a secret token: the answer may not be 500
and must be the same for everyone). A route missing from the matrix fails the test, so new routes get a row.

The world is built once per database (and per test process) and saved: its rows, its sequences and its uploaded
files. Every route starts from the saved world put back as it was built, and so does the next visitor after one
whose POST succeeded, so no visitor ever sees what another changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask, current_app

from foundation.auth import open_session
from foundation.extensions import db
from foundation.fundraising import campaigns, claims
from foundation.fundraising.models import CampaignStatus, DonationStatus
from foundation.grants.models import ConflictDeclaration, DeclineReason, ReviewAssignment, RoundStatus
from foundation.members.models import DocumentKind, Invitation, MemberRole, Organisation, User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify
from foundation.types import utcnow
from foundation.uploads import stored_path
from foundation.venues.ical import calendar_token_for
from foundation.venues.models import Holiday, HolidayKind, OccurrenceStatus, VenuePhoto
from tests.bids.factories import bids_world
from tests.conftest import DatabaseSnapshot, clear_tables, make_test_app, settings_for
from tests.events.attendance_factories import on_the_day_world
from tests.events.factories import events_world
from tests.events.registration_factories import fees_world, registrations_world
from tests.factories import add_document, add_member, make_org, make_user
from tests.fundraising.factories import make_campaign, make_donation, make_pledge
from tests.grants.factories import make_application, make_decided_grant, make_round
from tests.library.factories import library_world
from tests.venues.factories import add_closure, make_booking, make_space, make_venue

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

ROLES = ("anonymous", "panel", "conflicted", "reviewer", "other_admin", "member", "staff", "org_admin")

OK, LOGIN, ANY = "ok", "login", "any"

# Policies, in the order anonymous, panel, other_admin, member, staff, org_admin; the two assigned panel
# reviewers ("conflicted": declared a conflict on A's application; "reviewer": assigned, no conflict) are
# treated like any panel member unless a policy names all eight.
PUBLIC = (OK, OK, OK, OK, OK, OK)
SIGNED_IN = (LOGIN, OK, OK, OK, OK, OK)
STAFF = (LOGIN, 403, 403, 403, OK, 403)
# Organisation A's private pages: its members and staff read them; others are told nothing exists.
ORG_READ = (LOGIN, 404, 404, OK, OK, OK)
# Organisation A managed by its admins only; a member is refused, staff read but do not manage.
ORG_ADMIN = (LOGIN, 404, 404, 403, 403, OK)
# Something addressed to organisation A's admin (a notification): nobody else learns it exists.
OWN_ONLY = (LOGIN, 404, 404, 404, 404, OK)
TOKEN = (ANY, ANY, ANY, ANY, ANY, ANY)
# A booking of organisation A: its members and staff see it; members and admins of A may cancel it.
BOOKING_READ = (LOGIN, 404, 404, OK, OK, OK)
BOOKING_BOOKER = (LOGIN, 404, 404, OK, 403, OK)
BOOKING_OWNER = (LOGIN, 404, 404, 403, 403, OK)
# Sending a booking: a member of some organisation (panel and staff without one are refused).
BOOKS = (LOGIN, 403, OK, OK, 403, OK)
# Organisation A's venues, managed by its admins, with staff able to help.
VENUE_MANAGE = (LOGIN, 404, 404, 403, OK, OK)

# Seed grants: staff-only pages are STAFF. Organisation A's application and grant:
ORG_WRITE = (LOGIN, 404, 404, OK, 403, OK)  # its members edit; staff read but do not write for them
PANEL = (LOGIN, OK, OK, OK, 403, 403, OK, 403)  # the panel's own pages (staff may look)
# The assigned reviewer's assignment: only they score it; other reviewers are told nothing exists.
REVIEW = (LOGIN, 404, 404, OK, 403, 403, 404, 403)

# Fundraising: a live campaign led by organisation A, with organisation B invited as a partner.
LEADS = (LOGIN, 403, OK, 403, OK, OK)  # starting a campaign: an admin of some organisation, or staff
CAMPAIGN_LEAD = (LOGIN, 403, 403, 403, OK, OK)  # the lead's admins and staff; the campaign is public, so 403
PARTNER = (LOGIN, 404, OK, 404, 403, 403)  # B's admin answers B's invitation; the lead and staff are refused
DONOR_OWN = (
    LOGIN,
    404,
    404,
    OK,
    404,
    404,
)  # A's member gave with Gift Aid: their declaration is theirs alone

# Funding: members of an approved organisation (A's and B's people) and staff; the panel member belongs to none.
FUNDING_MEMBERS = (LOGIN, 403, OK, OK, OK, OK)
FUNDING_SUGGEST = (LOGIN, 403, OK, OK, 403, OK)
# Bids: a bid led by A that B has joined. The consortium (A's people, B's people) and staff see it; the lead's
# admins and staff manage it; only B's people write B's part; to anyone else it does not exist.
BID_START = (LOGIN, 403, OK, 403, OK, OK)  # staff, or an admin of an organisation in good standing
TEAM = (LOGIN, 404, OK, OK, OK, OK)
BID_MANAGE = (LOGIN, 404, 403, 403, OK, OK)
PART_WRITE = (LOGIN, 404, OK, 403, 403, 403)
TASK_OWNER = (LOGIN, 404, 403, OK, OK, OK)  # A's member owns the task; the managers may tick it off too
UPLOADER = (LOGIN, 404, OK, 403, OK, OK)  # B's admin shared the document; the managers may remove it
STAFF_STEP = (LOGIN, 404, 403, 403, OK, 403)
# Monitoring returns: B's return on the won bid. B's people write it; the bid's managers (staff, A's admin) read it;
# to anyone else, A's plain member included, it does not exist. The consolidated return is the managers'.
RETURN_READ = (LOGIN, 404, OK, 404, OK, OK)
RETURN_WRITE = (LOGIN, 404, OK, 404, 403, 403)
# --- library ---
# An approved resource of A's with two versions. Anyone sees the list of titles; people of an organisation in good
# standing (B's admin, A's people) and staff open it (the panel member belongs to none: 403); old versions are A's
# and staff's; A's admins change it; staff may also withdraw it.
LIBRARY_READ = (LOGIN, 403, OK, OK, OK, OK)
LIBRARY_SHARE = (LOGIN, 403, OK, OK, 403, OK)
LIBRARY_MANAGE = (LOGIN, 403, 403, 403, 403, OK)
LIBRARY_WITHDRAW = (LOGIN, 403, 403, 403, OK, OK)
# --- end library ---
# --- events ---
# A published event organised by A. Anyone reads it; staff and admins of an organisation in good standing (A's and
# B's) list events; A's admins and staff manage A's event (it is public, so others are refused: 403).
EVENT_LIST = (LOGIN, 403, OK, 403, OK, OK)
EVENT_MANAGE = (LOGIN, 403, 403, 403, OK, OK)
# --- end events ---
# --- events: on the day and after ---
# A's member is registered for A's event. The organiser's pages (register, feedback results) are A's admins' and
# staff's; the event is public, so others are refused (403). The member's certificate: theirs, their admins' and
# the organiser's (not yet attended: they are told why); to anyone else it does not exist. Nobody has attended
# the event yet, so the feedback form is refused to everyone.
ON_THE_DAY_FEEDBACK = (LOGIN, 403, 403, 403, 403, 403)
# --- end events: on the day and after ---
# --- events: registration and waiting lists ---
# A's member registered themselves for A's event (one entry). Registering is for members of an organisation (the
# panel member and staff belong to none). The entry is its organisation's (A's people) and the organiser's (A's
# admins, staff); to anyone else it does not exist. Offers are answered by the entry's organisation only; the maker
# or an admin cancels, and so may the organiser; approving, declining and moving are the organiser's.
EVENT_REGISTER = (LOGIN, 403, OK, OK, 403, OK)
ENTRY_READ = (LOGIN, 404, 404, OK, OK, OK)
ENTRY_ANSWER = (LOGIN, 404, 404, OK, 403, OK)
ENTRY_ORGANISER = (LOGIN, 404, 404, 403, OK, OK)
# --- end events: registration and waiting lists ---

MATRIX: dict[str, tuple | dict[str, tuple]] = {
    # public
    "public.home": PUBLIC,
    "public.directory": PUBLIC,
    "public.member_profile": PUBLIC,
    "public.healthz": PUBLIC,
    "public.favicon": PUBLIC,
    "public.accessibility": PUBLIC,
    "public.privacy": PUBLIC,
    "public.contact": PUBLIC,
    "public.open_data": PUBLIC,
    # accounts: open to anyone (signed-in visitors are sent on to their dashboard)
    "members.register": PUBLIC,
    "members.login": PUBLIC,
    "members.forgot_password": PUBLIC,
    "members.reset_password": TOKEN,
    "members.confirm_email": TOKEN,
    "members.confirm_email_change": TOKEN,
    "members.invitation": TOKEN,
    "members.logout": SIGNED_IN,
    "members.resend_confirmation": SIGNED_IN,
    "members.account": SIGNED_IN,
    "members.privacy": SIGNED_IN,
    "members.export_data": SIGNED_IN,
    "members.close_account": SIGNED_IN,
    "members.dashboard": SIGNED_IN,
    # organisations
    "members.register_organisation": SIGNED_IN,
    "members.organisation": ORG_READ,
    "members.edit_organisation": ORG_ADMIN,
    "members.resubmit_organisation": ORG_ADMIN,
    "members.upload_document": ORG_ADMIN,
    "members.download_document": ORG_READ,
    "members.invite_colleague": ORG_ADMIN,
    "members.revoke_invitation": ORG_ADMIN,
    "members.change_member_role": ORG_ADMIN,
    "members.remove_member": ORG_ADMIN,
    # staff
    "members.staff_home": STAFF,
    "members.vetting_queue": STAFF,
    "members.vetting_review": STAFF,
    "members.staff_users": STAFF,
    "members.set_user_roles": STAFF,
    "notifications.staff_outbox": STAFF,
    "notifications.staff_retry": STAFF,
    "venues.holidays": STAFF,
    "venues.holiday_edit": STAFF,
    "venues.holiday_delete": STAFF,
    "venues.holidays_load": STAFF,
    # notifications
    "notifications.inbox": SIGNED_IN,
    "notifications.mark_all_read": SIGNED_IN,
    "notifications.preferences": SIGNED_IN,
    "notifications.show": OWN_ONLY,
    "notifications.mark_read": OWN_ONLY,
    # Venue Bank: booking
    # anyone signed in may look; only members of an organisation can send a booking
    "venues.book": {"GET": SIGNED_IN, "POST": BOOKS},
    "venues.book_confirm": BOOKS,
    "venues.my_bookings": SIGNED_IN,
    "venues.requests": SIGNED_IN,
    "venues.request_alerts": SIGNED_IN,
    "venues.organisation_bookings": ORG_READ,
    "venues.booking_detail": BOOKING_READ,
    "venues.booking_calendar": BOOKING_READ,
    "venues.booking_cancel": BOOKING_BOOKER,
    "venues.booking_extend": BOOKING_BOOKER,
    "venues.booking_extend_confirm": BOOKING_BOOKER,
    "venues.booking_decide": BOOKING_OWNER,
    # Venue Bank: public search, venue pages, calendars, API
    "venues.search": PUBLIC,
    "venues.venue": PUBLIC,
    "venues.venue_photo": PUBLIC,
    "venues.space_calendar": PUBLIC,
    "venues.api_venues": PUBLIC,
    "venues.api_space_freebusy": PUBLIC,
    # Venue Bank: the owner's pages (organisation A's admins; staff help them)
    "venues.my_venues": VENUE_MANAGE,
    "venues.venue_new": VENUE_MANAGE,
    "venues.venue_manage": VENUE_MANAGE,
    "venues.venue_edit": VENUE_MANAGE,
    "venues.venue_hours": VENUE_MANAGE,
    "venues.venue_archive": VENUE_MANAGE,
    "venues.venue_unarchive": VENUE_MANAGE,
    "venues.closure_add": VENUE_MANAGE,
    "venues.closure_delete": VENUE_MANAGE,
    "venues.space_new": VENUE_MANAGE,
    "venues.space_edit": VENUE_MANAGE,
    "venues.space_archive": VENUE_MANAGE,
    "venues.space_unarchive": VENUE_MANAGE,
    "venues.photo_add": VENUE_MANAGE,
    "venues.photo_delete": VENUE_MANAGE,
    "venues.photo_move": VENUE_MANAGE,
    # Seed grants: public
    "grants.rounds_public": PUBLIC,
    "grants.round_public": PUBLIC,
    "grants.ledger_public": PUBLIC,
    "grants.scorecard": PUBLIC,
    "grants.scorecard_round": PUBLIC,
    "grants.open_data_json": PUBLIC,
    "grants.open_data_csv": PUBLIC,
    # Seed grants: applicants
    "grants.application_new": SIGNED_IN,
    "grants.application": {"GET": ORG_READ, "POST": ORG_WRITE},
    "grants.application_submit": ORG_WRITE,
    "grants.application_withdraw": ORG_WRITE,
    "grants.organisation_applications": ORG_READ,
    "grants.award_list": SIGNED_IN,
    "grants.award_detail": ORG_READ,
    "grants.award_accept": ORG_ADMIN,
    "grants.award_report": {"GET": ORG_READ, "POST": ORG_WRITE},
    # Seed grants: panel
    "grants.panel_home": PANEL,
    "grants.review": REVIEW,
    # Seed grants: staff
    "grants.staff_rounds": STAFF,
    "grants.round_new": STAFF,
    "grants.round_manage": STAFF,
    "grants.round_edit": STAFF,
    "grants.round_review_deadline": STAFF,
    "grants.round_criteria": STAFF,
    "grants.round_questions": STAFF,
    "grants.round_advance": STAFF,
    "grants.round_allocate": STAFF,
    "grants.round_deallocate": STAFF,
    "grants.round_reviewers": STAFF,
    "grants.ranking": STAFF,
    "grants.export_reviews": STAFF,
    "grants.fund": STAFF,
    "grants.fund_deposit": STAFF,
    "grants.decline_reasons": STAFF,
    "grants.decline_reason_update": STAFF,
    "grants.staff_applications": STAFF,
    "grants.staff_return_application": STAFF,
    "grants.staff_accept_late": STAFF,
    "grants.decide": STAFF,
    "grants.grant_list": STAFF,
    "grants.grant_manage": STAFF,
    "grants.grant_terms": STAFF,
    "grants.grant_schedule": STAFF,
    "grants.review_report": STAFF,
    "grants.record_payment": STAFF,
    "grants.grant_withdraw": STAFF,
    "grants.grant_end": STAFF,
    # Payments: a provider's webhook answers everyone alike (a body that is no signed event: 400)
    "payments.webhook": PUBLIC,
    # Fundraising: the public and donors
    "fundraising.campaigns_list": PUBLIC,
    "fundraising.campaign": PUBLIC,
    "fundraising.campaign_image": PUBLIC,
    "fundraising.donate": PUBLIC,
    "fundraising.donation_thanks": TOKEN,
    "fundraising.money_trail": PUBLIC,
    "fundraising.my_giving": SIGNED_IN,
    "fundraising.statement": SIGNED_IN,
    "fundraising.cancel_declaration": DONOR_OWN,
    # Fundraising: running a campaign (organisation A leads; B is invited)
    "fundraising.campaign_new": LEADS,
    "fundraising.campaign_edit": CAMPAIGN_LEAD,
    "fundraising.campaign_manage": CAMPAIGN_LEAD,
    "fundraising.campaign_invite": CAMPAIGN_LEAD,
    "fundraising.campaign_step": CAMPAIGN_LEAD,
    "fundraising.campaign_send_back": CAMPAIGN_LEAD,
    "fundraising.partner_invitation": PARTNER,
    # Fundraising: staff
    "fundraising.staff_home": STAFF,
    "fundraising.staff_donations": STAFF,
    "fundraising.staff_donations_csv": STAFF,
    "fundraising.staff_donation": STAFF,
    "fundraising.donation_received": STAFF,
    "fundraising.donation_cancel": STAFF,
    "fundraising.staff_messages": STAFF,
    "fundraising.donation_message": STAFF,
    "fundraising.staff_match": STAFF,
    # a campaign's money by month: staff, and the lead organisation's admins (as for the campaign's own page)
    "fundraising.staff_campaign_report": CAMPAIGN_LEAD,
    "fundraising.staff_campaign_report_csv": CAMPAIGN_LEAD,
    "fundraising.match_payment": STAFF,
    "fundraising.staff_gift_aid": STAFF,
    "fundraising.claim_create": STAFF,
    "fundraising.claim": STAFF,
    "fundraising.claim_schedule": STAFF,
    "fundraising.claim_payment": STAFF,
    # Venue Bank: calendars
    "venues.space_busy_feed": PUBLIC,
    "venues.organisation_feed": PUBLIC,
    "venues.calendar_feeds": ORG_ADMIN,
    "venues.reset_calendar_link": ORG_ADMIN,
    # Funding: people in an approved member organisation, and staff; suggesting needs good standing (staff add
    # opportunities instead); the register, reviewing and prospecting are staff's
    "bids.opportunities_list": FUNDING_MEMBERS,
    "bids.opportunity": FUNDING_MEMBERS,
    "bids.suggest": FUNDING_SUGGEST,
    "bids.interests_settings": FUNDING_SUGGEST,
    "bids.funders_list": STAFF,
    "bids.funder_new": STAFF,
    "bids.funder_edit": STAFF,
    "bids.staff_opportunities": STAFF,
    "bids.opportunity_new": STAFF,
    "bids.opportunity_edit": STAFF,
    "bids.opportunity_review": STAFF,
    "bids.opportunity_archive": STAFF,
    "bids.prospecting_upload": STAFF,
    "bids.prospect_import": STAFF,
    # Bids: A leads a bid that B has joined (B wrote its part, shared a document; A's member owns a task)
    "bids.bids_list": FUNDING_MEMBERS,
    "bids.bid_start": BID_START,
    "bids.bid": TEAM,
    "bids.bid_assembled": TEAM,
    "bids.bid_budget_csv": TEAM,
    "bids.bid_edit": BID_MANAGE,
    "bids.bid_invite": BID_MANAGE,
    "bids.bid_step": STAFF_STEP,  # the world's step is "submit": staff only (the trustees sign off)
    # A second bid of A's with B, won: staff record the award and move its money; the consortium reads it; the
    # money trail is public
    "bids.bid_award": STAFF_STEP,
    "bids.award": TEAM,
    "bids.award_payment": STAFF_STEP,
    "bids.award_split": STAFF_STEP,
    "bids.award_instalment": STAFF_STEP,
    "bids.award_money": PUBLIC,
    "bids.bid_task_add": BID_MANAGE,
    "bids.bid_task_done": TASK_OWNER,
    "bids.bid_invitation": PARTNER,
    "bids.bid_part": {"GET": TEAM, "POST": PART_WRITE},
    "bids.bid_part_reach": PART_WRITE,
    "bids.bid_part_line": PART_WRITE,
    "bids.bid_part_line_remove": PART_WRITE,
    "bids.bid_document_upload": TEAM,
    "bids.bid_document": TEAM,
    "bids.bid_document_remove": UPLOADER,
    "bids.monitoring_return": {"GET": RETURN_READ, "POST": RETURN_WRITE},
    "bids.monitoring_return_submit": RETURN_WRITE,
    "bids.consolidated_return": BID_MANAGE,
    "bids.consolidated_return_csv": BID_MANAGE,
    "bids.pipeline_page": STAFF,
    "bids.pipeline_csv": STAFF,
    "bids.success_rates": STAFF,
    # --- library ---
    "library.index": PUBLIC,
    "library.resource": LIBRARY_READ,
    "library.download": LIBRARY_READ,
    "library.version_download": ORG_READ,
    "library.share": LIBRARY_SHARE,
    "library.ours": SIGNED_IN,
    "library.edit": LIBRARY_MANAGE,
    "library.replace": LIBRARY_MANAGE,
    "library.withdraw": LIBRARY_WITHDRAW,
    "library.review_queue": STAFF,
    "library.review": STAFF,
    # --- end library ---
    # --- events ---
    "events.events_list": PUBLIC,
    "events.events_feed": PUBLIC,
    "events.event_page": PUBLIC,
    "events.event_calendar": PUBLIC,
    "events.event_new": EVENT_LIST,
    "events.events_mine": SIGNED_IN,
    "events.event_edit": EVENT_MANAGE,
    "events.event_manage": EVENT_MANAGE,
    "events.event_publish": EVENT_MANAGE,
    "events.event_cancel": EVENT_MANAGE,
    # --- end events ---
    # --- events: on the day and after ---
    "events.register_sheet": EVENT_MANAGE,
    "events.register_sheet_print": EVENT_MANAGE,
    "events.feedback_results": EVENT_MANAGE,
    "events.feedback_form": ON_THE_DAY_FEEDBACK,
    "events.certificate": ORG_READ,
    "events.my_training": SIGNED_IN,
    "events.organisation_training": ORG_READ,
    "events.coverage_table": STAFF,
    "events.coverage_csv": STAFF,
    # --- end events: on the day and after ---
    # --- events: registration and waiting lists ---
    "events.register": {"GET": EVENT_REGISTER, "POST": EVENT_REGISTER},
    "events.registration": ENTRY_READ,
    "events.registration_accept": ENTRY_ANSWER,
    "events.registration_decline_offer": ENTRY_ANSWER,
    "events.registration_cancel": ENTRY_READ,
    "events.registration_approve": ENTRY_ORGANISER,
    "events.registration_decline": ENTRY_ORGANISER,
    "events.registration_move": ENTRY_ORGANISER,
    "events.event_registrations": EVENT_MANAGE,
    "events.my_registrations": SIGNED_IN,
    "events.registration_pay": ENTRY_ANSWER,
    "events.staff_fees": STAFF,
    "events.staff_fee_received": STAFF,
    "events.staff_fee_cancel": STAFF,
    "events.staff_fee_refunded": STAFF,
    # --- end events: registration and waiting lists ---
}


@dataclass
class World:
    users: dict[str, object]
    values: dict[str, object]


def build_world() -> World:
    staff = make_user(staff=True)
    panel = make_user(panel=True)
    org_admin = make_user()
    member = make_user()
    other_admin = make_user()
    org_a = make_org(admin=org_admin, name="Organisation A")
    membership = add_member(org_a, member, MemberRole.MEMBER)
    make_org(admin=other_admin, name="Organisation B")
    document = add_document(org_a, DocumentKind.GOVERNING_DOCUMENT, None, uploaded_by=org_admin)
    invitation = Invitation(
        organisation_id=org_a.id,
        email="newcomer@example.org",
        role=MemberRole.MEMBER,
        invited_by_id=org_admin.id,
        expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(invitation)
    venue = make_venue(org_a)
    space = make_space(venue, needs_approval=True)
    closure = add_closure(venue, date.today() + timedelta(days=60))
    photo = VenuePhoto(
        venue_id=venue.id, stored_name="hall.png", content_type="image/png", caption="The hall"
    )
    db.session.add(photo)
    for folder, name, data in (
        ("venue-photos", "hall.png", PNG),
        ("documents", document.stored_name, b"%PDF-1.4"),
    ):
        stored_path(folder, name).parent.mkdir(parents=True, exist_ok=True)
        stored_path(folder, name).write_bytes(data)
    start = date.today() + timedelta(days=14)
    booking = make_booking(
        space, org_a, start, start + timedelta(weeks=3), weekdays=(start.weekday(),),
        status=OccurrenceStatus.REQUESTED, booked_by=member,
    )  # fmt: skip
    holiday = Holiday(kind=HolidayKind.BANK, name="Test day", starts_on=start, ends_on=start)
    db.session.add(holiday)
    note = notify(
        org_admin, NotificationKind.STAFF_QUEUE, "For the admin of A", "staff_vetting_queue", org=org_a
    )
    token = calendar_token_for(org_a)
    # Seed grants: A applied in an open round; A holds a grant offered in a decided round.
    reviewer, conflicted = make_user(panel=True), make_user(panel=True)
    open_round = make_round(RoundStatus.OPEN)
    application = make_application(open_round, org_a, by=member)
    review = ReviewAssignment(
        application_id=application.id, reviewer_id=reviewer.id, conflict=ConflictDeclaration.NONE,
        declared_at=utcnow(),
    )  # fmt: skip
    db.session.add(review)
    db.session.add(
        ReviewAssignment(
            application_id=application.id, reviewer_id=conflicted.id, conflict=ConflictDeclaration.CONFLICT,
            conflict_reason="I chair their trustees", declared_at=utcnow(),
        )
    )  # fmt: skip
    decided_round = make_round(RoundStatus.IN_REVIEW)
    grant = make_decided_grant(decided_round, org_a, staff)
    decided_round.status = RoundStatus.DECIDED
    reason = DeclineReason(label="Outside this round's priorities")
    db.session.add(reason)
    db.session.flush()
    # Fundraising: A leads a live campaign with a picture; B is invited; A's member gave with Gift Aid (received
    # and claimed); a pledge is pending; a match funder pledged.
    campaign = make_campaign(CampaignStatus.LIVE, lead=org_a, by=staff)
    campaign.image_name, campaign.image_alt = "mural.png", "A mural"
    stored_path("campaigns", "mural.png").parent.mkdir(parents=True, exist_ok=True)
    stored_path("campaigns", "mural.png").write_bytes(PNG)
    partner = campaigns.invite(campaign, db.session.get(Organisation, other_org_id(other_admin)), staff)
    given = make_donation(campaign, 2_500, DonationStatus.SUCCEEDED, gift_aid=True, user=member,
                          email=member.email, by=staff)  # fmt: skip
    pledged = make_donation(campaign, 1_000, DonationStatus.PENDING, message="Good luck", by=staff)
    pledge = make_pledge(campaign, by=staff)
    claim = claims.create([given.id], staff)
    db.session.flush()
    funding = bids_world(staff, member, org_a, org_admin, other_admin)
    library = library_world(org_a, org_admin, staff)  # library
    events = events_world(org_a, org_admin)  # events
    on_the_day = on_the_day_world(events, member, org_a, org_admin)  # events: on the day and after
    entries = registrations_world(on_the_day)  # events: registration and waiting lists
    entries |= fees_world(org_a, member)  # events: a fee waiting for a bank transfer
    values = {
        "org_id": org_a.id,
        "membership_id": membership.id,
        "invitation_id": invitation.id,
        "doc_id": document.id,
        "notification_id": note.id,
        "booking_id": booking.id,
        "space_id": space.id,
        "venue_id": venue.id,
        "closure_id": closure.id,
        "photo_id": photo.id,
        "holiday_id": holiday.id,
        "user_id": member.id,
        "token": token.token,
        "round_id": open_round.id,
        "application_id": application.id,
        "assignment_id": review.id,
        "grant_id": grant.id,
        "instalment_id": grant.instalments[0].id,
        "reason_id": reason.id,
        "campaign_id": campaign.id,
        "slug": campaign.slug,
        "partner_id": partner.id,
        "donation_id": pledged.id,
        "declaration_id": given.declaration_id,
        "pledge_id": pledge.id,
        "claim_id": claim.id,
        **funding,
        **library,
        **events,
        **on_the_day,  # events: on the day and after (the same event_id)
        **entries,  # events: registration and waiting lists (the member's entry on that event)
        "step": "submit",
        "provider": "stripe",
        "year": date.today().year,
        "table": "stages",
    }
    users = {
        "panel": panel,
        "reviewer": reviewer,
        "conflicted": conflicted,
        "other_admin": other_admin,
        "member": member,
        "staff": staff,
        "org_admin": org_admin,
    }
    db.session.commit()
    return World(users=users, values=values)


def other_org_id(admin) -> int:
    return admin.memberships[0].organisation_id


def _url(rule, world: World) -> str:
    from flask import url_for

    args = {}
    for name in rule.arguments:
        if name not in world.values:
            raise AssertionError(
                f"the matrix has no value for <{name}> in {rule.rule}: add one to build_world"
            )
        args[name] = world.values[name]
    if rule.endpoint in {"members.reset_password", "members.confirm_email", "members.confirm_email_change"}:
        args["token"] = "not-a-real-token"
    if rule.endpoint == "members.invitation":
        args["token"] = "not-a-real-token"
    return url_for(rule.endpoint, **args)


def _outcome(response) -> object:
    status = response.status_code
    if status in (301, 302, 303, 307, 308) and "/login" in response.headers.get("Location", ""):
        return LOGIN
    if status in (401, 403, 404, 405, 500):
        return status
    return OK


def _rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: (r.endpoint, r.rule)
    )


class SavedWorld:
    """The world as built (a snapshot of the database and uploads), with its values and visitors' ids."""

    def __init__(self, world: World, upload_folder: Path) -> None:
        self.values = world.values
        self.user_ids = {role: user.id for role, user in world.users.items()}  # type: ignore[attr-defined]
        self.snapshot = DatabaseSnapshot(upload_folder)

    def restore(self) -> World:
        """Put the world back as it was built; the visitors are loaded afresh in the current session."""
        self.snapshot.restore()
        users = {role: db.session.get(User, user_id) for role, user_id in self.user_ids.items()}
        return World(users=users, values=self.values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def matrix_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One application for the whole matrix on each database: the routes only answer, so they share it."""
    app = make_test_app(settings_for(database_url, tmp_path_factory.mktemp("matrix")))
    yield app
    with app.app_context():
        db.session.remove()
        clear_tables()
        db.engine.dispose()


@pytest.fixture(scope="module")
def saved_world(matrix_app: Flask) -> SavedWorld:
    with matrix_app.app_context():
        with matrix_app.test_request_context():
            world = build_world()
        saved = SavedWorld(world, Path(matrix_app.config["UPLOAD_FOLDER"]))
        db.session.remove()
    return saved


@pytest.fixture
def world(matrix_app: Flask, saved_world: SavedWorld) -> Iterator[World]:
    """The world as built, in a fresh app context of the matrix's application."""
    with matrix_app.app_context():
        yield saved_world.restore()
        db.session.remove()


def test_every_route_is_in_the_matrix(matrix_app):
    endpoints = {r.endpoint for r in _rules(matrix_app)}
    assert endpoints - set(MATRIX) == set(), "routes missing from the permissions matrix"
    assert set(MATRIX) - endpoints == set(), "matrix rows for routes that no longer exist"


def pytest_generate_tests(metafunc):
    if "endpoint" in metafunc.fixturenames:
        metafunc.parametrize("endpoint", sorted(MATRIX))


def _expected(policy: tuple) -> dict[str, object]:
    if len(policy) == 6:  # assigned reviewers are panel members like any other
        anonymous, panel, other_admin, member, staff, org_admin = policy
        policy = (anonymous, panel, panel, panel, other_admin, member, staff, org_admin)
    return dict(zip(ROLES, policy, strict=True))


def _routes(endpoint: str, world: World) -> tuple[list, dict[str, str]]:
    with current_app.test_request_context():
        rules = [r for r in _rules(current_app) if r.endpoint == endpoint]
        urls = {rule.rule: _url(rule, world) for rule in rules}
    return rules, urls


def test_route_answers_each_visitor_as_the_matrix_says(matrix_app, saved_world, world, endpoint):
    app = matrix_app
    rules, urls = _routes(endpoint, world)
    assert rules, f"{endpoint} is not a route"
    policy = MATRIX[endpoint]
    seen: dict[tuple[str, str], object] = {}
    for rule in rules:
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            expected = _expected(policy[method] if isinstance(policy, dict) else policy)
            for role in ROLES:
                client = app.test_client()
                if role != "anonymous":
                    user = world.users[role]
                    with client.session_transaction() as session:
                        session["_user_id"] = open_session(user)[1]
                        session["_fresh"] = True
                response = client.open(urls[rule.rule], method=method, data={})
                got = _outcome(response)
                assert got != 500, f"{method} {urls[rule.rule]} as {role}: 500"
                seen[(method, role)] = got
                want = expected[role]
                if want != ANY:
                    assert got == want, (
                        f"{method} {urls[rule.rule]} as {role}: expected {want}, got {got} ({response.status_code})"
                    )
                later = ROLES[ROLES.index(role) + 1 :]
                if method == "POST" and got == OK and any(expected[r] in (OK, ANY) for r in later):
                    # The allowed visitor may have changed or deleted the object: the next visitor gets the world
                    # as it was built.
                    world = saved_world.restore()
            if expected["anonymous"] == ANY:
                outcomes = {seen[(method, role)] for role in ROLES}
                assert len(outcomes) == 1, (
                    f"{method} {endpoint}: a bad token answered differently: {outcomes}"
                )
