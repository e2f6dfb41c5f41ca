"""Dossier helpers: PDFs read back with poppler, a synchronous render, the web's request button,
rows and audit entries, and a collector of WeasyPrint's warnings."""

from __future__ import annotations

import logging
import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, Dossier
from monitor.services import dossiers
from tests.support.web import csrf_token


def run_poppler(tool: str, pdf: bytes, tmp: Path, *args: str) -> str:
    """What one of poppler's tools prints for ``pdf`` (written to ``tmp`` first)."""
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
        return run_poppler("pdftotext", self.data, self.tmp)

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
        lines = run_poppler("pdfinfo", self.data, self.tmp).splitlines()
        return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}

    @property
    def attachments(self) -> str:
        """``pdfdetach -list`` output."""
        return run_poppler("pdfdetach", self.data, self.tmp, "-list")

    @property
    def fonts(self) -> str:
        """``pdffonts`` output."""
        return run_poppler("pdffonts", self.data, self.tmp)

    def objects(self) -> bytes:
        """Every object of the file with its streams inflated (bookmarks hide in object streams)."""
        chunks = [self.data]
        for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", self.data, re.DOTALL):
            try:
                chunks.append(zlib.decompress(match.group(1)))
            except zlib.error:
                continue
        return b"\n".join(chunks)


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
