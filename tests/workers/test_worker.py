"""A real Celery worker (Redis broker on PostgreSQL runs, SQLite broker otherwise) runs tasks."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask

from monitor.jobs import TaskName
from tests.support.environment import Backend
from tests.support.processes import celery_worker
from workers import celery_init_app


def test_heartbeat_runs_on_a_real_worker(app: Flask, backend: Backend, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with celery_worker(app, log) as worker:
        celery = celery_init_app(app)
        assert celery.conf.broker_url.startswith("redis://" if backend.redis_url else "sqla+sqlite")
        celery.send_task(TaskName.HEARTBEAT)
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if TaskName.HEARTBEAT in text and "succeeded" in text:
                break
            assert worker.poll() is None, f"worker exited early:\n{text}"
            time.sleep(0.3)
        assert "succeeded" in text, f"heartbeat never ran:\n{text}"
