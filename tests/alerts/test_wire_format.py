"""Every kind of message the app sends is valid on the wire, whatever names and subjects it carries:
CRLF line ends only, header lines folded as RFC 5322 asks, and it reads back as it was built."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from collections.abc import Callable
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from monitor.mail import mailbox, messages
from monitor.mail.transport import FileMailer, wire_bytes
from monitor.presentation import wording
from tests.support.wire import part_text, read_back, wire_faults

SENDER = messages.Sender("case monitor <alerts@monitor.test>", "monitor.test")
KHMER = "កឹម សុខា"
ARABIC = "عبد الهادي الخواجة"
# Long enough for the quoted-printable body to break its lines, with no line break of its own.
DESCRIPTION = f"{ARABIC} — {KHMER} — " * 20

NAMES = {
    "latin": "Kimsuor Pheairth",
    "khmer": KHMER,
    "arabic": ARABIC,
    "long latin": ("Kimsuor Pheairth " * 12)[:200],
    "long khmer": (f"{KHMER} " * 23)[:200],
    "long word": "K" * 200,
    "line breaks typed in": "Kimsuor\r\nPheairth\rof\nKampong\x0bCham",
}


def _words(text: str) -> str:
    return " ".join(text.split())


def _change(name: str, event_id: str = "ev1") -> messages.StatusChange:
    return messages.StatusChange(
        event_id=event_id,
        case_id="case1",
        case_url="http://monitor.test/cases/case1",
        country="Cambodia",
        person_name=name,
        person_native=KHMER,
        person_nationality="KH",
        headline=wording.change_headline(name, "house_arrest", "at_liberty"),
        roles=(("CNRP", ARABIC),),
        previous_status="at liberty",
        status="house arrest",
        since="September 2018",
        location=ARABIC,
        description=DESCRIPTION,
        certainty="reported",
        charges=(messages.ChargeLine(KHMER, ARABIC, "30 years", "charged"),),
        max_exposure="30 years",
        sources=(),
    )


def _recipient(name: str) -> messages.Recipient:
    return messages.Recipient(
        email="ann@example.org",
        name=name,
        subscription_id="sub1",
        reason="you follow every public case",
        unsubscribe_url="http://monitor.test/alerts/unsubscribe/" + "t" * 43,
    )


def _alert(name: str) -> tuple[messages.Mail, str, list[str]]:
    change = _change(name)
    mail = messages.alert_message(change, _recipient(name), SENDER)
    return mail, _words(change.subject), [name, KHMER, DESCRIPTION, change.case_url]


def _digest(name: str) -> tuple[messages.Mail, str, list[str]]:
    changes = [_change(name, "ev1"), _change(ARABIC, "ev2")]
    mail = messages.digest_message(changes, _recipient(name), SENDER, dt.date(2026, 12, 4))
    return mail, "[case monitor] 4 December 2026: 2 status changes", [name, ARABIC, DESCRIPTION]


def _import_summary(name: str) -> tuple[messages.Mail, str, list[str]]:
    # The organization's name goes into the subject: long and non-Latin ones too.
    new = [_change(name, "ev1"), _change(ARABIC, "ev2")]
    new = [dataclasses.replace(change, previous_status=None) for change in new]
    changed = dataclasses.replace(_change(KHMER, "ev3"), status="jailed")
    summary = messages.ImportSummary(
        import_id="imp1",
        place=name,
        recorded_on="4 December 2026",
        new_count=2,
        change_count=1,
        statuses=(("house arrest", 2), ("jailed", 1)),
        new_cases=tuple(new),
        changes=(changed,),
        unlisted=0,
        register_url="http://monitor.test/cases",
        event_ids=("ev1", "ev2", "ev3"),
    )
    mail = messages.import_summary_message(summary, _recipient(name), SENDER)
    subject = _words(
        f"[case monitor] 2 new cases and 1 status change in {name}: 2 house arrest, 1 jailed"
    )
    return mail, subject, [name, ARABIC, KHMER, new[0].case_url]


def _confirmation(name: str) -> tuple[messages.Mail, str, list[str]]:
    mail = messages.confirmation_message(
        SENDER,
        email="ann@example.org",
        name=name,
        subscription_id="sub1",
        scope=f"members of {ARABIC}",
        confirm_url="http://monitor.test/alerts/confirm/" + "c" * 43,
    )
    subject = "[case monitor] Please confirm your alert subscription"
    return mail, subject, [name, ARABIC, "http://monitor.test/alerts/confirm/"]


def _password_reset(name: str) -> tuple[messages.Mail, str, list[str]]:
    url = "http://monitor.test/reset/" + "r" * 43
    mail = messages.password_reset_message(
        SENDER,
        email="ann@example.org",
        name=name,
        reset_id="reset1",
        reset_url=url,
        expires="2026-12-04 15:00 UTC",
    )
    return mail, "[case monitor] Set a new password", [name, url, "2026-12-04 15:00 UTC"]


def _new_device(name: str) -> tuple[messages.Mail, str, list[str]]:
    login = messages.NewLogin(
        session_id="sess1",
        at="2026-12-04 14:00 UTC",
        address="2001:db8::1",
        browser="Firefox on Linux",
        second_factor="totp",
    )
    url = "http://monitor.test/account/sessions"
    mail = messages.new_device_message(
        SENDER, email="ann@example.org", name=name, login=login, account_url=url
    )
    subject = "[case monitor] New login to your account"
    return mail, subject, [name, "2001:db8::1", "Firefox on Linux", url]


def _factors_reset(name: str) -> tuple[messages.Mail, str, list[str]]:
    url = "http://monitor.test/account/security"
    mail = messages.factors_reset_message(
        SENDER,
        email="ann@example.org",
        name=name,
        notice_id="0123abcd",
        at="2026-12-04 14:00 UTC",
        security_url=url,
    )
    subject = "[case monitor] Your second factors were removed"
    return mail, subject, [name, "2026-12-04 14:00 UTC", url]


KINDS: dict[str, Callable[[str], tuple[messages.Mail, str, list[str]]]] = {
    "alert": _alert,
    "digest": _digest,
    "import_summary": _import_summary,
    "confirmation": _confirmation,
    "password_reset": _password_reset,
    "new_device": _new_device,
    "factors_reset": _factors_reset,
}


def test_every_kind_of_message_in_messages_py_is_covered() -> None:
    # A new kind of message (a reset, an import summary) must join KINDS above.
    builders = {n for n in vars(messages) if n.endswith("_message") and not n.startswith("_")}
    assert builders == {f"{kind}_message" for kind in KINDS}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_message_is_valid_on_the_wire_and_reads_back_as_built(kind: str, name: str) -> None:
    mail, subject, says = KINDS[kind](name)

    assert wire_faults(mail.data) == []
    assert wire_bytes(mail.data) == mail.data  # the sender sends exactly what was built
    parsed = read_back(mail.data)
    assert parsed["Subject"] == subject
    [to] = parsed["To"].addresses
    assert to.addr_spec == "ann@example.org"
    # policy.default's address parser puts a space between adjacent encoded words in a name,
    # where RFC 2047 says to drop it; the legacy decoder drops it and gives the name back exactly.
    raw_to = str(email.message_from_bytes(mail.data, policy=policy.compat32)["To"])
    decoded = str(make_header(decode_header(raw_to.replace("\r\n", ""))))
    assert decoded.rsplit("<", 1)[0].strip() == _words(name)
    assert parsed["Message-ID"] == mail.message_id
    text, html = part_text(parsed, "plain"), part_text(parsed, "html")
    for part in (text, html):
        for words in says:
            assert _words(words) in _words(part)


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_new_case_alert_is_valid_on_the_wire_too(name: str) -> None:
    # "… (new case)" with a Latin name is an ASCII subject, which the policy folds itself.
    change = dataclasses.replace(_change(name), previous_status=None)
    mail = messages.alert_message(change, _recipient("Ann"), SENDER)
    assert wire_faults(mail.data) == []
    assert read_back(mail.data)["Subject"] == _words(change.subject)


def test_a_long_unsubscribe_url_is_left_as_one_url() -> None:
    # The policy would turn it into RFC 2047 encoded words, which List-Unsubscribe readers
    # (one-click unsubscribe in mail clients) do not decode.
    recipient = _recipient("Ann")
    long_url = recipient.unsubscribe_url + "u" * 100
    mail = messages.alert_message(
        _change("Kem Sokha"),
        messages.Recipient(
            recipient.email, "Ann", "sub1", recipient.reason, unsubscribe_url=long_url
        ),
        SENDER,
    )
    assert f"\r\nList-Unsubscribe: <{long_url}>\r\n".encode() in mail.data
    assert wire_faults(mail.data) == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_mailbox_keeps_the_wire_bytes_and_reads_them_back(kind: str, tmp_path: Path) -> None:
    mail, subject, says = KINDS[kind](NAMES["long khmer"])
    with FileMailer(tmp_path).connect() as connection:
        connection.send(mail)

    [kept] = mailbox.list_messages(tmp_path)
    assert wire_faults((tmp_path / kept.name).read_bytes()) == []
    opened = mailbox.open_message(tmp_path, kept.name)
    assert opened is not None
    assert opened.summary.subject == subject
    assert opened.html is not None
    for words in says:
        assert _words(words) in _words(opened.text)
        assert _words(words) in _words(opened.html)


def test_the_sender_never_puts_a_bare_line_end_on_the_wire(tmp_path: Path) -> None:
    built = messages.confirmation_message(
        SENDER,
        email="ann@example.org",
        name="Ann",
        subscription_id="sub1",
        scope="every public case",
        confirm_url="http://monitor.test/alerts/confirm/x",
    )
    # A builder that slipped: bare LF and bare CR inside an otherwise CRLF message.
    slipped = messages.Mail(
        built.sender,
        built.recipient,
        built.message_id,
        built.data.replace(b"\r\nDate:", b"\nDate:").replace(b"\r\n\r\n", b"\r\r\n", 1),
    )
    assert wire_faults(slipped.data) != []
    with FileMailer(tmp_path).connect() as connection:
        connection.send(slipped)
    [kept] = tmp_path.glob("*.eml")
    assert wire_faults(kept.read_bytes()) == []
