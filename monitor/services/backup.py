"""Whole-database backup and restore as JSON lines, generic over every table of the models.

A backup is UTF-8 text, one JSON value per line, gzip-compressed when the file name ends in
``.gz``, so it is written and read as a stream however large the register grows::

    {"format": "case-monitor-backup", "version": 1, "alembic_revision": "0005_imports",
     "created_at": "…", "with_secrets": false, "omitted": {"users": ["password_hash"], …}}
    {"table": "people", "columns": ["id", "public_id", "name", …]}
    [1, "hV3…", "Kem Sokha", …]                 one array per row, in the columns' order
    …
    {"end": {"people": 3, "cases": 3, …}}       row counts; a file without it is truncated

Tables come in ``Base.metadata.sorted_tables`` order (parents before children), rows in primary
key order. Dates and datetimes are ISO 8601 (with their offset), bytes base64, JSON columns as is.

What a backup leaves out, and what a restore makes of it:

* Password hashes and API token hashes, unless ``with_secrets``: a backup copied to the wrong
  place should not hand over offline-crackable hashes or working tokens. Restored accounts get a
  locked password (``!`` is no argon2 hash, so no password matches it) until an admin sets a new
  one; API tokens cannot exist without their hash and are not restored. Likewise authenticator
  app secrets and recovery code hashes: those rows are not restored (passkeys are: a public key
  is no secret), so the users concerned set up their app again.
* Dossier PDFs (kept only for a few days, regenerated on request): dossiers come back as
  metadata. One that was ready is restored as failed with a reason saying so, so the app never
  offers a download it cannot serve; the expiry sweep removes it as usual.

A restore goes only into an empty database migrated (``monitor init-db``) to the backup's
revision, in one transaction: any error leaves the database as empty as it was.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import decimal
import gzip
import io
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator

import monitor.models  # noqa: F401 - registers every table on Base.metadata
from monitor.extensions import Base, db
from monitor.models.base import utcnow
from monitor.models.dossiers import DossierState

FORMAT = "case-monitor-backup"
VERSION = 1
BATCH = 1000
# Omitted unless asked for: they let whoever holds the file log in or call the API.
SECRET_COLUMNS: Mapping[str, frozenset[str]] = {
    "users": frozenset({"password_hash"}),
    "api_tokens": frozenset({"token_hash"}),
    "user_sessions": frozenset({"token_hash"}),
    "password_resets": frozenset({"token_hash"}),
    # An authenticator app's shared secret makes codes; recovery codes log in once each.
    "totp_factors": frozenset({"secret"}),
    "recovery_codes": frozenset({"code_hash"}),
}
# Always omitted: rendered files the app can make again.
OMITTED_COLUMNS: Mapping[str, frozenset[str]] = {"dossiers": frozenset({"pdf"})}
LOCKED_PASSWORD_PREFIX = "!restored-without-password:"  # noqa: S105 - a marker, no secret
READY = DossierState.READY.value
NO_PDF_REASON = (
    "This dossier was restored from a backup, which keeps no PDF files; request it again."
)

Row = dict[str, Any]


class BackupError(Exception):
    """The backup cannot be written, or this file cannot be restored here."""


@dataclass
class RestoreResult:
    """What a restore wrote, and what it could not bring back."""

    restored: dict[str, int] = field(default_factory=dict)
    # Rows in the file left out because they cannot exist without an omitted secret.
    skipped: dict[str, int] = field(default_factory=dict)
    locked_accounts: int = 0
    dossiers_without_pdf: int = 0


# Count rows the database's triggers keep from the cases and memberships: a restore rebuilds them
# as it inserts those, so they are neither written nor read.
DERIVED_TABLES = frozenset({"case_counts", "organization_case_counts"})


def backup_tables() -> list[sa.Table]:
    """Every application table, parents before children (kombu's broker tables and the derived
    count tables excluded)."""
    return [
        t
        for t in Base.metadata.sorted_tables
        if not t.name.startswith("kombu_") and t.name not in DERIVED_TABLES
    ]


def _omitted(table: str, with_secrets: bool) -> frozenset[str]:
    left_out = OMITTED_COLUMNS.get(table, frozenset())
    return left_out if with_secrets else left_out | SECRET_COLUMNS.get(table, frozenset())


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    heads = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(heads)) or None


# --- writing ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _snapshot() -> Iterator[Connection]:
    """A read-only connection that sees one consistent state of every table."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite only begins transactions before writes; begin by hand so every SELECT
            # reads the same state (writers wait, or in WAL mode carry on beside us).
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("ROLLBACK")
            return
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _line(stream: IO[str], value: object) -> None:
    stream.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def write_backup(stream: IO[str], *, with_secrets: bool = False) -> dict[str, int]:
    """Write every table to ``stream``; returns the row count of each table."""
    tables = backup_tables()
    counts: dict[str, int] = {}
    with _snapshot() as conn:
        revision = _revision(conn)
        if revision is None:
            raise BackupError("the database has no schema yet: run `monitor init-db` first")
        omitted = {t.name: sorted(_omitted(t.name, with_secrets)) for t in tables}
        header = {
            "format": FORMAT,
            "version": VERSION,
            "alembic_revision": revision,
            "created_at": utcnow().isoformat(),
            "with_secrets": with_secrets,
            "omitted": {name: columns for name, columns in omitted.items() if columns},
        }
        _line(stream, header)
        for table in tables:
            columns = [c for c in table.columns if c.name not in omitted[table.name]]
            _line(stream, {"table": table.name, "columns": [c.name for c in columns]})
            query = sa.select(*columns).order_by(*table.primary_key.columns)
            count = 0
            for row in conn.execute(query.execution_options(yield_per=BATCH)):
                _line(stream, [_encode(value) for value in row])
                count += 1
            counts[table.name] = count
    _line(stream, {"end": counts})
    return counts


