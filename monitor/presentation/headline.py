"""Whether a case's title still fits its custody status.

A title is typed once ("jailed on treason charges") while the status moves on (house arrest,
then at liberty): pages headline the current status from the data and warn when the title
names another one, so nobody reads a stale title as news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.domain import CustodyStatus

# The words a title may use for each status: the status's own label (as pages show it) and
# the usual ways of saying it. Words that fit more than one status ("detained", "arrested",
# "death") are left out: a warning should only appear when the title clearly says otherwise.
STATUS_WORDS: dict[CustodyStatus, tuple[str, ...]] = {
    CustodyStatus.JAILED: ("imprisoned", "in prison", "in jail", "behind bars", "incarcerated"),
    CustodyStatus.HOUSE_ARREST: (),
    CustodyStatus.FLED: ("in exile", "exiled", "fled abroad"),
    CustodyStatus.DISAPPEARED: ("missing", "enforced disappearance"),
    CustodyStatus.DECEASED: ("died", "dead", "killed"),
    CustodyStatus.AT_LIBERTY: ("released", "freed", "set free"),
}

_PATTERNS = {
    status: re.compile(
        r"\b(?:"
        + "|".join(
            re.escape(word).replace(r"\ ", r"\s+")
            for word in sorted({status.label, *STATUS_WORDS[status]}, key=len, reverse=True)
        )
        + r")\b",
        re.IGNORECASE,
    )
    for status in CustodyStatus
}


@dataclass(frozen=True)
class StaleTitle:
    """A title that names a custody status other than the current one."""

    word: str  # as the title spells it: "jailed"
    named: CustodyStatus
    current: CustodyStatus


def stale_title(title: str | None, status: str | None) -> StaleTitle | None:
    """The first status word of ``title`` when the title names no word for ``status``.

    ``None`` when the title names no status at all, or names the current one (a title may tell
    the story: "released after two years in prison" fits a person at liberty).
    """
    if not title or not status:
        return None
    try:
        current = CustodyStatus(status)
    except ValueError:
        return None
    if _PATTERNS[current].search(title):
        return None
    found = [
        (match.start(), match.group(0), named)
        for named, pattern in _PATTERNS.items()
        if (match := pattern.search(title))
    ]
    if not found:
        return None
    _, word, named = min(found, key=lambda item: item[0])
    return StaleTitle(word=" ".join(word.split()), named=named, current=current)
