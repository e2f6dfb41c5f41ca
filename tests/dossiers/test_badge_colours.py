"""A dossier's status badges wear the colours of the web pages and charts."""

from __future__ import annotations

import re
from pathlib import Path

from monitor.presentation.wording import STATUS_COLOURS

CSS = Path(__file__).resolve().parents[2] / "templates" / "pdf" / "assets" / "dossier.css"


def test_every_status_badge_in_the_pdf_has_the_pages_colour() -> None:
    badges = dict(re.findall(r"\.badge-(\w+) \{ background: (#[0-9a-f]{6}); \}", CSS.read_text()))
    assert badges == {status.value: colour for status, colour in STATUS_COLOURS.items()}
