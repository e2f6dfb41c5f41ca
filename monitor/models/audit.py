"""The append-only audit log, chained with HMAC-SHA-256 under a key kept out of the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from monitor.extensions import Base
from monitor.models.base import UTCDateTime


class AuditEntry(Base):
    """One write to the register: who did what to which entity, before and after."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    # The public id of the case this write belongs to, for the case page's history.
    case_ref: Mapped[str | None] = mapped_column(String(16), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip: one row, locked while appending so concurrent writers chain in order.

    It also lets verification notice that the newest entries were deleted, and names the key
    the chain is extended with.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # A fingerprint (never the key) of the MONITOR_AUDIT_KEY the chain was begun or last
    # re-keyed under: only for telling "the configured key is another one" from "an entry was
    # altered" when verifying; anyone may overwrite it, so nothing is trusted because of it.
    # None: written before keyed hashing.
    key_id: Mapped[str | None] = mapped_column(String(16))
