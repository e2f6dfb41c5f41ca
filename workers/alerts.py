"""Alert tasks: thin wrappers that load by id, call a service, commit and retry.

Reliability, task by task (the broker-wide settings are in ``workers/__init__.py``):

- ``acks_late`` + ``reject_on_worker_lost`` on every task here, since each is idempotent: a
  dispatch re-run adds no delivery (unique per event and subscription), a send re-run skips what is
  sent or claimed. A message whose worker died is redelivered instead of lost.
- Temporary SMTP failures are retried with exponential backoff and jitter until a day after the
  delivery was queued (``MONITOR_ALERT_RETRY_*``); a 5xx reply ends the delivery as ``failed``.
  Template or data errors are not retried: they would fail the same way again.
- Time limits: a soft limit hands unsent deliveries back (their claims are released) before the
  hard limit kills the process.
- Beat runs :func:`sweep` every ``MONITOR_ALERT_SWEEP_SECONDS``: events still flagged
  ``alerts_pending`` (the broker was down at commit) and deliveries overdue (a lost message, a
  killed worker) are queued again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import Task, shared_task
from flask import current_app

from monitor.config import Settings
from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.mail.transport import Mailer, TemporaryMailError, mailer_for
from monitor.services import alert_sending, alerts

SEND_SOFT_LIMIT = 300
# Deliveries written per commit: the first emails leave while the rest of a fan-out is written.
DISPATCH_PART = 2000
CONFIRM_MAX_RETRIES = 30


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _mailer(settings: Settings) -> Mailer:
    return mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)


@shared_task(
    name=TaskName.ALERTS_DISPATCH,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=180,
)
def dispatch(event_id: int) -> int:
    """Write one delivery per subscriber of a status event and queue the sends.

    Next: ``services.alerts.dispatch``; each part's commit publishes its sends (:func:`send`).
    """
    written = 0
    while True:
        step = alerts.dispatch(event_id, _settings(), limit=DISPATCH_PART)
        db.session.commit()  # this part's sends are published after this commit
        written += step.written
        if step.done:
            return written


@shared_task(
    bind=True,
    name=TaskName.ALERTS_SEND,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded by each delivery's give-up time instead
    soft_time_limit=SEND_SOFT_LIMIT,
    time_limit=SEND_SOFT_LIMIT + 60,
)
def send(self: Task[Any, Any], delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch of alerts over one SMTP connection; retry the temporary failures later.

    Next: ``services.alert_sending.send_deliveries``.
    """
    settings = _settings()
    result = alert_sending.send_deliveries(delivery_ids, _mailer(settings), settings)
    if result.retry_ids:
        raise self.retry(args=(result.retry_ids,), countdown=result.retry_in)
    return {"sent": result.sent, "failed": result.failed, "suppressed": result.suppressed}


@shared_task(name=TaskName.ALERTS_SWEEP, soft_time_limit=120, time_limit=180)
def sweep() -> dict[str, int]:
    """Beat: re-queue pending events and overdue deliveries."""
    found = alerts.sweep(_settings())
    db.session.commit()
    return {"events": found.events, "deliveries": found.deliveries}


@shared_task(name=TaskName.ALERTS_DIGEST, soft_time_limit=120, time_limit=180)
def digest() -> int:
    """Beat, once a day: queue one digest per daily subscriber with something to tell."""
    queued = alerts.queue_digests()
    db.session.commit()
    return queued


@shared_task(
    bind=True,
    name=TaskName.ALERTS_SEND_DIGEST,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded by each delivery's give-up time instead
    soft_time_limit=SEND_SOFT_LIMIT,
    time_limit=SEND_SOFT_LIMIT + 60,
)
def send_digest(self: Task[Any, Any], subscription_id: int, cutoff: str) -> int:
    """One daily digest email for one subscriber."""
    settings = _settings()
    result = alert_sending.send_digest(
        subscription_id, dt.datetime.fromisoformat(cutoff), _mailer(settings), settings
    )
    if result.retry_ids:
        raise self.retry(countdown=result.retry_in)
    return result.sent


@shared_task(
    bind=True,
    name=TaskName.ALERTS_CONFIRM,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=CONFIRM_MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def confirm(self: Task[Any, Any], subscription_id: int) -> bool:
    """Email the double opt-in link of a new subscription."""
    settings = _settings()
    try:
        return alert_sending.send_confirmation(subscription_id, _mailer(settings), settings)
    except TemporaryMailError as exc:
        countdown = alert_sending.backoff(settings, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
