"""Alert fixtures: a real SMTP server (aiosmtpd) in the test process, fast retry settings, and a
guard that fails any test opening an SMTP connection to anything but its own sink."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from monitor.config import Settings
from tests.api.conftest import (  # noqa: F401 - the API tests' fixtures, shared
    anonymous_api,
    api_as,
    editor_api,
    viewer_api,
)
from tests.support.alerts import FAST, dispatch_pending
from tests.support.processes import Celery, environment
from tests.support.smtp import ALLOWED_PORTS, SmtpSink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A running SMTP sink."""
    server = SmtpSink()
    ALLOWED_PORTS.add(server.port)
    server.start()
    yield server
    server.stop()
    ALLOWED_PORTS.discard(server.port)


@pytest.fixture
def idle_sink() -> Iterator[SmtpSink]:
    """A sink with a port reserved but not listening yet: connections are refused."""
    server = SmtpSink()
    ALLOWED_PORTS.add(server.port)
    yield server
    server.stop()
    ALLOWED_PORTS.discard(server.port)


@pytest.fixture(autouse=True)
def _only_expected_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SMTP connection from this process to something but a test's sink fails the test."""
    original = smtplib.SMTP.connect

    def guarded(self: smtplib.SMTP, host: str = "localhost", port: int = 0, **kwargs: Any) -> Any:
        if port not in ALLOWED_PORTS:
            pytest.fail(f"unexpected SMTP connection to {host}:{port}")
        return original(self, host, port, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)


@pytest.fixture
def configure(app: Flask) -> Callable[..., Settings]:
    """``configure(smtp_url=…, …)``: replace the app's settings for this test."""

    def apply(**changes: Any) -> Settings:
        settings: Settings = dataclasses.replace(app.config["SETTINGS"], **{**FAST, **changes})
        app.config["SETTINGS"] = settings
        return settings

    return apply


@pytest.fixture
def settings(configure: Callable[..., Settings], sink: SmtpSink) -> Settings:
    """The app's settings, sending to the sink with fast retries."""
    return configure(smtp_url=sink.url)


@pytest.fixture
def cnrp(demo: dict[str, str], settings: Settings) -> dict[str, str]:
    """The CNRP demo with its first events already dispatched (to nobody: no subscriber yet)."""
    dispatch_pending(settings)
    return demo


@pytest.fixture
def celery(app: Flask, tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """``celery(settings, **env)``: real worker and beat processes; all stopped after the test."""
    started: list[Celery] = []

    def make(settings: Settings, **extra: str) -> Celery:
        processes = Celery(environment(settings, **extra), tmp_path)
        started.append(processes)
        return processes

    yield make
    for processes in started:
        processes.stop()
