"""A real Celery worker (Redis broker on PostgreSQL runs, SQLite broker otherwise) runs tasks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from monitor.jobs import TaskName
from tests.support.environment import Backend
from tests.support.processes import celery_worker, log_text
from tests.support.waiting import wait_until
from workers import celery_init_app


def test_heartbeat_runs_on_a_real_worker(app: Flask, backend: Backend, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with celery_worker(app, log) as worker:
        celery = celery_init_app(app)
        assert celery.conf.broker_url.startswith("redis://" if backend.redis_url else "sqla+sqlite")
        celery.send_task(TaskName.HEARTBEAT)

        def heartbeat_ran() -> bool:
            text = log_text(log)
            if TaskName.HEARTBEAT in text and "succeeded" in text:
                return True
            assert worker.poll() is None, f"worker exited early:\n{text}"
            return False

        wait_until(heartbeat_ran, 60, "the heartbeat to run", lambda: log_text(log), interval=0.3)
        text = log_text(log)
        assert "succeeded" in text, f"heartbeat never ran:\n{text}"
