"""Alert fixtures: a real SMTP server (aiosmtpd) in the test process, fast retry settings, and a
guard that fails any test opening an SMTP connection to anything but its own sink."""

from __future__ import annotations

import asyncio
import dataclasses
import smtplib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from monitor.config import Settings
from tests.api.conftest import (  # noqa: F401 - the API tests' fixtures, shared
    anonymous_api,
    api_as,
    editor_api,
    viewer_api,
)

SINK_HOST = "127.0.0.1"
_ALLOWED_PORTS: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((SINK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        """The Message-ID header."""
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        """The decoded subject."""
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        """The decoded text of the ``plain`` or ``html`` part."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class _Rule:
    stage: str
    reply: str
    times: int | None
    rcpt: str | None


@dataclass
class SmtpSink:
    """An SMTP server that records what it accepts and fails on demand."""

    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    rcpt_attempts: int = 0
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None
    _hold_after: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """``MONITOR_SMTP_URL`` for this sink."""
        return f"smtp://{SINK_HOST}:{self.port}"

    def start(self) -> None:
        """Start listening (a sink may be created first, to refuse connections for a while)."""
        self._controller = Controller(self, hostname=SINK_HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self.released.set()
            self._controller.stop()
            self._controller = None

    def fail(
        self, stage: str, reply: str, *, times: int | None = 1, rcpt: str | None = None
    ) -> None:
        """Answer ``reply`` at ``rcpt`` or ``data`` (for ``times`` messages; None: always)."""
        with self._lock:
            self._rules.append(_Rule(stage, reply, times, rcpt))

    def hold_after(self, accepted: int) -> None:
        """Once ``accepted`` messages are in, keep every new conversation waiting at RCPT."""
        self._hold_after = accepted

    def release(self) -> None:
        """Let held conversations go on."""
        self._hold_after = None
        self.released.set()

    def _reply(self, stage: str, rcpt: str | None) -> str | None:
        with self._lock:
            for rule in self._rules:
                if rule.stage != stage or (rule.rcpt and rule.rcpt != rcpt):
                    continue
                if rule.times is None:
                    return rule.reply
                if rule.times > 0:
                    rule.times -= 1
                    return rule.reply
        return None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept, refuse or hold a recipient."""
        with self._lock:
            self.rcpt_attempts += 1
        while self._hold_after is not None and len(self.messages) >= self._hold_after:
            self.held.set()
            await asyncio.sleep(0.02)
        reply = self._reply("rcpt", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept (and record) or refuse a message."""
        reply = self._reply("data", envelope.rcpt_tos[0] if envelope.rcpt_tos else None)
        if reply:
            return reply
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Accepted"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Poll until ``count`` messages are in (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def to(self, email: str) -> list[Received]:
        """Messages accepted for one address."""
        return [m for m in self.messages if email in m.rcpt_tos]

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(m.message_id for m in self.messages)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A running SMTP sink."""
    server = SmtpSink()
    _ALLOWED_PORTS.add(server.port)
    server.start()
    yield server
    server.stop()
    _ALLOWED_PORTS.discard(server.port)


@pytest.fixture
def idle_sink() -> Iterator[SmtpSink]:
    """A sink with a port reserved but not listening yet: connections are refused."""
    server = SmtpSink()
    _ALLOWED_PORTS.add(server.port)
    yield server
    server.stop()
    _ALLOWED_PORTS.discard(server.port)


@pytest.fixture(autouse=True)
def _only_expected_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SMTP connection from this process to something but a test's sink fails the test."""
    original = smtplib.SMTP.connect

    def guarded(self: smtplib.SMTP, host: str = "localhost", port: int = 0, **kwargs: Any) -> Any:
        if port not in _ALLOWED_PORTS:
            pytest.fail(f"unexpected SMTP connection to {host}:{port}")
        return original(self, host, port, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)


# Short enough for tests, and consistent with Settings' own checks.
FAST = {
    "smtp_timeout": 2.0,
    "alert_retry_base_seconds": 0.2,
    "alert_retry_max_seconds": 1.0,
    "alert_claim_seconds": 12.0,
    "alert_sweep_seconds": 1.0,
}
FAST_ENV = {
    "MONITOR_SMTP_TIMEOUT": "2",
    "MONITOR_ALERT_RETRY_BASE_SECONDS": "0.2",
    "MONITOR_ALERT_RETRY_MAX_SECONDS": "1",
    "MONITOR_ALERT_CLAIM_SECONDS": "12",
    "MONITOR_ALERT_SWEEP_SECONDS": "1",
}


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
    from tests.alerts.helpers import dispatch_pending

    dispatch_pending(settings)
    return demo


@pytest.fixture
def celery(app: Flask, tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """``celery(settings, **env)``: real worker and beat processes; all stopped after the test."""
    from tests.alerts.processes import Celery, environment

    started: list[Celery] = []

    def make(settings: Settings, **extra: str) -> Celery:
        processes = Celery(environment(settings, **extra), tmp_path)
        started.append(processes)
        return processes

    yield make
    for processes in started:
        processes.stop()
