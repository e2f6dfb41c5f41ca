"""The cases CSV: one row per case, the columns the import takes and the export writes.

Columns (header row first; order free; a column left out of the header is left alone on import):

- ``external_id`` *(required)*: your own id for the case; rows are matched on it, so importing the
  same file again changes nothing. An exported file carries the register's id when a case has none.
- ``name`` *(required)*, ``name_native`` (native script), ``aliases`` (separated by ``;``),
  ``gender``, ``nationality`` (ISO code);
- ``organization`` (an existing organization's short name, name or register id; the id is needed
  only when a name is shared by two organizations) and ``role``;
- ``country`` *(required, ISO code)*, ``title`` (defaults to the name), ``confidentiality``
  (``public``, ``restricted`` or ``confidential``; default public);
- ``status`` *(required)*: ``at_liberty``, ``jailed``, ``house_arrest``, ``fled``,
  ``disappeared`` or ``deceased``; ``status_date`` *(required)*: ``YYYY``, ``YYYY-MM`` or
  ``YYYY-MM-DD``; ``status_location``, ``status_certainty`` (``confirmed``, ``reported``,
  ``unverified``), ``status_description``, ``status_source`` (a source's title) and
  ``status_source_url``;
- charges, any number, as numbered column groups ``charge_1_offence``, ``charge_1_legal_basis``,
  ``charge_1_max_sentence`` (``30 years``, ``18 months``, ``5 years 6 months``, ``life``,
  ``death``, ``fine only`` or ``unknown``) and ``charge_1_stage`` (``alleged``, ``charged``,
  ``on_trial``, ``convicted``, ``acquitted``, ``dropped``), then ``charge_2_…`` and so on.

Cells starting with ``=``, ``+``, ``-`` or ``@`` are formulas to a spreadsheet: the export prefixes
them (and cells that start with an apostrophe) with an apostrophe, the import strips that
apostrophe again and refuses unprefixed formulas. A cell starting with ``-`` is taken as text only
when it is dashes alone or a number (``-``, ``-5 years``, which the sentence check then refuses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.domain import MAX_TERM_MONTHS, Sentence, SentenceKind
from monitor.models import Organization

PERSON_COLUMNS = ("name", "name_native", "aliases", "gender", "nationality")
CASE_COLUMNS = (
    "external_id",
    *PERSON_COLUMNS,
    "organization",
    "role",
    "country",
    "title",
    "confidentiality",
    "status",
    "status_date",
    "status_location",
    "status_certainty",
    "status_description",
    "status_source",
    "status_source_url",
)
REQUIRED_COLUMNS = ("external_id", "name", "country", "status", "status_date")
CHARGE_FIELDS = ("offence", "legal_basis", "max_sentence", "stage")
CHARGE_COLUMN = re.compile(r"^charge_([1-9]\d{0,2})_(" + "|".join(CHARGE_FIELDS) + r")$")
ALIAS_SEPARATOR = ";"

# A spreadsheet evaluates a cell starting with one of these (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def charge_columns(count: int) -> list[str]:
    """Column names of ``count`` charge groups."""
    return [f"charge_{n}_{field}" for n in range(1, count + 1) for field in CHARGE_FIELDS]


def header(charges: int) -> list[str]:
    """The header row of a file with ``charges`` charge groups."""
    return [*CASE_COLUMNS, *charge_columns(charges)]


def neutralise(cell: str) -> str:
    """An exported cell a spreadsheet will show as text, never evaluate.

    A cell that already starts with an apostrophe gets one more, so the import, which strips one
    apostrophe before a formula character or an apostrophe, gives back the cell as it was.
    """
    return f"'{cell}" if cell.startswith((*FORMULA_STARTS, "'")) else cell


def unneutralise(cell: str) -> tuple[str, bool]:
    """An imported cell without the export's apostrophe; ``False`` when it is a bare formula."""
    if cell.startswith("'") and cell[1:].startswith((*FORMULA_STARTS, "'")):
        return cell[1:], True
    if cell.startswith("-"):
        return cell, bool(_DASH_TEXT.fullmatch(cell))
    return cell, not cell.startswith(("=", "+", "@"))


