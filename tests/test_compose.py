"""docker-compose.yml and the image, checked without a Docker engine.

No Docker engine runs on these machines, so the compose file is validated against the Compose
Specification's JSON Schema (shared/reference/compose-spec.json, beside the repository) and the
promises a user relies on are asserted directly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT.parent / "shared" / "reference" / "compose-spec.json"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as Compose reads it (YAML anchors resolved, no interpolation)."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services section."""
    section: dict[str, dict[str, Any]] = compose["services"]
    return section


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else shlex.join(command)


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):  # short form: started, never "healthy"
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA_FILE.is_file():
        message = f"the Compose Specification schema is missing: {SCHEMA_FILE}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(compose)
    ]
    assert problems == []


def test_the_five_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_web_waits_for_healthy_postgres_and_redis(services: dict[str, dict[str, Any]]) -> None:
    depends = _depends_on(services["web"])
    assert depends.get("postgres") == "service_healthy"
    assert depends.get("redis") == "service_healthy"
    # "healthy" can only ever happen when the service has a health check.
    for name in ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_web_migrates_then_serves_gunicorn_on_port_5000(
    services: dict[str, dict[str, Any]],
) -> None:
    web = services["web"]
    command = _command(web)
    assert "monitor init-db" in command
    assert "gunicorn" in command
    assert command.index("monitor init-db") < command.index("gunicorn")
    assert "monitor:create_app()" in command
    assert "0.0.0.0:8000" in command
    assert "5000:8000" in [str(port) for port in web["ports"]]
    assert "/healthz" in json.dumps(web["healthcheck"]["test"])


def test_every_app_service_reads_its_settings_from_the_environment(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert "@postgres:5432/" in env["MONITOR_DATABASE_URL"], name
        assert env["MONITOR_REDIS_URL"].startswith("redis://redis:6379/"), name
        assert env["MONITOR_BASE_URL"], name


def test_secret_key_is_required_from_the_environment_not_written_down(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("web", "worker", "beat"):
        for variable in ("MONITOR_SECRET_KEY", "MONITOR_AUDIT_KEY"):
            secret = services[name]["environment"][variable]
            # ${VAR:?message} makes `docker compose up` stop with the message when it is unset.
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", secret), f"{name}: {secret!r}"
            assert variable not in (ROOT / "Dockerfile").read_text()


def test_worker_and_beat_run_celery_on_the_workers_app(
    services: dict[str, dict[str, Any]],
) -> None:
    assert _command(services["worker"]).startswith("celery -A workers worker")
    assert _command(services["beat"]).startswith("celery -A workers beat")


def test_image_runs_as_a_non_root_user_with_the_pdf_packages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", dockerfile, re.MULTILINE)
    for package in ("fonts-noto-core", "libharfbuzz-subset0", "poppler-utils"):
        assert package in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "the image never leaves root"
    assert users[-1] not in {"root", "0"}
    assert "monitor:create_app()" in dockerfile


def test_local_secrets_and_environments_stay_out_of_the_image() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    # instance/ holds `make run`'s secret key, admin password and SQLite database.
    assert {"instance", ".venv", ".git"} <= ignored
