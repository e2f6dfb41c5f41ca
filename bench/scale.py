"""The pages at two sizes of register in one run: does a page's cost grow with the register?

For each size (10,000 and 1,000,000 cases by default) a database loaded by :mod:`bench.seeding`
is served by its own gunicorn, both at once. Every page is requested by one client alternately
from the two servers (small, large, small, large …), so both sizes see the same load of a shared
machine and a page's ratio compares like with like; p50/p95 latency per size, the server's and
the database's CPU per request per size, and its SQL statements counted in process at both
sizes. Then each size's whole CSV export is streamed while the workers' RSS is sampled, and
timed against a plain ``SELECT`` written with ``csv.writer`` on the same database.

Targets: each page's p50 at the largest size at most ``MAX_GROWTH`` times its p50 at the
smallest, the same number of queries at both sizes, the export's RSS growth at most
``EXPORT_RSS_MB`` and its speed at least ``EXPORT_MIN_SHARE`` of the plain writer's.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import inprocess, load, report, seeding
from bench.database import libpq_url
from bench.report import Row

MAX_GROWTH = 1.5
EXPORT_RSS_MB = 50.0
EXPORT_MIN_SHARE = 1 / 3
DEFAULT_SIZES = (10_000, 1_000_000)
TRIVIAL = "GET /livez"
# Printed, not judged: a numbered page deep in the list (an old link) costs what skipping its
# offset costs; the list links deep pages by keyset ("Next", after the last case shown).
DEEP_PAGE = 400
PER_PAGE = 25  # the list's default page size


def deep_page(smallest: int) -> int:
    """The deep page measured at both sizes: page 400, or halfway through a smaller register."""
    return max(2, min(DEEP_PAGE, smallest // (2 * PER_PAGE)))


def information(depth: int) -> set[str]:
    """Rows printed, not judged: a numbered page deep in the list (an old link) costs what
    skipping its offset costs; the list links deep pages by keyset (Next, after a case)."""
    return {f"case list, page={depth} (offset)"}


_PROC = Path("/proc")


@dataclass
class PageFigures:
    """One page at one size."""

    p50_ms: float
    p95_ms: float
    server_cpu_ms: float | None
    database_cpu_ms: float | None
    queries: int
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "server_cpu_ms": None if self.server_cpu_ms is None else round(self.server_cpu_ms, 2),
            "database_cpu_ms": (
                None if self.database_cpu_ms is None else round(self.database_cpu_ms, 2)
            ),
            "queries": self.queries,
            "errors": self.errors[:5],
        }


@dataclass
class ExportFigures:
    """The streamed CSV export at one size, and the plain writer on the same rows."""

    rows: int
    seconds: float
    rss_growth_mb: float
    plain_rows: int
    plain_seconds: float

    @property
    def share(self) -> float:
        """The export's rows per second as a share of the plain writer's."""
        mine = self.rows / self.seconds if self.seconds else 0.0
        plain = self.plain_rows / self.plain_seconds if self.plain_seconds else 0.0
        return mine / plain if plain else 0.0

    def as_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds else None,
            "rss_growth_mb": round(self.rss_growth_mb, 1),
            "plain_rows": self.plain_rows,
            "plain_seconds": round(self.plain_seconds, 2),
            "share_of_plain": round(self.share, 3),
        }


@dataclass
class SizeFigures:
    """Everything measured on one size of register."""

    cases: int
    seeded: bool
    seed_seconds: float
    pages: dict[str, PageFigures]
    export: ExportFigures | None
    plans: dict[str, str] = field(default_factory=dict)


def plan(seeded: seeding.Seeded, depth: int = DEEP_PAGE) -> list[tuple[str, list[str]]]:
    """The pages measured, each with the paths it cycles through (the same ids' shapes at every
    size: cases spread over the whole register). ``depth``: the deep page's number."""
    n = seeded.cases
    # The deep page as a reader reaches it: Next on the page before, after its last case.
    deep = seeding.deep_case(seeded.url, (depth - 1) * PER_PAGE - 1)
    spread = sorted({max(1, n // 7), max(1, n // 3), n // 2 + 1, max(1, n - 5)})
    rare = 4321 if n >= 4321 else n // 2 + 1  # a person's number: one match at every size
    org = seeded.largest_organization
    return [
        (TRIVIAL, ["/livez"]),
        ("dashboard", ["/"]),
        ("case list", ["/cases"]),
        (f"case list, page {depth} (Next)", [f"/cases?after={deep}"]),
        (f"case list, page={depth} (offset)", [f"/cases?page={depth}"]),
        ("filter: status", ["/cases?status=jailed"]),
        ("filter: country", ["/cases?country=MM"]),
        ("filter: organization", [f"/cases?organization={org}"]),
        ("filter: confidentiality", ["/cases?confidentiality=restricted"]),
        ("filter: offence", ["/cases?offence=treason"]),
        ("search: common", ["/cases?q=kalo"]),
        ("search: rare", [f"/cases?q={rare:07d}"]),
        ("case page", [f"/cases/{seeding.case_public_id(i)}" for i in spread]),
        ("person page", [f"/people/{seeding.person_public_id(i)}" for i in spread]),
        ("organization page (largest)", [f"/organizations/{org}"]),
    ]


def _workers_rss_kb(master: int) -> int:
    """Resident memory of gunicorn's workers (the master's children), in KiB."""
    total = 0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0])
    return total


def measure_export(
    port: int, cookies: load.CookieJar, master: int, url: str, limit: float | None = None
) -> ExportFigures:
    """Stream ``/data/cases.csv`` to the end (or for ``limit`` seconds) while sampling the
    workers' RSS; then the floor, over as many rows."""
    baseline = _workers_rss_kb(master)
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, _workers_rss_kb(master))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    conn = http.client.HTTPConnection(load.HOST, port, timeout=900)
    lines = 0
    try:
        conn.request("GET", "/data/cases.csv", headers={"Cookie": cookies.header()})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET /data/cases.csv answered {response.status}")
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            if limit is not None and time.perf_counter() - began > limit:
                break
    finally:
        conn.close()
        seconds = time.perf_counter() - began
        done.set()
        sampler.join()
    peak = max(peak, _workers_rss_kb(master))
    sink = io.StringIO()
    writer = csv.writer(sink, lineterminator="\r\n")

    def write(row: list[str]) -> None:
        writer.writerow(row)
        sink.seek(0)
        sink.truncate()

    began = time.perf_counter()
    plain = seeding.plain_csv_rows(url, write, lines - 1)
    plain_seconds = time.perf_counter() - began
    # Lines less the header (a quoted cell with a line break would count twice; none here).
    return ExportFigures(lines - 1, seconds, (peak - baseline) / 1024, plain, plain_seconds)


