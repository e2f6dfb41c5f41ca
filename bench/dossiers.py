"""``make bench`` (dossiers part): PDF dossier rendering against bare WeasyPrint, and worker RSS.

Measured in the same run, interleaved, so machine load weighs on both sides alike:

- the one-case dossier (Kem Sokha) on a warm worker, and the organization dossier of a party
  with 55 synthetic members: the project's whole path (:func:`monitor.services.dossiers.produce`:
  claim, read snapshot, HTML, render, SHA-256, store, audit) against bare WeasyPrint rendering
  the same final HTML — once with one shared ``FontConfiguration`` (the floor the targets use)
  and once as WeasyPrint does by default (a new one per document);
- the RSS of a worker-like process (the render task's own code, in one process, no recycling)
  over 200 renders.

Targets (issue 4): total ≤ 1.15x bare; one case ≤ 0.3 s warm; 55 cases ≤ 10 s; RSS flat within
20 MB. Reuse of an unchanged PDF is switched off while timing (else nothing would be rendered).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import BenchError, dedicated_url, ensure_database, redacted, run_monitor

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/case_monitor_bench_dossiers"
ORG = "Synthetic Bench Party"
MEMBERS = 55
TARGETS = {"ratio": 1.15, "one_case_s": 0.3, "organization_s": 10.0, "rss_growth_mb": 20.0}


def database_url() -> str:
    """``MONITOR_BENCH_DOSSIERS_DATABASE_URL``, refusing shared databases."""
    return dedicated_url("MONITOR_BENCH_DOSSIERS_DATABASE_URL", DEFAULT_URL)


def environment(url: str) -> dict[str, str]:
    """The app's environment: this database, no Redis (tasks are run in process here)."""
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_REDIS_URL"}
    env.update(
        MONITOR_DATABASE_URL=url,
        MONITOR_ENV="production",
        MONITOR_SECRET_KEY=env.get("MONITOR_BENCH_SECRET") or secrets.token_urlsafe(48),
        MONITOR_AUDIT_KEY=secrets.token_urlsafe(48),
        MONITOR_INSTANCE_PATH=str(RESULTS / "instance-dossiers"),
    )
    return env


def _app(env: dict[str, str]) -> Any:
    from monitor import create_app
    from monitor.config import Settings

    return create_app(Settings.from_env(env))


def seed(app: Any) -> dict[str, str]:
    """The CNRP demo and a party of 55 synthetic members, each with a sourced case and charge."""
    from sqlalchemy import select

    from monitor.domain import PartialDate, Sentence, SentenceKind
    from monitor.extensions import db
    from monitor.models import Case, Organization, Person, User
    from monitor.services import cases, charges, people, seed, sources, users

    with app.app_context():
        if not seed.demo_loaded():
            seed.seed_demo("bench")
        org = db.session.scalars(select(Organization).where(Organization.name == ORG)).first()
        if org is None:
            org = people.create_organization(
                "bench",
                people.OrganizationInput(
                    name=ORG, short_name="SBP", kind="other", country="KH", seats=MEMBERS
                ),
            )
            report = sources.create_source(
                "bench", sources.SourceInput(title="Synthetic report", publisher="Bench")
            )
            statuses = ["jailed", "fled", "at_liberty", "house_arrest", "disappeared"]
            for n in range(MEMBERS):
                person = people.create_person(
                    "bench",
                    people.PersonInput(
                        name=f"Synthetic Member {n:02d}", name_native=f"សមាជិក {n:02d}"
                    ),
                )
                people.add_membership("bench", person, org, "Member of Parliament")
                case = cases.create_case(
                    "bench",
                    person,
                    cases.CaseInput(country="KH", title=f"Synthetic Member {n:02d}: synthetic"),
                    cases.StatusInput(
                        status=statuses[n % len(statuses)],
                        occurred_on=PartialDate.parse(f"{2010 + n % 14}-0{1 + n % 9}"),
                        description="Synthetic event for the benchmark.",
                        sources=[report],
                    ),
                )
                charges.add_charge(
                    "bench",
                    case,
                    charges.ChargeInput(
                        offence="Incitement (synthetic)",
                        legal_basis="Criminal Code, art. 495",
                        max_sentence=Sentence(SentenceKind.TERM, 24 + n),
                        sources=[report],
                    ),
                )
        user = db.session.scalars(select(User).where(User.email == "bench-dossiers@example.org"))
        if user.first() is None:
            users.create_user(
                "bench",
                users.UserInput(
                    email="bench-dossiers@example.org",
                    role="viewer",
                    clearance="public",
                    name="Benchmark",
                ),
                secrets.token_urlsafe(24),
            )
        db.session.commit()
        kem = db.session.scalars(
            select(Case.public_id).join(Person).where(Person.name == "Kem Sokha")
        ).one()
        ids = {"case": kem, "organization": org.public_id}
        db.session.remove()
        return ids


