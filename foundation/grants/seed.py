"""Seed-grant demo data: the fund, four grant rounds in different states with their applications, reviews,
decisions and grants, and the organisations and accounts that apply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from foundation.extensions import db
from foundation.grants import applications, awards, decisions, money, reports, reviews, rounds
from foundation.grants.awards import pounds
from foundation.grants.models import (
    Application,
    ApplicationEvent,
    DecisionOutcome,
    DeclineReason,
    Grant,
    GrantRound,
    ReviewAssignment,
)
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerTransaction, TransactionKind
from foundation.members.models import (
    Area,
    LegalForm,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
    User,
)
from foundation.members.seed import USERS, add_demo_user, add_organisation
from foundation.seed import demo_data, demo_logins_section
from foundation.types import LONDON, utcnow

# Four rounds, each in a different state, built through the grants services (so references, events, ledger
# transactions and notifications are what the application itself would write):
#   decided    (opened ~260 days before the seeding day): awards accepted, paid in full or in part, one grant
#              completed with its end-of-grant report and an underspend returned, one application declined;
#              unspent budget handed back to the fund
#   in review  (closed ~40 days ago): reviewed applications (one flagged for disagreement), a declared conflict,
#              reviews still in progress, one sent back for more information, one withdrawn, one awarded (the
#              offer waiting for the organisation) and one declined
#   open       (closes in 4 weeks): two submitted applications and the Calne Youth Project's draft
#   draft      (opens in ~100 days): criteria and questions set, no budget yet
# Round names and codes follow the season they open in ("Spring 2026 seed grants", SP26). Every date is relative
# to the seeding day, which is remembered as the date of the fund's opening deposit, so a later run finds the same
# round codes and adds nothing. Services that stamp the current time (decisions, reviews, acceptance, payments,
# reports) are dated back afterwards for the decided round, so its history reads in order.

OPENING_REASON = "Opening balance: funds the trustees set aside for seed grants"
OPENING_PENCE = 15_000_000  # £150,000
OPENING_DAYS_BEFORE = 300  # the deposit is dated this many days before the seeding day

# Organisations that apply for grants in the demo (approved, documents in date), each with an admin to sign in as.
# name, town, area, sector, legal form, charity, company, contact email, contact name, description
APPLICANT_ORGS = [
    ("Marlborough Young Carers", "Marlborough", Area.WILTSHIRE, Sector.VOLUNTARY, LegalForm.REGISTERED_CHARITY,
     "1150321", None, "coordinator@marlborough-carers.example", "Hannah Price",
     "Support, breaks and a voice for young carers aged 8 to 17 in Marlborough and the villages of the Kennet "
     "valley."),
    ("Open Minds Chippenham", "Chippenham", Area.WILTSHIRE, Sector.VOLUNTARY, LegalForm.CIO, "1187654", None,
     "lead@openminds-chippenham.example", "Priya Shah",
     "Peer support for young people's mental health in Chippenham and Calne, run with trained young volunteers."),
    ("Warminster Rural Youth Link", "Warminster", Area.WILTSHIRE, Sector.COMMUNITY, LegalForm.CIO, "1178899", None,
     "hello@warminster-youthlink.example", "Tom Hargreaves",
     "Connecting young people in the villages around Warminster with youth clubs, activities and each other."),
    ("Westbury Detached Youth Team", "Westbury", Area.WILTSHIRE, Sector.VOLUNTARY, LegalForm.CHARITABLE_COMPANY,
     "1169012", "09876543", "team@westbury-detached.example", "Kerry Daniels",
     "Detached and outreach youth work on the streets, parks and estates of Westbury."),
    ("Cricklade and District Youth Club", "Cricklade", Area.WILTSHIRE, Sector.COMMUNITY, LegalForm.UNINCORPORATED,
     None, None, "leader@cricklade-youthclub.example", "Ian Moss",
     "A volunteer-run youth club for 10 to 16 year olds in Cricklade, open two evenings a week."),
    ("Penhill Youth Forum", "Swindon", Area.SWINDON, Sector.COMMUNITY, LegalForm.CIC, None, "13579246",
     "forum@penhill-youth.example", "Dee Okafor",
     "Young people from Penhill and Pinehurst speaking up for their estates, with youth workers behind them."),
    ("Malmesbury Youth Theatre", "Malmesbury", Area.WILTSHIRE, Sector.VOLUNTARY, LegalForm.REGISTERED_CHARITY,
     "1144556", None, "director@malmesbury-theatre.example", "Ruth Ellis",
     "Drama workshops and productions for young people in Malmesbury and north Wiltshire."),
]  # fmt: skip

# Who applies for each organisation: (organisation, email, name). The demo organisations from ORGS with no member
# get one; Calne Youth Project and Swindon Sports Trust apply through their existing admins.
GRANT_CONTACTS = [
    ("Calne Youth Project", "admin@calne-youth.example", "Alex Admin"),
    ("Swindon Sports Trust", "youthworker@wypf.example", "Yusuf Worker"),
    ("Trowbridge Town Council Youth Service", "youth.service@trowbridge-tc.example", "Gemma Lloyd"),
    ("Salisbury Arts for Young People CIC", "studio@salisbury-arts.example", "Josh Bennett"),
    *((name, email, contact) for name, _t, _a, _s, _l, _c, _co, email, contact, _d in APPLICANT_ORGS),
]

CRITERIA = [
    # name, description, weight, max score
    ("Need", "How clearly the project meets a need young people have, with evidence from the area.", 25, 5),
    ("Young people's voice", "Young people asked for the project, shaped it and will help run it.", 20, 5),
    ("Deliverability", "The plan, people, venue and timetable are realistic, with safeguarding in place.", 20, 5),
    ("Value for money", "Costs are reasonable for the number of young people and what they gain.", 15, 5),
    ("Partnership", "Works with schools, services and other groups rather than duplicating them.", 10, 5),
    ("Sustainability", "Something lasting remains when the grant ends: skills, volunteers or other funding.", 10, 5),
]  # fmt: skip

QUESTIONS = [
    # prompt, help text, required, word limit
    ("How have young people shaped this project, and how will they help run it?",
     "Tell us who you asked, what they said and what changed because of it.", True, 250),
    ("What will carry on after the grant ends?", "", False, 150),
]  # fmt: skip

ROUND_TEXT = {
    "description": (
        "Seed grants of {low} to {high} for new or growing youth projects in Wiltshire and Swindon, run by member "
        "organisations. We fund the first step: a pilot, a new group, an extra night, a way to reach young people "
        "who miss out."
    ),
    "priorities": (
        "Young people's mental health and wellbeing; rural isolation and getting to activities; young carers; "
        "safe places to go in the evenings and school holidays."
    ),
    "eligibility": (
        "Member organisations in good standing (approved, safeguarding policy and insurance in date, no overdue "
        "end-of-grant report). One application per organisation per round. Projects must start within six months "
        "of the decision."
    ),
}


@dataclass(frozen=True)
class DemoProject:
    org: str
    title: str
    summary: str
    description: str
    towns: tuple[str, ...]
    young_people: int
    ages: tuple[int, int]
    days: tuple[int, int]  # start and end, in days from the seeding day
    budget: tuple[tuple[str, int], ...]  # (item, pence)
    outcomes: str
    partners: str
    voice: str
    after: str

    @property
    def amount(self) -> int:
        return sum(cost for _, cost in self.budget)


# A review: reviewer email, scores in the order of CRITERIA (None: not scored yet), comment on the first criterion.
Review = tuple[str, tuple[int | None, ...], str]

# --- the decided round's projects -----------------------------------------------------------------------------------

HOLIDAY_DAYS = DemoProject(
    "Trowbridge Town Council Youth Service", "Studley Green summer holiday activity days",
    "Twelve free activity days over the summer holidays on the Studley Green estate, with a hot lunch, for young "
    "people who would otherwise spend the break indoors.",
    "Many families on Studley Green cannot afford holiday clubs, and the youth council told us the long summer is "
    "the loneliest time of the year. Over six weeks we will run twelve days of sport, cooking, arts and trips from "
    "the community centre, each with a hot lunch, led by our youth workers with volunteers from the estate.",
    ("Trowbridge",), 90, (11, 16), (-150, -105),
    (("Youth workers: 3 staff for 12 days", 252_000), ("Activities, trips and equipment", 138_000),
     ("Hot lunches (12 days)", 90_000)),
    "Young people have somewhere safe and free to go all summer, eat a hot meal on activity days, and try "
    "activities they have not tried before.",
    "Studley Green Community Centre; Trowbridge Food Bank; Wiltshire Council holiday activities team",
    "The Trowbridge youth council surveyed 140 young people on the estate; the top three asks were trips, "
    "cooking and football. Four young people sit on the planning group and two will be paid junior leaders.",
    "The junior leaders will carry on as volunteers, and the town council has budgeted for a winter programme.",
)  # fmt: skip
SATURDAY_CLUB = DemoProject(
    "Marlborough Young Carers", "Saturday club for young carers",
    "A fortnightly Saturday club in Marlborough giving young carers aged 8 to 17 a break from caring, a hot meal "
    "and time with others who understand.",
    "Young carers in the Kennet valley tell us they rarely get time for themselves. The club meets every other "
    "Saturday at the Kennet Valley Hall, with transport from the villages, games, cooking and a quiet room, and a "
    "youth worker who can help with school and home worries.",
    ("Marlborough",), 28, (8, 17), (-160, 40),
    (("Sessional youth workers", 190_000), ("Transport from Aldbourne, Pewsey and Ramsbury", 90_000),
     ("Food and activities", 70_000)),
    "Young carers have regular time off, feel less alone, and know where to turn for help.",
    "Kennet Valley Hall; Wiltshire Young Carers service; Marlborough schools' pastoral teams",
    "Our young carers' council chose the Saturday slot, the activities and the name of the club.",
    "Parents' group fundraising and the town council's small grants will keep the club going.",
)  # fmt: skip
STREET_SPORT = DemoProject(
    "Swindon Sports Trust", "Street sport on Swindon's northern estates",
    "Detached youth workers and coaches taking free football, basketball and boxercise to open spaces in Penhill, "
    "Pinehurst and Gorse Hill on summer and autumn evenings.",
    "Anti-social behaviour calls peak on summer evenings on the northern estates, where there is little for young "
    "people to do. Two coaches and a detached youth worker will run pop-up sessions three evenings a week, moving "
    "between the estates, and link young people with clubs, the youth forum and support services.",
    ("Swindon",), 150, (11, 19), (-165, 20),
    (("Detached youth workers and coaches", 480_000), ("Portable goals, hoops and kit", 140_000),
     ("First aid and safeguarding training for volunteers", 100_000)),
    "Young people are active on summer evenings, meet trusted adults, and some go on to join clubs.",
    "Penhill Youth Forum; Swindon Borough Council community safety team; local football clubs",
    "The Penhill Youth Forum asked for sport in the places young people already meet, and chose the times.",
    "Volunteers trained in the project will keep the Friday sessions going with the clubs.",
)  # fmt: skip
PEER_MENTORS = DemoProject(
    "Calne Youth Project", "Calne peer mentors for wellbeing",
    "Training twelve young people as peer mentors who run weekly drop-ins on stress, sleep and friendships at "
    "Bank House, backed by a qualified counsellor.",
    "Waiting lists for young people's mental health support in north Wiltshire are long, and many young people "
    "say they would talk to someone their own age first. We will train twelve mentors aged 16 to 19, who will run "
    "a weekly drop-in with a counsellor on hand and refer on when needed.",
    ("Calne",), 60, (13, 19), (-140, 90),
    (("Accredited peer mentor training", 120_000), ("Counsellor supervision", 105_000),
     ("Drop-in costs and publicity", 50_000)),
    "Young people get support sooner, mentors gain a qualification, and fewer young people reach crisis.",
    "Kingsbury Green Academy; Calne GP surgeries; Open Minds Chippenham",
    "Our youth committee ran a wellbeing survey and designed the drop-in; mentors will run it.",
    "Mentors will train the next group, and the academy will fund supervision from next year.",
)  # fmt: skip
PODCAST = DemoProject(
    "Penhill Youth Forum", "Penhill youth voice podcast",
    "Young people from Penhill plan, record and publish a monthly podcast about life on the estate, and put their "
    "questions to councillors and the police.",
    "Young people on Penhill say decisions about their estate are made without them. With recording kit and a "
    "youth worker, a group of ten will make a monthly podcast, interview local decision-makers and share it in "
    "schools and online.",
    ("Swindon",), 20, (13, 18), (-130, 50),
    (("Recording kit", 85_000), ("Youth worker time", 75_000), ("Hosting and publicity", 20_000)),
    "Young people gain confidence and media skills, and their views reach the people who decide.",
    "Swindon Borough Council; Wiltshire Police neighbourhood team; Penhill Community Hub",
    "The forum's members came up with the idea and will choose every episode's subject.",
    "The kit stays with the forum, and the trained group will teach new members.",
)  # fmt: skip
SUMMER_MUSICAL = DemoProject(
    "Malmesbury Youth Theatre", "Summer musical for Malmesbury teenagers",
    "A full-scale summer musical with professional direction, staged at the town hall by forty young people.",
    "Our members would like to stage a musical with professional lighting and sound, hiring a director and "
    "musical director for six weeks and the town hall for the performances.",
    ("Malmesbury",), 40, (11, 18), (-120, -90),
    (("Director and musical director", 320_000), ("Lighting and sound hire", 180_000),
     ("Town hall hire and rights", 150_000)),
    "Young people perform in a professional-standard production.",
    "Malmesbury Town Council",
    "Our members voted for the show.",
    "Ticket sales will fund the next production.",
)  # fmt: skip

# --- the round in review ---------------------------------------------------------------------------------------------

FRIDAY_LATE = DemoProject(
    "Calne Youth Project", "Friday late: Calne youth club open until 11pm",
    "Keeping Bank House open until 11pm on Friday nights through the winter, with detached workers walking the "
    "town centre and a safe lift home for young people from outlying villages.",
    "Friday nights are when young people in Calne are most at risk: the youth club closes at nine and the town "
    "centre fills up. We will open Bank House until eleven for 26 Fridays, with two youth workers inside, a "
    "detached worker outside linking with the street pastors, and a minibus home to Derry Hill and Compton "
    "Bassett.",
    ("Calne",), 120, (12, 18), (20, 200),
    (("Youth worker hours: 2 workers for 26 Fridays", 312_000), ("Late-night transport home", 130_000),
     ("Food and activities", 78_000)),
    "Fewer young people on the streets late on Fridays, safe journeys home, and trusted adults they can talk to.",
    "Calne street pastors; Wiltshire Police; Calne Town Council",
    "The youth club committee asked for a later Friday after a survey of 90 members; they will run the tuck shop "
    "and plan the activities.",
    "The town council will consider funding the later opening from next April if the pilot works.",
)  # fmt: skip
FOOTBALL_MENTORS = DemoProject(
    "Swindon Sports Trust", "Football mentors for young people in Gorse Hill",
    "Weekly football at the Old Town pavilion followed by a mentoring hour with trained volunteers, for young "
    "people referred by schools and the youth offending team.",
    "Young people at risk of exclusion respond to sport when little else works. Each Wednesday a coach runs an "
    "hour of football and trained volunteer mentors spend the next hour with the same young people, one to one, "
    "on school, work and what comes next.",
    ("Swindon",), 40, (12, 17), (30, 300),
    (("Coach and mentor coordinator", 280_000), ("Pitch hire", 117_000), ("Mentor training and DBS checks", 63_000)),
    "Young people stay in school, build a relationship with a mentor, and some move into training or work.",
    "Swindon youth offending team; three secondary schools; Old Town Sports Pavilion",
    "Young people from last year's holiday camp asked for the mentoring to continue; two of them are now "
    "volunteer coaches.",
    "Mentors stay on as volunteers; the schools have offered to share the pitch hire next year.",
)  # fmt: skip
DETACHED_TROWBRIDGE = DemoProject(
    "Trowbridge Town Council Youth Service", "Detached youth work in Trowbridge town centre and parks",
    "Two youth workers out on foot three evenings a week where young people gather, building trust and linking "
    "them to support on drugs, exploitation and mental health.",
    "Young people who do not use youth clubs gather in the town park, the retail park and by the river. Detached "
    "youth workers meet them on their own ground, week after week, so that when something goes wrong there is "
    "someone they already trust.",
    ("Trowbridge",), 200, (11, 19), (14, 380),
    (("Two detached youth workers, three evenings a week", 560_000), ("Training and supervision", 80_000),
     ("Outreach kit, phones and first aid", 80_000)),
    "Young people at risk are known to a trusted adult and referred to help early.",
    "Wiltshire Police; the council's community safety team; local drug and alcohol service",
    "Young people met in the park told us where and when to be there; a group of them reviews the work each term.",
    "The town council has agreed to match-fund a second year if the pilot reaches its targets.",
)  # fmt: skip
RESPITE_BREAKS = DemoProject(
    "Marlborough Young Carers", "Young carers' respite breaks",
    "Four day trips and a two-night residential in the Brecon Beacons for young carers who rarely get a break, "
    "planned with them, and with respite for families at home.",
    "Many of our young carers have never been on holiday. We will run four day trips and a residential, with "
    "cover arranged at home so they can go without worrying.",
    ("Marlborough",), 30, (10, 17), (40, 250),
    (("Residential centre, two nights", 240_000), ("Coach hire for trips", 180_000),
     ("Staff, activities and respite cover", 160_000)),
    "Young carers have a real break, make friends and come back with more energy for school.",
    "Wiltshire Young Carers service; Kennet Valley Hall; local GP practices",
    "Young carers voted on the destinations at the Saturday club and will help plan the residential.",
    "Families and the parents' group will fundraise for a yearly residential.",
)  # fmt: skip
PEER_SUPPORT = DemoProject(
    "Open Minds Chippenham", "Open Minds peer support groups",
    "Weekly peer support groups for 14 to 19 year olds waiting for or leaving CAMHS, run by trained young "
    "volunteers with a qualified practitioner on hand.",
    "Young people in Chippenham wait many months for mental health support, and often lose touch when it ends. "
    "Our groups meet weekly at the Monkton Park hall, run by young volunteers who have been through it, with a "
    "qualified practitioner in every session.",
    ("Chippenham", "Calne"), 45, (14, 19), (21, 360),
    (("Qualified practitioner, weekly sessions", 390_000), ("Volunteer training", 150_000),
     ("Hall hire and refreshments", 150_000)),
    "Young people waiting for help feel less alone, learn ways to cope, and know when to seek urgent help.",
    "Oxford Health CAMHS; Calne Youth Project; Chippenham schools",
    "Three young people who used CAMHS designed the groups with us and are now trained facilitators.",
    "Trained volunteers will keep the groups running; we are applying to the NHS for core funding.",
)  # fmt: skip
VILLAGE_BUS = DemoProject(
    "Warminster Rural Youth Link", "Village youth bus for the Warminster area",
    "A minibus collecting young people from Codford, Heytesbury and the Deverills twice a week so they can get to "
    "the youth club and activities in Warminster.",
    "There is no evening bus from the villages west of Warminster, so young people there miss out on everything "
    "the town offers. A hired minibus with a volunteer driver and a youth worker will run two evenings a week.",
    ("Warminster",), 35, (11, 18), (30, 395),
    (("Minibus lease, 12 months", 360_000), ("Fuel and insurance", 180_000),
     ("Driver training and youth worker", 160_000)),
    "Young people from the villages take part in activities and feel less isolated.",
    "Warminster youth club; Lake Pleasure Grounds Pavilion; parish councils of Codford and Heytesbury",
    "Young people in Codford started a petition for a bus; two of them sit on our steering group.",
    "Parish councils have offered to share the running costs if use is good.",
)  # fmt: skip
SATURDAY_SESSIONS = DemoProject(
    "Westbury Detached Youth Team", "Leigh Park Saturday sessions",
    "Saturday afternoon sessions at the Leigh Park community room for young people on the estate, with cooking, "
    "games and advice.",
    "Young people on Leigh Park have nothing on at weekends. We will run Saturday sessions with cooking, games "
    "and drop-in advice.",
    ("Westbury",), 50, (11, 17), (30, 260),
    (("Sessional staff", 240_000), ("Food and materials", 80_000), ("Room hire", 60_000)),
    "Young people have somewhere to go at weekends.",
    "Leigh Park residents' association",
    "Young people we meet on detached sessions asked for it.",
    "",
)  # fmt: skip
NEW_MEMBERS = DemoProject(
    "Cricklade and District Youth Club", "Cricklade youth club: new members' nights",
    "A third weekly club night for new members, with taster activities and a buddy scheme.",
    "Our two club nights are full. A third night for new members would let us take young people off the waiting "
    "list.",
    ("Cricklade",), 25, (10, 16), (30, 250),
    (("Youth leader hours", 150_000), ("Hall hire", 60_000), ("Activities", 40_000)),
    "Young people on the waiting list join the club.",
    "Cricklade Town Council",
    "Members suggested a buddy scheme for newcomers.",
    "",
)  # fmt: skip
STREET_DANCE = DemoProject(
    "Salisbury Arts for Young People CIC", "Street dance in Bemerton Heath",
    "Weekly street dance classes at the Fisherton studios for young people from Bemerton Heath.",
    "We would like to offer young people from Bemerton Heath weekly street dance classes at our Fisherton "
    "studios, ending in a showcase.",
    ("Salisbury",), 30, (11, 16), (30, 240),
    (("Dance tutor", 240_000), ("Studio time", 120_000), ("Showcase costs", 60_000)),
    "Young people learn to dance and perform.",
    "",
    "We think young people would enjoy it.",
    "",
)  # fmt: skip

# --- the open round ------------------------------------------------------------------------------------------------

EXAM_STRESS = DemoProject(
    "Open Minds Chippenham", "Exam-stress peer support in Chippenham",
    "Lunchtime and after-school peer support groups in two Chippenham secondary schools from January to the end of "
    "the summer exams.",
    "Exam stress is the most common reason young people come to our groups. Trained sixth-form volunteers will "
    "run weekly sessions in two schools on revision, sleep and panic, with our practitioner supervising.",
    ("Chippenham",), 80, (14, 18), (45, 230),
    (("Practitioner supervision", 150_000), ("Volunteer training", 90_000), ("Materials", 30_000)),
    "Fewer young people overwhelmed at exam time; more know how to ask for help.",
    "Two Chippenham secondary schools; Oxford Health CAMHS",
    "Sixth-formers who used our groups proposed running them in school and wrote the session plans.",
    "The schools will fund supervision if the groups work.",
)  # fmt: skip
EASTER_ACTIVITIES = DemoProject(
    "Cricklade and District Youth Club", "Easter holiday activities in Cricklade",
    "Six days of activities over the Easter holidays for 10 to 16 year olds, including a trip to the Cotswold "
    "Water Park.",
    "Cricklade has no holiday provision for secondary-age young people. Our volunteers and a sessional youth "
    "worker will run six days of sport, crafts and a trip, with free places for families on low incomes.",
    ("Cricklade",), 40, (10, 16), (130, 140),
    (("Sessional youth worker", 90_000), ("Trip and transport", 70_000), ("Activities and food", 50_000)),
    "Young people have something to do over Easter and meet others from the town.",
    "Cricklade Town Council; Thames Meadow Youth Hut",
    "Club members chose the activities and the trip.",
    "",
)  # fmt: skip
VILLAGE_LIFT = DemoProject(
    "Calne Youth Project", "Youth bus from the villages to Bank House",
    "A twice-weekly minibus bringing young people from Derry Hill, Compton Bassett and Cherhill to the youth club "
    "at Bank House.",
    "",
    ("Calne",), 30, (11, 18), (60, 330),
    (("Minibus hire, 40 weeks", 240_000), ("Volunteer driver training", 40_000)),
    "",
    "",
    "",
    "",
)  # fmt: skip


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A London wall-clock time on `day`, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _season(day: date) -> tuple[str, str]:
    """The round's name and code for the season it opens in: ("Spring 2026", "SP26")."""
    if day.month in (12, 1, 2):
        end = day.year + 1 if day.month == 12 else day.year
        return f"Winter {end - 1}/{end % 100:02d}", f"WI{end % 100:02d}"
    name, code = {3: ("Spring", "SP"), 6: ("Summer", "SU"), 9: ("Autumn", "AU")}[(day.month - 3) // 3 * 3 + 3]
    return f"{name} {day.year}", f"{code}{day.year % 100:02d}"


def _seeding_day() -> tuple[date, LedgerTransaction | None]:
    """The day the grants demo was first seeded (from its opening deposit), or today."""
    opening = db.session.scalar(
        sa.select(LedgerTransaction).where(
            LedgerTransaction.kind == TransactionKind.DEPOSIT,
            LedgerTransaction.source_type == "opening_balance",
            LedgerTransaction.reason == OPENING_REASON,
        )
    )
    if opening is None:
        return utcnow().astimezone(LONDON).date(), None
    return opening.created_at.astimezone(LONDON).date() + timedelta(days=OPENING_DAYS_BEFORE), opening


@dataclass
class _Cast:
    """The people and organisations the grants demo needs, by email and by name."""

    staff: User
    users: dict[str, User]
    orgs: dict[str, Organisation]
    contacts: dict[str, User]  # organisation name -> the member who applies for it
    day: date

    def d(self, offset: int) -> date:
        return self.day + timedelta(days=offset)

    def at(self, offset: int, hour: int = 10, minute: int = 0) -> datetime:
        return _at(self.d(offset), hour, minute)


@demo_data("grants", order=30)
def seed_grants() -> Iterator[str]:
    """The seed-grant demo: the fund, reviewers' and applicants' accounts, and four rounds in different states."""
    # The services' notifications are delivered in-process when no broker is set: one log line each is noise here.
    trace_log = logging.getLogger("celery.app.trace")
    level = trace_log.level
    trace_log.setLevel(max(level, logging.WARNING))
    try:
        with current_app.test_request_context("/"):  # the services link to pages in their notifications
            yield from _seed_grants()
    finally:
        trace_log.setLevel(level)


def _seed_grants() -> Iterator[str]:
    staff = db.session.scalar(sa.select(User).where(User.email == "staff@wypf.example"))
    if staff is None:
        return
    yield from _applicant_accounts(staff)
    db.session.commit()
    day, opening = _seeding_day()
    if opening is None:
        opening = rounds.record_deposit(OPENING_PENCE, OPENING_REASON, "opening_balance", staff)
        opening.created_at = _at(day - timedelta(days=OPENING_DAYS_BEFORE), 9)
        yield f"fund: opening deposit of {pounds(OPENING_PENCE)}"
    decisions.ensure_default_decline_reasons()
    db.session.commit()
    cast = _Cast(
        staff=staff,
        users={u.email: u for u in db.session.scalars(sa.select(User))},
        orgs={o.name: o for o in db.session.scalars(sa.select(Organisation))},
        contacts={},
        day=day,
    )
    for org_name, email, _name in GRANT_CONTACTS:
        if org_name in cast.orgs and email in cast.users:
            cast.contacts[org_name] = cast.users[email]
    for build in (_decided_round, _review_round, _open_round, _draft_round):
        line = build(cast)
        if line:
            db.session.commit()
            yield line


def _applicant_accounts(staff: User) -> Iterator[str]:
    for name, town, area, sector, legal, charity, company, _email, _contact, description in APPLICANT_ORGS:
        if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name)) is None:
            add_organisation(
                name,
                town,
                area,
                sector,
                legal,
                charity,
                company,
                OrganisationStatus.APPROVED,
                staff,
                description,
            )
            yield f"organisation {name}"
    db.session.flush()
    for org_name, email, contact in GRANT_CONTACTS:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == org_name))
        if org is None:
            continue
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = add_demo_user(email, contact)
            db.session.flush()
            yield f"user {email}"
        if user.membership_of(org.id) is None:
            db.session.add(Membership(user=user, organisation=org, role=MemberRole.ADMIN))
            db.session.flush()
            db.session.refresh(user)


