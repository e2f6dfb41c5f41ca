"""``make bench``: the pages at two sizes of register (10,000 and 1,000,000 synthetic cases on
PostgreSQL, bench/scale.py), then the dossiers, the alerts and the CSV import and export.

Each page's p50 at the large size is judged against its p50 at the small size, measured in the
same run. Exits 1 when a target is missed. ``--part throughput`` still runs the former saturated
benchmark (each page's throughput as a ratio of ``GET /livez``), as information.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from bench import database, inprocess, load, report, scale
from bench.database import BenchError

RESULTS = Path(__file__).resolve().parent / "results"
SEARCH = "name search"


def _environment(url: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    # Rate-limit storage stays in memory: the benchmark must not touch anybody's Redis database.
    env.pop("MONITOR_REDIS_URL", None)
    env.update(
        MONITOR_DATABASE_URL=url,
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=secrets.token_urlsafe(48),
        MONITOR_AUDIT_KEY=secrets.token_urlsafe(48),
        MONITOR_INSTANCE_PATH=str(RESULTS / "instance"),
        MONITOR_BASE_URL=f"http://{load.HOST}:{port}",
        # The benchmark's throwaway admin logs in with a password only (production otherwise
        # sends an admin without a second factor to set one up before any page).
        MONITOR_REQUIRE_2FA="none",
    )
    return env


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
        return value

    return parse


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if len(sizes) != 2 or sizes[0] < 100:
        raise argparse.ArgumentTypeError("two different sizes of at least 100 cases")
    return sizes


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--rounds", type=_positive(int), default=5, help="saturated rounds, every endpoint in each"
    )
    parser.add_argument(
        "--window",
        type=_positive(float),
        default=1.5,
        help="seconds each endpoint is measured per round",
    )
    parser.add_argument(
        "--requests",
        type=_positive(int),
        default=300,
        help="requests per endpoint for p50/p95 latency",
    )
    parser.add_argument(
        "--clients", type=_positive(int), default=4, help="concurrent client threads"
    )
    parser.add_argument(
        "--part",
        choices=["all", "pages", "dossiers", "alerts", "bulk", "throughput"],
        default="all",
        help=(
            "the web pages at two sizes (bench/scale.py), the PDF dossiers (bench/dossiers.py), "
            "the alerts (bench/alerts.py), CSV import and export (bench/bulk.py), all of them, "
            "or the former saturated throughput run on 100,000 cases (information only)"
        ),
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(scale.DEFAULT_SIZES),
        help="the two register sizes the pages are compared at, e.g. 2000,20000 for a quick run",
    )
    parser.add_argument(
        "--page-requests",
        type=_positive(int),
        default=60,
        help="requests per page and size (one client) for the two-size comparison",
    )
    parser.add_argument(
        "--export-seconds",
        type=_positive(float),
        default=None,
        help="stop reading the CSV export after this many seconds (its figures are then "
        "information, not judged); default: the whole register",
    )
    return parser.parse_args()


def run(requests: int, clients: int, rounds: int, window: float) -> bool:
    """The whole benchmark; True when every target is met."""
    began = time.perf_counter()
    url = database.database_url()
    port = load.free_port()
    env = _environment(url, port)
    print(f"database {database.redacted(url)}")
    prepared = database.prepare(url, env)
    print(f"{prepared['cases']:,} cases (seeded {prepared['seeded']:,} this run)")

    app = inprocess.make_app(env)
    password = secrets.token_urlsafe(24)
    email = inprocess.ensure_admin(app, password)
    sample = inprocess.samples(app)
    sizes = ["/cases?per_page=10", "/cases?per_page=100"]
    counts = inprocess.queries_per_page(app, email, password, sizes)

    plan = [
        ("case list", ["/cases"]),
        ("case list, page 2000", ["/cases?page=2000"]),
        ("case page", [f"/cases/{case_id}" for case_id in sample.case_ids]),
        (SEARCH, [f"/cases?q={quote(fragment)}" for fragment in sample.name_fragments]),
    ]
    print(
        f"gunicorn: {load.GUNICORN_WORKERS} sync workers on {load.HOST}:{port}; {rounds} rounds, "
        f"each measuring every endpoint for {window:g} s from {clients} clients (req/s), then up "
        f"to {requests} requests per endpoint from {load.GUNICORN_WORKERS} (p50/p95: one client "
        "per worker, so no queueing)"
    )
    # The floor is /livez, which does no I/O; /healthz asks the database and the broker.
    endpoints = [("GET /livez", ["/livez"]), *plan]
    with load.gunicorn(port, env, RESULTS / "gunicorn.log") as server:
        cookies = load.login(port, email, password)
        # Interleaved: /livez, then each page, round after round, so every page's ratio is
        # taken against a floor measured moments before it.
        saturated: dict[str, list[load.Measurement]] = {name: [] for name, _ in endpoints}
        for number in range(rounds):
            print(f"  round {number + 1} of {rounds} …", flush=True)
            for name, paths in endpoints:
                saturated[name].append(
                    load.measure(
                        port,
                        name,
                        paths,
                        cookies,
                        total=None,
                        clients=clients,
                        warmup=20 if number == 0 else 0,
                        budget=window,
                        server_pid=server.pid,
                    )
                )
        print("  latency …", flush=True)
        measured = [
            report.Endpoint(
                name,
                saturated[name],
                # No second warm-up: the rounds have just sent this endpoint requests.
                load.measure(
                    port,
                    name,
                    paths,
                    cookies,
                    total=requests,
                    clients=load.GUNICORN_WORKERS,
                    warmup=0,
                ),
            )
            for name, paths in endpoints
        ]
    trivial, *pages = measured
    verdicts = report.judge(trivial, pages, SEARCH)
    print()
    report.print_table(verdicts, counts)
    passed = all(v.passed for v in verdicts) and report.queries_passed(counts)
    report.write_json(
        RESULTS / "latest.json",
        {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": database.database_name(url),
            **prepared,
            "gunicorn_workers": load.GUNICORN_WORKERS,
            "clients": clients,
            "rounds": rounds,
            "window_seconds": window,
            "latency_requests_per_endpoint": requests,
            "endpoints": [v.as_dict() for v in verdicts],
            "sql_queries_per_page": counts,
            "sql_queries_constant": report.queries_passed(counts),
            "passed": passed,
            "seconds": round(time.perf_counter() - began, 1),
        },
    )
    print(
        f"\n{'PASS' if passed else 'FAIL'}: results in {RESULTS / 'latest.json'} "
        f"({time.perf_counter() - began:.0f} s)"
    )
    return passed


def main() -> int:
    """Entry point; exit status 0 only when every target is met."""
    args = _arguments()
    try:
        passed = True
        if args.part in {"all", "pages"}:
            url = database.database_url()
            print(f"pages: databases {database.redacted(url)}_<size>")
            env = _environment(url, 0)
            passed = (
                scale.run(url, env, args.sizes, int(args.page_requests), args.export_seconds)
                and passed
            )
        if args.part == "throughput":
            passed = run(args.requests, args.clients, args.rounds, args.window) and passed
        if args.part in {"all", "dossiers"}:
            from bench import dossiers

            print()
            passed = dossiers.run() and passed
        if args.part in {"all", "alerts"}:
            from bench import alerts

            print()
            passed = alerts.run() and passed
        if args.part in {"all", "bulk"}:
            from bench import bulk

            print()
            passed = bulk.run() and passed
        return 0 if passed else 1
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
