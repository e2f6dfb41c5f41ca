"""No existence oracle in the import: an id held by a case above the importer's clearance answers
exactly as an unused id does (compared byte for byte, as the 404 tests of test_authz_matrix.py
compare a hidden id with a missing one), and applying it says no more than "row N could not be
applied", writing nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from monitor.extensions import db
from monitor.models import Case, Import
from monitor.models.base import new_public_id
from monitor.services import imports
from tests.bulk.test_web_api import confirm, post_file, upload
from tests.support.accounts import client_for, make_user
from tests.support.api import Api
from tests.support.imports import csv_bytes, fingerprint, mp

HIDDEN = "SECRET-7"
HIDDEN_NAME = "Hidden Witness"


@pytest.fixture
def hidden(app: Flask, demo: dict[str, str]) -> Case:
    """A confidential case with the external id ``HIDDEN``, imported by a cleared admin."""
    admin = make_user("admin", "confidential", "cleared.admin@example.org")
    data = csv_bytes([mp(7, external_id=HIDDEN, name=HIDDEN_NAME, confidentiality="confidential")])
    report = imports.check(data, admin, app.config["SETTINGS"])
    imports.apply(admin, report, sha256="x")
    db.session.commit()
    return db.session.scalars(select(Case).where(Case.external_id == HIDDEN)).one()


def _file(external_id: str, *more: dict[str, str]) -> bytes:
    return csv_bytes([*more, mp(8, external_id=external_id, name="Someone New")])


def _answer(response: TestResponse) -> tuple[int, str, bytes]:
    return response.status_code, response.headers.get("Content-Type", ""), response.get_data()


def _dry_run(api: Api, data: bytes) -> tuple[int, str, bytes]:
    return _answer(api.post("/imports?dry_run=true", data=data, content_type="text/csv"))


def test_api_dry_run_answers_a_hidden_id_as_an_unused_one(
    hidden: Case, api_as: Callable[[str, str], Api], demo: dict[str, str]
) -> None:
    api = api_as("editor", "restricted")
    by_external_id = _dry_run(api, _file(HIDDEN))
    unused = _dry_run(api, _file("NEVER-USED-7"))
    assert by_external_id == unused
    assert unused[0] == 200
    assert b'"create":1' in unused[2].replace(b" ", b"")
    # A case known by the register's own id only (no external id), above the clearance.
    db.session.execute(update(Case).where(Case.id == hidden.id).values(external_id=None))
    db.session.commit()
    by_public_id = _dry_run(api, _file(hidden.public_id))
    assert by_public_id == _dry_run(api, _file(new_public_id()))
    # The comparison can tell: a case the importer may see answers otherwise.
    visible = _dry_run(api, _file(demo["Kem Sokha"]))
    assert visible[0] == 200
    assert visible != unused


def _comparable(page: str, record: Import) -> str:
    page = page.replace(record.public_id, "IMPORT")
    page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1…", page)
    # The upload time, to the minute: two uploads may straddle one.
    return re.sub(r"Uploaded [^<]*? by", "Uploaded … by", page)


def _preview(browser: FlaskClient, data: bytes) -> tuple[int, str]:
    posted = post_file(browser, data, "cases.csv")
    record = db.session.scalars(select(Import).order_by(Import.id.desc())).first()
    assert record is not None
    page = browser.get(posted.headers["Location"])
    location = posted.headers["Location"].replace(record.public_id, "IMPORT")
    return posted.status_code, location + "\n" + _comparable(page.get_data(as_text=True), record)


def test_web_preview_of_a_hidden_id_is_the_preview_of_an_unused_one(
    app: Flask, hidden: Case
) -> None:
    browser = client_for(app, "editor", "restricted")
    data = _file(HIDDEN)
    while_hidden = _preview(browser, data)
    # The same file once no case holds the id.
    db.session.execute(update(Case).where(Case.id == hidden.id).values(external_id="ELSEWHERE"))
    db.session.commit()
    while_unused = _preview(browser, data)
    assert while_hidden == while_unused
    assert while_unused[0] == 302
    assert "<strong>1</strong> new case" in while_unused[1]
    assert HIDDEN_NAME not in while_hidden[1]


def test_command_line_dry_run_answers_a_hidden_id_as_an_unused_one(
    app: Flask, hidden: Case, tmp_path: Path
) -> None:
    make_user("editor", "restricted", "importer@example.org")
    outputs = []
    for external_id in (HIDDEN, "NEVER-USED-7"):
        path = tmp_path / f"{external_id}.csv"
        path.write_bytes(_file(external_id))
        result = app.test_cli_runner().invoke(
            args=["import-csv", "--dry-run", "--user", "importer@example.org", str(path)]
        )
        outputs.append((result.exit_code, result.output.replace(path.name, "FILE")))
    assert outputs[0] == outputs[1]
    assert outputs[0] == (0, "1 rows: 1 new, 0 to update, 0 unchanged (dry run: nothing written)\n")


def test_applying_a_hidden_id_says_only_which_row_and_writes_nothing(
    hidden: Case, api_as: Callable[[str, str], Api]
) -> None:
    api = api_as("editor", "restricted")
    before = fingerprint()
    # Row 2 is fine, row 3 holds the hidden id: all or nothing.
    data = _file(HIDDEN, mp(9, external_id="FINE-9"))
    response = api.post("/imports", data=data, content_type="text/csv")
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": {"file": "row 3 could not be applied; nothing was imported"}
    }
    assert fingerprint() == before
    assert db.session.scalars(select(Import)).first() is None
    assert db.session.scalars(select(Case).where(Case.external_id == "FINE-9")).first() is None


def test_confirming_a_hidden_id_on_the_web_fails_the_import_and_writes_nothing(
    app: Flask, hidden: Case
) -> None:
    browser = client_for(app, "editor", "restricted")
    page = upload(browser, _file(HIDDEN))
    before = fingerprint()
    outcome = confirm(browser, page)
    failures = re.findall(r'id="import-failure">([^<]*)<', outcome)
    assert failures == ["row 2 could not be applied; nothing was imported"]
    for telling in (HIDDEN_NAME, "already used", hidden.public_id):
        assert telling not in outcome
    assert fingerprint() == before
    record = db.session.scalars(select(Import)).one()
    db.session.refresh(record)
    assert (record.state, record.failure) == (
        "failed",
        "row 2 could not be applied; nothing was imported",
    )
