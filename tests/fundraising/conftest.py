"""The people and organisations the fundraising tests start from."""

from __future__ import annotations

import pytest

from foundation.members.models import Organisation, User
from tests.factories import login, make_org, make_user
from tests.fundraising.factories import staff_user


@pytest.fixture
def staff(db) -> User:
    return make_user(email="funds@wypf.org.uk", name="Fay Funds", staff=True)


@pytest.fixture
def lead_admin(db) -> User:
    return make_user(email="lena@calne.example", name="Lena Lead")


@pytest.fixture
def lead(db, lead_admin: User) -> Organisation:
    return make_org(admin=lead_admin, name="Calne Youth Project", town="Calne")


@pytest.fixture
def partner_admin(db) -> User:
    return make_user(email="pete@swindon.example", name="Pete Partner")


@pytest.fixture
def partner(db, partner_admin: User) -> Organisation:
    return make_org(admin=partner_admin, name="Swindon Sports Trust", town="Swindon")


@pytest.fixture
def officer(db):
    """The Foundation's fundraising officer (staff)."""
    return staff_user()


@pytest.fixture
def as_staff(client, officer):
    """A client signed in as the officer."""
    login(client, officer)
    return client
