"""The language of a name written in its original script: ``km`` for Khmer, ``ar`` and right to
left for Arabic. Pages, emails and anything else that shows a native-script name mark it with
its own ``lang`` (and ``dir``) so screen readers and fonts treat it right."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

from markupsafe import Markup

# Scripts by Unicode block (ISO 15924 codes), for the language of a name in its original script.
SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x1C80, 0x1C8F, "Cyrl"),
    (0xA640, 0xA69F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0870, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"),
    (0xA9E0, 0xA9FF, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1C90, 0x1CBF, "Geor"),
    (0x2D00, 0x2D2F, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x3130, 0x318F, "Hang"),
    (0xAC00, 0xD7AF, "Hang"),
    (0x1200, 0x139F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"),
    (0x19E0, 0x19FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"),
    (0x3040, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0x20000, 0x2FFFF, "Hani"),
)
# The language a script is written in when it serves one language (or mostly one) ...
SCRIPT_LANGUAGES = {
    "Khmr": "km",
    "Mymr": "my",
    "Thai": "th",
    "Laoo": "lo",
    "Tibt": "bo",
    "Geor": "ka",
    "Armn": "hy",
    "Hebr": "he",
    "Grek": "el",
    "Hang": "ko",
    "Hira": "ja",
    "Kana": "ja",
    "Hani": "zh",
    "Ethi": "am",
    "Sinh": "si",
    "Beng": "bn",
    "Taml": "ta",
    "Deva": "hi",
    "Arab": "ar",
    "Mong": "mn",
}
# ... and where the person's country says better (Persian in Iran, Belarusian in Belarus).
COUNTRY_LANGUAGES = {
    ("Arab", "IR"): "fa",
    ("Arab", "AF"): "fa",
    ("Arab", "PK"): "ur",
    ("Deva", "NP"): "ne",
    ("Ethi", "ER"): "ti",
    ("Hani", "JP"): "ja",
    ("Cyrl", "RU"): "ru",
    ("Cyrl", "BY"): "be",
    ("Cyrl", "UA"): "uk",
    ("Cyrl", "BG"): "bg",
    ("Cyrl", "RS"): "sr",
    ("Cyrl", "MK"): "mk",
    ("Cyrl", "KZ"): "kk",
    ("Cyrl", "KG"): "ky",
    ("Cyrl", "TJ"): "tg",
    ("Cyrl", "MN"): "mn",
    ("Latn", "VN"): "vi",
    ("Latn", "TR"): "tr",
    ("Latn", "AZ"): "az",
    ("Latn", "UZ"): "uz",
}
RTL_SCRIPTS = frozenset({"Arab", "Hebr"})


@dataclass(frozen=True)
class TextLanguage:
    """The BCP 47 language tag of a piece of text, and whether it runs right to left."""

    tag: str
    rtl: bool


def script_of(text: str) -> str | None:
    """The script most of ``text``'s letters are written in (ISO 15924), None without letters."""
    counts: Counter[str] = Counter()
    for char in text:
        if not char.isalpha():
            continue  # spaces, digits, punctuation and combining marks say nothing
        point = ord(char)
        for start, end, script in SCRIPT_RANGES:
            if start <= point <= end:
                counts[script] += 1
                break
    if not counts:
        return None
    if counts["Hira"] or counts["Kana"]:
        return "Hira"  # Japanese mixes kana with kanji: any kana says Japanese
    if counts["Hang"]:
        return "Hang"  # Korean may mix in hanja
    return counts.most_common(1)[0][0]


@functools.lru_cache(maxsize=4096)  # a list page asks once per row; names repeat across pages
def language_of(text: str | None, country: str | None = None) -> TextLanguage | None:
    """The language of a name in its original script, from its letters (Unicode blocks) and,
    where one script serves several languages, the person's country: ``km`` for Khmer,
    ``ar`` + right to left for Arabic, ``und-Cyrl`` for Cyrillic of an unknown country.
    None for Latin script without a country that says which language (the page's own)."""
    script = script_of(text or "")
    if script is None:
        return None
    tag = COUNTRY_LANGUAGES.get((script, (country or "").upper())) or SCRIPT_LANGUAGES.get(script)
    if tag is None:
        if script == "Latn":
            return None
        tag = f"und-{script}"
    return TextLanguage(tag, script in RTL_SCRIPTS)


def lang_of(text: str | None, country: str | None = None) -> str:
    """The language tag of ``text`` (see :func:`language_of`), empty when it is the page's."""
    found = language_of(text, country)
    return found.tag if found else ""


def lang_attrs(text: str | None, country: str | None = None) -> Markup:
    """`` lang="km"`` (and `` dir="rtl"`` for Arabic or Hebrew) for an element holding ``text``."""
    found = language_of(text, country)
    if found is None:
        return Markup("")
    if found.rtl:
        return Markup(' lang="{}" dir="rtl"').format(found.tag)
    return Markup(' lang="{}"').format(found.tag)