def explain_slowest(url: str, statements: dict[str, tuple[str, Any]]) -> dict[str, str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each page's slowest statement (as recorded in process)."""
    plans: dict[str, str] = {}
    with psycopg.connect(libpq_url(url)) as conn:
        for name, (statement, parameters) in statements.items():
            try:
                rows = conn.execute(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters or None
                ).fetchall()
            except psycopg.Error as exc:
                conn.rollback()
                plans[name] = f"(not explained: {exc})"
                continue
            plans[name] = "\n".join(str(row[0]) for row in rows)
            conn.rollback()
    return plans


@dataclass
class Prepared:
    """One size, ready to serve: its database, app, admin and the pages to request."""

    seeded: seeding.Seeded
    env: dict[str, str]
    email: str
    password: str
    endpoints: list[tuple[str, list[str]]]
    counted: dict[str, inprocess.Recorded]


def prepare_size(base_url: str, cases: int, env: dict[str, str], depth: int) -> Prepared:
    """Load (or reuse) the register of ``cases`` cases; its admin, pages and SQL statements."""
    print(f"{cases:,} cases", flush=True)
    seeded = seeding.prepare(base_url, cases, env)
    sized = {**env, "MONITOR_DATABASE_URL": seeded.url}
    app = inprocess.make_app(sized)
    password = inprocess.new_password()
    email = inprocess.ensure_admin(app, password)
    endpoints = plan(seeded, depth)
    counted = inprocess.statements_per_page(app, email, password, [p[0] for _, p in endpoints])
    return Prepared(seeded, sized, email, password, endpoints, counted)


def _stat_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of one process (0 once it has gone)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return 0
    fields = stat.rpartition(b")")[2].split()
    return sum(int(value) for value in fields[11:15])


class _SizeMeter:
    """CPU of one size's server (gunicorn and its workers) and database (the backends connected
    to its database, plus what the postmaster reaps meanwhile: parallel query workers), read
    around each of its requests from a handful of /proc files.

    The requests of the two sizes alternate and never overlap, so what the postmaster reaps
    during a request is charged to that request's size (on a shared machine, other clients'
    backends that end meanwhile too).
    """

    def __init__(self, server_pid: int, url: str) -> None:
        self._tick = float(os.sysconf("SC_CLK_TCK"))
        table = load._processes()
        self._server = sorted(load._descendants(table, server_pid))
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute(
                "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
        self._backends = list(row[0] or []) if row else []
        postmasters = [pid for pid, p in table.items() if p.comm == "postgres" and p.ppid == 1]
        self._backends += postmasters
        self.server_s = 0.0
        self.database_s = 0.0

    def read(self) -> tuple[int, int]:
        """The ticks so far of the server and of the database."""
        return (
            sum(_stat_ticks(pid) for pid in self._server),
            sum(_stat_ticks(pid) for pid in self._backends),
        )

    def add(self, before: tuple[int, int], after: tuple[int, int]) -> None:
        """Charge one request's ticks."""
        self.server_s += (after[0] - before[0]) / self._tick
        self.database_s += (after[1] - before[1]) / self._tick


def _get(conn: http.client.HTTPConnection, path: str, cookies: load.CookieJar) -> str | None:
    """One GET on ``conn``; None when it succeeded, else what went wrong."""
    try:
        conn.request("GET", path, headers={"Cookie": cookies.header()})
        response = conn.getresponse()
        response.read()
        cookies.update(response.headers.get_all("Set-Cookie") or [])
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return f"{path}: {exc!r}"
    return None if response.status == 200 else f"{path}: HTTP {response.status}"


@dataclass
class _Side:
    """One size during the interleaved run."""

    port: int
    cookies: load.CookieJar
    server_pid: int
    url: str
    conn: http.client.HTTPConnection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection(load.HOST, self.port, timeout=60)


def measure_interleaved(
    sides: tuple[_Side, _Side],
    endpoints: tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]],
    counted: tuple[dict[str, inprocess.Recorded], dict[str, inprocess.Recorded]],
    requests: int,
    *,
    warmup: int = 3,
    budget: float = 120.0,
) -> tuple[dict[str, PageFigures], dict[str, PageFigures]]:
    """Each page ``requests`` times at each size, alternating one request to each server
    (small, large, small, large …); stops a page after ``budget`` seconds."""
    results: tuple[dict[str, PageFigures], dict[str, PageFigures]] = ({}, {})
    for (name, small_paths), (_, large_paths) in zip(*endpoints, strict=True):
        paths = (small_paths, large_paths)
        for number in range(warmup):
            for side, each in zip(sides, paths, strict=True):
                _get(side.conn, each[number % len(each)], side.cookies)
        meters = tuple(_SizeMeter(side.server_pid, side.url) for side in sides)
        latencies: tuple[list[float], list[float]] = ([], [])
        errors: tuple[list[str], list[str]] = ([], [])
        deadline = time.perf_counter() + budget
        for number in range(requests):
            if time.perf_counter() > deadline:
                break
            # Which size goes first alternates too, so neither always follows the other.
            order = (0, 1) if number % 2 == 0 else (1, 0)
            for at in order:
                side, meter, each = sides[at], meters[at], paths[at]
                before = meter.read()
                began = time.perf_counter()
                failed = _get(side.conn, each[number % len(each)], side.cookies)
                elapsed = time.perf_counter() - began
                meter.add(before, meter.read())
                if failed:
                    errors[at].append(failed)
                else:
                    latencies[at].append(elapsed)
        for at in (0, 1):
            done = len(latencies[at])
            m = load.Measurement(name, paths[at][0], done + len(errors[at]), 0.0, latencies[at])
            results[at][name] = PageFigures(
                m.percentile(0.5),
                m.percentile(0.95),
                meters[at].server_s * 1000 / done if done else None,
                meters[at].database_s * 1000 / done if done else None,
                len(counted[at][paths[at][0]].statements),
                errors[at],
            )
        small, large = results[0][name], results[1][name]
        print(
            f"  {name:<34} p50 {small.p50_ms:7.1f} | {large.p50_ms:7.1f} ms  "
            f"p95 {small.p95_ms:7.1f} | {large.p95_ms:7.1f} ms  "
            f"queries {small.queries} | {large.queries}",
            flush=True,
        )
    for side in sides:
        side.conn.close()
    return results


