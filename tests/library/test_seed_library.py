"""The library's demo data: a dozen resources, most approved with downloads, one waiting for review and one with
two versions; their files download as real PDFs."""

from __future__ import annotations

import sqlalchemy as sa

from foundation.library.models import LibraryResource, ResourceStatus
from foundation.members.models import User
from foundation.seed import DEMO_PASSWORD, seed
from tests.factories import login


def test_demo_library(app, db, client):
    list(seed())
    resources = db.session.scalars(sa.select(LibraryResource)).all()
    assert len(resources) == 12
    statuses = [r.status for r in resources]
    assert statuses.count(ResourceStatus.PENDING) == 1 and statuses.count(ResourceStatus.APPROVED) == 11
    assert any(r.is_link for r in resources) and all(r.download_count > 0 for r in resources if r.approved_at)
    [two] = [r for r in resources if len(r.versions) == 2]
    assert two.public_version.number == 2

    member = db.session.scalar(sa.select(User).where(User.email == "member@calne-youth.example"))
    login(client, member, DEMO_PASSWORD)
    assert "Trustee induction pack" in client.get("/library?topic=governance").get_data(as_text=True)
    download = client.get(f"/library/{two.id}/download")
    assert download.status_code == 200 and b"Version 2" in download.get_data()
    assert len(list(seed())) > 0 and db.session.scalar(sa.select(sa.func.count(LibraryResource.id))) == 12
