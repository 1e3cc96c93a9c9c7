"""Builders for funding data. They flush, never commit: the test decides."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from foundation.bids import funders
from foundation.bids.models import (
    TOWNS,
    Bid,
    BidBudgetLine,
    BidPartner,
    BidPartnerStatus,
    BidStatus,
    BudgetCategory,
    DigestSent,
    Funder,
    FunderType,
    FundingOpportunity,
    InterestArea,
    InterestTheme,
    MonitoringReturn,
    OpportunityArea,
    OpportunityStatus,
    OpportunityTheme,
    PartReach,
    ProspectFunder,
    ProspectImport,
    Theme,
)
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.types import utcnow

_seq = itertools.count(1)


def make_funder(
    name: str | None = None, kind: FunderType = FunderType.TRUST_OR_FOUNDATION, **fields
) -> Funder:
    n = next(_seq)
    name = name or f"Test Funder {n}"
    funder = Funder(name=name, name_key=funders.name_key(name), funder_type=kind, **fields)
    db.session.add(funder)
    db.session.flush()
    return funder


def make_opportunity(
    funder: Funder | None = None,
    status: OpportunityStatus = OpportunityStatus.PUBLISHED,
    themes: tuple[Theme, ...] = (Theme.SPORT,),
    areas: tuple[str, ...] = ("Calne",),
    deadline: date | None = None,
    published_days_ago: int = 30,
    programme: str | None = None,
    min_pence: int = 100_000,
    max_pence: int = 500_000,
    consortium: bool = False,
    suggested_by: User | None = None,
    suggested_for: Organisation | None = None,
) -> FundingOpportunity:
    n = next(_seq)
    opportunity = FundingOpportunity(
        funder=funder or make_funder(),
        programme=programme or f"Programme {n}",
        min_pence=min_pence,
        max_pence=max_pence,
        deadline=deadline or date.today() + timedelta(days=60),
        accepts_consortium=consortium,
        status=status,
        published_at=utcnow() - timedelta(days=published_days_ago)
        if status is not OpportunityStatus.SUGGESTED
        else None,
        suggested_by=suggested_by,
        suggested_for=suggested_for,
        theme_rows=[OpportunityTheme(theme=t) for t in themes],
        area_rows=[OpportunityArea(area=a) for a in areas],
    )
    db.session.add(opportunity)
    db.session.flush()
    return opportunity


def add_interests(user: User, themes: tuple[Theme, ...] = (), areas: tuple[str, ...] = ()) -> None:
    db.session.add_all(InterestTheme(user_id=user.id, theme=t) for t in themes)
    db.session.add_all(InterestArea(user_id=user.id, area=a) for a in areas)
    db.session.flush()


def make_import(by: User | None = None, funders_found: int = 2) -> ProspectImport:
    n = next(_seq)
    record = ProspectImport(
        filename=f"grants-{n}.json", file_format="json", grant_count=10, matched_grant_count=funders_found,
        uploaded_by=by,
    )  # fmt: skip
    record.funders = [
        ProspectFunder(
            org_id=f"GB-CHC-99{n:03d}{i:02d}",
            name=f"Prospect {n}-{i}",
            grant_count=1,
            local_grant_count=1,
            youth_grant_count=0,
            total_pence=100_000 * (i + 1),
            first_award=date(2025, 1, 1),
            last_award=date(2025, 6, 1),
        )  # fmt: skip
        for i in range(funders_found)
    ]
    db.session.add(record)
    db.session.flush()
    return record


def bids_world(
    staff: User,
    member: User,
    org: Organisation,
    lead_admin: User | None = None,
    partner_admin: User | None = None,
) -> dict[str, int]:
    """For the permissions matrix: a published opportunity, a funder and an import; with `lead_admin` (an admin of
    `org`) and `partner_admin` (the admin of another organisation), a bid `org` leads that the partner has joined,
    with the partner's budget line, a task for `member` and a document the partner shared."""
    funder = make_funder("Matrix Trust", org_id="GB-CHC-9999901")
    opportunity = make_opportunity(funder, themes=(Theme.ARTS,), areas=("Chippenham",), consortium=True)
    make_opportunity(funder, OpportunityStatus.SUGGESTED, suggested_by=member, suggested_for=org)
    add_interests(member, (Theme.ARTS,), ("Chippenham",))
    record = make_import(by=staff)
    values = {"funder_id": funder.id, "opportunity_id": opportunity.id, "import_id": record.id}
    if lead_admin is not None and partner_admin is not None:
        values.update(bid_world(opportunity, member, org, lead_admin, partner_admin))
        values.update(award_world(staff, org, lead_admin, partner_admin))
    return values


