"""The register's languages: catalogs, the language in force, and dates and numbers in its words.

Pages, emails and PDFs all translate through here, so a status reads the same in each. The
language in force is the request's (the web layer says where to read it, with
:func:`set_language_source`) or, in a worker that renders an email or a dossier for a subscriber
or a requester, the one set with :func:`using_language`. Nothing here knows Flask.

Catalogs live in ``monitor/translations/<code>/LC_MESSAGES/messages.po`` (English is the source
language and has none); ``make`` compiles them to ``.mo``. A catalog whose header comment says
``machine-drafted`` still awaits review by a native speaker, and the language menu says so.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations
from markupsafe import Markup

from monitor.config import TRANSLATIONS_DIR

log = logging.getLogger(__name__)

# The language the strings are written in: it needs no catalog.
SOURCE_LANGUAGE = "en"
# In a catalog's header comment, this word says its translations await a native speaker's review.
REVIEW_MARK = "machine-drafted"
DOMAIN = "messages"

_forced: ContextVar[str | None] = ContextVar("monitor_language", default=None)
_source: list[Callable[[], str | None]] = []


def catalog_path(language: str, suffix: str = "po") -> str:
    """Where a language's catalog lives (``.po``, the source; ``.mo``, compiled)."""
    return str(TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.{suffix}")


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language``; the source strings for English or no catalog.

    A missing or stale ``.mo`` (a checkout where ``make`` has not run) is compiled in memory
    from the ``.po``, so a page is never silently English because a build step was skipped.
    """
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if not po.is_file():
        return NullTranslations()
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as file:
            return Translations(file, domain=DOMAIN)
    log.warning("%s is missing or older than its .po: compiling it in memory (run make)", mo)
    with po.open("rb") as file:
        catalog = read_po(file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@functools.cache
def needs_review(language: str) -> bool:
    """Whether the catalog's header comment still marks it machine-drafted, awaiting review."""
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == SOURCE_LANGUAGE or not po.is_file():
        return False
    with po.open(encoding="utf-8") as file:
        for line in file:
            if not line.startswith("#"):
                break  # the header comment ends where the header entry begins
            if REVIEW_MARK in line:
                return True
    return False


@dataclass(frozen=True)
class Language:
    """A language the register speaks, named in itself (``Français``, ``ខ្មែរ``)."""

    code: str
    name: str
    rtl: bool
    needs_review: bool


@functools.cache
def language(code: str) -> Language:
    """What the language menu and the ``<html>`` element need to know of ``code``."""
    locale = Locale.parse(code)
    name = locale.get_display_name(code) or code
    return Language(
        code=code,
        name=name[:1].upper() + name[1:],
        rtl=locale.character_order == "right-to-left",
        needs_review=needs_review(code),
    )


def is_rtl(code: str) -> bool:
    """Whether ``code`` is written right to left (Arabic)."""
    return language(code).rtl


def set_language_source(source: Callable[[], str | None]) -> None:
    """Where the language in force comes from outside :func:`using_language`: the web layer
    gives the request's; it answers None outside a request."""
    _source[:] = [source]


def current_language() -> str:
    """The language in force: the one set by :func:`using_language`, else the request's."""
    forced = _forced.get()
    if forced:
        return forced
    if _source:
        found = _source[0]()
        if found:
            return found
    return SOURCE_LANGUAGE


@contextmanager
def using_language(code: str) -> Iterator[None]:
    """Word everything in ``code`` inside the block (a worker rendering for a subscriber)."""
    token = _forced.set(code)
    try:
        yield
    finally:
        _forced.reset(token)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here (it is translated where it
    is shown, e.g. by Flask-Login's ``localize_callback``)."""
    return message


def gettext(message: str, **variables: object) -> str:
    """``message`` in the language in force, ``%(name)s`` placeholders filled from ``variables``."""
    text = translations(current_language()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The singular or plural form for ``num`` (``%(num)s`` is filled in too)."""
    text = translations(current_language()).ungettext(singular, plural, num)
    return text % {"num": num, **variables}


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """``message``, translated each time it is shown, in the language in force then: for labels
    defined once at import (status names, form labels)."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def format_date(value: dt.date, fmt: str = "long", language: str | None = None) -> str:
    """A date as the language writes it: ``3 septembre 2017``, ``3 កញ្ញា 2017``."""
    return dates.format_date(value, fmt, locale=language or current_language())


def format_month(value: dt.date, language: str | None = None) -> str:
    """A month and year: ``September 2017``, ``septembre 2017``."""
    code = language or current_language()
    return dates.format_skeleton("yMMMM", value, locale=code)


def format_datetime(value: dt.datetime, fmt: str = "medium", language: str | None = None) -> str:
    """A moment, in UTC, as the language writes it."""
    return dates.format_datetime(value, fmt, tzinfo=dt.UTC, locale=language or current_language())


def format_number(value: float, language: str | None = None) -> str:
    """``12,345`` in English, ``12 345`` in French; digits as the locale writes them."""
    return numbers.format_decimal(value, locale=language or current_language())


def bdi(value: object) -> Markup:
    """``value`` (a name, a number) isolated from the sentence around it, so a Latin name keeps
    its direction inside Arabic text: ``<bdi>Kem Sokha</bdi>``, escaped."""
    return Markup("<bdi>{}</bdi>").format(value)
