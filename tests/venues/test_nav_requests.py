"""A venue owner finds the request queue in the navigation, with the number of bookings waiting for an answer,
read with the sign-in (no query of its own)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from foundation.venues.models import OccurrenceStatus
from tests.factories import login, make_user
from tests.venues.factories import make_booker, make_booking, make_space, make_venue


def nav(client) -> str:
    html = client.get("/inbox").get_data(as_text=True)
    return html[html.index('<nav aria-label="Main"') : html.index("</nav>")]


def test_the_owner_sees_requests_waiting_and_others_do_not(client, db):
    owner, owner_org = make_booker(name="Calne Town Hall Trust")
    hall = make_space(make_venue(owner_org, name="Calne Town Hall"), "Main hall")
    _, visitor = make_booker(name="Devizes Scouts")
    soon = date.today() + timedelta(days=10)
    make_booking(hall, visitor, soon, status=OccurrenceStatus.REQUESTED, purpose="Scout night")
    make_booking(hall, visitor, soon + timedelta(days=7), last=soon + timedelta(days=21), weekdays=[soon.weekday()],
                 status=OccurrenceStatus.REQUESTED, purpose="Weekly camp prep")  # fmt: skip
    make_booking(hall, visitor, soon + timedelta(days=1), purpose="Already confirmed")
    make_booking(
        hall, visitor, date.today() - timedelta(days=3), status=OccurrenceStatus.REQUESTED, purpose="Past"
    )
    bystander = make_user()
    db.session.commit()

    login(client, owner)
    owner_nav = nav(client)
    link = re.search(
        r'<a href="(/venues/requests)">Requests <span class="badge" aria-label="2 waiting">2</span>',
        owner_nav,
    )
    assert link, owner_nav
    assert client.get(link.group(1)).status_code == 200

    client.post("/logout")
    login(client, bystander)
    assert "Requests" not in nav(client)


def test_an_owner_with_nothing_waiting_still_finds_the_queue(client, db):
    owner, owner_org = make_booker()
    make_space(make_venue(owner_org), "Studio")
    db.session.commit()
    login(client, owner)

    owner_nav = nav(client)

    assert '<a href="/venues/requests">Requests</a>' in owner_nav
