"""`flask seed-demo`: demo data in every town and for every part of the seed-grant system, and a second run adds
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from foundation.extensions import db as _db
from foundation.grants import applications, money
from foundation.grants.models import (
    Application,
    ApplicationStatus,
    ConflictDeclaration,
    DecisionOutcome,
    GrantRound,
    GrantStatus,
    ReportStatus,
    RoundStatus,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from foundation.members.models import Area, User
from foundation.seed import DEMO_PASSWORD, DEMO_STEPS, demo_data, seed
from foundation.types import utcnow
from foundation.venues.models import Booking, Closure, Holiday, OccurrenceStatus, Space, SpaceOccupancy, Venue
from tests.factories import login

TOWNS = {
    "Calne", "Chippenham", "Cricklade", "Devizes", "Malmesbury", "Marlborough", "Melksham", "Salisbury", "Swindon",
    "Trowbridge", "Warminster", "Westbury",
}  # fmt: skip


def row_counts() -> dict[str, int]:
    return {
        t.name: _db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in _db.metadata.sorted_tables
    }


def test_seed_twice_adds_nothing_the_second_time(app, db):
    first_run = list(seed())
    first = row_counts()
    assert any(line.startswith("venue ") for line in first_run)
    second_run = list(seed())
    assert row_counts() == first
    assert not any(
        line.startswith(("venue ", "booking ", "organisation ", "user ", "fund:", "grant round "))
        for line in second_run
    )
    grant_tables = {name: n for name, n in first.items() if name.startswith(("grant_", "ledger_"))}
    # Every grants table has demo rows (reminders are sent by the daily task, not seeded).
    assert sorted(name for name, n in grant_tables.items() if n == 0) == [
        "grant_reminder",
        "grant_review_reminder",
    ]


def test_demo_venues_cover_the_twelve_towns(app, db):
    list(seed())
    venues = db.session.scalars(sa.select(Venue)).all()
    assert {v.town for v in venues} == TOWNS
    assert all(v.organisation.is_approved and v.opening_hours and v.spaces for v in venues)

    spaces = db.session.scalars(sa.select(Space)).all()
    assert any(s.price_per_hour_pence == 0 for s in spaces) and any(
        s.price_per_hour_pence > 0 for s in spaces
    )
    assert any(s.needs_approval for s in spaces) and any(not s.needs_approval for s in spaces)
    wholes = [s for s in spaces if len(s.children) == 2]
    assert wholes, "a hall with two halves"
    assert all(c.capacity <= wholes[0].capacity for c in wholes[0].children)
    assert db.session.scalar(sa.select(sa.func.count(Closure.id))) >= 1
    assert db.session.scalar(sa.select(sa.func.count(Holiday.id))) > 0

    bookings = db.session.scalars(sa.select(Booking)).all()
    statuses = {o.status for b in bookings for o in b.occurrences}
    assert {OccurrenceStatus.CONFIRMED, OccurrenceStatus.REQUESTED} <= statuses
    # a confirmed booking of the whole hall holds both halves too
    whole_booking = next(b for b in bookings if b.space.children)
    held = set(db.session.scalars(sa.select(SpaceOccupancy.space_id).where(
        SpaceOccupancy.occurrence_id == whole_booking.occurrences[0].id
    )))  # fmt: skip
    assert held == {s.id for s in whole_booking.space.self_and_descendants()}


def test_demo_venue_pages_render(app, db, client):
    list(seed())
    for venue in db.session.scalars(sa.select(Venue)).all():
        resp = client.get(f"/venues/{venue.id}")
        assert resp.status_code == 200 and venue.name in resp.get_data(as_text=True)


def test_packages_register_their_demo_data_in_order(app):
    # Members first: the capabilities' demo data is built on its organisations and users.
    assert [s.name for s in sorted(DEMO_STEPS, key=lambda s: s.order)] == [
        "members",
        "venues",
        "grants",
        "fundraising",
        "bids",
        "events",  # events
        "events-registrations",  # events: registration and waiting lists
        "events-attendance",  # events: on the day and after (marks the registrations seeded before it)
        "library",
    ]
    with pytest.raises(ValueError, match="registered twice"):
        demo_data("venues", order=99)(lambda: iter(()))


# --- seed grants ---------------------------------------------------------------------------------------------------


def rounds_by_status() -> dict[RoundStatus, GrantRound]:
    found = {r.status: r for r in _db.session.scalars(sa.select(GrantRound))}
    assert len(found) == len(_db.session.scalars(sa.select(GrantRound)).all()), "one demo round per state"
    return found


def test_demo_grant_rounds_in_every_state(app, db):
    lines = list(seed())
    rounds = rounds_by_status()
    assert set(rounds) == {RoundStatus.DRAFT, RoundStatus.OPEN, RoundStatus.IN_REVIEW, RoundStatus.DECIDED}
    assert [c.name for c in rounds[RoundStatus.DECIDED].criteria] == [
        "Need", "Young people's voice", "Deliverability", "Value for money", "Partnership", "Sustainability",
    ]  # fmt: skip
    now = utcnow()
    decided, open_ = rounds[RoundStatus.DECIDED], rounds[RoundStatus.OPEN]
    assert decided.closes_at < now - timedelta(days=150) and decided.decided_at < now
    assert now + timedelta(days=21) < open_.closes_at < now + timedelta(days=35)
    assert rounds[RoundStatus.DRAFT].opens_at > now
    # Budgets come from the ledger: the draft round is still waiting for one.
    assert money.money_for(open_).remaining_pence > 0
    assert money.money_for(rounds[RoundStatus.DRAFT]).budget_pence == 0
    # The panel reviewers are listed among the demo logins.
    reviewers = db.session.scalars(sa.select(User.email).where(User.is_panel_reviewer.is_(True))).all()
    assert len(reviewers) >= 3
    logins = lines[lines.index(next(line for line in lines if line.startswith("demo logins"))) :]
    assert all(any(email in line and "panel reviewer" in line for line in logins) for email in reviewers)


def test_demo_round_in_review_has_applications_in_every_state(app, db, client):
    list(seed())
    round_ = rounds_by_status()[RoundStatus.IN_REVIEW]
    apps = db.session.scalars(sa.select(Application).where(Application.round_id == round_.id)).all()
    statuses = {a.status for a in apps}
    assert statuses >= {
        ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED, ApplicationStatus.WITHDRAWN,
        ApplicationStatus.AWARDED, ApplicationStatus.DECLINED,
    }  # fmt: skip
    assert all(a.reference and a.reference.startswith(round_.reference_prefix) for a in apps)

    def active(a: Application) -> list:
        return [r for r in a.assignments if r.active]

    submitted = [a for a in apps if a.status is ApplicationStatus.SUBMITTED]
    fully_reviewed = [a for a in submitted if len(active(a)) >= 2 and all(r.submitted_at for r in active(a))]
    assert len(fully_reviewed) >= 2
    assert any(
        r.conflict is ConflictDeclaration.CONFLICT and r.conflict_reason
        for a in submitted
        for r in a.assignments
    )
    in_progress = [a for a in submitted if any(r.submitted_at is None for r in active(a))]
    assert in_progress and any(r.submitted_at for r in active(in_progress[0])), "some reviews in, some not"
    assert any(r.scores and r.submitted_at is None for r in active(in_progress[0])), "one half scored"
    returned = next(a for a in apps if a.status is ApplicationStatus.MORE_INFO_REQUESTED)
    assert returned.events[-1].message
    declined = next(a for a in apps if a.status is ApplicationStatus.DECLINED)
    assert declined.decision.decline_reason is not None and declined.decision.feedback
    awarded = next(a for a in apps if a.status is ApplicationStatus.AWARDED)
    assert awarded.grant.status is GrantStatus.OFFERED  # waiting for the organisation to accept

    login(client, db.session.scalar(sa.select(User).where(User.email == "staff@wypf.example")), DEMO_PASSWORD)
    page = client.get(f"/staff/grants/rounds/{round_.id}/ranking")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Disagreement</span>" in html and awarded.project_title in html
    raw = client.get(f"/staff/grants/rounds/{round_.id}/ranking?sort=raw").get_data(as_text=True)

    def order(text: str) -> list[int]:
        titles = {a.id: str(escape(a.project_title)) for a in submitted}
        assert all(t in text for t in titles.values())
        return [i for _, i in sorted((text.index(t), i) for i, t in titles.items())]

    assert order(html) != order(raw), "calibration reorders the demo"


def test_demo_decided_round_is_published(app, db, client):
    list(seed())
    round_ = rounds_by_status()[RoundStatus.DECIDED]
    apps = db.session.scalars(sa.select(Application).where(Application.round_id == round_.id)).all()
    grants = [a.grant for a in apps if a.grant is not None]
    assert len(grants) >= 4 and all(g.accepted_at for g in grants)
    assert {a.organisation.area for a in apps if a.grant} == {Area.WILTSHIRE, Area.SWINDON}
    assert len({t for a in apps if a.grant for t in a.towns}) >= 4
    assert any(g.paid_pence == g.amount_pence for g in grants)
    assert any(0 < g.paid_pence < g.amount_pence for g in grants)
    assert any(a.decision.outcome is DecisionOutcome.AWARD_PART for a in apps)
    completed = next(g for g in grants if g.status is GrantStatus.COMPLETED)
    assert completed.report.status is ReportStatus.ACCEPTED and completed.report.young_people_reached
    assert 0 < completed.report.underspend_pence < completed.amount_pence
    declined = next(a for a in apps if a.status is ApplicationStatus.DECLINED)
    assert declined.decision.decline_reason is not None and declined.decision.feedback

    card = client.get("/scorecard")
    assert card.status_code == 200 and round_.name in card.get_data(as_text=True)
    listed = client.get(f"/scorecard/rounds/{round_.id}")
    assert listed.status_code == 200 and grants[0].organisation.name in listed.get_data(as_text=True)
    data = client.get("/open-data/360giving.json")
    assert data.status_code == 200
    recipients = {org["name"] for g in data.get_json()["grants"] for org in g["recipientOrganization"]}
    assert recipients == {g.organisation.name for g in grants}


def test_demo_ledger_balances(app, db):
    list(seed())
    assert ledger.check_balanced() == []
    assert ledger.totals_disagree() == []

    def moved(kind: TransactionKind) -> int:
        return int(
            db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_pence), 0))
                .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                .where(LedgerTransaction.kind == kind, LedgerEntry.amount_pence > 0)
            )
        )

    deposits = moved(TransactionKind.DEPOSIT)
    assert deposits == 15_000_000
    assert moved(TransactionKind.UNDERSPEND_RETURN) > 0 and moved(TransactionKind.PAYMENT) > 0
    assert money.fund_balance() == (
        deposits
        - moved(TransactionKind.ALLOCATION)
        + moved(TransactionKind.DEALLOCATION)
        + moved(TransactionKind.UNDERSPEND_RETURN)
        + moved(TransactionKind.CAMPAIGN_CLOSE)  # a closed campaign's money comes into the fund
    )
    # Each round's ledger agrees with its grants: committed is what was awarded.
    for round_ in db.session.scalars(sa.select(GrantRound)):
        awarded = sum(a.grant.amount_pence for a in round_.applications if a.grant is not None)
        assert money.money_for(round_).committed_pence == awarded


def test_demo_applicant_can_finish_and_submit_the_open_rounds_draft(app, db, client):
    list(seed())
    round_ = rounds_by_status()[RoundStatus.OPEN]
    draft = db.session.scalar(
        sa.select(Application).where(
            Application.round_id == round_.id, Application.status == ApplicationStatus.DRAFT
        )
    )
    assert draft is not None and draft.organisation.name == "Calne Youth Project"
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@calne-youth.example"))
    assert admin.is_admin_of(draft.organisation_id)
    login(client, admin, DEMO_PASSWORD)
    assert client.get(f"/grants/applications/{draft.id}").status_code == 200

    with app.test_request_context("/"):
        assert applications.submission_problems(draft), "half written: the applicant has work to do"
        values = applications.ApplicationValues(
            project_title=draft.project_title, summary=draft.summary,
            description="A minibus twice a week from three villages to the youth club.", towns=draft.towns,
            young_people_count=30, age_min=11, age_max=18, starts_on=draft.starts_on, ends_on=draft.ends_on,
            amount_requested_pence=draft.amount_requested_pence, outcomes="Young people from the villages take part.",
            budget_lines=[applications.BudgetItem(line.item, line.cost_pence) for line in draft.budget_lines],
            answers={round_.questions[0].id: "Young people in the villages asked for it."},
        )  # fmt: skip
        applications.save_draft(draft, admin, values, draft.version)
        applications.submit_application(draft, admin)
    db.session.commit()
    assert draft.status is ApplicationStatus.SUBMITTED and draft.reference.startswith(round_.reference_prefix)


def test_demo_documents_download_as_real_files(app, db, client):
    from foundation.members.models import OrganisationDocument

    list(seed())
    docs = list(db.session.scalars(sa.select(OrganisationDocument)))
    assert docs, "approved demo organisations have their documents"
    doc = docs[0]
    admin = next(m.user for m in doc.organisation.memberships if m.user.closed_at is None)
    login(client, admin, DEMO_PASSWORD)

    resp = client.get(f"/organisations/{doc.organisation_id}/documents/{doc.id}")

    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    body = resp.get_data()
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert len(body) == doc.size_bytes
    assert doc.organisation.name.encode() in body
