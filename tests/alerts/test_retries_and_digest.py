"""Temporary SMTP failures are retried with backoff, permanent ones fail with the reason; the
daily digest lists the day's changes in one email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models.alerts import DeliveryState
from monitor.models.base import utcnow
from monitor.services import alert_sending, alerts
from tests.support.alerts import (
    case_of,
    deliveries,
    dispatch_pending,
    record,
    run_alerts,
    subscribe,
)
from tests.support.smtp import SmtpSink


def test_backoff_doubles_with_jitter_up_to_the_cap(
    app: Flask, configure: Callable[..., Settings]
) -> None:
    settings = configure(alert_retry_base_seconds=60.0, alert_retry_max_seconds=3600.0)
    for attempts, ceiling in [(1, 60), (2, 120), (3, 240), (7, 3600), (30, 3600)]:
        waits = [alert_sending.backoff(settings, attempts) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered


def test_4xx_replies_are_retried_until_accepted(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    sink.fail("rcpt", "450 4.2.1 Mailbox busy, try later")
    sink.fail("data", "451 4.3.0 Local error, try later")
    run_alerts(settings)

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.SENT.value
    assert delivery.attempts == 3
    assert delivery.last_error is None
    assert len(sink.messages) == 1


def test_a_temporary_failure_waits_for_its_backoff(
    app: Flask, cnrp: dict[str, str], configure: Callable[..., Settings], sink: SmtpSink
) -> None:
    settings = configure(
        smtp_url=sink.url, alert_retry_base_seconds=60.0, alert_retry_max_seconds=3600.0
    )
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    sink.fail("data", "421 4.7.0 Too busy, closing connection")
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    [delivery] = deliveries()
    before = utcnow()
    result = alert_sending.send_deliveries([delivery.id], mailer, settings)

    assert result.retry_ids == [delivery.id]
    assert 30 <= result.retry_in <= 60
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.PENDING.value
    assert delivery.attempts == 1
    assert delivery.last_error == "421 4.7.0 Too busy, closing connection"
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=30)
    # Asked again before it is due (a duplicate task), it is left alone.
    again = alert_sending.send_deliveries([delivery.id], mailer, settings)
    assert again.skipped == 1
    assert sink.messages == []


def test_connection_refused_is_temporary(
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    idle_sink: SmtpSink,
) -> None:
    settings = configure(smtp_url=idle_sink.url)
    subscribe("ann@example.org")
    subscribe("bob@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    ids = [d.id for d in deliveries()]
    result = alert_sending.send_deliveries(ids, mailer, settings)

    assert sorted(result.retry_ids) == sorted(ids)
    for delivery in deliveries():
        assert delivery.state == DeliveryState.PENDING.value
        assert delivery.attempts == 1
        assert "Connection refused" in (delivery.last_error or "")

    idle_sink.start()
    run_alerts(settings)
    assert sorted(m.rcpt_tos[0] for m in idle_sink.messages) == [
        "ann@example.org",
        "bob@example.org",
    ]


def test_5xx_fails_the_delivery_with_the_reason_and_spares_the_others(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("gone@example.org")
    subscribe("ann@example.org")
    sink.fail("rcpt", "550 5.1.1 No such user here", times=None, rcpt="gone@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)

    states = {d.subscription.email: d for d in deliveries()}
    assert states["gone@example.org"].state == DeliveryState.FAILED.value
    assert states["gone@example.org"].last_error == "550 5.1.1 No such user here"
    assert states["gone@example.org"].attempts == 1
    assert states["ann@example.org"].state == DeliveryState.SENT.value
    assert [m.rcpt_tos for m in sink.messages] == [["ann@example.org"]]


def test_temporary_failures_end_as_failed_after_the_retry_window(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    [delivery] = deliveries()
    delivery.give_up_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    sink.fail("data", "451 4.3.0 Still broken")
    run_alerts(settings)

    [delivery] = deliveries()
    assert delivery.state == DeliveryState.FAILED.value
    assert delivery.last_error == "gave up after 1 attempts: 451 4.3.0 Still broken"


@pytest.mark.parametrize("mode", ["daily"])
def test_daily_digest_lists_the_days_changes_in_one_email(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, mode: str
) -> None:
    digest = subscribe("digest@example.org", mode=mode)
    subscribe("now@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    record(cnrp["Mu Sochua"], "at_liberty", "2019-01", location="United States")
    run_alerts(settings)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["now@example.org"] * 2

    sink.messages.clear()
    assert alerts.queue_digests() == 1
    db.session.commit()
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    result = alert_sending.send_digest(digest.id, utcnow(), mailer, settings)

    assert result.sent == 2
    [message] = sink.messages
    assert message.rcpt_tos == ["digest@example.org"]
    assert message.subject.endswith(": 2 status changes")
    text = message.part("plain")
    assert "1. Mao Monyvann jailed — was at liberty" in text
    assert "2. Mu Sochua at liberty — had fled" in text
    assert "United States" in text
    assert "daily digest because you follow every public case" in text
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = [d for d in deliveries() if d.subscription_id == digest.id]
    assert {d.state for d in sent} == {DeliveryState.SENT.value}
    assert {d.message_id for d in sent} == {message.message_id}

    # Nothing new: the next digest run sends nothing.
    assert alerts.queue_digests() == 0
    assert alert_sending.send_digest(digest.id, utcnow(), mailer, settings).sent == 0
    assert len(sink.messages) == 1
    assert case_of(cnrp["Mu Sochua"]).status == "at_liberty"
