"""Drive a real gunicorn server over HTTP: start it, log in through the form, time requests."""

from __future__ import annotations

import http.client
import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.database import BenchError

HOST = "127.0.0.1"
GUNICORN_WORKERS = 2
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_PROC = Path("/proc")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _gunicorn_command() -> list[str]:
    script = Path(sys.executable).parent / "gunicorn"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]
    # Newer gunicorn opens a control socket under ~/.gunicorn, shared by every gunicorn of the
    # user; the benchmark's throwaway server needs none.
    usage = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False)
    if "--no-control-socket" in usage.stdout:
        command.append("--no-control-socket")
    return command


@contextmanager
def gunicorn(port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Serve ``monitor:create_app()`` with sync workers on ``port`` until the block ends.

    Yields the gunicorn master process, whose ``pid`` ``measure(server_pid=...)`` takes.
    """
    command = [
        *_gunicorn_command(),
        "--workers", str(GUNICORN_WORKERS),
        "--worker-class", "sync",
        "--bind", f"{HOST}:{port}",
        # A streamed export of a large register takes minutes on one sync worker.
        "--timeout", "900",
        "--error-logfile", str(log),
        "monitor:create_app()",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    try:
        _wait_until_serving(port, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            # Ready, not just alive: /healthz answers 200 only once the database does.
            status, _, body = request(port, "/healthz")
        except OSError:
            time.sleep(0.3)
            continue
        if status == 200:
            return
        raise BenchError(f"GET /healthz answered {status} {body.strip()}: it cannot serve yet")
    raise BenchError(f"gunicorn did not answer within 60 s; see {log}")


def request(
    port: int,
    path: str,
    method: str = "GET",
    body: str | None = None,
    cookie: str = "",
) -> tuple[int, dict[str, list[str]], str]:
    """One request on a fresh connection: status, headers (lists per name) and text body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        collected: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            collected.setdefault(name.lower(), []).append(value)
        return response.status, collected, text
    finally:
        conn.close()


class CookieJar:
    """The cookies a browser would hold: every ``Set-Cookie`` answer replaces the old value.

    Shared by a measurement's client threads, like one browser's tabs. A client that kept
    sending a stale cookie would make the server store a new CSRF token (and re-sign the
    session) on every page, which no browser causes.
    """

    def __init__(self) -> None:
        self._cookies: dict[str, str] = {}
        self._lock = threading.Lock()

    def header(self) -> str:
        """The ``Cookie`` header to send now."""
        with self._lock:
            return "; ".join(f"{name}={value}" for name, value in self._cookies.items())

    def update(self, set_cookie: Sequence[str]) -> None:
        """Take the ``Set-Cookie`` values of one response."""
        if not set_cookie:
            return
        with self._lock:
            for line in set_cookie:
                parsed: SimpleCookie = SimpleCookie()
                parsed.load(line)
                for name, morsel in parsed.items():
                    self._cookies[name] = morsel.value


def visit(port: int, path: str, jar: CookieJar) -> tuple[int, dict[str, list[str]], str]:
    """GET ``path`` with the jar's cookies, keeping the ones the answer sets, as a browser does."""
    status, headers, text = request(port, path, cookie=jar.header())
    jar.update(headers.get("set-cookie", []))
    return status, headers, text


def login(port: int, email: str, password: str) -> CookieJar:
    """Log in through the real form (email, password, csrf_token), then open the case list.

    Returns the browser's cookies after that first page, which stores the session's CSRF token.
    Raises :class:`BenchError` if a second page view changes the session again: every page
    would then pay for a new cookie.
    """
    jar = CookieJar()
    status, _, page = visit(port, "/login", jar)
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    match = _CSRF.search(page)
    if not match:
        raise BenchError("the login form has no csrf_token field")
    form = urlencode({"email": email, "password": password, "csrf_token": match.group(1)})
    status, headers, _ = request(port, "/login", "POST", form, jar.header())
    if status not in {302, 303}:
        raise BenchError(f"logging in answered {status}, expected a redirect")
    jar.update(headers.get("set-cookie", []))
    status, _, _ = visit(port, "/cases", jar)
    if status != 200:
        raise BenchError(f"GET /cases after logging in answered {status}")
    _, headers, _ = visit(port, "/cases", jar)
    if headers.get("set-cookie"):
        raise BenchError("the second page after logging in set a cookie again")
    return jar


@dataclass(frozen=True)
class CpuShare:
    """CPU time (user + system) per completed request of each party to a measurement, in ms."""

    server_ms: float
    database_ms: float
    client_ms: float
    seconds: float  # wall time the CPU was counted over

    @property
    def total_ms(self) -> float:
        """The three parties together."""
        return self.server_ms + self.database_ms + self.client_ms

    @classmethod
    def combined(cls, shares: Sequence[tuple[CpuShare, int]]) -> CpuShare | None:
        """Several measurements' figures as one: each ``(share, completed requests)``."""
        completed = sum(n for _, n in shares)
        if not completed:
            return None

        def mean(part: str) -> float:
            return sum(float(getattr(share, part)) * n for share, n in shares) / completed

        return cls(
            server_ms=mean("server_ms"),
            database_ms=mean("database_ms"),
            client_ms=mean("client_ms"),
            seconds=sum(share.seconds for share, _ in shares),
        )

    def as_dict(self) -> dict[str, float]:
        """The figures as JSON, rounded to 0.01 ms."""
        return {
            "server": round(self.server_ms, 2),
            "database": round(self.database_ms, 2),
            "client": round(self.client_ms, 2),
        }


@dataclass(frozen=True)
class _Process:
    ppid: int
    comm: str
    ticks: int  # utime + stime + cutime + cstime, in clock ticks


def _processes() -> dict[int, _Process]:
    """Every process in ``/proc`` by pid (those exiting while being read are left out)."""
    table: dict[int, _Process] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm (the same name as /proc/PID/comm) may itself hold
        # spaces and parentheses, so it ends at the last ")".
        head, _, tail = stat.rpartition(b")")
        fields = tail.split()  # fields[0] is field 3 (state), so field n is fields[n - 3]
        if len(fields) < 15:
            continue
        table[int(entry.name)] = _Process(
            ppid=int(fields[1]),
            comm=head.partition(b"(")[2].decode("utf-8", "replace"),
            # Fields 14-17: the process's own utime and stime, plus cutime and cstime, the CPU of
            # children it has reaped. With the latter a worker that gunicorn restarts, or a
            # PostgreSQL parallel worker or backend that ends, is still counted: its time moves
            # to its parent's reaped total instead of disappearing with it.
            ticks=sum(int(value) for value in fields[11:15]),
        )
    return table


def _descendants(table: dict[int, _Process], root: int) -> set[int]:
    """``root`` and every process below it, following the ppid chains."""
    children: dict[int, list[int]] = {}
    for pid, process in table.items():
        children.setdefault(process.ppid, []).append(pid)
    found: set[int] = set()
    pending = [root] if root in table else []
    while pending:
        pid = pending.pop()
        found.add(pid)
        pending.extend(children.get(pid, []))
    return found


class _CpuMeter:
    """CPU seconds of the server, the database and this process between ``start`` and ``stop``.

    The server is the gunicorn master and all its descendants, read afresh at both ends since
    workers may be restarted. The database is every process named ``postgres`` on this machine,
    with what the postmaster reaped meanwhile (parallel query workers, but also other clients'
    short-lived backends: on a shared machine the figure includes their work).
    """

    def __init__(self, server_pid: int) -> None:
        self._server_pid = server_pid
        self._tick = float(os.sysconf("SC_CLK_TCK"))
        self._parties = (0.0, 0.0)
        self._client = 0.0
        self._began = 0.0

    @staticmethod
    def available() -> bool:
        """Linux's /proc is there (elsewhere the CPU figures are left out)."""
        return sys.platform.startswith("linux") and (_PROC / "self" / "stat").exists()

    def _read_parties(self) -> tuple[float, float]:
        table = _processes()
        server = sum(table[pid].ticks for pid in _descendants(table, self._server_pid))
        # A local PostgreSQL only: a database server on another machine shows 0 here.
        database = sum(process.ticks for process in table.values() if process.comm == "postgres")
        return server / self._tick, database / self._tick

    @staticmethod
    def _read_client() -> float:
        own = os.times()
        return own.user + own.system

    def start(self) -> None:
        """Take the first reading (the scan of /proc itself is not charged to the client)."""
        self._parties = self._read_parties()
        self._client = self._read_client()
        self._began = time.perf_counter()

    def stop(self, completed: int) -> CpuShare | None:
        """Per completed request since ``start``; None when no request completed."""
        seconds = time.perf_counter() - self._began
        client = self._read_client() - self._client
        server, database = self._read_parties()
        if not completed:
            return None
        per_request = 1000 / completed
        return CpuShare(
            server_ms=(server - self._parties[0]) * per_request,
            database_ms=(database - self._parties[1]) * per_request,
            client_ms=client * per_request,
            seconds=seconds,
        )


@dataclass
class Measurement:
    """Latencies of one endpoint measured under concurrent load."""

    name: str
    example: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)
    cpu: CpuShare | None = None  # only when measured with ``server_pid`` on Linux

    @property
    def throughput(self) -> float:
        """Completed requests per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000


def measure(
    port: int,
    name: str,
    paths: Sequence[str],
    cookies: CookieJar,
    *,
    total: int | None,
    clients: int,
    warmup: int = 20,
    budget: float = 20.0,
    server_pid: int | None = None,
) -> Measurement:
    """Send ``total`` GETs (cycling through ``paths``) from ``clients`` threads; time each one.

    Stops sending after ``budget`` seconds, so one pathological page cannot stall the run; the
    figures then cover the requests that completed. With ``total`` None it sends for exactly
    ``budget`` seconds (a time window: endpoints of any speed are then measured over the same
    stretch of the machine's time). Given the gunicorn master's ``server_pid``
    (and Linux's /proc), also counts the CPU per successful request of the server, the database
    and this process, from the start of the timed requests (after the warm-up) to their end.
    The clients keep ``cookies`` up to date as a browser would (the session is re-issued once a
    minute).
    """
    for path in itertools.islice(itertools.cycle(paths), warmup):
        visit(port, path, cookies)
    tickets = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client() -> None:
        # http.client reconnects by itself when the server closes (gunicorn sync workers do).
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        start.wait()
        deadline = time.perf_counter() + budget
        while True:
            with lock:
                ticket = next(tickets)
            if (total is not None and ticket >= total) or time.perf_counter() > deadline:
                break
            path = paths[ticket % len(paths)]
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookies.header()})
                response = conn.getresponse()
                response.read()
                status = response.status
                cookies.update(response.headers.get_all("Set-Cookie") or [])
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    errors.append(f"{path}: {exc!r}")
                continue
            elapsed = time.perf_counter() - began
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{path}: HTTP {status}")
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    meter = _CpuMeter(server_pid) if server_pid is not None and _CpuMeter.available() else None
    for thread in threads:
        thread.start()
    if meter is not None:
        meter.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    cpu = meter.stop(len(latencies)) if meter is not None else None
    return Measurement(
        name, paths[0], len(latencies) + len(errors), seconds, latencies, errors, cpu
    )
