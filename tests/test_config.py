"""Settings fail fast and read the documented variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, Settings


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_SECRET_KEY"):
        Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path)})


def test_short_secret_key_is_rejected_in_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "short"})


def test_defaults_use_sqlite_under_instance_and_sqlite_broker(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40}
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.redis_url is None


def test_redis_url_becomes_the_broker_and_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MONITOR_INSTANCE_PATH": str(tmp_path),
            "MONITOR_SECRET_KEY": "x" * 40,
            "MONITOR_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
        }
    )
    assert settings.broker_url == "redis://127.0.0.1:6379/0"
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_secret_key_is_read_from_instance_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("k" * 48 + "\n")
    settings = Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path)})
    assert settings.secret_key == "k" * 48


def test_base_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_BASE_URL"):
        Settings.from_env(
            {
                "MONITOR_INSTANCE_PATH": str(tmp_path),
                "MONITOR_SECRET_KEY": "x" * 40,
                "MONITOR_BASE_URL": "javascript:alert(1)",
            }
        )
