"""Faults that must delay alerts but never lose or double one.

Each test counts, on the SMTP sink, every expected (event, recipient) pair exactly once:

- the worker is killed with SIGKILL in the middle of a fan-out, then restarted;
- the broker (a private Redis) is unreachable when the change is committed, then comes back;
- the SMTP server refuses connections for a while, then accepts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import AlertDelivery, StatusEvent, Subscription
from monitor.models.alerts import DeliveryState
from tests.support.accounts import login, make_user
from tests.support.alerts import case_of, dispatch_pending, record, subscribe
from tests.support.processes import RedisServer
from tests.support.smtp import SmtpSink
from tests.support.waiting import stays, wait_until
from tests.support.web import submit, text

# Beat sweeps every second (FAST_ENV): for three sweeps, anything re-queued, redelivered or still
# in flight has the time to reach the sink.
QUIET_SECONDS = 3.0


def _subscribers(count: int) -> dict[str, str]:
    """``count`` external subscribers to every case: Message-ID local part → email."""
    subscriptions = [subscribe(f"reader{n:03d}@example.org") for n in range(count)]
    return {s.public_id: s.email for s in subscriptions}


def _expected(event: StatusEvent, subscribers: dict[str, str]) -> dict[str, str]:
    return {
        f"<alert.{event.public_id}.{sub_id}@monitor.test>": email
        for sub_id, email in subscribers.items()
    }


def _deliveries() -> str:
    """Each delivery's recipient, state, attempts and last error, for a failure message."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Subscription.email, AlertDelivery.state, AlertDelivery.attempts)
        .add_columns(AlertDelivery.last_error)
        .join(Subscription, AlertDelivery.subscription_id == Subscription.id)
        .order_by(AlertDelivery.id)
    )
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def _assert_exactly_once(sink: SmtpSink, expected: dict[str, str], logs: str) -> None:
    pairs = Counter((m.message_id, m.rcpt_tos[0]) for m in sink.messages)
    doubled = {pair: n for pair, n in pairs.items() if n > 1}
    assert not doubled, f"sent more than once: {doubled}\n{_deliveries()}\n{logs}"
    assert set(pairs) == set(expected.items()), logs


def _states() -> Counter[str]:
    db.session.expire_all()
    return Counter(db.session.scalars(select(AlertDelivery.state)).all())


def _settled(sink: SmtpSink, expected: dict[str, str]) -> Callable[[], bool]:
    def check() -> bool:
        return len(sink.messages) >= len(expected) and _states() == Counter(
            {DeliveryState.SENT.value: len(expected)}
        )

    return check


def _alerts_pending(event: StatusEvent) -> bool | None:
    db.session.expire_all()
    return db.session.scalar(select(StatusEvent.alerts_pending).where(StatusEvent.id == event.id))


def _no_late_duplicates(sink: SmtpSink, expected: dict[str, str], logs: Callable[[], str]) -> None:
    """Every delivery is sent: re-queued copies of finished work must not send anything more."""
    stays(
        lambda: (sink.rcpt_attempts, len(sink.messages), dict(_states())),
        QUIET_SECONDS,
        "(recipients tried, messages accepted, delivery states) once every delivery was sent",
        logs,
    )
    _assert_exactly_once(sink, expected, logs())


def test_worker_killed_mid_fan_out_then_restarted(
    app: Flask,
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    celery: Callable[..., Any],
) -> None:
    subscribers = _subscribers(40)
    processes = celery(settings, MONITOR_ALERT_BATCH_SIZE="8")
    worker = processes.worker()
    processes.beat()
    sink.hold_after(13)  # once 13 are in, every new conversation waits at RCPT

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    expected = _expected(event, subscribers)
    assert sink.held.wait(60), f"the fan-out never got going\n{processes.logs()}"

    # Kill once messages past RCPT are in and recorded as sent, the rest waiting at RCPT: the
    # kill then strands claims (the fault under test), never an accepted but unrecorded message.
    def at_rest() -> bool:
        return sink.past_rcpt == 0 and _states()[DeliveryState.SENT.value] == len(sink.messages)

    wait_until(
        at_rest,
        30,
        "no conversation past RCPT and every accepted message recorded as sent",
        lambda: (
            f"{sink.past_rcpt} conversations past RCPT, {len(sink.messages)} accepted, "
            f"delivery states {dict(_states())}\n{processes.logs()}"
        ),
    )
    before = len(sink.messages)
    worker.kill()
    assert 13 <= before < len(expected)
    sink.release()
    assert _states()[DeliveryState.PENDING.value] > 0

    processes.ready(worker.start())
    wait_until(_settled(sink, expected), 120, "every delivery to be sent", processes.logs)
    _no_late_duplicates(sink, expected, processes.logs)


