"""PDF dossiers: take a dossier's ready content, assemble escaped HTML, render it safely.

No Celery, no Flask request, no SQL and no services here: the dossier service
(``services/dossiers/``) loads the scope, fills :class:`DossierContent` and drives these steps,
and the worker task calls that service. WeasyPrint (and the Pango it loads) is imported only by
:mod:`~monitor.pdf.fetcher`, :mod:`~monitor.pdf.actual_text` and :mod:`~monitor.pdf.render`,
which only the render step imports, so the web app starts — and says why dossiers fail — on a
machine without Pango.

- :mod:`monitor.pdf.content` — what a dossier shows, as plain frozen data;
- :mod:`monitor.pdf.html` — the HTML from ``templates/pdf/`` and the content key for reuse;
- :mod:`monitor.pdf.fetcher` — the URL fetcher allowing ``data:`` and our own assets only;
- :mod:`monitor.pdf.actual_text` — replacement text, so bold Khmer and Burmese copy as typed;
- :mod:`monitor.pdf.render` — WeasyPrint with one font configuration per process, tagged
  (PDF/UA-1).
"""

from monitor.pdf.content import DossierContent
from monitor.pdf.html import ASSET_DIR, assemble, content_key, template_version

__all__ = [
    "ASSET_DIR",
    "DossierContent",
    "assemble",
    "content_key",
    "template_version",
]
