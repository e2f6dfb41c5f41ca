"""The Content-Security-Policy of every page, and the one page that loosens it."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The development mailbox's message page shows an email's HTML part in a sandboxed srcdoc
# frame, which inherits this page's policy: the email's style attributes are allowed, and
# nothing else (its scripts stay off by the sandbox; remote loads by both policies and by the
# part's own, see monitor.mail.mailbox.framed_html).
MAILBOX_MESSAGE_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self'; style-src-attr 'unsafe-inline'"
)
