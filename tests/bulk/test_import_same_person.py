"""Two rows of a CSV file (or two people of a Popolo file) that the importer's decisions make one
register person are a problem of the check, naming both, found by the dry run and the preview's
confirmation before anything is applied, not only by applying."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Person
from tests.bulk.test_web_api import upload
from tests.support.accounts import client_for
from tests.support.api import Api
from tests.support.imports import csv_bytes, fingerprint, mp
from tests.support.web import csrf_token


def person_id(name: str) -> str:
    return db.session.scalars(select(Person.public_id).where(Person.name == name)).one()


def two_mao_rows() -> bytes:
    """Row 2 names Mao Monyvann as the register spells him (matched); row 3 misspells him
    (probably him)."""
    rows = [
        mp(1, name="Mao Monyvann", name_native="", aliases="", external_id="MAO-1"),
        mp(2, name="Mao Monivann", name_native="", aliases="", external_id="MAO-2"),
    ]
    return csv_bytes(rows)


def test_a_csv_dry_run_names_both_rows_decided_to_one_person(
    editor_api: Api, demo: dict[str, str]
) -> None:
    mao = person_id("Mao Monyvann")
    undecided = editor_api.post(
        "/imports?dry_run=true", data=two_mao_rows(), content_type="text/csv"
    )
    assert undecided.status_code == 200, undecided.json
    assert [m["status"] for m in undecided.json["matches"]] == ["matched", "probable"]

    before = fingerprint()
    same = quote(json.dumps({"row 3": mao}))
    dry = editor_api.post(
        f"/imports?dry_run=true&decisions={same}", data=two_mao_rows(), content_type="text/csv"
    )
    assert dry.status_code == 422, dry.json
    [problem] = dry.json["problems"]
    assert problem["row"] == 3
    assert "row 3 and row 2 would both write Mao Monyvann" in problem["message"]

    refused = editor_api.post(
        f"/imports?decisions={same}", data=two_mao_rows(), content_type="text/csv"
    )
    assert refused.status_code == 422
    assert "row 3 and row 2" in refused.json["errors"]["decisions.row 3"]
    assert fingerprint() == before

    apart = quote(json.dumps({"row 3": "new"}))
    fine = editor_api.post(
        f"/imports?dry_run=true&decisions={apart}", data=two_mao_rows(), content_type="text/csv"
    )
    assert fine.status_code == 200, fine.json


def test_the_preview_refuses_to_confirm_two_rows_decided_to_one_person(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = client_for(app, "editor")
    page = upload(editor, two_mao_rows())
    before = fingerprint()
    refused = editor.post(
        f"{page}/confirm",
        data={"csrf_token": csrf_token(editor, page), "decision.row 3": person_id("Mao Monyvann")},
    )
    assert refused.status_code == 422
    assert "row 3 and row 2 would both write Mao Monyvann" in refused.get_data(as_text=True)
    assert fingerprint() == before


def test_the_command_line_dry_run_names_both_rows(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "mao.csv"
    path.write_bytes(two_mao_rows())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({"row 3": person_id("Mao Monyvann")}))
    dry = app.test_cli_runner().invoke(
        args=["import-csv", str(path), "--dry-run", "--decisions", str(decisions)]
    )
    assert dry.exit_code == 1, dry.output
    assert "mao.csv: row 3, column name: row 3 and row 2 would both write" in dry.output


POPOLO = {
    "persons": [
        {"id": "p-exact", "name": "Mao Monyvann"},
        {"id": "p-typo", "name": "Mao Monivann"},
    ],
    "organizations": [],
    "memberships": [],
}


def test_a_popolo_dry_run_names_both_people_decided_to_one_person(
    editor_api: Api, demo: dict[str, str], tmp_path: Path, app: Flask
) -> None:
    mao = person_id("Mao Monyvann")
    dry = editor_api.post("/imports/popolo?dry_run=true", {"popolo": POPOLO})
    assert dry.status_code == 200, dry.json
    assert [p["status"] for p in dry.json["people"]] == ["matched", "probable"]

    before = fingerprint()
    decided = editor_api.post(
        "/imports/popolo?dry_run=true", {"popolo": POPOLO, "decisions": {"p-typo": mao}}
    )
    assert decided.status_code == 422, decided.json
    [problem] = decided.json["problems"]
    assert problem["column"] == "persons[1] (Mao Monivann)"
    assert "as persons[0] (Mao Monyvann) is" in problem["message"]
    refused = editor_api.post("/imports/popolo", {"popolo": POPOLO, "decisions": {"p-typo": mao}})
    assert refused.status_code == 422
    assert "persons[1] (Mao Monivann) is Mao Monyvann" in refused.json["errors"]["decisions.p-typo"]
    assert fingerprint() == before

    path = tmp_path / "mao.json"
    path.write_text(json.dumps(POPOLO))
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({"p-typo": mao}))
    cli = app.test_cli_runner().invoke(
        args=["import-popolo", str(path), "--dry-run", "--decisions", str(decisions)]
    )
    assert cli.exit_code == 1, cli.output
    assert "persons[1] (Mao Monivann): is Mao Monyvann" in cli.output
