"""The import as a monitor fills it in: the labels the screens show as well as codes, a Data page
that lists what each column takes, and a statement (with a link) that a row's person is already
in the register (matched: the row goes to them), on the web preview, the API's dry run and the
command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Case, Person
from monitor.services import exports
from monitor.services.csv_format import CASE_COLUMNS, COLUMNS
from tests.bulk.test_web_api import confirm, post_file, upload
from tests.support.accounts import client_for
from tests.support.api import Api
from tests.support.imports import csv_bytes, mp
from tests.support.web import open_case


def kem_sokha() -> Person:
    return db.session.query(Person).filter_by(name="Kem Sokha").one()


def test_the_unchanged_template_says_that_kem_sokha_already_exists(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = client_for(app, "editor")
    template = editor.get("/data/template.csv").get_data()
    page = editor.get(upload(editor, template, "import-template.csv")).get_data(as_text=True)
    assert "1 row names people already in the register" in page
    assert (
        f'Row 2: <bdi>Kem Sokha</bdi> is already in the register as <a href="/people/'
        f'{kem_sokha().public_id}"><bdi>Kem Sokha</bdi></a>'
    ) in page
    assert "same name" in page
    assert "(matched: already registered)" in page


def test_the_api_dry_run_names_the_registered_person(editor_api: Api, demo: dict[str, str]) -> None:
    template = exports.template_csv().encode()
    dry = editor_api.post("/imports?dry_run=true", data=template, content_type="text/csv")
    assert dry.status_code == 200
    assert dry.json is not None
    [warning] = dry.json["warnings"]
    assert warning["row"] == 2
    assert warning["column"] == "name"
    assert warning["person_ids"] == [kem_sokha().public_id]
    assert (
        f"Kem Sokha is already in the register as person {kem_sokha().public_id}"
        in (warning["message"])
    )
    [match] = [m for m in dry.json["matches"] if m["row"] == 2]
    assert (match["status"], match["person_id"]) == ("matched", kem_sokha().public_id)


def test_the_command_line_dry_run_warns(app: Flask, demo: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    path.write_text(exports.template_csv(), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-csv", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "warning: row 2, column name: Kem Sokha is already in the register" in (result.output)
    assert f"matched: row 2 Kem Sokha is Kem Sokha ({kem_sokha().public_id}" in result.output


def test_someone_hidden_by_clearance_is_not_named(app: Flask) -> None:
    open_case("Hidden Informant", level="confidential")
    editor = client_for(app, "editor", "public")
    row = mp(1, name="Hidden Informant", name_native="", aliases="", organization="", role="")
    page = editor.get(upload(editor, csv_bytes([row]))).get_data(as_text=True)
    assert "already in the register" not in page
    assert "Probably the same person" not in page
    assert "(new person)" in page
    assert "Hidden Informant" in page


def test_labels_shown_on_screen_import_as_their_codes(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor")
    row = mp(
        1,
        country="Cambodia",
        nationality="cambodia",
        status="House Arrest",
        status_certainty="Reported",
        confidentiality="PUBLIC",
        charge_1_stage="on trial",
    )
    page = confirm(editor, upload(editor, csv_bytes([row])))
    assert "import-done" in page
    case = db.session.query(Case).filter_by(external_id="CNRP-01").one()
    assert (case.country, case.status, case.confidentiality) == ("KH", "house_arrest", "public")
    assert case.person.nationality == "KH"
    assert case.events[0].certainty == "reported"
    assert case.charges[0].stage == "on_trial"


@pytest.mark.parametrize(
    ("cells", "column", "lists"),
    [
        (
            {"status": "arrested"},
            "status",
            "deceased (or with spaces, as on screen: at liberty, house arrest)",
        ),
        ({"charge_1_stage": "tried"}, "charge_1_stage", "on_trial"),
        ({"country": "Kambodia"}, "country", "ISO code (KH) or its name, in English"),
    ],
)
def test_a_wrong_value_lists_the_allowed_ones(
    app: Flask, demo: dict[str, str], cells: dict[str, str], column: str, lists: str
) -> None:
    editor = client_for(app, "editor")
    response = post_file(editor, csv_bytes([mp(1, **cells)]), "mps.csv")
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert f"<td>{column}</td>" in page
    assert lists in page


def test_the_data_page_lists_every_column_and_its_allowed_values(
    editor_client: FlaskClient,
) -> None:
    page = editor_client.get("/data").get_data(as_text=True)
    assert 'id="import-columns"' in page
    for column in CASE_COLUMNS:
        assert f"<code>{column}</code>" in page
    assert "<code>charge_1_stage</code>" in page
    assert "house arrest (<code>house_arrest</code>)" in page
    assert "on trial (<code>on_trial</code>)" in page
    assert "ISO code (KH) or name, in English or in the import&#39;s language (Cambodia)" in page
    required = {c.name for c in COLUMNS if c.required}
    # A row without a status records a member: only the name is always needed.
    assert required == {"name"}
    assert "write <code>-</code> alone in the cell" in page
