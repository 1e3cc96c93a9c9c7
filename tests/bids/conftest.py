"""The people and organisations the funding tests start from."""

from __future__ import annotations

import pytest

from foundation.members.models import Organisation, OrganisationStatus, User
from tests.factories import make_org, make_user


@pytest.fixture
def staff(db) -> User:
    return make_user(email="bids@wypf.org.uk", name="Bea Bids", staff=True)


@pytest.fixture
def member(db) -> User:
    return make_user(email="mia@calne.example", name="Mia Member")


@pytest.fixture
def org(db, member: User) -> Organisation:
    return make_org(admin=member, name="Calne Youth Project", town="Calne")


@pytest.fixture
def lapsed_member(db) -> User:
    """Belongs to an approved organisation whose insurance has expired: not in good standing."""
    from datetime import date, timedelta

    user = make_user(email="lee@lapsed.example", name="Lee Lapsed")
    make_org(admin=user, name="Lapsed Youth Club", valid_until=date.today() - timedelta(days=1))
    return user


@pytest.fixture
def outsider(db) -> User:
    """Signed in, but in no approved organisation."""
    user = make_user(email="otto@pending.example", name="Otto Outsider")
    make_org(admin=user, name="Pending Group", status=OrganisationStatus.PENDING)
    return user


@pytest.fixture
def partner_admin(db) -> User:
    return make_user(email="pat@devizes.example", name="Pat Partner")


@pytest.fixture
def partner_org(db, partner_admin: User) -> Organisation:
    """A second organisation in good standing, to bid with `org`."""
    return make_org(admin=partner_admin, name="Devizes Youth Club", town="Devizes")
