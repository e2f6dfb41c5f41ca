"""Fast recovery after a crash (issue 15, parts 6 and 7): real workers, a real broker, SMTP.

A worker SIGKILLed in the middle of a fan-out leaves leases of 300 s on the deliveries it was
sending. The replacement's start-up recovery (``workers.recovery``) finds their claimant dead and
hands them back: everything goes out within 60 s of the replacement starting, with no beat
running at all.

The guarantee, precisely: every (event, subscription) is delivered; a delivery marked sent before
the kill is never sent again; the only message that may arrive twice is one a killed process had
in flight — accepted by the server, its "sent" mark not yet written — so at most one per sending
process killed (two here: a prefork pool of two). The sink below records each message before it
answers, and answers slowly, so the kill usually lands in exactly that window.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import AlertDelivery, Subscription
from monitor.models.alerts import DeliveryState
from monitor.models.base import utcnow
from tests.support.alerts import record, subscribe
from tests.support.processes import Celery, RedisServer
from tests.support.smtp import ALLOWED_PORTS, SmtpSink
from tests.support.waiting import stays, wait_until

FAN_OUT = 300
CONCURRENCY = 2  # the supervised worker's prefork pool: two processes sending at once
# Leases as long as production's: only the recovery, not their running out, can meet the minute.
SLOW_LEASES = {"MONITOR_ALERT_CLAIM_SECONDS": "300", "MONITOR_ALERT_SWEEP_SECONDS": "60"}


class SlowSink(SmtpSink):
    """A sink that records each message, then waits before answering 250 to its data."""

    delay = 0.05

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept (and record) the message, and take a while to say so."""
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


@pytest.fixture
def slow_sink() -> Iterator[SlowSink]:
    """A running slow sink."""
    server = SlowSink()
    ALLOWED_PORTS.add(server.port)
    server.start()
    yield server
    server.stop()
    ALLOWED_PORTS.discard(server.port)


def _on_redis(configure: Callable[..., Settings], sink: SmtpSink, redis: RedisServer) -> Settings:
    settings = configure(smtp_url=sink.url, redis_url=redis.url, broker_url=redis.url)
    current_app.extensions.pop("celery", None)  # the web's send-only client: the new broker
    return settings


def _states() -> Counter[str]:
    db.session.expire_all()
    return Counter(db.session.scalars(select(AlertDelivery.state)).all())


def _sent_subscriptions() -> set[str]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(Subscription.public_id)
            .join(AlertDelivery, AlertDelivery.subscription_id == Subscription.id)
            .where(AlertDelivery.state == DeliveryState.SENT.value)
        )
    )


def _leases() -> Counter[str]:
    """Claimant → how many pending deliveries it holds a running lease on."""
    db.session.expire_all()
    return Counter(
        db.session.scalars(
            select(AlertDelivery.claimed_by).where(
                AlertDelivery.state == DeliveryState.PENDING.value,
                AlertDelivery.claimed_until > utcnow(),
            )
        ).all()
    )


def test_a_fan_out_cut_by_sigkill_is_finished_within_a_minute_of_a_replacement_starting(
    *,
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    slow_sink: SlowSink,
    celery: Callable[..., Celery],
    private_redis: RedisServer,
) -> None:
    settings = _on_redis(configure, slow_sink, private_redis)
    subscribers = {
        s.public_id: s.email
        for s in (subscribe(f"reader{n:03d}@example.org") for n in range(FAN_OUT))
    }
    processes = celery(settings, **SLOW_LEASES)
    worker = processes.worker()

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    expected = {
        f"<alert.{event.public_id}.{sub_id}@monitor.test>": email
        for sub_id, email in subscribers.items()
    }
    slow_sink.wait_for(60, timeout=120)
    worker.kill()  # SIGKILL to the whole process group, mid-batch

    # What the killed worker left: deliveries marked sent, and leases nobody will finish.
    sent_before = _sent_subscriptions()
    stranded = _leases()
    assert len(sent_before) < FAN_OUT
    assert sum(stranded.values()) > 0, "the kill stranded no lease"
    assert all(str(claimant).startswith("alerts-test-0@") for claimant in stranded)

    # The replacement: the same node name, as a supervisor restarting the container gives it.
    started = time.monotonic()
    worker.start()

    def every_delivery_sent() -> bool:
        received = {(m.message_id, m.rcpt_tos[0]) for m in slow_sink.messages}
        return received >= set(expected.items()) and _states() == Counter(
            {DeliveryState.SENT.value: FAN_OUT}
        )

    wait_until(
        every_delivery_sent,
        60,
        "every delivery sent within 60 s of the replacement starting",
        lambda: f"states {dict(_states())}, leases {dict(_leases())}\n{processes.logs()}",
        interval=0.5,
    )
    print(f"all sent {time.monotonic() - started:.1f} s after the replacement started")
    assert "released the claims of dead workers" in worker.text()
    print(f"stranded leases {dict(stranded)}, sent before the kill {len(sent_before)}")

    # Nothing more arrives, and only messages in flight at the kill arrived twice.
    stays(lambda: len(slow_sink.messages), 3, "the number of messages accepted")
    counts = Counter((m.message_id, m.rcpt_tos[0]) for m in slow_sink.messages)
    assert set(counts) == set(expected.items())
    doubled = {message_id for (message_id, _), n in counts.items() if n > 1}
    assert max(counts.values()) <= 2, counts.most_common(3)
    assert len(doubled) <= CONCURRENCY, doubled
    prefix = f"<alert.{event.public_id}."
    doubled_subscriptions = {m.removeprefix(prefix).split("@")[0] for m in doubled}
    assert doubled_subscriptions <= set(subscribers)
    assert not doubled_subscriptions & sent_before, "a delivery marked sent went out again"
    print(f"sent twice: {sorted(doubled_subscriptions)}")


