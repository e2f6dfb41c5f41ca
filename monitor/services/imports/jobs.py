"""The import as a job: staged for the preview, confirmed, applied inline or by a worker, swept.

:func:`stage` checks an upload and keeps it as an :class:`~monitor.models.Import` row (previewed,
or invalid with its problems) with the digest of its plan. :func:`confirm` applies a small import
in the request (:func:`run`) and queues a large one; the worker claims it (:func:`claim`), runs
it with a :func:`progress_writer`, or records why it failed (:func:`fail`). :func:`run` takes
the register lock (:func:`lock_register`) and checks the file again, applying it only if it
still does what the preview showed. Beat's :func:`requeue_stale` re-sends the imports a broker
outage or a dead worker left behind; :func:`requeue_orphans` does so at once for an import whose
worker is known to be dead (:mod:`monitor.services.claimants`).

The deliberate commits of the import service are here: :func:`claim` and :func:`fail` commit,
and :func:`progress_writer` writes in a transaction of its own, so that other workers and pages
see them at once; everything else leaves committing to the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text, update

from monitor import authz, jobs
from monitor.config import Settings
from monitor.extensions import db
from monitor.models import Import, User
from monitor.models.base import utcnow
from monitor.models.imports import ImportState
from monitor.presentation.translation import SOURCE_LANGUAGE, current_language, using_language
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import lazy_gettext as _l
from monitor.services import Checkpoint, ValidationError, claimants, commit_now
from monitor.services.imports.applying import apply, plan_digest
from monitor.services.imports.applying import decision_errors as csv_decision_errors
from monitor.services.imports.checking import check
from monitor.services.imports.popolo_applying import apply_popolo, decision_errors
from monitor.services.imports.popolo_checking import PopoloReport, check_popolo
from monitor.services.imports.popolo_checking import plan_digest as popolo_digest
from monitor.services.imports.report import MAX_REPORTED_PROBLEMS, Report

# An import's state, as its page and the list of imports name it.
IMPORT_STATE_LABELS = {
    ImportState.PREVIEWED.value: _l("previewed"),
    ImportState.INVALID.value: _l("invalid"),
    ImportState.QUEUED.value: _l("queued"),
    ImportState.RUNNING.value: _l("running"),
    ImportState.DONE.value: _l("done"),
    ImportState.FAILED.value: _l("failed"),
}
IMPORT_LOCK_KEY = 0x63_6D_69_6D  # PostgreSQL advisory lock key, "cmim"


def _problem_dicts(report: Report | PopoloReport) -> list[dict[str, Any]]:
    return [p.as_dict() for p in report.problems[:MAX_REPORTED_PROBLEMS]]


def is_popolo(data: bytes) -> bool:
    """Whether a stored file is a Popolo (JSON) one rather than CSV: a CSV file's header row
    never starts with a brace."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def stage_popolo(
    user: User, filename: str, data: bytes, settings: Settings
) -> tuple[Import, PopoloReport]:
    """Check a Popolo file and keep it for the preview; nothing in the register changes."""
    report = check_popolo(data, user, settings)
    rows = len(report.people) if report.ok else 0
    digest = popolo_digest(report) if report.ok else None
    record = _kept(user, filename or "popolo.json", data, report, rows=rows, digest=digest)
    if report.ok and current_language() != SOURCE_LANGUAGE:
        # The worker words what it finds in the importer's language (see :func:`run`).
        record.summary = {**record.summary, "language": current_language()}
    return record, report


def popolo_decision_errors(
    user: User, record: Import, decisions: dict[str, str], settings: Settings
) -> dict[str, str]:
    """What is wrong with the decisions for a previewed Popolo import (nothing is written)."""
    return decision_errors(check_popolo(record.content, user, settings), decisions)


def decision_errors_for(
    user: User, record: Import, decisions: dict[str, str], settings: Settings
) -> dict[str, str]:
    """What is wrong with the decisions for a previewed CSV import (nothing is written):
    by ``decisions.<row key>``, a wrong decision or a probable match left undecided."""
    if not decisions and not record.summary.get("probable"):
        return {}
    report = check(record.content, user, settings, language=import_language(record))
    return csv_decision_errors(report, decisions)


def stage(user: User, filename: str, data: bytes, settings: Settings) -> tuple[Import, Report]:
    """Check an uploaded file and keep it for the preview; nothing in the register changes.

    The language in force is the importer's: its labels are read in the cells (``détenu``),
    and it is kept with the import (see :func:`import_language`) so that the confirmation and
    the worker read the file the same way.
    """
    report = check(data, user, settings)
    rows = len(report.rows) if report.ok else 0
    digest = plan_digest(report) if report.ok else None
    record = _kept(user, filename or "upload.csv", data, report, rows=rows, digest=digest)
    if report.ok and current_language() != SOURCE_LANGUAGE:
        record.summary = {**record.summary, "language": current_language()}
    return record, report


