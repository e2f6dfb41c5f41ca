"""Alert, digest, import summary and confirmation emails: multipart text + HTML rendered from
``templates/email/``.

The HTML part is rendered with autoescaping, so names, descriptions and source titles typed by
editors can never inject markup. Message-IDs are derived from the delivery, so a retried send
carries the same Message-ID and receiving systems can discard the duplicate.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache, lru_cache
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from monitor.config import PROJECT_ROOT
from monitor.presentation import wording
from monitor.presentation.languages import lang_attrs
from monitor.presentation.translation import (
    bdi,
    current_language,
    format_number,
    gettext,
    language,
    ngettext,
    translations,
)

TEMPLATES = PROJECT_ROOT / "templates" / "email"
# Runs of whitespace, but not the no-break spaces French puts before a colon ("Sujet : …").
_WHITESPACE = re.compile(r"[^\S\u00a0\u202f]+")


@dataclass(frozen=True)
class ChargeLine:
    """One charge as an alert shows it."""

    offence: str
    legal_basis: str | None
    max_sentence: str
    stage: str


@dataclass(frozen=True)
class SourceLine:
    """One source behind a status change."""

    title: str
    publisher: str | None
    url: str | None
    published: str | None


@dataclass(frozen=True)
class StatusChange:
    """Everything an alert says about one status event, as plain text values."""

    event_id: str
    case_id: str
    case_url: str
    country: str
    person_name: str
    person_native: str | None
    # The person's nationality: which language their native-script name is in (``lang``).
    person_nationality: str | None
    # ``Mao Monyvann jailed — was at liberty``: the change, worded as news.
    headline: str
    # (organization, role) of the person's memberships, current first: why it may matter.
    roles: tuple[tuple[str, str], ...]
    previous_status: str | None
    status: str
    since: str
    location: str | None
    description: str | None
    certainty: str
    charges: tuple[ChargeLine, ...]
    max_exposure: str | None
    sources: tuple[SourceLine, ...]
    # The headline as HTML, the name in <bdi> (None: the plain headline, escaped).
    headline_html: str | None = None

    @property
    def heading(self) -> Markup:
        """The headline for the HTML part."""
        # headline_html is markup made by wording (escape keeps it); a plain one is escaped.
        return escape(self.headline_html or self.headline)

    @property
    def subject(self) -> str:
        """The headline: ``Mao Monyvann jailed — was at liberty``."""
        return self.headline

    @property
    def role_line(self) -> str:
        """``CNRP: Member of Parliament`` — the person's memberships in one line, or empty."""
        return "; ".join(
            gettext("%(organization)s: %(role)s", organization=org, role=role)
            for org, role in self.roles
        )

    def relevance(self, recipient: Recipient) -> str:
        """``You follow members of CNRP; Mao Monyvann is its Member of Parliament.``"""
        return wording.relevance_text(
            recipient.reason, self.person_name, self.roles, recipient.followed_organization
        )

    def relevance_html(self, recipient: Recipient) -> Markup:
        """:meth:`relevance` as HTML, names in ``<bdi>``."""
        return escape(
            wording.relevance_text(
                recipient.reason,
                self.person_name,
                self.roles,
                recipient.followed_organization,
                html=True,
            )
        )


@dataclass(frozen=True)
class ImportSummary:
    """What one import recorded that one subscriber follows, as plain text values.

    The counts cover everything; the lists may stop short of them (``unlisted``) so that an
    import of thousands of cases stays an email a mail server takes.
    """

    import_id: str
    # What every case told about shares ("CNRP", "Cambodia"), or None.
    place: str | None
    recorded_on: str
    new_count: int
    change_count: int
    # (custody status, cases now in it), most first: over every case told about.
    statuses: tuple[tuple[str, int], ...]
    new_cases: tuple[StatusChange, ...]
    # Status changes of cases already in the register.
    changes: tuple[StatusChange, ...]
    unlisted: int
    register_url: str
    # Every event told about, listed or not: the Message-ID follows from them.
    event_ids: tuple[str, ...]

    @property
    def headline(self) -> str:
        """``55 new cases in CNRP: 20 fled, 33 at liberty, 2 jailed`` (in the language in
        force)."""
        parts = []
        if self.new_count:
            parts.append(
                ngettext(
                    "%(number)s new case",
                    "%(number)s new cases",
                    self.new_count,
                    number=format_number(self.new_count),
                )
            )
        if self.change_count:
            parts.append(
                ngettext(
                    "%(number)s status change",
                    "%(number)s status changes",
                    self.change_count,
                    number=format_number(self.change_count),
                )
            )
        counted = wording.comma_list(
            [
                gettext("%(number)s %(status)s", number=format_number(number), status=status)
                for status, number in self.statuses
            ]
        )
        told = wording.and_list(parts)
        if self.place:
            return gettext(
                "%(counts)s in %(place)s: %(statuses)s",
                counts=told,
                place=self.place,
                statuses=counted,
            )
        return gettext("%(counts)s: %(statuses)s", counts=told, statuses=counted)

    @property
    def subject(self) -> str:
        """``[case monitor] 55 new cases in CNRP: 20 fled, 33 at liberty, 2 jailed``."""
        return f"[case monitor] {self.headline}"

    @property
    def new_by_status(self) -> tuple[tuple[str, tuple[StatusChange, ...]], ...]:
        """The listed new cases by custody status, in the order of :attr:`statuses`."""
        groups = (
            (status, tuple(c for c in self.new_cases if c.status == status))
            for status, _ in self.statuses
        )
        return tuple((status, cases) for status, cases in groups if cases)


