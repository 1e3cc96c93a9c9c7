"""Monitoring returns for won bids: the partners' returns and their rules, lateness, reminders, the consolidated
return for the funder, and the pages (forms, 422 messages, who may read and write)."""

from __future__ import annotations

import csv
import html
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from foundation.bids import monitoring
from foundation.bids.models import (
    MAX_AMOUNT_PENCE,
    RETURN_LEAD_DAYS,
    BidAward,
    BidBudgetLine,
    BidPartner,
    BudgetCategory,
    MonitoringReturn,
    ReturnReminder,
)
from foundation.bids.monitoring import ReturnStatus
from foundation.bids.tasks import send_return_reminders
from foundation.bids.todo import bids_todo
from foundation.errors import Conflict, DomainError, NotAllowed
from foundation.extensions import db
from foundation.members.models import MemberRole, Organisation, User
from foundation.notifications.models import Notification
from foundation.privacy import export_user_data
from foundation.todo import Viewer
from tests.bids.factories import make_award, make_opportunity
from tests.factories import add_member, login, make_org, make_user

pytestmark = pytest.mark.usefixtures("request_context")

TODAY = date.today()
REPORT_ON = TODAY + timedelta(days=60)
STAFF, ACTIVITY, VENUE, OVERHEADS = (
    BudgetCategory.STAFF, BudgetCategory.ACTIVITY, BudgetCategory.VENUE_HIRE, BudgetCategory.OVERHEADS,
)  # fmt: skip


@pytest.fixture
def third_org(db) -> Organisation:
    return make_org(
        admin=make_user(email="tess@trowbridge.example", name="Tess Third"), name="Trowbridge Detached"
    )


def _award(staff, member, org, partners, dates=(REPORT_ON,)) -> BidAward:
    # Room in the funder's range for any number of partners (each part's budget is larger than the last).
    opportunity = make_opportunity(consortium=True, min_pence=100_000, max_pence=MAX_AMOUNT_PENCE)
    return make_award(staff, member, org, partners, reporting_dates=dates, opportunity=opportunity)


def _return_of(award: BidAward, org: Organisation, reporting_index: int = 0) -> MonitoringReturn:
    reporting = award.reporting_dates[reporting_index]
    return db.session.scalars(
        sa.select(MonitoringReturn)
        .join(MonitoringReturn.partner)
        .where(MonitoringReturn.reporting_date_id == reporting.id, BidPartner.organisation_id == org.id)
    ).one()


def _admin(org: Organisation) -> User:
    return next(m.user for m in org.memberships if m.role is MemberRole.ADMIN)


def _fill(ret, by, sessions=12, reach=None, spend=None, outcomes="Confidence grew.", story="Sam leads a session now.",
          today=None):  # fmt: skip
    return monitoring.save_return(
        ret, sessions, outcomes, story, reach if reach is not None else {"Calne": 30},
        spend if spend is not None else {STAFF: 150_000}, by, today,
    )  # fmt: skip


def _subjects(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.subject).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


# --- the returns -----------------------------------------------------------------------------------------------


def test_each_partner_owes_a_return_per_reporting_date_due_before_it(staff, member, org, partner_org):
    award = _award(staff, member, org, (partner_org,), dates=(REPORT_ON, REPORT_ON + timedelta(days=90)))
    returns = db.session.scalars(sa.select(MonitoringReturn).order_by(MonitoringReturn.due)).all()
    assert len(returns) == 4
    assert {(r.reporting_date.due - r.due).days for r in returns} == {RETURN_LEAD_DAYS}
    assert {r.partner.organisation.name for r in returns} == {org.name, partner_org.name}
    assert all(monitoring.status_of(r, TODAY) is ReturnStatus.DUE for r in returns)
    assert award.reporting_dates[0].due == REPORT_ON