def measure_sizes(
    small: Prepared, large: Prepared, requests: int, export_limit: float | None
) -> tuple[SizeFigures, SizeFigures]:
    """Serve both sizes at once and measure every page alternately on each, then each size's
    export (one after the other: a whole export is one long request)."""
    ports = (load.free_port(), load.free_port())
    while ports[1] == ports[0]:
        ports = (ports[0], load.free_port())
    envs = [
        {**p.env, "MONITOR_BASE_URL": f"http://{load.HOST}:{port}"}
        for p, port in zip((small, large), ports, strict=True)
    ]
    logs = [inprocess.RESULTS / f"gunicorn-{p.seeded.cases}.log" for p in (small, large)]
    with (
        load.gunicorn(ports[0], envs[0], logs[0]) as first,
        load.gunicorn(ports[1], envs[1], logs[1]) as second,
    ):
        sides = (
            _Side(ports[0], load.login(ports[0], small.email, small.password), first.pid,
                  small.seeded.url),
            _Side(ports[1], load.login(ports[1], large.email, large.password), second.pid,
                  large.seeded.url),
        )  # fmt: skip
        print(
            f"pages, alternating between {small.seeded.cases:,} (port {ports[0]}) and "
            f"{large.seeded.cases:,} cases (port {ports[1]}); p50/p95 small | large",
            flush=True,
        )
        pages = measure_interleaved(
            sides,
            (small.endpoints, large.endpoints),
            (small.counted, large.counted),
            requests,
        )
        exported = []
        for prepared, side, server in ((small, sides[0], first), (large, sides[1], second)):
            print(f"  export of {prepared.seeded.cases:,} cases …", flush=True)
            figures = measure_export(
                side.port, side.cookies, server.pid, prepared.seeded.url, export_limit
            )
            print(
                f"  export: {figures.rows:,} rows in {figures.seconds:.1f} s, "
                f"plain writer {figures.plain_seconds:.1f} s, "
                f"RSS +{figures.rss_growth_mb:.1f} MB",
                flush=True,
            )
            exported.append(figures)
    sized = []
    for prepared, figures, export in zip((small, large), pages, exported, strict=True):
        slowest = {
            name: prepared.counted[paths[0]].slowest
            for name, paths in prepared.endpoints
            if name != TRIVIAL
        }
        plans = explain_slowest(prepared.seeded.url, {k: v for k, v in slowest.items() if v})
        seeded = prepared.seeded
        sized.append(
            SizeFigures(seeded.cases, seeded.seeded, seeded.seconds, figures, export, plans)
        )
    return sized[0], sized[1]


