"""Funding demo data: funders of each kind, open opportunities, one a member suggested that waits for staff, and a
member with interests for the weekly digest. Built through the services; every record is looked up first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from foundation.bids import awards, bids, funders, interests, monitoring, opportunities, teamwork
from foundation.bids.models import (
    ALL_AREAS,
    Bid,
    BudgetCategory,
    Funder,
    FunderType,
    FundingOpportunity,
    MonitoringReturn,
    Theme,
)
from foundation.extensions import db
from foundation.members.models import Organisation, User
from foundation.seed import demo_data
from foundation.types import london_today

# name, type, org-id, website (fictional organisations: the org-ids use numbers no register has issued)
FUNDERS = [
    ("Kennet Valley Community Trust", FunderType.TRUST_OR_FOUNDATION, "GB-CHC-9990001",
     "https://www.kennet-valley-trust.example.org"),
    ("Downland Youth Foundation", FunderType.TRUST_OR_FOUNDATION, "GB-CHC-9990002", None),
    ("Wessex Good Causes Lottery", FunderType.LOTTERY, "GB-COH-99900003", "https://www.wessex-lottery.example.org"),
    ("Wiltshire Council Youth Fund", FunderType.STATUTORY, None, None),
    ("Office of the Police and Crime Commissioner for Wiltshire and Swindon (demo)",
     FunderType.POLICE_AND_CRIME_COMMISSIONER, None, None),
    ("Salisbury Plain Builders Ltd", FunderType.BUSINESS, "GB-COH-99900004", None),
]  # fmt: skip

# funder, programme, min £, max £, days to deadline, themes, areas, consortium
OPPORTUNITIES = [
    ("Kennet Valley Community Trust", "Young Minds Matter", 2_000, 15_000, 40,
     [Theme.MENTAL_HEALTH, Theme.INCLUSION], ["Marlborough", "Devizes", "Pewsey"], True),
    ("Wessex Good Causes Lottery", "Active Summers", 500, 5_000, 10,
     [Theme.SPORT, Theme.OUTDOOR_LEARNING], [ALL_AREAS], False),
    ("Office of the Police and Crime Commissioner for Wiltshire and Swindon (demo)", "Safer Streets Youth Outreach",
     10_000, 60_000, 75, [Theme.DETACHED_YOUTH_WORK, Theme.CRIME_PREVENTION], ["Swindon", "Trowbridge", "Salisbury"],
     True),
    ("Downland Youth Foundation", "Voices and Visions", 1_000, 8_000, 25,
     [Theme.YOUTH_VOICE, Theme.ARTS, Theme.DIGITAL], ["Calne", "Chippenham", "Melksham"], True),
]  # fmt: skip
SUGGESTED = ("Salisbury Plain Builders Ltd", "Skills for the Future", 500, 3_000, 50,
             [Theme.EMPLOYABILITY], ["Salisbury", "Amesbury", "Tidworth"], False)  # fmt: skip


@demo_data("bids", order=50)
def seed_bids() -> Iterator[str]:
    with current_app.test_request_context("/"):  # the services link to pages in their notifications
        yield from _seed()


def _seed() -> Iterator[str]:
    staff = db.session.scalar(sa.select(User).where(User.email == "staff@wypf.example"))
    if staff is None:
        return
    today = london_today()
    for name, kind, org_id, website in FUNDERS:
        if db.session.scalar(sa.select(Funder.id).where(Funder.name_key == funders.name_key(name))) is None:
            funders.create(funders.FunderDetails(name, kind, org_id, website), staff)
            yield f"funder {name}"
    db.session.flush()

    def details(row: tuple[Any, ...]) -> opportunities.OpportunityDetails:
        funder_name, programme, low, high, days, themes, areas, consortium = row
        funder = db.session.scalar(sa.select(Funder).where(Funder.name_key == funders.name_key(funder_name)))
        assert funder is not None
        return opportunities.OpportunityDetails(
            funder_id=funder.id, programme=programme, min_pence=low * 100, max_pence=high * 100,
            deadline=today + timedelta(days=days), themes=themes, areas=areas,
            eligibility="Constituted youth groups working in the areas named, with a safeguarding policy.",
            accepts_consortium=consortium, link="https://www.example.org/funding",
        )  # fmt: skip

    def exists(programme: str) -> bool:
        return db.session.scalar(
            sa.select(FundingOpportunity.id).where(FundingOpportunity.programme == programme)
        ) is not None  # fmt: skip

    for row in OPPORTUNITIES:
        if not exists(row[1]):
            opportunities.create(details(row), staff)
            yield f"funding opportunity {row[1]}"
    calne = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Calne Youth Project"))
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@calne-youth.example"))
    if calne is not None and admin is not None and not exists(SUGGESTED[1]):
        opportunities.suggest(details(SUGGESTED), admin, calne)
        yield f"funding opportunity {SUGGESTED[1]} (suggested, waiting for staff)"
    member = db.session.scalar(sa.select(User).where(User.email == "member@calne-youth.example"))
    if member is not None and not interests.interests_of(member).any:
        interests.save_interests(member, [Theme.YOUTH_VOICE, Theme.MENTAL_HEALTH, Theme.SPORT], ["Calne"])
        yield f"funding interests of {member.email}"
    yield from _seed_bid(staff, today)
    yield from _seed_won_bid(staff, today)


BID_TITLE = "Safer streets: detached youth work in three towns"


def _seed_bid(staff: User, today: date) -> Iterator[str]:
    """A bid in drafting: Calne Youth Project leads, Swindon Sports Trust has joined and written its part, the
    lead's part is half written, and the team has tasks (one done)."""
    if db.session.scalar(sa.select(Bid.id).where(Bid.title == BID_TITLE)) is not None:
        return
    opportunity = db.session.scalar(
        sa.select(FundingOpportunity).where(FundingOpportunity.programme == "Safer Streets Youth Outreach")
    )
    calne = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Calne Youth Project"))
    swindon = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Swindon Sports Trust"))
    lead_admin = db.session.scalar(sa.select(User).where(User.email == "admin@calne-youth.example"))
    partner_admin = db.session.scalar(sa.select(User).where(User.email == "youthworker@wypf.example"))
    if None in (opportunity, calne, swindon, lead_admin, partner_admin):
        return
    assert opportunity and calne and swindon and lead_admin and partner_admin
    bid = bids.start(opportunity, BID_TITLE, lead_admin, calne)
    bid.case_for_support = (
        "Young people in Swindon, Calne and Trowbridge tell us they have nowhere to go after dark.\n\n"
        "Together we will take youth workers to where young people are, four evenings a week."
    )
    bids.respond(bids.invite(bid, swindon, lead_admin), True, partner_admin)
    bids.step(bid, bids.Step.DRAFT, lead_admin)
    ours, theirs = bid.partners
    bids.save_part(
        ours, "Two detached sessions a week in Calne town centre and the skate park.", "", lead_admin
    )
    bids.save_reach(ours, {"Calne": 60}, lead_admin)
    bids.add_line(ours, BudgetCategory.STAFF, "Two detached youth workers, 6 hours a week for 40 weeks", 960_000,
                  lead_admin)  # fmt: skip
    bids.save_part(
        theirs,
        "Friday and Saturday street sport in Swindon's Penhill and Pinehurst, with a youth worker on every session.",
        "Fewer young people reported in antisocial behaviour; 30 gain a sports leadership award.",
        partner_admin,
    )
    bids.save_reach(theirs, {"Swindon": 120, "Trowbridge": 35}, partner_admin)
    bids.add_line(
        theirs, BudgetCategory.STAFF, "Sessional coaches and a youth worker", 1_440_000, partner_admin
    )
    bids.add_line(
        theirs, BudgetCategory.VENUE_HIRE, "Floodlit pitch hire, 80 evenings", 320_000, partner_admin
    )
    bids.add_line(theirs, BudgetCategory.ACTIVITY, "Kit and leadership award fees", 180_000, partner_admin)
    done = teamwork.add_task(bid, "Draft the case for support", lead_admin, today, lead_admin, today)
    teamwork.complete_task(done, lead_admin)
    teamwork.add_task(
        bid, "Collect letters of support", partner_admin, today + timedelta(days=21), lead_admin, today
    )
    teamwork.add_task(
        bid, "Trustees' sign-off", staff, opportunity.deadline - timedelta(days=7), lead_admin, today
    )
    yield f"bid {BID_TITLE} (drafting, two partners)"


