"""Domain operations: validate, change, audit, flush. They never commit; the caller does, once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from babel.support import LazyProxy
from sqlalchemy import Column, Row, Select, Table, func, insert, select

from monitor.authz import NotFound
from monitor.extensions import Base, db
from monitor.models import User

# Who performs a write: a logged-in user, or a label such as "cli" for command-line tools.
Actor = User | str

__all__ = [
    "Actor",
    "Checkpoint",
    "NotFound",
    "ValidationError",
    "actor_label",
    "actor_user_id",
    "add_rows",
    "column_rows",
    "commit_now",
    "insert_rows",
]


class Checkpoint(StrEnum):
    """Why a service commits in the middle of its work: the only deliberate commits in services.

    ARCHITECTURE.md §5: leases and claims that must be visible to other workers at once. Every
    other service only flushes; the request or task commits once (a test checks that no other
    service commits).
    """

    # services.alert_claims.claim: deliveries leased to one sender, so no other sends them.
    ALERT_CLAIM = "alert deliveries leased to one sender"
    # services.imports.jobs.claim: a queued import moved to running by one worker.
    IMPORT_CLAIM = "an import claimed by one worker"
    # services.imports.jobs.fail: an import marked failed after its own work was rolled back.
    IMPORT_FAILED = "an import marked failed"
    # services.dossiers.rendering.produce: the claim, each step's progress and the result, seen
    # by the page polling it (and the read snapshot ended before the long render).
    DOSSIER_PROGRESS = "a dossier's claim, progress or result"


# Two more writes are seen by others at once without a session commit, each on a connection of
# its own: an import's progress (services.imports.jobs.progress_writer) and the "sent" mark of
# each alert email (services.alert_claims.autocommit), so a crash never re-sends what was sent.


def commit_now(why: Checkpoint) -> None:
    """Commit the session at one of the named :class:`Checkpoint` s."""
    db.session.commit()


class ValidationError(Exception):
    """Input broke a domain rule; ``errors`` maps each bad field to a message."""

    def __init__(self, errors: Mapping[str, str | LazyProxy]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        # str(): a message may be a lazy translation, worded in the language in force now.
        self.errors = {field: str(message) for field, message in errors.items()}


def actor_label(actor: Actor) -> str:
    """How an actor is named in the audit log."""
    return actor if isinstance(actor, str) else actor.email


def actor_user_id(actor: Actor) -> int | None:
    """The user row id of an actor, if it is a user."""
    return None if isinstance(actor, str) else actor.id


def column_rows(
    statement: Select[*tuple[Any, ...]], params: Mapping[str, Any] | None = None
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a query for columns (not ORM objects), run on the session's connection.

    ``params`` fill the named ``bindparam()`` placeholders of a statement built once, at import:
    building a statement and computing its cache key cost more than running a small one.

    ``session.execute`` would pass them through the ORM's result machinery, about 0.1 ms per
    query for nothing when no object is loaded. Pending changes are flushed first, as
    ``session.execute`` would (a no-op when there are none). ORM execution hooks
    (``do_orm_execute``, ``with_loader_criteria``) do not apply here: clearance is filtered in
    each query itself (:mod:`monitor.authz`), never by such a hook.

    Rows are read by position or by column name (``row.at``), never keyed by column object
    (``row._mapping[AuditEntry.at]``), so SQLAlchemy's re-keying of a cached statement's result
    map to this statement's column objects is skipped (``_result_disable_adapt_to_context``, as
    the ORM sets for its own queries): it compares every column as an SQL expression, about a
    fifth of a list query's time in Python.
    """
    session = db.session()
    session.flush()
    return session.connection().execute(statement, params, execution_options=_COLUMN_ROWS).all()


_COLUMN_ROWS = {"_result_disable_adapt_to_context": True}


def insert_rows(model: type[Base], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` of ``model`` (each with the same keys) in bulk; their ids, in order.

    For bulk writes that the unit of work would make one flush per object. PostgreSQL: ids
    from the table's sequence, then the rows by ``COPY`` (:func:`add_rows`); SQLite: a few
    ``INSERT … VALUES (…), (…) RETURNING id`` statements ("insertmanyvalues"). The rows
    bypass the session: objects already loaded do not see them until expired.
    """
    if not rows:
        return []
    table = Base.metadata.tables[model.__tablename__]
    session = db.session()
    session.flush()
    if session.connection().dialect.name == "postgresql":
        # Ids taken from the table's own sequence, then the rows copied with them (add_rows):
        # about half the time of multi-row INSERT … RETURNING statements (a 5,000-row import).
        sequence = func.pg_get_serial_sequence(table.name, table.c.id.name)
        ids = sorted(
            session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))
            )
        )
        add_rows(table, [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(statement, list(rows)).scalars())


def add_rows(target: Table | type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (of a link table, or of a model whose ids are not needed; each with the
    same keys) in bulk, after what the session holds.

    On PostgreSQL with ``COPY … FROM STDIN`` in the session's transaction: the server takes the
    rows as one stream, where ``executemany`` sends it one INSERT per row (an import of 5,000
    rows writes 30,000 audit entries). Each value goes through its column type's bind
    processing first, so the rows hold what an INSERT would have written. Triggers fire as for
    an INSERT: row triggers for each row, statement triggers once for the whole stream.
    """
    if not rows:
        return
    session = db.session()
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    table = target if isinstance(target, Table) else Base.metadata.tables[target.__tablename__]
    given = list(rows[0])
    # The columns' own defaults (``default=`` in the models: an INSERT statement applies them,
    # COPY would not) for the columns the rows leave out; callables once per row.
    defaults = [
        column
        for column in table.c
        if column.name not in given and column.default is not None and not column.primary_key
    ]
    # A default only the INSERT can evaluate (an SQL expression): the INSERT, then.
    if dialect.name != "postgresql" or not all(map(_copyable, defaults)):
        connection.execute(insert(table), list(rows))
        return
    names = [*given, *(column.name for column in defaults)]
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    statement = "COPY {} ({}) FROM STDIN".format(
        dialect.identifier_preparer.format_table(table),
        ", ".join(dialect.identifier_preparer.quote(name) for name in names),
    )
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in given]
                values += [_default(column) for column in defaults]
                copy.write_row(
                    [
                        value if process is None or value is None else process(value)
                        for process, value in zip(processors, values, strict=True)
                    ]
                )
    finally:
        cursor.close()


def _copyable(column: Column[Any]) -> bool:
    """Whether a column's ``default=`` is a value or a Python callable (not SQL)."""
    default = column.default
    return default is not None and (default.is_scalar or default.is_callable)


def _default(column: Column[Any]) -> Any:
    """A column's ``default=`` value as an INSERT would take it (a callable is called)."""
    default = column.default
    assert default is not None  # noqa: S101 - only called for columns with a default
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
