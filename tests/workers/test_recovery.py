"""Fast recovery after a crash, with real workers (issue 15, parts 6 and 7).

A dossier render and an import are SIGKILLed with their worker mid-way; a replacement worker
starts, and its start-up recovery (``workers.recovery``) queues them again at once: each is
finished within 60 s of the replacement starting, once. No beat runs: without the recovery the
render would wait for the stuck-render sweep (twice its time limit) and the import for the
stale-import sweep (its hard time limit and a minute).

The census those recoveries rely on for workers on other machines is tested here too, against
live, killed and restarted workers on a private Redis.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from monitor.extensions import db
from monitor.models import AuditEntry, Case, Dossier, Import
from monitor.services import claimants, imports
from monitor.services.claimants import Claimant
from tests.support.accounts import make_user
from tests.support.dossiers import audit_entries, dossier, request_via_web
from tests.support.imports import csv_bytes, fingerprint, mp
from tests.support.processes import Celery, RedisServer, environment
from tests.support.waiting import wait_until
from workers import celery_init_app
from workers.recovery import take_census


@pytest.fixture
def processes(app: Flask, tmp_path: Path) -> Iterator[Celery]:
    """Supervised worker processes on the test app's settings; all stopped after the test."""
    started = Celery(environment(app.config["SETTINGS"]), tmp_path)
    yield started
    started.stop()


def test_a_census_hears_each_running_worker_and_not_a_killed_one(
    app: Flask, private_redis: RedisServer, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        app.config["SETTINGS"], redis_url=private_redis.url, broker_url=private_redis.url
    )
    app.config["SETTINGS"] = settings
    processes = Celery(environment(settings), tmp_path)
    try:
        worker = processes.worker()
        client = celery_init_app(app)
        census = take_census(client, 2.0, None)
        assert census is not None
        (node,) = census
        assert node.startswith("alerts-test-0@")
        (heard,) = census[node]
        assert worker.popen is not None
        children = heard.pids - {worker.popen.pid}
        assert worker.popen.pid in heard.pids
        assert len(children) == 2, heard  # the prefork pool's two processes
        assert heard.run is not None
        # A claim one of its children took, judged as from another machine: the census alone.
        owner = Claimant(node, heard.run, min(children), None, None, answers=True).label()
        assert claimants.gone({owner}, census) == set()

        worker.kill()
        silent = take_census(client, 2.0, None)
        assert silent == {}
        assert claimants.gone({owner}, silent) == {owner}

        processes.ready(worker.start())  # the same node name, a new run
        again = take_census(client, 2.0, None)
        assert again is not None
        assert [answer.run for answer in again[node]] != [heard.run]
        assert claimants.gone({owner}, again) == {owner}
        # The asking worker must hear itself, or the census proves nothing.
        assert take_census(client, 2.0, ("someone@else", "run")) is None
    finally:
        processes.stop()
        current_app.extensions.pop("celery", None)


def test_a_dossier_killed_mid_render_is_ready_within_a_minute_of_a_replacement_starting(
    *,
    app: Flask,
    editor_client: FlaskClient,
    demo: dict[str, str],
    processes: Celery,
) -> None:
    worker = processes.worker()
    case_id = demo["Kem Sokha"]
    public_id = request_via_web(editor_client, f"/cases/{case_id}", kind="case", case_id=case_id)

    def hold_while_rendering() -> bool:
        # Locks the row (PostgreSQL) or the database (SQLite) once the worker has claimed it:
        # the render can then store nothing, and the kill lands between claim and result.
        held = db.session.execute(
            update(Dossier)
            .where(Dossier.public_id == public_id, Dossier.state == "rendering")
            .values(progress=Dossier.progress)
        )
        if getattr(held, "rowcount", 0) == 1:
            return True
        db.session.rollback()
        return False

    wait_until(hold_while_rendering, 120, "the render to start", processes.logs, interval=0.02)
    worker.kill()
    db.session.rollback()
    killed = dossier(public_id)
    assert (killed.state, killed.attempts) == ("rendering", 1)
    assert str(killed.claimed_by).startswith("alerts-test-0@")

    worker.start()
    wait_until(
        lambda: dossier(public_id).state in {"ready", "failed"},
        60,
        "the dossier to be rendered within 60 s of the replacement starting",
        processes.logs,
        interval=0.5,
    )
    row = dossier(public_id)
    assert (row.state, row.attempts) == ("ready", 2), row.error
    assert len(audit_entries("dossier.ready", public_id)) == 1
    data = editor_client.get(f"/dossiers/{public_id}/pdf").data
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == row.sha256


# Rows enough for the apply to take seconds, so the kill lands while it runs.
IMPORT_ROWS = 400


def test_an_import_killed_mid_apply_is_applied_once_within_a_minute_of_a_replacement_starting(
    app: Flask, demo: dict[str, str], processes: Celery
) -> None:
    settings = dataclasses.replace(app.config["SETTINGS"], import_inline_rows=5)
    app.config["SETTINGS"] = settings
    editor = make_user("editor", "confidential")
    rows = [
        mp(n, external_id=f"CNRP-{n:03d}", name=f"Member {n:03d}")
        for n in range(1, IMPORT_ROWS + 1)
    ]
    record, report = imports.stage(editor, "mps.csv", csv_bytes(rows), settings)
    assert report.ok, report.problems[:3]
    db.session.commit()
    before = fingerprint()
    worker = processes.worker()
    imports.confirm(editor, record, settings)
    db.session.commit()  # queued, and sent to the worker

    def state() -> str:
        db.session.rollback()
        return db.session.scalars(select(Import.state).where(Import.id == record.id)).one()

    wait_until(
        lambda: state() == "running", 120, "the import to start", processes.logs, interval=0.02
    )
    worker.kill()
    assert state() == "running", "the import finished before the kill: more rows are needed"
    assert fingerprint() == before, "a killed import writes nothing"

    worker.start()
    wait_until(
        lambda: state() in {"done", "failed"},
        60,
        "the import to be applied within 60 s of the replacement starting",
        processes.logs,
        interval=0.5,
    )
    done = db.session.get(Import, record.id)
    assert done is not None
    assert (done.state, done.failure) == ("done", None)
    after = fingerprint()
    assert after["cases"] == before["cases"] + IMPORT_ROWS
    assert db.session.scalar(select(func.count()).select_from(Case)) == len(demo) + IMPORT_ROWS
    applied = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import.apply")
    ).all()
    assert [entry.entity_id for entry in applied] == [record.public_id]
