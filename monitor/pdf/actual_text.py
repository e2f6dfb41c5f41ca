"""Replacement text (``/ActualText``) for Khmer, Burmese and other mark-heavy text in dossiers.

Why: a dossier's bold Khmer heading "កឹម សុខា" copied and searched as "កឹ ម សុខា". Not a
synthesised bold (the real Noto Sans Khmer Bold face is embedded) and not letter-spacing (none is
set): Noto Sans Khmer Bold places most above- and below-base signs about 0.046 em left of the pen
(the Regular face: under 0.03 em). WeasyPrint draws such a zero-width mark at that offset and moves
the pen back after it, so an extractor sees a 0.046 em gap between the mark and the next letter,
and Poppler (``pdftotext``, Evince) breaks words at gaps above 0.03 em of the font size. Measured
after ក: 25 of Khmer's 30 signs break in Bold, none in Regular; Burmese breaks in both weights.

The PDF's own answer (ISO 32000, 14.9.4) is replacement text: a marked-content span with
``/ActualText`` says what its glyphs spell, and readers that honour it copy and search that
instead of guessing words from positions. WeasyPrint (70) wraps every text run in a marked-content
span for tagging but offers no way to add properties, so :func:`install` wraps its
``Stream.marked`` to open a ``/Span`` with ``/ActualText`` around the runs that need it: text with
combining marks (Unicode Mn / Mc) written left to right. Right-to-left runs are left as they are:
extractors reorder those, and would reverse replacement text laid out as one run.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pydyf  # type: ignore[import-untyped]  # WeasyPrint's PDF writer ships no type hints
from weasyprint.formatting_structure.boxes import TextBox
from weasyprint.pdf.stream import Stream

log = logging.getLogger(__name__)

_MARKS = frozenset({"Mn", "Mc"})
_RIGHT_TO_LEFT = frozenset({"R", "AL"})
_INSTALLED = "_case_monitor_actual_text"


def needs_actual_text(text: str) -> bool:
    """Whether extractors may misread ``text``: combining marks, and no right-to-left letters."""
    has_mark = False
    for char in text:
        if unicodedata.bidirectional(char) in _RIGHT_TO_LEFT:
            return False
        has_mark = has_mark or unicodedata.category(char) in _MARKS
    return has_mark


def _wrap(marked: Callable[..., AbstractContextManager[None]]) -> Callable[..., Any]:
    @contextmanager
    def with_actual_text(self: Stream, box: Any, tag: str) -> Iterator[None]:
        text = box.text if isinstance(box, TextBox) else None
        if not text or not needs_actual_text(text):
            with marked(self, box, tag):
                yield
            return
        # A span of its own around WeasyPrint's tagged one, so the MCID it numbers is untouched.
        self.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(text)}))
        try:
            with marked(self, box, tag):
                yield
        finally:
            self.end_marked_content()

    setattr(with_actual_text, _INSTALLED, True)
    return with_actual_text


def install() -> None:
    """Wrap WeasyPrint's marked-content spans once per process (idempotent)."""
    marked = getattr(Stream, "marked", None)
    if marked is None:  # a WeasyPrint that no longer has it: render without, and say so
        log.warning("WeasyPrint has no Stream.marked: Khmer text will extract with stray spaces")
        return
    if getattr(marked, _INSTALLED, False):
        return
    Stream.marked = _wrap(marked)
