"""CSV import tasks: apply one confirmed import, and the beat sweep that re-queues lost ones.

Applying is one database transaction, so a worker that dies mid-import wrote nothing: the task
acks late and the sweep puts a stale import back in the queue. The claim (queued → running)
makes a duplicate message a no-op.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app

from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.services import ValidationError, imports

log = logging.getLogger(__name__)

# 20,000 rows (the default row limit) take a few minutes; the hard limit frees a stuck worker.
SOFT_TIME_LIMIT = 30 * 60
TIME_LIMIT = SOFT_TIME_LIMIT + 60


@shared_task(
    name=TaskName.IMPORTS_APPLY,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def apply_import(public_id: str) -> str:
    """Check and apply one queued import; returns its final state (or ``skipped``)."""
    record = imports.claim(public_id)
    if record is None:
        return "skipped"
    try:
        settings = current_app.config["SETTINGS"]
        imports.run(record.requested_by, record, settings, imports.progress_writer(public_id))
        db.session.commit()
        return "done"
    except ValidationError as exc:
        errors = list(record.errors)
        db.session.rollback()
        imports.fail(public_id, str(exc.errors.get("file", exc)), errors)
    except SoftTimeLimitExceeded:
        db.session.rollback()
        imports.fail(public_id, f"the import took longer than {SOFT_TIME_LIMIT // 60} minutes")
    except Exception:
        db.session.rollback()
        log.exception("import %s failed", public_id)
        imports.fail(public_id, "an unexpected error stopped the import; nothing was written")
    return "failed"


@shared_task(name=TaskName.IMPORTS_REQUEUE_STALE)
def requeue_stale() -> int:
    """Queue again imports whose message was lost or whose worker died."""
    stale = imports.requeue_stale(
        queued_after=dt.timedelta(minutes=2),
        running_after=dt.timedelta(seconds=TIME_LIMIT + 60),
    )
    db.session.commit()
    return len(stale)
