"""PostgreSQL restarted under load: the running app recovers by itself (issue 15, part 7).

A real HTTP server (the app on the test's PostgreSQL database, as ``make run`` serves it) takes
reads and writes from several clients while ``pg_ctlcluster … restart`` stops and starts the
database cluster. While it is down the app answers 503 (never 500, never a hang); once it is back
every request succeeds again, with no restart of the app, and the writes made after the restart
are kept.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from monitor.extensions import db
from monitor.models import Case, StatusEvent
from monitor.services import users
from tests.support.accounts import make_user
from tests.support.environment import Backend, second_app, unavailable
from tests.support.waiting import wait_until

pytestmark = pytest.mark.postgres

CLIENTS = 4
# A request must be answered, with data or a 503, in this long: a hang is a failure.
REQUEST_TIMEOUT_SECONDS = 20


@dataclass
class Answer:
    at: float
    status: int  # 0: no HTTP answer (connection refused, timed out)
    path: str


@dataclass
class Load:
    """Clients requesting in a loop until stopped; every answer kept in order."""

    base: str
    token: str
    case_ids: list[str]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, path: str, body: dict[str, object] | None = None) -> int:
        host, port = self.base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT_SECONDS)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            connection.request(
                method, path, body=json.dumps(body) if body is not None else None, headers=headers
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):  # refused, reset or timed out
            status = 0
        finally:
            connection.close()
        with self.lock:
            self.answers.append(Answer(time.monotonic(), status, path))
        return status

    def client(self, number: int) -> None:
        turn = 0
        while not self.stop.is_set():
            turn += 1
            case_id = self.case_ids[(number + turn) % len(self.case_ids)]
            if number == 0:
                self.request(
                    "POST",
                    f"/api/v1/cases/{case_id}/status-events",
                    {"status": "jailed", "occurred_on": f"2017-{turn % 12 + 1:02d}-01"},
                )
            elif number == 1:
                self.request("GET", "/api/v1/cases?q=sokha")
            elif number == 2:
                self.request("GET", f"/api/v1/cases/{case_id}")
            else:
                self.request("GET", "/api/v1/cases")

    def since(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.at >= moment]


def _cluster() -> tuple[str, str]:
    """The (version, name) of the local cluster serving port 5432."""
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listed.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return version, name
    raise AssertionError(f"no local cluster on port 5432:\n{listed}")


@pytest.fixture
def restartable_cluster(backend: Backend) -> tuple[str, str]:
    host = sa.make_url(backend.database_url).host
    if host not in {"127.0.0.1", "localhost", None}:
        unavailable(f"the test database is on {host}, not a local cluster this test can restart")
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        unavailable("pg_ctlcluster is not installed (Debian's postgresql-common)")
    return _cluster()


@pytest.fixture
def served(backend: Backend, app: Flask, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """A second app on the test's database, served over real HTTP by a threaded server."""
    with second_app(app, backend, tmp_path / "served") as other:
        server = make_server("127.0.0.1", 0, other, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield other, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)


def _restart(cluster: tuple[str, str]) -> None:
    version, name = cluster
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_requests_succeed_after_postgresql_restarts_under_load(
    app: Flask,
    demo: dict[str, str],
    restartable_cluster: tuple[str, str],
    served: tuple[Flask, str],
) -> None:
    editor = make_user("editor", "confidential")
    _, token = users.create_token("test", editor, "restart")
    db.session.commit()
    _, base = served
    load = Load(base, token, sorted(demo.values()))
    jailed_before = _jailed_events(load.case_ids)
    clients = [threading.Thread(target=load.client, args=(n,)) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        wait_until(
            lambda: sum(a.status in (200, 201) for a in load.since(0)) >= 20,
            30,
            "the clients to be served before the restart",
            lambda: str([(a.status, a.path) for a in load.since(0)[-10:]]),
        )
        restart_began = time.monotonic()
        _restart(restartable_cluster)
        restarted = time.monotonic()

        # Recovery without restarting the app: the last round of every client succeeds.
        def recovered() -> bool:
            recent = load.since(restarted)
            return len(recent) >= 4 * CLIENTS and all(
                a.status in (200, 201) for a in recent[-4 * CLIENTS :]
            )

        wait_until(
            recovered,
            60,
            "requests to succeed again after the restart",
            lambda: str([(a.status, a.path) for a in load.since(restarted)[-20:]]),
        )
    finally:
        load.stop.set()
        for client in clients:
            client.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)

    answers = load.since(0)
    statuses = {a.status for a in answers}
    assert 500 not in statuses, [a for a in answers if a.status == 500][:5]
    # While the database is down the app answers 503; every request got an HTTP answer in time.
    assert statuses <= {200, 201, 503}, sorted(statuses)
    assert any(a.at >= restart_began for a in answers if a.status in (200, 201))
    writes = [a for a in answers if "status-events" in a.path]
    accepted = sum(a.status == 201 for a in writes)
    accepted_after = sum(a.status == 201 for a in writes if a.at > restarted)
    assert accepted_after > 0, "status changes are recorded again after the restart"

    # Every status change answered 201 is kept; one answered otherwise may or may not have been
    # committed, never more than were tried. (The test's own session held a connection from
    # before the restart: it is discarded, and the next query checks out a new one.)
    db.session().invalidate()
    kept = _jailed_events(load.case_ids) - jailed_before
    assert accepted <= kept <= len(writes)


def _jailed_events(case_ids: list[str]) -> int:
    db.session.expire_all()
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(StatusEvent)
        .join(Case)
        .where(Case.public_id.in_(case_ids), StatusEvent.status == "jailed")
    )
    assert count is not None
    return int(count)
