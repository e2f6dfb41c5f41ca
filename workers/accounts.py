"""Account tasks: the emails telling a user about a login from a new device, and about their
second factors removed by an admin."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from flask import current_app

from monitor.config import Settings
from monitor.jobs import TaskName
from monitor.mail.transport import PermanentMailError, TemporaryMailError, mailer_for
from monitor.services import alert_sending, credentials

log = logging.getLogger(__name__)
NOTICE_MAX_RETRIES = 30


@shared_task(
    bind=True,
    name=TaskName.ACCOUNTS_NEW_DEVICE,
    # Sending twice is harmless (one Message-ID per login), losing the notice is not.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=NOTICE_MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def new_device(self: Task[Any, Any], user_id: int, login: dict[str, Any]) -> bool:
    """Email a user about a login from a browser and address their account had not used."""
    settings: Settings = current_app.config["SETTINGS"]
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    try:
        return credentials.send_new_device_notice(user_id, login, mailer, settings)
    except TemporaryMailError as exc:
        countdown = alert_sending.backoff(settings, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except PermanentMailError:
        log.warning("the new-device notice for user %s was refused", user_id, exc_info=True)
        return False


@shared_task(
    bind=True,
    name=TaskName.ACCOUNTS_FACTORS_RESET,
    # Sending twice is harmless (one Message-ID per removal), losing the notice is not.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=NOTICE_MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def factors_reset(self: Task[Any, Any], user_id: int, notice: dict[str, Any]) -> bool:
    """Email a user whose second factors an admin removed (so a removal they did not ask for
    does not go unnoticed)."""
    settings: Settings = current_app.config["SETTINGS"]
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    try:
        return credentials.send_factors_reset_notice(user_id, notice, mailer, settings)
    except TemporaryMailError as exc:
        countdown = alert_sending.backoff(settings, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except PermanentMailError:
        log.warning("the factors-reset notice for user %s was refused", user_id, exc_info=True)
        return False
