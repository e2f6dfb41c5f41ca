"""Judge the measurements against the issue's targets, print the table, write the JSON."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import Measurement

MIN_RATIO = 0.25  # each page's throughput as a share of the trivial endpoint's
SEARCH_P95_MS = 50.0
# Measured and printed, but no target: a deep offset page costs what skipping 50,000 rows costs.
INFORMATIONAL = {"case list, page 2000"}


@dataclass
class Endpoint:
    """One endpoint measured twice: saturated (throughput) and one client per worker (latency)."""

    name: str
    saturated: Measurement
    unqueued: Measurement

    @property
    def errors(self) -> list[str]:
        """Failed requests of both runs."""
        return self.saturated.errors + self.unqueued.errors


@dataclass
class Verdict:
    """One endpoint's figures and whether it met its targets."""

    endpoint: Endpoint
    ratio: float | None
    target: str
    passed: bool

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
            "target": self.target,
            "passed": self.passed,
        }


def judge(trivial: Endpoint, pages: list[Endpoint], search_name: str) -> list[Verdict]:
    """The trivial endpoint as the floor, then each page against the ratio (and search p95)."""
    verdicts = [Verdict(trivial, None, "baseline", not trivial.errors)]
    floor = trivial.saturated.throughput
    for page in pages:
        ratio = page.saturated.throughput / floor if floor else 0.0
        passed = ratio >= MIN_RATIO and not page.errors
        target = f"ratio >= {MIN_RATIO:.2f}"
        if page.name in INFORMATIONAL:
            passed, target = not page.errors, "informational"
        elif page.name == search_name:
            passed = passed and page.unqueued.percentile(0.95) <= SEARCH_P95_MS
            target += f", p95 <= {SEARCH_P95_MS:.0f} ms"
        verdicts.append(Verdict(page, ratio, target, passed))
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
    print(f"CPU per request (ms, saturated run; {os.cpu_count() or '?'} cores shared by all three)")
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
