"""Child processes on the test app's database and broker: a real Celery worker, ``monitor``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from monitor.config import Settings

VENV_BIN = Path(sys.executable).parent


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a worker, beat or ``monitor`` command needs to act on the test's database,
    broker and SMTP server, plus ``extra``."""
    env = dict(os.environ)
    env.update(
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=settings.secret_key,
        MONITOR_INSTANCE_PATH=str(settings.instance_path),
        MONITOR_DATABASE_URL=settings.database_url,
        MONITOR_REDIS_URL=settings.redis_url or "",
        MONITOR_BASE_URL=settings.base_url,
        MONITOR_SMTP_URL=settings.smtp_url or "",
    )
    env.update(extra)
    return env


def app_env(app: Flask) -> dict[str, str]:
    """:func:`settings_env` of the test app."""
    return settings_env(app.config["SETTINGS"])


def log_text(log: Path) -> str:
    """The worker's log so far."""
    return log.read_text() if log.exists() else ""


@contextmanager
def celery_worker(app: Flask, log: Path, pool: str = "solo") -> Iterator[subprocess.Popen[bytes]]:
    """One worker process logging to ``log``; stopped when the block ends."""
    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            f"--pool={pool}",
            f"--logfile={log}",
        ],
        env=app_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
