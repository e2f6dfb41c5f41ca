"""Dossier fixtures: poppler and the Noto fonts required, PDFs read back, WeasyPrint's warnings.

Outside CI a machine without poppler-utils (or the Noto fonts, for the script tests) skips these
tests and says why; under ``CI=true`` the same absence fails the run with the package to install.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.api import Api, issue_token
from tests.support.dossiers import Pdf, WarningLog
from tests.support.environment import unavailable

POPPLER_TOOLS = ("pdftotext", "pdfinfo", "pdfdetach", "pdffonts")
NOTO_FAMILIES = ("Noto Sans", "Noto Sans Khmer", "Noto Sans Myanmar", "Noto Naskh Arabic")


@pytest.fixture(autouse=True, scope="session")
def poppler() -> None:
    """Every dossier test reads real PDFs with poppler's command-line tools."""
    absent = [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]
    if absent:
        unavailable(f"{', '.join(absent)} not found: install poppler-utils (make system-deps)")


@pytest.fixture(scope="session")
def noto_fonts() -> None:
    """Khmer, Burmese and Arabic need Debian's fonts-noto-core (DejaVu alone shows tofu)."""
    if shutil.which("fc-list") is None:
        unavailable("fc-list not found: install fontconfig and fonts-noto-core")
    families = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    known = {name.strip() for line in families.splitlines() for name in line.split(",")}
    absent = [family for family in NOTO_FAMILIES if family not in known]
    if absent:
        unavailable(
            f"fonts {', '.join(absent)} missing: install fonts-noto-core (make system-deps)"
        )


@pytest.fixture
def read_pdf(tmp_path: Path) -> type[Pdf]:
    """``read_pdf(data)`` wraps PDF bytes for poppler."""

    class Bound(Pdf):
        def __init__(self, data: bytes) -> None:
            super().__init__(data, tmp_path)

    return Bound


@pytest.fixture
def api_as(app: Flask) -> Callable[[str, str], Api]:
    """``api_as("viewer", "public")``: an API client holding a new such user's token."""

    def make(role: str, clearance: str = "confidential") -> Api:
        return Api(app.test_client(), issue_token(role, clearance))

    return make


@pytest.fixture
def weasyprint_warnings() -> Iterator[WarningLog]:
    """WeasyPrint's warnings (``.notdef`` glyphs, refused fetches) while the test runs."""
    handler = WarningLog()
    logger = logging.getLogger("weasyprint")
    # Alembic's fileConfig (run by the migrations) disables loggers that existed before it.
    disabled, level = logger.disabled, logger.level
    logger.disabled = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.disabled, logger.level = disabled, level
