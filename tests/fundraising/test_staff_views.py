"""The staff side of fundraising through the real pages and forms: the campaigns at a glance, the donations list
and its CSV, money that came offline, donors' messages, and match funding; who may use them, and that no page
runs a query per row."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.fundraising import campaigns as campaign_steps
from foundation.fundraising import match
from foundation.fundraising.match import ratio_words
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    MatchPayment,
    MatchPledge,
    MessageStatus,
)
from foundation.fundraising.views_staff import CSV_HEADER, Seek
from foundation.ledger import service as ledger
from foundation.ledger.models import LedgerEntry
from foundation.notifications.models import Notification
from foundation.payments.models import PaymentStatus, ReceivedBy
from foundation.types import LONDON, london_today, utcnow
from tests.factories import login, make_org, make_user
from tests.fundraising.factories import in_request, make_campaign, make_donation, make_pledge, staff_user
from tests.fundraising.support import page


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "QUERY_COUNT_HEADER": True}


@pytest.fixture
def campaign(db, officer) -> Campaign:
    return make_campaign(CampaignStatus.LIVE, title="Summer of youth voice", target_pence=1_000_000)


def error_at(resp, field_id: str) -> list[str]:
    """The messages shown under a field (the field macro gives them the id `<field>-error`)."""
    return [
        html.unescape(m)
        for m in re.findall(
            rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', resp.get_data(as_text=True)
        )
    ]


def cell(resp, element_id: str) -> str:
    """The text of the element with this id, tags removed."""
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(?:td|strong|dd|span)>', page(resp), re.S)
    assert found, f"no element {element_id}"
    return re.sub(r"<[^>]+>", " ", found.group(1)).split()[0] if found.group(1).strip() else ""


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def balance(campaign: Campaign) -> int:
    return ledger.balances([f"campaign:{campaign.id}"])[f"campaign:{campaign.id}"]


def emails_to(address: str) -> list[Notification]:
    return list(_db.session.scalars(sa.select(Notification).where(Notification.email_to == address)))


def csv_rows(resp) -> list[list[str]]:
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- who may use the pages -------------------------------------------------------------------------------------


ROUTES = [
    ("GET", "/staff/fundraising"),
    ("GET", "/staff/donations"),
    ("GET", "/staff/donations.csv"),
    ("GET", "/staff/donations/{donation}"),
    ("GET", "/staff/donations/messages"),
    ("GET", "/staff/campaigns/{campaign}/match"),
    ("POST", "/staff/donations/{donation}/received"),
    ("POST", "/staff/donations/{donation}/cancel"),
    ("POST", "/staff/donations/{donation}/message"),
    ("POST", "/staff/campaigns/{campaign}/match"),
    ("POST", "/staff/campaigns/{campaign}/match/{pledge}/payments"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_staff_may_use_the_staff_pages(app, client, campaign, method, path):
    pledge = make_pledge(campaign)
    donation = make_donation(campaign, 5000, DonationStatus.PENDING, message="Go team")
    url = path.format(donation=donation.id, campaign=campaign.id, pledge=pledge.id)
    form = {
        "received_by": "cash", "received_on": london_today().isoformat(), "reference": "R1",
        "cancel-reason": "Gone", "decision": "shown", "funder_name": "Sneaky Ltd", "ratio": "100", "cap": "10",
        "window_starts_on": campaign.starts_on.isoformat(), "window_ends_on": campaign.ends_on.isoformat(),
        f"pay{pledge.id}-amount": "1", f"pay{pledge.id}-received_on": london_today().isoformat(),
        f"pay{pledge.id}-reference": "R2",
    }  # fmt: skip

    resp = client.open(url, method=method, data=form if method == "POST" else None)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]

    member = make_user()
    make_org(member)
    login(client, member)
    assert client.open(url, method=method, data=form if method == "POST" else None).status_code == 403

    _db.session.expire_all()
    assert donation.status is DonationStatus.PENDING and donation.message_status is MessageStatus.WAITING
    assert count(MatchPledge) == 1 and count(MatchPayment) == 0


# --- the campaigns at a glance ---------------------------------------------------------------------------------


def test_home_lists_campaigns_awaiting_approval_first_with_money_and_what_waits(as_staff, campaign):
    waiting = make_campaign(CampaignStatus.AWAITING_APPROVAL, title="Minibus for rural clubs")
    draft = make_campaign(CampaignStatus.DRAFT, title="A draft campaign")
    closed = make_campaign(CampaignStatus.CLOSED, title="Warm spaces")
    make_donation(campaign, 5000, gift_aid=True, message="Keep going!")
    make_donation(campaign, 2500)
    make_donation(campaign, 1000, DonationStatus.PENDING)
    make_donation(campaign, 3000, DonationStatus.FAILED)
    make_pledge(campaign)

    resp = as_staff.get("/staff/fundraising")
    assert resp.status_code == 200
    text = page(resp)
    sections = [text.index(f'id="campaigns-{s}"') for s in ("awaiting_approval", "live", "draft", "closed")]
    assert sections == sorted(sections)
    rows = [text.index(f'id="campaign-{c.id}"') for c in (waiting, campaign, draft, closed)]
    assert rows == sorted(rows) and all(a < b for a, b in zip(sections, rows, strict=True))
    assert f'href="/campaigns/{waiting.id}/manage"' in text
    assert cell(resp, f"campaign-{campaign.id}-received") == "£75"
    assert cell(resp, f"campaign-{campaign.id}-gift-aid") == "£12.50"  # 25p per £1 on the £50 declared
    assert "1 (£10)" in re.search(rf'id="campaign-{campaign.id}-pledges".*?</td>', text, re.S).group(0)
    assert cell(resp, f"campaign-{campaign.id}-match") == "1"
    assert cell(resp, f"campaign-{campaign.id}-messages") == "1"
    assert cell(resp, "campaigns-to-approve") == "1"
    assert cell(resp, "pledges-waiting") == "1"
    assert cell(resp, "messages-waiting") == "1"


# --- the donations list and its CSV ----------------------------------------------------------------------------


@pytest.fixture
def gifts(campaign):
    """Donations of every kind, in two campaigns."""
    other = make_campaign(CampaignStatus.LIVE, title="Other campaign")
    found = {
        "aid": make_donation(campaign, 5000, gift_aid=True, name="Gina Aid"),
        "card": make_donation(campaign, 2000, provider="stripe", fee_pence=45, name="Carl Card"),
        "pledge": make_donation(campaign, 1500, DonationStatus.PENDING, name="Pam Pledge"),
        "failed": make_donation(campaign, 700, DonationStatus.FAILED, name="Fred Failed"),
        "other": make_donation(other, 9900, name="Olive Other"),
    }
    # Money that arrived a fortnight ago (recorded by staff for that day), and a card gift of last week.
    found["aid"].payment.received_on = london_today() - timedelta(days=14)
    found["card"].succeeded_at = utcnow() - timedelta(days=7)
    _db.session.flush()
    return found


def shown(resp) -> set[int]:
    return {int(i) for i in re.findall(r'<tr id="donation-(\d+)"', resp.get_data(as_text=True))}


def test_the_donations_list_filters(as_staff, campaign, gifts):
    ids = {k: d.id for k, d in gifts.items()}
    aid_day = gifts["aid"].payment.received_on
    card_day = gifts["card"].succeeded_at.astimezone(LONDON).date()
    assert shown(as_staff.get("/staff/donations")) == set(ids.values())
    cases = {
        f"campaign={campaign.id}": {ids["aid"], ids["card"], ids["pledge"], ids["failed"]},
        "status=pending": {ids["pledge"]},
        "status=succeeded": {ids["aid"], ids["card"], ids["other"]},
        "provider=stripe": {ids["card"]},
        "provider=offline": {ids["aid"], ids["pledge"], ids["failed"], ids["other"]},
        "gift_aid=yes": {ids["aid"]},
        "gift_aid=no": {ids["card"], ids["pledge"], ids["failed"], ids["other"]},
        f"to_date={card_day.isoformat()}": {ids["aid"], ids["card"]},
        f"from_date={(aid_day + timedelta(days=1)).isoformat()}": set(ids.values()) - {ids["aid"]},
        f"from_date={(card_day + timedelta(days=1)).isoformat()}&status=succeeded": {ids["other"]},
    }
    for query, expected in cases.items():
        resp = as_staff.get(f"/staff/donations?{query}")
        assert resp.status_code == 200, query
        assert shown(resp) == expected, query
    resp = as_staff.get("/staff/donations?status=pending&provider=offline")
    assert f"/staff/donations/{ids['pledge']}?" in page(resp) and "Mark received" in page(resp)
    assert 'href="/staff/donations.csv?status=pending&provider=offline"' in page(resp).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from_date=2026-02-30", "from_date", "Enter a real date, like 2026-03-31."),
        (
            "from_date=2026-03-10&to_date=2026-03-01",
            "to_date",
            "The end date must be on or after the start date.",
        ),
        ("campaign=99999999999999999999", "campaign", "Choose a campaign from the list."),
        ("status=lost", "status", "Not a valid choice."),
    ],
)
def test_bad_filters_are_shown_at_the_field(as_staff, campaign, query, field, message):
    for path in ("/staff/donations", "/staff/donations.csv"):
        resp = as_staff.get(f"{path}?{query}")
        assert resp.status_code == 400
        assert error_at(resp, field) == [message]
        assert "There is a problem" in page(resp)


def test_the_csv_for_accountants(as_staff, campaign, gifts):
    guarded = make_donation(
        campaign, 1234, name='=HYPERLINK("http://evil.example","Click")', email="@evil.example"
    )
    resp = as_staff.get(f"/staff/donations.csv?campaign={campaign.id}")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="donations-')
    rows = csv_rows(resp)
    assert rows[0] == list(CSV_HEADER) == [
        "Donation id", "Date received", "Campaign", "Donor name", "Email", "Amount (£)", "Status", "Provider",
        "Provider reference", "Fee (£)", "Gift Aid declared", "Claim id",
    ]  # fmt: skip
    by_id = {int(r[0]): r for r in rows[1:]}
    assert set(by_id) == {gifts[k].id for k in ("aid", "card", "pledge", "failed")} | {guarded.id}
    aid, card, pledge = by_id[gifts["aid"].id], by_id[gifts["card"].id], by_id[gifts["pledge"].id]
    fortnight_ago = gifts["aid"].payment.received_on.isoformat()
    assert aid == [
        str(gifts["aid"].id), fortnight_ago, "Summer of youth voice", "Gina Aid", gifts["aid"].donor_email, "50.00",
        "Received", "offline", f"BACS-{gifts['aid'].payment_id}", "0.00", "yes", "",
    ]  # fmt: skip
    card_day = gifts["card"].succeeded_at.astimezone(LONDON).date().isoformat()
    assert card[1] == card_day and card[5:11] == ["20.00", "Received", "stripe", f"pi_test_{gifts['card'].payment_id}", "0.45", "no"]  # fmt: skip
    assert pledge[1] == "" and pledge[6] == "Waiting for payment" and pledge[8] == ""
    # Oldest first: the gift received a fortnight ago leads.
    assert int(rows[1][0]) == gifts["aid"].id
    # A name or address that a spreadsheet would run as a formula is kept as text.
    assert by_id[guarded.id][3] == '\'=HYPERLINK("http://evil.example","Click")'
    assert by_id[guarded.id][4] == "'@evil.example"

    only_pledges = csv_rows(as_staff.get("/staff/donations.csv?status=pending&provider=offline"))
    assert [int(r[0]) for r in only_pledges[1:]] == [gifts["pledge"].id]
    assert csv_rows(as_staff.get("/staff/donations.csv?gift_aid=yes"))[1:] == [aid]


# --- money that came offline -----------------------------------------------------------------------------------


@pytest.fixture
def pledge_gift(campaign) -> Donation:
    return make_donation(
        campaign, 4000, DonationStatus.PENDING, gift_aid=True, name="Priya Pledger", email="priya@example.com"
    )


def received_form(**over: str) -> dict:
    data = {"received_by": "cheque", "received_on": london_today().isoformat(), "reference": "Cheque 100234"}
    data.update(over)
    return data


def test_marking_a_pledge_received_moves_the_money_and_sends_a_receipt(
    as_staff, officer, campaign, pledge_gift
):
    assert balance(campaign) == 0
    resp = as_staff.get(f"/staff/donations/{pledge_gift.id}")
    assert resp.status_code == 200
    assert 'name="received_by"' in page(resp) and f'value="{london_today().isoformat()}"' in page(resp)

    resp = as_staff.post(f"/staff/donations/{pledge_gift.id}/received", data=received_form())
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/donations/{pledge_gift.id}")
    followed = as_staff.get(resp.headers["Location"])
    assert "£40.00 from Priya Pledger is recorded as received" in page(followed)

    assert pledge_gift.status is DonationStatus.SUCCEEDED
    payment = pledge_gift.payment
    assert (payment.status, payment.received_by, payment.received_reference) == (
        PaymentStatus.SUCCEEDED, ReceivedBy.CHEQUE, "Cheque 100234",
    )  # fmt: skip
    assert payment.recorded_by_id == officer.id
    assert balance(campaign) == 4000
    [receipt] = emails_to("priya@example.com")
    assert receipt.subject == "Thank you for your donation to Summer of youth voice"
    assert "£10 from HMRC" in receipt.body_text  # the Gift Aid on £40

    again = as_staff.post(
        f"/staff/donations/{pledge_gift.id}/received", data=received_form(reference="Again")
    )
    assert again.status_code == 409
    assert "This payment is already received." in page(again)
    assert "There is a problem" in page(again)
    assert balance(campaign) == 4000 and len(emails_to("priya@example.com")) == 1


def test_after_marking_received_staff_go_back_to_the_list_they_came_from(as_staff, pledge_gift):
    back = "/staff/donations?status=pending&provider=offline"
    resp = as_staff.post(f"/staff/donations/{pledge_gift.id}/received", data=received_form(next=back))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(back)
    other = make_donation(pledge_gift.campaign, 1000, DonationStatus.PENDING)
    resp = as_staff.post(
        f"/staff/donations/{other.id}/received", data=received_form(next="https://evil.example/")
    )
    assert resp.headers["Location"].endswith(f"/staff/donations/{other.id}")


@pytest.mark.parametrize(
    ("over", "field", "message", "status"),
    [
        ({"received_on": "2026-02-30"}, "received_on", "Enter a real date, like 2026-03-31.", 422),
        ({"received_on": ""}, "received_on", "Enter the date the money arrived, like 2026-03-31.", 422),
        (
            {"received_on": (london_today() + timedelta(days=1)).isoformat()},
            "received_on", "The date cannot be in the future.", 422,
        ),
        (
            {"received_on": (london_today() - timedelta(days=400)).isoformat()},
            "received_on", "The money cannot have arrived before it was pledged.", 422,
        ),
        ({"reference": " "}, "reference", "Give the bank reference, cheque number or receipt number.", 422),
        ({"received_by": "bitcoin"}, "received_by", "Not a valid choice.", 422),
        ({"received_by": ""}, "received_by", "Choose how the money arrived.", 422),
    ],
)  # fmt: skip
def test_bad_received_details_are_shown_at_the_field_and_nothing_is_written(
    as_staff, campaign, pledge_gift, over, field, message, status
):
    entries = count(LedgerEntry)
    resp = as_staff.post(f"/staff/donations/{pledge_gift.id}/received", data=received_form(**over))
    assert resp.status_code == status
    assert error_at(resp, field) == [message]
    assert page(resp).count("There is a problem") == 1
    assert pledge_gift.status is DonationStatus.PENDING
    assert pledge_gift.payment.received_reference is None and pledge_gift.payment.received_on is None
    assert count(LedgerEntry) == entries and balance(campaign) == 0
    assert emails_to("priya@example.com") == []


def test_a_card_payment_cannot_be_marked_received_by_staff(as_staff, campaign):
    card = make_donation(campaign, 2000, DonationStatus.PENDING, provider="stripe")
    resp = as_staff.post(f"/staff/donations/{card.id}/received", data=received_form())
    assert resp.status_code == 409
    assert "This payment was made online; its provider tells us when it arrives." in page(resp)
    assert card.status is DonationStatus.PENDING


def test_cancelling_a_pledge_that_will_not_come(as_staff, campaign, pledge_gift):
    resp = as_staff.post(f"/staff/donations/{pledge_gift.id}/cancel", data={"cancel-reason": "  "})
    assert resp.status_code == 422
    assert error_at(resp, "cancel-reason") == ["Say why the pledge will not be paid."]
    assert pledge_gift.status is DonationStatus.PENDING

    resp = as_staff.post(
        f"/staff/donations/{pledge_gift.id}/cancel", data={"cancel-reason": "The donor's cheque bounced."}
    )
    assert resp.status_code == 303
    assert "The pledge of £40.00 from Priya Pledger is cancelled." in page(
        as_staff.get(resp.headers["Location"])
    )
    assert pledge_gift.status is DonationStatus.FAILED
    assert pledge_gift.payment.failure_reason == "The donor's cheque bounced."
    assert balance(campaign) == 0

    again = as_staff.post(f"/staff/donations/{pledge_gift.id}/cancel", data={"cancel-reason": "Again"})
    assert again.status_code == 409
    assert "This payment is already not completed." in page(again)
    # A cancelled pledge whose money turns up after all can still be recorded.
    late = as_staff.post(f"/staff/donations/{pledge_gift.id}/received", data=received_form())
    assert late.status_code == 303 and balance(campaign) == 4000


def test_an_unknown_donation_is_not_found(as_staff):
    assert as_staff.get("/staff/donations/999999").status_code == 404
    assert as_staff.post("/staff/donations/999999/received", data=received_form()).status_code == 404


# --- messages --------------------------------------------------------------------------------------------------


def test_staff_show_or_hide_donors_messages(as_staff, campaign):
    kind = make_donation(campaign, 2000, message="Brilliant work, all of you.", name="Kim Kind")
    rude = make_donation(campaign, 2000, message="Something rude", name="Rudy")
    not_yet = make_donation(campaign, 2000, DonationStatus.PENDING, message="Cheque in the post")
    silent = make_donation(campaign, 2000)

    resp = as_staff.get("/staff/donations/messages")
    assert resp.status_code == 200
    text = page(resp)
    assert "Brilliant work, all of you." in text and "Something rude" in text
    assert "Cheque in the post" not in text  # shown for moderation once the money is in
    assert cell(resp, "message-count") == "2"

    resp = as_staff.post(
        f"/staff/donations/{kind.id}/message",
        data={"decision": "shown", "next": "/staff/donations/messages?page=1"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/donations/messages?page=1")
    assert kind.message_status is MessageStatus.SHOWN
    assert "The message from Kim Kind is shown on the campaign page." in page(
        as_staff.get(resp.headers["Location"])
    )

    resp = as_staff.post(f"/staff/donations/{rude.id}/message", data={"decision": "hidden"})
    assert resp.status_code == 303
    assert rude.message_status is MessageStatus.HIDDEN
    assert cell(as_staff.get("/staff/donations/messages"), "message-count") == "0"
    assert cell(as_staff.get("/staff/fundraising"), "messages-waiting") == "0"

    # Staff may change their mind from the donation's page.
    assert "Show the message" in page(as_staff.get(f"/staff/donations/{rude.id}"))
    as_staff.post(f"/staff/donations/{rude.id}/message", data={"decision": "shown"})
    assert rude.message_status is MessageStatus.SHOWN

    bad = as_staff.post(f"/staff/donations/{not_yet.id}/message", data={"decision": "publish"})
    assert bad.status_code == 422 and "Not a valid choice." in page(bad)
    assert not_yet.message_status is MessageStatus.WAITING
    none = as_staff.post(f"/staff/donations/{silent.id}/message", data={"decision": "shown"})
    assert none.status_code == 409 and "This donation has no message." in page(none)
    assert silent.message_status is MessageStatus.NONE


# --- match funding ---------------------------------------------------------------------------------------------


def pledge_form(campaign: Campaign, **over: str) -> dict:
    data = {
        "funder_name": "Wessex Water Community Fund",
        "organisation": "",
        "ratio": "100",
        "cap": "2,500",
        "trigger_percent": "",
        "window_starts_on": campaign.starts_on.isoformat(),
        "window_ends_on": campaign.ends_on.isoformat(),
    }
    data.update(over)
    return data


def test_ratios_read_as_people_say_them():
    assert ratio_words(100) == "£1 for every £1"
    assert ratio_words(50) == "50p for every £1"
    assert ratio_words(200) == "£2 for every £1"
    assert ratio_words(150) == "£1.50 for every £1"


def test_adding_a_match_pledge(as_staff, officer, campaign):
    resp = as_staff.get(f"/staff/campaigns/{campaign.id}/match")
    assert resp.status_code == 200
    text = page(resp)
    # The window is the campaign's dates unless staff say otherwise.
    assert re.search(rf'name="window_starts_on"[^>]*value="{campaign.starts_on.isoformat()}"', text)
    assert re.search(rf'name="window_ends_on"[^>]*value="{campaign.ends_on.isoformat()}"', text)

    resp = as_staff.post(f"/staff/campaigns/{campaign.id}/match", data=pledge_form(campaign))
    assert resp.status_code == 303
    pledge = _db.session.scalar(sa.select(MatchPledge))
    assert resp.headers["Location"].endswith(f"/staff/campaigns/{campaign.id}/match#pledge-{pledge.id}")
    assert (pledge.funder_name, pledge.ratio_percent, pledge.cap_pence, pledge.trigger_percent) == (
        "Wessex Water Community Fund", 100, 250_000, 0,
    )  # fmt: skip
    assert (pledge.window_starts_on, pledge.window_ends_on) == (campaign.starts_on, campaign.ends_on)
    assert pledge.created_by_id == officer.id
    text = page(as_staff.get(resp.headers["Location"]))
    assert "Wessex Water Community Fund matches £1 for every £1 up to £2,500.00." in text

    member_org = make_org(make_user(), name="Chippenham Rotary")
    resp = as_staff.post(
        f"/staff/campaigns/{campaign.id}/match",
        data=pledge_form(
            campaign, funder_name="", organisation=str(member_org.id), ratio="50", trigger_percent="25"
        ),
    )
    assert resp.status_code == 303
    second = _db.session.scalars(sa.select(MatchPledge).order_by(MatchPledge.id.desc())).first()
    assert (second.funder_name, second.organisation_id, second.ratio_percent, second.trigger_percent) == (
        "Chippenham Rotary", member_org.id, 50, 25,
    )  # fmt: skip
    assert "50p for every £1" in page(as_staff.get(f"/staff/campaigns/{campaign.id}/match"))


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"ratio": "0"}, "ratio", "The ratio must be between 1p and £10 for every £1 given."),
        ({"ratio": "1001"}, "ratio", "The ratio must be between 1p and £10 for every £1 given."),
        ({"ratio": "1.5"}, "ratio", "Enter a whole number of pence, like 100 for £1 for every £1."),
        ({"ratio": ""}, "ratio", "Enter how much the funder matches for every £1 given, like 100."),
        ({"cap": "0"}, "cap", "The cap must be more than £0."),
        ({"cap": "lots"}, "cap", "Enter the cap in pounds, like 5,000."),
        (
            {"trigger_percent": "120"},
            "trigger_percent",
            "The trigger is a percentage of the target, from 0 to 100.",
        ),
        ({"funder_name": ""}, "funder_name", "Name the match funder, or choose a member organisation."),
        ({"organisation": "999999"}, "organisation", "Choose a member organisation from the list."),
        (
            {"organisation": "99999999999999999999"},
            "organisation",
            "Choose a member organisation from the list.",
        ),
        ({"window_ends_on": "2020-01-01"}, "window_ends_on", "The window must end on or after it starts."),
        ({"window_starts_on": "soon"}, "window_starts_on", "Enter a real date, like 2026-03-31."),
    ],
)
def test_bad_pledges_are_refused_at_the_field(as_staff, campaign, over, field, message):
    resp = as_staff.post(f"/staff/campaigns/{campaign.id}/match", data=pledge_form(campaign, **over))
    assert resp.status_code == 422
    assert error_at(resp, field) == [message]
    assert "There is a problem" in page(resp)
    assert count(MatchPledge) == 0


def test_a_closed_campaign_takes_no_new_pledges(as_staff):
    closed = make_campaign(CampaignStatus.CLOSED)
    assert "no new pledges" in page(as_staff.get(f"/staff/campaigns/{closed.id}/match"))
    resp = as_staff.post(f"/staff/campaigns/{closed.id}/match", data=pledge_form(closed))
    assert resp.status_code == 422 and "The campaign has closed." in page(resp)
    assert count(MatchPledge) == 0


def test_recording_a_match_funders_payment(as_staff, officer, campaign):
    pledge = make_pledge(campaign, ratio_percent=100, cap_pence=50_000, funder_name="Wessex Water")
    make_donation(campaign, 2000)
    make_donation(campaign, 1000)
    resp = as_staff.get(f"/staff/campaigns/{campaign.id}/match")
    assert cell(resp, f"pledge-{pledge.id}-earned") == "£30"
    assert cell(resp, f"pledge-{pledge.id}-outstanding") == "£30"
    assert "£1 for every £1" in page(resp)
    url = f"/staff/campaigns/{campaign.id}/match/{pledge.id}/payments"
    today = london_today().isoformat()

    too_much = as_staff.post(url, data={f"pay{pledge.id}-amount": "40", f"pay{pledge.id}-received_on": today,
                                        f"pay{pledge.id}-reference": "WW-1"})  # fmt: skip
    assert too_much.status_code == 422
    assert error_at(too_much, f"pay{pledge.id}-amount") == [
        "The pledge has earned £30.00 not yet paid; record no more than that."
    ]
    assert count(MatchPayment) == 0 and balance(campaign) == 3000

    missing = as_staff.post(url, data={f"pay{pledge.id}-amount": "", f"pay{pledge.id}-received_on": today,
                                       f"pay{pledge.id}-reference": ""})  # fmt: skip
    assert missing.status_code == 422
    assert error_at(missing, f"pay{pledge.id}-amount") == ["Enter the amount the funder paid, in pounds."]
    assert error_at(missing, f"pay{pledge.id}-reference") == [
        "Give the bank reference of the funder's payment."
    ]

    resp = as_staff.post(url, data={f"pay{pledge.id}-amount": "30", f"pay{pledge.id}-received_on": today,
                                    f"pay{pledge.id}-reference": "WW-1"})  # fmt: skip
    assert resp.status_code == 303
    assert "£30.00 from Wessex Water is recorded." in page(as_staff.get(resp.headers["Location"]))
    [payment] = _db.session.scalars(sa.select(MatchPayment)).all()
    assert (payment.amount_pence, payment.reference, payment.recorded_by_id) == (3000, "WW-1", officer.id)
    assert balance(campaign) == 6000
    resp = as_staff.get(f"/staff/campaigns/{campaign.id}/match")
    assert cell(resp, f"pledge-{pledge.id}-received") == "£30"
    assert cell(resp, f"pledge-{pledge.id}-outstanding") == "£0"

    again = as_staff.post(url, data={f"pay{pledge.id}-amount": "0.01", f"pay{pledge.id}-received_on": today,
                                     f"pay{pledge.id}-reference": "WW-2"})  # fmt: skip
    assert again.status_code == 422
    assert error_at(again, f"pay{pledge.id}-amount") == [
        "The pledge has earned £0.00 not yet paid; record no more than that."
    ]


def test_a_pledge_of_another_campaign_is_not_found(as_staff, campaign):
    other = make_campaign(CampaignStatus.LIVE)
    pledge = make_pledge(other)
    resp = as_staff.post(f"/staff/campaigns/{campaign.id}/match/{pledge.id}/payments", data={})
    assert resp.status_code == 404


# --- no query per row ------------------------------------------------------------------------------------------


def grow(n: int, campaign: Campaign, pledge: MatchPledge) -> None:
    """n more of everything the staff pages list."""
    for i in range(n):
        for status in (CampaignStatus.AWAITING_APPROVAL, CampaignStatus.DRAFT):
            make_campaign(status)
        live = make_campaign(CampaignStatus.LIVE)
        make_pledge(live)
        for target in (campaign, live):
            make_donation(target, 1000 + i, gift_aid=True, message=f"Well done {i}")
            make_donation(target, 2000, DonationStatus.PENDING, message="In the post")
            make_donation(target, 3000, provider="stripe", fee_pence=30)
            make_donation(target, 500, DonationStatus.FAILED)
        make_pledge(campaign, funder_name=f"Funder {i}")
        # A campaign closed with money in it, passed on to the fund.
        closing = make_campaign(CampaignStatus.LIVE)
        make_donation(closing, 4000)
        with in_request():
            campaign_steps.close(closing, staff_user())
    match.record_payment(pledge, 100, london_today(), f"Part {n}", staff_user())
    _db.session.commit()


def statements(client, url: str) -> int:
    client.get(url)
    resp = client.get(url)
    assert resp.status_code == 200, url
    return int(resp.headers["X-Query-Count"])


def test_no_staff_page_runs_a_query_per_row(as_staff, campaign):
    pledge = make_pledge(campaign)
    donation = make_donation(campaign, 2500, gift_aid=True, message="Hello")
    urls = [
        "/staff/fundraising",
        "/staff/donations",
        "/staff/donations?status=succeeded&gift_aid=yes",
        "/staff/donations.csv",
        "/staff/donations/messages",
        f"/staff/donations/{donation.id}",
        f"/staff/campaigns/{campaign.id}/match",
        f"/staff/campaigns/{campaign.id}/report",
        f"/staff/campaigns/{campaign.id}/report.csv",
        f"/staff/donations?campaign={campaign.id}&status=succeeded",
        "/staff/fundraising?section=live&page=2",
    ]

    def measured() -> dict[str, int]:
        counts = {url: statements(as_staff, url) for url in urls}
        # A page further on, from the place its link carries (the newest donation's).
        newest = _db.session.scalars(
            sa.select(Donation).order_by(Donation.happened_at.desc(), Donation.id.desc()).limit(1)
        ).one()
        counts["older page"] = statements(as_staff, f"/staff/donations?older={Seek.of(newest).key}")
        return counts

    grow(2, campaign, pledge)
    small = measured()
    grow(5, campaign, pledge)
    large = measured()
    assert small == large
