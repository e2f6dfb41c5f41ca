"""PDF dossiers: export jobs kept as rows, with the rendered file stored in the database."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from monitor.extensions import Base
from monitor.models.base import UTCDateTime, created_at_column, public_id_column

if TYPE_CHECKING:
    from monitor.models.users import User


class DossierKind(StrEnum):
    """What a dossier covers."""

    CASE = "case"
    ORGANIZATION = "organization"
    SELECTION = "selection"


class DossierState(StrEnum):
    """Where a dossier's rendering stands."""

    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


class Dossier(Base):
    """A requested brief: its scope, audience, progress and, once ready, the PDF itself."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # {"case_id": …} / {"organization_id": …} / {"filters": {…}} with public ids.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    title: Mapped[str] = mapped_column(String(300), default="")
    audience: Mapped[str] = mapped_column(String(20), default="public")
    # The language the PDF is written in (default: the requester's).
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Loaded only when downloading, so listing dossiers never pulls megabytes of PDF.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(Integer)
    # Identifies the data + template a PDF was rendered from, so an unchanged request reuses it.
    content_key: Mapped[str | None] = mapped_column(String(64), index=True)
    snapshot_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The process rendering it (services.claimants): should it die, the dossier is queued again.
    claimed_by: Mapped[str | None] = mapped_column(String(255))

    requested_by: Mapped[User] = relationship()