def test_a_partner_saves_its_return_and_submits_it(staff, member, org, partner_org, partner_admin):
    award = _award(staff, member, org, (partner_org,))
    ret = _return_of(award, partner_org)
    monitoring.save_return(
        ret, 8, "  More confident.  ", "Jo came every week.", {"Devizes": 25, "Calne": 0, "Melksham": None},
        {STAFF: 120_000, VENUE: 0, ACTIVITY: None}, partner_admin,
    )  # fmt: skip
    assert (ret.sessions_delivered, ret.outcomes) == (8, "More confident.")
    assert [(r.town, r.young_people) for r in ret.reach_rows] == [("Devizes", 25)]  # empty and 0 are dropped
    assert [(s.category, s.amount_pence) for s in ret.spend_rows] == [(STAFF, 120_000)]
    assert ret.submitted_at is None
    # Saving again replaces the figures (a town kept, one added, one removed).
    _fill(ret, partner_admin, reach={"Devizes": 30, "Pewsey": 4}, spend={STAFF: 100_000, VENUE: 5_000})
    db.session.flush()
    assert sorted((r.town, r.young_people) for r in ret.reach_rows) == [("Devizes", 30), ("Pewsey", 4)]
    assert sorted((s.category.value, s.amount_pence) for s in ret.spend_rows) == [
        ("staff", 100_000), ("venue_hire", 5_000),
    ]  # fmt: skip
    monitoring.submit_return(ret, partner_admin)
    assert ret.submitted_by == partner_admin and ret.submitted_at is not None
    assert monitoring.status_of(ret) is ReturnStatus.SUBMITTED
    # Another of the partner's people (any role) may write it too.
    colleague = make_user(name="Col League")
    add_member(partner_org, colleague)
    assert monitoring.can_write_return(colleague, ret)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"sessions": None}, "sessions", "Enter the number of sessions delivered"),
        ({"sessions": -1}, "sessions", "from 0 to 10,000"),
        ({"sessions": 10_001}, "sessions", "from 0 to 10,000"),
        ({"reach": {"Narnia": 4}}, "reach", "Narnia is not a town of Wiltshire and Swindon."),
        ({"reach": {"Calne": -3}}, "town_calne", "from 0 to 200,000 for Calne"),
        ({"reach": {"Royal Wootton Bassett": 200_001}}, "town_royal_wootton_bassett", "from 0 to 200,000"),
        ({"spend": {STAFF: -1}}, "spend_staff", "cannot be below zero"),
        ({"spend": {OVERHEADS: 1_000_000_001}}, "spend_overheads", "£10,000,000 or less"),
        ({"outcomes": "x" * 10_001}, "outcomes", "10,000 characters or fewer"),
        ({"story": "x" * 10_001}, "story", "10,000 characters or fewer"),
    ],
)
def test_bad_figures_are_refused_at_their_field_and_nothing_is_written(
    staff, member, org, partner_org, partner_admin, changes, field, words
):
    award = _award(staff, member, org, (partner_org,))
    ret = _return_of(award, partner_org)
    with pytest.raises(DomainError) as refused:
        _fill(ret, partner_admin, **changes)
    assert refused.value.field == field and words in refused.value.message
    assert (ret.sessions_delivered, ret.outcomes, ret.reach_rows, ret.spend_rows) == (0, "", [], [])


def test_the_largest_figures_allowed_are_taken(staff, member, org, partner_org, partner_admin):
    ret = _return_of(_award(staff, member, org, (partner_org,)), partner_org)
    _fill(ret, partner_admin, sessions=10_000, reach={"Swindon": 200_000}, spend={STAFF: 1_000_000_000})
    db.session.flush()
    assert (ret.sessions_delivered, ret.reach_rows[0].young_people, ret.spend_rows[0].amount_pence) == (
        10_000, 200_000, 1_000_000_000,
    )  # fmt: skip


def test_submitting_needs_the_outcomes_and_a_story(staff, member, org, partner_org, partner_admin):
    ret = _return_of(_award(staff, member, org, (partner_org,)), partner_org)
    _fill(ret, partner_admin, outcomes="  ", story="")  # a draft may lack them
    with pytest.raises(DomainError) as refused:
        monitoring.submit_return(ret, partner_admin)
    assert refused.value.field == "outcomes"
    _fill(ret, partner_admin, story=" ")
    with pytest.raises(DomainError) as refused:
        monitoring.submit_return(ret, partner_admin)
    assert refused.value.field == "story" and ret.submitted_at is None


