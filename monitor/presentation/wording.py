"""How the register's values read: custody statuses, partial dates, sentences, countries, times.

Pages, PDFs and emails all word a value through here, so an approximate date reads the same
(``c. May 2017``) wherever a reader meets it. Each function returns ``None`` for a missing value:
how to say "unknown" (an em dash, "an unknown date") is left to the page or document.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import pycountry
from babel import Locale
from babel.lists import format_list
from markupsafe import escape

from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    DatePrecision,
    LegalStage,
    OrganizationKind,
    PartialDate,
    Role,
    Sentence,
    SentenceKind,
)
from monitor.presentation.translation import (
    SOURCE_LANGUAGE,
    bdi,
    current_language,
    format_date,
    format_month,
    format_number,
    gettext,
    lazy_gettext,
    ngettext,
)

# What each custody status is called, in the language in force when shown (the domain's own
# ``CustodyStatus.label`` stays English: titles and imports are matched against it).
STATUS_LABELS = {
    CustodyStatus.AT_LIBERTY: lazy_gettext("at liberty"),
    CustodyStatus.JAILED: lazy_gettext("jailed"),
    CustodyStatus.HOUSE_ARREST: lazy_gettext("house arrest"),
    CustodyStatus.FLED: lazy_gettext("fled"),
    CustodyStatus.DISAPPEARED: lazy_gettext("disappeared"),
    CustodyStatus.DECEASED: lazy_gettext("deceased"),
}
# A user's role and clearance (and a case's confidentiality), as the header and lists name them.
ROLE_LABELS = {
    Role.ADMIN: lazy_gettext("admin"),
    Role.EDITOR: lazy_gettext("editor"),
    Role.VIEWER: lazy_gettext("viewer"),
}
LEVEL_LABELS = {
    Confidentiality.PUBLIC: lazy_gettext("public"),
    Confidentiality.RESTRICTED: lazy_gettext("restricted"),
    Confidentiality.CONFIDENTIAL: lazy_gettext("confidential"),
}

# Most serious first: summaries and charts read "1 jailed · 1 fled · 1 at liberty".
STATUS_ORDER = [
    CustodyStatus.JAILED,
    CustodyStatus.HOUSE_ARREST,
    CustodyStatus.DISAPPEARED,
    CustodyStatus.FLED,
    CustodyStatus.DECEASED,
    CustodyStatus.AT_LIBERTY,
]

# Bar colours in SVG charts and the PDF's counts; the badge colours in app.css match them.
STATUS_COLOURS = {
    # Told apart with normal sight and under deuteranopia, protanopia and tritanopia (CIEDE2000
    # ≥ 18 for every pair), each with white text at 4.5:1 or more: tests/e2e/test_axe_colours.py.
    CustodyStatus.JAILED: "#6b0804",
    CustodyStatus.HOUSE_ARREST: "#a06714",
    CustodyStatus.DISAPPEARED: "#560c71",
    CustodyStatus.FLED: "#0b64f1",
    CustodyStatus.DECEASED: "#151a1f",
    CustodyStatus.AT_LIBERTY: "#05604e",
}

# Where a charge stands, and how sure an event is, as pages and forms name them.
STAGE_LABELS = {
    LegalStage.ALLEGED: lazy_gettext("alleged"),
    LegalStage.CHARGED: lazy_gettext("charged"),
    LegalStage.ON_TRIAL: lazy_gettext("on trial"),
    LegalStage.CONVICTED: lazy_gettext("convicted"),
    LegalStage.ACQUITTED: lazy_gettext("acquitted"),
    LegalStage.DROPPED: lazy_gettext("dropped"),
    LegalStage.PARDONED: lazy_gettext("pardoned"),
}
CERTAINTY_LABELS = {
    Certainty.CONFIRMED: lazy_gettext("confirmed"),
    Certainty.REPORTED: lazy_gettext("reported"),
    Certainty.UNVERIFIED: lazy_gettext("unverified"),
}

# What a sentence kind is called where one is chosen (a term's length is asked for apart);
# the kinds without a length read the same in a sentence ("maximum life imprisonment").
SENTENCE_KIND_LABELS = {
    SentenceKind.TERM: lazy_gettext("a term of imprisonment"),
    SentenceKind.LIFE: lazy_gettext("life imprisonment"),
    SentenceKind.DEATH: lazy_gettext("death"),
    SentenceKind.FINE_ONLY: lazy_gettext("fine only"),
    SentenceKind.UNKNOWN: lazy_gettext("unknown"),
}

# The one wording of an approximate date ("circa"): short enough for a table cell.
APPROXIMATELY = "c."


def partial_date_text(value: PartialDate) -> str:
    """A partial date at its precision in the language in force: ``3 September 2017`` in the
    register's own English, ``3 septembre 2017``, ``កញ្ញា 2017`` through Babel's locale data."""
    language = current_language()
    if language == SOURCE_LANGUAGE:
        return value.human()
    if value.precision is DatePrecision.YEAR:
        return str(value.start.year)
    if value.precision is DatePrecision.MONTH:
        return format_month(value.start, language)
    return format_date(value.start, "long", language)


def date_text(value: PartialDate | None, about: bool = False) -> str | None:
    """``c. September 2017`` for an approximate month, ``3 September 2017`` for a day."""
    if value is None:
        return None
    shown = partial_date_text(value)
    return gettext("c. %(date)s", date=shown) if about else shown


def day_text(value: dt.date) -> str:
    """A day, as :func:`partial_date_text` words it: ``4 December 2026``, ``4 décembre 2026``."""
    return partial_date_text(PartialDate(value, DatePrecision.DAY))


def sentence_text(value: Sentence | None) -> str | None:
    """``30 years``, ``1 year 6 months``, ``life imprisonment`` in the language in force."""
    if value is None:
        return None
    if value.kind is not SentenceKind.TERM:
        return str(SENTENCE_KIND_LABELS[value.kind])
    years, months = divmod(value.months or 0, 12)
    in_years = ngettext("%(count)s year", "%(count)s years", years, count=format_number(years))
    in_months = ngettext("%(count)s month", "%(count)s months", months, count=format_number(months))
    if years and months:
        return gettext("%(years)s %(months)s", years=in_years, months=in_months)
    return in_years if years else in_months


def certainty_label(value: str) -> str:
    """``reported`` (in the language in force); a value outside the vocabulary as it is."""
    try:
        return str(CERTAINTY_LABELS[Certainty(value)])
    except ValueError:
        return value


def stage_label(value: LegalStage) -> str:
    """``on trial`` for ``on_trial``, in the language in force."""
    return str(STAGE_LABELS[value])


def and_list(items: list[str]) -> str:
    """``A and B``, ``A et B``, ``A និង B``: the language's own list."""
    return format_list(items, style="standard", locale=current_language())


