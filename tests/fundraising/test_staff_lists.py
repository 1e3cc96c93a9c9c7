"""The lists that grow with history, as staff and the public page through them: the donations list a page at a time
by "Newer"/"Older" links (no repeats, no gaps, even among gifts of the same moment), the fundraising home's
sections a page each, the public campaigns a page at a time, and who showed or hid a donor's message and when."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.extensions import db as _db
from foundation.fundraising import campaigns as campaign_steps
from foundation.fundraising import views_staff
from foundation.fundraising.models import Campaign, CampaignStatus, Donation, DonationStatus
from foundation.types import LONDON, utcnow
from tests.factories import login, make_org, make_user
from tests.fundraising.factories import make_campaign, make_donation
from tests.fundraising.support import page

PER_PAGE = 5


@pytest.fixture
def campaign(db, officer) -> Campaign:
    return make_campaign(CampaignStatus.LIVE, title="Summer of youth voice")


def rows(resp) -> list[int]:
    """The donations listed, in the order shown."""
    return [int(i) for i in re.findall(r'<tr id="donation-(\d+)"', resp.get_data(as_text=True))]


def link(resp, link_id: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*id="{link_id}"', resp.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else None


def newest_first(ids: list[int]) -> list[int]:
    """The donations in the list's order, read back from the database: newest first, the larger id first among
    donations of the same moment."""
    found = _db.session.execute(
        sa.select(Donation.id, Donation.succeeded_at, Donation.created_at).where(Donation.id.in_(ids))
    ).all()
    return [i for i, *_ in sorted(found, key=lambda r: (r[1] or r[2], r[0]), reverse=True)]


def at(donations: list[Donation], moment: datetime, received: bool = True) -> None:
    """Give donations the same moment: when the money arrived (or, for a pledge, when it was given)."""
    column = Donation.succeeded_at if received else Donation.created_at
    _db.session.execute(
        sa.update(Donation).where(Donation.id.in_([d.id for d in donations])).values({column: moment})
    )
    _db.session.commit()


@pytest.fixture
def many(campaign, monkeypatch) -> list[Donation]:
    """23 donations, five pages of five, with runs of gifts received at the same moment across page breaks."""
    monkeypatch.setattr(views_staff, "DONATIONS_PER_PAGE", PER_PAGE)
    other = make_campaign(CampaignStatus.LIVE, title="Another campaign")
    made = [
        make_donation(campaign if i % 3 else other, 1_000 + i, DonationStatus.PENDING if i % 4 == 0 else
                      DonationStatus.SUCCEEDED, name=f"Donor {i:02d}")
        for i in range(23)
    ]  # fmt: skip
    base = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    received = [d for d in made if d.status is DonationStatus.SUCCEEDED]
    pledged = [d for d in made if d.status is DonationStatus.PENDING]
    at(received[0:7], base)  # seven received at the very same moment: more than a page
    at(received[7:10], base - timedelta(minutes=5))
    at(pledged[0:3], base - timedelta(minutes=5), received=False)  # ties between a gift and pledges
    at(pledged[3:], base - timedelta(days=2), received=False)
    return made


def walk(client, url: str) -> list[list[int]]:
    """Every page from `url` by its "Older" links, as the donations each shows."""
    pages = []
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, url
        pages.append(rows(resp))
        assert len(pages) < 50, "the Older links go round in circles"
        url = link(resp, "older-link")
    return pages


def test_older_links_go_through_every_donation_once_newest_first(as_staff, many):
    pages = walk(as_staff, "/staff/donations")
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    shown = [i for p in pages for i in p]
    assert shown == newest_first([d.id for d in many])  # no repeats, no gaps, ties broken by id
    first = as_staff.get("/staff/donations")
    assert link(first, "newer-link") is None
    assert "Newest first." in page(first)
    assert 'id="donation-count"' not in page(first)  # no count over every donation


def test_newer_links_come_back_page_by_page(as_staff, many):
    forward = []
    url = "/staff/donations"
    while url:
        resp = as_staff.get(url)
        forward.append(resp)
        url = link(resp, "older-link")
    back = []
    url = link(forward[-1], "newer-link")
    while url:
        resp = as_staff.get(url)
        back.append(rows(resp))
        url = link(resp, "newer-link")
    assert back == [rows(r) for r in forward[:-1]][::-1]
    # Back on the newest page there is no "Newer" link, and "Older" leads where it did.
    assert link(as_staff.get(link(forward[1], "newer-link")), "older-link") == link(forward[0], "older-link")


def test_filters_are_kept_across_pages(as_staff, campaign, many):
    received = [d.id for d in many if d.status is DonationStatus.SUCCEEDED and d.campaign_id == campaign.id]
    pages = walk(as_staff, f"/staff/donations?campaign={campaign.id}&status=succeeded")
    assert [i for p in pages for i in p] == newest_first(received)
    assert all(len(p) == PER_PAGE for p in pages[:-1])
    second = as_staff.get(link(as_staff.get(f"/staff/donations?campaign={campaign.id}&status=succeeded"),
                               "older-link"))  # fmt: skip
    assert f"campaign={campaign.id}" in link(second, "newer-link") and "status=succeeded" in link(
        second, "newer-link"
    )
    # One campaign's donations are counted (from its own index); the count stays as the pages turn.
    assert re.search(r'id="donation-count">(\d+)<', page(second)).group(1) == str(len(received))
    pledges = walk(as_staff, "/staff/donations?status=pending&provider=offline")
    assert [i for p in pledges for i in p] == newest_first(
        [d.id for d in many if d.status is DonationStatus.PENDING]
    )


@pytest.mark.parametrize(
    "key",
    [
        "nonsense",
        "",
        "20261302T100000000000-5",  # no 13th month
        "20261102T250000000000-5",  # no 25th hour
        "20261102T100000000000-99999999999",  # an id no row can have
        "20261102T100000000000--5",
        "20261102T100000000000-5; DROP TABLE donation",
        "２０２６1102T100000000000-5",
        "0000" * 300,
    ],
)
def test_a_bad_page_key_shows_the_first_page(as_staff, many, key):
    first = rows(as_staff.get("/staff/donations"))
    for direction in ("older", "newer"):
        resp = as_staff.get("/staff/donations", query_string={direction: key})
        assert resp.status_code == 200
        assert rows(resp) == first


def test_a_key_past_either_end(as_staff, many):
    everything = newest_first([d.id for d in many])
    resp = as_staff.get("/staff/donations?older=20000101T000000000000-1")
    assert rows(resp) == [] and "No donations match." in page(resp)
    assert rows(as_staff.get(link(resp, "newer-link"))) == everything[-PER_PAGE:]
    # Nothing is newer than a moment in the future: the newest page.
    assert rows(as_staff.get("/staff/donations?newer=29990101T000000000000-1")) == everything[:PER_PAGE]


def test_the_order_is_served_by_an_index(app, as_staff, many, backend):
    """The statement that reads a page walks the (happened_at, id) index from the key, rather than sorting."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY donation.happened_at DESC" in statement:
            seen.append((statement, parameters))

    older = link(as_staff.get("/staff/donations"), "older-link")
    sa.event.listen(_db.engine, "before_cursor_execute", record)
    try:
        as_staff.get(older)
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", record)
    [(statement, parameters)] = seen
    with _db.engine.connect() as conn:
        if backend == "sqlite":
            plan = " ".join(
                str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "ix_donation_happened_at_id" in plan and "TEMP B-TREE" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "ix_donation_happened_at_id" in plan and "Sort" not in plan, plan


def test_the_csv_still_has_every_donation_of_the_filters(as_staff, many):
    text = as_staff.get("/staff/donations.csv").get_data(as_text=True)
    assert len(text.strip().splitlines()) == 1 + len(many)


# --- the fundraising home, a page per section ------------------------------------------------------------------


def test_each_section_of_the_home_page_is_paged_and_what_waits_counts_every_campaign(as_staff, monkeypatch):
    monkeypatch.setattr(views_staff, "SECTION_PER_PAGE", 2)
    live = [make_campaign(CampaignStatus.LIVE, title=f"Live {i}") for i in range(5)]
    for i in range(3):
        make_campaign(CampaignStatus.AWAITING_APPROVAL, title=f"Waiting {i}")
    # A pledge and a message waiting in a campaign that is not on the first page.
    late = max(live, key=lambda c: (c.starts_on, c.id))
    make_donation(late, 4_000, DonationStatus.PENDING)
    make_donation(late, 1_000, message="Well done")
    _db.session.commit()

    home = as_staff.get("/staff/fundraising")
    text = page(home)
    shown_live = re.findall(
        r'id="campaign-(\d+)"', text.split('id="campaigns-live"')[1].split("</section>")[0]
    )
    assert len(shown_live) == 2
    assert re.search(r'id="campaigns-live-count">(\d+)<', text).group(1) == "5"
    assert re.search(r'id="campaigns-to-approve">(\d+)<', text).group(1) == "3"
    assert re.search(r'id="pledges-waiting">(\d+)<', text).group(1) == "1"
    assert re.search(r'id="messages-waiting">(\d+)<', text).group(1) == "1"
    assert "/staff/fundraising?page=2&section=live#campaigns-live" in text
    assert "/staff/fundraising?page=2&section=awaiting_approval#campaigns-awaiting_approval" in text

    seen = []
    for number in (1, 2, 3):
        part = page(as_staff.get(f"/staff/fundraising?section=live&page={number}"))
        section = part.split('id="campaigns-live"')[1].split("</section>")[0]
        seen += [int(i) for i in re.findall(r'<tr id="campaign-(\d+)"', section)]
        # The other sections stay on their first page.
        waiting_part = part.split('id="campaigns-awaiting_approval"')[1].split("</section>")[0]
        assert len(re.findall(r'<tr id="campaign-(\d+)"', waiting_part)) == 2
    ordered = sorted(live, key=lambda c: (c.starts_on, c.id))
    assert seen == [c.id for c in ordered]
    last = page(as_staff.get("/staff/fundraising?section=live&page=3"))
    assert f'id="campaign-{late.id}-pledges"' in last and f'id="campaign-{late.id}-messages">1<' in last
    assert as_staff.get("/staff/fundraising?section=live&page=99").status_code == 200
    assert as_staff.get("/staff/fundraising?section=nonsense&page=abc").status_code == 200
    # The report of a live campaign is a link away.
    assert f"/staff/campaigns/{late.id}/report" in last


# --- messages: who showed or hid them, and when ---------------------------------------------------------------


def test_the_messages_page_and_the_donation_say_who_decided_and_when(app, as_staff, officer, campaign):
    kind = make_donation(campaign, 2_000, message="Brilliant work", name="Kim Kind")
    rude = make_donation(campaign, 2_000, message="Something rude", name="Rudy")
    _db.session.commit()
    before = utcnow()
    as_staff.post(f"/staff/donations/{kind.id}/message", data={"decision": "shown"})
    as_staff.post(f"/staff/donations/{rude.id}/message", data={"decision": "hidden"})
    _db.session.expire_all()
    assert kind.moderated_by_id == officer.id and rude.moderated_by_id == officer.id
    assert before <= kind.moderated_at <= utcnow()
    day = kind.moderated_at.astimezone(LONDON).strftime("%-d %b %Y")

    text = page(as_staff.get("/staff/donations/messages"))
    decided = text.split('id="decided"')[1]
    assert decided.index(f'id="decided-{rude.id}"') < decided.index(f'id="decided-{kind.id}"')  # newest first
    assert (
        re.search(rf'id="decided-{kind.id}-by">([^<]*)<', text).group(1)
        == f"Shown by {officer.name} on {day}"
    )
    assert (
        re.search(rf'id="decided-{rude.id}-by">([^<]*)<', text).group(1)
        == f"Hidden by {officer.name} on {day}"
    )
    donation_page = page(as_staff.get(f"/staff/donations/{kind.id}"))
    assert f"Shown by {officer.name} on {day}." in donation_page

    # Another member of staff changes their mind: the page names them instead.
    colleague = make_user(name="Colin Colleague", staff=True)
    _db.session.commit()
    other = app.test_client()
    login(other, colleague)
    other.post(f"/staff/donations/{kind.id}/message", data={"decision": "hidden"})
    assert f"Hidden by Colin Colleague on {day}." in page(as_staff.get(f"/staff/donations/{kind.id}"))
    # A message waiting for a decision says nobody has decided yet.
    waiting = make_donation(campaign, 2_000, message="Good luck")
    _db.session.commit()
    assert "Waiting for a decision." in page(as_staff.get(f"/staff/donations/{waiting.id}"))
    assert " by " not in re.search(r'id="message-status">([^<]*)', page(as_staff.get(
        f"/staff/donations/{waiting.id}"))).group(1)  # fmt: skip


# --- the public campaigns, a page at a time -------------------------------------------------------------------


def test_the_public_campaigns_come_a_page_at_a_time(client, monkeypatch, officer):
    monkeypatch.setattr(campaign_steps, "LIVE_PER_PAGE", 2)
    monkeypatch.setattr(campaign_steps, "PAST_PER_PAGE", 2)
    today = utcnow().date()
    live = [
        make_campaign(CampaignStatus.LIVE, title=f"Live {i}", ends_on=today + timedelta(days=30 + i % 2))
        for i in range(5)
    ]
    past = [make_campaign(CampaignStatus.CLOSED, title=f"Past {i}") for i in range(3)]
    make_campaign(CampaignStatus.DRAFT, title="Not public")
    _db.session.commit()

    def cards(text: str) -> list[int]:
        return [int(i) for i in re.findall(r'<article class="card campaign-card" id="campaign-(\d+)"', text)]

    def past_items(text: str) -> list[int]:
        return [int(i) for i in re.findall(r'<li id="campaign-(\d+)"', text)]

    first = page(client.get("/campaigns"))
    assert len(cards(first)) == 2 and len(past_items(first)) == 2
    assert re.search(r'id="live-count">(\d+)<', first).group(1) == "5"
    assert re.search(r'id="past-count">(\d+)<', first).group(1) == "3"
    assert 'href="/campaigns?page=2#live"' in first
    assert 'href="/campaigns?page=2&section=past#past"' in first
    assert "Not public" not in first

    seen = []
    for number in (1, 2, 3):
        text = page(client.get(f"/campaigns?page={number}"))
        seen += cards(text)
        assert past_items(text) == past_items(first)  # the past list stays on its first page
    expected = sorted(live, key=lambda c: (c.ends_on, c.id), reverse=True)
    assert seen == [c.id for c in expected]
    assert "Page 3 of 3" in text and 'rel="next"' not in text.split('id="past"')[0]

    second_past = page(client.get("/campaigns?section=past&page=2"))
    assert cards(second_past) == cards(first)
    assert sorted(past_items(first) + past_items(second_past)) == sorted(c.id for c in past)
    # A page past the end shows the last; nonsense shows the first.
    assert cards(page(client.get("/campaigns?page=99"))) == cards(text)
    assert cards(page(client.get("/campaigns?page=-1"))) == cards(first)


def test_no_member_may_see_another_organisations_draft_in_the_list(client, officer):
    admin = make_user()
    org = make_org(admin)
    make_campaign(CampaignStatus.DRAFT, lead=org, title="Our secret plan")
    _db.session.commit()
    login(client, admin)
    assert "Our secret plan" not in page(client.get("/campaigns"))
