"""A real Celery worker (Redis broker on PostgreSQL runs, SQLite broker otherwise) runs tasks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

from tests.conftest import Backend
from workers import celery_init_app

VENV_BIN = Path(sys.executable).parent


def _worker_env(app: Flask, backend: Backend) -> dict[str, str]:
    settings = app.config["SETTINGS"]
    env = dict(os.environ)
    env.update(
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=settings.secret_key,
        MONITOR_INSTANCE_PATH=str(settings.instance_path),
        MONITOR_DATABASE_URL=settings.database_url,
        MONITOR_REDIS_URL=backend.redis_url or "",
    )
    return env


def test_heartbeat_runs_on_a_real_worker(app: Flask, backend: Backend, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--pool=solo",
            f"--logfile={log}",
        ],
        env=_worker_env(app, backend),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        celery = celery_init_app(app)
        assert celery.conf.broker_url.startswith("redis://" if backend.redis_url else "sqla+sqlite")
        celery.send_task("monitor.heartbeat")
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if "monitor.heartbeat" in text and "succeeded" in text:
                break
            assert worker.poll() is None, f"worker exited early:\n{text}"
            time.sleep(0.3)
        assert "succeeded" in text, f"heartbeat never ran:\n{text}"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
