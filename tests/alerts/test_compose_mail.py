"""docker-compose sends alerts to a Mailpit catcher whose web UI shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def test_mailpit_catches_the_alerts_and_shows_them_on_its_web_ui() -> None:
    services = _services()
    mailpit = services["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert "127.0.0.1:8025:8025" in [str(p) for p in mailpit["ports"]]
    assert mailpit["healthcheck"]["test"]
    for name in ("web", "worker", "beat"):
        smtp = services[name]["environment"]["MONITOR_SMTP_URL"]
        # Overridable from the environment, Mailpit's SMTP port by default.
        assert smtp == "${MONITOR_SMTP_URL:-smtp://mailpit:1025}", name
    assert services["worker"]["depends_on"]["mailpit"]["condition"] == "service_healthy"
