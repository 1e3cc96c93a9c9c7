"""What Seed grants holds about a person reaches their data download, each column under a named section."""

from __future__ import annotations

import pytest

from foundation import privacy
from foundation.grants import awards
from tests.factories import make_user
from tests.grants.factories import make_application, make_decided_grant, make_review

pytestmark = pytest.mark.usefixtures("request_context")


def test_applicant_sees_the_applications_they_wrote_and_the_offer_they_accepted(
    db, staff, ada, org, people, round_
):
    other_org, lee, _ = people
    application = make_application(round_, other_org, by=lee, title="Skate park sessions")
    grant = make_decided_grant(round_, org, staff, amount_pence=100_000, title="Summer music week")
    awards.accept_grant(grant, ada, awards.offer_fingerprint(grant))
    db.session.commit()

    lee_data = privacy.export_user_data(lee)
    mine = lee_data["grant_applications"]["applications"]
    assert [(a["project_title"], a["reference"]) for a in mine] == [
        ("Skate park sessions", application.reference)
    ]
    assert mine[0]["started_by_you"] and mine[0]["submitted_by_you"]
    assert "other_records" not in lee_data

    ada_data = privacy.export_user_data(ada)
    accepted = ada_data["grant_offers_and_reports"]["offers_accepted"]
    assert [(g["amount_pence"], g["organisation"]) for g in accepted] == [(100_000, org.name)]
    assert ada_data["grant_applications"]["applications"] == []
    assert "other_records" not in ada_data


def test_reviewer_sees_their_scores_and_comments_and_staff_see_their_decisions(
    db, staff, ada, org, people, round_
):
    reviewer = make_user(email="rev@example.org", name="Rowan Reviewer", panel=True)
    application = make_application(round_, org, by=ada)
    make_review(
        application,
        reviewer,
        {"Need": 4, "Young people's voice": "n/a", "Deliverability": 3, "Value for money": 5},
    )
    grant = make_decided_grant(round_, people[0], staff, amount_pence=100_000)
    db.session.commit()

    review = privacy.export_user_data(reviewer)["grant_reviews"]["reviews"]
    assert [r["reference"] for r in review] == [application.reference]
    assert [(s["criterion"], s["score"], s["not_applicable"]) for s in review[0]["scores"]] == [
        ("Need", 4, False),
        ("Young people's voice", None, True),
        ("Deliverability", 3, False),
        ("Value for money", 5, False),
    ]

    staff_data = privacy.export_user_data(staff)
    decisions = staff_data["grant_staff_actions"]["decisions"]
    assert [(d["reference"], d["amount_pence"]) for d in decisions] == [
        (grant.application.reference, 100_000)
    ]
    assert staff_data["grant_staff_actions"]["rounds_created"][0]["round"] == round_.code
    assert "other_records" not in staff_data