@demo_logins_section("grants", order=30)
def applicant_logins() -> Iterator[str]:
    yield "  grant applicants (admins of these organisations):"
    listed = {email for email, _name, _flags in USERS}
    for org_name, email, _name in GRANT_CONTACTS:
        if email not in listed:
            yield f"  {'org admin':15} {email:40} {org_name}"


# --- building blocks, each through the grants services --------------------------------------------------------------


def _new_round(
    cast: _Cast, opens: int, closes: int, low: int, high: int, budget: int | None
) -> GrantRound | None:
    """A round opening `opens` days from the seeding day, or None if it exists already."""
    name, code = _season(cast.d(opens))
    if db.session.scalar(sa.select(GrantRound.id).where(GrantRound.code == code)) is not None:
        return None
    round_ = rounds.create_round(
        {
            "name": f"{name} seed grants",
            "code": code,
            "description": ROUND_TEXT["description"].format(low=pounds(low), high=pounds(high)),
            "priorities": ROUND_TEXT["priorities"],
            "eligibility": ROUND_TEXT["eligibility"],
            "opens_at": cast.at(opens, 9),
            "closes_at": cast.at(closes, 12),
            "min_award_pence": low,
            "max_award_pence": high,
        },
        cast.staff,
    )
    round_.created_at = cast.at(opens - 21)
    rounds.set_criteria(round_, [rounds.CriterionInput(n, d, w, m) for n, d, w, m in CRITERIA])
    rounds.set_questions(round_, [rounds.QuestionInput(p, h, r, w) for p, h, r, w in QUESTIONS])
    if budget:
        txn = rounds.allocate_budget(round_, budget, cast.staff)
        txn.created_at = cast.at(opens - 14)
    return round_