def comma_list(items: list[str]) -> str:
    """``A, B, C`` (``A، B`` in Arabic): a plain enumeration, without "and"."""
    if not items:
        return ""
    shown = items[0]
    for item in items[1:]:
        shown = gettext("%(first)s, %(next)s", first=shown, next=item)
    return shown


def status_label(value: str | None) -> str | None:
    """``at liberty`` for ``at_liberty`` (in the language in force); a value outside the
    vocabulary as it is."""
    if not value:
        return None
    try:
        return str(STATUS_LABELS[CustodyStatus(value)])
    except ValueError:
        return value


# Every vocabulary value a page may show through ``vocabulary_label``, by its stored value.
VOCABULARY_LABELS = {
    str(value): label
    for labels in (STATUS_LABELS, STAGE_LABELS, CERTAINTY_LABELS, LEVEL_LABELS)
    for value, label in labels.items()
}


# A date's precision and an organization's kind, as dossiers name them.
PRECISION_LABELS = {
    DatePrecision.DAY: lazy_gettext("day precision"),
    DatePrecision.MONTH: lazy_gettext("month precision"),
    DatePrecision.YEAR: lazy_gettext("year precision"),
}
ORGANIZATION_KIND_LABELS = {
    OrganizationKind.POLITICAL_PARTY: lazy_gettext("political party"),
    OrganizationKind.NGO: lazy_gettext("NGO"),
    OrganizationKind.MEDIA: lazy_gettext("media"),
    OrganizationKind.UNION: lazy_gettext("union"),
    OrganizationKind.LEGISLATURE: lazy_gettext("legislature"),
    OrganizationKind.OTHER: lazy_gettext("other"),
}


def vocabulary_text(labels: Mapping[Any, Any], value: str | None) -> str | None:
    """A value's label from ``labels`` in the language in force (``on trial``, ``en procès``);
    a value outside them with its underscores as spaces; None for none."""
    if not value:
        return None
    for key, label in labels.items():
        if key == value:
            return str(label)
    return value.replace("_", " ")


def vocabulary_label(value: str | None) -> str:
    """A vocabulary value in the language in force (``on_trial`` → ``on trial``, ``en
    procès``); any other value with underscores turned to spaces."""
    label = VOCABULARY_LABELS.get(value or "")
    return str(label) if label is not None else (value or "").replace("_", " ")


def country_name(code: str | None) -> str:
    """``Cambodia`` for ``KH`` (``កម្ពុជា`` in Khmer, from CLDR); the code itself when unknown,
    empty for none."""
    if not code:
        return ""
    return _country_name(code, current_language())


@functools.lru_cache(maxsize=1024)
def _country_name(code: str, language: str) -> str:
    # Remembered: ISO 3166 names do not change while the process runs, and lists show one a row.
    if language != SOURCE_LANGUAGE:
        named = Locale.parse(language).territories.get(code.upper())
        if named:
            return str(named)
    country = pycountry.countries.get(alpha_2=code.upper())
    return str(country.name) if country else code


