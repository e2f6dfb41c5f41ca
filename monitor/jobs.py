"""The job contract: every task's name, and queueing tasks only after their transaction commits.

:class:`TaskName` names each Celery task once; workers register their tasks under these names,
services and beat send them. Views and services call :func:`after_commit`; the tasks are sent from
SQLAlchemy's ``after_commit`` hook and dropped on rollback, so a worker never sees a row that does
not exist yet, and a failed request queues nothing. If the broker is unreachable at that moment the
send is logged and abandoned: the rows record what is still to do, and beat sweeps pick them up.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from celery import Celery
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from monitor.extensions import db

log = logging.getLogger(__name__)
_PENDING_KEY = "monitor.jobs.pending"


class TaskName(StrEnum):
    """Every Celery task, by the name its worker registers and its senders send.

    Here, below services, so that a sender names a task without importing the worker code that
    runs it; ``tests/workers/test_task_names.py`` proves the worker registers each one. A name
    travels in queued messages: changing one strands the messages already queued under it.
    """

    # Beat → workers.tasks.heartbeat.
    HEARTBEAT = "monitor.heartbeat"
    # Status change → alert, in the order a change travels (see monitor/services/alerts.py).
    # services.cases.record_status and services.alerts.sweep → workers.alerts.dispatch.
    ALERTS_DISPATCH = "monitor.alerts.dispatch"
    # services.alerts.queue_sends and resend → workers.alerts.send.
    ALERTS_SEND = "monitor.alerts.send"
    # Beat → workers.alerts.sweep.
    ALERTS_SWEEP = "monitor.alerts.sweep"
    # Beat, daily → workers.alerts.digest.
    ALERTS_DIGEST = "monitor.alerts.digest"
    # services.alerts.queue_digests → workers.alerts.send_digest.
    ALERTS_SEND_DIGEST = "monitor.alerts.send_digest"
    # services.subscriptions (double opt-in) → workers.alerts.confirm.
    ALERTS_CONFIRM = "monitor.alerts.confirm"
    # services.dossiers (request, stuck-render sweep) → workers.dossiers.render_dossier.
    DOSSIERS_RENDER = "monitor.dossiers.render"
    # Beat → workers.dossiers.expire_dossiers.
    DOSSIERS_EXPIRE = "monitor.dossiers.expire"
    # Beat → workers.dossiers.requeue_stuck_dossiers.
    DOSSIERS_REQUEUE_STUCK = "monitor.dossiers.requeue_stuck"
    # services.imports (confirm, stale-import sweep) → workers.imports.apply_import.
    IMPORTS_APPLY = "monitor.imports.apply"
    # Beat → workers.imports.requeue_stale.
    IMPORTS_REQUEUE_STALE = "monitor.imports.requeue_stale"
    # services.user_sessions.start_session (a login from a new device) → workers.accounts.
    ACCOUNTS_NEW_DEVICE = "monitor.accounts.new_device"
    # services.second_factor.reset (an admin removed a user's factors) → workers.accounts.
    ACCOUNTS_FACTORS_RESET = "monitor.accounts.factors_reset"
    # A worker starting (workers.recovery) and beat → workers.recovery.recover.
    CLAIMS_RECOVER = "monitor.claims.recover"


@dataclass(frozen=True)
class QueuedTask:
    """A task to send by name once the transaction commits."""

    name: TaskName
    args: tuple[Any, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def after_commit(name: TaskName, *args: Any, **options: Any) -> None:
    """Send task ``name`` (a :class:`TaskName`) with ``args`` once the transaction commits.

    Next: the caller's commit → :func:`_send_pending` → :func:`send_now` → the broker → the worker
    task registered under ``name`` (its :class:`TaskName` comment says which).
    """
    session = db.session()
    session.info.setdefault(_PENDING_KEY, []).append(QueuedTask(name, args, options))


def celery_client() -> Celery[Any]:
    """The app's Celery instance (the worker's own, or a send-only client in web processes)."""
    client = current_app.extensions.get("celery")
    if client is None:
        settings = current_app.config["SETTINGS"]
        client = Celery(current_app.name, set_as_current=False)
        client.conf.update(
            broker_url=settings.broker_url,
            broker_connection_timeout=2,
            task_serializer="json",
            accept_content=["json"],
        )
        current_app.extensions["celery"] = client
    return client


# The producer that the sends of one commit share (see _send_pending), if any.
_PRODUCER: ContextVar[Any] = ContextVar("monitor.jobs.producer", default=None)


def send_now(task: QueuedTask) -> bool:
    """Publish one task; False (and a log line) when the broker cannot take it.

    Next: a worker takes it from the broker and runs the task registered under its name, inside
    an app context (``FlaskTask`` in ``workers/__init__.py``).
    """
    try:
        celery_client().send_task(
            task.name,
            args=task.args,
            # Fail fast when the broker is down: the sweep, not the web request, retries.
            retry=True,
            retry_policy={
                "max_retries": 1,
                "interval_start": 0,
                "interval_step": 0.5,
                "interval_max": 0.5,
            },
            producer=_PRODUCER.get(),
            **task.options,
        )
    except Exception:  # any broker failure: the database still records the pending work
        log.warning(
            "could not queue %s%r; a sweep will pick it up", task.name, task.args, exc_info=True
        )
        return False
    return True


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    """After a commit, publish what :func:`after_commit` collected. Next: :func:`send_now`.

    Many tasks (an import queues one alert dispatch per status event) share one producer and
    its connection: about a third of the time of each taking one from the pool.
    """
    pending: list[QueuedTask] = session.info.pop(_PENDING_KEY, [])
    if len(pending) < 2:  # one task has nothing to share
        for task in pending:
            send_now(task)
        return
    try:
        shared = celery_client().producer_or_acquire()
        producer = shared.__enter__()
    except Exception:  # no producer: send as one-offs, each failing alone
        log.warning("no producer for %d tasks; sending one by one", len(pending), exc_info=True)
        producer, shared = None, None
    token = _PRODUCER.set(producer)
    try:
        for task in pending:
            send_now(task)
    finally:
        _PRODUCER.reset(token)
        if shared is not None:
            try:
                shared.__exit__(None, None, None)
            except Exception:  # the tasks are sent; a producer not returned to the pool is not
                log.warning("could not release the producer", exc_info=True)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING_KEY, None)
