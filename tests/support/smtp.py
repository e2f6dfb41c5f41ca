"""An SMTP server (aiosmtpd) in the test process that records what it accepts, fails on demand and
can hold conversations at RCPT."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.waiting import wait_until

SINK_HOST = "127.0.0.1"
# Ports a test may open SMTP connections to (the guard fixture in tests/alerts/conftest.py).
ALLOWED_PORTS: set[int] = set()


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
    raw: bytes  # the message as it came over the wire

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
    # Conversations whose recipient was accepted and whose DATA has not ended yet. (One dropped
    # between RCPT and DATA stays counted: read it only while no connection is being killed.)
    past_rcpt: int = 0
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
        with self._lock:
            if not envelope.rcpt_tos:
                self.past_rcpt += 1
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept (and record) or refuse a message."""
        reply = self._reply("data", envelope.rcpt_tos[0] if envelope.rcpt_tos else None)
        if reply:
            with self._lock:
                self.past_rcpt -= 1
            return reply
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(
                Received(
                    envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.original_content
                )
            )
            self.past_rcpt -= 1
        return "250 2.0.0 Accepted"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Poll until ``count`` messages are in (fails after ``timeout`` seconds)."""
        wait_until(
            lambda: len(self.messages) >= count,
            timeout,
            f"{count} messages",
            lambda: f"{len(self.messages)} messages",
            interval=0.02,
        )
        return list(self.messages)

    def to(self, email: str) -> list[Received]:
        """Messages accepted for one address."""
        return [m for m in self.messages if email in m.rcpt_tos]

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(m.message_id for m in self.messages)
