"""Read-only views query in autocommit mode: no ``BEGIN`` and ``ROLLBACK`` round trips.

A view marked with :func:`reads_only` (a ``GET`` that shows the register and never writes) gets
its database connection in autocommit mode, as every Django view does by default. Each query then
runs in a transaction of its own. What a page shows does not change: under READ COMMITTED,
PostgreSQL's default, every statement sees its own snapshot inside a transaction too. Two of a
list page's six round trips to the database go away (``BEGIN`` and ``ROLLBACK``).

A write in such a request is refused before anything reaches the database (it would otherwise
be committed statement by statement), so a read view that starts writing fails in its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from monitor.extensions import db

READ_ONLY = "monitor.read_only"
SAFE_METHODS = frozenset({"GET", "HEAD"})

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


class WriteInReadOnlyView(RuntimeError):
    """A view marked :func:`reads_only` tried to write."""


def reads_only(view: ViewT) -> ViewT:
    """Mark a view that only reads: its ``GET`` requests query in autocommit mode."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


def _begin() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method not in SAFE_METHODS or not getattr(view, "reads_only", False):
        return
    session = db.session()
    if session.in_transaction():  # a test's app context may already hold one: keep it
        return
    session.info[READ_ONLY] = request.endpoint
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _end(exc: BaseException | None) -> None:
    if not db.session.registry.has():  # nothing queried (a health check, a static file)
        return
    session = db.session()
    if session.info.pop(READ_ONLY, None):
        # Hand the connection back now (it leaves the pool's autocommit setting behind), not
        # only when the app context ends: a test's context outlives its requests.
        session.rollback()


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, flush_context: Any, instances: Any) -> None:
    endpoint = session.info.get(READ_ONLY)
    if endpoint:
        raise WriteInReadOnlyView(
            f"{endpoint} is marked reads_only but changed {len(session.new)} new, "
            f"{len(session.dirty)} changed and {len(session.deleted)} deleted objects"
        )


def init_app(app: Flask) -> None:
    """Run marked views' queries in autocommit mode (register before anything queries)."""
    app.before_request(_begin)
    app.teardown_request(_end)
