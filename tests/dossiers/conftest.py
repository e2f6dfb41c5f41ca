"""Dossier fixtures: poppler to read real PDFs, the Noto fonts, and a synchronous render.

Outside CI a machine without poppler-utils (or the Noto fonts, for the script tests) skips these
tests and says why; under ``CI=true`` the same absence fails the run with the package to install.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, Dossier
from monitor.services import dossiers
from tests.api.conftest import Api, issue_token
from tests.conftest import IN_CI, csrf_token

POPPLER_TOOLS = ("pdftotext", "pdfinfo", "pdfdetach", "pdffonts")
NOTO_FAMILIES = ("Noto Sans", "Noto Sans Khmer", "Noto Sans Myanmar", "Noto Naskh Arabic")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def poppler() -> None:
    """Every dossier test reads real PDFs with poppler's command-line tools."""
    absent = [tool for tool in POPPLER_TOOLS if shutil.which(tool) is None]
    if absent:
        _missing(f"{', '.join(absent)} not found: install poppler-utils (make system-deps)")


@pytest.fixture(scope="session")
def noto_fonts() -> None:
    """Khmer, Burmese and Arabic need Debian's fonts-noto-core (DejaVu alone shows tofu)."""
    if shutil.which("fc-list") is None:
        _missing("fc-list not found: install fontconfig and fonts-noto-core")
    families = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    known = {name.strip() for line in families.splitlines() for name in line.split(",")}
    absent = [family for family in NOTO_FAMILIES if family not in known]
    if absent:
        _missing(f"fonts {', '.join(absent)} missing: install fonts-noto-core (make system-deps)")


def _poppler(tool: str, pdf: bytes, tmp: Path, *args: str) -> str:
    path = tmp / "dossier.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@dataclass
class Pdf:
    """A PDF file and what poppler reads from it."""

    data: bytes
    tmp: Path

    @property
    def text(self) -> str:
        """``pdftotext`` output."""
        return _poppler("pdftotext", self.data, self.tmp)

    @property
    def words(self) -> str:
        """The text with every run of whitespace as one space (table cells wrap lines)."""
        return " ".join(self.text.split())

    @property
    def flat(self) -> str:
        """The text with all whitespace and bidi marks removed (poppler splits some clusters)."""
        return re.sub(r"[\s\u200e\u200f\u202a-\u202e]", "", self.text)

    @property
    def info(self) -> dict[str, str]:
        """``pdfinfo`` fields."""
        lines = _poppler("pdfinfo", self.data, self.tmp).splitlines()
        return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}

    @property
    def attachments(self) -> str:
        """``pdfdetach -list`` output."""
        return _poppler("pdfdetach", self.data, self.tmp, "-list")

    @property
    def fonts(self) -> str:
        """``pdffonts`` output."""
        return _poppler("pdffonts", self.data, self.tmp)

    def objects(self) -> bytes:
        """Every object of the file with its streams inflated (bookmarks hide in object streams)."""
        chunks = [self.data]
        for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", self.data, re.DOTALL):
            try:
                chunks.append(zlib.decompress(match.group(1)))
            except zlib.error:
                continue
        return b"\n".join(chunks)


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


def render_queued(app: Flask, public_id: str) -> str:
    """Run the worker's code for one dossier here, synchronously; returns its final state."""
    return dossiers.produce(public_id, app.config["SETTINGS"], db.session.commit)


def request_via_web(client: FlaskClient, page: str, **fields: str) -> str:
    """Press a page's dossier button (a POST with its CSRF token); return the dossier id."""
    form = {"csrf_token": csrf_token(client, page), "next": page, **fields}
    response = client.post("/dossiers", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert "/dossiers/" in location, location
    return location.rsplit("/", 1)[-1]


def dossier(public_id: str) -> Dossier:
    """The row, fresh from the database."""
    db.session.expire_all()
    return db.session.scalars(select(Dossier).where(Dossier.public_id == public_id)).one()


def audit_entries(action: str, public_id: str) -> list[AuditEntry]:
    """Audit entries of one action on one dossier, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.entity_id == public_id)
            .order_by(AuditEntry.seq)
        )
    )


class WarningLog(logging.Handler):
    """Collects what WeasyPrint logs at WARNING and above during a test."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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
