"""A Redis outage under a running app: the register keeps answering (issue 15, part 1).

Redis holds the rate limits and is the broker. With it killed, reads, a login, a status change
on the web and API calls must still answer; the status change is kept in the outbox (its
``alerts_pending`` flag) for the sweep to dispatch once the broker is back
(``tests/alerts/test_faults.py`` checks that the emails then arrive, once each).
"""

from __future__ import annotations

from flask import Flask

from monitor.extensions import db
from monitor.models import Case, StatusEvent
from monitor.services import users
from tests.support.accounts import login, make_user
from tests.support.processes import RedisServer
from tests.support.web import submit, text


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