def judge(small: SizeFigures, large: SizeFigures) -> list[Row]:
    """The table's rows: each page's growth and queries, the export, the old ratio as info."""
    rows: list[Row] = []
    for name, before in small.pages.items():
        after = large.pages[name]
        growth = after.p50_ms / before.p50_ms if before.p50_ms else float("inf")
        errors = before.errors + after.errors
        figure = (
            f"p50 {before.p50_ms:.1f} → {after.p50_ms:.1f} ms (×{growth:.2f}), "
            f"p95 {before.p95_ms:.1f} → {after.p95_ms:.1f} ms"
        )
        if None not in (
            before.server_cpu_ms, before.database_cpu_ms, after.server_cpu_ms,
            after.database_cpu_ms,
        ):  # fmt: skip
            figure += (
                f", CPU {before.server_cpu_ms:.1f}+{before.database_cpu_ms:.1f} → "
                f"{after.server_cpu_ms:.1f}+{after.database_cpu_ms:.1f} ms"
            )
        if name == TRIVIAL:
            rows.append(Row(name, figure, "floor", None if not errors else False))
            continue
        if name in information(deep_page(small.cases)):
            rows.append(Row(name, figure, "information", None if not errors else False))
            continue
        rows.append(
            Row(
                name,
                figure + (f", {len(errors)} errors" if errors else ""),
                f"p50 ×≤{MAX_GROWTH:g}",
                growth <= MAX_GROWTH and not errors,
            )
        )
        rows.append(
            Row(
                "  queries",
                f"{before.queries} → {after.queries}",
                "the same",
                before.queries == after.queries,
            )
        )
    trivial = large.pages.get(TRIVIAL)
    if trivial:
        for name, page in large.pages.items():
            if name != TRIVIAL and page.p50_ms:
                rows.append(
                    Row(
                        f"ratio to /livez: {name}",
                        f"{trivial.p50_ms / page.p50_ms:.3f} (one client, at {large.cases:,})",
                        "information (0.25 retired)",
                        None,
                    )
                )
    if large.export is not None:
        e = large.export
        rows.append(
            Row(
                "export: memory",
                f"RSS +{e.rss_growth_mb:.1f} MB over {e.rows:,} rows",
                f"≤ {EXPORT_RSS_MB:g} MB",
                # Judged only over the whole register (a time-limited run is information).
                e.rss_growth_mb <= EXPORT_RSS_MB if e.rows == large.cases else None,
            )
        )
        rows.append(
            Row(
                "export: speed",
                f"{e.rows / e.seconds:,.0f} rows/s = {e.share:.2f} of plain "
                f"({e.plain_rows / e.plain_seconds:,.0f} rows/s)",
                f"≥ {EXPORT_MIN_SHARE:.2f} of plain",
                e.share >= EXPORT_MIN_SHARE if e.rows == large.cases else None,
            )
        )
    return rows


