"""Dossier tasks: render one dossier, and the two beat sweeps. Thin: the work is in the service.

The render task is idempotent (the claim lets one worker take a queued dossier; a duplicate
message finds nothing to do), so it acks late: a worker that dies mid-render leaves the message
to be redelivered, and the stuck-render sweep catches whatever is left in ``rendering``.
Transient database errors are retried with backoff; a template or data error is not — the
dossier is failed with the reason instead.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from monitor.config import Settings
from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.services import dossiers

log = logging.getLogger(__name__)

# Defaults; celery_init_app sets both from MONITOR_DOSSIER_RENDER_SECONDS via task annotations.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = SOFT_TIME_LIMIT + 30


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def task_annotations(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per-task options that depend on the settings (the render's time limits)."""
    return {
        TaskName.DOSSIERS_RENDER: {
            "soft_time_limit": settings.dossier_render_seconds,
            "time_limit": settings.dossier_render_seconds + 30,
        }
    }


@shared_task(
    name=TaskName.DOSSIERS_RENDER,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
)
def render_dossier(public_id: str) -> str:
    """Render one dossier by public id; returns its final state (or ``skipped``)."""
    settings = _settings()
    try:
        return dossiers.produce(public_id, settings)
    except SoftTimeLimitExceeded:
        db.session.rollback()
        dossiers.fail(
            public_id,
            f"rendering took longer than {settings.dossier_render_seconds} s; "
            "try a smaller selection",
            settings,
        )
        db.session.commit()
        return "failed"
    except (OperationalError, InterfaceError):
        # The database went away: put the dossier back in the queue for the retry (if the
        # database is still unreachable, the stuck-render sweep does it later).
        db.session.rollback()
        _back_to_queue(public_id)
        raise
    except Exception as exc:
        log.exception("dossier %s failed", public_id)
        db.session.rollback()
        dossiers.fail(public_id, f"internal error while rendering ({type(exc).__name__})", settings)
        db.session.commit()
        return "failed"
    finally:
        db.session.remove()


def _back_to_queue(public_id: str) -> None:
    try:
        dossiers.release(public_id)
        db.session.commit()
    except (OperationalError, InterfaceError):
        db.session.rollback()


@shared_task(name=TaskName.DOSSIERS_EXPIRE)
def expire_dossiers() -> int:
    """Delete dossiers past their expiry; returns how many."""
    try:
        count = dossiers.expire()
        db.session.commit()
        return count
    finally:
        db.session.remove()


@shared_task(name=TaskName.DOSSIERS_REQUEUE_STUCK)
def requeue_stuck_dossiers() -> dict[str, int]:
    """Re-queue stuck renders and re-send lost queue messages (sent after this commit)."""
    try:
        result = dossiers.requeue_stuck(_settings())
        db.session.commit()
        return {
            "requeued": len(result.requeued),
            "given_up": len(result.given_up),
            "resent": len(result.resent),
        }
    finally:
        db.session.remove()
