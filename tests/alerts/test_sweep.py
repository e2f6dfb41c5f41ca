"""Beat's sweep finds what a broker outage or a killed worker left behind, and nothing else."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import update

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import AlertDelivery, StatusEvent, Subscription
from monitor.models.base import utcnow
from monitor.services import alerts
from tests.support.alerts import deliveries, dispatch_pending, record, run_alerts, subscribe
from tests.support.smtp import SmtpSink


def _age(model: type, column: str, seconds: float) -> None:
    db.session.execute(update(model).values({column: utcnow() - dt.timedelta(seconds=seconds)}))
    db.session.commit()


def test_sweep_requeues_pending_events_and_overdue_unclaimed_deliveries(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    subscribe("bob@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    # Just committed: the after-commit task is on its way, the sweep leaves it alone.
    assert alerts.sweep(settings) == alerts.SweepResult(events=0, deliveries=0)
    _age(Subscription, "confirmed_at", 20)  # still confirmed before the change was recorded
    _age(StatusEvent, "recorded_at", 10)
    assert alerts.sweep(settings).events == 1
    db.session.rollback()

    dispatch_pending(settings)
    ann, _ = deliveries()
    assert alerts.sweep(settings).deliveries == 0  # not overdue yet
    _age(AlertDelivery, "next_attempt_at", 10)
    # A worker died holding ann's delivery: its lease still runs, so only bob's is re-queued.
    db.session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == ann.id)
        .values(claimed_until=utcnow() + dt.timedelta(seconds=30))
    )
    db.session.commit()
    assert alerts.sweep(settings).deliveries == 1
    db.session.rollback()
    # Once the lease has run out, ann's is found too.
    db.session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == ann.id)
        .values(claimed_until=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()
    assert alerts.sweep(settings).deliveries == 2
    db.session.rollback()

    run_alerts(settings)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["ann@example.org", "bob@example.org"]
    assert alerts.sweep(settings) == alerts.SweepResult(events=0, deliveries=0)


def test_daily_subscribers_wait_for_their_digest(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("digest@example.org", mode="daily")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    _age(AlertDelivery, "next_attempt_at", 3600)
    assert alerts.sweep(settings).deliveries == 0
    run_alerts(settings)
    assert sink.messages == []
