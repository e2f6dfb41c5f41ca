"""Import messages in the importer's language: a Popolo file's problems (through the API's
Accept-Language and the service), the command line's summary (``--language``), and the CSV
reading errors whose values are formatted before they are worded. Where a problem is in the
file (``persons[1]``) stays as the file says it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from flask import Flask, current_app

from monitor.presentation.translation import using_language
from monitor.services import imports
from tests.support.api import PREFIX, Api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "popolo"
CAMBODIA = FIXTURES / "cambodia-ep-popolo-v1.0.json"

# A person without a name, a membership naming an organization the file does not have.
BAD = {
    "persons": [{"id": "p1", "name": "Kem Sokha"}, {"id": "p2"}],
    "organizations": [{"id": "o1", "name": "Cambodia National Rescue Party"}],
    "memberships": [{"person_id": "p1", "organization_id": "o9"}],
}
WORDED = {
    "en": ('has no "name"', "which is not among the organizations"),
    "fr": ("n’a pas de «\u00a0name\u00a0»", "qui n’est pas parmi les organisations"),
    "km": ('គ្មាន "name" ទេ', "ដែលមិននៅក្នុងអង្គការទេ"),
}


def _problems(report: imports.PopoloReport) -> dict[str, str]:
    return {p.column: p.message for p in report.problems}


@pytest.mark.parametrize("language", ["fr", "km"])
def test_popolo_problems_in_the_language_in_force(app: Flask, language: str) -> None:
    data = json.dumps(BAD).encode()
    with using_language(language):
        report = imports.check_popolo(data, "cli", current_app.config["SETTINGS"])
    problems = _problems(report)
    nameless, unknown = WORDED[language]
    assert problems["persons[1]"] == nameless
    assert unknown in problems["memberships[0].organization_id"]
    assert "'o9'" in problems["memberships[0].organization_id"]
    assert not any(part in " ".join(problems.values()) for part in WORDED["en"])


def test_popolo_problems_in_the_language_given(app: Flask) -> None:
    data = json.dumps(BAD).encode()
    settings = current_app.config["SETTINGS"]
    french = _problems(imports.check_popolo(data, "cli", settings, language="fr"))
    english = _problems(imports.check_popolo(data, "cli", settings))
    assert french.keys() == english.keys()  # where each problem is: the file's words
    assert english["persons[1]"] == 'has no "name"'
    assert french["persons[1]"] == WORDED["fr"][0]


def test_popolo_file_level_problems_are_worded_too(app: Flask) -> None:
    settings = current_app.config["SETTINGS"]
    report = imports.check_popolo(b'{"persons": []', "cli", settings, language="fr")
    assert [p.column for p in report.problems] == ["the file"]
    assert report.problems[0].message.startswith("n’est pas du JSON\u00a0:")
    empty = imports.check_popolo(b'{"persons": []}', "cli", settings, language="km")
    assert _problems(empty) == {"persons": "ទទេ៖ ឯកសារគ្មាននរណាម្នាក់ត្រូវនាំចូលទេ"}


def test_the_api_words_popolo_problems_in_accept_language(editor_api: Api) -> None:
    headers = {"Authorization": f"Bearer {editor_api.token}", "Accept-Language": "fr"}
    for query in ("?dry_run=true", ""):
        response = editor_api.client.post(
            f"{PREFIX}/imports/popolo{query}", json={"popolo": BAD}, headers=headers
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        text = json.dumps(response.json, ensure_ascii=False)
        assert WORDED["fr"][0] in text
        assert WORDED["fr"][1] in text
        assert "persons[1]" in text
        assert "which is not among" not in text
        assert 'has no \\"name\\"' not in text


def test_the_command_line_summary_in_french(app: Flask, demo: dict[str, str]) -> None:
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import-popolo", str(CAMBODIA), "--dry-run", "--language", "fr"])
    assert dry.exit_code == 0, dry.output
    assert "personnes\u00a0:" in dry.output
    assert "(essai\u00a0: rien n’est écrit)" in dry.output
    assert "reconnu\u00a0: persons[7] (Kem Sokha) est Kem Sokha" in dry.output
    assert "même nom" in dry.output  # why they match, worded too
    assert "same name" not in dry.output
    assert "dry run" not in dry.output
    assert "people:" not in dry.output
    english = runner.invoke(args=["import-popolo", str(CAMBODIA), "--dry-run"])
    assert "(dry run: nothing written)" in english.output


def test_the_command_line_problems_and_refusal_in_french(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import-popolo", str(path), "--dry-run", "--language", "fr"]
    )
    assert result.exit_code == 1
    assert f"bad.json: persons[1]: {WORDED['fr'][0]}" in result.output
    assert "rien n’a été importé\u00a0: 2 problème(s)" in result.output
    unknown = app.test_cli_runner().invoke(args=["import-popolo", str(path), "--language", "xx"])
    assert unknown.exit_code == 1
    assert "--language: one of" in unknown.output


def test_csv_reading_errors_with_formatted_values_are_translated(app: Flask) -> None:
    settings = current_app.config["SETTINGS"]
    not_utf8 = imports.check(b"name,status\nK\xe9m,detained\n", None, settings, language="fr")
    message = not_utf8.problems[0].message
    assert message.startswith("Le fichier n’est pas en UTF-8 (octet 0xE9 en position 13)")
    assert "save it" not in message
    few = dataclasses.replace(settings, import_max_rows=1)
    rows = b"name,status\nKem Sokha,detained\nMu Sochua,detained\n"
    too_many = imports.check(rows, None, few, language="km")
    assert too_many.problems[0].message == ("ឯកសារមានលើសពី 1 ជួរ។ ទទួលបានយ៉ាងច្រើន 1 ក្នុងម្តង។")


def test_a_date_the_domain_refuses_is_worded_too(app: Flask) -> None:
    """PartialDate.parse refuses in English; the import says why in the importer's language."""
    born = {"persons": [{"id": "p1", "name": "Kem Sokha", "birth_date": "1953-02-30"}]}
    report = imports.check_popolo(
        json.dumps(born).encode(), "cli", current_app.config["SETTINGS"], language="fr"
    )
    assert _problems(report) == {
        "persons[0] (Kem Sokha).birth_date": "'1953-02-30': pas une date réelle du calendrier"
    }


def test_a_file_over_the_limit_is_refused_in_the_importers_language(
    app: Flask, editor_api: Api, tmp_path: Path
) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], import_max_bytes=1000)
    headers = {"Authorization": f"Bearer {editor_api.token}", "Accept-Language": "fr"}
    large = editor_api.client.post(
        f"{PREFIX}/imports", data=b"name,status\n" + b"x" * 2000, headers=headers
    )
    assert large.status_code == 413
    assert large.json == {"errors": {"file": "dépasse la limite de 1\u202f000 octets"}}
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"persons": [{"id": "p", "name": "x" * 2000}]}), encoding="utf-8")
    refused = app.test_cli_runner().invoke(args=["import-popolo", str(path), "--language", "km"])
    assert refused.exit_code == 1
    assert "ឯកសារធំជាងដែនកំណត់ 1,000 បៃ" in refused.output
