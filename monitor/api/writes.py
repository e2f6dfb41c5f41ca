"""The one place API write views commit.

A write view is decorated with :func:`committed`: it parses, calls one use case and builds its
answer; the decorator commits once after it returns. A refused write raises
:class:`~monitor.services.ValidationError` (or a 4xx), whose handler in
:mod:`monitor.api.errors` rolls everything back, so nothing of it is kept. Tasks the use case
queued (:func:`monitor.jobs.after_commit`) are sent by that commit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Response

from monitor.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def _status(answer: object) -> int:
    if isinstance(answer, Response):
        return answer.status_code
    if isinstance(answer, tuple) and len(answer) > 1 and isinstance(answer[1], int):
        return answer[1]
    return 200


def committed(view: Callable[P, R]) -> Callable[P, R]:
    """Commit the request's one transaction after ``view`` answered with success; an error
    (raised, or answered with a 4xx) keeps nothing."""

    @functools.wraps(view)
    def commit_after(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            answer = view(*args, **kwargs)
        except BaseException:
            discard()
            raise
        if _status(answer) >= 400:
            discard()
        else:
            db.session.commit()
        return answer

    return commit_after


def discard() -> None:
    """Roll back the request's writes: nothing of a refused request is kept."""
    db.session.rollback()


def commit_bookkeeping() -> None:
    """Commit what a read changed on the side (a token's "last used" time): reads have no
    use case to commit."""
    if db.session.dirty:
        db.session.commit()
