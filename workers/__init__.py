"""Celery bound to the Flask app: ``celery -A workers worker`` / ``celery -A workers beat``.

The Flask and Celery apps are built on first access of ``workers.app``, so tests and tools can
import :func:`celery_init_app` with settings of their own.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery[Any]:
    """Create the Celery app whose tasks run inside a Flask app context (Flask docs pattern)."""

    class FlaskTask(Task):  # type: ignore[type-arg]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

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
        beat_schedule={
            "heartbeat": {"task": "monitor.heartbeat", "schedule": 60.0},
        },
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        include=["workers.tasks"],
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
