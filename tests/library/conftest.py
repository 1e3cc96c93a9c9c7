"""The people and organisations the library tests start from."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from foundation.members.models import MemberRole, Organisation, OrganisationStatus, User
from tests.factories import add_member, make_org, make_user


@pytest.fixture
def staff(db) -> User:
    return make_user(email="lib@wypf.org.uk", name="Lena Library", staff=True)


@pytest.fixture
def admin(db) -> User:
    return make_user(email="ada@calne.example", name="Ada Admin")


@pytest.fixture
def org(db, admin: User) -> Organisation:
    return make_org(admin=admin, name="Calne Youth Project", town="Calne")


@pytest.fixture
def colleague(db, org: Organisation) -> User:
    """A plain member (not admin) of `org`."""
    user = make_user(email="cole@calne.example", name="Cole Colleague")
    add_member(org, user, MemberRole.MEMBER)
    return user


@pytest.fixture
def reader(db) -> User:
    """The admin of another organisation in good standing: reads the library."""
    user = make_user(email="rae@devizes.example", name="Rae Reader")
    make_org(admin=user, name="Devizes Youth Club", town="Devizes")
    return user


@pytest.fixture
def lapsed(db) -> User:
    """Belongs to an approved organisation whose insurance has expired: not in good standing."""
    user = make_user(email="lee@lapsed.example", name="Lee Lapsed")
    make_org(admin=user, name="Lapsed Youth Club", valid_until=date.today() - timedelta(days=1))
    return user


@pytest.fixture
def outsider(db) -> User:
    """Signed in, in an organisation still waiting for vetting."""
    user = make_user(email="otto@pending.example", name="Otto Outsider")
    make_org(admin=user, name="Pending Group", status=OrganisationStatus.PENDING)
    return user
