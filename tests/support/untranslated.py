"""English left on a translated page: the words a reader of Khmer, Arabic or French would meet
in the page's own chrome (headings, labels, buttons, table headers, hidden text for screen
readers, ``title``, ``aria-label`` and ``data-label`` attributes) after the data typed into the
register (names, party names, roles) is set aside.

Khmer and Arabic pages are not written in Latin letters, so any run of three Latin letters
left is English, but for a few tokens every language writes the same way (``CSV``, ``PDF``,
``Wikidata``…). A French page is all Latin letters: there, a word left is one the same page
also says in English (pass its English rendering), again but for the tokens allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape
from html.parser import HTMLParser

# Written the same in every language the register speaks.
ALLOWED = frozenset(
    {"CSV", "API", "ID", "Wikidata", "Popolo", "PDF", "CNRP", "ISO", "UTC", "URL", "JSON"}
)
# Attributes a reader meets: read aloud, shown on hover, or shown as a card's labels on a phone.
READ_ATTRIBUTES = ("title", "aria-label", "data-label", "placeholder", "alt")
# Never read: code and styles.
_HIDDEN = frozenset({"script", "style", "template"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_LATIN_RUN = re.compile(r"[A-Za-z\u00c0-\u024f]{3,}")


class _Reader(HTMLParser):
    """The text of a page as read in its own language: text nodes and read attributes, outside
    scripts and outside elements marked as another language (the language menu names each
    language in itself; a Khmer name is marked ``lang="km"``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_language: str | None = None
        self.parts: list[str] = []
        # One entry per open element: whether its text is skipped.
        self._skipping: list[bool] = []

    def _skipped(self) -> bool:
        return bool(self._skipping) and self._skipping[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.page_language = values.get("lang")
            return
        language = values.get("lang")
        other_language = bool(language) and language != self.page_language
        skip = self._skipped() or tag in _HIDDEN or other_language
        if not skip:
            self.parts.extend(str(values[a]) for a in READ_ATTRIBUTES if values.get(a))
        if tag not in _VOID:
            self._skipping.append(skip)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skipped():
            values = dict(attrs)
            self.parts.extend(str(values[a]) for a in READ_ATTRIBUTES if values.get(a))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._skipping:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped():
            self.parts.append(data)


def read_text(page: str) -> str:
    """What a reader of ``page`` reads in its language, one space between the pieces."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    return " ".join(" ".join(reader.parts).split())


def latin_words(page: str, data: Iterable[str] = (), allowed: Iterable[str] = ()) -> list[str]:
    """Runs of three or more Latin letters in what ``page`` reads, once the ``data`` values
    (longest first), email addresses and URLs are taken out and the ``allowed`` tokens (with
    :data:`ALLOWED`, case aside) skipped."""
    said = read_text(page)
    for value in sorted({unescape(d) for d in data if d}, key=len, reverse=True):
        said = said.replace(value, " ")
    said = _URL.sub(" ", _EMAIL.sub(" ", said))
    kept = {word.casefold() for word in ALLOWED | set(allowed)}
    return [word for word in _LATIN_RUN.findall(said) if word.casefold() not in kept]


def untranslated(
    page: str,
    *,
    data: Iterable[str] = (),
    allowed: Iterable[str] = (),
    english: str | None = None,
) -> list[str]:
    """The English words left on ``page``: every Latin word (Khmer, Arabic) or, given the same
    page rendered in ``english``, every word both say (French), case aside; data and allowed
    tokens aside in both."""
    data = list(data)
    allowed = list(allowed)
    words = latin_words(page, data, allowed)
    if english is None:
        return words
    in_english = {w.casefold() for w in latin_words(english, data, allowed)}
    return [word for word in words if word.casefold() in in_english]
