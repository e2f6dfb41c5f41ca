"""Comparing names: the keys that make two spellings of one name equal, and trigram similarity.

Trigram similarity is PostgreSQL's ``pg_trgm`` (served by the GIN index on
``people.search_text``); on SQLite the same ``word_similarity(query, text)`` is a Python function
registered on every connection (:func:`word_similarity`), so a query reads alike on both.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# A query word at least this similar (pg_trgm's word similarity, 0 to 1) to a word of the names
# counts as a match: "sokah" is 0.5 from "sokha" (pg_trgm's own default, 0.6, misses it).
WORD_SIMILARITY = 0.5
# Shorter query words match exactly only: three letters are similar to too many names.
MIN_FUZZY_WORD = 4
# Two Latin names at least this alike (difflib's ratio over their keys) may be one person:
# "kem sokah" / "kem sokha" is 0.89, "kem sokun" / "kem sokha" 0.78.
NAME_RATIO = 0.85

_WORD = re.compile(r"[^\W_]+")


def strip_marks(text: str) -> str:
    """The text without combining marks: ``Kém`` → ``Kem``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_key(name: str | None) -> str:
    """A Latin name reduced to what tells two people apart: no case, accents, punctuation or
    spacing, words in order (``SOKHA, Kém`` and ``Kem  Sokha`` have one key)."""
    words = _WORD.findall(strip_marks(unicodedata.normalize("NFKC", name or "").casefold()))
    return " ".join(sorted(words))


def native_key(name: str | None) -> str:
    """A name in its original script, compared without spaces (Khmer is often written without
    them between words) and in one Unicode normal form."""
    return "".join(unicodedata.normalize("NFC", name or "").casefold().split())


def name_ratio(first: str, second: str) -> float:
    """How alike two name keys are, from 0 to 1 (transposed letters count as close)."""
    return SequenceMatcher(None, first, second, autojunk=False).ratio()


def similar_spelling_applies(word: str) -> bool:
    """Whether a search word may match similar spellings: four letters or more, and letters
    only. A word with combining marks (Khmer, Burmese, accented Latin typed decomposed) is
    matched exactly: trigrams split it at every mark, and fragments match unrelated names."""
    return len(word) >= MIN_FUZZY_WORD and word.isalnum()


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (the escape character is a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _trigrams(word: str) -> list[str]:
    padded = f"  {word} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def word_similarity(query: str | None, text: str | None) -> float:
    """pg_trgm's ``word_similarity``: the best trigram similarity between the query and any
    stretch of the text (1.0 when the query is a word, or a word's start, of the text)."""
    wanted = {t for w in _WORD.findall((query or "").lower()) for t in _trigrams(w)}
    if not wanted:
        return 0.0
    ordered = [t for w in _WORD.findall((text or "").lower()) for t in _trigrams(w)]
    best = 0.0
    for start, first in enumerate(ordered):
        if first not in wanted:
            continue
        seen: set[str] = set()
        for trigram in ordered[start:]:
            seen.add(trigram)
            if trigram in wanted:
                shared = len(seen & wanted)
                best = max(best, shared / (len(wanted) + len(seen) - shared))
    return best


@event.listens_for(Engine, "connect")
def _register_sqlite_functions(connection: Any, record: Any) -> None:
    """Give SQLite the ``word_similarity`` function PostgreSQL's pg_trgm has."""
    if isinstance(connection, sqlite3.Connection):
        connection.create_function("word_similarity", 2, word_similarity, deterministic=True)