def _new_dossier(kind: str, target: str) -> str:
    """A queued dossier row, as a request makes it (without sending a task: we run it here)."""
    from sqlalchemy import select

    from monitor.extensions import db
    from monitor.models import Dossier, User

    user = db.session.scalars(select(User).where(User.email == "bench-dossiers@example.org")).one()
    scope = {"case_id": target} if kind == "case" else {"organization_id": target}
    row = Dossier(requested_by=user, kind=kind, scope=scope, audience="public", state="queued")
    db.session.add(row)
    # No reuse while timing: every run must render.
    db.session.execute(Dossier.__table__.update().values(content_key=None))
    db.session.commit()
    return row.public_id


@dataclass
class Timing:
    """Interleaved timings of one dossier: the project's path and bare WeasyPrint."""

    name: str
    pages: int
    project: list[float]
    bare_shared: list[float]
    bare_default: list[float]

    def median(self, values: list[float]) -> float:
        """Median in seconds."""
        return statistics.median(values)

    def as_dict(self) -> dict[str, Any]:
        """For the JSON report."""
        project, shared = self.median(self.project), self.median(self.bare_shared)
        return {
            "dossier": self.name,
            "pages": self.pages,
            "runs": len(self.project),
            "project_s": round(project, 3),
            "bare_weasyprint_shared_font_config_s": round(shared, 3),
            "bare_weasyprint_default_s": round(self.median(self.bare_default), 3),
            "ratio": round(project / shared, 3),
        }


def measure(app: Any, name: str, kind: str, target: str, runs: int) -> Timing:
    """Warm up, then alternate the project's path and bare WeasyPrint on the same HTML."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from monitor.extensions import db
    from monitor.models.base import utcnow
    from monitor.pdf import ASSET_DIR, assemble
    from monitor.pdf.render import PDF_OPTIONS, font_config
    from monitor.services import dossiers

    settings = app.config["SETTINGS"]
    base_url = ASSET_DIR.as_uri() + "/"
    project: list[float] = []
    shared: list[float] = []
    default: list[float] = []
    with app.app_context():
        pages = 0
        for run in range(runs + 1):  # the first of each is a warm-up, not counted
            public_id = _new_dossier(kind, target)
            project_first = run % 2 == 0  # alternate the order, so neither side gains from it
            if project_first:
                took = _produce(public_id, settings)
            # The same data the render reads (a queued dossier's snapshot is as good), in a
            # transaction of its own, as the render takes it.
            db.session.commit()
            snapshot = dossiers.take_snapshot(public_id, settings)
            db.session.commit()
            html = assemble(snapshot.content, snapshot_at=snapshot.taken_at, generated_at=utcnow())
            started = time.perf_counter()
            # The same tagged PDF/UA output the project writes, so the ratio is the project's cost.
            HTML(string=html, base_url=base_url).write_pdf(font_config=font_config(), **PDF_OPTIONS)
            bare = time.perf_counter() - started
            started = time.perf_counter()
            HTML(string=html, base_url=base_url).write_pdf(
                font_config=FontConfiguration(), **PDF_OPTIONS
            )
            fresh = time.perf_counter() - started
            if not project_first:
                took = _produce(public_id, settings)
            if run:
                project.append(took)
                shared.append(bare)
                default.append(fresh)
            pages = dossiers_pages(public_id)
        db.session.remove()
    return Timing(name, pages, project, shared, default)


def _produce(public_id: str, settings: Any) -> float:
    """The project's whole path for one queued dossier, timed."""
    from monitor.services import dossiers

    started = time.perf_counter()
    dossiers.produce(public_id, settings)
    return time.perf_counter() - started


def dossiers_pages(public_id: str) -> int:
    """The page count the render recorded."""
    from sqlalchemy import select

    from monitor.extensions import db
    from monitor.models import Dossier

    return db.session.scalar(select(Dossier.pages).where(Dossier.public_id == public_id)) or 0


