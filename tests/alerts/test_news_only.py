"""Subscribers hear only news: nothing recorded before their subscription was confirmed, whichever
path the change takes (a dispatch message waiting for a worker, the sweep, the daily digest, a
delivery written before they unsubscribed and confirmed again), and everything recorded after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import StatusEvent, Subscription
from monitor.models.alerts import DeliveryState
from monitor.models.base import utcnow
from monitor.services import alert_sending, alerts, subscriptions
from tests.support.alerts import deliveries, dispatch_pending, record, run_alerts, subscribe
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until


def _demo_dispatched() -> bool:
    db.session.expire_all()
    return not db.session.scalars(
        select(StatusEvent.id).where(StatusEvent.alerts_pending.is_(True))
    ).all()


def test_a_new_subscriber_hears_nothing_recorded_before_but_what_comes_after(
    app: Flask,
    demo: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    celery: Callable[..., Any],
) -> None:
    # The story: the demo was seeded while no worker ran, so its three "new case"
    # dispatches wait in the broker; someone subscribes to everything; then the worker starts.
    assert not _demo_dispatched()
    subscribe("ann@example.org")
    processes = celery(settings)
    processes.worker()
    wait_until(_demo_dispatched, 60, "the demo's events dispatched", processes.logs)
    assert deliveries() == []

    record(demo["Mao Monyvann"], "jailed", "2017-11")

    [message] = sink.wait_for(1, timeout=60)
    assert message.subject == "Mao Monyvann jailed — was at liberty"

    def sent() -> bool:
        return [d.state for d in deliveries()] == [DeliveryState.SENT.value]

    wait_until(sent, 30, "the delivery marked sent", processes.logs)
    # Every event has been dispatched and the one delivery is sent: nothing else can follow.
    assert len(sink.messages) == 1


def test_the_sweep_tells_only_those_confirmed_before_the_change_was_recorded(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    early = subscribe("early@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    # The broker was down at commit: the event waits for the sweep, and meanwhile someone
    # else confirms a subscription.
    late = subscribe("late@example.org")
    assert late.confirmed_at is not None
    assert early.confirmed_at is not None
    assert early.confirmed_at <= event.recorded_at < late.confirmed_at
    # All some seconds ago, in the same order, so that the sweep finds the event overdue.
    for row, column in ((early, "confirmed_at"), (event, "recorded_at"), (late, "confirmed_at")):
        setattr(row, column, getattr(row, column) - dt.timedelta(seconds=5))
    db.session.commit()
    assert alerts.sweep(settings).events == 1
    db.session.rollback()

    run_alerts(settings)  # dispatch, as the swept task does, then send
    assert [m.rcpt_tos for m in sink.messages] == [["early@example.org"]]
    assert [d.subscription_id for d in deliveries()] == [early.id]


def test_a_daily_digest_leaves_out_what_was_recorded_before_the_subscription(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")  # pending: no worker has dispatched it
    daily = subscribe("daily@example.org", mode="daily")
    record(cnrp["Kem Sokha"], "at_liberty", "2018-09")
    dispatch_pending(settings)

    assert alerts.queue_digests() == 1
    db.session.commit()
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    assert alert_sending.send_digest(daily.id, utcnow(), mailer, settings).sent == 1
    [digest] = sink.messages
    assert digest.subject.endswith(": 1 status change")
    assert "Kem Sokha" in digest.part("plain")
    assert "Mao Monyvann" not in digest.part("plain")


def test_a_delivery_written_before_a_fresh_confirmation_is_suppressed_at_send_time(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    ann = subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    [delivery] = deliveries()
    # Before the send, ann unsubscribes, asks again and confirms again: a new subscription
    # as far as she knows, and the change is older than it.
    subscriptions.unsubscribe(subscriptions.SUBSCRIBER_ACTOR, ann)
    db.session.commit()
    again = subscribe("ann@example.org")
    assert again.id == ann.id

    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    result = alert_sending.send_deliveries([delivery.id], mailer, settings)

    assert result.suppressed == 1
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.SUPPRESSED.value
    assert delivery.last_error == "recorded before the subscription was confirmed"
    assert sink.messages == []
    # What she hears about from now on still reaches her.
    record(cnrp["Kem Sokha"], "at_liberty", "2018-09")
    run_alerts(current_app.config["SETTINGS"])
    assert [m.subject for m in sink.messages] == ["Kem Sokha released — was jailed"]


def test_an_event_recorded_when_the_subscription_was_confirmed_is_news(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    ann = subscribe("ann@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    # The same instant, to the microsecond: not "before", so it is told.
    db.session.execute(
        update(Subscription).where(Subscription.id == ann.id).values(confirmed_at=event.recorded_at)
    )
    db.session.commit()
    run_alerts(settings)
    assert [m.rcpt_tos for m in sink.messages] == [["ann@example.org"]]
