"""The benchmark's verdict: each page judged against the floor measured in its own round.

The benchmark itself is not a test (``make bench``); this checks only how its figures become a
verdict, on made-up measurements whose answer is known.
"""

from __future__ import annotations

from bench import report
from bench.load import CpuShare, Measurement


def _measured(name: str, per_second: list[float], cpu_ms: float = 1.0) -> report.Endpoint:
    """An endpoint whose round ``i`` completed ``per_second[i]`` requests in one second."""
    rounds = [
        Measurement(
            name,
            "/x",
            int(rate),
            1.0,
            [0.001] * int(rate),
            cpu=CpuShare(server_ms=cpu_ms, database_ms=0.0, client_ms=0.0, seconds=1.0),
        )
        for rate in per_second
    ]
    calm = Measurement(name, "/x", 10, 1.0, [0.002] * 9 + [0.040])
    return report.Endpoint(name, rounds, calm)


def test_each_round_is_judged_against_its_own_floor_and_the_median_decides() -> None:
    # The machine slows down by half in rounds 2 and 4: /livez and the page together.
    trivial = _measured("GET /livez", [1000, 500, 1000, 500, 1000])
    steady = _measured("case list", [300, 150, 300, 150, 300])
    # A page measured only at the slow moments would look worse against a fast-moment floor.
    uneven = _measured("case page", [200, 150, 200, 150, 200])

    verdicts = report.judge(trivial, [steady, uneven], "name search")

    assert verdicts[0].ratio is None
    assert verdicts[0].passed
    assert verdicts[1].ratios == (0.3, 0.3, 0.3, 0.3, 0.3)
    assert verdicts[1].ratio == 0.3
    assert verdicts[1].passed
    assert verdicts[2].ratios == (0.2, 0.3, 0.2, 0.3, 0.2)
    assert verdicts[2].ratio == 0.2
    assert not verdicts[2].passed


def test_search_must_also_meet_its_latency_target() -> None:
    trivial = _measured("GET /livez", [1000, 1000, 1000])
    search = _measured("name search", [400, 400, 400])
    search.unqueued = Measurement("name search", "/x", 20, 1.0, [0.010] * 18 + [0.060] * 2)

    (verdict,) = report.judge(trivial, [search], "name search")[1:]

    assert verdict.ratio == 0.4
    assert not verdict.passed  # p95 is 60 ms, above 50


def test_the_rounds_add_up_to_one_row_of_the_table() -> None:
    page = _measured("case list", [300, 100], cpu_ms=2.0)
    page.rounds[1].cpu = CpuShare(server_ms=6.0, database_ms=1.0, client_ms=0.0, seconds=1.0)

    merged = page.saturated

    assert merged.requests == 400
    assert merged.seconds == 2.0
    assert merged.throughput == 200.0
    assert merged.cpu is not None
    # Weighted by requests: 300 at 2 ms and 100 at 6 ms.
    assert merged.cpu.server_ms == 3.0
    assert merged.cpu.database_ms == 0.25
