"""``make bench`` (bulk part): CSV import and export speed, in rows per second, against floors.

A fresh PostgreSQL database (``MONITOR_BENCH_BULK_DATABASE_URL``, emptied each run) with one
organization; a 5,000-row file of synthetic MPs with two charges each. Measured in one run:

- **import**: the project's whole path as the worker runs it (:func:`monitor.services.imports.check`
  then :func:`~monitor.services.imports.apply`: validation, services, audit chain, one commit that
  also publishes one alert dispatch task per status event), against a floor — the same people,
  cases, status events and charges written with bare SQLAlchemy Core ``executemany`` in one
  transaction (no validation, no memberships, no audit, no tasks). **Target** (issue 19): the
  import at ≥ 1/5 of the floor's rows per second;
- **re-import** of the same file (every row unchanged, nothing written);
- **export** of the CSV (:func:`monitor.services.exports.cases_csv`) against a floor: one plain
  ``SELECT`` of the same columns through ``csv.writer``.

The run fails if the import misses its target, if the import or export is wrong (row counts) or
if a re-import writes anything; the export's speed has no target.

The dispatch tasks go to ``MONITOR_BENCH_BULK_BROKER_URL``, by default kombu's in-memory
transport (``memory://``: Celery's own cost of each publish, no server). Production's broker is
Redis (``redis://127.0.0.1:6379/8``: about 0.2 ms more a task on this machine); the embedded
SQLite broker of ``make run`` takes 5-15 ms a task and is no production setup. Nobody consumes
them. ``python -m bench.bulk --rows 1000`` runs this part alone, quicker.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import io
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.database import BenchError, dedicated_url, libpq_url, redacted, run_monitor

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/case_monitor_bench_bulk"
ROWS = 5000
MIN_IMPORT_RATIO = 0.2  # the import's rows per second as a share of the bare-insert floor's


def database_url() -> str:
    """``MONITOR_BENCH_BULK_DATABASE_URL``, refusing shared databases (it is emptied each run)."""
    return dedicated_url("MONITOR_BENCH_BULK_DATABASE_URL", DEFAULT_URL)


def _recreate(url: str) -> None:
    parts = urlsplit(libpq_url(url))
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable at {redacted(url)}: {exc}") from exc


def _environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_REDIS_URL"}
    env.update(
        MONITOR_DATABASE_URL=url,
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=secrets.token_urlsafe(48),
        MONITOR_AUDIT_KEY=secrets.token_urlsafe(48),
        MONITOR_INSTANCE_PATH=str(RESULTS / "instance-bulk"),
    )
    return env


def synthetic_file(rows: int) -> bytes:
    """``rows`` MPs of one party, two charges each, as the import template lays them out."""
    from monitor.services.csv_format import header

    buffer = io.StringIO()
    # By column name: a column added to the template is left empty, not shifted into another.
    writer = csv.DictWriter(buffer, fieldnames=header(2), restval="")
    writer.writeheader()
    statuses = ["jailed", "fled", "at_liberty", "house_arrest"]
    for n in range(rows):
        writer.writerow(
            {
                "external_id": f"BENCH-{n:05d}",
                "name": f"Bench Member {n}",
                "name_native": f"សមាជិក {n}",
                "aliases": f"BM{n}",
                "nationality": "KH",
                "organization": "BENCH",
                "role": "member of parliament",
                "country": "KH",
                "title": f"Bench Member {n}",
                "confidentiality": "public",
                "status": statuses[n % len(statuses)],
                "status_date": f"20{10 + n % 10}-{1 + n % 12:02d}",
                "status_certainty": "reported",
                "status_source": "Bench source",
                "status_source_url": f"https://example.org/bench/{n % 50}",
                "charge_1_offence": "Incitement",
                "charge_1_legal_basis": "Criminal Code art. 495",
                "charge_1_max_sentence": "2 years",
                "charge_1_stage": "charged",
                "charge_2_offence": "Treason",
                "charge_2_legal_basis": "Criminal Code art. 443",
                "charge_2_max_sentence": "30 years",
                "charge_2_stage": "on_trial",
            }
        )
    return buffer.getvalue().encode()


def _floor_import(app: Any, data: bytes) -> float:
    """Bare Core inserts of the same rows in one transaction, rolled back."""
    from sqlalchemy import insert

    from monitor.extensions import db
    from monitor.models import Case, Charge, Person, StatusEvent
    from monitor.models.base import new_public_id, utcnow

    rows = list(csv.DictReader(io.StringIO(data.decode())))
    started = time.perf_counter()
    with app.app_context(), db.engine.connect() as conn:
        transaction = conn.begin()
        now = utcnow()
        people = conn.execute(
            insert(Person).returning(Person.id),
            [
                {
                    "public_id": new_public_id(),
                    "name": r["name"],
                    "name_native": r["name_native"],
                    "aliases": [r["aliases"]],
                    "search_text": r["name"].lower(),
                    "created_at": now,
                    "updated_at": now,
                }
                for r in rows
            ],
        ).scalars()
        person_ids = list(people)
        cases = conn.execute(
            insert(Case).returning(Case.id),
            [
                {
                    "public_id": new_public_id(),
                    "person_id": pid,
                    "country": "KH",
                    "title": r["title"],
                    "status": r["status"],
                    "confidentiality": "public",
                    "tags": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for pid, r in zip(person_ids, rows, strict=True)
            ],
        ).scalars()
        case_ids = list(cases)
        conn.execute(
            insert(StatusEvent),
            [
                {
                    "public_id": new_public_id(),
                    "case_id": cid,
                    "status": r["status"],
                    "occurred_on": dt.date(2017, 1, 1),
                    "occurred_precision": "month",
                    "occurred_about": False,
                    "recorded_at": now,
                    "certainty": "reported",
                    "changed_current": True,
                    "alerts_pending": True,
                }
                for cid, r in zip(case_ids, rows, strict=True)
            ],
        )
        conn.execute(
            insert(Charge),
            [
                {
                    "public_id": new_public_id(),
                    "case_id": cid,
                    "offence": offence,
                    "max_sentence_kind": "term",
                    "max_sentence_months": 24,
                    "stage": "charged",
                    "in_absentia": False,
                    "created_at": now,
                }
                for cid in case_ids
                for offence in ("Incitement", "Treason")
            ],
        )
        transaction.rollback()
    return time.perf_counter() - started


def _floor_export(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    with psycopg.connect(libpq_url(url)) as conn:
        cursor = conn.execute(
            "SELECT c.public_id, p.name, p.name_native, c.country, c.title, c.status, "
            "c.status_since FROM cases c JOIN people p ON p.id = c.person_id ORDER BY c.id"
        )
        for row in cursor:
            writer.writerow(row)
            count += 1
    return time.perf_counter() - started, count


def _import(app: Any, data: bytes, rows: int) -> dict[str, float]:
    """Import the file (timed to the commit, which also queues the alert dispatches), then
    import it again (every row unchanged)."""
    from monitor.extensions import db
    from monitor.models import AuditEntry, Case
    from monitor.services import imports

    with app.app_context():
        started = time.perf_counter()
        report = imports.check(data, None, app.config["SETTINGS"])
        checked = time.perf_counter() - started
        if not report.ok:
            raise BenchError(f"the synthetic file has problems: {report.problems[:3]}")
        imports.apply("bench", report, sha256="bench")
        applied = time.perf_counter() - started
        db.session.commit()
        import_s = time.perf_counter() - started
        cases = db.session.query(Case).count()
        audit_before = db.session.query(AuditEntry).count()
        print("  re-import (unchanged) …", flush=True)
        started = time.perf_counter()
        again = imports.check(data, None, app.config["SETTINGS"])
        summary = imports.apply("bench", again, sha256="bench")
        db.session.commit()
        again_s = time.perf_counter() - started
        unchanged = summary["unchanged"] == rows
        unchanged = unchanged and db.session.query(AuditEntry).count() == audit_before
    return {
        "import_s": import_s,
        "check_s": checked,
        "commit_s": import_s - applied,
        "again_s": again_s,
        "unchanged": float(unchanged),
        "cases": float(cases),
    }


def run(rows: int = ROWS) -> bool:
    """The bulk benchmark; True when the import meets its target and imports and exports came
    out right."""
    url = database_url()
    env = _environment(url)
    broker = os.environ.get("MONITOR_BENCH_BULK_BROKER_URL") or "memory://"
    print(
        f"bulk data: database {redacted(url)} (emptied), {rows:,}-row file, "
        f"alert dispatches to {redacted(broker)}"
    )
    _recreate(url)
    # The alert dispatches an import queues go to this SQLite broker; nobody consumes them.
    (RESULTS / "instance-bulk" / "broker.sqlite").unlink(missing_ok=True)
    run_monitor(["init-db"], env)

    from monitor import create_app
    from monitor.config import Settings
    from monitor.extensions import db
    from monitor.services import exports
    from monitor.services.people import OrganizationInput, create_organization

    app = create_app(dataclasses.replace(Settings.from_env(env), broker_url=broker))
    data = synthetic_file(rows)
    with app.app_context():
        create_organization(
            "bench",
            OrganizationInput(name="Bench Party", short_name="BENCH", kind="political_party"),
        )
        db.session.commit()

    print("  floor: bare inserts …", flush=True)
    floor_import = _floor_import(app, data)
    print("  import …", flush=True)
    imported = _import(app, data, rows)
    print("  export …", flush=True)
    floor_export, floor_rows = _floor_export(url)
    with app.test_request_context():
        started = time.perf_counter()
        text = "".join(exports.cases_csv(_full_user()))
        export_s = time.perf_counter() - started
    exported = len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) - 1
    import_s, checked, reimport_s = imported["import_s"], imported["check_s"], imported["again_s"]
    ratio = floor_import / import_s  # rows per second, as a share of the floor's
    unchanged = bool(imported["unchanged"])
    cases = imported["cases"]

    figures = {
        "rows": rows,
        "import_rows_per_s": round(rows / import_s),
        "import_check_share": round(checked / import_s, 2),
        "import_commit_share": round(imported["commit_s"] / import_s, 2),
        "import_floor_rows_per_s": round(rows / floor_import),
        "import_vs_floor": round(import_s / floor_import, 1),
        "import_floor_ratio": round(ratio, 3),
        "import_floor_ratio_target": MIN_IMPORT_RATIO,
        "reimport_rows_per_s": round(rows / reimport_s),
        "export_rows_per_s": round(exported / export_s),
        "export_floor_rows_per_s": round(floor_rows / floor_export),
        "export_vs_floor": round(export_s / floor_export, 1),
    }
    fast_enough = ratio >= MIN_IMPORT_RATIO
    passed = cases == rows and exported == rows and unchanged and fast_enough
    print(
        f"  import     {figures['import_rows_per_s']:>7,} rows/s  "
        f"{ratio:.2f} of the bare-insert floor of {figures['import_floor_rows_per_s']:,} rows/s "
        f"(target ≥ {MIN_IMPORT_RATIO:.2f}: {'met' if fast_enough else 'MISSED'}; checking is "
        f"{figures['import_check_share']:.0%} of it, the commit and its "
        f"{rows:,} alert dispatch tasks {figures['import_commit_share']:.0%})\n"
        f"  re-import  {figures['reimport_rows_per_s']:>7,} rows/s  (every row unchanged: "
        f"{'nothing written' if unchanged else 'WROTE SOMETHING'})\n"
        f"  export     {figures['export_rows_per_s']:>7,} rows/s  "
        f"({figures['export_vs_floor']}x the plain-SELECT floor of "
        f"{figures['export_floor_rows_per_s']:,} rows/s)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bulk.json").write_text(json.dumps({**figures, "passed": passed}, indent=2) + "\n")
    print(f"  {'PASS' if passed else 'FAIL'}: results in {RESULTS / 'bulk.json'}")
    return passed


def _full_user() -> Any:
    """An unsaved admin cleared for everything, so the export holds every case."""
    from monitor.models import User

    return User(email="bench@example.org", role="admin", clearance="confidential", active=True)


def main() -> int:
    """``python -m bench.bulk``: this part alone; exit status 0 when it passed."""
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows in the synthetic file")
    args = parser.parse_args()
    try:
        return 0 if run(args.rows) else 1
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
