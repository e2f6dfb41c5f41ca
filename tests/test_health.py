"""Degrade, don't die (issue 15, part 1): ``/healthz`` names the part that is down, and an
unreachable database answers a plain 503 page or JSON, then recovers without a restart.

The outages are real: a private redis-server is stopped, a second app is pointed at a database
that cannot be opened (a closed port, or a SQLite file in a folder that does not exist), and on
PostgreSQL the app's own connections are cut with ``pg_terminate_backend``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.services import users
from tests.support.accounts import login, make_user
from tests.support.environment import Backend, psycopg_url, second_app
from tests.support.processes import RedisServer
from tests.support.smtp import free_port
from tests.support.web import submit, text

OUTAGE_TEXT = "database is not answering just now"


def test_livez_answers_ok_without_login_or_database(client: FlaskClient) -> None:
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"


def test_healthz_reports_every_part_ok_without_login(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "rate_limits": "ok",
    }
    assert "Set-Cookie" not in response.headers


def test_healthz_reports_the_broker_unreachable_while_redis_is_down(
    app_on_redis: Flask, private_redis: RedisServer
) -> None:
    client = app_on_redis.test_client()
    assert client.get("/healthz").get_json()["broker"] == "ok"

    private_redis.stop()
    began = time.monotonic()
    response = client.get("/healthz")
    took = time.monotonic() - began

    assert response.status_code == 200, "the register still serves"
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "broker": "unreachable",
        "rate_limits": "memory fallback",
    }
    assert took < 3, f"the broker check is bounded, took {took:.1f} s"

    private_redis.start()
    assert client.get("/healthz").get_json()["status"] == "ok"


def _unreachable_database(backend: Backend, tmp_path: Path) -> str:
    """A database URL of the test's backend that nothing answers."""
    if backend.name == "postgresql":
        url = sa.make_url(psycopg_url(backend.database_url)).set(port=free_port())
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'monitor.sqlite'}"


@pytest.fixture
def app_without_database(backend: Backend, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """A second app, same secret key, whose database cannot be reached."""
    chosen = Backend(backend.name, _unreachable_database(backend, tmp_path), None)
    with second_app(app, chosen, tmp_path / "no-database") as unreachable:
        yield unreachable


def test_healthz_answers_503_without_the_database(app_without_database: Flask) -> None:
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "unreachable",
        "broker": "ok",
        "rate_limits": "ok",
    }
    assert response.headers["Retry-After"] == "30"
    # Liveness does not depend on the database: the process need not be restarted.
    assert app_without_database.test_client().get("/livez").status_code == 200


def test_a_logged_in_user_gets_a_plain_503_page_while_the_database_is_down(
    app: Flask, app_without_database: Flask
) -> None:
    editor = make_user("editor", "confidential")
    db.session.commit()
    browser = app.test_client()
    login(browser, editor.email)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    outage = app_without_database.test_client()
    outage.set_cookie("session", cookie.value)  # the same browser, now served during the outage

    for page in ("/", "/cases", "/cases?q=sokha"):
        response = outage.get(page)
        assert response.status_code == 503, page
        assert response.headers["Retry-After"] == "30"
        assert response.mimetype == "text/html"
        body = text(response)
        assert "Temporarily unavailable" in body
        assert OUTAGE_TEXT in body
        assert "Traceback" not in body
        assert "OperationalError" not in body
        assert "sqlite" not in body.lower()
        assert "postgres" not in body.lower()


def test_a_missing_page_is_still_a_404_for_a_logged_in_user_while_the_database_is_down(
    app: Flask, app_without_database: Flask
) -> None:
    viewer = make_user("viewer", "public")
    db.session.commit()
    browser = app.test_client()
    login(browser, viewer.email)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    outage = app_without_database.test_client()
    outage.set_cookie("session", cookie.value)

    response = outage.get("/no-such-page")
    assert response.status_code == 404, "its page is drawn without the logged-in user"
    assert "Not found" in text(response)
    assert viewer.email not in text(response)


def test_a_login_while_the_database_is_down_answers_503(app_without_database: Flask) -> None:
    browser = app_without_database.test_client()
    assert browser.get("/login").status_code == 200, "the login form itself needs no database"
    response = submit(browser, "/login", {"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 503
    assert OUTAGE_TEXT in text(response)


def test_the_api_answers_503_json_while_the_database_is_down(
    app: Flask, app_without_database: Flask
) -> None:
    viewer = make_user("viewer", "public")
    _, token = users.create_token("test", viewer, "outage")
    db.session.commit()
    api = app_without_database.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    for method, path in (("GET", "/api/v1/cases"), ("POST", "/api/v1/people")):
        response = api.open(path, method=method, headers=bearer, json={"name": "Kem Sokha"})
        assert response.status_code == 503, (method, path)
        # At least our 30 s: Flask-Limiter raises it to the end of the API's rate-limit window.
        assert int(response.headers["Retry-After"]) >= 30
        assert response.get_json() == {"error": "the database is unavailable; try again later"}


# Set on the second app's connections, so that only they are cut (others use the server too).
APPLICATION_NAME = "monitor-health-test"


@pytest.fixture
def app_on_postgresql(backend: Backend, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """A second app on the test's PostgreSQL database, its connections named its own way."""
    # Only tests marked postgres use it: their SQLite copies are deselected (tests/conftest.py).
    assert backend.name == "postgresql"
    url = sa.make_url(backend.database_url).update_query_dict(
        {"application_name": APPLICATION_NAME}
    )
    chosen = Backend(backend.name, url.render_as_string(hide_password=False), None)
    with second_app(app, chosen, tmp_path / "named") as named:
        yield named


def _cut_connections(app: Flask) -> list[int]:
    """Terminate the server processes of the named app's connections; their pids."""
    with app.app_context(), db.engine.connect() as admin:
        pids = admin.scalars(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                "AND pid <> pg_backend_pid()"
            ),
            {"name": APPLICATION_NAME},
        ).all()
        for pid in pids:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    return list(pids)


@pytest.mark.postgres
def test_the_register_recovers_when_postgresql_drops_its_connections(
    app: Flask, app_on_postgresql: Flask, demo: dict[str, str]
) -> None:
    viewer = make_user("viewer", "public")
    _, token = users.create_token("test", viewer, "recovery")
    db.session.commit()
    api = app_on_postgresql.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/cases", headers=bearer).status_code == 200

    cut = _cut_connections(app)  # from the test's own app, which carries no such name
    assert cut, "the second app held pooled connections"

    # The next requests are served on new connections: no 503, no restart.
    listed = api.get("/api/v1/cases", headers=bearer)
    assert listed.status_code == 200, listed.get_json()
    assert listed.get_json()["total"] == len(demo)
    assert api.get("/healthz").get_json()["database"] == "ok"
    with app_on_postgresql.app_context(), db.engine.connect() as connection:
        now = connection.scalar(sa.text("SELECT pg_backend_pid()"))
    assert now not in cut