def test_only_the_partners_own_people_write_its_return(staff, member, org, partner_org, partner_admin):
    award = _award(staff, member, org, (partner_org,))
    ret = _return_of(award, partner_org)
    lead_member = make_user(name="Lee Lead-member")
    add_member(org, lead_member)
    outsider = make_org(admin=make_user(name="Otto")).memberships[0].user
    for someone in (
        member,
        staff,
        lead_member,
        outsider,
    ):  # the lead's admin is a partner too, with its own return
        assert not monitoring.can_write_return(someone, ret)
        with pytest.raises(NotAllowed):
            _fill(ret, someone)
        with pytest.raises(NotAllowed):
            monitoring.submit_return(ret, someone)
    readers = {u.name for u in (member, staff, lead_member, outsider, partner_admin)
               if monitoring.can_read_return(u, ret)}  # fmt: skip
    assert readers == {member.name, staff.name, partner_admin.name}
    assert monitoring.can_write_return(member, _return_of(award, org))  # its own


def test_a_submitted_return_is_corrected_until_the_reporting_date_then_frozen(
    staff, member, org, partner_org, partner_admin
):
    ret = _return_of(_award(staff, member, org, (partner_org,)), partner_org)
    _fill(ret, partner_admin)
    monitoring.submit_return(ret, partner_admin, today=ret.due)
    first = ret.submitted_at
    _fill(ret, partner_admin, sessions=14, today=REPORT_ON - timedelta(days=1))  # a correction
    assert ret.sessions_delivered == 14 and ret.submitted_at == first  # the first submission stands
    with pytest.raises(DomainError) as refused:
        _fill(ret, partner_admin, story="", today=REPORT_ON - timedelta(days=1))
    assert refused.value.field == "story"  # a submitted return keeps its story
    with pytest.raises(Conflict, match="already submitted"):
        monitoring.submit_return(ret, partner_admin)
    assert not monitoring.frozen(ret, REPORT_ON - timedelta(days=1)) and monitoring.frozen(ret, REPORT_ON)
    with pytest.raises(Conflict, match="can no longer be changed"):
        _fill(ret, partner_admin, sessions=99, today=REPORT_ON)
    assert ret.sessions_delivered == 14


def test_a_return_not_submitted_stays_open_late_even_after_the_reporting_date(
    staff, member, org, partner_org, partner_admin
):
    ret = _return_of(_award(staff, member, org, (partner_org,)), partner_org)
    after = REPORT_ON + timedelta(days=10)
    assert monitoring.status_of(ret, after) is ReturnStatus.LATE and not monitoring.frozen(ret, after)
    _fill(ret, partner_admin, today=after)
    monitoring.submit_return(ret, partner_admin, today=after)
    ret.due = TODAY - timedelta(days=3)  # as if it had been due three days ago
    assert monitoring.status_of(ret, after) is ReturnStatus.SUBMITTED_LATE


def test_a_return_is_late_once_its_due_date_passes_unsubmitted(
    staff, member, org, partner_org, partner_admin
):
    award = _award(staff, member, org, (partner_org,))
    theirs, ours = _return_of(award, partner_org), _return_of(award, org)
    due = theirs.due
    assert monitoring.status_of(theirs, due) is ReturnStatus.DUE and not monitoring.is_late(theirs, due)
    assert monitoring.is_late(theirs, due + timedelta(days=1))
    assert monitoring.late_returns(due) == []
    assert monitoring.late_returns(due + timedelta(days=1)) == [ours, theirs]  # by due date, then as created
    _fill(theirs, partner_admin)
    monitoring.submit_return(theirs, partner_admin)
    db.session.flush()
    assert monitoring.late_returns(due + timedelta(days=1)) == [ours]


# --- reminders -------------------------------------------------------------------------------------------------


