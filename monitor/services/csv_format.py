"""The cases CSV: one row per case, the columns the import takes and the export writes.

Columns (header row first; order free; a column left out of the header is left alone on import,
and so is a cell left empty; a cell holding only ``-`` clears the value). Columns may be separated
by commas, semicolons or tabs (the header row tells which). A row without ``status`` and
``status_date`` records a person (and their membership), not a case:

- ``external_id`` *(required)*: your own id for the case; rows are matched on it, so importing the
  same file again changes nothing. An exported file carries the register's id when a case has none.
- ``name`` *(required)*, ``name_native`` (native script), ``aliases`` (separated by ``;``),
  ``gender``, ``nationality`` (ISO code);
- ``organization`` (an existing organization's short name, name or register id; the id is needed
  only when a name is shared by two organizations), ``organization_identifiers``
  (``wikidata:Q1285528``: the organization holding one is the row's, found before the name; one
  it lacks is added) and ``role``;
- ``country`` *(required, ISO code or name in English or the importer's language: ``KH``,
  ``Cambodia``, ``Cambodge``)*, ``title`` (defaults to the name), ``confidentiality``
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

A vocabulary cell takes the code or the words the screens show, in any case (``house_arrest`` or
``House arrest``); a country cell the ISO code or the country's name in English or the
importer's language. :data:`COLUMNS` describes every column once: the import checks cells with
it and the Data page lists it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import pycountry
from babel import Locale
from babel.support import LazyProxy

from monitor.domain import (
    MAX_TERM_MONTHS,
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    Sentence,
    SentenceKind,
)
from monitor.models import Organization
from monitor.presentation.translation import (
    SOURCE_LANGUAGE,
    current_language,
    gettext,
    translations,
    using_language,
)
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import lazy_gettext as _l
from monitor.presentation.wording import (
    CERTAINTY_LABELS,
    LEVEL_LABELS,
    SENTENCE_KIND_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    comma_list,
    sentence_text,
)

E = TypeVar("E", bound=StrEnum)

PERSON_COLUMNS = ("name", "name_native", "aliases", "gender", "nationality")
# The columns the export writes, in its order (the identifiers last, before the charges).
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
    "identifiers",
    "organization_identifiers",
)
# Columns the import also takes (the template has them; the export leaves them out).
EXTRA_COLUMNS = ("birth_date", "membership_start", "membership_end", "area")
IMPORT_COLUMNS = (*CASE_COLUMNS, *EXTRA_COLUMNS)
# The header must have these; ``external_id``, ``country``, ``status`` and ``status_date`` are
# needed on a row that records a case (one with a status), not on a row that records a member.
REQUIRED_COLUMNS = ("name",)
# A cell holding only this clears the value; an empty cell leaves it as it is.
CLEAR = "-"
CHARGE_FIELDS = ("offence", "legal_basis", "max_sentence", "stage")
CHARGE_COLUMN = re.compile(r"^charge_([1-9]\d{0,2})_(" + "|".join(CHARGE_FIELDS) + r")$")
ALIAS_SEPARATOR = ";"

# A spreadsheet evaluates a cell starting with one of these (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def charge_columns(count: int) -> list[str]:
    """Column names of ``count`` charge groups."""
    return [f"charge_{n}_{field}" for n in range(1, count + 1) for field in CHARGE_FIELDS]


def header(charges: int) -> list[str]:
    """The header row of an exported file with ``charges`` charge groups."""
    return [*CASE_COLUMNS, *charge_columns(charges)]


def template_header(charges: int) -> list[str]:
    """The header row of the import template: every column the import takes."""
    return [*IMPORT_COLUMNS, *charge_columns(charges)]


class Gender(StrEnum):
    """The gender column's small vocabulary (empty: not known)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


