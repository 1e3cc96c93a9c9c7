"""Work handed on once the current transaction commits, and never if it rolls back.

A module registers a handler under a key (`@handler(key)`); during a transaction, code adds ids under that key
(`defer(key, ids)`); when the outermost transaction commits, each key's handler gets its ids (each once, in the
order added). Releasing a SAVEPOINT also fires SQLAlchemy's after_commit, but the rows are not visible to anyone
else until the outer transaction commits, so the ids wait for that. A rolled-back outer transaction forgets them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from foundation.extensions import db

log = logging.getLogger(__name__)

Handler = Callable[[list[int]], Any]
H = TypeVar("H", bound=Handler)
_HANDLERS: dict[str, Handler] = {}


def handler(key: str) -> Callable[[H], H]:
    def register(fn: H) -> H:
        if key in _HANDLERS:
            raise ValueError(f"after-commit work {key!r} already has a handler")
        _HANDLERS[key] = fn
        return fn

    return register


def defer(key: str, ids: Iterable[int], session: Session | None = None) -> None:
    """Hand these ids to the key's handler once the current transaction commits."""
    target = session if session is not None else db.session()
    target.info.setdefault(key, []).extend(ids)


def enqueue(task_name: str, ids: list[int], what: str) -> bool:
    """Hand the ids to a Celery task (by its name) from a handler; when the broker cannot take it, log it and leave
    the work to the beat's sweep, which finds it in the rows (the change itself has committed). Whether it went."""
    task = current_app.extensions["celery"].tasks[task_name]
    try:
        task.delay(ids)
    except Exception as exc:  # broker down
        log.warning("could not enqueue %s %s (%s); left for the sweep", what, ids, exc)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for key, fn in _HANDLERS.items():
        ids = list(dict.fromkeys(session.info.pop(key, [])))
        if ids:
            fn(ids)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (rollback or close): its rows do not exist. A rolled-back
    # SAVEPOINT leaves its ids; handing on a missing row is harmless to every handler.
    if transaction.parent is None:
        for key in _HANDLERS:
            session.info.pop(key, None)
