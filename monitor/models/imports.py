"""CSV imports kept as rows: the uploaded file, its validation report and how applying it went."""

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


class ImportState(StrEnum):
    """Where an import stands. Nothing is written to the register before ``done``."""

    INVALID = "invalid"  # the file has errors: shown, nothing written
    PREVIEWED = "previewed"  # valid; waits for the user to confirm
    QUEUED = "queued"  # confirmed, large: a worker will apply it
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # checked again when applied and found wrong: nothing written


class Import(Base):
    """One uploaded CSV file and what became of it."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    # Loaded only when validating or applying.
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), default="previewed", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    # [{"row": 3, "column": "status", "message": "…"}]; the first 1000 problems.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What applying does / did: {"create": n, "update": n, "unchanged": n, "status_events": n}.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A fingerprint of the previewed plan and of the register state it was made from: a
    # confirmation applies the file only while the two are unchanged.
    plan_sha256: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The worker process running it (services.claimants): should it die, it is queued again.
    claimed_by: Mapped[str | None] = mapped_column(String(255))

    requested_by: Mapped[User] = relationship()
