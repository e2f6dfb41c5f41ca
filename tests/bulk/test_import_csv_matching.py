"""The CSV import matches people as the Popolo import does, never duplicating them silently: a
row's person already in the register (by identifier, else by name, original-script name or
alias) is matched and the row goes to them; a similar name is only probably them, and nothing is
imported until the importer decides (the web form's radios, the API's ``decisions``, the command
line's ``--decisions FILE`` or ``--accept-matches``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Case, Person
from monitor.services.people import set_person_identifiers
from tests.bulk.test_web_api import confirm, upload
from tests.support.accounts import client_for
from tests.support.api import Api
from tests.support.imports import csv_bytes, fingerprint, mp
from tests.support.web import csrf_token, open_case


def people_named(name: str) -> list[Person]:
    db.session.expire_all()
    return db.session.query(Person).filter_by(name=name).all()


def kem_sokha() -> Person:
    [person] = people_named("Kem Sokha")
    return person


def case_of(external_id: str) -> Case:
    db.session.expire_all()
    return db.session.query(Case).filter_by(external_id=external_id).one()


def sokah(**cells: str) -> bytes:
    """One row for "Kem Sokah", a misspelling of a registered name."""
    row = mp(1, name="Kem Sokah", name_native="", aliases="", external_id="NEW-SOKAH", **cells)
    return csv_bytes([row])


def test_the_template_matches_kem_sokha_and_adds_the_case_to_him(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = client_for(app, "editor")
    template = editor.get("/data/template.csv").get_data()
    page_path = upload(editor, template, "import-template.csv")
    page = editor.get(page_path).get_data(as_text=True)
    registered = kem_sokha()
    assert "1 row names people already in the register" in page
    assert (
        "<bdi>Kem Sokha</bdi> is already in the register as "
        f'<a href="/people/{registered.public_id}">' in page
    )
    assert "Probably the same person" not in page

    done = confirm(editor, page_path)
    assert "import-done" in done
    assert [p.id for p in people_named("Kem Sokha")] == [registered.id]  # no second Kem Sokha
    cases = db.session.query(Case).filter_by(person_id=registered.id).all()
    assert len(cases) == 2  # the demo's case and the template's


def test_a_similar_name_waits_for_a_decision_on_the_web(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor")
    page_path = upload(editor, sokah())
    page = editor.get(page_path).get_data(as_text=True)
    registered = kem_sokha()
    assert "Probably the same person — confirm or keep apart" in page
    assert f'name="decision.row 2" value="{registered.public_id}"' in page
    assert 'name="decision.row 2" value="new"' in page
    assert "similar name" in page

    before = fingerprint()
    refused = editor.post(
        f"{page_path}/confirm", data={"csrf_token": csrf_token(editor, page_path)}
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "row 2 (Kem Sokah) is probably someone in the register" in text
    assert fingerprint() == before

    decided = editor.post(
        f"{page_path}/confirm",
        data={"csrf_token": csrf_token(editor, page_path), "decision.row 2": registered.public_id},
    )
    assert decided.status_code == 302
    assert "import-done" in editor.get(page_path).get_data(as_text=True)
    assert case_of("NEW-SOKAH").person_id == registered.id
    assert people_named("Kem Sokah") == []
    # The file's differing name is kept as an alias; the register's name stays.
    assert "Kem Sokah" in kem_sokha().aliases


def test_a_similar_name_waits_for_a_decision_in_the_api(
    editor_api: Api, demo: dict[str, str]
) -> None:
    registered = kem_sokha()
    dry = editor_api.post("/imports?dry_run=true", data=sokah(), content_type="text/csv")
    assert dry.status_code == 200, dry.json
    assert dry.json is not None
    [match] = dry.json["matches"]
    assert (match["key"], match["status"]) == ("row 2", "probable")
    assert [c["id"] for c in match["candidates"]] == [registered.public_id]

    before = fingerprint()
    refused = editor_api.post("/imports", data=sokah(), content_type="text/csv")
    assert refused.status_code == 422
    assert refused.json is not None
    assert "row 2 (Kem Sokah)" in refused.json["errors"]["decisions.row 2"]
    assert fingerprint() == before

    wrong = json.dumps({"row 2": "nobody"})
    refused = editor_api.post(
        f"/imports?decisions={quote(wrong)}", data=sokah(), content_type="text/csv"
    )
    assert refused.status_code == 422
    assert "decisions.row 2" in (refused.json or {})["errors"]

    kept_apart = json.dumps({"row 2": "new"})
    done = editor_api.post(
        f"/imports?decisions={quote(kept_apart)}", data=sokah(), content_type="text/csv"
    )
    assert done.status_code == 201, done.json
    [new_person] = people_named("Kem Sokah")
    assert case_of("NEW-SOKAH").person_id == new_person.id
    assert "Kem Sokah" not in kem_sokha().aliases


def test_the_command_line_refuses_undecided_matches_with_a_hint(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "sokah.csv"
    path.write_bytes(sokah())
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import-csv", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "probably the same person — confirm or keep apart: row 2 Kem Sokah" in dry.output
    assert "1 probable matches to decide" in dry.output

    before = fingerprint()
    refused = runner.invoke(args=["import-csv", str(path)])
    assert refused.exit_code == 1
    assert "decisions.row 2: row 2 (Kem Sokah) is probably someone" in refused.output
    assert "--decisions FILE or --accept-matches" in refused.output
    assert fingerprint() == before

    accepted = runner.invoke(args=["import-csv", str(path), "--accept-matches"])
    assert accepted.exit_code == 0, accepted.output
    assert case_of("NEW-SOKAH").person_id == kem_sokha().id


def test_the_command_line_takes_a_decisions_file(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "sokah.csv"
    path.write_bytes(sokah())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({"row 2": "new"}))
    result = app.test_cli_runner().invoke(
        args=["import-csv", str(path), "--decisions", str(decisions)]
    )
    assert result.exit_code == 0, result.output
    [new_person] = people_named("Kem Sokah")
    assert case_of("NEW-SOKAH").person_id == new_person.id


def test_an_identifier_wins_over_the_name(
    app: Flask, demo: dict[str, str], editor_client: FlaskClient
) -> None:
    case_id = open_case("Someone Else")
    other = db.session.query(Case).filter_by(public_id=case_id).one().person
    set_person_identifiers("command line", other, [("wikidata", "Q123456")])
    db.session.commit()
    # Named as Kem Sokha (a registered name), identified as Someone Else.
    row = mp(1, name="Kem Sokha", name_native="", aliases="", identifiers="wikidata:Q123456")
    page_path = upload(editor_client, csv_bytes([row]))
    assert "Probably the same person" not in editor_client.get(page_path).get_data(as_text=True)
    confirm(editor_client, page_path)
    assert case_of("CNRP-01").person_id == other.id
    assert len(people_named("Kem Sokha")) == 1


def test_someone_above_the_importers_clearance_is_never_offered(
    app: Flask, api_as: Callable[[str, str], Api]
) -> None:
    open_case("Hidden Informant", level="confidential")
    api = api_as("editor", "public")
    for name in ("Hidden Informant", "Hidden Informont"):
        row = mp(1, name=name, name_native="", aliases="", organization="", role="")
        dry = api.post("/imports?dry_run=true", data=csv_bytes([row]), content_type="text/csv")
        assert dry.status_code == 200, dry.json
        assert dry.json is not None
        [match] = dry.json["matches"]
        assert (match["status"], match["candidates"], match["person_id"]) == ("new", [], None)
        assert dry.json["warnings"] == []
