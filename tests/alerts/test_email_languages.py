"""Emails in the subscriber's language: chosen on the subscribe form, kept on the subscription,
and used by the worker whatever language the sender's own request was in."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import Subscription
from monitor.models.base import utcnow
from monitor.presentation import translation, wording
from monitor.services import alert_sending, alerts
from tests.support.alerts import organization, record, run_alerts, subscribe
from tests.support.api import Api
from tests.support.imports import csv_bytes, mp
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


# Sentences of the alert, digest and import summary emails as English writes them: none may be
# left in an email written in another language.
ENGLISH = [
    "Custody status",
    "New case",
    "Since:",
    "Where:",
    "Certainty",
    "Charges",
    "Maximum exposure",
    "maximum",
    "Open ",
    "'s case",
    "You follow",
    "you follow",
    "You receive this",
    "Unsubscribe",
    "was at liberty",
    " jailed",
    "years",
    "status change",
    "new case",
    "Recorded in the register",
    "Each case's page",
    "the register",
    "daily digest",
]


def _parts(raw: bytes) -> tuple[EmailMessage, str, str]:
    """The message as the email parser reads it back, its text part and its HTML part."""
    message = read_back(raw)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return message, text.get_content(), html.get_content()


def _english_left(*parts: str) -> list[str]:
    # URLs carry English words of their own ("/alerts/unsubscribe/"): they are not sentences.
    words = [re.sub(r"https?://\S+", "", part) for part in parts]
    return [sentence for sentence in ENGLISH if any(sentence in part for part in words)]


def _subscribe_in(language: str, email: str, *args: Any, **kwargs: Any) -> Subscription:
    subscription = subscribe(email, *args, **kwargs)
    subscription.language = language
    db.session.commit()
    return subscription


ALERTS = {
    "fr": (
        "Mao Monyvann détenu·e — était en liberté",
        "<bdi>Mao Monyvann</bdi> détenu·e — était en liberté",
        "Vous suivez les membres de CNRP\u00a0; Mao Monyvann est Member of Parliament en son sein.",
        "Situation de détention\u00a0: en liberté → détenu",
        "Vous recevez ce message car vous suivez les membres de CNRP.",
    ),
    "km": (
        "Mao Monyvann ត្រូវបានដាក់ពន្ធនាគារ — ធ្លាប់មានសេរីភាព",
        "<bdi>Mao Monyvann</bdi> ត្រូវបានដាក់ពន្ធនាគារ — ធ្លាប់មានសេរីភាព",
        "អ្នកតាមដានសមាជិកនៃ CNRP ហើយ Mao Monyvann គឺជា Member of Parliament របស់អង្គការនេះ។",
        "ស្ថានភាពឃុំខ្លួន៖ មានសេរីភាព → ជាប់ពន្ធនាគារ",
        "អ្នកទទួលសារនេះ ព្រោះអ្នកតាមដានសមាជិកនៃ CNRP។",
    ),
    "ar": (
        "سجن Mao Monyvann — كان طليقًا",
        "سجن <bdi>Mao Monyvann</bdi> — كان طليقًا",
        "تتابع أعضاء CNRP؛ وMao Monyvann هو Member of Parliament فيها.",
        "وضع الاحتجاز: طليق ← مسجون",
        "تصلك هذه الرسالة لأنك تتابع أعضاء CNRP.",
    ),
}


@pytest.mark.parametrize("language", sorted(ALERTS))
def test_a_status_change_alert_reads_in_the_subscribers_language(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, language: str
) -> None:
    subject, heading, relevance, status_line, footer = ALERTS[language]
    _subscribe_in(language, "reader@example.org", "organization", org=organization("CNRP"))
    record(cnrp["Mao Monyvann"], "jailed", "2017-11-16", location="Phnom Penh")
    run_alerts(settings)

    [received] = sink.messages
    message, text, html = _parts(received.raw)
    assert message["Subject"] == subject
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert f">{heading}</h1>" in html
    assert text.splitlines()[0] == subject
    assert relevance in text
    assert status_line in text
    assert footer in text
    assert _english_left(message["Subject"], text, html) == []
    if language == "fr":
        # French typography: a non-breaking space before a colon or a semicolon, never a plain one.
        assert "Depuis\u00a0: 16 novembre 2017" in text
        assert " :" not in text
        assert " ;" not in text


DIGESTS = {
    "fr": "\u00a0: 2 changements de situation",
    "km": "៖ ការផ្លាស់ប្តូរស្ថានភាព 2",
    "ar": ": تغييران في الوضع",  # Arabic's dual: "two changes"
}


@pytest.mark.parametrize("language", sorted(DIGESTS))
def test_a_daily_digest_reads_in_the_subscribers_language(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, language: str
) -> None:
    digest = _subscribe_in(language, "daily@example.org", mode="daily")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    record(cnrp["Mu Sochua"], "at_liberty", "2019-01", location="United States")
    run_alerts(settings)
    assert alerts.queue_digests() == 1
    db.session.commit()
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    assert alert_sending.send_digest(digest.id, utcnow(), mailer, settings).sent == 2

    [received] = sink.messages
    message, text, html = _parts(received.raw)
    day = translation.format_date(utcnow().date(), "long", language)
    assert message["Subject"] == f"[case monitor] {day}{DIGESTS[language]}"
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    with translation.using_language(language):
        first = wording.change_headline("Mao Monyvann", "jailed", "at_liberty")
        second = wording.change_headline("Mu Sochua", "at_liberty", "fled")
    assert f"1. {first}" in text
    assert f"2. {second}" in text
    assert _english_left(message["Subject"], text, html) == []


SUMMARIES = {
    "fr": "[case monitor] 6 nouvelles affaires (CNRP)\u00a0: 3 en fuite, 2 détenu, 1 en liberté",
    "km": "[case monitor] ករណីថ្មី 6 ក្នុង CNRP៖ ភៀសខ្លួន 3, ជាប់ពន្ធនាគារ 2, មានសេរីភាព 1",
    "ar": "[case monitor] 6 قضايا جديدة في CNRP: 3 فارّ، 2 مسجون، 1 طليق",
}


@pytest.mark.parametrize("language", sorted(SUMMARIES))
def test_an_import_summary_reads_in_the_subscribers_language(
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    editor_api: Api,
    language: str,
) -> None:
    _subscribe_in(language, "party@example.org", "organization", org=organization("CNRP"))
    statuses = ["fled"] * 3 + ["jailed"] * 2 + ["at_liberty"]
    response = editor_api.post(
        "/imports", data=csv_bytes([mp(n, status=s) for n, s in enumerate(statuses, 1)])
    )
    assert response.status_code == 201, response.json
    run_alerts(settings)

    [received] = sink.messages
    message, text, html = _parts(received.raw)
    assert message["Subject"] == SUMMARIES[language]
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert SUMMARIES[language].removeprefix("[case monitor] ") in text
    with translation.using_language(language):
        today = wording.day_text(utcnow().date())
    assert today in text  # the day the import recorded, in the reader's words
    assert _english_left(message["Subject"], text, html) == []
