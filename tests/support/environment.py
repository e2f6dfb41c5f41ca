"""Where the tests run: the backends to test on, CI's rules, and a test app for a backend."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from monitor import create_app
from monitor.config import Settings
from monitor.extensions import db, limiter

PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("MONITOR_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_AUDIT_KEY = "test-audit-key-that-is-long-enough-0123456789"


@dataclass(frozen=True)
class Backend:
    """Where a test's data lives."""

    name: str
    database_url: str
    redis_url: str | None


def psycopg_url(url: str) -> str:
    """A PostgreSQL URL for SQLAlchemy's psycopg 3 driver."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def make_app(chosen: Backend, instance: Path) -> Flask:
    """A testing app on ``chosen``'s database and broker, with its instance folder."""
    settings = Settings.from_env(
        {
            "MONITOR_ENV": "testing",
            "MONITOR_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            # One key for every test app: apps on one database extend and verify one chain.
            "MONITOR_AUDIT_KEY": TEST_AUDIT_KEY,
            "MONITOR_INSTANCE_PATH": str(instance),
            "MONITOR_DATABASE_URL": chosen.database_url,
            "MONITOR_REDIS_URL": chosen.redis_url or "",
            "MONITOR_BASE_URL": "http://monitor.test",
            # Editors and admins log in with the password alone here; the second-factor tests
            # (tests/web/test_second_factor*.py) set MONITOR_REQUIRE_2FA themselves.
            "MONITOR_REQUIRE_2FA": "none",
        }
    )
    return create_app(settings)


@contextmanager
def second_app(test_app: Flask, chosen: Backend, instance: Path) -> Iterator[Flask]:
    """Another app beside the test's own, on ``chosen``'s database and Redis (one that is down,
    or about to be); its connections are closed at the end."""
    other = make_app(chosen, instance)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        limiter.init_app(test_app)  # the limiter is one object: give it back to the test's app


def unavailable(reason: str) -> None:
    """Skip for ``reason`` (a missing tool or font), except under ``CI=true``: fail there."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