def _values(round_: GrantRound, project: DemoProject, cast: _Cast) -> applications.ApplicationValues:
    answers = dict(zip((q.id for q in round_.questions), (project.voice, project.after), strict=True))
    return applications.ApplicationValues(
        project_title=project.title,
        summary=project.summary,
        description=project.description,
        towns=list(project.towns),
        young_people_count=project.young_people,
        age_min=project.ages[0],
        age_max=project.ages[1],
        starts_on=cast.d(project.days[0]),
        ends_on=cast.d(project.days[1]),
        amount_requested_pence=project.amount,
        outcomes=project.outcomes,
        partners=project.partners,
        budget_lines=[applications.BudgetItem(item, cost) for item, cost in project.budget],
        answers={qid: text for qid, text in answers.items() if text},
    )


def _apply(
    cast: _Cast, round_: GrantRound, project: DemoProject, started: int, submitted: int | None
) -> Application:
    """The organisation's contact starts, fills in and (unless `submitted` is None) submits an application."""
    org, user = cast.orgs[project.org], cast.contacts[project.org]
    application = applications.start_application(round_, org, user, now=cast.at(started, 11))
    applications.save_draft(application, user, _values(round_, project, cast), application.version)
    if submitted is not None:
        applications.submit_application(application, user, now=cast.at(submitted, 16, 30))
    return application