@contextlib.contextmanager
def open_for_writing(path: Path) -> Iterator[IO[str]]:
    """A text stream to ``path`` (gzip for ``.gz``), readable by its owner only.

    The file takes its name only once complete and synced, so a failed backup never replaces
    a good one.
    """
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    raw = open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")  # noqa: SIM115
    compressor = gzip.GzipFile(fileobj=raw, mode="wb") if path.suffix == ".gz" else None
    text = io.TextIOWrapper(compressor or raw, encoding="utf-8", newline="\n")
    done = False
    try:
        yield text
        text.flush()
        if compressor is not None:
            compressor.close()  # writes the gzip trailer, leaves the file open
        raw.flush()
        os.fsync(raw.fileno())
        done = True
    finally:
        text.close()
        raw.close()
        if done:
            os.replace(partial, path)
        else:
            partial.unlink(missing_ok=True)


# --- restoring --------------------------------------------------------------------------------


@contextlib.contextmanager
def open_for_reading(path: Path) -> Iterator[IO[str]]:
    """A text stream over a backup file, gzip-compressed or not (told by its first bytes)."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            yield text
    else:
        with path.open(encoding="utf-8") as text:
            yield text


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise BackupError(f"bad base64 value ({exc})") from None


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _same(value: Any) -> Any:
    return value


def _decoder(column: sa.Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    decode: Callable[[Any], Any] | None = None
    if isinstance(kind, sa.JSON):
        return _same
    if isinstance(kind, sa.DateTime):
        decode = dt.datetime.fromisoformat
    elif isinstance(kind, sa.Date):
        decode = dt.date.fromisoformat
    elif isinstance(kind, sa.Time):
        decode = dt.time.fromisoformat
    elif isinstance(kind, sa.LargeBinary):
        decode = _base64
    elif isinstance(kind, sa.Interval):
        decode = _seconds
    elif isinstance(kind, sa.Numeric) and kind.asdecimal:
        decode = decimal.Decimal
    elif isinstance(kind, sa.Uuid) and kind.as_uuid:
        decode = uuid.UUID
    if decode is None:
        return _same
    convert = decode

    def decode_or_null(value: Any) -> Any:
        return None if value is None else convert(value)

    return decode_or_null


def _locked_password() -> str:
    return LOCKED_PASSWORD_PREFIX + secrets.token_urlsafe(24)


# Secret columns that have a stand-in when the backup lacks them; rows of a table missing any
# other required secret are skipped.
_STAND_INS: Mapping[tuple[str, str], Callable[[], Any]] = {
    ("users", "password_hash"): _locked_password,
}


@dataclass
class _Section:
    """One table's part of the file, inserted in batches."""

    table: sa.Table
    columns: list[sa.Column[Any]]
    decoders: list[Callable[[Any], Any]]
    stand_ins: dict[str, Callable[[], Any]]
    skip: bool
    rows: int = 0
    batch: list[Row] = field(default_factory=list)

    @classmethod
    def start(cls, table: sa.Table, names: list[str]) -> _Section:
        """Check the file's columns against the table; decide what stands in for the missing."""
        unknown = [name for name in names if name not in table.columns]
        if unknown:
            raise BackupError(f"table {table.name} has no column {', '.join(unknown)}")
        columns = [table.columns[name] for name in names]
        stand_ins, skip = {}, False
        for column in table.columns:
            if column.name in names or column.nullable or column.default or column.server_default:
                continue
            if (table.name, column.name) in _STAND_INS:
                stand_ins[column.key] = _STAND_INS[(table.name, column.name)]
            elif column.name in SECRET_COLUMNS.get(table.name, ()):
                skip = True
            else:
                raise BackupError(f"table {table.name}: required column {column.name} is missing")
        return cls(table, columns, [_decoder(c) for c in columns], stand_ins, skip)

    def row(self, values: list[Any]) -> Row:
        """One row of the file as insert parameters."""
        if len(values) != len(self.columns):
            raise BackupError(f"a {self.table.name} row has {len(values)} values")
        row = {
            column.key: decode(value)
            for column, decode, value in zip(self.columns, self.decoders, values, strict=True)
        }
        for key, make in self.stand_ins.items():
            row[key] = make()
        return row


