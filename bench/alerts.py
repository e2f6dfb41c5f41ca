"""``make bench`` (alerts part): status change → email, through real workers on Redis.

Everything runs on this machine, in the same run, against the same SMTP sink (aiosmtpd in this
process, a thread that only counts what it accepts):

- latency: a status change is committed in process (the web's code path: the transaction commits,
  the dispatch task is published to Redis), and the clock stops when the sink accepts the email
  to the case's one subscriber; 15 rounds, median and p95 (target: median ≤ 1 s);
- fan-out: one change of a case followed by 10,000 subscribers, from the commit until the sink
  has accepted all 10,000, against a raw ``smtplib`` loop sending 10,000 pre-built messages of
  the same size over one connection to the same sink, just before and just after the fan-out
  (target: ≤ 1.5x the mean of the two loops' times).

The broker is a private ``redis-server`` on a free port (nobody's Redis database is touched), the
database ``MONITOR_BENCH_ALERTS_DATABASE_URL`` (default ``case_monitor_bench_alerts``, created if
missing). Workers: ``celery -A workers worker`` with two processes per CPU.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.database import BenchError, dedicated_url, ensure_database, redacted, run_monitor

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/case_monitor_bench_alerts"
HOST = "127.0.0.1"
SUBSCRIBERS = 10_000
LATENCY_ROUNDS = 15
# Worker processes: two per CPU, so one's SMTP and database round trips overlap another's work.
CONCURRENCY = int(os.environ.get("MONITOR_BENCH_ALERT_WORKERS") or 2 * (os.cpu_count() or 1))
TARGETS = {"latency_median_s": 1.0, "fanout_ratio": 1.5}
ORG = "Synthetic Bench Alerts Circle"
_MESSAGE_ID = re.compile(rb"Message-ID: <alert\.([A-Za-z0-9_-]+)\.", re.IGNORECASE)


def database_url() -> str:
    """``MONITOR_BENCH_ALERTS_DATABASE_URL``, refusing shared databases."""
    return dedicated_url("MONITOR_BENCH_ALERTS_DATABASE_URL", DEFAULT_URL)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Sink:
    """An aiosmtpd handler that counts accepted messages per status event, and their times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.by_event: dict[str, int] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept and count."""
        now = time.perf_counter()
        match = _MESSAGE_ID.search(envelope.original_content[:4096])
        with self.lock:
            self.count += 1
            if match:
                event = match.group(1).decode()
                self.by_event[event] = self.by_event.get(event, 0) + 1
                self.first.setdefault(event, now)
                self.last[event] = now
        return "250 2.0.0 Accepted"

    def wait(self, event: str, count: int, timeout: float) -> float:
        """When the sink had accepted ``count`` messages about ``event`` (perf_counter time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.by_event.get(event, 0) >= count:
                    return self.last[event] if count > 1 else self.first[event]
            time.sleep(0.002)
        raise BenchError(f"the sink got {self.by_event.get(event, 0)} of {count} messages")


@contextmanager
def smtp_sink(port: int) -> Iterator[Sink]:
    """The sink, listening until the block ends."""
    from aiosmtpd.controller import Controller

    handler = Sink()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@contextmanager
def private_redis(port: int, directory: Path) -> Iterator[str]:
    """A redis-server of the benchmark's own; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is not installed (apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host=HOST, port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://{HOST}:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def workers(env: dict[str, str], log: Path) -> Iterator[None]:
    """``celery -A workers worker`` with one process per CPU, until the block ends."""
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "workers",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={CONCURRENCY}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--logfile={log}",
    ]
    log.unlink(missing_ok=True)
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def environment(url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    """The app's and the workers' environment."""
    env = dict(os.environ)
    env.update(
        MONITOR_DATABASE_URL=url,
        MONITOR_REDIS_URL=redis_url,
        MONITOR_SMTP_URL=f"smtp://{HOST}:{smtp_port}",
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=secrets.token_urlsafe(48),
        MONITOR_AUDIT_KEY=secrets.token_urlsafe(48),
        MONITOR_INSTANCE_PATH=str(RESULTS / "instance-alerts"),
        MONITOR_BASE_URL="http://bench.invalid",
    )
    return env


class Scene:
    """The benchmark's cases and subscribers, made in process through the services."""

    def __init__(self, env: dict[str, str]) -> None:
        from monitor import create_app
        from monitor.config import Settings

        self.app = create_app(Settings.from_env(env))
        self.day = dt.date(2000, 1, 1)

    def prepare(self) -> tuple[int, int]:
        """A fresh latency case with one subscriber, and a fan-out case with 10,000 subscribers."""
        from sqlalchemy import delete, func, insert, select

        from monitor.domain import PartialDate
        from monitor.extensions import db
        from monitor.models import Case, Organization, Subscription
        from monitor.models.base import new_public_id, utcnow
        from monitor.services import people
        from monitor.services.cases import CaseInput, StatusInput, create_case
        from monitor.services.subscriptions import (
            SubscriptionInput,
            create_confirmed,
        )

        with self.app.app_context():
            # Each run starts from new cases (their events and deliveries go with them).
            db.session.execute(delete(Case).where(Case.title.like("Synthetic bench alerts%")))
            db.session.commit()
            org = db.session.scalars(select(Organization).where(Organization.name == ORG)).first()
            if org is None:
                org = people.create_organization(
                    "bench", people.OrganizationInput(name=ORG, kind="other", country="KH")
                )
            cases = []
            for label in ("latency", "fan-out"):
                person = people.create_person(
                    "bench", people.PersonInput(name=f"Synthetic Bench {label.title()}")
                )
                if label == "fan-out":
                    people.add_membership("bench", person, org, "member")
                cases.append(
                    create_case(
                        "bench",
                        person,
                        CaseInput(country="KH", title=f"Synthetic bench alerts: {label}"),
                        StatusInput(status="at_liberty", occurred_on=PartialDate.parse("2000")),
                    )
                )
            latency, fanout = cases
            for event in (*latency.events, *fanout.events):
                event.alerts_pending = False  # nobody needs the "new case" alerts
            admin = _bench_user()
            create_confirmed(
                admin,
                SubscriptionInput(
                    email="latency@example.org", scope="case", case=latency, mode="immediate"
                ),
            )
            have = db.session.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(Subscription.scope_organization_id == org.id)
            )
            missing = SUBSCRIBERS - (have or 0)
            if missing > 0:
                now = utcnow()
                db.session.execute(
                    insert(Subscription),
                    [
                        {
                            "public_id": new_public_id(),
                            "email": f"reader{n:05d}@example.org",
                            "name": f"Reader {n}",
                            "scope": "organization",
                            "scope_organization_id": org.id,
                            "mode": "immediate",
                            "confirmed_at": now,
                            "unsubscribe_token": secrets.token_urlsafe(32),
                            "created_at": now,
                        }
                        for n in range(have or 0, SUBSCRIBERS)
                    ],
                )
            db.session.commit()
            return latency.id, fanout.id

    def change(self, case_id: int) -> tuple[str, float]:
        """Record a status change and commit; returns the event's id and the commit time."""
        from monitor.domain import PartialDate
        from monitor.extensions import db
        from monitor.models import Case
        from monitor.services.cases import StatusInput, record_status

        with self.app.app_context():
            case = db.session.get(Case, case_id)
            if case is None:
                raise BenchError("the benchmark's case disappeared")
            self.day += dt.timedelta(days=1)
            status = "jailed" if case.status != "jailed" else "at_liberty"
            event = record_status(
                "bench",
                case,
                StatusInput(status=status, occurred_on=PartialDate.parse(self.day.isoformat())),
            ).event
            db.session.flush()
            public_id = event.public_id
            committed = time.perf_counter()
            db.session.commit()  # publishes the dispatch task to Redis after the commit
            return public_id, committed

    def sample_message(self, event_id: str) -> bytes:
        """An alert as the workers send it, for the raw loop to send the same bytes."""
        from sqlalchemy import select

        from monitor.extensions import db
        from monitor.mail import messages
        from monitor.models import AlertDelivery, StatusEvent
        from monitor.services.alert_content import Addressee, status_change

        with self.app.app_context():
            settings = self.app.config["SETTINGS"]
            delivery = db.session.scalars(
                select(AlertDelivery)
                .join(StatusEvent)
                .where(StatusEvent.public_id == event_id)
                .limit(1)
            ).one()
            message = messages.alert_message(
                status_change(delivery.status_event, settings.base_url),
                Addressee.of(delivery.subscription).recipient(settings.base_url),
                messages.Sender.from_settings(settings.mail_from, settings.base_url),
            )
            return message.data

    def unsent(self, event_id: str) -> int:
        """Deliveries of an event not yet marked sent."""
        from sqlalchemy import func, select

        from monitor.extensions import db
        from monitor.models import AlertDelivery, StatusEvent

        with self.app.app_context():
            return int(
                db.session.scalar(
                    select(func.count())
                    .select_from(AlertDelivery)
                    .join(StatusEvent)
                    .where(StatusEvent.public_id == event_id, AlertDelivery.state != "sent")
                )
                or 0
            )