def _review(
    cast: _Cast, application: Application, review: Review, submit: bool = True, when: int | None = None
) -> ReviewAssignment:
    """Assigned by staff; the reviewer confirms no conflict, scores (some or all) and submits."""
    email, scores, comment = review
    reviewer = cast.users[email]
    assignment = reviews.assign(application, reviewer, cast.staff, notify_reviewer=when is None)
    reviews.declare(assignment, reviewer, has_conflict=False)
    entries = {
        criterion.id: reviews.ScoreInput(score=score, comment=comment if position == 0 else "")
        for position, (criterion, score) in enumerate(zip(application.round.criteria, scores, strict=True))
        if score is not None
    }
    reviews.save_scores(assignment, reviewer, entries)
    if submit:
        reviews.submit_review(assignment, reviewer)
    db.session.flush()
    if when is not None:
        assignment.assigned_at = cast.at(when - 3, 9)
        assignment.declared_at = cast.at(when - 1, 19)
        if submit:
            assignment.submitted_at = cast.at(when, 20)
        for score in assignment.scores:
            score.updated_at = cast.at(when, 20)
    return assignment


def _backdate_decision(cast: _Cast, application: Application, when: int) -> None:
    moment = cast.at(when, 14)
    assert application.decision is not None
    application.decision.decided_at = moment
    event = db.session.scalar(
        sa.select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.id.desc())
        .limit(1)
    )
    if event is not None:
        event.created_at = moment
    if application.grant is not None:
        application.grant.created_at = moment
        for txn in db.session.scalars(ledger.tagged(money.grant_tag(application.grant.id))):
            txn.created_at = moment


