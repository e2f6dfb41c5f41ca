"""Sending email: over SMTP (``MONITOR_SMTP_URL``) or, with none configured, into ``.eml`` files.

Failures are sorted once, here: a :class:`TemporaryMailError` (4xx replies, refused or dropped
connections, timeouts) is worth retrying later; a :class:`PermanentMailError` (5xx replies to a
message) is not.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.mail.messages import Mail

_MESSAGE_ID = re.compile(r"<([^<>@\s]+)@[^<>\s]*>")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class MailError(Exception):
    """A message could not be handed over."""


class TemporaryMailError(MailError):
    """Try again later; ``connection_lost`` when the connection cannot take another message."""

    def __init__(self, message: str, *, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost


class PermanentMailError(MailError):
    """The server refused this message for good (a 5xx reply)."""


class MailConnection(Protocol):
    """An open channel that takes one message at a time."""

    def send(self, message: Mail) -> None:
        """Hand one message over, or raise a :class:`MailError`."""


class Mailer(Protocol):
    """Where mail goes."""

    def connect(self) -> contextlib.AbstractContextManager[MailConnection]:
        """Open a connection for a batch of messages."""


def wire_bytes(data: bytes) -> bytes:
    """``data`` with every line ending in CRLF, whatever built it.

    A bare LF or CR is what SMTP smuggling rides on: servers hardened against it refuse or
    rewrite such a message, and ``smtplib`` passes bytes through as they are.
    """
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def _reply(code: int, text: bytes | str) -> str:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(detail.split())}"


def classify(code: int, text: bytes | str) -> MailError:
    """A 4xx reply is temporary (421 also closes the connection); anything else is permanent."""
    if 400 <= code < 500:
        return TemporaryMailError(_reply(code, text), connection_lost=code == 421)
    return PermanentMailError(_reply(code, text))


class _SMTPConnection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, message: Mail) -> None:
        try:
            self._transaction(message)
        except smtplib.SMTPResponseException as exc:  # a refusal from the data phase
            raise classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, reset, timed out
            raise TemporaryMailError(
                f"connection lost: {exc or type(exc).__name__}", connection_lost=True
            ) from exc

    def _transaction(self, message: Mail) -> None:
        """MAIL, RCPT, DATA for one recipient (``sendmail`` without its address re-parsing,
        which costs more than the rest of the exchange for a message built here)."""
        client = self.client
        options = ""
        if not (message.sender.isascii() and message.recipient.isascii()):
            if not client.has_extn("smtputf8"):
                raise PermanentMailError("the server cannot take a non-ASCII address (SMTPUTF8)")
            options = " SMTPUTF8"
        for command, argument in (
            ("mail", f"FROM:<{message.sender}>{options}"),
            ("rcpt", f"TO:<{message.recipient}>"),
        ):
            code, reply = client.docmd(command, argument)
            if code not in {250, 251}:
                _reset(client)
                raise classify(code, reply)
        code, reply = client.data(wire_bytes(message.data))
        if code != 250:
            _reset(client)
            raise classify(code, reply)


def _reset(client: smtplib.SMTP) -> None:
    """Ready the connection for the next message; if it is gone, the next send finds out."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.rset()


@dataclass(frozen=True)
class SMTPMailer:
    """``smtp://user:pass@host:port?starttls=1`` or ``smtps://…`` (TLS from the first byte)."""

    url: str
    timeout: float = 30.0

    @property
    def description(self) -> str:
        """Where mail goes, without the password."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{self._port()}"

    def _port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (465 if parts.scheme == "smtps" else 25)

    def _open(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in {"1", "true", "yes"}
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                host, self._port(), timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, self._port(), timeout=self.timeout)
        try:
            client.ehlo_or_helo_if_needed()
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.ehlo_or_helo_if_needed()  # again after STARTTLS, which forgets the first
        except BaseException:
            client.close()
            raise
        return client

    @contextlib.contextmanager
    def connect(self) -> Iterator[MailConnection]:
        """One SMTP session; any failure to open it is temporary.

        A refused login or TLS handshake is a configuration problem here, not the recipient's:
        the deliveries wait (up to the retry window) for someone to fix the settings.
        """
        try:
            client = self._open()
        except smtplib.SMTPResponseException as exc:
            raise TemporaryMailError(
                f"{self.description}: {_reply(exc.smtp_code, exc.smtp_error)}",
                connection_lost=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise TemporaryMailError(
                f"{self.description}: {reason or type(exc).__name__}", connection_lost=True
            ) from exc
        try:
            yield _SMTPConnection(client)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
            client.close()


def eml_name(message_id: str) -> str:
    """The file a message is kept in: its Message-ID, so a resend replaces rather than adds."""
    match = _MESSAGE_ID.search(message_id)
    stem = match.group(1) if match else message_id
    return _UNSAFE_NAME.sub("_", stem)[:180] + ".eml"


class _FileConnection:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Mail) -> None:
        target = self.directory / eml_name(message.message_id)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write then rename, so the mailbox page never shows half a message.
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(wire_bytes(message.data))
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise TemporaryMailError(f"cannot write {target}: {exc}") from exc


@dataclass(frozen=True)
class FileMailer:
    """No SMTP server: every message becomes ``<directory>/<message id>.eml``."""

    directory: Path

    @property
    def description(self) -> str:
        """Where mail goes."""
        return f"files in {self.directory}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[MailConnection]:
        """Nothing to open; messages are written as they come."""
        yield _FileConnection(self.directory)


def mail_directory(instance_path: Path) -> Path:
    """Where messages are kept when no SMTP server is configured."""
    return instance_path / "mail"


def mailer_for(
    smtp_url: str | None, instance_path: Path, timeout: float
) -> SMTPMailer | FileMailer:
    """The SMTP server when one is configured, else ``.eml`` files under ``instance/mail/``."""
    if smtp_url:
        return SMTPMailer(smtp_url, timeout)
    return FileMailer(mail_directory(instance_path))