WON_TITLE = "Young minds: peer support in west and north Wiltshire"


def _seed_won_bid(staff: User, today: date) -> Iterator[str]:
    """A bid the Foundation led and won in part: the funder has paid the first half, both partners have had an
    instalment."""
    if db.session.scalar(sa.select(Bid.id).where(Bid.title == WON_TITLE)) is not None:
        return
    opportunity = db.session.scalar(
        sa.select(FundingOpportunity).where(FundingOpportunity.programme == "Young Minds Matter")
    )
    people = [
        db.session.scalar(sa.select(User).where(User.email == email))
        for email in ("team@westbury-detached.example", "director@malmesbury-theatre.example")
    ]
    if opportunity is None or None in people:
        return
    bid = bids.start(opportunity, WON_TITLE, staff)
    bid.case_for_support = (
        "Young people in Westbury and Malmesbury wait months for mental health support. Trained young volunteers "
        "and youth workers can meet them sooner, where they already are."
    )
    plans: list[tuple[str, dict[str, int | None], int]] = [
        ("Weekly drop-in with trained peer supporters at the Westbury youth hub.", {"Westbury": 45}, 480_000),
        ("Drama-based wellbeing workshops each half term.", {"Malmesbury": 30, "Chippenham": 10}, 420_000),
    ]
    for person, (activities, reach, amount) in zip(people, plans, strict=True):
        assert person is not None
        org = person.memberships[0].organisation
        partner = bids.invite(bid, org, staff)
        bids.respond(partner, True, person)
        bids.save_part(partner, activities, "Young people say they cope better; fewer reach crisis.", person)
        bids.save_reach(partner, reach, person)
        bids.add_line(partner, BudgetCategory.STAFF, "Youth worker and volunteer training", amount, person)
    for step in (bids.Step.DRAFT, bids.Step.SIGN_OFF, bids.Step.SUBMIT):
        bids.step(bid, step, staff)
    award = awards.record_award(
        bid, 900_000, "Report at six and twelve months.", today,
        [today + timedelta(days=30), today + timedelta(days=365)], staff,
    )  # fmt: skip
    awards.record_funder_payment(award, 450_000, today, "KVCT-2026-114", staff)
    for sub in award.sub_awards:
        awards.pay_instalment(sub, sub.amount_pence // 3, today, staff)
    db.session.flush()
    # Westbury's first monitoring return is in; Malmesbury's is not yet.
    first = award.reporting_dates[0]
    westbury = award.sub_awards[0].partner
    reporter = people[0]
    assert reporter is not None
    its_return = db.session.scalar(
        sa.select(MonitoringReturn).where(
            MonitoringReturn.reporting_date_id == first.id, MonitoringReturn.partner_id == westbury.id
        )
    )
    if its_return is not None:
        monitoring.save_return(
            its_return, 12, "Eighteen young people came three times or more; six said they now know where to get help.",
            "A year 10 student who had stopped going to school came to the drop-in with a friend; she now helps "
            "run it on Thursdays.", {"Westbury": 23}, {BudgetCategory.STAFF: 140_000}, reporter, today,
        )  # fmt: skip
        monitoring.submit_return(its_return, reporter, today)
    yield f"bid {WON_TITLE} (part awarded, paid in part, one monitoring return in)"