GENDER_LABELS = {
    Gender.FEMALE: _l("female"),
    Gender.MALE: _l("male"),
    Gender.OTHER: _l("other"),
}
# Words a spreadsheet may hold for them, besides the codes.
_GENDER_WORDS = {"f": Gender.FEMALE, "woman": Gender.FEMALE, "m": Gender.MALE, "man": Gender.MALE}


def parse_gender(text: str) -> Gender:
    """``female``, ``Male``, ``F``, ``woman``, ``femme``…; ``ValueError`` listing the values
    otherwise."""
    word = text.strip().casefold()
    if word in _GENDER_WORDS:
        return _GENDER_WORDS[word]
    return parse_choice(Gender, text)


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
# Enough numbers to meet every plural form of every catalog (Arabic's six among them).
_PLURAL_PROBES = (*range(0, 111), 1000, 1001, 1002, 1003)


@dataclass(frozen=True)
class _SentenceWords:
    """How the screens word a sentence in one language (:func:`wording.sentence_text`): the
    kinds' labels, the words after a number of years or months, and the word joining the two
    (``et``; Arabic's ``و`` is written against the number that follows it)."""

    kinds: dict[str, SentenceKind]
    units: dict[str, str]  # each word after a number, folded: "years" or "months"
    terms: re.Pattern[str]  # a number and one of those words
    connector: re.Pattern[str] | None


@functools.cache
def _sentence_words(language: str) -> _SentenceWords:
    catalog = translations(language)
    kinds: dict[str, SentenceKind] = {}
    with using_language(language):
        for kind, text in SENTENCE_KIND_LABELS.items():
            if kind is not SentenceKind.TERM:
                kinds[word_key(str(text))] = kind
        joined = gettext("%(years)s %(months)s", years="\0", months="\0")
    units: dict[str, str] = {}
    for unit, singular, plural in (
        ("years", "%(count)s year", "%(count)s years"),
        ("months", "%(count)s month", "%(count)s months"),
    ):
        for n in _PLURAL_PROBES:
            word = catalog.ngettext(singular, plural, n).replace("%(count)s", "").strip()
            if word:
                units.setdefault(unicodedata.normalize("NFC", word.casefold()), unit)
    # Longest first, so that a word is not read as a shorter one it starts with.
    alternatives = "|".join(re.escape(word) for word in sorted(units, key=len, reverse=True))
    between = joined.split("\0")[1].strip() if joined.count("\0") == 2 else ""
    connector = re.compile(rf"(?:^|\s){re.escape(between)}\s*(?=\d)") if between else None
    return _SentenceWords(kinds, units, re.compile(rf"(\d+)\s*({alternatives})"), connector)


def _localized_sentence(cleaned: str, language: str) -> Sentence | None:
    """A sentence as the screens word it in ``language`` (``30 ans``, ``5 ans et 6 mois``,
    ``réclusion à perpétuité``, ``5 سنوات و6 أشهر``); ``None`` when the text is not one.
    Digits of any script are read (Khmer ``៣០``, and Arabic-Indic ones)."""
    words = _sentence_words(language)
    kind = words.kinds.get(word_key(cleaned))
    if kind is not None:
        return Sentence(kind)
    text = unicodedata.normalize("NFC", cleaned)
    if words.connector is not None:
        text = words.connector.sub(" ", text)
    totals = {"years": 0, "months": 0}
    position = 0
    for match in words.terms.finditer(text):
        if text[position : match.start()].strip():
            return None
        totals[words.units[match[2]]] += int(match[1])
        position = match.end()
    if position == 0 or text[position:].strip():
        return None
    return _term(totals["years"], totals["months"])


