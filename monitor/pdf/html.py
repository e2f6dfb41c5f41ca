"""A dossier's HTML, built from ``templates/pdf/`` with every value escaped.

The environment is our own (not Flask's), so a Celery worker needs no request context, and it
escapes everything: names, summaries, sources and quotes are text a user typed, and in a PDF
markup would not just misdisplay — WeasyPrint would fetch what it names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
from functools import cache
from importlib.metadata import version

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from monitor.config import PROJECT_ROOT
from monitor.domain import Confidentiality
from monitor.pdf.content import DossierContent
from monitor.presentation import utc_text
from monitor.presentation.translation import (
    SOURCE_LANGUAGE,
    bdi,
    format_number,
    gettext,
    language,
    lazy_gettext,
    translations,
    using_language,
)
from monitor.presentation.wording import LEVEL_LABELS

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "pdf"
# Stylesheets (and any image or font a template needs) live here and nowhere else; the fetcher
# serves files from this folder only.
ASSET_DIR = TEMPLATE_DIR / "assets"
TEMPLATE = "dossier.html"

AUDIENCE_NOTES = {
    Confidentiality.PUBLIC: lazy_gettext("this dossier holds public cases only and may be shared."),
    Confidentiality.RESTRICTED: lazy_gettext(
        "this dossier holds public and restricted cases. Share only with the people it was "
        "prepared for."
    ),
    Confidentiality.CONFIDENTIAL: lazy_gettext(
        "this dossier may hold confidential cases. Do not forward, print for others or leave "
        "unattended."
    ),
}


# The confidentiality band at the top of every page: the level in white on its colour.
BANDS = {
    Confidentiality.PUBLIC: {"label": lazy_gettext("PUBLIC"), "colour": "#067647"},
    Confidentiality.RESTRICTED: {"label": lazy_gettext("RESTRICTED"), "colour": "#b54708"},
    Confidentiality.CONFIDENTIAL: {"label": lazy_gettext("CONFIDENTIAL"), "colour": "#b42318"},
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# CSS page sizes for settings.dossier_page_size.
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}

# Unicode blocks of scripts that name their language well enough for a ``lang`` tag (Pango shapes
# the text for it; a reader learns the language). Scripts shared by many languages (Latin,
# Cyrillic, Han) stay ``und`` rather than guessed.
SCRIPT_LANGS = (
    (0x1780, 0x17FF, "km"),  # Khmer
    (0x19E0, 0x19FF, "km"),  # Khmer symbols
    (0x1000, 0x109F, "my"),  # Myanmar
    (0x0600, 0x06FF, "ar"),  # Arabic
    (0x0750, 0x077F, "ar"),  # Arabic supplement
    (0x0590, 0x05FF, "he"),  # Hebrew
    (0x0E00, 0x0E7F, "th"),  # Thai
    (0x0E80, 0x0EFF, "lo"),  # Lao
    (0xAC00, 0xD7AF, "ko"),  # Hangul
    (0x3040, 0x30FF, "ja"),  # Kana
)
RTL_LANGS = frozenset({"ar", "he"})


def css_string(text: object) -> Markup:
    """``text`` as one quoted CSS string for a ``content:`` value inside ``<style>``: every
    character that could end the string, the rule or the element is a CSS escape."""
    escaped = "".join(
        char if char.isalnum() or char in " .,;:·—–()[]/-" else f"\\{ord(char):06x}"
        for char in str(text)
    )
    # Safe: every character but letters, digits and plain punctuation is a CSS escape.
    return Markup(f'"{escaped}"')  # noqa: S704


def css_content(sentence: str, **parts: str) -> Markup:
    """A translated ``sentence`` as a CSS ``content`` value: its words quoted, each
    ``%(name)s`` replaced by the CSS expression ``parts[name]`` (``counter(page)``)."""
    pieces = []
    for index, chunk in enumerate(_PLACEHOLDER.split(sentence)):
        if index % 2:
            pieces.append(parts[chunk])
        elif chunk:
            pieces.append(str(css_string(chunk)))
    # Safe: quoted strings from css_string and the caller's fixed CSS expressions.
    return Markup(" ".join(pieces))  # noqa: S704


def script_lang(text: str | None) -> str:
    """The language tag of the first character in a known script, else ``und``."""
    for char in text or "":
        code = ord(char)
        for first, last, lang in SCRIPT_LANGS:
            if first <= code <= last:
                return lang
    return "und"


@cache
def environment(code: str = SOURCE_LANGUAGE) -> Environment:
    """The Jinja environment for PDF templates in one language (autoescaped, strict about
    missing names, the language's catalog installed)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc_text
    env.filters["script_lang"] = script_lang
    env.filters["bdi"] = bdi
    env.filters["css_string"] = css_string
    env.filters["number"] = functools.partial(format_number, language=code)
    # As babel.cfg extracts them: a {% trans %} block's line breaks and indents are one space.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
    env.globals["page_language"] = language(code)
    return env


@cache
def template_version() -> str:
    """A hash of every file under ``templates/pdf/`` and the WeasyPrint version.

    Part of the reuse key: a changed template or renderer never serves an old PDF.
    """
    digest = hashlib.sha256(f"weasyprint {version('weasyprint')}".encode())
    for path in sorted(TEMPLATE_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(TEMPLATE_DIR)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def content_key(content: DossierContent) -> str:
    """SHA-256 of the data shown and the template: equal keys mean the same document."""
    payload = {"template": template_version(), "content": dataclasses.asdict(content)}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def assemble(
    content: DossierContent, *, snapshot_at: dt.datetime, generated_at: dt.datetime
) -> str:
    """The dossier's complete HTML, ready for :func:`monitor.pdf.render`."""
    audience = Confidentiality(content.audience)
    with using_language(content.language):
        return _render(content, audience, snapshot_at=snapshot_at, generated_at=generated_at)


def _render(
    content: DossierContent,
    audience: Confidentiality,
    *,
    snapshot_at: dt.datetime,
    generated_at: dt.datetime,
) -> str:
    band = BANDS[audience]
    return (
        environment(content.language)
        .get_template(TEMPLATE)
        .render(
            content=content,
            audience=audience,
            audience_label=str(LEVEL_LABELS[audience]),
            audience_note=str(AUDIENCE_NOTES[audience]),
            footer_data_as_of=css_content(gettext("Data as of %(time)s"), time="string(snapshot)"),
            footer_page=css_content(
                gettext("Page %(page)s of %(pages)s"),
                page="counter(page)",
                pages="counter(pages)",
            ),
            snapshot_at=snapshot_at,
            generated_at=generated_at,
            # W3C date-time for the PDF's creation date (WeasyPrint reads dcterms.created).
            created_iso=generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            toc_pages=None if content.is_group else single_case_pages(content),
            band={"label": str(band["label"]), "colour": band["colour"]},
            page={"size": PAGE_SIZES[content.page_size]},
            rtl_langs=RTL_LANGS,
        )
    )


def single_case_pages(content: DossierContent) -> dict[str, int]:
    """Where a one-case dossier's sections start: the case follows the summary on page 1."""
    return {"summary": 1, **{case.anchor: 1 for case in content.cases}}