def import_language(record: Import) -> str:
    """The language an import was checked in (a CSV file's labels, the messages): English unless
    the importer's was another."""
    language = (record.summary or {}).get("language")
    return language if isinstance(language, str) else SOURCE_LANGUAGE


def _kept(
    user: User,
    filename: str,
    data: bytes,
    report: Report | PopoloReport,
    *,
    rows: int,
    digest: str | None,
) -> Import:
    """The import row of a checked file (CSV or Popolo), previewed or invalid."""
    record = Import(
        requested_by=user,
        filename=filename[:255],
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=rows,
        state=(ImportState.PREVIEWED if report.ok else ImportState.INVALID).value,
        errors=_problem_dicts(report),
        summary=report.summary() if report.ok else {},
        plan_sha256=digest,
    )
    db.session.add(record)
    db.session.flush()
    return record


def _move(record: Import, before: ImportState, after: ImportState) -> bool:
    """Change the import's state if it is still ``before``; False when someone else moved it.

    A conditional UPDATE, so two confirmations (a double click, two tabs) or a sweep racing a
    worker cannot both go ahead: on PostgreSQL the second waits for the first's row lock and
    then finds the state changed.
    """
    moved = db.session.execute(
        update(Import)
        .where(Import.id == record.id, Import.state == before.value)
        .values(state=after.value)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(record)
    return getattr(moved, "rowcount", 0) == 1


def confirm(
    user: User, record: Import, settings: Settings, decisions: dict[str, str] | None = None
) -> Import:
    """Apply a previewed import now when it is small, else queue it for a worker.

    A small import is applied in the caller's transaction (commit it); on a validation error
    the caller rolls back and the import is marked failed by :func:`fail`. ``decisions``: the
    import's probable matches decided (kept with the import for the worker).
    """
    if is_popolo(record.content) or decisions:
        record.summary = {**record.summary, "decisions": dict(decisions or {})}
    large = record.rows > settings.import_inline_rows
    after = ImportState.QUEUED if large else ImportState.RUNNING
    if not _move(record, ImportState.PREVIEWED, after):
        raise ValidationError(
            {
                "import": _(
                    "is %(state)s, not waiting for confirmation",
                    state=str(IMPORT_STATE_LABELS.get(record.state, record.state)),
                )
            }
        )
    if large:
        jobs.after_commit(jobs.TaskName.IMPORTS_APPLY, record.public_id)
        return record
    run(user, record, settings)
    return record


def lock_register() -> None:
    """Hold the register for one import until its transaction ends.

    Two imports at once (two workers, a worker and a web confirmation, the command line) would
    otherwise both check the same state and both apply it: the same status change recorded, and
    alerted, twice. Taken before the check, the lock makes the second import check after the
    first has committed. PostgreSQL: a transaction-scoped advisory lock. SQLite: its one write
    lock, taken now (``BEGIN IMMEDIATE``) rather than at the first write.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        # A write earlier in this transaction (confirm's state change) holds the lock already.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def run(
    user: User,
    record: Import,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Check the stored file again and apply it, if it still does what the preview showed."""
    if not authz.can(user, authz.Action.WRITE) or not user.active:
        raise ValidationError({"file": _("the uploader may no longer write to the register")})
    lock_register()
    with using_language(import_language(record)):
        if is_popolo(record.content):
            _run_popolo(user, record, settings)
        else:
            _run_csv(user, record, settings, progress)


def _run_csv(
    user: User,
    record: Import,
    settings: Settings,
    progress: Callable[[int, int], None] | None,
) -> None:
    report = check(record.content, user, settings)
    if not report.ok:
        record.errors = _problem_dicts(report)
        raise ValidationError(
            {
                "file": _(
                    "changed problems since the preview: %(problem)s",
                    problem=str(report.problems[0]),
                )
            }
        )
    if plan_digest(report) != record.plan_sha256:
        now = report.summary()
        raise ValidationError(
            {
                "file": _(
                    "the register changed since the preview: the file would now create "
                    "%(create)s, update %(update)s and leave %(unchanged)s unchanged; upload it "
                    "again to see what it changes now",
                    create=now["create"],
                    update=now["update"],
                    unchanged=now["unchanged"],
                )
            }
        )
    decisions = dict(record.summary.get("decisions") or {})
    record.summary = apply(
        user,
        report,
        sha256=record.sha256,
        import_id=record.public_id,
        progress=progress,
        decisions=decisions,
    )
    record.state = ImportState.DONE.value
    record.progress = 100
    record.finished_at = utcnow()
    db.session.flush()


def _run_popolo(user: User, record: Import, settings: Settings) -> None:
    report = check_popolo(record.content, user, settings)
    if not report.ok:
        record.errors = _problem_dicts(report)
        raise ValidationError(
            {
                "file": _(
                    "changed problems since the preview: %(problem)s",
                    problem=str(report.problems[0]),
                )
            }
        )
    if popolo_digest(report) != record.plan_sha256:
        raise ValidationError(
            {
                "file": _(
                    "the register changed since the preview; upload the file again to see "
                    "what it changes now"
                )
            }
        )
    decisions = dict(record.summary.get("decisions") or {})
    record.summary = apply_popolo(
        user, report, decisions, sha256=record.sha256, import_id=record.public_id
    )
    record.state = ImportState.DONE.value
    record.progress = 100
    record.finished_at = utcnow()
    db.session.flush()


def fail(public_id: str, reason: str, errors: list[dict[str, Any]] | None = None) -> None:
    """Mark an import failed in a fresh transaction (after the caller rolled its work back)."""
    record = db.session.scalars(select(Import).where(Import.public_id == public_id)).one()
    record.state = ImportState.FAILED.value
    record.failure = reason
    if errors is not None:
        record.errors = errors
    record.finished_at = utcnow()
    commit_now(Checkpoint.IMPORT_FAILED)


def own_imports(user: User, limit: int = 20) -> list[Import]:
    """The user's latest imports."""
    return list(
        db.session.scalars(
            select(Import)
            .where(Import.requested_by_id == user.id)
            .order_by(Import.id.desc())
            .limit(limit)
        )
    )


# -- the worker's side ------------------------------------------------------------------------


def claim(public_id: str) -> Import | None:
    """Move a queued import to running and commit; ``None`` when another worker has it."""
    claimed = db.session.execute(
        update(Import)
        .where(Import.public_id == public_id, Import.state == ImportState.QUEUED.value)
        .values(
            state=ImportState.RUNNING.value,
            progress=1,
            started_at=utcnow(),
            claimed_by=claimants.label(),
        )
    )
    commit_now(Checkpoint.IMPORT_CLAIM)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.scalars(select(Import).where(Import.public_id == public_id)).one()


def progress_writer(public_id: str) -> Callable[[int, int], None] | None:
    """Record progress in a transaction of its own, so pages see it while the import runs.

    SQLite has one writer at a time, and the import is that writer until it commits: there,
    progress shows only when the import is done.
    """
    if db.engine.dialect.name == "sqlite":
        return None

    def write(done: int, total: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                update(Import)
                .where(Import.public_id == public_id)
                .values(progress=max(1, min(99, 100 * done // max(total, 1))))
            )

    return write


def requeue_stale(queued_after: dt.timedelta, running_after: dt.timedelta) -> list[str]:
    """Imports whose message was lost (broker down) or whose worker died: queue them again.

    A queued import is only sent again (a duplicate message finds it claimed and does nothing);
    a running one past the task's hard time limit is put back in the queue only if it is still
    the same run. Applying is one transaction, so a worker that died wrote nothing.
    """
    now = utcnow()
    resend = list(
        db.session.scalars(
            select(Import.public_id).where(
                Import.state == ImportState.QUEUED.value, Import.created_at < now - queued_after
            )
        )
    )
    stuck = db.session.execute(
        select(Import.id, Import.public_id, Import.started_at).where(
            Import.state == ImportState.RUNNING.value, Import.started_at < now - running_after
        )
    ).all()
    for row_id, public_id, started_at in stuck:
        moved = db.session.execute(
            update(Import)
            .where(
                Import.id == row_id,
                Import.state == ImportState.RUNNING.value,
                Import.started_at == started_at,
            )
            .values(state=ImportState.QUEUED.value, progress=0)
        )
        if getattr(moved, "rowcount", 0) == 1:
            resend.append(public_id)
    for public_id in resend:
        jobs.after_commit(jobs.TaskName.IMPORTS_APPLY, public_id)
    return resend


def holders() -> set[str]:
    """The claimants running an import right now."""
    held = select(Import.claimed_by).where(Import.state == ImportState.RUNNING.value).distinct()
    return {holder for holder in db.session.scalars(held) if holder}


def resend_queued() -> list[str]:
    """Send every queued import again (a dead worker may have taken the message).

    The claim lets one worker run it; a duplicate message finds nothing to do.
    """
    queued = db.session.scalars(
        select(Import.public_id).where(Import.state == ImportState.QUEUED.value)
    ).all()
    for public_id in queued:
        jobs.after_commit(jobs.TaskName.IMPORTS_APPLY, public_id)
    return list(queued)


def requeue_orphans(gone: set[str]) -> list[str]:
    """Queue again at once the imports whose claimant is dead.

    Applying is one transaction, so a dead claimant wrote nothing. Each import is moved back
    only while that claimant still holds it.
    """
    rows = db.session.execute(
        select(Import.id, Import.public_id, Import.claimed_by).where(
            Import.state == ImportState.RUNNING.value, Import.claimed_by.in_(sorted(gone))
        )
    ).all()
    requeued = []
    for row_id, public_id, holder in rows:
        moved = db.session.execute(
            update(Import)
            .where(
                Import.id == row_id,
                Import.state == ImportState.RUNNING.value,
                Import.claimed_by == holder,
            )
            .values(state=ImportState.QUEUED.value, progress=0)
        )
        if getattr(moved, "rowcount", 0) == 1:
            jobs.after_commit(jobs.TaskName.IMPORTS_APPLY, public_id)
            requeued.append(public_id)
    return requeued
