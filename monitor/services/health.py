"""What the register can do right now: is the database answering, the broker, the rate limits.

``GET /healthz`` reports each part; the register serves as long as the database answers. Without
the broker, writes still commit and their alerts, dossiers and imports wait in the database for
beat's sweeps (``monitor/jobs.py``); without Redis, rate limits are counted in each process's
memory (Flask-Limiter's in-memory fallback). Every check is bounded: about a second for the
broker, the engine's connect timeout for the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from monitor.config import Settings
from monitor.extensions import db

log = logging.getLogger(__name__)

# What SQLAlchemy raises when the database cannot be reached or drops the connection (or, for
# SQLite, cannot open or lock its file), and when every pooled connection is busy: the request
# answers 503 with Retry-After, not 500. pool_pre_ping replaces dead connections, so the first
# request after the database is back succeeds without restarting the app.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
# Seconds a client is asked to wait (Retry-After) while the database is unavailable.
RETRY_AFTER_SECONDS = 30
# The broker check gives up after this many seconds, to connect and again to answer.
BROKER_TIMEOUT_SECONDS = 1.0


class State(StrEnum):
    """How one part of the register is doing."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    # Redis is configured for rate limits but does not answer: each process counts on its own.
    MEMORY_FALLBACK = "memory fallback"


@dataclass(frozen=True)
class Health:
    """The state of each part the register depends on."""

    database: State
    broker: State
    rate_limits: State

    @property
    def serving(self) -> bool:
        """The register can answer (perhaps degraded): only the database is indispensable."""
        return self.database is State.OK

    @property
    def summary(self) -> str:
        """``ok``, ``degraded`` (serving without some part) or ``unavailable``."""
        if not self.serving:
            return "unavailable"
        parts = (self.broker, self.rate_limits)
        return "ok" if all(part is State.OK for part in parts) else "degraded"

    def report(self) -> dict[str, str]:
        """The parts by name, as ``/healthz`` answers them."""
        return {
            "status": self.summary,
            "database": self.database.value,
            "broker": self.broker.value,
            "rate_limits": self.rate_limits.value,
        }


def check(settings: Settings) -> Health:
    """Check the database, the broker and the rate-limit storage, each within its timeout."""
    broker = _broker_state(settings.broker_url)
    if settings.redis_url is None:
        rate_limits = State.OK  # counted in memory by configuration, not as a fallback
    elif settings.redis_url == settings.broker_url:
        # One Redis holds both: the broker's answer is the rate limits' too.
        rate_limits = State.OK if broker is State.OK else State.MEMORY_FALLBACK
    else:
        reachable = _redis_answers(settings.redis_url)
        rate_limits = State.OK if reachable else State.MEMORY_FALLBACK
    return Health(_database_state(), broker, rate_limits)


def _database_state() -> State:
    # A connection of its own from the pool (pre-pinged), not the request's session.
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa_exc.SQLAlchemyError as exc:
        log.warning("health check: the database does not answer: %s", exc)
        return State.UNREACHABLE
    return State.OK


def _broker_state(url: str) -> State:
    if urlsplit(url).scheme in {"redis", "rediss"}:
        return State.OK if _redis_answers(url) else State.UNREACHABLE
    return State.OK if _sqlalchemy_broker_answers(url) else State.UNREACHABLE


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError) as exc:
        log.warning("health check: Redis does not answer: %s", exc)
        return False
    finally:
        client.close()


def _sqlalchemy_broker_answers(url: str) -> bool:
    # kombu's SQLAlchemy transport (``sqla+sqlite:///…`` without Redis) opens its database
    # lazily, so ask that database directly; a new connection each time, closed at once.
    engine = sa.create_engine(
        url.removeprefix("sqla+"), poolclass=NullPool, connect_args=_connect_timeout(url)
    )
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa_exc.SQLAlchemyError as exc:
        log.warning("health check: the broker's database does not answer: %s", exc)
        return False
    finally:
        engine.dispose()
    return True


def _connect_timeout(url: str) -> dict[str, float]:
    if "sqlite" in urlsplit(url).scheme:
        return {"timeout": BROKER_TIMEOUT_SECONDS}
    return {"connect_timeout": max(1, int(BROKER_TIMEOUT_SECONDS))}
