"""At the same moment, on PostgreSQL: downloads are all counted (each adds one in a single UPDATE ... SET n = n + 1,
so two people downloading together never both write the same new number, as reading the count and writing it back
would); two staff deciding on one resource decide once; two new versions get numbers one after the other.
Threads, each with its own app context and database session as requests have, released together by a barrier."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from foundation.errors import IllegalTransition
from foundation.extensions import db as _db
from foundation.library import services
from foundation.library.models import LibraryDecision, LibraryResource, ResourceStatus, ResourceVersion
from foundation.members.models import User
from tests.factories import make_user
from tests.library.factories import make_resource, pdf_upload

pytestmark = pytest.mark.postgres_only

THREADS = 20
EACH = 5


def test_twenty_people_downloading_at_once_are_all_counted(app, db, admin, org):
    resource_id = make_resource(org, admin).id
    db.session.commit()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def download() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=60)
                for _ in range(EACH):
                    services.count_download(resource_id)
                    _db.session.commit()
                _db.session.remove()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=download, name=f"download-{i}") for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(LibraryResource, resource_id).download_count == THREADS * EACH


def at_once(app, jobs: list) -> list[str]:
    """Run each job in its own thread and app context (with a request context for the links in messages),
    committing what it did; 'ok' or the name of the error it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[str] = [""] * len(jobs)

    def run(i: int) -> None:
        with app.test_request_context("/"):
            try:
                barrier.wait(timeout=60)
                jobs[i]()
                _db.session.commit()
                results[i] = "ok"
            except Exception as exc:
                _db.session.rollback()
                results[i] = type(exc).__name__
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_two_staff_approving_at_once_decide_once(app, db, admin, org):
    resource_id = make_resource(org, admin, ResourceStatus.PENDING).id
    staff_ids = [make_user(staff=True).id, make_user(staff=True).id]
    db.session.commit()

    def approve(staff_id: int):
        return lambda: services.approve(
            _db.session.get(LibraryResource, resource_id), _db.session.get(User, staff_id)
        )

    results = at_once(app, [approve(i) for i in staff_ids])
    assert sorted(results) == sorted(["ok", IllegalTransition.__name__])
    assert db.session.scalar(sa.select(sa.func.count(LibraryDecision.id))) == 1


def test_two_new_versions_at_once_are_numbered_in_turn(app, db, admin, org):
    resource_id, admin_id = make_resource(org, admin).id, admin.id
    db.session.commit()

    def replace():
        services.replace_file(
            _db.session.get(LibraryResource, resource_id), pdf_upload(), "", _db.session.get(User, admin_id)
        )

    assert at_once(app, [replace, replace]) == ["ok", "ok"]
    numbers = db.session.scalars(
        sa.select(ResourceVersion.number).where(ResourceVersion.resource_id == resource_id)
    ).all()
    assert sorted(numbers) == [1, 2, 3]
