"""What checking a file produces: the problems found, by row and column, and the checked rows.

A :class:`Report` with no problems is the plan :func:`~monitor.services.imports.applying.apply`
writes: each :class:`Row` carries its values, the existing case it updates (if any) and the
changes it makes there, so the preview, the plan's digest and applying all read the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from monitor.domain import PartialDate, Sentence
from monitor.models import Case, Organization, Person
from monitor.presentation.translation import current_language, gettext, translations
from monitor.services.imports.matching import MATCHED, PROBABLE, PersonMatch
from monitor.services.people import LikelyDuplicate

# At most this many problems are stored on an import and listed by the API and the command line.
MAX_REPORTED_PROBLEMS = 1000


_AT_MOST = re.compile(r"must be at most (\d+) characters")


def worded(message: str) -> str:
    """A message another service wrote in English (``is required``, ``must be at most 200
    characters``), in the language in force where the catalogs have it; else as it is."""
    if _AT_MOST.fullmatch(message):
        count = _AT_MOST.fullmatch(message)[1]  # type: ignore[index]
        return gettext("must be at most %(count)s characters", count=count)
    return str(translations(current_language()).ugettext(message))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: its row (the header is row 1), column and what is wrong."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The shape stored on the import and returned by the API."""
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        if self.row == 0:  # the whole file: its message already says "The file …"
            return f"{self.column}: {self.message}" if self.column else self.message
        if self.column:
            return gettext(
                "row %(row)s, column %(column)s: %(problem)s",
                row=self.row,
                column=self.column,
                problem=self.message,
            )
        return gettext("row %(row)s: %(problem)s", row=self.row, problem=self.message)


@dataclass
class ChargeRow:
    """One charge group of a row."""

    offence: str
    legal_basis: str | None
    has_legal_basis: bool  # False: the file has no legal basis column for this charge
    max_sentence: Sentence | None  # None: the column is not in the file
    stage: str | None


@dataclass
class Row:
    """A checked row: values of the columns the file has (absent columns are ``None``)."""

    line: int
    external_id: str
    values: dict[str, str]
    status_date: PartialDate | None  # None: no status, the row records a person or member
    organization: Organization | None
    charges: list[ChargeRow]
    case: Case | None = None  # the existing case it updates
    # A row without a status: the registered person it updates (matched by an identifier, or
    # by the external id of their case), else None for a new person. No case is opened.
    person: Person | None = None
    changes: list[str] = field(default_factory=list)
    # A row whose person no external id or identifier found: who they are in the register by
    # name (matching.match_people), under ``match.key`` ("row 5").
    # Matched: ``person`` is set already; probable: ``person`` is set once decided.
    match: PersonMatch | None = None
    # A probable match's candidates (the register people the row's person may be).
    duplicates: list[LikelyDuplicate] = field(default_factory=list)

    def get(self, column: str) -> str | None:
        """The stripped cell, or ``None`` when the file has no such column."""
        return self.values.get(column)

    @property
    def match_status(self) -> str | None:
        """``matched`` (by name), ``probable`` (to decide) or ``new``; ``None`` for a row
        matched by its external id or an identifier."""
        return self.match.status if self.match else None

    @property
    def records_case(self) -> bool:
        """Whether the row has a status (a case opened or updated), not only a person/member."""
        return self.status_date is not None

    @property
    def existing(self) -> Case | Person | None:
        """What the row updates: its case, or (a row without a status) its person."""
        return self.case if self.records_case else self.person

    @property
    def action(self) -> str:
        """``create``, ``update`` or ``unchanged``."""
        if self.existing is None:
            return "create"
        return "update" if self.changes else "unchanged"


@dataclass
class Report:
    """What checking a file found."""

    rows: list[Row]
    problems: list[Problem]
    # What does not stop the import but deserves a look (a person who may be registered).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be applied."""
        return not self.problems

    def warning_dicts(self) -> list[dict[str, Any]]:
        """The warnings as the API returns them, with the ids of the people a row names: the
        person it is matched to, or a probable match's candidates."""
        people = {row.line: _person_ids(row) for row in self.rows}
        return [{**w.as_dict(), "person_ids": people.get(w.row, [])} for w in self.warnings]

    def matches(self) -> dict[str, PersonMatch]:
        """The rows matched by name, by key (``row 5``)."""
        return {row.match.key: row.match for row in self.rows if row.match is not None}

    def probable(self) -> list[Row]:
        """The rows whose person is probably someone registered: to decide before applying."""
        return [row for row in self.rows if row.match_status == PROBABLE]

    def match_dicts(self) -> list[dict[str, Any]]:
        """The rows matched by name as the API's dry run lists them."""
        listed = []
        for row in self.rows:
            match = row.match
            if match is None:
                continue
            listed.append(
                {
                    "row": row.line,
                    "key": match.key,
                    "name": row.get("name") or "",
                    "status": match.status,
                    "person_id": match.person.public_id if match.person else None,
                    "reason": match.reason or None,
                    "candidates": [
                        {
                            "id": c.public_id,
                            "name": c.name,
                            "name_native": c.name_native,
                            "reasons": list(c.reasons),
                        }
                        for c in match.candidates
                    ],
                }
            )
        return listed

    def summary(self) -> dict[str, int]:
        """Counts of rows by action (and of probable matches to decide, when there are any)."""
        counts = {"rows": len(self.rows), "create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        probable = len(self.probable())
        if probable:
            counts["probable"] = probable
        return counts


def _person_ids(row: Row) -> list[str]:
    if row.match is not None and row.match.status == MATCHED and row.match.person is not None:
        return [row.match.person.public_id]
    return [d.public_id for d in row.duplicates]
