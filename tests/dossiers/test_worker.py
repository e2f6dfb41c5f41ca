"""A real Celery worker renders a dossier end to end (Redis broker on PostgreSQL runs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.jobs import TaskName
from tests.support.dossiers import Pdf, dossier, request_via_web
from tests.support.processes import celery_worker, log_text
from tests.support.waiting import wait_until
from workers import celery_init_app


def test_a_real_worker_renders_a_requested_dossier(
    *,
    app: Flask,
    editor_client: FlaskClient,
    demo: dict[str, str],
    read_pdf: type[Pdf],
    tmp_path: Path,
) -> None:
    celery = celery_init_app(app)
    render = celery.tasks[TaskName.DOSSIERS_RENDER]
    assert render.acks_late
    assert render.soft_time_limit == 120
    assert render.time_limit == 150
    assert celery.conf.worker_max_tasks_per_child
    assert celery.conf.worker_max_memory_per_child
    schedule = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert {TaskName.DOSSIERS_EXPIRE, TaskName.DOSSIERS_REQUEUE_STUCK} <= schedule

    # The web request queues the render through the real broker once it commits.
    public_id = request_via_web(
        editor_client, f"/cases/{demo['Kem Sokha']}", kind="case", case_id=demo["Kem Sokha"]
    )
    log = tmp_path / "worker.log"
    with celery_worker(app, log, pool="prefork") as worker:

        def finished() -> str | None:
            db.session.rollback()
            state = dossier(public_id).state
            if state in {"ready", "failed"}:
                return state
            assert worker.poll() is None, f"worker exited early:\n{log_text(log)}"
            return None

        state = wait_until(
            finished,
            120,
            "the dossier to be ready or failed",
            lambda: f"dossier {dossier(public_id).state}:\n{log_text(log)}",
            interval=0.5,
        )
        text = log_text(log)
        assert state == "ready", f"dossier {state}:\n{text}"
        assert TaskName.DOSSIERS_RENDER in text
        assert "succeeded" in text

    row = dossier(public_id)
    page = editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    assert row.sha256 is not None
    assert row.sha256 in page
    data = editor_client.get(f"/dossiers/{public_id}/pdf").data
    assert hashlib.sha256(data).hexdigest() == row.sha256
    pdf = read_pdf(data)
    assert "maximum 30 years" in pdf.words
    assert "AFP" in pdf.words
    assert int(pdf.info["Pages"]) == row.pages