def test_broker_unreachable_at_commit_then_back(
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    sink: SmtpSink,
    celery: Callable[..., Any],
    private_redis: RedisServer,
) -> None:
    redis = private_redis
    settings = configure(smtp_url=sink.url, redis_url=redis.url, broker_url=redis.url)
    current_app.extensions.pop("celery", None)  # the web's send-only client: new broker
    subscribers = _subscribers(5)
    processes = celery(settings)
    processes.worker()
    processes.beat()

    redis.stop()
    started = time.monotonic()
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    assert time.monotonic() - started < 15, "a broker outage must not hang the request"
    assert _alerts_pending(event) is True
    # Nothing can go out while the broker is down: no recipient tried, the event still flagged.
    outage = stays(
        lambda: (sink.rcpt_attempts, _alerts_pending(event)),
        QUIET_SECONDS,
        "(recipients tried, the event's alerts_pending) while the broker is down",
        processes.logs,
    )
    assert outage == (0, True)
    assert sink.messages == []

    redis.start()  # empty: whatever was queued before the outage is gone too
    expected = _expected(event, subscribers)
    wait_until(_settled(sink, expected), 120, "every delivery to be sent", processes.logs)
    _no_late_duplicates(sink, expected, processes.logs)


def test_smtp_refusing_connections_for_a_while_then_accepting(
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    idle_sink: SmtpSink,
    celery: Callable[..., Any],
) -> None:
    settings = configure(smtp_url=idle_sink.url)
    dispatch_pending(settings)
    subscribers = _subscribers(6)
    processes = celery(settings, MONITOR_ALERT_BATCH_SIZE="4")
    processes.worker()
    processes.beat()

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    expected = _expected(event, subscribers)

    def retried_twice() -> bool:
        db.session.expire_all()
        attempts = db.session.scalars(select(AlertDelivery.attempts)).all()
        return len(attempts) == len(expected) and min(attempts) >= 2

    wait_until(retried_twice, 60, "two refused attempts per delivery", processes.logs)
    last_errors = db.session.scalars(select(AlertDelivery.last_error)).all()
    assert all("Connection refused" in (e or "") for e in last_errors)
    assert _states() == Counter({DeliveryState.PENDING.value: len(expected)})

    idle_sink.start()
    wait_until(_settled(idle_sink, expected), 60, "every delivery to be sent", processes.logs)
    _no_late_duplicates(idle_sink, expected, processes.logs)
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == len(expected)
    assert case_of(cnrp["Mao Monyvann"]).status == "jailed"


def test_redis_killed_under_the_app_and_worker_then_back(
    app: Flask,
    cnrp: dict[str, str],
    *,
    configure: Callable[..., Settings],
    sink: SmtpSink,
    celery: Callable[..., Any],
    private_redis: RedisServer,
    app_on_redis: Flask,
) -> None:
    """The issue's story: with Redis (rate limits and broker) killed under a running app and
    worker, an editor still logs in, searches, opens Kem Sokha's case and records that Mao
    Monyvann was jailed; the followers' emails arrive once Redis is back, once each."""
    settings = configure(smtp_url=sink.url, redis_url=private_redis.url)
    subscribers = _subscribers(3)
    processes = celery(settings)
    processes.worker()
    processes.beat()
    editor = make_user("editor", "confidential")
    db.session.commit()

    assert private_redis.popen is not None
    private_redis.popen.kill()  # kill -9: no goodbye to its clients
    private_redis.popen.wait(timeout=20)

    browser = app_on_redis.test_client()
    login(browser, editor.email)
    found = browser.get("/cases?q=sokha")
    assert found.status_code == 200
    assert "Kem Sokha" in text(found)
    opened = browser.get(f"/cases/{cnrp['Kem Sokha']}")
    assert opened.status_code == 200
    assert "Kem Sokha" in text(opened)
    started = time.monotonic()
    recorded = submit(
        browser,
        f"/cases/{cnrp['Mao Monyvann']}/status",
        {"status": "jailed", "occurred_on": "2017-11", "certainty": "confirmed"},
    )
    assert recorded.status_code == 302, text(recorded)
    assert time.monotonic() - started < 15, "a broker outage must not hang the request"
    db.session.expire_all()
    event = db.session.scalars(
        select(StatusEvent)
        .where(StatusEvent.case_id == case_of(cnrp["Mao Monyvann"]).id)
        .order_by(StatusEvent.id.desc())
        .limit(1)
    ).one()
    assert event.status == "jailed"
    assert event.alerts_pending is True

    outage = stays(
        lambda: (sink.rcpt_attempts, _alerts_pending(event)),
        QUIET_SECONDS,
        "(recipients tried, the event's alerts_pending) while Redis is down",
        processes.logs,
    )
    assert outage == (0, True)

    private_redis.start()
    expected = _expected(event, subscribers)
    wait_until(_settled(sink, expected), 120, "every follower's email", processes.logs)
    _no_late_duplicates(sink, expected, processes.logs)
    assert all("Mao Monyvann" in m.subject for m in sink.messages)