class _Restorer:
    """Reads the file's lines in order and inserts each table's rows."""

    def __init__(self) -> None:
        self.tables = {t.name: t for t in backup_tables()}
        self.result = RestoreResult()
        self.section: _Section | None = None
        self.end: dict[str, int] | None = None

    def feed(self, number: int, item: Any) -> None:
        """Take one line of the file after the header."""
        if self.end is not None:
            raise BackupError(f"line {number}: unexpected data after the end of the backup")
        if isinstance(item, list) and self.section is not None:
            try:
                self._row(self.section, item, number)
            except (ValueError, TypeError) as exc:  # a value its column cannot hold
                raise BackupError(f"line {number} ({self.section.table.name}): {exc}") from None
        elif isinstance(item, dict) and "table" in item:
            self._close(number)
            name = item["table"]
            if name not in self.tables or name in self.result.restored:
                raise BackupError(f"line {number}: unknown or repeated table {name!r}")
            self.section = _Section.start(self.tables[name], list(item.get("columns", [])))
            self.result.restored[name] = 0
        elif isinstance(item, dict) and isinstance(item.get("end"), dict):
            self._close(number)
            self.end = item["end"]
        else:
            raise BackupError(f"line {number} is neither a table, a row nor the end")

    def finish(self) -> RestoreResult:
        """Check the file was complete; move PostgreSQL's id sequences past the restored ids."""
        if self.end is None:
            raise BackupError("the file ends before the end of the backup: it is truncated")
        read = {
            name: n + self.result.skipped.get(name, 0) for name, n in self.result.restored.items()
        }
        if read != self.end:
            raise BackupError("the rows read do not match the counts the backup recorded")
        if db.session.get_bind().dialect.name == "postgresql":
            _reset_sequences(self.tables[name] for name, n in self.result.restored.items() if n)
        return self.result

    def _row(self, section: _Section, values: list[Any], number: int) -> None:
        section.rows += 1
        if section.skip:
            return
        row = section.row(values)
        if section.table.name == "dossiers" and "pdf" not in row and row.get("state") == READY:
            row.update(state=DossierState.FAILED.value, error=NO_PDF_REASON)
            self.result.dossiers_without_pdf += 1
        section.batch.append(row)
        if len(section.batch) >= BATCH:
            self._insert(section, number)

    def _insert(self, section: _Section, number: int) -> None:
        if not section.batch:
            return
        try:
            db.session.execute(sa.insert(section.table), section.batch)
        except DBAPIError as exc:
            raise BackupError(
                f"table {section.table.name}, rows before line {number}: {exc.orig}"
            ) from None
        self.result.restored[section.table.name] += len(section.batch)
        section.batch = []

    def _close(self, number: int) -> None:
        section = self.section
        if section is None:
            return
        self._insert(section, number)
        if section.skip:
            self.result.skipped[section.table.name] = section.rows
        if section.table.name == "users" and "password_hash" in section.stand_ins:
            self.result.locked_accounts = section.rows
        self.section = None


def _reset_sequences(tables: Iterable[sa.Table]) -> None:
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, sa.Integer):
            sequence = sa.func.pg_get_serial_sequence(table.name, keys[0].name)
            highest = sa.select(sa.func.max(keys[0])).scalar_subquery()
            db.session.execute(sa.select(sa.func.setval(sequence, highest)))


def _lines(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(stream, 1):
        if not line.endswith("\n"):
            raise BackupError(f"line {number} is cut short: the file is truncated")
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise BackupError(f"line {number} is not valid JSON ({exc})") from None


def _check_target(header: Any) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("this is not a case monitor backup")
    if header.get("version") != VERSION:
        raise BackupError(f"backup format version {header.get('version')} is not supported")
    revision = _revision(db.session.connection())
    if revision is None:
        raise BackupError("the database has no schema yet: run `monitor init-db` first")
    if header.get("alembic_revision") != revision:
        raise BackupError(
            f"the backup is of schema revision {header.get('alembic_revision')} but the database "
            f"is at {revision}: restore with the release that wrote the backup"
        )
    filled = [
        t.name
        for t in backup_tables()
        if db.session.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
    ]
    if filled:
        raise BackupError(
            f"the database is not empty ({', '.join(filled)} hold rows): restore only into a "
            "new database prepared with `monitor init-db`"
        )


def restore_backup(stream: IO[str]) -> RestoreResult:
    """Insert a backup into this empty database and flush; the caller commits or rolls back."""
    try:
        lines = _lines(stream)
        try:
            _, header = next(lines)
        except (StopIteration, BackupError):
            raise BackupError("this is not a case monitor backup") from None
        _check_target(header)
        restorer = _Restorer()
        for number, item in lines:
            restorer.feed(number, item)
        return restorer.finish()
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # unreadable or truncated gzip
        raise BackupError(f"cannot read the file: {exc}") from None
