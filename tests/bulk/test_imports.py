"""CSV import and the cases CSV export: whole files in, every problem named, none half-written."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from monitor.config import Settings
from monitor.domain import MAX_TERM_MONTHS, Sentence, SentenceKind
from monitor.extensions import db
from monitor.models import (
    AuditEntry,
    Case,
    Charge,
    Import,
    Membership,
    Organization,
    Person,
    Source,
    StatusEvent,
    User,
)
from monitor.models.base import new_public_id
from monitor.services import ValidationError, audit, charges, exports, imports
from monitor.services.csv_format import neutralise, unneutralise
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    create_organization,
    update_person,
)
from tests.support.accounts import make_user
from tests.support.environment import Backend
from tests.support.imports import HEADER, csv_bytes, fingerprint, mp


def app_settings() -> Settings:
    """The app's settings as they are now (a test may replace them)."""
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@pytest.fixture
def editor(demo: dict[str, str]) -> User:
    return make_user("editor", "confidential")


@pytest.fixture
def run_import(editor: User) -> Callable[[bytes], dict[str, int]]:
    def run(data: bytes) -> dict[str, int]:
        report = imports.check(data, editor, app_settings())
        assert report.ok, [str(p) for p in report.problems]
        summary = imports.apply(editor, report, sha256="test")
        db.session.commit()
        return summary

    return run


def problems_of(data: bytes, user: User) -> list[str]:
    return [str(p) for p in imports.check(data, user, app_settings()).problems]


def test_ten_mps_two_typos_named_then_fixed_and_imported(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    rows = [mp(n) for n in range(1, 11)]
    rows[2]["status"] = "jialed"  # row 4 of the file
    rows[6]["status_date"] = "2017-13"  # row 8
    before = fingerprint()

    report = imports.check(csv_bytes(rows), editor, app_settings())

    assert [(p.row, p.column) for p in report.problems] == [(4, "status"), (8, "status_date")]
    assert report.problems[0].message.startswith("'jialed': must be one of: at_liberty, jailed")
    assert "2017-13" in report.problems[1].message
    with pytest.raises(ValidationError):
        imports.apply(editor, report, sha256="x")
    assert fingerprint() == before

    rows[2]["status"] = "jailed"
    rows[6]["status_date"] = "2017-11"
    summary = run_import(csv_bytes(rows))

    assert summary == {"rows": 10, "create": 10, "update": 0, "unchanged": 0, "status_events": 10}
    cnrp = db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()
    members = {m.person.name: m for m in cnrp.memberships}
    assert {f"Member {n}" for n in range(1, 11)} <= set(members)
    three = db.session.scalars(select(Case).where(Case.external_id == "CNRP-03")).one()
    assert (three.status, three.since and three.since.iso()) == ("jailed", "2017-10")
    assert three.person.name_native == "សមាជិក 3"
    assert three.person.aliases == ["M3", "Member No. 3"]
    assert three.max_exposure is not None
    assert three.max_exposure.human() == "2 years"
    assert [s.url for s in three.events[0].sources] == ["https://example.org/afp-cnrp"]
    # One source for the ten rows citing the same URL.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Source)
            .where(Source.url == "https://example.org/afp-cnrp")
        )
        == 1
    )
    assert audit.verify().ok
    applied = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import.apply")
    ).one()
    assert applied.after is not None
    assert applied.after["create"] == 10


def test_reimporting_the_same_file_changes_nothing(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    data = csv_bytes([mp(n) for n in range(1, 6)])
    run_import(data)
    before = fingerprint()

    summary = run_import(data)

    assert summary == {"rows": 5, "create": 0, "update": 0, "unchanged": 5, "status_events": 0}
    assert fingerprint() == before


def test_a_changed_status_records_an_event_and_alerts_like_a_manual_change(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1), mp(2)]))
    db.session.execute(StatusEvent.__table__.update().values(alerts_pending=False))
    db.session.commit()

    summary = run_import(csv_bytes([mp(1, status="jailed", status_date="2018-02-03"), mp(2)]))

    assert summary["update"] == 1
    assert summary["status_events"] == 1
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    assert case.status == "jailed"
    latest = max(case.events, key=lambda e: e.occurred_on)
    assert (latest.previous_status, latest.changed_current, latest.alerts_pending) == (
        "fled",
        True,
        True,
    )
    # A back-filled older event changes the history, not the current status, and alerts nobody.
    run_import(csv_bytes([mp(1, status="at_liberty", status_date="2016"), mp(2)]))
    db.session.refresh(case)
    assert case.status == "jailed"
    backfill = min(case.events, key=lambda e: e.occurred_on)
    assert (backfill.status, backfill.alerts_pending) == ("at_liberty", False)