def run(
    base_url: str,
    env: dict[str, str],
    sizes: list[int],
    requests: int,
    export_limit: float | None = None,
) -> bool:
    """Measure the smallest and the largest size; print the table; True when all passed."""
    began = time.perf_counter()
    small_n, large_n = min(sizes), max(sizes)
    depth = deep_page(small_n)
    small, large = measure_sizes(
        prepare_size(base_url, small_n, env, depth),
        prepare_size(base_url, large_n, env, depth),
        requests,
        export_limit,
    )
    rows = judge(small, large)
    print()
    report.print_rows(rows, f"pages at {small_n:,} and {large_n:,} cases (p50 small → large)")
    passed = report.rows_passed(rows)
    plans_file = inprocess.RESULTS / f"plans-{large_n}.txt"
    plans_file.parent.mkdir(parents=True, exist_ok=True)
    plans_file.write_text("".join(f"== {name}\n{text}\n\n" for name, text in large.plans.items()))
    report.write_json(
        inprocess.RESULTS / "scale.json",
        {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sizes": [small_n, large_n],
            "requests_per_page": requests,
            "small": {
                "pages": {k: v.as_dict() for k, v in small.pages.items()},
                "export": small.export.as_dict() if small.export else None,
                "seeded": small.seeded,
                "seed_seconds": round(small.seed_seconds, 1),
            },
            "large": {
                "pages": {k: v.as_dict() for k, v in large.pages.items()},
                "export": large.export.as_dict() if large.export else None,
                "seeded": large.seeded,
                "seed_seconds": round(large.seed_seconds, 1),
            },
            "rows": [r.as_dict() for r in rows],
            "passed": passed,
            "seconds": round(time.perf_counter() - began, 1),
        },
    )
    print(
        f"\n{'PASS' if passed else 'FAIL'}: pages ({time.perf_counter() - began:.0f} s); "
        f"figures in {inprocess.RESULTS / 'scale.json'}, plans of the slowest statements in "
        f"{plans_file}"
    )
    return passed
