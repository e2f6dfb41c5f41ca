"""What reaches an SMTP server through the real send path is valid on the wire: every kind of
message, with long and non-Latin names, arrives with CRLF line ends only and folded headers."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import Flask

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail import messages
from monitor.mail.transport import SMTPMailer, mailer_for
from monitor.models.base import utcnow
from monitor.services import alert_sending, alerts
from tests.support.alerts import open_case, record, run_alerts, subscribe
from tests.support.smtp import SINK_HOST, SmtpSink
from tests.support.wire import read_back, wire_faults

KHMER = "កឹម សុខា"
ARABIC = "عبد الهادي الخواجة"
LONG_NAME = (f"{KHMER} {ARABIC} " * 8)[:200].strip()


def test_alerts_digests_and_confirmations_arrive_valid_on_the_wire(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    pheairth = open_case("Kimsuor Pheairth", native=KHMER)
    long_named = open_case(LONG_NAME, native=KHMER)
    subscribe("now@example.org", name=LONG_NAME)
    digest = subscribe("daily@example.org", name=ARABIC, mode="daily")
    unconfirmed = subscribe("new@example.org", name=KHMER, confirmed=False)
    record(pheairth, "house_arrest", "2021-03", description=f"{ARABIC} " * 40)
    record(long_named, "jailed", "2021-04", location=KHMER)
    run_alerts(settings)
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    assert alerts.queue_digests() == 1
    db.session.commit()
    assert alert_sending.send_digest(digest.id, utcnow(), mailer, settings).sent == 2
    assert alert_sending.send_confirmation(unconfirmed.id, mailer, settings)

    subjects: dict[str, EmailMessage] = {}
    for received in sink.messages:
        assert wire_faults(received.raw) == [], received.subject
        subjects[received.subject] = read_back(received.raw)
    assert set(subjects) == {
        "Kimsuor Pheairth put under house arrest — was at liberty",
        f"{LONG_NAME} jailed — was at liberty",
        f"[case monitor] {utcnow().day} {utcnow():%B %Y}: 2 status changes",
        "[case monitor] Please confirm your alert subscription",
    }
    alert = subjects[f"{LONG_NAME} jailed — was at liberty"]
    for subtype in ("plain", "html"):
        body = alert.get_body(preferencelist=(subtype,))
        assert body is not None
        assert LONG_NAME in body.get_content()


def test_a_bare_line_end_from_a_builder_never_reaches_the_server(sink: SmtpSink) -> None:
    built = messages.confirmation_message(
        messages.Sender("case monitor <alerts@monitor.test>", "monitor.test"),
        email="ann@example.org",
        name="Ann",
        subscription_id="sub1",
        scope="every public case",
        confirm_url="http://monitor.test/alerts/confirm/x",
    )
    slipped = built.data.replace(b"\r\nDate:", b"\nDate:").replace(b"\r\nTo:", b"\rTo:")
    # The sink keeps what came over the wire: smtplib alone passes the bare line ends on.
    with smtplib.SMTP(SINK_HOST, sink.port, timeout=5) as client:
        client.sendmail(built.sender, [built.recipient], slipped)
    assert wire_faults(sink.messages[-1].raw) != []

    with SMTPMailer(sink.url, timeout=5).connect() as connection:
        connection.send(messages.Mail(built.sender, built.recipient, built.message_id, slipped))
    assert wire_faults(sink.messages[-1].raw) == []
    assert read_back(sink.messages[-1].raw)["Subject"] == read_back(built.data)["Subject"]