def _award(
    cast: _Cast,
    application: Application,
    amount: int | None = None,
    feedback: str = "",
    when: int | None = None,
) -> Grant:
    """Award in full, or in part when `amount` is given."""
    outcome = DecisionOutcome.AWARD_FULL if amount is None else DecisionOutcome.AWARD_PART
    decisions.decide(application, cast.staff, decisions.DecisionInput(outcome, amount, feedback=feedback))
    if when is not None:
        _backdate_decision(cast, application, when)
    assert application.grant is not None
    return application.grant


def _decline(
    cast: _Cast, application: Application, reason: str, feedback: str, when: int | None = None
) -> None:
    reason_id = db.session.scalar(sa.select(DeclineReason.id).where(DeclineReason.label == reason))
    decisions.decide(
        application,
        cast.staff,
        decisions.DecisionInput(DecisionOutcome.DECLINE, decline_reason_id=reason_id, feedback=feedback),
    )
    if when is not None:
        _backdate_decision(cast, application, when)


def _accept(cast: _Cast, grant: Grant, schedule: list[tuple[int, int]], when: int) -> None:
    """Staff set the payment schedule ((days from the seeding day, pence)); the organisation's admin accepts."""
    awards.set_schedule(grant, cast.staff, [(cast.d(offset), pence) for offset, pence in schedule])
    admin = cast.contacts[grant.organisation.name]
    awards.accept_grant(grant, admin, awards.offer_fingerprint(grant))
    grant.accepted_at = cast.at(when, 15)


