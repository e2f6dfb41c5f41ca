"""An import opens its new cases in bulk (services.openings.open_cases) and writes exactly what
opening each case alone, through the case form's use case (services.cases.open_case), writes:
the same rows, the same audit entries (a chain that verifies), one alert dispatch per status
event; and a failure half-way through leaves nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from monitor import jobs
from monitor.extensions import db
from monitor.models import (
    AuditEntry,
    Case,
    Charge,
    Membership,
    Organization,
    Person,
    Source,
    StatusEvent,
    User,
)
from monitor.services import ValidationError, audit, imports, openings, sources
from monitor.services.cases import Opening, StatusInput, open_case
from monitor.services.imports.changes import case_input, charge_input, person_input
from monitor.services.imports.report import Report
from tests.support.accounts import make_user
from tests.support.imports import csv_bytes, fingerprint, mp

ROWS = 300
STATUSES = ["fled", "jailed", "at_liberty", "house_arrest", "disappeared"]


def _file() -> bytes:
    """300 MPs: five statuses, dates and sources varying, some without a party or charges."""
    rows = []
    for n in range(1, ROWS + 1):
        row = mp(
            n,
            external_id=f"CNRP-{n:03d}",
            status=STATUSES[n % len(STATUSES)],
            status_date=f"20{10 + n % 9}-{1 + n % 12:02d}",
            status_source=f"Report {n % 7}",
            status_source_url=f"https://example.org/report-{n % 7}",
            confidentiality=["public", "restricted", "confidential"][n % 3],
            charge_2_offence="Treason" if n % 2 else "",
            charge_2_max_sentence="life" if n % 2 else "",
        )
        if n % 10 == 0:
            row.update(organization="", role="")
        if n % 11 == 0:
            row.update(charge_1_offence="", charge_1_legal_basis="", charge_1_max_sentence="")
            row.update(charge_1_stage="")
        rows.append(row)
    return csv_bytes(rows)


@pytest.fixture
def editor(demo: dict[str, str]) -> User:
    return make_user("editor", "confidential")


@pytest.fixture
def dispatches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The status events an alert dispatch was asked for (after the commit)."""
    asked: list[int] = []
    queue = jobs.after_commit

    def record(name: jobs.TaskName, *args: Any, **options: Any) -> None:
        if name == jobs.TaskName.ALERTS_DISPATCH:
            asked.append(args[0])
        queue(name, *args, **options)

    monkeypatch.setattr(jobs, "after_commit", record)
    return asked


def _checked(editor: User) -> Report:
    report = imports.check(_file(), editor, current_app.config["SETTINGS"])
    assert report.ok, [str(p) for p in report.problems[:3]]
    assert report.summary()["create"] == ROWS
    return report


def _one_case_at_a_time(editor: User, report: Report, batch: str) -> None:
    """The per-row semantics: each row's case opened alone, as the case form opens one."""
    cited: dict[str, Source] = {}
    for row in report.rows:
        title, url = row.get("status_source") or "", row.get("status_source_url")
        key = url or title
        if key not in cited:
            cited[key] = sources.create_source(editor, sources.SourceInput(title=title, url=url))
        case = open_case(
            editor,
            Opening(
                case=case_input(row, None),
                status=StatusInput(
                    status=row.get("status") or "",
                    occurred_on=row.status_date,
                    certainty=row.get("status_certainty") or "confirmed",
                    sources=[cited[key]],
                ),
                new_person=person_input(row, None),
                organization=row.organization,
                role=row.get("role"),
                charges=[charge_input(charge, None) for charge in row.charges],
                external_id=row.external_id,
            ),
        )
        for event in case.events:
            event.import_batch = batch
    db.session.flush()


def _register() -> dict[str, Any]:
    """What the import wrote, without ids, public ids or times."""
    cases = {c.id: c.external_id for c in db.session.scalars(select(Case))}
    people = {p.id: p.name for p in db.session.scalars(select(Person))}
    return {
        "people": sorted(
            (p.name, p.name_native, tuple(p.aliases), p.nationality, p.search_text)
            for p in db.session.scalars(select(Person))
        ),
        "cases": sorted(
            (
                c.external_id or "",
                people[c.person_id],
                c.country,
                c.title,
                c.status,
                str(c.status_since),
                c.status_since_precision or "",
                c.confidentiality,
                str(c.max_exposure),
                tuple(sorted(s.url or "" for s in c.sources)),
            )
            for c in db.session.scalars(select(Case))
        ),
        "events": sorted(
            (
                cases[e.case_id] or "",
                e.status,
                e.previous_status or "",
                str(e.occurred),
                e.certainty,
                e.changed_current,
                e.alerts_pending,
                e.import_batch or "",
                tuple(s.url or "" for s in e.sources),
            )
            for e in db.session.scalars(select(StatusEvent))
        ),
        "charges": sorted(
            (cases[c.case_id] or "", c.offence, c.legal_basis or "", str(c.max_sentence), c.stage)
            for c in db.session.scalars(select(Charge))
        ),
        "memberships": sorted(
            (people[m.person_id], m.organization_id, m.role)
            for m in db.session.scalars(select(Membership))
        ),
    }


TIMES = {"created_at", "updated_at", "recorded_at"}