def test_charges_are_matched_by_offence_and_updated(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1)]))
    run_import(
        csv_bytes(
            [
                mp(
                    1,
                    charge_1_max_sentence="5 years",
                    charge_2_offence="Treason",
                    charge_2_max_sentence="life",
                )
            ]
        )
    )
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    assert [(c.offence, c.max_sentence.human()) for c in case.charges] == [
        ("Incitement", "5 years"),
        ("Treason", "life imprisonment"),
    ]
    assert case.max_exposure is not None
    assert case.max_exposure.human() == "life imprisonment"


BAD_ROWS = [
    pytest.param({"status": "arrested"}, "status", "must be one of", id="unknown status"),
    pytest.param(
        {"status_date": "2017-02-30"},
        "status_date",
        "not a real calendar date",
        id="impossible date",
    ),
    pytest.param({"status_date": "30/09/2017"}, "status_date", "YYYY-MM-DD", id="bad date"),
    pytest.param({"status_date": "2999-01"}, "status_date", "in the future", id="future date"),
    pytest.param(
        {"charge_1_max_sentence": "-5 years"},
        "charge_1_max_sentence",
        "negative",
        id="negative sentence",
    ),
    pytest.param(
        {"charge_1_max_sentence": "thirty"},
        "charge_1_max_sentence",
        "is not a sentence",
        id="unparseable sentence",
    ),
    pytest.param(
        {"organization": "CNPR"},
        "organization",
        "'CNPR' is not an organization",
        id="unknown organization",
    ),
    pytest.param({"name": ""}, "name", "is required", id="missing name"),
    pytest.param({"country": "Kambodia"}, "country", "is not a country", id="unknown country"),
    pytest.param(
        {"name": '=HYPERLINK("http://evil.example","x")'},
        "name",
        "spreadsheet formula",
        id="formula",
    ),
    pytest.param({"aliases": "@SUM(A1)"}, "aliases", "spreadsheet formula", id="at formula"),
    pytest.param(
        {"status_source_url": "javascript:alert(1)"}, "status_source_url", "http", id="bad url"
    ),
    pytest.param({"status_source_url": "https://"}, "status_source_url", "http", id="no host"),
    pytest.param(
        {"status_source_url": "http://[bad"}, "status_source_url", "http", id="malformed url"
    ),
    pytest.param(
        {"status_source_url": "https://example.org/" + "a" * 2000},
        "status_source_url",
        "at most 2000 characters",
        id="long url",
    ),
    pytest.param(
        {"title": "-2+3+cmd|' /C calc'!A0"}, "title", "spreadsheet formula", id="dash formula"
    ),
    # The case form and the API refuse it too (one open-case use case).
    pytest.param(
        {"organization": ""}, "role", "needs an organization", id="role without organization"
    ),
]


@pytest.mark.parametrize(("change", "column", "message"), BAD_ROWS)
def test_a_bad_cell_is_named_by_row_and_column_and_nothing_is_written(
    app: Flask, editor: User, change: dict[str, str], column: str, message: str
) -> None:
    before = fingerprint()
    problems = imports.check(
        csv_bytes([mp(1), mp(2, **change), mp(3)]), editor, app_settings()
    ).problems
    assert [(p.row, p.column) for p in problems] == [(3, column)]
    assert message in problems[0].message
    assert fingerprint() == before