def _pay(cast: _Cast, grant: Grant, number: int) -> None:
    """Staff record the `number`th instalment (from 0) as paid on its due date, with a bank reference."""
    grant = awards.lock_grant(grant.id)
    instalment = sorted(grant.instalments, key=lambda i: i.due_on)[number]
    reference = f"BACS {grant.application.reference}-{number + 1}"
    awards.record_payment(grant, instalment.id, cast.staff, reference)
    instalment.paid_at = _at(instalment.due_on, 11)
    txn = db.session.get(LedgerTransaction, instalment.transaction_id)
    assert txn is not None
    txn.created_at = instalment.paid_at


# --- the four rounds -----------------------------------------------------------------------------------------------


def _decided_round(cast: _Cast) -> str | None:
    round_ = _new_round(cast, -260, -225, 50_000, 750_000, 3_000_000)
    if round_ is None:
        return None
    rounds.advance(round_, cast.staff, now=cast.at(-260, 9))
    applied = {
        project.title: _apply(cast, round_, project, started, submitted)
        for project, started, submitted in (
            (HOLIDAY_DAYS, -255, -236),
            (SATURDAY_CLUB, -250, -240),
            (STREET_SPORT, -248, -226),
            (PEER_MENTORS, -245, -229),
            (PODCAST, -240, -228),
            (SUMMER_MUSICAL, -238, -227),
        )
    }
    rounds.advance(round_, cast.staff, now=cast.at(-225, 12))
    rounds.advance(round_, cast.staff, now=cast.at(-223, 9))
    panel: dict[str, tuple[Review, ...]] = {
        HOLIDAY_DAYS.title: (
            ("panel@wypf.example", (5, 4, 5, 4, 4, 3), "Clear evidence from the youth council survey."),
            ("panel3@wypf.example", (4, 4, 4, 4, 3, 3), "Strong need; the food bank link matters."),
        ),
        SATURDAY_CLUB.title: (
            ("panel2@wypf.example", (4, 3, 3, 3, 3, 3), "Young carers are under-served here."),
            ("panel4@wypf.example", (4, 4, 4, 3, 3, 3), "Good links with the young carers service."),
        ),
        STREET_SPORT.title: (
            ("panel@wypf.example", (4, 4, 4, 3, 5, 4), "Well connected with the youth forum and clubs."),
            ("panel2@wypf.example", (3, 3, 3, 2, 4, 3), "Kit budget looks high for pop-up sessions."),
        ),
        PEER_MENTORS.title: (
            ("panel3@wypf.example", (4, 5, 4, 4, 3, 4), "Young people designed it; supervision is in place."),
            ("panel4@wypf.example", (4, 4, 4, 4, 3, 3), "Sensible and well supervised."),
        ),
        PODCAST.title: (
            ("panel@wypf.example", (4, 5, 4, 4, 3, 3), "Led by young people from start to finish."),
            ("panel3@wypf.example", (3, 5, 3, 4, 2, 2), "Great voice; need is less clearly evidenced."),
        ),
        SUMMER_MUSICAL.title: (
            ("panel2@wypf.example", (2, 2, 3, 2, 2, 2), "Mostly for young people who already take part."),
            ("panel4@wypf.example", (2, 3, 3, 2, 3, 2), "Outside the round's priorities."),
        ),
    }
    for title, given in panel.items():
        for n, review in enumerate(given):
            _review(cast, applied[title], review, when=-215 + n * 4)

    holiday = _award(cast, applied[HOLIDAY_DAYS.title], when=-195,
                     feedback="The panel were impressed by the youth council's survey.")  # fmt: skip
    club = _award(cast, applied[SATURDAY_CLUB.title], when=-195)
    sport = _award(cast, applied[STREET_SPORT.title], 600_000, when=-195,
                   feedback="Awarded in part: the panel felt the kit could be shared with the clubs.")  # fmt: skip
    mentors = _award(cast, applied[PEER_MENTORS.title], when=-195)
    podcast = _award(cast, applied[PODCAST.title], when=-195)
    _decline(
        cast, applied[SUMMER_MUSICAL.title], "Outside the round's priorities",
        "Thank you for a lively application. The panel liked the ambition of the production, but this round's "
        "priorities were mental health, rural isolation, young carers and safe places to go, and the application "
        "did not show how young people who do not already take part in the theatre would be reached. We would "
        "welcome an application for outreach drama with young people in the villages around Malmesbury in a "
        "future round.",
        when=-195,
    )  # fmt: skip
    rounds.advance(round_, cast.staff, now=cast.at(-194, 9))

    _accept(cast, holiday, [(-152, HOLIDAY_DAYS.amount)], when=-188)
    _accept(cast, club, [(-162, SATURDAY_CLUB.amount)], when=-186)
    _accept(cast, sport, [(-166, 300_000), (10, 300_000)], when=-185)
    _accept(cast, mentors, [(-142, PEER_MENTORS.amount)], when=-180)
    _accept(cast, podcast, [(-132, PODCAST.amount)], when=-178)
    for grant, paid in ((holiday, 1), (club, 1), (sport, 1), (mentors, 1), (podcast, 1)):
        for number in range(paid):
            _pay(cast, grant, number)

    # The holiday days are over: the report is in, accepted, and the underspend returned to the fund.
    holiday = awards.lock_grant(holiday.id)
    admin = cast.contacts[HOLIDAY_DAYS.org]
    report = reports.save_report(
        holiday, admin,
        reports.ReportInput(
            what_happened=(
                "We ran all twelve days. Football and the cooking days were the most popular; the trip to "
                "Longleat was the highlight. Four junior leaders from the estate helped run every day, and three "
                "families were referred to the food bank's holiday support."
            ),
            young_people_reached=86,
            spend_summary=(
                "Youth workers £2,520.00 as budgeted. Activities, trips and equipment £1,292.40 (the climbing "
                "wall visit cost less than quoted). Hot lunches £800.00 (the food bank donated two days' food)."
            ),
            spent_pence=461_240,
        ),
        submit=True,
    )  # fmt: skip
    report.submitted_at = cast.at(-60, 12)
    holiday.report_due_on = cast.d(HOLIDAY_DAYS.days[1]) + awards.REPORT_AFTER_PROJECT_END
    reports.accept_report(holiday, cast.staff, underspend_received=True, message="Thank you: a great summer.")
    report.reviewed_at = cast.at(-50, 10)
    returned = db.session.scalar(
        ledger.tagged(money.grant_tag(holiday.id)).where(
            LedgerTransaction.kind == TransactionKind.UNDERSPEND_RETURN
        )
    )
    if returned is not None:
        returned.created_at = report.reviewed_at

    leftover = money.money_for(round_).remaining_pence
    if leftover > 0:
        txn = rounds.deallocate_budget(
            round_, leftover, cast.staff, f"Unspent budget of {round_.name} handed back"
        )
        txn.created_at = cast.at(-193, 10)
    return f"grant round {round_.name} ({round_.code}): decided, {len(applied)} applications"