def _bench_user() -> Any:
    from sqlalchemy import select

    from monitor.extensions import db
    from monitor.models import User
    from monitor.services import users

    user = db.session.scalars(select(User).where(User.email == "alerts@example.org")).first()
    if user is None:
        user = users.create_user(
            "bench",
            users.UserInput(email="alerts@example.org", role="editor", clearance="public"),
            users.generate_password(),
        )
    return user


def raw_loop(port: int, message: bytes, count: int) -> float:
    """The floor: ``count`` sendmail calls over one connection; seconds taken."""
    started = time.perf_counter()
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        for n in range(count):
            client.sendmail("alerts@example.org", [f"loop{n:05d}@example.org"], message)
    return time.perf_counter() - started


def run() -> bool:
    """The alerts benchmark; True when both targets are met."""
    began = time.perf_counter()
    url = database_url()
    print(f"alerts: database {redacted(url)}, {SUBSCRIBERS:,} subscribers, Redis broker")
    ensure_database(url)
    smtp_port = free_port()
    with (
        private_redis(free_port(), RESULTS / "redis-alerts") as redis_url,
        smtp_sink(smtp_port) as sink,
    ):
        env = environment(url, redis_url, smtp_port)
        run_monitor(["init-db"], env)
        scene = Scene(env)
        latency_case, fanout_case = scene.prepare()
        with workers(env, RESULTS / "alerts-worker.log"):
            time.sleep(3)  # let the worker connect before the clock starts
            scene.change(latency_case)  # warm-up: imports, connections, templates
            latencies = []
            for _ in range(LATENCY_ROUNDS):
                event, committed = scene.change(latency_case)
                latencies.append(sink.wait(event, 1, timeout=30) - committed)
            # The floor is measured just before and just after the fan-out, so a load that comes
            # and goes on the machine weighs on both sides alike.
            loops = [raw_loop(smtp_port, scene.sample_message(event), SUBSCRIBERS)]
            event, committed = scene.change(fanout_case)
            fanout_s = sink.wait(event, SUBSCRIBERS, timeout=600) - committed
            first_s = sink.first[event] - committed
            deadline = time.monotonic() + 60
            while scene.unsent(event) and time.monotonic() < deadline:
                time.sleep(0.2)
            unsent = scene.unsent(event)
        loops.append(raw_loop(smtp_port, scene.sample_message(event), SUBSCRIBERS))
    print(
        f"  fan-out: first message {first_s:.2f} s after the commit; raw loop before "
        f"{loops[0]:.2f} s, after {loops[1]:.2f} s (their mean is the floor)"
    )
    loop_s = statistics.mean(loops)
    return _report(latencies, fanout_s, loop_s, unsent, time.perf_counter() - began)