def test_a_duplicated_external_id_names_both_rows(app: Flask, editor: User) -> None:
    problems = problems_of(csv_bytes([mp(1), mp(2), mp(3, external_id="CNRP-01")]), editor)
    assert problems == ["row 4, column external_id: 'CNRP-01' is also on row 2"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "The file is empty.", id="empty"),
        pytest.param(csv_bytes([]), "no data rows", id="header only"),
        pytest.param(
            csv_bytes([mp(1, name="Sochua Mu")]).replace(b"Sochua", "Sôchua".encode("latin-1")),
            "is not UTF-8 (byte 0xF4",
            id="latin-1",
        ),
        pytest.param(b"\x00\x01binary", "NUL bytes", id="binary"),
    ],
)
def test_files_that_are_not_utf8_csv_are_refused_with_a_message(
    app: Flask, editor: User, data: bytes, message: str
) -> None:
    before = fingerprint()
    problems = problems_of(data, editor)
    assert len(problems) == 1
    assert message in problems[0]
    assert fingerprint() == before


def test_utf8_with_bom_is_accepted(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    assert run_import(b"\xef\xbb\xbf" + csv_bytes([mp(1)]))["create"] == 1


def test_wrong_headers_are_each_named(app: Flask, editor: User) -> None:
    columns = [c for c in HEADER if c not in {"status", "name"}] + ["custody", "external_id"]
    data = csv_bytes([], columns).replace(b"\n", b"\n", 1) + b"x\n"
    problems = problems_of(data, editor)
    assert problems == [
        "row 1, column custody: is not a column this import knows (see the template)",
        "row 1, column external_id: appears twice in the header row",
        "row 1, column name: is missing from the header row",
    ]


def test_size_and_row_limits(app: Flask, editor: User) -> None:
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = type(settings)(
        **{**settings.__dict__, "import_max_bytes": 2000, "import_max_rows": 3}
    )
    with pytest.raises(imports.FileTooLarge, match="larger than the limit of 2,000 bytes"):
        imports.check(csv_bytes([mp(n) for n in range(1, 10)]), editor, app_settings())
    app.config["SETTINGS"] = type(settings)(**{**settings.__dict__, "import_max_rows": 3})
    problems = problems_of(csv_bytes([mp(n) for n in range(1, 5)]), editor)
    assert problems == ["The file has more than 3 rows; at most 3 are accepted at once."]
    # Rows are CSV records: line breaks inside quoted cells do not count as rows.
    multiline = [mp(n, status_description="Seen in\nPhnom Penh\non the 3rd") for n in (1, 2, 3)]
    assert problems_of(csv_bytes(multiline), editor) == []


def test_clearance_limits_what_an_import_may_write(app: Flask, demo: dict[str, str]) -> None:
    restricted = make_user("editor", "restricted")
    problems = problems_of(csv_bytes([mp(1, confidentiality="confidential")]), restricted)
    assert problems == ["row 2, column confidentiality: confidential is above your clearance"]

    admin = make_user("admin", "confidential")
    report = imports.check(
        csv_bytes([mp(1, confidentiality="confidential")]), admin, app_settings()
    )
    imports.apply(admin, report, sha256="x")
    db.session.commit()
    # The same external id from someone not cleared for that case reads as an unused one, and
    # applying it is refused without saying why (tests/bulk/test_import_oracle.py).
    report = imports.check(csv_bytes([mp(1, confidentiality="public")]), restricted, app_settings())
    assert (report.problems, report.summary()["create"]) == ([], 1)
    with pytest.raises(ValidationError, match="row 2 could not be applied; nothing was imported"):
        imports.apply(restricted, report, sha256="x")


def test_the_export_reimports_cleanly_and_neutralises_formulas(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1, title="'=1+1 is not a formula"), mp(2)]))
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    assert case.title == "=1+1 is not a formula"
    before = fingerprint()

    exported = "".join(exports.cases_csv(editor)).encode()

    text = exported.decode("utf-8-sig")
    assert "'=1+1 is not a formula" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["external_id"] for r in rows} >= {"CNRP-01", "CNRP-02"}
    kem = next(r for r in rows if r["name"] == "Kem Sokha")
    assert (kem["name_native"], kem["status"], kem["status_date"]) == (
        "កឹម សុខា",
        "jailed",
        "2017-09",
    )
    assert kem["charge_1_max_sentence"] == "30 years"
    summary = run_import(exported)
    assert summary["create"] == 0
    assert summary["update"] == 0
    assert fingerprint() == before


