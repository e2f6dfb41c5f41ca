"""Alert settings are read from the environment and checked for consistency at start-up."""

from __future__ import annotations

import pytest

from monitor.config import ConfigError, Settings

BASE = {"MONITOR_ENV": "testing", "MONITOR_SECRET_KEY": "k" * 40}


def test_defaults_retry_for_a_day_and_outlast_the_longest_countdown() -> None:
    settings = Settings.from_env(BASE)
    assert settings.smtp_url is None  # .eml files under instance/mail/
    assert settings.alert_retry_hours == 24
    assert settings.broker_visibility_timeout > settings.alert_retry_max_seconds
    assert settings.alert_claim_seconds >= 6 * settings.smtp_timeout


def test_fast_test_settings_are_accepted() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "MONITOR_SMTP_URL": "smtp://user:pa%20ss@mail.example.org:587?starttls=1",
            "MONITOR_SMTP_TIMEOUT": "0.5",
            "MONITOR_ALERT_RETRY_BASE_SECONDS": "0.1",
            "MONITOR_ALERT_CLAIM_SECONDS": "3",
            "MONITOR_ALERT_DIGEST_HOUR": "23",
        }
    )
    assert settings.alert_retry_base_seconds == 0.1
    assert settings.alert_digest_hour == 23


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MONITOR_SMTP_URL": "http://mail"}, "MONITOR_SMTP_URL"),
        ({"MONITOR_ALERT_RETRY_BASE_SECONDS": "soon"}, "number of seconds"),
        ({"MONITOR_ALERT_RETRY_BASE_SECONDS": "0"}, "more than 0"),
        ({"MONITOR_ALERT_DIGEST_HOUR": "24"}, "0 to 23"),
        ({"MONITOR_ALERT_CLAIM_SECONDS": "10"}, "6 × MONITOR_SMTP_TIMEOUT"),
        ({"MONITOR_BROKER_VISIBILITY_TIMEOUT": "3600"}, "longer than"),
        ({"MONITOR_ALERT_BATCH_SIZE": "0"}, "1 or more"),
    ],
)
def test_unusable_alert_settings_stop_the_app(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**BASE, **env})
