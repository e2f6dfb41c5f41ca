"""The register's vocabulary and value types, free of any database or web code."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum


class CustodyStatus(StrEnum):
    """Where a person is, as far as their liberty goes."""

    AT_LIBERTY = "at_liberty"
    JAILED = "jailed"
    HOUSE_ARREST = "house_arrest"
    FLED = "fled"
    DISAPPEARED = "disappeared"
    DECEASED = "deceased"

    @property
    def label(self) -> str:
        """Human wording for pages and emails."""
        return self.value.replace("_", " ")


class Confidentiality(StrEnum):
    """How widely a case may be shown; users and audiences hold a clearance up to one level."""

    PUBLIC = "public"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"

    @property
    def rank(self) -> int:
        """Order of levels: public < restricted < confidential."""
        return _CONFIDENTIALITY_ORDER.index(self)

    def levels_visible(self) -> list[str]:
        """Every level a holder of this clearance may see."""
        return [level.value for level in _CONFIDENTIALITY_ORDER[: self.rank + 1]]


_CONFIDENTIALITY_ORDER = [
    Confidentiality.PUBLIC,
    Confidentiality.RESTRICTED,
    Confidentiality.CONFIDENTIAL,
]


class LegalStage(StrEnum):
    """Where a charge stands in the proceedings."""

    ALLEGED = "alleged"
    CHARGED = "charged"
    ON_TRIAL = "on_trial"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    DROPPED = "dropped"
    PARDONED = "pardoned"

    @property
    def is_open(self) -> bool:
        """An open charge still exposes the person to its maximum sentence."""
        return self not in {LegalStage.ACQUITTED, LegalStage.DROPPED, LegalStage.PARDONED}

    @property
    def label(self) -> str:
        """Human wording."""
        return self.value.replace("_", " ")


# The longest term the register records: anything longer is life imprisonment in all but name, and
# the import's sentence format (``30 years``) reads back whatever the forms and the API accept.
MAX_TERM_MONTHS = 200 * 12
TERM_TOO_LONG = "a term longer than 200 years: record it as life imprisonment"


class SentenceKind(StrEnum):
    """What a sentence (maximum or imposed) is."""

    TERM = "term"
    LIFE = "life"
    DEATH = "death"
    FINE_ONLY = "fine_only"
    UNKNOWN = "unknown"


class Certainty(StrEnum):
    """How sure the register is that a status event happened as recorded."""

    CONFIRMED = "confirmed"
    REPORTED = "reported"
    UNVERIFIED = "unverified"


class DatePrecision(StrEnum):
    """How much of a partial date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class OrganizationKind(StrEnum):
    """What sort of body an organization is."""

    POLITICAL_PARTY = "political_party"
    LEGISLATURE = "legislature"  # a parliament or assembly (Popolo's classification)
    NGO = "ngo"
    MEDIA = "media"
    UNION = "union"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Human wording."""
        return {"ngo": "NGO"}.get(self.value, self.value.replace("_", " "))


class Role(StrEnum):
    """What a user may do: viewers read, editors write, admins also manage users."""

    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


# ASCII digits only: \d would also take full-width digits (U+FF10..U+FF19) as a year.
_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


# calendar.month_name formats each name with strftime on every lookup; lists show one per row.
_MONTH_NAMES = tuple(calendar.month_name)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the day, the month or only the year (``2017``, ``2017-09``, ``2017-09-03``).

    ``start`` is the first day of the period; ordering compares starts, so a month-precision date
    sorts before any exact day inside that month.
    """

    start: dt.date
    precision: DatePrecision = DatePrecision.DAY

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise ``ValueError`` otherwise."""
        match = _PARTIAL_DATE.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError("use YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = match.groups()
        try:
            if day:
                return cls(dt.date(int(year), int(month), int(day)), DatePrecision.DAY)
            if month:
                return cls(dt.date(int(year), int(month), 1), DatePrecision.MONTH)
            return cls(dt.date(int(year), 1, 1), DatePrecision.YEAR)
        except ValueError:
            raise ValueError("not a real calendar date") from None

    @classmethod
    def of(cls, start: dt.date | None, precision: str | None) -> PartialDate | None:
        """Rebuild from the two stored columns (either may be NULL)."""
        if start is None:
            return None
        return cls(start, DatePrecision(precision or DatePrecision.DAY))

    def iso(self) -> str:
        """The ISO text at this precision: ``2017-09`` for a month."""
        if self.precision is DatePrecision.YEAR:
            return f"{self.start.year:04d}"
        if self.precision is DatePrecision.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return self.start.isoformat()

    def human(self) -> str:
        """Reader wording at this precision: ``3 September 2017``, ``September 2017``, ``2017``."""
        if self.precision is DatePrecision.YEAR:
            return str(self.start.year)
        month = _MONTH_NAMES[self.start.month]
        if self.precision is DatePrecision.MONTH:
            return f"{month} {self.start.year}"
        return f"{self.start.day} {month} {self.start.year}"

    def __str__(self) -> str:
        return self.iso()


# Ranking used for "maximum exposure": death and life imprisonment outrank any term.
_SENTENCE_RANK = {
    SentenceKind.UNKNOWN: 0,
    SentenceKind.FINE_ONLY: 1,
    SentenceKind.TERM: 2,
    SentenceKind.LIFE: 3,
    SentenceKind.DEATH: 4,
}


@dataclass(frozen=True)
class Sentence:
    """A sentence as a typed value: a term in months, life, death, fine only or unknown."""

    kind: SentenceKind
    months: int | None = None

    def __post_init__(self) -> None:
        if self.kind is SentenceKind.TERM:
            if self.months is None or self.months <= 0:
                raise ValueError("a term needs a positive number of months")
        elif self.months is not None:
            raise ValueError(f"a {self.kind.value} sentence has no months")

    @classmethod
    def of(cls, kind: str | None, months: int | None) -> Sentence | None:
        """Rebuild from stored columns."""
        if kind is None:
            return None
        return cls(SentenceKind(kind), months)

    @property
    def severity(self) -> tuple[int, int]:
        """A sortable key: kind rank first, then months for terms."""
        return (_SENTENCE_RANK[self.kind], self.months or 0)

    def human(self) -> str:
        """``30 years``, ``18 months``, ``life imprisonment``, ``death``, ``fine only``."""
        if self.kind is SentenceKind.TERM:
            assert self.months is not None  # noqa: S101 - enforced in __post_init__
            years, months = divmod(self.months, 12)
            parts = []
            if years:
                parts.append(f"{years} year{'s' if years != 1 else ''}")
            if months:
                parts.append(f"{months} month{'s' if months != 1 else ''}")
            return " ".join(parts)
        return {
            SentenceKind.LIFE: "life imprisonment",
            SentenceKind.DEATH: "death",
            SentenceKind.FINE_ONLY: "fine only",
            SentenceKind.UNKNOWN: "unknown",
        }[self.kind]

    def as_dict(self) -> dict[str, object]:
        """The API shape ``{"kind", "months"}``."""
        return {"kind": self.kind.value, "months": self.months}


def maximum_exposure(sentences: list[Sentence]) -> Sentence | None:
    """The most severe of the given maximum sentences, or ``None`` when there are none."""
    if not sentences:
        return None
    return max(sentences, key=lambda s: s.severity)


@dataclass
class StatusCounts:
    """How many visible cases are in each custody status."""

    counts: Counter[str]

    @property
    def total(self) -> int:
        """All cases counted."""
        return sum(self.counts.values())

    def ordered(self) -> list[tuple[CustodyStatus, int]]:
        """Every status in vocabulary order with its count (zero included)."""
        return [(s, self.counts.get(s.value, 0)) for s in CustodyStatus]