def test_the_export_leaves_out_cases_above_the_clearance(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1, confidentiality="confidential", name="Hidden Person")]))
    viewer = make_user("viewer", "public")
    text = "".join(exports.cases_csv(viewer))
    assert "Kem Sokha" in text
    assert "Hidden Person" not in text
    full = "".join(exports.cases_json(viewer))
    assert "Kem Sokha" in full
    assert "Hidden Person" not in full
    assert "Hidden Person" in "".join(exports.cases_json(editor))


def test_the_template_imports_as_it_is(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    summary = run_import(exports.template_csv().encode())
    assert summary["create"] == 1
    case = db.session.scalars(select(Case).where(Case.external_id == "KH-0001")).one()
    assert (case.person.name_native, case.status) == ("កឹម សុខា", "jailed")


def test_the_command_line_import(app: Flask, editor: User, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([mp(1), mp(2, status_date="2017-02-30")]))
    before = fingerprint()
    result = runner.invoke(args=["import-csv", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv: row 3, column status_date: '2017-02-30': not a real calendar date" in (
        result.output
    )
    assert fingerprint() == before

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([mp(1), mp(2)]))
    dry = runner.invoke(args=["import-csv", str(good), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 rows: 2 new, 0 to update, 0 unchanged (dry run: nothing written)" in dry.output
    assert fingerprint() == before

    done = runner.invoke(args=["import-csv", str(good), "--user", editor.email])
    assert done.exit_code == 0, done.output
    assert "2 rows: 2 new, 0 updated, 0 unchanged, 2 status events recorded" in done.output
    again = runner.invoke(args=["import-csv", str(good)])
    assert "0 new, 0 updated, 2 unchanged, 0 status events recorded" in again.output


def test_an_empty_confidentiality_cell_keeps_the_level_of_an_existing_case(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1, confidentiality="confidential")]))
    summary = run_import(csv_bytes([mp(1, confidentiality="")]))
    assert summary["unchanged"] == 1
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    assert case.confidentiality == "confidential"


def test_progress_is_visible_to_other_connections_while_an_import_runs(
    app: Flask, editor: User, backend: Backend
) -> None:
    record, report = imports.stage(
        editor, "mps.csv", csv_bytes([mp(n) for n in range(1, 11)]), app_settings()
    )
    assert report.ok
    record.state = "running"
    db.session.commit()
    write = imports.progress_writer(record.public_id)
    if backend.name == "sqlite":
        # One writer at a time: the import is it until it commits, so no progress in between.
        assert write is None
        return
    assert write is not None
    seen: list[int] = []

    def spy(done: int, total: int) -> None:
        write(done, total)
        with db.engine.connect() as other:  # what a web page would read meanwhile
            query = select(Import.progress).where(Import.public_id == record.public_id)
            seen.append(int(other.scalar(query) or 0))

    imports.run(editor, record, app_settings(), spy)
    db.session.commit()

    assert seen == [10, 20, 30, 40, 50, 60, 70, 80, 90, 99]
    assert (record.state, record.progress) == ("done", 100)


def test_confirming_twice_imports_once(app: Flask, editor: User) -> None:
    record, _ = imports.stage(editor, "mps.csv", csv_bytes([mp(1), mp(2)]), app_settings())
    db.session.commit()
    imports.confirm(editor, record, app_settings())
    db.session.commit()
    before = fingerprint()
    with pytest.raises(ValidationError, match="is done, not waiting for confirmation"):
        imports.confirm(editor, record, app_settings())
    db.session.rollback()
    assert fingerprint() == before


def test_the_sweep_resends_lost_imports_and_frees_dead_runs_only(app: Flask, editor: User) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    made = {}
    for name, state in [("lost", "queued"), ("dead", "running"), ("busy", "running")]:
        record, _ = imports.stage(editor, f"{name}.csv", csv_bytes([mp(1)]), app_settings())
        record.state = state
        record.created_at = long_ago
        record.started_at = long_ago if name == "dead" else dt.datetime.now(dt.UTC)
        made[name] = record
    db.session.commit()

    resent = imports.requeue_stale(dt.timedelta(minutes=2), dt.timedelta(minutes=31))
    db.session.commit()

    assert sorted(resent) == sorted([made["lost"].public_id, made["dead"].public_id])
    states = {name: db.session.get(Import, r.id).state for name, r in made.items()}  # type: ignore[union-attr]
    assert states == {"lost": "queued", "dead": "queued", "busy": "running"}


