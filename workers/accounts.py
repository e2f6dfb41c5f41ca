"""Account tasks: the emails telling a user about a login from a new device, and about their
second factors removed by an admin."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from flask import current_app

from monitor.config import Settings
from monitor.jobs import TaskName
from monitor.mail.transport import Mailer, PermanentMailError, TemporaryMailError, mailer_for
from monitor.services import alert_sending, credentials

log = logging.getLogger(__name__)
NOTICE_MAX_RETRIES = 30

# Sending a notice twice is harmless (one Message-ID per login or removal), losing it is not.
_NOTICE_TASK: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": NOTICE_MAX_RETRIES,
    "soft_time_limit": 120,
    "time_limit": 180,
}


def _send_notice(
    task: Task[Any, Any], what: str, user_id: int, send: Callable[[Mailer, Settings], bool]
) -> bool:
    """Send one account notice; a temporary mail failure is retried with the alerts' backoff,
    a refusal is logged and dropped."""
    settings: Settings = current_app.config["SETTINGS"]
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    try:
        return send(mailer, settings)
    except TemporaryMailError as exc:
        countdown = alert_sending.backoff(settings, task.request.retries + 1)
        raise task.retry(exc=exc, countdown=countdown) from exc
    except PermanentMailError:
        log.warning("the %s notice for user %s was refused", what, user_id, exc_info=True)
        return False


@shared_task(name=TaskName.ACCOUNTS_NEW_DEVICE, **_NOTICE_TASK)
def new_device(self: Task[Any, Any], user_id: int, login: dict[str, Any]) -> bool:
    """Email a user about a login from a browser and address their account had not used."""
    return _send_notice(
        self,
        "new-device",
        user_id,
        lambda mailer, settings: credentials.send_new_device_notice(
            user_id, login, mailer, settings
        ),
    )


@shared_task(name=TaskName.ACCOUNTS_FACTORS_RESET, **_NOTICE_TASK)
def factors_reset(self: Task[Any, Any], user_id: int, notice: dict[str, Any]) -> bool:
    """Email a user whose second factors an admin removed (so a removal they did not ask for
    does not go unnoticed)."""
    return _send_notice(
        self,
        "factors-reset",
        user_id,
        lambda mailer, settings: credentials.send_factors_reset_notice(
            user_id, notice, mailer, settings
        ),
    )