def test_partners_are_reminded_14_and_3_days_before_and_the_day_after_each_once(
    staff, member, org, partner_org, partner_admin
):
    colleague = make_user(name="Col League")
    add_member(partner_org, colleague)
    award = _award(staff, member, org, (partner_org,))
    ours = _return_of(award, org)
    _fill(ours, member)
    monitoring.submit_return(ours, member)  # the lead has sent its own: nothing more for it
    due = _return_of(award, partner_org).due
    days_before = (20, 15, 14, 14, 10, 3, 3, 1, 0, -1, -1, -2, -10)
    sent = [monitoring.send_return_reminders(due - timedelta(days=d)) for d in days_before]
    assert sent == [0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]  # one return (the partner's), each reminder once
    title = award.bid.title
    expected = [
        f"Monitoring return due in 14 days: {title}",
        f"Monitoring return due in 3 days: {title}",
        f"Monitoring return overdue: {title}",
    ]
    assert [s for s in _subjects(partner_admin) if "Monitoring return" in s] == expected
    assert [s for s in _subjects(colleague) if "Monitoring return" in s] == expected
    assert not [s for s in _subjects(member) if "Monitoring return" in s]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReturnReminder)) == 3


def test_a_late_sweep_sends_one_reminder_for_the_windows_it_missed(
    staff, member, org, partner_org, partner_admin
):
    award = _award(staff, member, org, (partner_org,))
    theirs = _return_of(award, partner_org)
    assert monitoring.send_return_reminders(theirs.due - timedelta(days=2)) == 2  # both partners, once each
    assert [s for s in _subjects(partner_admin) if "Monitoring" in s] == [
        f"Monitoring return due in 2 days: {award.bid.title}"
    ]
    assert monitoring.send_return_reminders(theirs.due - timedelta(days=1)) == 0  # 14 and 3 both recorded
    assert monitoring.send_return_reminders(theirs.due + timedelta(days=1)) == 2
    # Nothing once the funder's reporting date has come, even for a return still not in.
    other = _award(staff, member, org, (partner_org,))
    assert monitoring.send_return_reminders(other.reporting_dates[0].due) == 0


def test_the_task_commits_and_the_command_and_beat_run_it(app, staff, member, org, partner_org):
    award = _award(staff, member, org, (partner_org,))
    due = _return_of(award, partner_org).due
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["bids", "send-return-reminders", "--on", (due - timedelta(days=3)).isoformat()]
    )
    assert result.exit_code == 0 and "2 monitoring return reminder(s) sent." in result.output
    assert send_return_reminders.run((due - timedelta(days=3)).isoformat()) == 0
    tasks = {entry["task"] for entry in app.extensions["celery"].conf.beat_schedule.values()}
    assert "foundation.bids.tasks.send_return_reminders" in tasks


# --- the consolidated return -----------------------------------------------------------------------------------


