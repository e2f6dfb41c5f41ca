"""Child processes on a test's database, broker and SMTP server: ``monitor`` commands, a Celery
worker for one test, supervised worker and beat processes for the alert tests, a private Redis,
and a bare process to stand for a claimant that dies."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from monitor.config import Settings
from tests.support.alerts import FAST_ENV
from tests.support.environment import unavailable
from tests.support.smtp import free_port
from tests.support.waiting import wait_until

VENV_BIN = Path(sys.executable).parent


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a worker, beat or ``monitor`` command needs to act on the test's database,
    broker and SMTP server, plus ``extra``."""
    env = dict(os.environ)
    env.update(
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=settings.secret_key,
        MONITOR_AUDIT_KEY=settings.audit_key,
        MONITOR_INSTANCE_PATH=str(settings.instance_path),
        MONITOR_DATABASE_URL=settings.database_url,
        MONITOR_REDIS_URL=settings.redis_url or "",
        MONITOR_BASE_URL=settings.base_url,
        MONITOR_SMTP_URL=settings.smtp_url or "",
    )
    env.update(extra)
    return env


def app_env(app: Flask) -> dict[str, str]:
    """:func:`settings_env` of the test app."""
    return settings_env(app.config["SETTINGS"])


def log_text(log: Path) -> str:
    """The worker's log so far."""
    return log.read_text() if log.exists() else ""


@contextmanager
def celery_worker(app: Flask, log: Path, pool: str = "solo") -> Iterator[subprocess.Popen[bytes]]:
    """One worker process logging to ``log``; stopped when the block ends."""
    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            f"--pool={pool}",
            f"--logfile={log}",
        ],
        env=app_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


# A worker's SMTP timeout of 5 s allows a 30 s lease: a killed worker's deliveries are free again
# within half a minute. A shorter timeout is not safe on a loaded CI machine: a late reply to the
# end of DATA from the test's SMTP sink (1 s was seen) looked like a lost connection, and the
# message, already accepted, went out again on the retry.
WORKER_ENV = {**FAST_ENV, "MONITOR_SMTP_TIMEOUT": "5", "MONITOR_ALERT_CLAIM_SECONDS": "30"}


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a worker or beat needs, with the alert tests' fast settings."""
    return settings_env(settings, **{**WORKER_ENV, **extra})


@dataclass
class Process:
    """A child process in its own session, so a SIGKILL takes all its children with it."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # Set while the test wants it down (killed, or stopped): the supervisor leaves it alone.
    held_down: bool = False

    def start(self) -> Process:
        """Start (or start again after a kill)."""
        self.held_down = False
        self.starts += 1
        handle = self.log.open("ab")
        handle.write(f"\n===== start #{self.starts} =====\n".encode())
        handle.flush()
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    def text(self) -> str:
        """The log so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        """Still running."""
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no acknowledgement, nothing."""
        self.held_down = True
        if self.popen is not None and self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        """Stop politely, then not (a test's processes hold nothing worth waiting for)."""
        self.held_down = True
        if self.popen is None or not self.alive():
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Celery:
    """A worker and a beat on the test's database, broker and SMTP sink, supervised.

    Like the compose file's ``restart: unless-stopped``, a process that exits without the test
    asking is started again: a Celery worker can exit on a lost broker connection (kombu's Redis
    transport raises AttributeError restoring unacknowledged messages on a closed connection,
    seen in CI under load), and production runs it under a supervisor for that reason.
    """

    env: dict[str, str]
    directory: Path
    concurrency: int = 2
    processes: list[Process] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None

    def _supervise(self) -> None:
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._restart_exited, daemon=True)
            self._supervisor.start()

    def _restart_exited(self) -> None:
        while not self._done.wait(0.5):
            for process in list(self.processes):
                popen = process.popen
                # held_down is read after poll(): kill() sets it before the process dies.
                if popen is None or popen.poll() is None or process.held_down:
                    continue
                with process.log.open("a") as log:
                    log.write(f"\n===== exited with {popen.returncode}: restarting =====\n")
                process.start()

    def worker(self) -> Process:
        """Start a worker (prefork, like production) and wait until it consumes."""
        process = Process(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "workers",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=alerts-test-{len(self.processes)}@%h",
            ],
            self.env,
            self.directory / "worker.log",
        )
        self.processes.append(process)
        self._supervise()
        return self.ready(process.start())

    def ready(self, process: Process) -> Process:
        """Wait for a (re)started worker to report ready."""
        marker = f"===== start #{process.starts} ====="

        def started() -> bool:
            assert process.alive(), f"worker exited:\n{process.text()}"
            return " ready." in process.text().rsplit(marker, 1)[-1]

        wait_until(started, 90, "the worker to be ready", process.text)
        return process

    def beat(self) -> Process:
        """Start beat (its sweep re-queues what a fault left behind)."""
        process = Process(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "workers",
                "beat",
                "--loglevel=INFO",
                "--pidfile=",
                f"--schedule={self.directory / 'beat-schedule'}",
            ],
            self.env,
            self.directory / "beat.log",
        )
        self.processes.append(process)
        self._supervise()
        return process.start()

    def logs(self) -> str:
        """Every process's log, for failure messages."""
        return "\n".join(f"--- {p.name} ---\n{p.text()[-6000:]}" for p in self.processes)

    def stop(self) -> None:
        """Stop everything started: the test is over, nothing is worth a graceful shutdown."""
        self._done.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for process in self.processes:
            process.kill()


@dataclass
class RedisServer:
    """A private redis-server on a port of its own, to stop and start at will."""

    port: int
    directory: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start listening (no persistence: a restart also loses whatever was queued)."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.popen = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(
            answers, 20, f"the private redis-server to answer on port {self.port}", interval=0.05
        )

    def stop(self) -> None:
        """Stop it."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=20)


@contextmanager
def private_redis_server(folder: Path) -> Iterator[RedisServer]:
    """A running redis-server of the caller's own, data under ``folder``; stopped at the end.

    Skips the test when redis-server is not installed (fails under ``CI=true``). The machine's
    Redis is never stopped: other tests and people use it.
    """
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed (apt-get install redis-server)")
    folder.mkdir()
    server = RedisServer(free_port(), folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def claimant_process() -> Iterator[tuple[str, Callable[[], None]]]:
    """A Python process of its own on this machine: its claimant label, and a way to end it.

    Its label is what a claim it took would record (``services.claimants.label``), computed in
    that process; once ``end()`` has SIGKILLed it, the label names a dead claimant.
    """
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from monitor.services import claimants\n"
            "print(claimants.label(), flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None
    label = child.stdout.readline().decode().strip()

    def end() -> None:
        if child.returncode is None:
            child.kill()
            child.communicate(timeout=30)  # reaped, and its pipes closed

    try:
        yield label, end
    finally:
        end()
