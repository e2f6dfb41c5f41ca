"""Importing a parliament from EveryPolitician's Popolo file: members without a custody status,
people already in the register matched (asking where unsure), native-script names kept, a second
import a no-op, and the Popolo export carrying it all back out — on the Data page, through the
API and on the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from monitor.extensions import db
from monitor.models import AuditEntry, Case, Membership, Organization, Person, StatusEvent
from monitor.services import imports
from monitor.services.popolo import popolo_export
from tests.bulk.test_popolo import _errors
from tests.support.accounts import client_for, make_user
from tests.support.api import Api
from tests.support.web import csrf_token

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "popolo"
CAMBODIA = FIXTURES / "cambodia-ep-popolo-v1.0.json"
EP = json.loads(CAMBODIA.read_text(encoding="utf-8"))
MAO_MONIVANN = "507e1d40-d6b7-4c8b-8d9c-07546aa0f98a"  # spelt Mao Monyvann in the demo


def person(name: str) -> Person:
    return db.session.scalars(select(Person).where(Person.name == name)).one()


def register_counts() -> tuple[int, int, int, int, int]:
    """People, memberships, organizations, cases and status events."""
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Person, Membership, Organization, Case, StatusEvent)
    )


def upload_popolo(browser: FlaskClient, data: bytes, name: str = "ep-popolo-v1.0.json") -> str:
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(browser, "/data"), "file": FileStorage(io.BytesIO(data), name)}
    )
    response = browser.post(
        "/data/imports/popolo", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return str(response.headers["Location"])


def confirm(browser: FlaskClient, page: str, decisions: dict[str, str]) -> Any:
    form = {"csrf_token": csrf_token(browser, page)}
    form.update({f"decision.{key}": value for key, value in decisions.items()})
    return browser.post(f"{page}/confirm", data=form)


def test_the_data_page_imports_mps_as_members_matching_the_register(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = client_for(app, "editor")
    assert "Import a parliament from Popolo" in editor.get("/data").get_data(as_text=True)
    cases_before = db.session.scalar(select(func.count()).select_from(Case))
    page = upload_popolo(editor, CAMBODIA.read_bytes())
    preview = editor.get(page).get_data(as_text=True)
    assert "16</strong> people" in preview
    assert "Probably the same person — confirm or keep apart" in preview
    assert "Mao Monivann" in preview  # the one to decide…
    assert "Mao Monyvann" in preview  # …and who they may be
    assert 'id="popolo-matched"' in preview  # Kem Sokha and Mu Sochua, by name
    assert "ចម ប្រសិទ្ធ" in preview  # Cham Prasidh's Khmer name, among the new

    # Confirming without deciding writes nothing and asks again.
    before = register_counts()
    undecided = confirm(editor, page, {})
    assert undecided.status_code == 422
    assert "is probably someone in the register" in undecided.get_data(as_text=True)
    assert register_counts() == before

    mao = person("Mao Monyvann")
    done = confirm(editor, page, {MAO_MONIVANN: mao.public_id})
    assert done.status_code == 302
    assert "import-done" in editor.get(page).get_data(as_text=True)

    # No duplicates, no invented status: 13 new people, three completed, no new case or event.
    assert db.session.scalar(select(func.count()).select_from(Person)) == 3 + 13
    assert db.session.scalar(select(func.count()).select_from(Case)) == cases_before
    kem = person("Kem Sokha")
    assert kem.name_native == "កឹម សុខា"  # kept, not overwritten
    assert ("wikidata", "Q3194965") in {(i.scheme, i.identifier) for i in kem.identifiers}
    assert kem.birth_date is not None
    assert kem.birth_date.isoformat() == "1953-06-27"
    assert "Mao Monivann" in person("Mao Monyvann").aliases  # the differing name as an alias
    cham = person("Cham Prasidh")
    assert cham.name_native == "ចម ប្រសិទ្ធ"
    assert cham.name_native_lang == "km"
    assert cham.cases == []
    cnrp = db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()
    seat = next(m for m in cham.memberships)
    assert seat.organization.name == "Cambodian People's Party"
    assert (seat.role, seat.area, seat.start_on.year) == (
        "Member of Parliament",
        "Kep Province",
        2013,
    )
    assert seat.legislature is not None
    assert seat.legislature.seats == 123
    assert {m.person.name for m in cnrp.memberships} >= {"Kem Sokha", "Mu Sochua", "Yim Sovann"}

    # The same file again changes nothing.
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    counts = register_counts()
    again = upload_popolo(editor, CAMBODIA.read_bytes())
    second = editor.get(again).get_data(as_text=True)
    assert "<strong>0</strong> probably already registered, <strong>0</strong> new" in second
    assert confirm(editor, again, {}).status_code == 302
    assert register_counts() == counts
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_the_api_dry_run_lists_matches_and_applying_needs_decisions(
    editor_api: Api, demo: dict[str, str]
) -> None:
    dry = editor_api.post("/imports/popolo?dry_run=true", {"popolo": EP})
    assert dry.status_code == 200, dry.json
    people = {p["name"]: p for p in dry.json["people"]}
    assert people["Kem Sokha"]["status"] == "matched"
    assert people["Kem Sokha"]["person_id"] == person("Kem Sokha").public_id
    assert people["Mao Monivann"]["status"] == "probable"
    [candidate] = people["Mao Monivann"]["candidates"]
    assert candidate["id"] == person("Mao Monyvann").public_id
    assert people["Chea Sim"]["status"] == "new"

    before = register_counts()
    refused = editor_api.post("/imports/popolo", {"popolo": EP})
    assert refused.status_code == 422
    assert f"decisions.{MAO_MONIVANN}" in refused.json["errors"]
    assert register_counts() == before

    kept_apart = editor_api.post(
        "/imports/popolo", {"popolo": EP, "decisions": {MAO_MONIVANN: "new"}}
    )
    assert kept_apart.status_code == 201, kept_apart.json
    assert kept_apart.json["state"] == "done"
    assert kept_apart.json["summary"]["create"] == 14
    assert {p.name for p in db.session.scalars(select(Person))} >= {"Mao Monivann", "Mao Monyvann"}
    again = editor_api.post("/imports/popolo", {"popolo": EP})
    assert again.status_code == 201, again.json
    assert again.json["summary"]["create"] == again.json["summary"]["update"] == 0


def test_a_viewer_may_not_import(viewer_api: Api, demo: dict[str, str]) -> None:
    assert viewer_api.post("/imports/popolo", {"popolo": EP}).status_code == 403


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        ("not-json.json", "the file", "is not JSON"),
        ("not-popolo.json", "the file", "is not a Popolo file"),
        ("unknown-person.json", "memberships[1].person_id", "names 'p9', who is not among"),
        (
            "duplicate-identifiers.json",
            "persons[1] (Kem Sokha Junior).identifiers",
            "wikidata Q3194965 is also the identifier of persons[0] (Kem Sokha)",
        ),
        ("bad-values.json", "persons[0] (Kem Sokha).birth_date", "not a real calendar date"),
        ("bad-values.json", "persons[1] (Mu Sochua)", "has the id 'p1' of persons[0]"),
        ("bad-values.json", "organizations[0] (National Assembly).seats", "not a whole number"),
        ("bad-values.json", "memberships[0].area_id", "which is not among the areas"),
    ],
)
def test_a_bad_file_is_refused_naming_where(
    app: Flask, demo: dict[str, str], name: str, where: str, message: str
) -> None:
    before = register_counts()
    report = imports.check_popolo(
        (FIXTURES / "bad" / name).read_bytes(), "cli", current_app.config["SETTINGS"]
    )
    assert not report.ok
    assert any(p.column == where and message in p.message for p in report.problems), [
        str(p) for p in report.problems
    ]
    editor = client_for(app, "editor")
    page = editor.get(upload_popolo(editor, (FIXTURES / "bad" / name).read_bytes(), name))
    assert message.split("'", maxsplit=1)[0] in page.get_data(as_text=True)
    assert register_counts() == before


def test_the_command_line_asks_then_accepts_matches(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import-popolo", str(CAMBODIA), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "matched: persons[7] (Kem Sokha) is Kem Sokha" in dry.output
    assert (
        "probably the same person — confirm or keep apart: persons[11] (Mao Monivann)" in dry.output
    )
    assert "(dry run: nothing written)" in dry.output

    undecided = runner.invoke(args=["import-popolo", str(CAMBODIA)])
    assert undecided.exit_code == 1
    assert "--decisions FILE or --accept-matches" in undecided.output

    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({MAO_MONIVANN: "nobody-id"}))
    wrong = runner.invoke(args=["import-popolo", str(CAMBODIA), "--decisions", str(decisions)])
    assert wrong.exit_code == 1
    assert "not one of the people offered" in wrong.output

    accepted = runner.invoke(args=["import-popolo", str(CAMBODIA), "--accept-matches"])
    assert accepted.exit_code == 0, accepted.output
    assert "16 people: 13 new, 3 completed" in accepted.output
    again = runner.invoke(args=["import-popolo", str(CAMBODIA)])
    assert again.exit_code == 0, again.output
    assert (
        "0 new, 0 completed, 16 unchanged; 0 new organizations, 0 new memberships" in again.output
    )


def test_an_everypolitician_file_survives_the_round_trip(app: Flask) -> None:
    """Imported into an empty register and exported again: every person, identifier,
    membership (with dates and party) and native-script name."""
    result = app.test_cli_runner().invoke(args=["import-popolo", str(CAMBODIA)])
    assert result.exit_code == 0, result.output
    export = popolo_export(make_user("viewer", "public"))
    assert _errors(export) == []

    by_id = {o["id"]: o["name"] for o in export["organizations"]}
    exported = {p["name"]: p for p in export["persons"]}
    assert set(exported) == {p["name"] for p in EP["persons"]}
    for source in EP["persons"]:
        out = exported[source["name"]]
        pairs = {(i["scheme"], i["identifier"]) for i in source["identifiers"]}
        assert {(i["scheme"], i["identifier"]) for i in out["identifiers"]} == pairs
        khmer = [o for o in source.get("other_names", []) if o.get("lang") == "km"]
        if khmer and khmer[0]["name"] != "pen sovan":  # a "Khmer" name in Latin letters
            assert {"lang": "km", "name": khmer[0]["name"], "note": "native script"} in out[
                "other_names"
            ]
        assert out.get("birth_date") == source.get("birth_date")
        assert out.get("death_date") == source.get("death_date")
        assert out.get("image") == source.get("image")
    source_names = {p["id"]: p["name"] for p in EP["persons"]}
    source_orgs = {o["id"]: o["name"] for o in EP["organizations"]}
    areas = {a["id"]: a["name"] for a in EP["areas"]}
    wanted = {
        (
            source_names[m["person_id"]],
            source_orgs[m["organization_id"]],
            source_orgs[m["on_behalf_of_id"]],
            areas[m["area_id"]],
            "2013",
        )
        for m in EP["memberships"]
    }
    names = {p["id"]: p["name"] for p in export["persons"]}
    out_areas = {a["id"]: a["name"] for a in export["areas"]}
    got = {
        (
            names[m["person_id"]],
            by_id[m["organization_id"]],
            by_id[m["on_behalf_of_id"]],
            out_areas[m["area_id"]],
            m["start_date"],
        )
        for m in export["memberships"]
    }
    assert got == wanted
    assert all(m["role"] == "member" for m in export["memberships"])
    legislature = next(o for o in export["organizations"] if o["name"] == "National Assembly")
    assert legislature["seats"] == 123
    assert legislature["identifiers"] == [{"identifier": "Q1234896", "scheme": "wikidata"}]

    # The export imports back onto the same people: nothing changes.
    path = Path(current_app.instance_path) / "round-trip.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    counts = register_counts()
    back = app.test_cli_runner().invoke(args=["import-popolo", str(path)])
    assert back.exit_code == 0, back.output
    assert "0 new, 0 completed, 16 unchanged" in back.output
    assert register_counts() == counts