def _names() -> dict[str, str]:
    """Every public id, as the thing it names in words."""
    names = {p.public_id: f"person {p.name}" for p in db.session.scalars(select(Person))}
    names |= {c.public_id: f"case {c.external_id}" for c in db.session.scalars(select(Case))}
    names |= {s.public_id: f"source {s.url}" for s in db.session.scalars(select(Source))}
    names |= {
        o.public_id: f"organization {o.short_name}"
        for o in db.session.scalars(select(Organization))
    }
    for event in db.session.scalars(select(StatusEvent)):
        names[event.public_id] = f"event of {names[event.case.public_id]}"
    for charge in db.session.scalars(select(Charge)):
        names[charge.public_id] = f"charge {charge.offence} of {names[charge.case.public_id]}"
    for member in db.session.scalars(select(Membership)):
        names[member.public_id] = f"{member.role} {names[member.person.public_id]}"
    return names


def _entries(first_seq: int) -> list[tuple[str, ...]]:
    """The audit entries written since ``first_seq``, public ids named, times left out."""
    names = _names()

    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(plain(v) for v in value)
        return names.get(value, value) if isinstance(value, str) else value

    written = db.session.scalars(
        select(AuditEntry).where(AuditEntry.seq >= first_seq).order_by(AuditEntry.seq)
    )
    return [
        (
            entry.action,
            names.get(entry.entity_id, entry.entity_id),
            names.get(entry.case_ref or "", ""),
            repr(
                sorted(
                    (key, plain(value))
                    for key, value in (entry.after or {}).items()
                    # The bulk path records the import on the event's entry; opening cases
                    # one at a time tagged the events after their entries were written.
                    if key not in TIMES and key != "import_batch"
                )
            ),
        )
        for entry in written
        if entry.action != "import.apply"
    ]


def _by_case(entries: list[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    """The entries of each case in order, and those of no case (people, memberships)."""
    cases: dict[str, list[tuple[str, ...]]] = {}
    for entry in entries:
        if entry[0] != "source.create":
            cases.setdefault(entry[2], []).append(entry)
    return cases


def test_a_300_row_import_writes_what_opening_each_case_alone_writes(
    app: Flask, editor: User, dispatches: list[int]
) -> None:
    first_seq = (audit.checkpoint() or audit.Anchor(0, "")).seq + 1
    before = fingerprint()

    summary = imports.apply(editor, _checked(editor), sha256="bulk", import_id="BATCH")
    assert summary == {
        "rows": ROWS,
        "create": ROWS,
        "update": 0,
        "unchanged": 0,
        "status_events": ROWS,
    }
    bulk = (_register(), _entries(first_seq), fingerprint(), audit.verify())
    bulk_dispatched = sorted(dispatches)
    pending = set(
        db.session.scalars(
            select(StatusEvent.id).where(
                StatusEvent.alerts_pending.is_(True), StatusEvent.import_batch == "BATCH"
            )
        )
    )
    db.session.rollback()
    assert fingerprint() == before
    dispatches.clear()

    _one_case_at_a_time(editor, _checked(editor), "BATCH")
    alone = (_register(), _entries(first_seq), fingerprint(), audit.verify())

    assert bulk[0] == alone[0]
    assert len([c for c in bulk[0]["cases"] if c[0].startswith("CNRP-")]) == ROWS
    # The same entries, in the same order but for a new source's (written before its batch).
    assert Counter(bulk[1]) == Counter(alone[1])
    assert _by_case(bulk[1]) == _by_case(alone[1])
    # The same rows and entries, plus the import's own entry.
    assert bulk[2] == {**alone[2], "audit_entries": alone[2]["audit_entries"] + 1}
    assert bulk[3].ok, bulk[3].problem
    assert bulk[3].checked == alone[3].checked + 1
    # Every new case's first status alerts: one dispatch each, after the commit.
    assert len(bulk_dispatched) == len(dispatches) == ROWS
    assert set(bulk_dispatched) == pending


@pytest.mark.parametrize("breaks", ["row", "database"])
def test_a_failure_half_way_through_leaves_nothing(
    app: Flask, editor: User, breaks: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _checked(editor)
    before = fingerprint()
    calls = Counter[str]()
    if breaks == "row":
        # A rule the check does not repeat, broken by row 200 (of a batch of six, the fourth
        # of thirty-three batches): rows 2 to 199 are written by then.
        check = openings.check_opening

        def refusing(actor: Any, opening: Opening) -> Any:
            if opening.external_id == "CNRP-199":
                raise ValidationError({"status": "refused here"})
            return check(actor, opening)

        monkeypatch.setattr(openings, "check_opening", refusing)
        expected = "row 200, status: refused here"
    else:
        record_many = audit.record_many

        def broken(*args: Any) -> None:
            calls["record_many"] += 1
            if calls["record_many"] == 20:
                raise RuntimeError("the database went away")
            record_many(*args)

        monkeypatch.setattr(audit, "record_many", broken)
        expected = "the database went away"

    with pytest.raises((ValidationError, RuntimeError), match=expected):
        imports.apply(editor, report, sha256="bulk")
    db.session.rollback()

    assert fingerprint() == before
    assert audit.verify().ok
