"""Bid pages through their forms: what the lead, a partner, staff and outsiders see, and the answers to bad input."""

from __future__ import annotations

import csv
import html
import io

from foundation.bids.models import Bid, BidBudgetLine, BidDocument, BidPartner, BidStatus, BidTask
from foundation.extensions import db as _db
from tests.bids.factories import make_bid, make_opportunity
from tests.factories import login, make_org, make_user

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _as(client, user):
    client.post("/logout")
    login(client, user)


def test_a_lead_builds_a_bid_with_a_partner_through_the_pages(
    app, db, client, member, org, partner_org, partner_admin
):
    opportunity = make_opportunity(
        consortium=True, programme="Safer Streets", min_pence=100_000, max_pence=3_000_000
    )
    _db.session.commit()
    login(client, member)
    page = client.get(f"/funding/{opportunity.id}").get_data(as_text=True)
    assert "Start a bid with partners" in page
    started = client.post(
        f"/funding/{opportunity.id}/bid", data={"title": "Safer streets together", "lead": org.id}
    )
    assert started.status_code == 302
    bid = _db.session.scalars(_db.select(Bid)).one()
    invited = client.post(f"/bids/{bid.id}/partners", data={"organisation": partner_org.id})
    assert invited.status_code == 302
    partner = _db.session.scalars(
        _db.select(BidPartner).where(BidPartner.organisation_id == partner_org.id)
    ).one()

    _as(client, partner_admin)
    assert "Invitations to answer" in client.get("/bids").get_data(as_text=True)
    assert client.get(f"/bids/{bid.id}").status_code == 404  # not in until they accept
    unanswered = client.post(f"/bids/{bid.id}/invitations/{partner.id}", data={})
    assert unanswered.status_code == 422 and "Choose whether to join the bid." in unanswered.get_data(
        as_text=True
    )
    joined = client.post(f"/bids/{bid.id}/invitations/{partner.id}", data={"answer": "accept"})
    assert joined.headers["Location"].endswith(f"/bids/{bid.id}/parts/{partner.id}")

    part_url = f"/bids/{bid.id}/parts/{partner.id}"
    assert (
        client.post(
            part_url, data={"activities": "Detached work on Friday nights.", "outcomes": "Fewer incidents."}
        ).status_code
        == 302
    )
    bad_reach = client.post(part_url + "/reach", data={"town_devizes": "lots"})
    assert bad_reach.status_code == 422
    assert "Enter the number of young people in Devizes as a whole number" in bad_reach.get_data(as_text=True)
    assert client.post(part_url + "/reach", data={"town_devizes": "60", "town_calne": ""}).status_code == 302
    bad_line = client.post(
        part_url + "/lines", data={"category": "staff", "description": "Worker", "amount": "-20"}
    )
    assert bad_line.status_code == 422 and "An amount cannot be below zero." in bad_line.get_data(
        as_text=True
    )
    assert 'href="#amount"' in bad_line.get_data(as_text=True)  # the error summary links to the field
    assert (
        client.post(
            part_url + "/lines",
            data={"category": "staff", "description": "Detached worker", "amount": "12,000"},
        ).status_code
        == 302
    )
    part_page = client.get(part_url).get_data(as_text=True)
    assert "Detached worker" in part_page and "£12,000" in part_page

    # The lead cannot write the partner's part.
    _as(client, member)
    assert client.post(part_url, data={"activities": "Overwritten", "outcomes": "x"}).status_code == 403
    assert (
        client.post(
            part_url + "/lines", data={"category": "staff", "description": "x", "amount": "1"}
        ).status_code
        == 403
    )
    partner = _db.session.get(BidPartner, partner.id)
    _db.session.refresh(partner)
    assert partner.activities == "Detached work on Friday nights."
    page = client.get(f"/bids/{bid.id}").get_data(as_text=True)
    assert "Devizes Youth Club" in page and "Accepted" in page and "£12,000" in page


def test_steps_through_the_page_say_what_is_missing(app, db, client, member, org, partner_org, staff):
    bid = make_bid(member, org, partners=(partner_org,))
    _db.session.commit()
    login(client, member)
    assert client.post(f"/bids/{bid.id}/steps/draft", data={}).status_code == 302
    refused = client.post(f"/bids/{bid.id}/steps/sign-off", data={})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409
    assert "There is a problem" in page and "Devizes Youth Club's part still needs its activities" in page
    assert client.post(f"/bids/{bid.id}/steps/submit", data={}).status_code == 403  # staff only
    assert client.post(f"/bids/{bid.id}/steps/nonsense", data={}).status_code == 404
    no_reason = client.post(f"/bids/{bid.id}/steps/withdraw", data={"note": ""})
    assert no_reason.status_code == 422 and "Say why the bid is withdrawn." in no_reason.get_data(
        as_text=True
    )
    assert client.post(f"/bids/{bid.id}/steps/withdraw", data={"note": "Not this year."}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Bid, bid.id).status is BidStatus.WITHDRAWN
    history = client.get(f"/bids/{bid.id}").get_data(as_text=True)
    assert "Withdrawn (Mia Member): “Not this year.”" in history


