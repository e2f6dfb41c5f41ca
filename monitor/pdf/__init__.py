"""PDF dossiers: load a scope at an audience level, assemble escaped HTML, render it safely.

No Celery and no Flask request here: :mod:`monitor.services.dossiers` drives these steps and
the worker task calls that service. WeasyPrint (and the Pango it loads) is imported only by
:mod:`~monitor.pdf.fetcher` and :mod:`~monitor.pdf.render`, which only the render step imports,
so the web app starts — and says why dossiers fail — on a machine without Pango.

- :mod:`monitor.pdf.scope` — which cases, at which level, as plain data (:class:`DossierContent`);
- :mod:`monitor.pdf.html` — the HTML from ``templates/pdf/`` and the content key for reuse;
- :mod:`monitor.pdf.fetcher` — the URL fetcher allowing ``data:`` and our own assets only;
- :mod:`monitor.pdf.render` — WeasyPrint with one font configuration per process.
"""

from monitor.pdf.content import DossierContent
from monitor.pdf.html import ASSET_DIR, assemble, content_key, template_version
from monitor.pdf.scope import ContentError

__all__ = [
    "ASSET_DIR",
    "ContentError",
    "DossierContent",
    "assemble",
    "content_key",
    "template_version",
]
