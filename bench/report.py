"""Judge the measurements against the issue's targets, print the table, write the JSON."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bench.load import CpuShare, Measurement

MIN_RATIO = 0.25  # each page's throughput as a share of the trivial endpoint's
SEARCH_P95_MS = 50.0
# Measured and printed, but no target: a deep offset page costs what skipping 50,000 rows costs.
INFORMATIONAL = {"case list, page 2000"}


@dataclass
class Endpoint:
    """One endpoint measured saturated (throughput) in several rounds, and then with one client
    per worker (latency)."""

    name: str
    rounds: list[Measurement]
    unqueued: Measurement

    @cached_property
    def saturated(self) -> Measurement:
        """The rounds as one measurement: all their requests, latencies, seconds and CPU."""
        first = self.rounds[0]
        cpus = [(m.cpu, len(m.latencies)) for m in self.rounds if m.cpu is not None]
        return Measurement(
            first.name,
            first.example,
            sum(m.requests for m in self.rounds),
            sum(m.seconds for m in self.rounds),
            [latency for m in self.rounds for latency in m.latencies],
            [error for m in self.rounds for error in m.errors],
            CpuShare.combined(cpus) if cpus else None,
        )

    @property
    def errors(self) -> list[str]:
        """Failed requests of every run."""
        return self.saturated.errors + self.unqueued.errors


def round_ratios(page: Endpoint, trivial: Endpoint) -> list[float]:
    """The page's throughput as a share of the trivial endpoint's, round by round."""
    return [
        p.throughput / t.throughput if t.throughput else 0.0
        for p, t in zip(page.rounds, trivial.rounds, strict=True)
    ]


@dataclass
class Verdict:
    """One endpoint's figures and whether it met its targets."""

    endpoint: Endpoint
    ratio: float | None  # the median of the rounds' ratios
    target: str
    passed: bool
    ratios: tuple[float, ...] = ()  # each round's ratio

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON."""
        busy, calm = self.endpoint.saturated, self.endpoint.unqueued
        cpu = busy.cpu
        return {
            "endpoint": self.endpoint.name,
            "example": busy.example,
            "requests_saturated": busy.requests,
            "requests_unqueued": calm.requests,
            "errors": len(self.endpoint.errors),
            "first_errors": self.endpoint.errors[:5],
            "requests_per_second": round(busy.throughput, 1),
            "p50_ms": round(calm.percentile(0.50), 2),
            "p95_ms": round(calm.percentile(0.95), 2),
            "p95_ms_saturated": round(busy.percentile(0.95), 2),
            "cpu_ms_per_request": None if cpu is None else cpu.as_dict(),
            "ratio_to_trivial": None if self.ratio is None else round(self.ratio, 3),
            "ratio_each_round": [round(r, 3) for r in self.ratios],
            "target": self.target,
            "passed": self.passed,
        }


def judge(trivial: Endpoint, pages: list[Endpoint], search_name: str) -> list[Verdict]:
    """The trivial endpoint as the floor, then each page against the ratio (and search p95).

    A page's ratio is the median of its rounds' ratios, each against the trivial endpoint
    measured just before it: a shared machine's speed drifts by tens of percent within a minute,
    and a floor measured once would carry whatever moment it fell on into every ratio.
    """
    verdicts = [Verdict(trivial, None, "baseline", not trivial.errors)]
    for page in pages:
        ratios = round_ratios(page, trivial)
        ratio = statistics.median(ratios)
        passed = ratio >= MIN_RATIO and not page.errors
        target = f"ratio >= {MIN_RATIO:.2f}"
        if page.name in INFORMATIONAL:
            passed, target = not page.errors, "informational"
        elif page.name == search_name:
            passed = passed and page.unqueued.percentile(0.95) <= SEARCH_P95_MS
            target += f", p95 <= {SEARCH_P95_MS:.0f} ms"
        verdicts.append(Verdict(page, ratio, target, passed, tuple(ratios)))
    return verdicts


def queries_passed(counts: dict[str, int]) -> bool:
    """The number of SQL queries must not grow with page size."""
    return len(set(counts.values())) == 1


def print_table(verdicts: list[Verdict], counts: dict[str, int]) -> None:
    """The human-readable summary."""
    header = (
        f"{'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7} "
        f"{'errors':>6}  {'target':<30} result"
    )
    print(header)
    print("-" * len(header))
    for v in verdicts:
        busy, calm = v.endpoint.saturated, v.endpoint.unqueued
        ratio = "1.000" if v.ratio is None else f"{v.ratio:.3f}"
        print(
            f"{v.endpoint.name:<22} {busy.throughput:>8.1f} {calm.percentile(0.5):>8.1f} "
            f"{calm.percentile(0.95):>8.1f} {ratio:>7} {len(v.endpoint.errors):>6}  "
            f"{v.target:<30} {'PASS' if v.passed else 'FAIL'}"
        )
        for error in v.endpoint.errors[:3]:
            print(f"    error: {error}")
    rounds = [v for v in verdicts if v.ratios]
    if rounds:
        print()
        print("ratio in each round (the median is above; /livez is measured before each round)")
        for v in rounds:
            each = " ".join(f"{r:.3f}" for r in v.ratios)
            print(f"  {v.endpoint.name:<22} {each}")
    _print_cpu(verdicts)
    print()
    print("SQL queries per page (in process, must be equal):")
    for path, n in counts.items():
        print(f"  {path:<28} {n}")
    print(f"  {'same for both sizes':<28} {'PASS' if queries_passed(counts) else 'FAIL'}")


def _print_cpu(verdicts: list[Verdict]) -> None:
    """CPU per request of each party in the saturated runs; nothing when none was counted."""
    if all(v.endpoint.saturated.cpu is None for v in verdicts):
        return
    print()
    cores = os.cpu_count() or "?"
    print(f"CPU per request (ms, saturated rounds; {cores} cores shared by all three)")
    header = f"{'endpoint':<22} {'server':>8} {'database':>8} {'client':>8} {'total':>8}"
    print(header)
    print("-" * len(header))
    for v in verdicts:
        cpu = v.endpoint.saturated.cpu
        if cpu is None:
            print(f"{v.endpoint.name:<22} {'n/a':>8} {'n/a':>8} {'n/a':>8} {'n/a':>8}")
            continue
        print(
            f"{v.endpoint.name:<22} {cpu.server_ms:>8.2f} {cpu.database_ms:>8.2f} "
            f"{cpu.client_ms:>8.2f} {cpu.total_ms:>8.2f}"
        )


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write the results file (``bench/results/`` is gitignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


# --- the one table of ``make bench`` -------------------------------------------------------


@dataclass
class Row:
    """One line of the benchmark's table: a figure against its target.

    ``passed`` is None for a figure printed as information only (it never fails the run).
    Another part adds its lines by building rows and passing them to :func:`print_rows` with
    the others, e.g. ``Row("import", "412 rows/s = 0.21 of the insert floor", ">= 0.20 of the
    floor", True)``.
    """

    name: str
    figure: str
    target: str
    passed: bool | None

    @property
    def verdict(self) -> str:
        """PASS, FAIL or ``info``."""
        return "info" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON."""
        return {
            "name": self.name,
            "figure": self.figure,
            "target": self.target,
            "passed": self.passed,
        }


def rows_passed(rows: list[Row]) -> bool:
    """Every judged row met its target (information rows do not count)."""
    return all(row.passed is not False for row in rows)


def print_rows(rows: list[Row], title: str = "") -> None:
    """The table: name, figure, target and verdict, one line per row."""
    width = max([len(r.name) for r in rows] + [8])
    figure = max([len(r.figure) for r in rows] + [6])
    target = max([len(r.target) for r in rows] + [6])
    if title:
        print(title)
    header = f"{'measured':<{width}}  {'figure':<{figure}}  {'target':<{target}}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.name:<{width}}  {row.figure:<{figure}}  {row.target:<{target}}  {row.verdict}")
