"""Emails in the subscriber's language: chosen on the subscribe form, kept on the subscription,
and used by the worker whatever language the sender's own request was in."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import Subscription
from monitor.services import alert_sending
from tests.support.alerts import record, run_alerts, subscribe
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_token
from tests.support.wire import read_back


def test_a_subscriber_who_chose_french_gets_the_confirmation_in_french(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    visitor = app.test_client()
    answer = visitor.post(
        "/alerts/subscribe",
        data={
            "csrf_token": csrf_token(visitor, "/alerts/subscribe"),
            "email": "claire@example.org",
            "scope": "all",
            "mode": "immediate",
            "language": "fr",
        },
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200
    subscription = db.session.scalars(
        select(Subscription).where(Subscription.email == "claire@example.org")
    ).one()
    assert subscription.language == "fr"

    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    assert alert_sending.send_confirmation(subscription.id, mailer, settings)
    [received] = sink.messages
    message = read_back(received.raw)
    assert message["Subject"] == "[case monitor] Veuillez confirmer votre abonnement aux alertes"
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert '<html lang="fr" dir="ltr">' in content
    assert "<title>Veuillez confirmer votre abonnement aux alertes</title>" in content


def test_an_arabic_subscriber_gets_a_right_to_left_alert_with_arabic_labels(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscription = subscribe("amal@example.org")
    subscription.language = "ar"
    db.session.commit()
    subscribe("ann@example.org")  # an English subscriber of the same change
    record(cnrp["Mao Monyvann"], "jailed", "2018-09-03")
    run_alerts(settings)

    by_address = {m.rcpt_tos[0]: read_back(m.raw) for m in sink.messages}
    arabic = by_address["amal@example.org"].get_body(preferencelist=("html",))
    english = by_address["ann@example.org"].get_body(preferencelist=("html",))
    assert arabic is not None
    assert english is not None
    assert '<html lang="ar" dir="rtl">' in arabic.get_content()
    assert "مسجون" in arabic.get_content()  # "jailed", as the dashboard says it
    assert '<html lang="en" dir="ltr">' in english.get_content()
    assert "مسجون" not in english.get_content()
