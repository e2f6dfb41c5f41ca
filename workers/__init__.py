"""Celery bound to the Flask app: ``celery -A workers worker`` / ``celery -A workers beat``.

The Flask and Celery apps are built on first access of ``workers.app``, so tests and tools can
import :func:`celery_init_app` with settings of their own.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask
from kombu import Exchange, Queue

from monitor.jobs import TaskName


def celery_init_app(app: Flask) -> Celery[Any]:
    """Create the Celery app whose tasks run inside a Flask app context (Flask docs pattern)."""

    class FlaskTask(Task):  # type: ignore[type-arg]
        # A message's first stop in a worker; next: the task function registered under its name.
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    from workers.dossiers import task_annotations as dossier_task_annotations
    from workers.recovery import RECOVERY_QUEUE  # also connects the worker's start-up signals

    settings = app.config["SETTINGS"]
    celery_app: Celery[Any] = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=settings.broker_url,
        # Task outcomes live in the database rows tasks update, not in a result backend.
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # One task at a time per process, so a long task does not hold others hostage.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Redis hands a task not acknowledged within visibility_timeout to another worker. Tasks
        # with a retry countdown sit unacknowledged in a worker until they are due, so this
        # must outlast the longest countdown (Settings checks it), or they would run twice.
        # (The SQLite broker has no such timeout, and passes these options to its engine.)
        broker_transport_options=(
            {"visibility_timeout": settings.broker_visibility_timeout} if settings.redis_url else {}
        ),
        # An acks_late task cut off by a lost broker connection will be redelivered: stop it
        # rather than let both copies run (alert tasks are idempotent either way).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Plain strings (.value): beat pickles its entries to beat_schedule_filename, and a
        # pickled enum would tie that file to where TaskName lives.
        beat_schedule={
            "heartbeat": {"task": TaskName.HEARTBEAT.value, "schedule": 60.0},
            "dossiers-expire": {"task": TaskName.DOSSIERS_EXPIRE.value, "schedule": 600.0},
            "dossiers-requeue-stuck": {
                "task": TaskName.DOSSIERS_REQUEUE_STUCK.value,
                "schedule": 60.0,
            },
            # Alerts left behind by a broker outage or a killed worker; a sweep not started
            # within its interval is dropped, the next one does the same work.
            "alerts-sweep": {
                "task": TaskName.ALERTS_SWEEP.value,
                "schedule": settings.alert_sweep_seconds,
                "options": {"expires": settings.alert_sweep_seconds},
            },
            "imports-requeue-stale": {
                "task": TaskName.IMPORTS_REQUEUE_STALE.value,
                "schedule": 60.0,
            },
            # Claims of workers that died holding them (a starting worker asks at once too).
            "claims-recover": {
                "task": TaskName.CLAIMS_RECOVER.value,
                "schedule": settings.recovery_seconds,
                "options": {"expires": settings.recovery_seconds},
            },
            "alerts-daily-digest": {
                "task": TaskName.ALERTS_DIGEST.value,
                "schedule": crontab(minute=0, hour=settings.alert_digest_hour),
            },
        },
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        include=[
            "workers.tasks",
            "workers.dossiers",
            "workers.alerts",
            "workers.imports",
            "workers.accounts",
            "workers.recovery",
        ],
        # Every worker consumes both queues, taking from each in turn: a recovery is not held
        # up behind a backlog of sends.
        task_queues=[
            Queue("celery", Exchange("celery"), routing_key="celery"),
            Queue(RECOVERY_QUEUE, Exchange("celery"), routing_key=RECOVERY_QUEUE),
        ],
        task_routes={TaskName.CLAIMS_RECOVER.value: {"queue": RECOVERY_QUEUE}},
        # WeasyPrint's memory grows with what it has rendered: recycle worker children after a
        # number of tasks, or sooner past ~400 MB resident (KiB), so RSS stays bounded.
        worker_max_tasks_per_child=100,
        worker_max_memory_per_child=400_000,
        task_annotations=dossier_task_annotations(settings),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def __getattr__(name: str) -> Any:
    # `celery -A workers` looks up `workers.app`; build it from the environment on first use.
    if name in {"app", "flask_app"}:
        from monitor import create_app

        flask_app = create_app()
        globals()["flask_app"] = flask_app
        globals()["app"] = celery_init_app(flask_app)
        return globals()[name]
    raise AttributeError(name)
