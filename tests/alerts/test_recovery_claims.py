"""A recovery hands back the leases of a dead sender, and only those (services.recovery)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import update

from monitor import jobs
from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import AlertDelivery
from monitor.models.base import utcnow
from monitor.services import alert_claims, alert_sending, claimants, recovery
from tests.support.alerts import deliveries, dispatch_pending, record, subscribe
from tests.support.processes import claimant_process
from tests.support.smtp import SmtpSink


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[jobs.QueuedTask]:
    """The tasks published after each commit (recorded, not sent)."""
    published: list[jobs.QueuedTask] = []

    def keep(task: jobs.QueuedTask) -> bool:
        published.append(task)
        return True

    monkeypatch.setattr(jobs, "send_now", keep)
    return published


def _lease(delivery: AlertDelivery, holder: str, seconds: float = 300) -> None:
    db.session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery.id)
        .values(claimed_until=utcnow() + dt.timedelta(seconds=seconds), claimed_by=holder)
    )


def test_a_claim_names_the_process_that_took_it(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    (ann,) = deliveries()
    assert alert_claims.claim(AlertDelivery.id == ann.id, settings) == [ann.id]
    db.session.expire_all()
    assert ann.claimed_by == claimants.label()
    assert alert_claims.holders() == {claimants.label()}


def test_a_dead_senders_leases_are_released_and_queued_live_ones_kept(
    app: Flask,
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    sent: list[jobs.QueuedTask],
) -> None:
    for name in ("ann", "bob", "cat"):
        subscribe(f"{name}@example.org")
    subscribe("dee@example.org", mode="daily")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    dispatch_pending(settings)
    ann, bob, cat, dee = deliveries()
    sent.clear()
    live = claimants.label()
    with claimant_process() as (dead, end):
        end()
        _lease(ann, dead)
        _lease(dee, dead)  # a digest the dead worker was sending
        _lease(bob, live)
        # Its lease ran out already: nobody holds it, though its message may have died with the
        # dead worker too, so it is sent again as well.
        _lease(cat, dead, seconds=-1)
        db.session.commit()

        held = recovery.holders()
        assert held == {dead, live}
        gone = claimants.gone(held, None)
        assert gone == {dead}
        released = recovery.release(gone, settings)
        db.session.commit()

    assert released == recovery.Released(deliveries=1, digests=1, resent=1)
    db.session.expire_all()
    assert ann.claimed_until is None
    assert dee.claimed_until is None
    assert bob.claimed_until is not None
    assert bob.claimed_by == live
    assert [(task.name, task.args) for task in sent] == [
        (jobs.TaskName.ALERTS_SEND, ([ann.id, cat.id],)),  # cat's: perhaps lost with it
        (jobs.TaskName.ALERTS_SEND_DIGEST, (dee.subscription_id, dee.created_at.isoformat())),
    ]
    # What was released goes out; the live sender's lease still holds bob's.
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    result = alert_sending.send_deliveries([ann.id, bob.id, cat.id], mailer, settings)
    assert (result.sent, result.skipped) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["ann@example.org", "cat@example.org"]
