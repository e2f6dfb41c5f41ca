"""The benchmark's own PostgreSQL database: create it, migrate it, fill it with synthetic cases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/case_monitor_bench"
TARGET_CASES = 100_000
# The lead's CI database and PostgreSQL's own; the benchmark must never write there.
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}


class BenchError(RuntimeError):
    """The benchmark cannot run (misconfiguration or a missing page); the message says why."""


def dedicated_url(variable: str = "MONITOR_BENCH_DATABASE_URL", default: str = DEFAULT_URL) -> str:
    """The PostgreSQL URL in ``variable`` (else ``default``), refusing shared databases."""
    url = os.environ.get(variable) or default
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise BenchError(f"{variable} must be a postgresql:// URL")
    name = parts.path.lstrip("/")
    if not name or name in FORBIDDEN_DATABASES:
        raise BenchError(f"refusing to benchmark in the database {name!r}; use a dedicated one")
    return urlunsplit(parts._replace(scheme="postgresql"))


def database_url() -> str:
    """The pages benchmark's database (``MONITOR_BENCH_DATABASE_URL``)."""
    return dedicated_url()


def libpq_url(url: str) -> str:
    """The URL as psycopg (libpq) accepts it, without SQLAlchemy's ``+psycopg`` driver suffix."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def redacted(url: str) -> str:
    """The URL with any password masked, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def database_name(url: str) -> str:
    """The database part of a PostgreSQL URL."""
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> bool:
    """Create the benchmark database when missing; True when it was created."""
    parts = urlsplit(libpq_url(url))
    name = database_name(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found:
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise BenchError(f"cannot reach PostgreSQL at {redacted(maintenance)}: {exc}") from exc
    return True


def count_cases(url: str) -> int:
    """How many cases the (migrated) benchmark database holds."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM cases").fetchone()
    return int(row[0]) if row else 0


def analyze(url: str) -> None:
    """Vacuum and refresh the planner's statistics, as autovacuum would after a bulk load in
    production (a server may run with autovacuum off, as this project's CI machine does).

    Right after seeding, PostgreSQL still believes the tables are nearly empty and picks plans
    that take seconds per page; measuring those would measure the missing statistics. The vacuum
    sets the visibility map, without which counts cannot use an index-only scan.
    """
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def monitor_command() -> list[str]:
    """The ``monitor`` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "monitor"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "flask", "--app", "monitor"]


def run_monitor(args: list[str], env: dict[str, str]) -> float:
    """Run one ``monitor …`` command with the benchmark environment; returns its duration."""
    started = time.perf_counter()
    result = subprocess.run(
        [*monitor_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BenchError(
            f"`monitor {' '.join(args)}` failed ({result.returncode}):\n{result.stderr.strip()}"
        )
    return time.perf_counter() - started


def prepare(url: str, env: dict[str, str]) -> dict[str, object]:
    """Create, migrate and (only when short of the target) seed the database; returns timings."""
    created = ensure_database(url)
    migrate_s = run_monitor(["init-db"], env)
    before = count_cases(url)
    seed_s = 0.0
    if before < TARGET_CASES:
        missing = TARGET_CASES - before
        print(f"seeding {missing:,} synthetic cases (bulk path, first run only) …", flush=True)
        seed_s = run_monitor(["seed-synthetic", "--cases", str(missing)], env)
    analyze(url)
    after = count_cases(url)
    return {
        "database_created": created,
        "migrate_seconds": round(migrate_s, 2),
        "seeded": after - before,
        "seed_seconds": round(seed_s, 2),
        "cases": after,
    }