def award_world(staff: User, org: Organisation, lead_admin: User, partner_admin: User) -> dict[str, int]:
    """A second bid A led with B, won: the funder has paid half, B has had an instalment, and B's monitoring
    return for the first reporting date is waiting."""
    from foundation.bids import awards

    partner_org = partner_admin.memberships[0].organisation
    award = make_award(
        staff, lead_admin, org, (partner_org,), reporting_dates=(date.today() + timedelta(days=60),)
    )
    awards.record_funder_payment(award, award.amount_pence // 2, date.today(), "BACS 1", staff)
    theirs = next(s for s in award.sub_awards if s.partner.organisation_id == partner_org.id)
    awards.pay_instalment(theirs, 100_000, date.today(), staff)
    reporting = award.reporting_dates[0]
    their_return = db.session.scalar(
        db.select(MonitoringReturn).where(
            MonitoringReturn.reporting_date_id == reporting.id,
            MonitoringReturn.partner_id == theirs.partner_id,
        )
    )
    return {
        "award_id": award.id,
        "sub_award_id": theirs.id,
        "reporting_date_id": reporting.id,
        "return_id": their_return.id,
    }


def bid_world(
    opportunity: FundingOpportunity, member: User, org: Organisation, lead_admin: User, partner_admin: User
) -> dict[str, int]:
    import io

    from werkzeug.datastructures import FileStorage

    from foundation.bids import bids, teamwork

    bid = bids.start(opportunity, "Matrix bid", lead_admin, org)
    partner_org = partner_admin.memberships[0].organisation
    partner = bids.invite(bid, partner_org, lead_admin)
    bids.respond(partner, True, partner_admin)
    fill_part(partner)
    task = teamwork.add_task(bid, "Letters of support", member, date.today() + timedelta(days=7), lead_admin)
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    doc = teamwork.upload(bid, "Letter", FileStorage(io.BytesIO(pdf), filename="letter.pdf"), partner_admin)
    return {
        "bid_id": bid.id,
        "bid_partner_id": partner.id,
        "bid_line_id": partner.budget_lines[0].id,
        "bid_task_id": task.id,
        "bid_doc_id": doc.id,
    }


def grow_bids(i: int, staff: User, member: User, org: Organisation) -> None:
    """For the query-count guard: more funders, opportunities of every state (with themes and areas),
    suggestions, interests, digests and imports."""
    funder = make_funder(f"Growth Trust {i}", org_id=f"GB-CHC-98{i:05d}")
    for status in OpportunityStatus:
        make_opportunity(
            funder, status, themes=(Theme.ARTS, Theme.SPORT), areas=("Chippenham", "Calne"),
            suggested_by=member if status in (OpportunityStatus.SUGGESTED, OpportunityStatus.REJECTED) else None,
            suggested_for=org if status in (OpportunityStatus.SUGGESTED, OpportunityStatus.REJECTED) else None,
            consortium=True,
        )  # fmt: skip
    db.session.add(
        DigestSent(
            user_id=member.id,
            week_starting=date(2020, 1, 6) + timedelta(weeks=i),
            new_count=1,
            closing_count=0,
        )
    )
    make_import(by=staff, funders_found=3)
    _grow_bid(i, staff, member, org)


def _grow_bid(i: int, staff: User, member: User, org: Organisation) -> None:
    """More of everything a bid's pages list: partners with parts, lines and reach, tasks, documents, steps,
    invitations waiting, and more bids."""
    import io

    from werkzeug.datastructures import FileStorage

    from foundation.bids import bids, teamwork
    from tests.factories import make_org as _make_org
    from tests.factories import make_user as _make_user

    bid = db.session.scalar(db.select(Bid).where(Bid.title == "Matrix bid"))
    if bid is None:
        return
    lead_admin = bid.created_by
    joining_admin = _make_user()
    joining = bids.invite(bid, _make_org(admin=joining_admin, name=f"Bid partner {i}"), lead_admin)
    bids.respond(joining, True, joining_admin)
    fill_part(joining, town=TOWNS[i % len(TOWNS)])
    joining.reach_rows.append(PartReach(town=TOWNS[(i + 1) % len(TOWNS)], young_people=5))
    joining.budget_lines.append(
        BidBudgetLine(category=BudgetCategory.VENUE_HIRE, description="Hall", amount_pence=10_000)
    )
    waiting_admin = _make_user()
    bids.invite(bid, _make_org(admin=waiting_admin, name=f"Invited partner {i}"), lead_admin)
    teamwork.add_task(bid, f"Task {i}", member, date.today() + timedelta(days=i + 1), lead_admin)
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    teamwork.upload(bid, f"Letter {i}", FileStorage(io.BytesIO(pdf), filename="letter.pdf"), joining_admin)
    another = bids.start(bid.opportunity, f"Another bid {i}", lead_admin, org)
    bids.step(another, bids.Step.FORM, lead_admin)
    bids.step(another, bids.Step.WITHDRAW, staff, note="Growth")
    _grow_returns(i)
    db.session.flush()


def _grow_returns(i: int) -> None:
    """More partners reporting on the won bid's first reporting date: one submitted (reach in two towns, spend on
    two kinds of cost), one late."""
    from foundation.bids.models import RETURN_LEAD_DAYS, BidAward, ReturnReach, ReturnSpend
    from tests.factories import make_org as _make_org
    from tests.factories import make_user as _make_user

    award = db.session.scalar(db.select(BidAward).order_by(BidAward.id).limit(1))
    if award is None:
        return
    reporting = award.reporting_dates[0]
    for submitted in (True, False):
        admin = _make_user()
        partner = BidPartner(
            bid=award.bid, organisation=_make_org(admin=admin, name=f"Reporting partner {i} {submitted}"),
            status=BidPartnerStatus.ACCEPTED, responded_at=utcnow(),
        )  # fmt: skip
        db.session.add(partner)
        fill_part(partner, town=TOWNS[(i + 2) % len(TOWNS)])
        due = (
            reporting.due - timedelta(days=RETURN_LEAD_DAYS)
            if submitted
            else date.today() - timedelta(days=i)
        )
        db.session.add(
            MonitoringReturn(
                reporting_date=reporting, partner=partner, due=due,
                sessions_delivered=10 + i, outcomes="More confident.", story="She leads a session now.",
                submitted_by=admin if submitted else None, submitted_at=utcnow() if submitted else None,
                reach_rows=[
                    ReturnReach(town=TOWNS[i % len(TOWNS)], young_people=20 + i),
                    ReturnReach(town=TOWNS[(i + 3) % len(TOWNS)], young_people=5),
                ],
                spend_rows=[
                    ReturnSpend(category=BudgetCategory.STAFF, amount_pence=50_000),
                    ReturnSpend(category=BudgetCategory.VENUE_HIRE, amount_pence=5_000),
                ],
            )
        )  # fmt: skip


def make_bid(
    by: User,
    lead: Organisation | None = None,
    opportunity: FundingOpportunity | None = None,
    partners: tuple[Organisation, ...] = (),
    complete: bool = False,
    title: str | None = None,
) -> Bid:
    """A bid started by `by` (led by `lead`, or the Foundation), with `partners` invited and accepted; with
    `complete`, every part written (activities, outcomes, reach, a budget line) and a case for support."""
    from foundation.bids import bids

    opportunity = opportunity or make_opportunity(consortium=True, min_pence=100_000, max_pence=5_000_000)
    bid = bids.start(opportunity, title or f"Bid {next(_seq)}", by, lead)
    for org in partners:
        partner = BidPartner(
            bid=bid, organisation=org, status=BidPartnerStatus.ACCEPTED, invited_by=by, responded_at=utcnow()
        )
        db.session.add(partner)
    if partners and bid.status is BidStatus.IDEA:
        bid.status = BidStatus.FORMING
    db.session.flush()
    if complete:
        bid.case_for_support = "Young people in the market towns have nowhere to go."
        for i, partner in enumerate(bid.partners):
            fill_part(partner, town=TOWNS[i % len(TOWNS)], amount_pence=1_000_000 * (i + 1))
    db.session.flush()
    return bid


def fill_part(partner: BidPartner, town: str = "Calne", amount_pence: int = 1_000_000) -> None:
    partner.activities = "Two evening sessions a week."
    partner.outcomes = "Young people feel safer and more confident."
    partner.reach_rows = [PartReach(town=town, young_people=40)]
    partner.budget_lines = [
        BidBudgetLine(category=BudgetCategory.STAFF, description="Youth worker", amount_pence=amount_pence)
    ]
    db.session.flush()


def make_award(
    staff: User,
    lead_admin: User,
    lead: Organisation,
    partners: tuple[Organisation, ...],
    amount_pence: int | None = None,
    reporting_dates: tuple[date, ...] | None = None,
    opportunity: FundingOpportunity | None = None,
):
    """A complete bid led by `lead` with `partners`, submitted and awarded (in full unless `amount_pence` is
    less than asked), with one reporting date in 90 days unless given. Needs a request context."""
    from foundation.bids import awards, bids

    bid = make_bid(lead_admin, lead, opportunity=opportunity, partners=partners, complete=True)
    for step in (bids.Step.DRAFT, bids.Step.SIGN_OFF, bids.Step.SUBMIT):
        bids.step(bid, step, staff)
    award = awards.record_award(
        bid,
        amount_pence if amount_pence is not None else bid.asked_pence,
        "Report each quarter.",
        date.today(),
        list(reporting_dates or (date.today() + timedelta(days=90),)),
        staff,
    )
    db.session.flush()
    return award