@dataclass(frozen=True)
class Recipient:
    """Who an email goes to, why, and how they stop it."""

    email: str
    name: str
    subscription_id: str
    reason: str
    unsubscribe_url: str
    # The organization's label when the subscriber follows its members (``CNRP``), else None.
    followed_organization: str | None = None


@dataclass(frozen=True)
class Sender:
    """The From address and the domain Message-IDs are made in."""

    address: str
    domain: str

    @classmethod
    def from_settings(cls, mail_from: str, base_url: str) -> Sender:
        """From ``MONITOR_MAIL_FROM`` and ``MONITOR_BASE_URL``."""
        return cls(mail_from, urlsplit(base_url).hostname or "case-monitor.invalid")


@cache
def _environment(code: str) -> Environment:
    """The email templates' environment for one language (its catalog installed)."""
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        auto_reload=False,  # templates change with a deploy, not between two emails
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["lang_attrs"] = lang_attrs
    environment.filters["bdi"] = bdi
    environment.filters["number"] = format_number
    # As babel.cfg extracts them: a {% trans %} block's line breaks and indents are one space.
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
    environment.globals["page_language"] = language(code)
    return environment


def _render(template: str, /, **context: object) -> str:
    """``template`` in the language in force (the subscriber's: ``using_language``)."""
    return _environment(current_language()).get_template(template).render(**context)


def _one_line(text: str) -> str:
    """Header values never carry line breaks, whatever an editor typed."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Mail:
    """A message ready to hand over: its envelope and its bytes (CRLF line ends)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


# RFC 5322 lines: folded at 78 columns, CRLF line ends.
_WIRE = policy.SMTP
_LINE_LENGTH = _WIRE.max_line_length or 78


def _encoded_words(name: str, text: str) -> str:
    """Non-ASCII text as RFC 2047 encoded words, folded as ``policy.SMTP`` folds (78, CRLF)."""
    # email.header rather than the policy's folder, which (Python 3.11) doubles the space at a
    # fold in long non-Latin text ("at liberty  → house arrest") and can leave 79-column lines.
    header = Header(text, "utf-8", maxlinelen=_LINE_LENGTH, header_name=name)
    return str(header.encode(linesep=_WIRE.linesep))


def _fits(line: str) -> bool:
    # Only encoded words can break a word longer than a line (a 200-letter name).
    return all(len(part) <= _LINE_LENGTH for part in line.split(_WIRE.linesep))


@lru_cache(maxsize=1024)
def _text_line(name: str, text: str) -> str:
    """A header line of text people wrote (a subject)."""
    # Cached: encoding a non-Latin subject costs the email package about a millisecond, and a
    # fan-out repeats one subject thousands of times.
    text = _one_line(text)
    if text.isascii() and _fits(line := str(_WIRE.fold(name, text))):
        return line  # a short line stays as it is; a long one is folded at its spaces
    return f"{name}: {_encoded_words(name, text)}{_WIRE.linesep}"


@lru_cache(maxsize=1024)
def _address_line(name: str, display: str, email: str) -> str:
    """A From or To line: ``Name <address>``, the name quoted or encoded as it needs."""
    display = _one_line(display)
    if display.isascii():
        line = str(_WIRE.fold(name, formataddr((display, email))))
        if not display or _fits(line):
            return line
    line = f"{name}: {_encoded_words(name, display)} <{email}>"
    head, _, last = line.rpartition(_WIRE.linesep)
    if len(last) > _LINE_LENGTH:
        # The space before "<" is a place RFC 5322 lets a line fold too.
        last = f"{_WIRE.linesep} <".join(last.rsplit(" <", 1))
        line = f"{head}{_WIRE.linesep}{last}" if head else last
    return f"{line}{_WIRE.linesep}"