def test_a_live_worker_stuck_mid_send_keeps_its_claims_when_another_starts(
    *,
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    sink: SmtpSink,
    celery: Callable[..., Celery],
    private_redis: RedisServer,
) -> None:
    settings = _on_redis(configure, sink, private_redis)
    subscribers = {
        s.public_id: s.email for s in (subscribe(f"r{n}@example.org") for n in range(12))
    }
    # A server this slow must not look like a lost connection: a minute's SMTP timeout.
    processes = celery(
        settings,
        **{**SLOW_LEASES, "MONITOR_SMTP_TIMEOUT": "60", "MONITOR_ALERT_CLAIM_SECONDS": "400"},
    )
    processes.worker()
    sink.hold_after(5)  # then every new conversation waits at RCPT: the sender is stuck, alive

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    assert sink.held.wait(60), f"the fan-out never got going\n{processes.logs()}"
    held = _leases()
    assert sum(held.values()) == len(subscribers) - 5

    second = processes.worker()  # its start-up recovery finds the first worker alive
    wait_until(
        lambda: "'holders': 1, 'gone': 0" in second.text(),
        60,
        "the start-up recovery to find one claimant, alive",
        processes.logs,
    )
    assert _leases() == held
    assert len(sink.messages) == 5

    sink.release()
    wait_until(
        lambda: _states() == Counter({DeliveryState.SENT.value: len(subscribers)}),
        60,
        "every delivery sent",
        processes.logs,
    )
    stays(lambda: len(sink.messages), 3, "the number of messages accepted")
    expected = {
        (f"<alert.{event.public_id}.{sub_id}@monitor.test>", email)
        for sub_id, email in subscribers.items()
    }
    counts = Counter((m.message_id, m.rcpt_tos[0]) for m in sink.messages)
    assert set(counts) == expected
    assert set(counts.values()) == {1}


def test_beat_frees_the_claims_of_a_worker_killed_while_another_runs_on(
    *,
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    slow_sink: SlowSink,
    celery: Callable[..., Celery],
    private_redis: RedisServer,
) -> None:
    """No worker starts after the kill: beat's recovery, run by the survivor, finds it dead."""
    settings = _on_redis(configure, slow_sink, private_redis)
    subscribers = {
        s.public_id: s.email for s in (subscribe(f"r{n:02d}@example.org") for n in range(60))
    }
    processes = celery(
        settings, **SLOW_LEASES, MONITOR_ALERT_BATCH_SIZE="5", MONITOR_RECOVERY_SECONDS="3"
    )
    doomed = processes.worker()
    processes.worker()
    processes.beat()

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")

    def doomed_holds_leases() -> bool:
        return any(str(c).startswith("alerts-test-0@") for c in _leases())

    wait_until(doomed_holds_leases, 120, "the first worker to be sending", processes.logs)
    doomed.kill()
    stranded = {c: n for c, n in _leases().items() if str(c).startswith("alerts-test-0@")}
    assert stranded, "the kill stranded no lease"

    wait_until(
        lambda: _states() == Counter({DeliveryState.SENT.value: len(subscribers)}),
        60,
        "every delivery sent within 60 s of the kill",
        lambda: f"states {dict(_states())}, leases {dict(_leases())}\n{processes.logs()}",
        interval=0.5,
    )
    stays(lambda: len(slow_sink.messages), 3, "the number of messages accepted")
    counts = Counter((m.message_id, m.rcpt_tos[0]) for m in slow_sink.messages)
    assert set(counts) == {
        (f"<alert.{event.public_id}.{sub_id}@monitor.test>", email)
        for sub_id, email in subscribers.items()
    }
    assert sum(n - 1 for n in counts.values()) <= CONCURRENCY  # the killed worker's in flight
