"""Settings fail fast and read the documented variables."""

from __future__ import annotations

from email.headerregistry import HeaderRegistry
from pathlib import Path

import pytest

from monitor.config import ConfigError, Settings

AUDIT = {"MONITOR_AUDIT_KEY": "a" * 40}


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_SECRET_KEY"):
        Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path)})


def test_short_secret_key_is_rejected_in_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "short"})


def test_defaults_use_sqlite_under_instance_and_sqlite_broker(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40, **AUDIT}
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.redis_url is None


def test_redis_url_becomes_the_broker_and_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MONITOR_INSTANCE_PATH": str(tmp_path),
            "MONITOR_SECRET_KEY": "x" * 40,
            **AUDIT,
            "MONITOR_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
        }
    )
    assert settings.broker_url == "redis://127.0.0.1:6379/0"
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_secret_key_is_read_from_instance_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("k" * 48 + "\n")
    (tmp_path / "audit_key").write_text("a" * 48 + "\n")
    settings = Settings.from_env({"MONITOR_INSTANCE_PATH": str(tmp_path)})
    assert settings.secret_key == "k" * 48
    assert settings.audit_key == "a" * 48


def test_base_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_BASE_URL"):
        Settings.from_env(
            {
                "MONITOR_INSTANCE_PATH": str(tmp_path),
                "MONITOR_SECRET_KEY": "x" * 40,
                **AUDIT,
                "MONITOR_BASE_URL": "javascript:alert(1)",
            }
        )


def test_production_without_audit_key_refuses_to_start(tmp_path: Path) -> None:
    base = {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigError, match="MONITOR_AUDIT_KEY is required"):
        Settings.from_env(base)
    with pytest.raises(ConfigError, match="MONITOR_AUDIT_KEY must be at least 32"):
        Settings.from_env({**base, "MONITOR_AUDIT_KEY": "short"})


def test_development_generates_the_audit_key_beside_the_secret_key(tmp_path: Path) -> None:
    first = Settings.from_env(
        {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_ENV": "development"}
    )
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secret_key").is_file()
    assert len(first.audit_key) >= 32
    assert first.audit_key != first.secret_key
    again = Settings.from_env(
        {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_ENV": "development"}
    )
    assert again.audit_key == first.audit_key
    assert first.audit_key not in repr(first)


def test_organization_name_defaults_and_names_the_sender(tmp_path: Path) -> None:
    base = {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40, **AUDIT}
    default = Settings.from_env({**base, "MONITOR_BASE_URL": "https://cases.example.org"})
    assert default.organization_name == "case monitor"
    assert default.mail_from == "case monitor <alerts@cases.example.org>"
    named = Settings.from_env({**base, "MONITOR_ORGANIZATION_NAME": "  Cambodian  Rights, Watch "})
    assert named.organization_name == "Cambodian Rights, Watch"
    assert named.mail_from == '"Cambodian Rights, Watch" <alerts@localhost.localdomain>'
    with pytest.raises(ConfigError, match="MONITOR_ORGANIZATION_NAME"):
        Settings.from_env({**base, "MONITOR_ORGANIZATION_NAME": "x" * 201})


@pytest.mark.parametrize(
    ("base_url", "domain"),
    [
        ("http://127.0.0.1:5000", "localhost.localdomain"),
        ("http://localhost:5000", "localhost.localdomain"),
        ("http://[::1]:5000", "localhost.localdomain"),
        ("https://cases.example.org", "cases.example.org"),
    ],
)
def test_development_from_address_is_a_valid_mailbox(
    tmp_path: Path, base_url: str, domain: str
) -> None:
    base = {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40, **AUDIT}
    settings = Settings.from_env({**base, "MONITOR_BASE_URL": base_url})
    header = HeaderRegistry()("From", settings.mail_from)
    assert not header.defects
    [address] = header.addresses
    assert address.addr_spec == f"alerts@{domain}"
    assert address.display_name == "case monitor"


def test_a_configured_from_address_is_kept_as_it_is(tmp_path: Path) -> None:
    base = {"MONITOR_INSTANCE_PATH": str(tmp_path), "MONITOR_SECRET_KEY": "x" * 40, **AUDIT}
    configured = "Desk <desk@127.0.0.1>"
    settings = Settings.from_env({**base, "MONITOR_MAIL_FROM": configured})
    assert settings.mail_from == configured
