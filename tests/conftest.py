"""Shared fixtures: an app per test on SQLite and (when configured) PostgreSQL + Redis.

Set ``MONITOR_TEST_DATABASE_URL`` and ``MONITOR_TEST_REDIS_URL`` (``.ci/run`` does) to run every
test on PostgreSQL with Redis as well. Under ``CI=true`` they are required: missing services fail
the run instead of silently shrinking it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_migrate import upgrade

from monitor import create_app
from monitor.config import Settings
from monitor.extensions import db, limiter
from monitor.models import User
from monitor.services import users

PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("MONITOR_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"

if IN_CI and not (PG_URL and REDIS_URL):
    raise pytest.UsageError(
        "CI=true requires MONITOR_TEST_DATABASE_URL and MONITOR_TEST_REDIS_URL (see .ci/run)"
    )

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Backend:
    """Where a test's data lives."""

    name: str
    database_url: str
    redis_url: str | None


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """A migrated, empty database (once per session and backend)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite"
        chosen = Backend("sqlite", f"sqlite:///{path}", None)
    else:
        engine = sa.create_engine(_psycopg(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        chosen = Backend("postgresql", PG_URL, REDIS_URL or None)
    app = _make_app(chosen, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()  # the real migrations, so they are tested on every backend
        db.engine.dispose()
    return chosen


def _psycopg(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def _make_app(chosen: Backend, instance: Path) -> Flask:
    settings = Settings.from_env(
        {
            "MONITOR_ENV": "testing",
            "MONITOR_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "MONITOR_INSTANCE_PATH": str(instance),
            "MONITOR_DATABASE_URL": chosen.database_url,
            "MONITOR_REDIS_URL": chosen.redis_url or "",
            "MONITOR_BASE_URL": "http://monitor.test",
        }
    )
    return create_app(settings)


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """An app on the session's database; every row is deleted after the test."""
    if backend.redis_url:
        import redis

        redis.Redis.from_url(backend.redis_url).flushdb()
    application = _make_app(backend, tmp_path / "instance")
    with application.app_context():
        limiter.reset()
        yield application
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_request_globals(app: Flask) -> Iterator[None]:
    """Give every request its own ``g``, as in production.

    The ``app`` fixture keeps one app context open for the whole test, and Flask reuses it for
    each request, so ``g`` would outlive requests: Flask-Login's cached user would follow one
    browser into another, and Flask-WTF's cached CSRF token would outlive a login.
    """

    def reset(sender: Flask, **extra: Any) -> None:
        g.__dict__.clear()

    request_started.connect(reset, app)
    yield
    request_started.disconnect(reset, app)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the lowest cost: the default parameters take ~1 s per login here."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An anonymous browser."""
    return app.test_client()


def make_user(role: str, clearance: str, email: str | None = None) -> User:
    """Create and commit a user with the shared test password."""
    user = users.create_user(
        "test",
        users.UserInput(
            email=email or f"{role}.{clearance}@example.org",
            role=role,
            clearance=clearance,
            name=f"{role.title()} {clearance}",
        ),
        PASSWORD,
    )
    db.session.commit()
    return user


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form served at ``url``."""
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {url} (status {page.status_code})"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form, CSRF token included."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def client_for(app: Flask, role: str, clearance: str = "confidential") -> FlaskClient:
    """A browser logged in as a fresh user of that role and clearance."""
    user = make_user(role, clearance)
    browser = app.test_client()
    login(browser, user.email)
    return browser


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """Logged in as an admin cleared for everything."""
    return client_for(app, "admin")


@pytest.fixture
def editor_client(app: Flask) -> FlaskClient:
    """Logged in as an editor cleared for everything."""
    return client_for(app, "editor")


@pytest.fixture
def viewer_client(app: Flask) -> FlaskClient:
    """Logged in as a viewer cleared for public cases only."""
    return client_for(app, "viewer", "public")


@pytest.fixture
def demo(app: Flask) -> dict[str, str]:
    """The CNRP demo loaded; maps person name to case public id."""
    from monitor.services import seed

    cases = seed.seed_demo("test")
    db.session.commit()
    return {name: case.public_id for name, case in cases.items()}
