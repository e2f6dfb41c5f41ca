"""Shared fixtures: an app per test on SQLite and (when configured) PostgreSQL + Redis.

Set ``MONITOR_TEST_DATABASE_URL`` and ``MONITOR_TEST_REDIS_URL`` (``.ci/run`` does) to run every
test on PostgreSQL with Redis as well. Under ``CI=true`` they are required: missing services fail
the run instead of silently shrinking it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_migrate import upgrade

from monitor.extensions import db, limiter
from monitor.services import users
from tests.support.accounts import client_for
from tests.support.environment import (
    BACKENDS,
    IN_CI,
    PG_URL,
    REDIS_URL,
    Backend,
    make_app,
    psycopg_url,
    second_app,
)
from tests.support.processes import RedisServer, private_redis_server

if IN_CI and not (PG_URL and REDIS_URL):
    raise pytest.UsageError(
        "CI=true requires MONITOR_TEST_DATABASE_URL and MONITOR_TEST_REDIS_URL (see .ci/run)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``postgres`` runs on the PostgreSQL backend only: its SQLite copy is
    deselected (not skipped), so a CI run shows no skip for what cannot apply."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        (drop if item.get_closest_marker("postgres") and on_sqlite else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """A migrated, empty database (once per session and backend)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite"
        chosen = Backend("sqlite", f"sqlite:///{path}", None)
    else:
        engine = sa.create_engine(psycopg_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        chosen = Backend("postgresql", PG_URL, REDIS_URL or None)
    app = make_app(chosen, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()  # the real migrations, so they are tested on every backend
        db.engine.dispose()
    return chosen


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """An app on the session's database; every row is deleted after the test."""
    if backend.redis_url:
        import redis

        redis.Redis.from_url(backend.redis_url).flushdb()
    application = make_app(backend, tmp_path / "instance")
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


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop at will (the machine's Redis never is)."""
    with private_redis_server(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def app_on_redis(
    backend: Backend, app: Flask, tmp_path: Path, private_redis: RedisServer
) -> Iterator[Flask]:
    """A second app on the test's database whose rate limits and broker are that Redis."""
    chosen = Backend(backend.name, backend.database_url, private_redis.url)
    with second_app(app, chosen, tmp_path / "on-redis") as on_redis:
        yield on_redis
