"""Column helpers shared by every model."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def new_public_id() -> str:
    """A random, URL-safe, unguessable identifier used in URLs, the API and CSV files.

    Never starting with ``-``: a spreadsheet takes such a cell for a formula (so the CSV import
    asked for an apostrophe before one in about 1 of 64 ids) and a command line for an option.
    """
    while True:
        public_id = secrets.token_urlsafe(9)
        if not public_id.startswith("-"):
            return public_id


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; SQLite hands back naive values, so re-attach UTC on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC values")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


def public_id_column() -> Mapped[str]:
    """The public identifier column every exposed entity carries."""
    return mapped_column(String(16), unique=True, index=True, default=new_public_id)


def created_at_column() -> Mapped[dt.datetime]:
    """A creation timestamp set by the database session at insert."""
    return mapped_column(UTCDateTime(), default=utcnow)