# A leading minus is text only as dashes alone (a common "none") or a number, perhaps with words
# after it (``-5 years`` is then refused as a negative sentence). ``-2+3+cmd|…`` is a formula.
_DASH_TEXT = re.compile(r"-+|-\s*\d+(?:[.,]\d+)?(?:\s+[^\W_]+)*")


class OrganizationNames:
    """How the ``organization`` column names organizations: short name, name or register id.

    A short name or name that two organizations share names neither: the import says so and asks
    for the register id, and the export writes the id for such an organization.
    """

    def __init__(self, organizations: Iterable[Organization]) -> None:
        self._by_id: dict[str, Organization] = {}
        self._by_name: dict[str, list[Organization]] = {}
        for org in organizations:
            self._by_id[org.public_id] = org
            for name in {org.name.casefold(), (org.short_name or "").casefold()} - {""}:
                self._by_name.setdefault(name, []).append(org)

    def find(self, text: str) -> Organization:
        """The organization the cell names; ``LookupError`` with a reader's message otherwise."""
        if text in self._by_id:
            return self._by_id[text]
        found = self._by_name.get(text.casefold(), [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise LookupError(
                f"{text!r} is not an organization in the register (add it first, or correct "
                "the name)"
            )
        named = ", ".join(f"{o.name} ({o.public_id})" for o in found)
        raise LookupError(f"{text!r} names more than one organization: {named}; write its id")

    def label(self, org: Organization) -> str:
        """What the export writes: a short name or name that names only this one, else its id."""
        for name in (org.short_name, org.name):
            if name and len(self._by_name.get(name.casefold(), [])) == 1:
                return name
        return org.public_id


_TERM = re.compile(
    r"^(?:(?P<years>-?\d+)\s*(?:years?|yrs?|y))?\s*(?:(?P<months>-?\d+)\s*(?:months?|mos?|m))?$"
)
_KINDS = {
    "life": SentenceKind.LIFE,
    "life imprisonment": SentenceKind.LIFE,
    "death": SentenceKind.DEATH,
    "death penalty": SentenceKind.DEATH,
    "fine only": SentenceKind.FINE_ONLY,
    "fine_only": SentenceKind.FINE_ONLY,
    "fine": SentenceKind.FINE_ONLY,
    "unknown": SentenceKind.UNKNOWN,
    "": SentenceKind.UNKNOWN,
}


def parse_sentence(text: str) -> Sentence:
    """``30 years`` → a 360-month term; raise ``ValueError`` with a reader's message otherwise."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _KINDS:
        return Sentence(_KINDS[cleaned])
    match = _TERM.match(cleaned)
    if not match or not (match["years"] or match["months"]):
        raise ValueError(
            f"{text.strip()!r} is not a sentence: write e.g. '30 years', '18 months', "
            "'5 years 6 months', 'life', 'death', 'fine only' or 'unknown'"
        )
    years, months = int(match["years"] or 0), int(match["months"] or 0)
    if years < 0 or months < 0:
        raise ValueError("a sentence cannot be negative")
    total = years * 12 + months
    if total > MAX_TERM_MONTHS:
        raise ValueError("a term longer than 200 years: write 'life' instead")
    if total == 0:
        raise ValueError("a prison term must be longer than zero (use 'fine only' or 'unknown')")
    return Sentence(SentenceKind.TERM, total)


def format_sentence(sentence: Sentence) -> str:
    """The text :func:`parse_sentence` reads back: ``30 years``, ``5 years 6 months``, ``life``."""
    if sentence.kind is SentenceKind.TERM:
        return sentence.human()
    return {
        SentenceKind.LIFE: "life",
        SentenceKind.DEATH: "death",
        SentenceKind.FINE_ONLY: "fine only",
        SentenceKind.UNKNOWN: "unknown",
    }[sentence.kind]