def _body(text: str) -> bytes:
    # C-speed quoted-printable: a fan-out builds thousands of these, and the email package's
    # generator costs ~5 ms a message (measured), more than everything else per message.
    lines = "\r\n".join(text.splitlines()) + "\r\n"
    return binascii.b2a_qp(lines.encode(), istext=True)


def _message(
    sender: Sender,
    recipient: Recipient | None,
    *,
    to: tuple[str, str],
    subject: str,
    message_id: str,
    text: str,
    html: str,
) -> Mail:
    """A multipart/alternative message (text, then HTML), both parts UTF-8 quoted-printable."""
    from_display, from_address = parseaddr(sender.address)
    # "=_" never occurs in quoted-printable text, so the boundary cannot clash with a body.
    boundary = f"=_cm_{secrets.token_hex(12)}"
    # Written as they are: ASCII made here, with no spaces to fold at (the policy would turn a
    # long unsubscribe URL into encoded words, which List-Unsubscribe readers do not decode).
    headers = [
        ("Date", format_datetime(dt.datetime.now(dt.UTC))),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        # RFC 3282: the language the bodies were rendered in (the reader's), for mail clients
        # and screen readers that pick a voice or a spelling checker from it.
        ("Content-Language", current_language()),
    ]
    if recipient is not None:
        # RFC 2369 and RFC 8058: mail clients offer one-click unsubscribe by POSTing here.
        headers += [
            ("List-Id", f"case monitor alerts <alerts.{sender.domain}>"),
            ("List-Unsubscribe", f"<{recipient.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    head = "".join(
        [
            _address_line("From", from_display, from_address),
            _address_line("To", *to),
            _text_line("Subject", subject),
            *(f"{name}: {value}\r\n" for name, value in headers),
        ]
    ).encode()
    part = (
        'Content-Type: text/{}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    data = b"".join(
        [
            head,
            b"\r\n",
            f"--{boundary}\r\n".encode(),
            part.format("plain").encode(),
            _body(text),
            f"--{boundary}\r\n".encode(),
            part.format("html").encode(),
            _body(html),
            f"--{boundary}--\r\n".encode(),
        ]
    )
    return Mail(sender=from_address, recipient=to[1], message_id=message_id, data=data)


def alert_message_id(event_id: str, subscription_id: str, domain: str) -> str:
    """The same Message-ID for every attempt to tell one subscriber about one event."""
    return f"<alert.{event_id}.{subscription_id}@{domain}>"


def digest_message_id(subscription_id: str, event_ids: Sequence[str], domain: str) -> str:
    """A digest's Message-ID follows from who it is for and which events it lists."""
    digest = hashlib.sha256(",".join(sorted(event_ids)).encode()).hexdigest()[:16]
    return f"<digest.{subscription_id}.{digest}@{domain}>"


def import_summary_message_id(
    import_id: str, subscription_id: str, event_ids: Sequence[str], domain: str
) -> str:
    """An import summary's Message-ID follows from the import, the subscriber and the events."""
    digest = hashlib.sha256(",".join(sorted(event_ids)).encode()).hexdigest()[:16]
    return f"<import.{import_id}.{subscription_id}.{digest}@{domain}>"


def confirmation_message_id(subscription_id: str, domain: str) -> str:
    """One Message-ID per subscription's confirmation request."""
    return f"<confirm.{subscription_id}@{domain}>"


# Stands in for the unsubscribe URL while the bodies are rendered once per change and reason;
# plain ASCII, so escaping leaves it as it is and it can be replaced in either part.
_URL_SLOT = "urn:case-monitor:unsubscribe-url"


def _slot(recipient: Recipient) -> Recipient:
    """What the bodies say of a recipient, the same for everyone with the same reason."""
    return Recipient(
        email="",
        name="",
        subscription_id="",
        reason=recipient.reason,
        unsubscribe_url=_URL_SLOT,
        followed_organization=recipient.followed_organization,
    )


@lru_cache(maxsize=256)
def _alert_bodies(change: StatusChange, slot: Recipient, code: str) -> tuple[str, str]:
    # A fan-out tells thousands about one change for a handful of reasons: render each once.
    context = {"change": change, "recipient": slot}
    return _render("alert.txt", **context), _render("alert.html", **context)


def alert_message(change: StatusChange, recipient: Recipient, sender: Sender) -> Mail:
    """The email telling one subscriber about one status change."""
    text, html = _alert_bodies(change, _slot(recipient), current_language())
    url = recipient.unsubscribe_url
    return _message(
        sender,
        recipient,
        to=(recipient.name, recipient.email),
        subject=change.subject,
        message_id=alert_message_id(change.event_id, recipient.subscription_id, sender.domain),
        text=text.replace(_URL_SLOT, url),
        html=html.replace(_URL_SLOT, str(escape(url))),
    )


def digest_message(
    changes: Sequence[StatusChange], recipient: Recipient, sender: Sender, day: dt.date
) -> Mail:
    """One email listing the day's status changes in the subscriber's scope."""
    count = len(changes)
    shown = wording.day_text(day)
    told = ngettext(
        "%(day)s: %(number)s status change",
        "%(day)s: %(number)s status changes",
        count,
        day=shown,
        number=format_number(count),
    )
    context = {"changes": changes, "recipient": recipient, "day": shown}
    subject = f"[case monitor] {told}"
    return _message(
        sender,
        recipient,
        to=(recipient.name, recipient.email),
        subject=subject,
        message_id=digest_message_id(
            recipient.subscription_id, [c.event_id for c in changes], sender.domain
        ),
        text=_render("digest.txt", **context),
        html=_render("digest.html", **context),
    )


@lru_cache(maxsize=16)
def _summary_bodies(summary: ImportSummary, slot: Recipient, code: str) -> tuple[str, str]:
    # Every follower of a party gets the same summary of its import: render it once per reason.
    context = {"summary": summary, "recipient": slot}
    return _render("import_summary.txt", **context), _render("import_summary.html", **context)


def import_summary_message(summary: ImportSummary, recipient: Recipient, sender: Sender) -> Mail:
    """One email telling one subscriber what an import recorded in their scope."""
    text, html = _summary_bodies(summary, _slot(recipient), current_language())
    url = recipient.unsubscribe_url
    return _message(
        sender,
        recipient,
        to=(recipient.name, recipient.email),
        subject=summary.subject,
        message_id=import_summary_message_id(
            summary.import_id, recipient.subscription_id, summary.event_ids, sender.domain
        ),
        text=text.replace(_URL_SLOT, url),
        html=html.replace(_URL_SLOT, str(escape(url))),
    )


def _to_person(
    sender: Sender,
    to: tuple[str, str],
    subject: str,
    message_id: str,
    template: str,
    **context: object,
) -> Mail:
    """A message to one person (not about a case): the ``template``'s text and HTML parts."""
    return _message(
        sender,
        None,
        to=to,
        subject="[case monitor] " + subject,
        message_id=message_id,
        text=_render(f"{template}.txt", **context),
        html=_render(f"{template}.html", **context),
    )


def confirmation_message(
    sender: Sender, *, email: str, name: str, subscription_id: str, scope: str, confirm_url: str
) -> Mail:
    """The double opt-in request: nothing is sent to an address until its owner confirms."""
    return _to_person(
        sender,
        (name, email),
        gettext("Please confirm your alert subscription"),
        confirmation_message_id(subscription_id, sender.domain),
        "confirm",
        name=name,
        scope=scope,
        confirm_url=confirm_url,
    )


def password_reset_message(
    sender: Sender, *, email: str, name: str, reset_id: str, reset_url: str, expires: str
) -> Mail:
    """A one-time link to set a new password, issued by an admin."""
    return _to_person(
        sender,
        (name, email),
        gettext("Set a new password"),
        f"<reset.{reset_id}@{sender.domain}>",
        "reset",
        name=name,
        reset_url=reset_url,
        expires=expires,
    )


@dataclass(frozen=True)
class NewLogin:
    """A login from a browser and address the account had not used, as its owner is told."""

    session_id: str
    at: str
    address: str
    browser: str
    second_factor: str | None


def new_device_message(
    sender: Sender, *, email: str, name: str, login: NewLogin, account_url: str
) -> Mail:
    """Tell an account's owner about a login from a new device, and what to do if not theirs."""
    return _to_person(
        sender,
        (name, email),
        gettext("New login to your account"),
        f"<login.{login.session_id}@{sender.domain}>",
        "new_device",
        name=name,
        login=login,
        account_url=account_url,
    )


def factors_reset_message(
    sender: Sender, *, email: str, name: str, notice_id: str, at: str, security_url: str
) -> Mail:
    """Tell an account's owner that an administrator removed their second factors."""
    return _to_person(
        sender,
        (name, email),
        gettext("Your second factors were removed"),
        f"<factors-reset.{notice_id}@{sender.domain}>",
        "factors_reset",
        name=name,
        at=at,
        security_url=security_url,
    )
