"""The development mailbox: the ``.eml`` files kept when no SMTP server is configured."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.eml$")
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
# What a kept HTML part may load once shown: its inline styles and data: images, nothing from
# the network (no tracking pixel, no remote font), no script, no form.
HTML_PART_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
)
# Put at the top of the HTML part: the policy, and links that open in a new tab (the frame
# shows the message, not the pages it links to).
_PREAMBLE = (
    f'<meta http-equiv="Content-Security-Policy" content="{HTML_PART_POLICY}">'
    '<base target="_blank">'
)
_KIND = re.compile(r"<(alert|digest|confirm)\.")


@dataclass(frozen=True)
class StoredMessage:
    """One kept message, as the mailbox lists it."""

    name: str
    message_id: str
    kind: str
    subject: str
    to: str
    stored_at: dt.datetime


@dataclass(frozen=True)
class OpenedMessage:
    """A kept message with its readable parts."""

    summary: StoredMessage
    headers: list[tuple[str, str]]
    text: str
    html: str | None


def _summary(path: Path, message: EmailMessage) -> StoredMessage:
    message_id = str(message.get("Message-ID", ""))
    kind = _KIND.match(message_id)
    return StoredMessage(
        name=path.name,
        message_id=message_id,
        kind=kind.group(1) if kind else "other",
        subject=str(message.get("Subject", "")),
        to=str(message.get("To", "")),
        stored_at=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC),
    )


def _parse(path: Path, headers_only: bool) -> EmailMessage:
    with path.open("rb") as handle:
        parsed = BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)
    assert isinstance(parsed, EmailMessage)  # noqa: S101 - policy.default builds EmailMessage
    return parsed


def list_messages(directory: Path, limit: int = 200) -> list[StoredMessage]:
    """The newest kept messages first."""
    if not directory.is_dir():
        return []
    paths = [p for p in directory.iterdir() if _NAME.match(p.name) and p.is_file()]
    paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [_summary(p, _parse(p, headers_only=True)) for p in paths[:limit]]


def _inside(directory: Path, name: str) -> Path | None:
    if not _NAME.match(name):
        return None
    root = os.path.realpath(directory)
    target = os.path.realpath(directory / name)
    if os.path.commonpath([root, target]) != root or not os.path.isfile(target):
        return None
    return Path(target)


def open_message(directory: Path, name: str) -> OpenedMessage | None:
    """One kept message by file name, or None for a name that is not a message in the folder."""
    path = _inside(directory, name)
    if path is None:
        return None
    message = _parse(path, headers_only=False)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return OpenedMessage(
        summary=_summary(path, message),
        headers=[(k, str(v)) for k, v in message.items()],
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else None,
    )


def framed_html(html: str) -> str:
    """The HTML part ready for a sandboxed frame's ``srcdoc``: with its own content policy
    (nothing loaded from the network) and links opening outside the frame.

    The frame's ``sandbox`` is what keeps scripts out; this policy also stops remote loads the
    page's own policy would allow from the app's origin.
    """
    head = _HEAD.search(html)
    if head is None:
        return _PREAMBLE + html
    return html[: head.end()] + _PREAMBLE + html[head.end() :]
