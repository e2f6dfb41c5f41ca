"""What a message must look like on the wire: RFC 5322 line ends and line lengths, and that it reads
back as it was meant."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage

_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")
# Header fields the policy folds (text people wrote goes into them): no line over 78 columns.
FOLDED = ("From", "To", "Subject")


def wire_faults(data: bytes) -> list[str]:
    """Everything wrong with ``data`` as an RFC 5322 message on the wire; empty when it is valid."""
    faults = [f"bare CR or LF at octet {m.start()}" for m in _BARE_LINE_END.finditer(data)]
    if not data.endswith(b"\r\n"):
        faults.append("the last line does not end in CRLF")
    head, _, _ = data.partition(b"\r\n\r\n")
    folded = False
    for number, line in enumerate(data.split(b"\r\n"), 1):
        if len(line) > 998:
            faults.append(f"line {number} is {len(line)} octets (RFC 5322 allows 998)")
    for line in head.split(b"\r\n"):
        if not line[:1].isspace():
            folded = line.split(b":", 1)[0].decode(errors="replace") in FOLDED
        if folded and len(line) > 78:
            faults.append(f"folded header line of {len(line)} octets: {line[:60]!r}…")
    return faults


def read_back(data: bytes) -> EmailMessage:
    """``data`` as a mail client parses it, failing on any defect the parser notes."""
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    for part in parsed.walk():
        assert not part.defects, part.defects
        for name, value in part.items():
            assert not getattr(value, "defects", ()), (name, value.defects)
    return parsed


def part_text(message: EmailMessage, subtype: str) -> str:
    """The decoded text of the ``plain`` or ``html`` part."""
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())
