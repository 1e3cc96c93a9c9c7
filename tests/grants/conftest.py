"""The people, organisations and rounds most grants tests start from.

A module that needs a different round overrides `round_` (or only `round_budget_pence`); one whose services
build links for notifications outside a request marks itself `pytest.mark.usefixtures("request_context")`.
"""

from __future__ import annotations

import pytest
from flask_sqlalchemy import SQLAlchemy

from foundation.grants.models import Grant, GrantRound, RoundStatus
from foundation.members.models import MemberRole, Organisation, User
from tests.factories import add_member, make_org, make_user
from tests.grants.factories import make_decided_grant, make_round


@pytest.fixture
def staff(db: SQLAlchemy) -> User:
    """The foundation's grants officer."""
    return make_user(email="grants@wypf.org.uk", name="Gita Grants", staff=True)


@pytest.fixture
def ada(db: SQLAlchemy) -> User:
    """An applicant, the admin of `org`."""
    return make_user(email="ada@example.org", name="Ada Applicant")


@pytest.fixture
def org(ada: User) -> Organisation:
    """Ada's organisation, approved and in good standing."""
    return make_org(ada, name="Calne Youth Forum", town="Calne")


@pytest.fixture
def people(db: SQLAlchemy) -> tuple[Organisation, User, User]:
    """A grant holder: (organisation, its admin, an ordinary member)."""
    admin = make_user(email="lead@devizes-youth.org", name="Lee Lead")
    organisation = make_org(admin, name="Devizes Youth Theatre", town="Devizes")
    member = make_user(email="volunteer@devizes-youth.org", name="Val Volunteer")
    add_member(organisation, member, MemberRole.MEMBER)
    return organisation, admin, member


@pytest.fixture
def round_budget_pence() -> int:
    """£10,000: awards in a round run between £500 and £5,000."""
    return 1_000_000


@pytest.fixture
def round_(db: SQLAlchemy, staff: User, round_budget_pence: int) -> GrantRound:
    """A round in review, its budget allocated, set up by `staff`."""
    return make_round(status=RoundStatus.IN_REVIEW, budget_pence=round_budget_pence, by=staff)


@pytest.fixture
def offered(
    db: SQLAlchemy, staff: User, people: tuple[Organisation, User, User], round_: GrantRound
) -> Grant:
    """£3,000 offered to the first of `people`, not yet accepted."""
    grant = make_decided_grant(round_, people[0], staff, amount_pence=300_000, title="Devizes stage school")
    db.session.commit()
    return grant
