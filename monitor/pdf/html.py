"""A dossier's HTML, built from ``templates/pdf/`` with every value escaped.

The environment is our own (not Flask's), so a Celery worker needs no request context, and it
escapes everything: names, summaries, sources and quotes are text a user typed, and in a PDF
markup would not just misdisplay — WeasyPrint would fetch what it names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter
from functools import cache
from importlib.metadata import version

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.config import PROJECT_ROOT
from monitor.domain import Confidentiality, StatusCounts
from monitor.pdf.content import DossierContent
from monitor.presentation import BarChart, status_chart, utc_text

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "pdf"
# Stylesheets (and any image or font a template needs) live here and nowhere else; the fetcher
# serves files from this folder only.
ASSET_DIR = TEMPLATE_DIR / "assets"
TEMPLATE = "dossier.html"

AUDIENCE_NOTES = {
    Confidentiality.PUBLIC: "Public: holds public cases only and may be shared.",
    Confidentiality.RESTRICTED: (
        "Restricted: holds public and restricted cases. Share only with the people it was "
        "prepared for."
    ),
    Confidentiality.CONFIDENTIAL: (
        "Confidential: may hold confidential cases. Do not forward, print for others or leave "
        "unattended."
    ),
}


@cache
def environment() -> Environment:
    """The Jinja environment for PDF templates (autoescaped, strict about missing names)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc_text
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


def chart(content: DossierContent) -> BarChart:
    """The custody status bar chart of the dossier's cases."""
    counts = StatusCounts(Counter({c.status: c.count for c in content.counts}))
    return status_chart(counts, "Cases in this dossier by custody status")


def assemble(
    content: DossierContent, *, snapshot_at: dt.datetime, generated_at: dt.datetime
) -> str:
    """The dossier's complete HTML, ready for :func:`monitor.pdf.render`."""
    audience = Confidentiality(content.audience)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            content=content,
            audience=audience,
            audience_note=AUDIENCE_NOTES[audience],
            snapshot_at=snapshot_at,
            generated_at=generated_at,
            # W3C date-time for the PDF's creation date (WeasyPrint reads dcterms.created).
            created_iso=generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            chart=chart(content) if content.is_group else None,
            toc_pages=None if content.is_group else single_case_pages(content),
        )
    )


def single_case_pages(content: DossierContent) -> dict[str, int]:
    """Where a one-case dossier's sections start: cover, contents and summary on page 1."""
    return {"summary": 1, **{case.anchor: 2 for case in content.cases}}
