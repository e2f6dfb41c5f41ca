"""Waiting for something another thread or process does, without fixed sleeps.

:func:`wait_until` polls until a condition holds (it returns as soon as it does and fails at a
deadline, naming what it awaited and what it saw). :func:`stays` proves that nothing more happens:
called once the expected state is reached, it fails at the first change within a quiet window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    awaited: str,
    seen: Callable[[], object] | None = None,
    *,
    interval: float = 0.1,
) -> T:
    """Poll ``predicate`` until it returns something true, and return that.

    After ``timeout`` seconds, fail naming what was ``awaited`` and what was ``seen`` (by default
    the predicate's last answer). An assertion raised by ``predicate`` (a process that exited)
    fails at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = predicate()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            observed = seen() if seen is not None else repr(answer)
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {awaited}\nseen: {observed}"
            )
        time.sleep(interval)


def stays(
    observe: Callable[[], T],
    quiet: float,
    what: str,
    context: Callable[[], object] | None = None,
    *,
    interval: float = 0.1,
) -> T:
    """Require ``observe()`` to give the same value for ``quiet`` seconds, and return it.

    Fails at the first change, showing the value before and after (and ``context()``, such as
    process logs).
    """
    before = observe()
    deadline = time.monotonic() + quiet
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return before
        time.sleep(min(interval, remaining))
        after = observe()
        if after != before:
            extra = f"\n{context()}" if context is not None else ""
            raise AssertionError(
                f"{what} changed within the {quiet:g} s quiet window:\n"
                f"before: {before!r}\nafter:  {after!r}{extra}"
            )
