"""What a page says in words a reader sees, and the English left in it once the data is gone.

A page read in Khmer or Arabic should hold no run of Latin letters but the data typed into the
register (names, titles, sources, emails) and a few names that stay as they are (CSV, JSON,
Popolo…). A page read in French is all Latin letters: there an English word is one the
catalog's English holds and its French does not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from html.parser import HTMLParser

from babel.messages.pofile import read_po
from sqlalchemy import String, Text, select

from monitor.extensions import db
from monitor.presentation.translation import catalog_path

# Words that stay as they are in every language, each with its reason.
ALLOWED = frozenset(
    word.lower()
    for word in (
        # File formats and standards, named as their users know them.
        "CSV",
        "JSON",
        "PDF",
        "API",
        "URL",
        "HTML",
        "TOTP",
        "ISO",
        "UTC",
        "SHA",  # SHA-256, the checksum a dossier page gives
        # The notation of the dates the fields take (ISO 8601), typed as it is.
        "YYYY",
        # The schemes of the web addresses a field takes, typed as they are.
        "http",
        "https",
        "Popolo",
        # Sources of identifiers, named by their owners.
        "Wikidata",
        "EveryPolitician",
        # Transport named as admins configure it.
        "SMTP",
        # Authenticator apps and the language the browser runs, named by their makers.
        "Google",
        "Authenticator",
        "Aegis",
        "FreeOTP",
        "Password",  # 1Password
        "JavaScript",
        "Windows",  # how to check a dossier's checksum there
        # The name search's example: a name typed in Latin letters, as a reader would.
        "sokha",
    )
)
# Names shown as they are, taken out like data.
NAMES = ("case monitor",)
# Attributes a reader sees or hears (a tooltip, a screen reader's label, a field's hint).
_VISIBLE_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# Elements whose content no reader sees, and code: literal text a reader types or copies as it
# is (a setting's name, an HTTP header, a secret, an otpauth:// address).
_HIDDEN = frozenset({"script", "style", "template", "noscript", "code"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_LATIN_RUN = re.compile(r"[A-Za-z\u00c0-\u024f]{3,}")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f’']+")


class _Reader(HTMLParser):
    """Collects visible text and visible attribute values, leaving out hidden elements and
    elements marked as written in another language (the language menu names each language in
    itself)."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.chunks: list[str] = []
        # One entry per open element: whether its content is left out.
        self.skipping: list[bool] = []

    def _skipped(self) -> bool:
        return bool(self.skipping) and self.skipping[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        lang = values.get("lang")
        foreign = tag != "html" and lang is not None and lang.split("-")[0] != self.language
        skip = self._skipped() or tag in _HIDDEN or foreign
        if not skip:
            self.chunks.extend(values[name] for name in _VISIBLE_ATTRIBUTES if name in values)
            kind = values.get("type", "").lower()
            if tag == "input" and kind in {"submit", "button", "reset"}:
                self.chunks.append(values.get("value", ""))
        if tag not in _VOID:
            self.skipping.append(skip)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.skipping.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.skipping:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped():
            self.chunks.append(data)


def visible_text(page: str, language: str) -> str:
    """The words of ``page`` a reader of ``language`` sees or hears, one chunk per line."""
    reader = _Reader(language)
    reader.feed(page)
    reader.close()
    return "\n".join(chunk for chunk in reader.chunks if chunk.strip())


def data_values() -> list[str]:
    """Every text stored in the register (names, titles, sources, emails, addresses…), longest
    first, so a page's data can be taken out before its words are read."""
    values: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for value in row:
                if isinstance(value, str) and value.strip() and len(value) < 5000:
                    values.add(value.strip())
    return sorted(values, key=len, reverse=True)


def without(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each value (as a whole word) removed."""
    for value in values:
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    return text


def latin_runs(text: str) -> list[str]:
    """Runs of three or more Latin letters not on the allow-list."""
    return sorted({run for run in _LATIN_RUN.findall(text) if run.lower() not in ALLOWED})


@functools.cache
def english_words(language: str) -> frozenset[str]:
    """Words the English of the catalog holds and its ``language`` translations never use: in a
    page read in that language (French, written in Latin letters too), such a word is English."""
    with open(catalog_path(language), encoding="utf-8") as file:
        catalog = read_po(file, locale=language)
    source: set[str] = set()
    translated: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            source.update(w.lower() for w in _WORD.findall(re.sub(r"%\(\w+\)s", " ", text)))
        for text in strings:
            translated.update(w.lower() for w in _WORD.findall(text or ""))
    return frozenset(w for w in source - translated if len(w) >= 3) - ALLOWED


def untranslated(page: str, language: str, values: Iterable[str]) -> list[str]:
    """The words of ``page`` left in English: for a language not written in Latin letters, any
    Latin run that is neither data nor allowed; for French, any word only English uses."""
    text = without(visible_text(page, language), [*values, *NAMES])
    if language == "fr":
        english = english_words(language)
        return sorted({w for w in _WORD.findall(text) if w.lower() in english})
    return latin_runs(text)
