"""The SMTP transport: logging in, and sorting failures into temporary and permanent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.mail import messages
from monitor.mail.transport import (
    PermanentMailError,
    SMTPMailer,
    TemporaryMailError,
    classify,
)
from tests.support.smtp import ALLOWED_PORTS, SINK_HOST, SmtpSink, free_port

SENDER = messages.Sender("case monitor <alerts@monitor.test>", "monitor.test")


def _confirmation() -> messages.Mail:
    return messages.confirmation_message(
        SENDER,
        email="ann@example.org",
        name="Ann",
        subscription_id="sub1",
        scope="every public case",
        confirm_url="http://monitor.test/alerts/confirm/x",
    )


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    def text(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value

    ok = isinstance(auth_data, LoginPassword) and (
        text(auth_data.login),
        text(auth_data.password),
    ) == ("desk", "p@ss word")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_sink() -> Iterator[SmtpSink]:
    """A sink that offers AUTH (without TLS: this is a test on the loopback)."""
    sink = SmtpSink()
    ALLOWED_PORTS.add(sink.port)
    controller = Controller(
        sink,
        hostname=SINK_HOST,
        port=sink.port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield sink
    controller.stop()
    ALLOWED_PORTS.discard(sink.port)


# aiosmtpd itself still sets a deprecated attribute after a successful login.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
def test_logs_in_with_the_url_encoded_credentials(auth_sink: SmtpSink) -> None:
    mailer = SMTPMailer(f"smtp://desk:p%40ss%20word@{SINK_HOST}:{auth_sink.port}", timeout=5)
    with mailer.connect() as connection:
        connection.send(_confirmation())
    [received] = auth_sink.messages
    assert received.rcpt_tos == ["ann@example.org"]
    assert mailer.description == f"smtp://{SINK_HOST}:{auth_sink.port}"  # no password


def test_a_refused_login_is_a_temporary_failure(auth_sink: SmtpSink) -> None:
    # A settings problem, not the recipient's: deliveries wait for someone to fix it.
    mailer = SMTPMailer(f"smtp://desk:wrong@{SINK_HOST}:{auth_sink.port}", timeout=5)
    with pytest.raises(TemporaryMailError, match="535") as caught, mailer.connect():
        pass
    assert caught.value.connection_lost


def test_nobody_listening_is_a_temporary_failure() -> None:
    port = free_port()
    ALLOWED_PORTS.add(port)
    try:
        with (
            pytest.raises(TemporaryMailError, match="Connection refused"),
            SMTPMailer(f"smtp://{SINK_HOST}:{port}", timeout=2).connect(),
        ):
            pass
    finally:
        ALLOWED_PORTS.discard(port)


@pytest.mark.parametrize(
    ("code", "temporary", "closes"),
    [(421, True, True), (450, True, False), (451, True, False), (550, False, False)],
)
def test_replies_are_sorted_by_their_code(code: int, temporary: bool, closes: bool) -> None:
    error = classify(code, b"reason")
    assert isinstance(error, TemporaryMailError if temporary else PermanentMailError)
    assert str(error) == f"{code} reason"
    assert getattr(error, "connection_lost", False) is closes


def test_refusals_mid_session_leave_the_connection_usable(sink: SmtpSink) -> None:
    sink.fail("rcpt", "550 5.1.1 No such user", rcpt="ann@example.org")
    with SMTPMailer(sink.url, timeout=5).connect() as connection:
        with pytest.raises(PermanentMailError, match=r"550 5\.1\.1 No such user"):
            connection.send(_confirmation())
        connection.send(_confirmation())
    assert len(sink.messages) == 1