def parse_sentence(text: str) -> Sentence:
    """``30 years`` → a 360-month term; raise ``ValueError`` with a reader's message otherwise.

    The English words are read in every language; the importer's language's too, as the screens
    write them (``30 ans``, ``30 ឆ្នាំ``, ``réclusion à perpétuité``)."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _KINDS:
        return Sentence(_KINDS[cleaned])
    match = _TERM.match(cleaned)
    if match and (match["years"] or match["months"]):
        years, months = int(match["years"] or 0), int(match["months"] or 0)
        if years < 0 or months < 0:
            raise ValueError(_("a sentence cannot be negative"))
        return _term(years, months)
    language = current_language()
    if language == SOURCE_LANGUAGE:
        raise ValueError(
            _(
                "%(value)s is not a sentence: write e.g. '30 years', '18 months', "
                "'5 years 6 months', 'life', 'death', 'fine only' or 'unknown'",
                value=repr(text.strip()),
            )
        )
    found = _localized_sentence(cleaned, language)
    if found is None:
        raise ValueError(
            _(
                "%(value)s is not a sentence: write it as the screens do (%(examples)s) or in "
                "English ('30 years', '5 years 6 months', 'life', 'death', 'fine only', "
                "'unknown')",
                value=repr(text.strip()),
                examples=comma_list([repr(example) for example in screen_sentences()[:3]]),
            )
        )
    return found


def screen_sentences() -> list[str]:
    """Sentences as the screens write them in the language in force, which the import reads
    too: 30 years, 18 months, 5 years 6 months, life imprisonment, death, fine only, unknown."""
    terms = [Sentence(SentenceKind.TERM, months) for months in (360, 18, 66)]
    kinds = [Sentence(kind) for kind in SentenceKind if kind is not SentenceKind.TERM]
    return [sentence_text(sentence) or "" for sentence in (*terms, *kinds)]


def _term(years: int, months: int) -> Sentence:
    total = years * 12 + months
    if total > MAX_TERM_MONTHS:
        raise ValueError(_("a term longer than 200 years: write 'life' instead"))
    if total == 0:
        raise ValueError(_("a prison term must be longer than zero (use 'fine only' or 'unknown')"))
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


def label(member: StrEnum) -> str:
    """A vocabulary value as the screens show it: ``house arrest`` for ``house_arrest``."""
    return member.value.replace("_", " ")


# Each vocabulary's labels as the screens show them, in the language in force.
SCREEN_LABELS: dict[type[StrEnum], Mapping[Any, Any]] = {
    CustodyStatus: STATUS_LABELS,
    LegalStage: STAGE_LABELS,
    Certainty: CERTAINTY_LABELS,
    Confidentiality: LEVEL_LABELS,
    Gender: GENDER_LABELS,
}
# Marks a reader may or may not type: Latin accents (``détenu``, ``detenu``) and Arabic short
# vowels. Khmer's vowel signs are letters of the word and are kept.
_IGNORED_MARKS = re.compile("[\u0300-\u036f\u064b-\u065f\u0670\u0640]")


def word_key(text: str) -> str:
    """A cell or label as the import compares it: any case, accents, spaces, underscores or
    hyphens (``En fuite``, ``en_fuite``, ``EN-FUITE``)."""
    plain = _IGNORED_MARKS.sub("", unicodedata.normalize("NFKD", text.strip().casefold()))
    plain = unicodedata.normalize("NFC", plain.replace("\u2019", "'"))
    return "_".join(part for part in re.split(r"[\s_-]+", plain) if part)


def screen_label(member: StrEnum) -> str:
    """A vocabulary value as the screens show it in the language in force (``détenu``)."""
    labels = SCREEN_LABELS.get(type(member))
    return str(labels[member]) if labels and member in labels else label(member)


def choice_words(enum: type[E]) -> dict[str, set[E]]:
    """Every word a cell may name a member by, in the language in force: its code, its
    English label and its label in that language; a word two members share names both."""
    words: dict[str, set[E]] = {}
    for member in enum:
        for word in (member.value, label(member), screen_label(member)):
            words.setdefault(word_key(word), set()).add(member)
    return words


def parse_choice(enum: type[E], text: str) -> E:
    """The member a cell names by its code or its label (English, or the importer's language),
    in any case and with or without accents (``House arrest``, ``house_arrest``, ``détenu``);
    ``ValueError`` listing the allowed values otherwise, or naming the members a word shared by
    two of them may mean."""
    found = choice_words(enum).get(word_key(text), set())
    if len(found) == 1:
        return next(iter(found))
    if found:
        codes = comma_list(sorted(m.value for m in found))
        raise ValueError(
            _("%(value)s may mean %(codes)s: write the code", value=repr(text), codes=codes)
        )
    codes = ", ".join(m.value for m in enum)
    if current_language() == SOURCE_LANGUAGE:
        spaced = [label(m) for m in enum if label(m) != m.value]
    else:
        spaced = [screen_label(m) for m in enum if screen_label(m) != m.value]
    if not spaced:
        raise ValueError(_("%(value)s: must be one of: %(codes)s", value=repr(text), codes=codes))
    raise ValueError(
        _(
            "%(value)s: must be one of: %(codes)s (or with spaces, as on screen: %(labels)s)",
            value=repr(text),
            codes=codes,
            labels=comma_list(spaced),
        )
    )


def allowed_values(enum: type[StrEnum]) -> str:
    """``at liberty (at_liberty), jailed, …``: the words the screens show (in the language in
    force), and the code where it differs; either is accepted."""
    return comma_list(
        [
            screen_label(m) if screen_label(m) == m.value else f"{screen_label(m)} ({m.value})"
            for m in enum
        ]
    )


def lazy_allowed_values(enum: type[StrEnum]) -> LazyProxy:
    """:func:`allowed_values`, worded each time it is shown."""
    return LazyProxy(allowed_values, enum, enable_cache=False)


def parse_country(text: str) -> str:
    """The ISO 3166-1 alpha-2 code a cell names by code (``KH``, ``KHM``), English name
    (``Cambodia``, ``Kingdom of Cambodia``) or name in the importer's language as Babel's locale
    data spells it (``Cambodge``, ``កម្ពុជា``, ``كمبوديا``; any case, with or without accents);
    ``ValueError`` otherwise."""
    try:
        return str(pycountry.countries.lookup(text.strip()).alpha_2)
    except LookupError:
        code = _country_names(current_language()).get(word_key(text))
        if code is not None:
            return code
        raise ValueError(
            _(
                "%(value)s is not a country: write its ISO code (KH) or its name, in English or "
                "in the import's language (Cambodia)",
                value=repr(text.strip()),
            )
        ) from None


@dataclass(frozen=True)
class Column:
    """One column of the cases CSV, as the Data page lists it and the import checks it."""

    name: str
    description: Any  # a lazy translation: worded in the reader's language when shown
    allowed: Any
    example: str = ""
    required: bool = False
    vocabulary: type[StrEnum] | None = None
    # Values a cell holds word for word in every language (shown as code after ``allowed``).
    literals: tuple[str, ...] = ()
    # The same values as the screens word them in the reader's language, also read.
    screen_words: Callable[[], list[str]] | None = None


@functools.cache
def _country_names(language: str) -> dict[str, str]:
    """Each country's name in ``language`` (Babel's locale data), folded as :func:`word_key`,
    and its ISO code."""
    territories = Locale.parse(language).territories
    return {
        word_key(name): code
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code)
    }


_DATE = _l("YYYY, YYYY-MM or YYYY-MM-DD")
_COUNTRY = _l("ISO code (KH) or name, in English or in the import's language (Cambodia)")
_TEXT = _l("text")

# Every column, in the template's order; charge columns once, for charge 1 (then 2, 3, …).
COLUMNS = (
    Column(
        "external_id",
        _l(
            "Your own id for the case; rows are matched on it (needed with a status; a row "
            "without one records a member, no case)"
        ),
        _l("text, unique in the file"),
        "KH-0001",
    ),
    Column("name", _l("The person's name in Latin script"), _TEXT, "Kem Sokha", required=True),
    Column("name_native", _l("The name in the original script"), _TEXT, "កឹម សុខា"),
    Column("aliases", _l("Other names"), _l("names separated by ';'"), ""),
    Column("gender", _l("The person's gender"), _l("female, male or other (F, M also)"), "male"),
    Column("birth_date", _l("The person's birth date"), _DATE, "1953-06-27"),
    Column("nationality", _l("The person's nationality"), _COUNTRY, "KH"),
    Column(
        "identifiers",
        _l(
            "The person's identifiers in other registers (a scheme a row gives replaces that "
            "scheme's identifier; others are kept)"
        ),
        _l("scheme:identifier, several separated by ';'"),
        "wikidata:Q3194965",
    ),
    Column(
        "organization",
        _l("An organization already in the register"),
        _l("its short name, name or register id"),
        "CNRP",
    ),
    Column(
        "organization_identifiers",
        _l(
            "The organization's identifiers in other registers: the organization holding one is "
            "the row's (before the organization column's name); one it lacks is added to it"
        ),
        _l("scheme:identifier, several separated by ';'"),
        "wikidata:Q1285528",
    ),
    Column(
        "role", _l("The person's role there (needs organization)"), _TEXT, "acting party leader"
    ),
    Column("membership_start", _l("Member since (needs organization)"), _DATE, "2013"),
    Column("membership_end", _l("Member until (needs organization)"), _DATE, ""),
    Column(
        "area", _l("The constituency or area represented (needs organization)"), _TEXT, "Phnom Penh"
    ),
    Column(
        "country",
        _l(
            "The persecuting country (needed with a status; a row without one records a "
            "member, no case)"
        ),
        _COUNTRY,
        "KH",
    ),
    Column(
        "title", _l("The case's title (the name if empty)"), _TEXT, "Kem Sokha: jailed on treason"
    ),
    Column(
        "confidentiality",
        _l("Who may see the case (public if empty; up to your clearance)"),
        lazy_allowed_values(Confidentiality),
        "public",
        vocabulary=Confidentiality,
    ),
    Column(
        "status",
        _l("Current custody status (empty: the row records a person or member, no case)"),
        lazy_allowed_values(CustodyStatus),
        "jailed",
        vocabulary=CustodyStatus,
    ),
    Column("status_date", _l("Since when (needed with a status)"), _DATE, "2017-09"),
    Column("status_location", _l("Where"), _TEXT, ""),
    Column(
        "status_certainty",
        _l("How sure the status is (confirmed if empty)"),
        lazy_allowed_values(Certainty),
        "confirmed",
        vocabulary=Certainty,
    ),
    Column("status_description", _l("What happened"), _l("text (may hold line breaks)"), ""),
    Column("status_source", _l("A source's title"), _TEXT, "CNRP MPs flee ‘dictator’"),
    Column(
        "status_source_url", _l("The source's address (needs status_source)"), _l("http(s) URL"), ""
    ),
    Column("charge_1_offence", _l("The offence (needed for any charge column)"), _TEXT, "Treason"),
    Column("charge_1_legal_basis", _l("The law"), _TEXT, "Criminal Code, art. 443"),
    Column(
        "charge_1_max_sentence",
        _l("The maximum sentence"),
        _l("in English, as in these examples:"),
        "30 years",
        literals=(
            "30 years",
            "18 months",
            "5 years 6 months",
            "life",
            "death",
            "fine only",
            "unknown",
        ),
        screen_words=screen_sentences,
    ),
    Column(
        "charge_1_stage",
        _l("The legal stage"),
        lazy_allowed_values(LegalStage),
        "charged",
        vocabulary=LegalStage,
    ),
)
COLUMN_BY_NAME = {column.name: column for column in COLUMNS}


def column_rule(name: str) -> Column | None:
    """The description of a column (``charge_3_stage`` is described as ``charge_1_stage``)."""
    match = CHARGE_COLUMN.match(name)
    return COLUMN_BY_NAME.get(f"charge_1_{match[2]}" if match else name)