def test_a_sentence_over_200_years_is_refused(app: Flask, editor: User) -> None:
    problems = problems_of(csv_bytes([mp(1, charge_1_max_sentence="99999999999 years")]), editor)
    assert problems == [
        "row 2, column charge_1_max_sentence: a term longer than 200 years: write 'life' instead"
    ]


def test_an_uploader_who_lost_the_right_to_write_cannot_have_the_import_applied(
    app: Flask, editor: User
) -> None:
    record, _ = imports.stage(editor, "mps.csv", csv_bytes([mp(1)]), app_settings())
    db.session.commit()
    editor.role = "viewer"
    db.session.commit()
    before = fingerprint()
    with pytest.raises(ValidationError, match="may no longer write"):
        imports.run(editor, record, app_settings())
    db.session.rollback()
    assert fingerprint() == before


def test_cells_round_trip_through_the_formula_guard() -> None:
    for cell in ["'+ve", "''x", "'quoted'", "=1+1", "-", "--", "-5 years", "@home", "plain"]:
        assert unneutralise(neutralise(cell)) == (cell, True), cell
    assert unneutralise("-2+3+cmd|' /C calc'!A0")[1] is False
    assert unneutralise("- jailed")[1] is False


def test_two_counts_of_one_offence_import_and_reimport_onto_the_same_charges(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    counts = mp(
        1,
        charge_1_offence="Incitement",
        charge_1_max_sentence="2 years",
        charge_2_offence="incitement",
        charge_2_max_sentence="3 years",
    )
    run_import(csv_bytes([counts]))
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    assert [c.max_sentence.human() for c in case.charges] == ["2 years", "3 years"]
    before = fingerprint()

    assert run_import(csv_bytes([counts]))["unchanged"] == 1
    exported = "".join(exports.cases_csv(editor)).encode()
    assert run_import(exported)["update"] == 0
    assert fingerprint() == before


def test_a_file_without_a_legal_basis_column_keeps_the_legal_basis(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1)]))
    columns = [c for c in HEADER if not c.endswith("_legal_basis")]
    row = {k: v for k, v in mp(1, charge_1_max_sentence="5 years").items() if k in columns}
    assert run_import(csv_bytes([row], columns))["update"] == 1
    charge = db.session.scalars(select(Charge).where(Charge.offence == "Incitement")).one()
    assert (charge.legal_basis, charge.max_sentence.human()) == (
        "Criminal Code art. 495",
        "5 years",
    )


