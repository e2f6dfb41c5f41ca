"""The only door from a dossier's HTML to anything outside it: ``data:`` URIs and our own assets.

WeasyPrint fetches every URL a document names — images, stylesheets, fonts, and the files behind
``<link rel="attachment">``, which it embeds in the PDF. With its default fetcher a dossier could
read ``file:///etc/passwd`` into the PDF or make the worker call ``http://127.0.0.1:…``. Every
text a user typed is escaped before it reaches the HTML; this fetcher is the second wall: it
refuses every scheme but ``data:`` and ``file:``, and serves ``file:`` only from
:data:`ASSET_DIR` (``os.path.commonpath`` on real paths, so ``..`` and symlinks cannot leave it).
"""

from __future__ import annotations

import logging
import mimetypes
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

from monitor.pdf.html import ASSET_DIR

log = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A dossier named a URL outside ``data:`` and the asset folder; nothing was fetched."""


class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """A WeasyPrint 70 URL fetcher allowing ``data:`` URIs and files under one folder only."""

    def __init__(self, asset_dir: Path = ASSET_DIR) -> None:
        # No redirects and no protocols beyond these two, even if a subclass calls up.
        super().__init__(timeout=2, allowed_protocols={"data", "file"}, allow_redirects=False)
        self.root = os.path.realpath(asset_dir)
        self.refused: list[str] = []

    @property
    def base_url(self) -> str:
        """The ``file://`` URL relative links in a dossier resolve against."""
        return str(path2url(self.root + os.sep))

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve ``data:`` URIs and asset files; refuse (and log) everything else."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            # urllib's DataHandler decodes it in memory; no other handler sees a data: URL.
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._asset(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path.as_uri(), path.read_bytes(), {"Content-Type": content_type}
                )
        self.refused.append(url)
        log.warning("dossier fetcher refused %s", url[:200])
        raise RefusedURL(f"dossiers may only use data: URIs and their own assets, not {url[:200]}")

    def _asset(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in {"", "localhost"}:
            return None
        real = os.path.realpath(url2pathname(parts.path))
        if os.path.commonpath([self.root, real]) != self.root or not os.path.isfile(real):
            return None
        return Path(real)
