"""Celery tasks. Tasks are thin: load by id, call a service, record the outcome."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy import text

from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.models.base import utcnow


@shared_task(name=TaskName.HEARTBEAT)
def heartbeat() -> str:
    """Prove a worker is alive and reaches the database; returns the time it ran."""
    db.session.execute(text("SELECT 1"))
    db.session.remove()
    return utcnow().isoformat()