def _report(
    latencies: list[float], fanout_s: float, loop_s: float, unsent: int, seconds: float
) -> bool:
    latencies.sort()
    median = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    ratio = fanout_s / loop_s
    latency_ok = median <= TARGETS["latency_median_s"]
    fanout_ok = ratio <= TARGETS["fanout_ratio"] and unsent == 0
    print(
        f"  latency, commit → first message accepted: median {median * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms over {len(latencies)} "
        f"changes (target median ≤ {TARGETS['latency_median_s']:.0f} s): "
        f"{'PASS' if latency_ok else 'FAIL'}"
    )
    print(
        f"  fan-out to {SUBSCRIBERS:,}: {fanout_s:.2f} s ({SUBSCRIBERS / fanout_s:,.0f} msg/s); "
        f"raw smtplib loop: {loop_s:.2f} s ({SUBSCRIBERS / loop_s:,.0f} msg/s); "
        f"ratio {ratio:.2f}x (target ≤ {TARGETS['fanout_ratio']}x): "
        f"{'PASS' if fanout_ok else 'FAIL'}{f' ({unsent} not marked sent)' if unsent else ''}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "alerts.json").write_text(
        json.dumps(
            {
                "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "subscribers": SUBSCRIBERS,
                "workers": CONCURRENCY,
                "latency_ms": [round(v * 1000, 1) for v in latencies],
                "latency_median_ms": round(median * 1000, 1),
                "latency_p95_ms": round(p95 * 1000, 1),
                "fanout_seconds": round(fanout_s, 2),
                "raw_loop_seconds": round(loop_s, 2),
                "fanout_ratio": round(ratio, 3),
                "unsent": unsent,
                "targets": TARGETS,
                "passed": latency_ok and fanout_ok,
                "seconds": round(seconds, 1),
            },
            indent=2,
        )
        + "\n"
    )
    return latency_ok and fanout_ok


if __name__ == "__main__":
    try:
        sys.exit(0 if run() else 1)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