def test_an_organization_name_two_organizations_share_asks_for_the_id(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    other = create_organization(editor, OrganizationInput(name="CNRP", kind="ngo", short_name="CN"))
    db.session.commit()
    problems = problems_of(csv_bytes([mp(1)]), editor)
    assert len(problems) == 1
    assert problems[0].startswith("row 2, column organization: 'CNRP' names more than one")
    assert f"CNRP ({other.public_id})" in problems[0]

    run_import(csv_bytes([mp(1, organization=other.public_id), mp(2, organization="CN")]))
    members = db.session.scalars(
        select(Person.name).join(Membership).where(Membership.organization_id == other.id)
    )
    assert sorted(members) == ["Member 1", "Member 2"]
    # The export names each organization so that the import finds the same one again.
    before = fingerprint()
    exported = "".join(exports.cases_csv(editor)).encode()
    assert run_import(exported)["update"] == 0
    assert fingerprint() == before


def test_every_register_id_can_be_written_bare_in_a_csv_cell() -> None:
    # About 1 id in 64 started with "-" before, which the import took for a spreadsheet formula
    # (and asked for an apostrophe before it): among 20,000 ids, some would.
    ids = [new_public_id() for _ in range(20_000)]
    refused = [public_id for public_id in ids if not unneutralise(public_id)[1]]
    assert refused == []
    assert all(neutralise(public_id) == public_id for public_id in ids)


def test_stray_byte_order_marks_in_cells_are_ignored(app: Flask, editor: User) -> None:
    data = csv_bytes([mp(1, country="\ufeffKH")])
    assert problems_of(b"\xef\xbb\xbf" + data, editor) == []


def test_a_preview_the_register_has_overtaken_is_not_applied(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    record, report = imports.stage(editor, "mps.csv", csv_bytes([mp(1), mp(2)]), app_settings())
    assert report.summary()["create"] == 2
    db.session.commit()
    run_import(csv_bytes([mp(1)]))  # somebody else imports MP 1 meanwhile
    before = fingerprint()
    with pytest.raises(ValidationError, match="the register changed since the preview"):
        imports.run(editor, record, app_settings())
    db.session.rollback()
    assert fingerprint() == before


def test_two_imports_at_once_record_a_status_change_once(
    app: Flask,
    editor: User,
    run_import: Callable[[bytes], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second import checks only after the first has committed, so it finds the change made.

    Without the lock, the second thread's check would run while the first holds its change
    uncommitted; the first thread waits for exactly that (up to a second) before committing.
    """
    run_import(csv_bytes([mp(1)]))
    jailed = csv_bytes([mp(1, status="jailed", status_date="2018-01")])
    records = [imports.stage(editor, f"{n}.csv", jailed, app_settings())[0] for n in (1, 2)]
    for record in records:
        record.state = "running"
    db.session.commit()
    ids = [record.public_id for record in records]
    first_applied, second_checked = threading.Event(), threading.Event()
    check = imports.check

    def watched(data: bytes, user: User | None, config: Settings) -> imports.Report:
        report = check(data, user, config)
        if threading.current_thread().name == "second":
            second_checked.set()
        return report

    monkeypatch.setattr(imports.jobs, "check", watched)  # where run looks it up
    outcome: dict[str, str] = {}

    def run(public_id: str, name: str) -> None:
        with app.app_context():
            record = db.session.scalars(select(Import).where(Import.public_id == public_id)).one()
            try:
                imports.run(record.requested_by, record, app_settings())
                if name == "first":  # applied, not committed: hold the change a while
                    first_applied.set()
                    second_checked.wait(timeout=1)
                db.session.commit()
                outcome[name] = "done"
            except ValidationError as exc:
                db.session.rollback()
                outcome[name] = str(exc.errors["file"])
            finally:
                first_applied.set()

    first = threading.Thread(target=run, args=(ids[0], "first"), name="first")
    first.start()
    first_applied.wait(timeout=60)
    second = threading.Thread(target=run, args=(ids[1], "second"), name="second")
    second.start()
    first.join()
    second.join()

    assert outcome["first"] == "done"
    assert outcome["second"].startswith("the register changed since the preview")
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-01")).one()
    db.session.refresh(case)
    assert [e.status for e in case.events].count("jailed") == 1


def test_rows_are_numbered_as_a_spreadsheet_numbers_them(app: Flask, editor: User) -> None:
    rows = [mp(1, status_description="line one\nline two\nline three"), mp(2, status="jialed")]
    problems = problems_of(b"\n" + csv_bytes(rows), editor)  # a blank first line, then the header
    assert len(problems) == 1
    assert problems[0].startswith("row 4, column status: 'jialed'")


def test_empty_columns_after_the_last_are_ignored_unless_filled(app: Flask, editor: User) -> None:
    data = csv_bytes([mp(1), mp(2)]).replace(b"\n", b",,\n")  # as spreadsheets save them
    assert problems_of(data, editor) == []
    lines = data.split(b"\n")
    filled = b"\n".join([lines[0], lines[1] + b"oops", *lines[2:]])
    assert problems_of(filled, editor)[0] == (
        f"row 2: has a value in column {len(HEADER) + 2}, which has no name in the header row"
    )


def test_every_alias_problem_is_in_the_preview(app: Flask, editor: User) -> None:
    problems = problems_of(csv_bytes([mp(1, aliases="A" * 201 + "; B")]), editor)
    assert problems == ["row 2, column aliases: each alias must be at most 200 characters"]


def test_an_alias_cannot_hold_the_separator(app: Flask, editor: User) -> None:
    """An alias with ';' would come back from an export as two aliases."""
    person = db.session.scalars(select(Person).where(Person.name == "Kem Sokha")).one()
    with pytest.raises(ValidationError, match="cannot contain ';'"):
        update_person(editor, person, PersonInput(name=person.name, aliases=["Sokha; elder"]))


def test_terms_over_200_years_are_refused_everywhere_so_exports_reimport(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    run_import(csv_bytes([mp(1)]))
    charge = db.session.scalars(select(Charge).where(Charge.offence == "Incitement")).one()
    too_long = charges.ChargeInput(
        offence=charge.offence, max_sentence=Sentence(SentenceKind.TERM, MAX_TERM_MONTHS + 11)
    )
    with pytest.raises(ValidationError, match="longer than 200 years"):
        charges.update_charge(editor, charge, too_long)
    db.session.rollback()
    longest = dataclasses.replace(too_long, max_sentence=Sentence(SentenceKind.TERM, 2400))
    charges.update_charge(editor, charge, longest)
    db.session.commit()
    exported = "".join(exports.cases_csv(editor)).encode()
    assert run_import(exported)["update"] == 0


def test_two_rows_of_one_person_must_agree(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    """Otherwise each import renames the person back and forth."""
    run_import(csv_bytes([mp(1), mp(2)]))
    case = db.session.scalars(select(Case).where(Case.external_id == "CNRP-02")).one()
    case.person = db.session.scalars(select(Person).where(Person.name == "Member 1")).one()
    db.session.commit()
    person = {k: v for k, v in mp(1).items() if k in ("name_native", "aliases")}
    problems = problems_of(csv_bytes([mp(1, name="Member One"), mp(2, **person)]), editor)
    assert problems == [
        "row 3, column name: is the same person as row 2 (Member 1), whose name differs; "
        "make the two rows agree"
    ]
    agreeing = csv_bytes([mp(1, name="Member One"), mp(2, name="Member One", **person)])
    assert problems_of(agreeing, editor) == []


def test_a_confirmation_does_not_undo_an_edit_made_after_the_preview(
    app: Flask, editor: User, run_import: Callable[[bytes], dict[str, int]]
) -> None:
    """Same counts (one row to update, one unchanged), other rows: still refused."""
    run_import(csv_bytes([mp(1), mp(2)]))
    record, report = imports.stage(
        editor, "f.csv", csv_bytes([mp(1, name="Renamed"), mp(2)]), app_settings()
    )
    assert [r.action for r in report.rows] == ["update", "unchanged"]
    db.session.commit()
    for external_id, name in (("CNRP-01", "Renamed"), ("CNRP-02", "Corrected 2")):
        case = db.session.scalars(select(Case).where(Case.external_id == external_id)).one()
        person = case.person
        update_person(editor, person, PersonInput(name=name, aliases=person.aliases))
    db.session.commit()
    before = fingerprint()
    with pytest.raises(ValidationError, match="the register changed since the preview"):
        imports.run(editor, record, app_settings())
    db.session.rollback()
    assert fingerprint() == before


def test_the_command_line_refuses_an_account_that_may_not_write(
    app: Flask, editor: User, tmp_path: Path
) -> None:
    viewer = make_user("viewer", "confidential")
    path = tmp_path / "mps.csv"
    path.write_bytes(csv_bytes([mp(1)]))
    before = fingerprint()
    result = app.test_cli_runner().invoke(args=["import-csv", str(path), "--user", viewer.email])
    assert result.exit_code == 1
    assert f"{viewer.email} may not write to the register (role viewer)" in result.output
    assert fingerprint() == before


def test_the_full_json_export_holds_what_the_case_page_shows(app: Flask, editor: User) -> None:
    document = json.loads("".join(exports.cases_json(editor)))
    kem = next(c for c in document["cases"] if c["person"]["name"] == "Kem Sokha")
    assert {"opened_on", "closed_on", "sources", "summary", "tags"} <= kem.keys()
    assert {"biography", "occupation", "birth_date", "memberships"} <= kem["person"].keys()
    treason = kem["charges"][0]
    assert (treason["legal_basis"], treason["max_sentence"]) == (
        "Criminal Code, art. 443",
        {"kind": "term", "months": 360},
    )
    assert {"sentence_imposed", "sentenced_on", "in_absentia", "filed"} <= treason.keys()
    assert kem["status_events"][-1]["sources"][0]["title"]