def test_outsiders_are_told_nothing_exists(app, db, client, member, org, partner_org, partner_admin):
    bid = make_bid(member, org)
    _db.session.commit()
    outsider = make_org(admin=make_user(name="Otto Other")).memberships[0].user
    _db.session.commit()
    login(client, outsider)
    for url in (f"/bids/{bid.id}", f"/bids/{bid.id}/assembled", f"/bids/{bid.id}/budget.csv",
                f"/bids/{bid.id}/parts/{bid.partners[0].id}"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(f"/bids/{bid.id}/steps/withdraw", data={"note": "x"}).status_code == 404
    assert "No bids yet" in client.get("/bids").get_data(as_text=True)


def test_the_staff_member_sets_the_fee_and_the_lead_cannot(app, db, client, member, org, staff):
    bid = make_bid(member, org)
    _db.session.commit()
    login(client, member)
    page = client.get(f"/bids/{bid.id}/edit").get_data(as_text=True)
    assert "set by Foundation staff" in page and 'name="fee_percent"' not in page
    _as(client, staff)
    bad = client.post(
        f"/bids/{bid.id}/edit", data={"title": bid.title, "case_for_support": "", "fee_percent": "40"}
    )
    assert bad.status_code == 422 and "The management fee must be between 0% and 25%." in bad.get_data(
        as_text=True
    )
    assert (
        client.post(
            f"/bids/{bid.id}/edit", data={"title": "Renamed", "case_for_support": "Need.", "fee_percent": "8"}
        ).status_code
        == 302
    )
    _db.session.expire_all()
    assert (_db.session.get(Bid, bid.id).title, _db.session.get(Bid, bid.id).fee_basis_points) == (
        "Renamed",
        800,
    )


def test_the_assembled_bid_and_its_budget_csv_add_up(app, db, client, member, org, partner_org):
    bid = make_bid(member, org, partners=(partner_org,), complete=True)
    bid.partners[0].budget_lines.append(
        BidBudgetLine(category="activity", description="=SUM(A1)", amount_pence=50_050)
    )
    _db.session.commit()
    login(client, member)
    page = client.get(f"/bids/{bid.id}/assembled").get_data(as_text=True)
    # £10,000 + £500.50 for the lead, £20,000 for the partner, a 10% fee of £3,050.05.
    assert 'id="assembled-total">£33,550.55<' in page
    assert "Calne Youth Project (lead)" in page and "Devizes Youth Club" in page
    response = client.get(f"/bids/{bid.id}/budget.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Partner", "Kind of cost", "What it is for", "Amount (GBP)"]
    assert ["Calne Youth Project", "Activity costs", "'=SUM(A1)", "500.50"] in rows
    assert rows[-3:] == [
        ["Partners' total", "", "", "30500.50"],
        ["Management fee", "", "The Foundation as accountable body, 10%", "3050.05"],
        ["Total asked", "", "", "33550.55"],
    ]


def test_tasks_and_documents_through_the_page(app, db, client, member, org, partner_org, partner_admin):
    bid = make_bid(member, org, partners=(partner_org,))
    _db.session.commit()
    login(client, member)
    past = client.post(
        f"/bids/{bid.id}/tasks", data={"title": "Submit", "owner": partner_admin.id, "due": "2020-01-01"}
    )
    assert past.status_code == 422 and "The due date has passed" in past.get_data(as_text=True)
    made = client.post(
        f"/bids/{bid.id}/tasks",
        data={"title": "Letters of support", "owner": partner_admin.id, "due": "2099-01-31"},
    )
    assert made.status_code == 302
    task = _db.session.scalars(_db.select(BidTask)).one()

    _as(client, partner_admin)
    assert (
        client.post(
            f"/bids/{bid.id}/tasks", data={"title": "x", "owner": partner_admin.id, "due": "2099-01-01"}
        ).status_code
        == 403
    )
    assert client.post(f"/bids/{bid.id}/tasks/{task.id}/done", data={}).status_code == 303
    again = client.post(f"/bids/{bid.id}/tasks/{task.id}/done", data={}, follow_redirects=True)
    assert "The task is already done." in again.get_data(as_text=True)

    wrong = client.post(
        f"/bids/{bid.id}/documents",
        data={"title": "Letter", "file": (io.BytesIO(b"MZ\x90\x00not a document"), "letter.exe")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    uploaded = client.post(
        f"/bids/{bid.id}/documents",
        data={"title": "Letter of support", "file": (io.BytesIO(PDF), "letter.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    doc_id = _db.session.scalars(_db.select(BidDocument.id)).one()
    download = client.get(f"/bids/{bid.id}/documents/{doc_id}")
    assert download.data == PDF and download.headers["Cache-Control"] == "private, no-store"

    _as(client, member)  # the lead's admin manages the bid: may remove the partner's document
    assert client.post(f"/bids/{bid.id}/documents/{doc_id}/remove", data={}).status_code == 303
    assert client.get(f"/bids/{bid.id}/documents/{doc_id}").status_code == 404
