"""The one place web write views commit (as indico's request handler does).

A write view validates its form, then hands one use case (a service call) to :func:`commit`:
it runs the use case, commits once, and on a :class:`~monitor.services.ValidationError` rolls
everything back and puts the errors on the form for the view to re-render. Nothing else under
``monitor/web`` commits or rolls back (a test checks), so a half-done write is never kept.
Tasks a use case queued (:func:`monitor.jobs.after_commit`) are sent by that commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from monitor.extensions import db
from monitor.services import ValidationError
from monitor.web.helpers import apply_errors

T = TypeVar("T")


class Outcome(Generic[T]):
    """What a committed use case returned, or the errors that refused it."""

    def __init__(self, value: T | None = None, errors: Mapping[str, str] | None = None) -> None:
        self._value = value
        self.errors = dict(errors or {})
        # Refused whenever errors were given at all, even an empty ValidationError.
        self._refused = errors is not None

    @property
    def ok(self) -> bool:
        """Whether the use case ran and was committed."""
        return not self._refused

    @property
    def value(self) -> T:
        """The use case's result (only after it succeeded)."""
        if not self.ok:
            raise RuntimeError("the use case was refused: " + "; ".join(self.errors))
        return self._value  # type: ignore[return-value]  # ok: the use case returned it


def commit(
    use_case: Callable[[], T],
    form: Any = None,
    field_names: Mapping[str, str] | None = None,
) -> Outcome[T]:
    """Run ``use_case`` and commit once; on a validation error roll back and show the errors
    on ``form`` (a service's field name renamed by ``field_names`` where the form's differs)."""
    try:
        value = use_case()
    except ValidationError as exc:
        db.session.rollback()
        if form is not None:
            apply_errors(form, exc.errors, dict(field_names or {}))
        return Outcome(errors=exc.errors)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return Outcome(value)
