"""The booking form chooses for people what it can: one organisation is simply named, several default to one
that can book, and an organisation that cannot book says why before anyone fills the form in."""

from __future__ import annotations

import re
from datetime import date, timedelta

from foundation.members.models import OrganisationStatus
from tests.factories import add_member, login, make_org
from tests.venues.factories import make_booker, make_space, make_venue


def form_page(client, space_id: int) -> str:
    resp = client.get(f"/spaces/{space_id}/book")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_someone_with_one_organisation_is_not_asked_to_choose(client, db):
    user, org = make_booker(name="Calne Youth Forum")
    space = make_space(make_venue(make_org(name="Hall Trust")), "Main hall")
    db.session.commit()
    login(client, user)

    html = form_page(client, space.id)

    assert "<strong>Booking for:</strong> Calne Youth Forum" in html
    assert not re.search(r'<select[^>]*name="organisation_id"', html)
    assert f'name="organisation_id" value="{org.id}"' in html
    assert "cannot book just now" not in html and "can book just now" not in html


def test_several_organisations_default_to_one_that_can_book(client, db):
    user, _ = make_booker(name="Zebra Youth Club")
    lapsed = make_org(name="Aardvark Scouts", valid_until=date.today() - timedelta(days=2))
    add_member(lapsed, user)
    space = make_space(make_venue(make_org(name="Hall Trust")), "Main hall")
    db.session.commit()
    login(client, user)

    html = form_page(client, space.id)

    selected = re.search(
        r'<option selected value="(\d+)">([^<]+)</option>|<option value="(\d+)" selected>([^<]+)</option>',
        html,
    )
    assert selected and "Zebra Youth Club" in (selected.group(2) or selected.group(4))
    warning = html[
        html.index('id="cannot-book"') : html.index(f'<form method="post" action="/spaces/{space.id}/book"')
    ]
    assert "Some of your organisations cannot book just now" in warning
    assert "Aardvark Scouts" in warning and "expired" in warning
    assert "Zebra Youth Club" not in warning


def test_an_organisation_waiting_for_vetting_is_told_why_before_the_form(client, db):
    user, _ = make_booker(name="New Youth Group", status=OrganisationStatus.PENDING)
    space = make_space(make_venue(make_org(name="Hall Trust")), "Main hall")
    db.session.commit()
    login(client, user)

    html = form_page(client, space.id)

    assert html.index("Your organisation cannot book just now") < html.index(
        f'<form method="post" action="/spaces/{space.id}/book"'
    )
    assert "The organisation is not approved (it is pending)." in html