def test_the_consolidated_return_adds_up_exactly(staff, member, org, partner_org, partner_admin, third_org):
    second = REPORT_ON + timedelta(days=91)
    award = _award(staff, member, org, (partner_org, third_org), dates=(REPORT_ON, second))
    # Budgets (make_bid): lead £10,000, partner £20,000, third £30,000 of staff; add other kinds of cost.
    partner = _return_of(award, partner_org).partner
    partner.budget_lines.append(BidBudgetLine(category=VENUE, description="Hall", amount_pence=4_000_00))
    db.session.flush()
    first_theirs, first_ours = _return_of(award, partner_org), _return_of(award, org)
    _fill(
        first_theirs, partner_admin, sessions=10, reach={"Devizes": 20, "Calne": 5}, spend={STAFF: 5_000_00}
    )
    monitoring.submit_return(first_theirs, partner_admin)
    _fill(first_ours, member, sessions=4, reach={"Calne": 15}, spend={STAFF: 1_000_00, VENUE: 250_00})
    monitoring.submit_return(first_ours, member)
    # The second period: the partner and the lead report, the third never does (late); the lead's draft is not
    # counted until it is submitted.
    theirs, ours, thirds = (_return_of(award, o, 1) for o in (partner_org, org, third_org))
    _fill(theirs, partner_admin, sessions=7, reach={"Devizes": 12, "Pewsey": 3},
          spend={STAFF: 4_000_00, VENUE: 1_500_00})  # fmt: skip
    monitoring.submit_return(theirs, partner_admin)
    _fill(ours, member, sessions=100, reach={"Calne": 999}, spend={STAFF: 9_999_00})
    today = thirds.due + timedelta(days=2)
    db.session.flush()

    report = monitoring.consolidated(award.reporting_dates[1], today)
    assert (report.young_people, report.sessions) == (15, 7)
    assert [(t.town, t.young_people) for t in report.towns] == [("Devizes", 12), ("Pewsey", 3)]
    by_name = {p.name: p for p in report.partners}
    assert by_name[partner_org.name].status is ReturnStatus.SUBMITTED
    assert by_name[org.name].status is ReturnStatus.LATE and not by_name[org.name].counted
    assert [p.name for p in report.late] == sorted([org.name, third_org.name])
    assert report.submitted_count == 1
    categories = {c.category: c for c in report.categories}
    assert (categories[STAFF].spent_pence, categories[VENUE].spent_pence) == (4_000_00, 1_500_00)
    # To date: both periods' submitted returns (the lead's first one, not its draft).
    assert categories[STAFF].spent_to_date_pence == 5_000_00 + 1_000_00 + 4_000_00
    assert categories[VENUE].spent_to_date_pence == 250_00 + 1_500_00
    # Budgets are the partners' budget lines by kind of cost.
    assert categories[STAFF].budget_pence == sum(
        line.amount_pence for p in award.bid.partners for line in p.budget_lines if line.category is STAFF
    )
    assert categories[VENUE].budget_pence == 4_000_00
    assert categories[VENUE].left_pence == 4_000_00 - 1_750_00
    assert report.spent_pence == sum(p.spend_pence for p in report.partners) == 5_500_00
    assert report.budget_pence == sum(p.budget_pence for p in report.partners)
    assert report.period_start == REPORT_ON

    first = monitoring.consolidated(award.reporting_dates[0], today)
    assert (first.young_people, first.sessions, first.spent_pence) == (40, 14, 6_250_00)
    assert [(t.town, t.young_people, t.partners) for t in first.towns] == [
        ("Calne", 20, [(org.name, 15), (partner_org.name, 5)]),
        ("Devizes", 20, [(partner_org.name, 20)]),
    ]
    assert first.period_start is None


def _statements(fn) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_the_consolidated_return_takes_the_same_queries_for_any_number_of_partners(staff, member, org):
    people = (staff.id, member.id, org.id)

    def measure(partners: int) -> int:
        staff_, member_ = db.session.get(User, people[0]), db.session.get(User, people[1])
        lead = db.session.get(Organisation, people[2])
        orgs = tuple(make_org(admin=make_user(), name=f"Partner {partners}-{i}") for i in range(partners))
        award = _award(staff_, member_, lead, orgs)
        for o in orgs:
            ret = _return_of(award, o)
            _fill(ret, _admin(o), reach={"Calne": 3, "Devizes": 4}, spend={STAFF: 100, VENUE: 200})
            monitoring.submit_return(ret, _admin(o))
        db.session.commit()
        award_id, reporting_id = award.id, award.reporting_dates[0].id
        db.session.remove()  # a fresh session, as a request has: nothing already loaded

        def run() -> None:
            report = monitoring.consolidated(monitoring.load_reporting_date(award_id, reporting_id))
            assert report.young_people == 7 * partners
            assert len(report.partners) == partners + 1  # and the lead, which has not reported
            for p in report.partners:
                assert p.name and p.budget_pence > 0
                if p.counted:
                    assert p.ret.submitted_by is not None and p.ret.submitted_by.name and p.spend_pence == 300

        return _statements(run)

    assert measure(1) == measure(4)


# --- the dashboard and privacy ---------------------------------------------------------------------------------


def test_the_dashboard_lists_returns_due_for_partners_and_late_ones_for_staff(
    staff, member, org, partner_org, partner_admin
):
    award = _award(staff, member, org, (partner_org,))
    due = _return_of(award, partner_org).due

    def groups(user: User, today: date) -> dict[str, list[str]]:
        orgs = [m.organisation for m in user.memberships]
        viewer = Viewer(user=user, organisations=orgs, admin_org_ids=[o.id for o in orgs], today=today)
        return {g.title: [i.text for i in g.items] for g in bids_todo(viewer)}

    assert groups(partner_admin, due - timedelta(days=31))["Monitoring returns due"] == []
    soon = groups(partner_admin, due - timedelta(days=10))
    assert soon["Monitoring returns due"] == [f"{partner_org.name}: {award.bid.title}"]
    assert groups(staff, due)["Late monitoring returns"] == []
    late = groups(staff, due + timedelta(days=1))
    assert sorted(late["Late monitoring returns"]) == sorted(
        [f"{partner_org.name}: {award.bid.title}", f"{org.name}: {award.bid.title}"]
    )


