"""A Redis outage under a running app: the register keeps answering (issue 15, part 1).

Redis holds the rate limits and is the broker. With it killed, reads, a login, a status change
on the web and API calls must still answer; the status change is kept in the outbox (its
``alerts_pending`` flag) for the sweep to dispatch once the broker is back
(``tests/alerts/test_faults.py`` checks that the emails then arrive, once each).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from monitor.extensions import db, limiter
from monitor.models import Case, StatusEvent
from monitor.services import users
from tests.support.accounts import login, make_user
from tests.support.environment import IN_CI, Backend, make_app
from tests.support.processes import RedisServer
from tests.support.smtp import free_port
from tests.support.web import submit, text


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (the machine's Redis is never stopped)."""
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI=true (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port(), tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_on_redis(
    backend: Backend, app: Flask, tmp_path: Path, private_redis: RedisServer
) -> Iterator[Flask]:
    """A second app on the test's database whose rate limits and broker are that Redis."""
    outage_app = make_app(
        Backend(backend.name, backend.database_url, private_redis.url), tmp_path / "outage"
    )
    yield outage_app
    with outage_app.app_context():
        db.engine.dispose()
    limiter.init_app(app)  # the limiter is one object: give it back to the test's own app


def test_the_register_answers_while_redis_is_down(
    app: Flask, demo: dict[str, str], app_on_redis: Flask, private_redis: RedisServer
) -> None:
    editor = make_user("editor", "confidential")
    _, token = users.create_token("test", editor, "outage")
    db.session.commit()
    browser = app_on_redis.test_client()
    login(browser, editor.email)  # counted in Redis while it answers

    private_redis.stop()

    # Reads: the list, a search, Kem Sokha's case, the API.
    assert browser.get("/cases").status_code == 200
    found = browser.get("/cases?q=sokha")
    assert found.status_code == 200
    assert "Kem Sokha" in text(found)
    assert browser.get(f"/cases/{demo['Kem Sokha']}").status_code == 200
    api = app_on_redis.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    listed = api.get("/api/v1/cases", headers=bearer)
    assert listed.status_code == 200, listed.get_json()
    assert listed.get_json()["total"] == len(demo)

    # A login (a rate-limited form) still works.
    again = app_on_redis.test_client()
    login(again, editor.email)

    # A write: Mao Monyvann jailed. The request answers promptly; the alert waits in the outbox.
    case_id = demo["Mao Monyvann"]
    recorded = submit(
        browser,
        f"/cases/{case_id}/status",
        {"status": "jailed", "occurred_on": "2017-11", "certainty": "confirmed"},
    )
    assert recorded.status_code == 302, text(recorded)
    db.session.expire_all()
    case = db.session.scalars(db.select(Case).where(Case.public_id == case_id)).one()
    assert case.status == "jailed"
    latest = db.session.scalars(
        db.select(StatusEvent).order_by(StatusEvent.id.desc()).limit(1)
    ).one()
    assert latest.status == "jailed"
    assert latest.alerts_pending is True, "the sweep dispatches it once the broker is back"
