"""In-process work on the benchmark database: the admin account, sample ids, SQL query counts."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select

from bench.database import BenchError
from monitor import create_app
from monitor.config import Settings
from monitor.extensions import db
from monitor.models import Case, Person, User
from monitor.services import users

ADMIN_EMAIL = "bench-admin@example.org"
ACTOR = "bench"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Samples:
    """What the load test asks for: case ids and name fragments taken from the data."""

    case_ids: list[str]
    name_fragments: list[str]


def make_app(env: dict[str, str]) -> Flask:
    """The application as gunicorn will build it, from the same environment."""
    return create_app(Settings.from_env(env))


def ensure_admin(app: Flask, password: str) -> str:
    """An admin cleared for confidential cases, with this run's password; returns the email."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == ADMIN_EMAIL)).first()
        if user is None:
            users.create_user(
                ACTOR,
                users.UserInput(
                    email=ADMIN_EMAIL, role="admin", clearance="confidential", name="Benchmark"
                ),
                password,
            )
        else:
            users.set_password(ACTOR, user, password)
        db.session.commit()
    return ADMIN_EMAIL


def samples(app: Flask, count: int = 50) -> Samples:
    """Random case ids and synthetic name fragments (``Synthetic Kalomi 000123`` → ``kalom``)."""
    with app.app_context():
        case_ids = list(
            db.session.scalars(select(Case.public_id).order_by(func.random()).limit(count))
        )
        names = db.session.scalars(
            select(Person.name)
            .where(Person.name.like("Synthetic %"))
            .order_by(func.random())
            .limit(count)
        )
        fragments = sorted({name.split()[1][:5].lower() for name in names if len(name.split()) > 2})
        db.session.remove()
    if not case_ids or not fragments:
        raise BenchError("the benchmark database holds no synthetic cases")
    return Samples(case_ids, fragments)


def _login(client: FlaskClient, email: str, password: str) -> None:
    page = client.get("/login")
    match = _CSRF.search(page.get_data(as_text=True))
    if page.status_code != 200 or not match:
        raise BenchError(f"GET /login answered {page.status_code} without a csrf_token field")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )
    if response.status_code not in {302, 303}:
        raise BenchError(f"logging in (in process) answered {response.status_code}")


@contextmanager
def _recording(engine: Engine, statements: list[str]) -> Iterator[None]:
    def record(*args: Any) -> None:
        statements.append(str(args[2]))  # (conn, cursor, statement, parameters, context, many)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries_per_page(app: Flask, email: str, password: str, paths: list[str]) -> dict[str, int]:
    """SQL statements each page executes, counted in process with the Flask test client.

    The requests run outside any app context of ours, so each gets a fresh context and session
    as under gunicorn: nothing (the logged-in user, objects a lazy load could reuse) is cached
    from the request before.
    """
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    _login(client, email, password)
    counts: dict[str, int] = {}
    for path in paths:
        client.get(path)  # warm: first-connection and first-render work is not per page
        statements: list[str] = []
        with _recording(engine, statements):
            response = client.get(path)
        if response.status_code != 200:
            raise BenchError(f"GET {path} (in process) answered {response.status_code}")
        counts[path] = len(statements)
    engine.dispose()
    return counts


RESULTS = Path(__file__).resolve().parent / "results"


def new_password() -> str:
    """A password for this run's admin account."""
    return secrets.token_urlsafe(24)


@dataclass
class Recorded:
    """The SQL statements one page view ran, and the slowest with its parameters."""

    statements: list[str]
    slowest: tuple[str, Any] | None


def statements_per_page(
    app: Flask, email: str, password: str, paths: list[str]
) -> dict[str, Recorded]:
    """As :func:`queries_per_page`, keeping each page's statements and its slowest one."""
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    _login(client, email, password)
    found: dict[str, Recorded] = {}
    for path in paths:
        client.get(path)
        found[path] = _record(engine, client, path)
    engine.dispose()
    return found


def _record(engine: Engine, client: FlaskClient, path: str) -> Recorded:
    statements: list[str] = []
    timed: list[tuple[float, str, Any]] = []
    started: list[float] = []

    def before(*args: Any) -> None:
        statements.append(str(args[2]))
        started.append(time.perf_counter())

    def after(*args: Any) -> None:
        timed.append((time.perf_counter() - started.pop(), str(args[2]), args[3]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        response = client.get(path)
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    if response.status_code != 200:
        raise BenchError(f"GET {path} (in process) answered {response.status_code}")
    slowest = max(timed, key=lambda t: t[0], default=None)
    return Recorded(statements, None if slowest is None else (slowest[1], slowest[2]))