def test_the_export_lists_the_returns_a_person_submitted(staff, member, org, partner_org, partner_admin):
    ret = _return_of(_award(staff, member, org, (partner_org,)), partner_org)
    _fill(ret, partner_admin)
    monitoring.submit_return(ret, partner_admin)
    db.session.flush()
    exported = export_user_data(partner_admin)["bid_monitoring_returns"]["submitted"]
    assert [(e["return_id"], e["reporting_date"]) for e in exported] == [(ret.id, REPORT_ON.isoformat())]
    assert "bid_monitoring_return" not in export_user_data(partner_admin).get("other_records", {})


# --- the pages -------------------------------------------------------------------------------------------------


def _as(client, user):
    client.post("/logout")
    login(client, user)


def _form(**changes) -> dict[str, str]:
    data = {"sessions": "12", "outcomes": "Confidence grew.", "story": "Sam leads a session now.",
            "town_devizes": "25", "spend_staff": "1,500"}  # fmt: skip
    data.update(changes)
    return data


def test_a_partner_fills_in_its_return_through_the_form(
    app, client, staff, member, org, partner_org, partner_admin
):
    award = _award(staff, member, org, (partner_org,))
    ret = _return_of(award, partner_org)
    db.session.commit()
    url = f"/bids/returns/{ret.id}"
    _as(client, partner_admin)
    page = client.get(url).get_data(as_text=True)
    assert "Submit the return" in page and "Your budget for the whole grant: £20,000" in page

    bad = client.post(url, data=_form(sessions="-2", town_calne="lots", spend_staff="-5",
                                      spend_overheads="20,000,000"))  # fmt: skip
    text = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 422 and "<title>Error:" in text
    assert "Enter the number of young people in Calne as a whole number, e.g. 40." in text
    assert "An amount cannot be below zero." in text and 'href="#spend_staff"' in text
    # Once the form's own checks pass, the service's rules speak at their fields.
    for changes, field, words in [
        ({"sessions": "-2"}, "sessions", "Enter a number of sessions from 0 to 10,000."),
        (
            {"town_calne": "200001"},
            "town_calne",
            "Enter a number of young people from 0 to 200,000 for Calne.",
        ),
        (
            {"spend_overheads": "10,000,001"},
            "spend_overheads",
            "The spend on overheads must be £10,000,000 or less.",
        ),
        ({"sessions": ""}, "sessions", "Enter the number of sessions delivered, 0 if there were none."),
    ]:
        refused = client.post(url, data=_form(**changes))
        text = html.unescape(refused.get_data(as_text=True))
        assert refused.status_code == 422, changes
        assert words in text and f'id="{field}-error"' in text and f'href="#{field}"' in text
    db.session.expire_all()
    assert db.session.get(MonitoringReturn, ret.id).reach_rows == []  # nothing half-written

    saved = client.post(url, data=_form(outcomes="", story=""))
    assert saved.status_code == 303 and saved.headers["Location"].endswith(url)
    assert "Your return is saved." in client.get(url).get_data(as_text=True)
    missing = client.post(f"{url}/submit", data=_form(story="", sessions="30"))
    text = html.unescape(missing.get_data(as_text=True))
    assert missing.status_code == 422 and "Tell one young person's story before you submit." in text
    assert 'id="story-error"' in text
    db.session.expire_all()
    assert (
        db.session.get(MonitoringReturn, ret.id).sessions_delivered == 12
    )  # the failed submit saved nothing

    done = client.post(f"{url}/submit", data=_form())
    assert done.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "Your return is submitted" in page and "Save the corrections" in page
    assert "Submit the return" not in page
    db.session.expire_all()
    stored = db.session.get(MonitoringReturn, ret.id)
    assert stored.submitted_by_id == partner_admin.id
    assert [(r.town, r.young_people) for r in stored.reach_rows] == [("Devizes", 25)]
    assert [(s.category, s.amount_pence) for s in stored.spend_rows] == [(STAFF, 150_000)]
    again = client.post(f"{url}/submit", data=_form())
    assert again.status_code == 409 and "already submitted" in again.get_data(as_text=True)