def utc_text(moment: dt.datetime) -> str:
    """A recorded-at moment in UTC, to the minute: ``2017-10-03 14:05 UTC``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# What a headline says about someone ("Mao Monyvann jailed"): a whole clause per status, the
# person a placeholder, so each language puts the name where its word order wants it.
STATUS_BECAME = {
    CustodyStatus.AT_LIBERTY: lazy_gettext("%(person)s at liberty"),
    CustodyStatus.JAILED: lazy_gettext("%(person)s jailed"),
    CustodyStatus.HOUSE_ARREST: lazy_gettext("%(person)s put under house arrest"),
    CustodyStatus.FLED: lazy_gettext("%(person)s fled"),
    CustodyStatus.DISAPPEARED: lazy_gettext("%(person)s disappeared"),
    CustodyStatus.DECEASED: lazy_gettext("%(person)s died"),
}
# What they were before ("— was at liberty").
STATUS_WAS = {
    CustodyStatus.AT_LIBERTY: lazy_gettext("was at liberty"),
    CustodyStatus.JAILED: lazy_gettext("was jailed"),
    CustodyStatus.HOUSE_ARREST: lazy_gettext("was under house arrest"),
    CustodyStatus.FLED: lazy_gettext("had fled"),
    CustodyStatus.DISAPPEARED: lazy_gettext("had disappeared"),
    CustodyStatus.DECEASED: lazy_gettext("was recorded as deceased"),
}
_RELEASED = lazy_gettext("%(person)s released")
_CONFINED = frozenset({CustodyStatus.JAILED, CustodyStatus.HOUSE_ARREST})


def _fill(template: object, html: bool, **values: str) -> str:
    """A translated ``template`` with ``values`` put in: as text, or (``html``) as markup
    with the template escaped and each value isolated in ``<bdi>`` (names keep their own
    direction inside Arabic text)."""
    if html:
        return escape(str(template)) % {k: bdi(v) for k, v in values.items()}
    return str(template) % values


def change_headline(person: str, status: str, previous: str | None, html: bool = False) -> str:
    """``Mao Monyvann jailed — was at liberty``; ``Kem Sokha jailed (new case)`` for a case's
    first status; ``Kem Sokha released — was jailed`` when someone confined is set free.

    Worded in the language in force from whole translated clauses; ``html`` gives markup with
    the name in ``<bdi>``."""
    now = CustodyStatus(status)
    if previous is None:
        became = _fill(STATUS_BECAME[now], html, person=person)
        return _joined(gettext("%(change)s (new case)"), html, change=became)
    before = CustodyStatus(previous)
    released = now is CustodyStatus.AT_LIBERTY and before in _CONFINED
    became = _fill(_RELEASED if released else STATUS_BECAME[now], html, person=person)
    return _joined(
        gettext("%(change)s — %(before)s"), html, change=became, before=str(STATUS_WAS[before])
    )


def _joined(template: str, html: bool, **parts: str) -> str:
    """``template`` with translated ``parts`` put in, escaped for HTML where they are not
    markup already (a part made by :func:`_fill` keeps its ``<bdi>``)."""
    if html:
        return escape(template) % {k: escape(v) for k, v in parts.items()}
    return template % parts


def _role_phrase(role: str) -> str:
    return "a member" if role.strip().casefold() == "member" else role.strip()


def relevance_text(
    reason: str,
    person: str,
    roles: tuple[tuple[str, str], ...],
    followed_organization: str | None = None,
    html: bool = False,
) -> str:
    """Why a change matters to this reader, naming the organization and role that tie them:
    ``You follow members of CNRP; Mao Monyvann is its Member of Parliament.``

    ``reason`` is ``you follow …`` (in the language in force); ``roles`` are (organization,
    role) pairs of the person's current memberships; ``followed_organization`` is the
    organization the reader follows. ``html`` gives markup, names in ``<bdi>``.
    """
    said = reason[:1].upper() + reason[1:]
    ties: list[str] = []
    if followed_organization is not None:
        for org, role in roles:
            if org != followed_organization:
                continue
            if _role_phrase(role) == "a member":
                ties.append(_joined(gettext("one of its members"), html))
            else:
                ties.append(_fill(gettext("its %(role)s"), html, role=role.strip()))
    else:
        for org, role in roles[:2]:
            if _role_phrase(role) == "a member":
                ties.append(_fill(gettext("a member of %(organization)s"), html, organization=org))
            else:
                ties.append(
                    _fill(
                        gettext("%(organization)s's %(role)s"),
                        html,
                        organization=org,
                        role=role.strip(),
                    )
                )
    if not ties:
        return _joined(gettext("%(reason)s."), html, reason=said)
    if html:
        # Each tie is markup already: the list's own words are escaped, the ties put in.
        slots = {f"tie{i}": tie for i, tie in enumerate(ties)}
        joined: str = escape(and_list([f"%({slot})s" for slot in slots])) % slots
    else:
        joined = and_list(ties)
    return _joined(
        gettext("%(reason)s; %(person)s is %(ties)s."),
        html,
        reason=said,
        person=bdi(person) if html else person,
        ties=joined,
    )