def _review_round(cast: _Cast) -> str | None:
    round_ = _new_round(cast, -110, -40, 100_000, 750_000, 4_000_000)
    if round_ is None:
        return None
    rounds.advance(round_, cast.staff, now=cast.at(-110, 9))
    plan = (
        (FRIDAY_LATE, -100, -45),
        (FOOTBALL_MENTORS, -95, -50),
        (DETACHED_TROWBRIDGE, -90, -42),
        (RESPITE_BREAKS, -88, -44),
        (PEER_SUPPORT, -85, -41),
        (VILLAGE_BUS, -80, -43),
        (SATURDAY_SESSIONS, -75, -41),
        (NEW_MEMBERS, -70, -65),
        (STREET_DANCE, -68, -46),
    )
    applied = {p.title: _apply(cast, round_, p, started, submitted) for p, started, submitted in plan}
    applications.withdraw_application(
        applied[NEW_MEMBERS.title], cast.contacts[NEW_MEMBERS.org],
        "The town council has offered to fund the new members' nights, so we are withdrawing to leave the money "
        "for other groups.",
        now=cast.at(-58, 18),
    )  # fmt: skip
    rounds.advance(round_, cast.staff, now=cast.at(-40, 12))
    rounds.advance(round_, cast.staff, now=cast.at(-38, 9))
    # The panel's reviews are due in a week, so the dashboard and the reminders have a date to work to.
    round_.review_deadline = cast.at(7, 17).astimezone(LONDON).date()

    # Four reviewers who mark differently (Pat generously, Ravi harshly, Sian across the whole range, Gareth in
    # the middle), so calibration reorders some applications; Trowbridge's scores are far apart (flagged).
    reviewed: dict[str, tuple[Review, ...]] = {
        FRIDAY_LATE.title: (
            ("panel@wypf.example", (5, 5, 4, 4, 4, 4), "Evidence from the police and the member survey."),
            ("panel2@wypf.example", (4, 3, 3, 3, 3, 3), "Transport costs need watching."),
            (
                "panel3@wypf.example",
                (5, 4, 5, 4, 3, 4),
                "Clear plan, experienced staff, real need on Fridays.",
            ),
        ),
        FOOTBALL_MENTORS.title: (
            ("panel2@wypf.example", (4, 4, 3, 3, 3, 3), "Referral routes are well established."),
            ("panel3@wypf.example", (4, 4, 4, 3, 3, 3), "Mentoring hour is the strength here."),
            ("panel4@wypf.example", (4, 4, 3, 3, 3, 2), "Good, though pitch hire is a large share."),
        ),
        DETACHED_TROWBRIDGE.title: (
            ("panel@wypf.example", (5, 5, 5, 4, 5, 4), "Exactly the kind of work the round is for."),
            ("panel3@wypf.example", (2, 2, 3, 3, 2, 2), "Little evidence young people asked for this."),
            ("panel4@wypf.example", (3, 3, 3, 3, 2, 3), "Worthwhile but the targets are vague."),
        ),
        RESPITE_BREAKS.title: (
            ("panel@wypf.example", (4, 4, 4, 3, 3, 3), "A real break for young carers."),
            ("panel2@wypf.example", (4, 4, 4, 3, 3, 3), "Strong: young carers planned it."),
            ("panel4@wypf.example", (5, 4, 4, 4, 3, 3), "Well costed, with respite cover at home."),
        ),
        PEER_SUPPORT.title: (
            ("panel@wypf.example", (5, 5, 4, 4, 4, 3), "Fills the gap around CAMHS waiting lists."),
            ("panel3@wypf.example", (5, 5, 4, 4, 4, 4), "Designed by young people with lived experience."),
        ),
        STREET_DANCE.title: (
            ("panel2@wypf.example", (2, 2, 3, 2, 2, 1), "No sign young people from the estate asked for it."),
            ("panel3@wypf.example", (2, 3, 2, 2, 3, 1), "Relies on travel to the studios."),
            ("panel4@wypf.example", (2, 3, 3, 2, 2, 2), "Budget has no outreach or transport."),
        ),
    }
    for title, given in reviewed.items():
        for review in given:
            _review(cast, applied[title], review)
    conflicted = reviews.assign(applied[PEER_SUPPORT.title], cast.users["panel2@wypf.example"], cast.staff)
    reviews.declare(
        conflicted, cast.users["panel2@wypf.example"], has_conflict=True,
        reason="I am a trustee of Open Minds Chippenham's partner, the Calne Youth Project.",
    )  # fmt: skip
    # Reviews still in progress on the village bus: one submitted, one half scored, one not yet started.
    bus = applied[VILLAGE_BUS.title]
    _review(cast, bus, ("panel3@wypf.example", (4, 3, 3, 3, 4, 3), "Real rural need; lease costs are high."))
    _review(cast, bus, ("panel4@wypf.example", (4, 3, None, None, None, None), "Need is well evidenced."),
            submit=False)  # fmt: skip
    reviews.assign(bus, cast.users["panel@wypf.example"], cast.staff)

    applications.request_more_info(
        applied[SATURDAY_SESSIONS.title], cast.staff,
        "Please break down the £2,400 for sessional staff (hours and hourly rates), and tell us whether the Leigh "
        "Park community room is free on the Saturdays you plan to use. Then resubmit the application.",
        now=cast.at(-20, 11),
    )  # fmt: skip
    _award(
        cast, applied[FRIDAY_LATE.title], feedback="Ranked first by the panel. Well done to the committee."
    )
    _decline(
        cast, applied[STREET_DANCE.title], "Scored below other applications",
        "The panel welcomed the idea of taking dance to Bemerton Heath, but the plan relied on young people "
        "travelling to the Fisherton studios and did not show that young people from the estate had asked for "
        "it. The budget had no costs for outreach or transport. We would be glad to see a revised application in "
        "a future round, with sessions held on the estate and shaped by a group of young people from it.",
    )  # fmt: skip
    return f"grant round {round_.name} ({round_.code}): in review, {len(applied)} applications"


def _open_round(cast: _Cast) -> str | None:
    round_ = _new_round(cast, -14, 28, 50_000, 500_000, 3_500_000)
    if round_ is None:
        return None
    rounds.advance(round_, cast.staff, now=cast.at(-14, 9))
    _apply(cast, round_, EXAM_STRESS, -12, -5)
    _apply(cast, round_, EASTER_ACTIVITIES, -9, -2)
    # Calne's draft, half written: the demo applicant carries on from here and submits it.
    _apply(cast, round_, VILLAGE_LIFT, -3, None)
    return f"grant round {round_.name} ({round_.code}): open until {cast.d(28):%-d %B %Y}, 3 applications"


def _draft_round(cast: _Cast) -> str | None:
    round_ = _new_round(cast, 100, 140, 50_000, 500_000, None)
    if round_ is None:
        return None
    return f"grant round {round_.name} ({round_.code}): draft, no budget yet"