def test_who_may_read_and_write_a_return(
    app, client, staff, member, org, partner_org, partner_admin, third_org
):
    award = _award(staff, member, org, (partner_org, third_org))
    ret = _return_of(award, partner_org)
    lead_member = make_user(name="Lee Lead-member")
    add_member(org, lead_member)
    outsider = make_org(admin=make_user(name="Otto")).memberships[0].user
    db.session.commit()
    url = f"/bids/returns/{ret.id}"
    for reader in (member, staff):  # the lead's admin and staff read it, and cannot change it
        _as(client, reader)
        page = client.get(url)
        assert page.status_code == 200 and "Submit the return" not in page.get_data(as_text=True)
        assert client.post(url, data=_form()).status_code == 403
        assert client.post(f"{url}/submit", data=_form()).status_code == 403
    for stranger in (lead_member, _admin(third_org), outsider):  # another partner, the lead's member, anyone
        _as(client, stranger)
        assert client.get(url).status_code == 404
        assert client.post(url, data=_form()).status_code == 404
    assert client.get("/bids/returns/999999").status_code == 404


def test_the_consolidated_return_page_and_csv(
    app, client, staff, member, org, partner_org, partner_admin, third_org
):
    award = _award(staff, member, org, (partner_org, third_org))
    theirs, ours = _return_of(award, partner_org), _return_of(award, org)
    _fill(theirs, partner_admin, sessions=10, reach={"Devizes": 20, "Calne": 5}, spend={STAFF: 500_000})
    monitoring.submit_return(theirs, partner_admin)
    _fill(ours, member, sessions=4, reach={"Calne": 15}, spend={STAFF: 100_000, VENUE: 25_000})
    monitoring.submit_return(ours, member)
    reporting = award.reporting_dates[0]
    db.session.commit()
    url = f"/bids/awards/{award.id}/reporting/{reporting.id}"
    for manager in (staff, member):
        _as(client, manager)
        page = html.unescape(client.get(url).get_data(as_text=True))
        assert 'id="total-young-people">40<' in page and 'id="total-sessions">14<' in page
        assert 'id="total-spent">£6,250<' in page
        assert "submitted: 2 of 3." in page
    got = client.get(url + ".csv")
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    partners = {r[1]: r for r in rows if r[0] == "Partner"}
    towns = {r[2]: r[5] for r in rows if r[0] == "Town"}
    total = next(r for r in rows if r[0] == "Total")
    assert towns == {"Calne": "20", "Devizes": "20"}
    assert partners[partner_org.name][5:7] == ["25", "10"] and partners[third_org.name][5] == ""
    assert (total[5], total[6], total[-1]) == ("40", "14", "6250.00")
    assert sum(int(r[5]) for r in partners.values() if r[5]) == int(total[5])
    # The other partners are refused; anyone else is told nothing; a date of another award names nothing.
    _as(client, partner_admin)
    assert client.get(url).status_code == 403 and client.get(url + ".csv").status_code == 403
    other = _award(staff, member, org, (partner_org,))
    db.session.commit()
    _as(client, staff)
    assert client.get(f"/bids/awards/{other.id}/reporting/{reporting.id}").status_code == 404


def test_outsiders_are_told_nothing_exists(app, client, staff, member, org, partner_org):
    award = _award(staff, member, org, (partner_org,))
    ret = _return_of(award, partner_org)
    outsider = make_user(name="Otto")
    make_org(admin=outsider, name="Elsewhere Youth")
    db.session.commit()
    _as(client, outsider)
    reporting = award.reporting_dates[0].id
    for url in (f"/bids/returns/{ret.id}", f"/bids/awards/{award.id}/reporting/{reporting}",
                f"/bids/awards/{award.id}/reporting/{reporting}.csv"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(f"/bids/returns/{ret.id}/submit", data=_form()).status_code == 404