def rss_child(count: int) -> None:
    """Run in a subprocess: the render task's code ``count`` times; print RSS samples as JSON."""
    from monitor.extensions import db
    from workers import celery_init_app
    from workers.dossiers import render_dossier

    env = dict(os.environ)
    app = _app(env)
    celery_init_app(app)
    ids = json.loads(env["BENCH_DOSSIER_IDS"])
    samples = []
    for n in range(1, count + 1):
        with app.app_context():
            public_id = _new_dossier("case", ids["case"])
            db.session.remove()
        state = render_dossier(public_id)  # the task body, as a worker runs it
        if state != "ready":
            raise BenchError(f"render {n} ended {state}")
        if n in {1, 10, 25, 50, 100, 150, count}:
            samples.append({"renders": n, "rss_mb": round(_rss_mb(), 1)})
    print(json.dumps(samples))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_rss(env: dict[str, str], ids: dict[str, str], count: int) -> list[dict[str, float]]:
    """RSS of a fresh worker-like process over ``count`` renders."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.dossiers", "--rss-child", str(count)],
        env={**env, "BENCH_DOSSIER_IDS": json.dumps(ids)},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if result.returncode != 0:
        raise BenchError(f"the RSS run failed:\n{result.stderr[-3000:]}")
    samples: list[dict[str, float]] = json.loads(result.stdout.strip().splitlines()[-1])
    return samples


def run(one_case_runs: int = 15, organization_runs: int = 3, rss_renders: int = 200) -> bool:
    """The dossier benchmark; True when every target is met."""
    began = time.perf_counter()
    url = database_url()
    env = environment(url)
    print(f"dossiers: database {redacted(url)}")
    ensure_database(url)
    run_monitor(["init-db"], env)
    app = _app(env)
    ids = seed(app)
    print(f"  one case: {one_case_runs} renders after a warm-up …", flush=True)
    one = measure(app, "one case (Kem Sokha)", "case", ids["case"], one_case_runs)
    print(f"  {MEMBERS}-member organization: {organization_runs} renders …", flush=True)
    group = measure(
        app,
        f"organization, {MEMBERS} members",
        "organization",
        ids["organization"],
        organization_runs,
    )
    print(f"  worker RSS over {rss_renders} renders (one process, no recycling) …", flush=True)
    rss = measure_rss(env, ids, rss_renders)
    after_warmup = next(s["rss_mb"] for s in rss if s["renders"] >= 10)
    growth = max(s["rss_mb"] for s in rss) - after_warmup

    verdicts = {
        "one case ≤ 0.3 s warm": one.median(one.project) <= TARGETS["one_case_s"],
        "55 members ≤ 10 s": group.median(group.project) <= TARGETS["organization_s"],
        "one case ≤ 1.15x bare": one.as_dict()["ratio"] <= TARGETS["ratio"],
        "55 members ≤ 1.15x bare": group.as_dict()["ratio"] <= TARGETS["ratio"],
        "RSS flat within 20 MB": growth <= TARGETS["rss_growth_mb"],
    }
    print()
    print(f"{'dossier':<28}{'pages':>6}{'project':>10}{'bare*':>10}{'ratio':>8}{'bare':>10}")
    for timing in (one, group):
        row = timing.as_dict()
        print(
            f"{row['dossier']:<28}{row['pages']:>6}{row['project_s']:>9.3f}s"
            f"{row['bare_weasyprint_shared_font_config_s']:>9.3f}s{row['ratio']:>7.2f}x"
            f"{row['bare_weasyprint_default_s']:>9.3f}s"
        )
    print("  bare* = bare WeasyPrint on the same final HTML with one shared FontConfiguration;")
    print("  bare  = the same with WeasyPrint's default (a new FontConfiguration per document).")
    print(
        "worker RSS: "
        + ", ".join(f"{s['renders']:g} → {s['rss_mb']:.1f} MB" for s in rss)
        + f"; growth after warm-up {growth:.1f} MB"
    )
    for name, passed in verdicts.items():
        print(f"  {'PASS' if passed else 'FAIL'}  {name}")
    report = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "dossiers": [one.as_dict(), group.as_dict()],
        "rss": rss,
        "rss_growth_mb": round(growth, 1),
        "targets": TARGETS,
        "verdicts": verdicts,
        "seconds": round(time.perf_counter() - began, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dossiers.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"results in {RESULTS / 'dossiers.json'} ({report['seconds']:.0f} s)")
    return all(verdicts.values())


def main() -> int:
    """``python -m bench.dossiers``; ``--rss-child N`` is the measured subprocess."""
    if len(sys.argv) == 3 and sys.argv[1] == "--rss-child":
        rss_child(int(sys.argv[2]))
        return 0
    try:
        return 0 if run() else 1
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
