"""The API's error messages in the language of ``Accept-Language``: the same JSON shape and the
same field names, only the words change."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.support.api import PREFIX, Api


def _post(api: Api, path: str, body: Any, language: str | None) -> TestResponse:
    headers = {"Authorization": f"Bearer {api.token}"}
    if language:
        headers["Accept-Language"] = language
    return api.client.post(PREFIX + path, json=body, headers=headers)


def test_a_refused_write_names_the_same_fields_in_french(
    editor_api: Api, demo: dict[str, str]
) -> None:
    path = f"/cases/{demo['Kem Sokha']}/status-events"
    english = _post(editor_api, path, {}, None)
    french = _post(editor_api, path, {}, "fr-FR,fr;q=0.9,en;q=0.5")

    assert english.status_code == french.status_code == 422
    assert english.get_json()["errors"] == {"status": "is required", "occurred_on": "is required"}
    assert french.get_json()["errors"] == {
        "status": "est obligatoire",
        "occurred_on": "est obligatoire",
    }
    assert "Accept-Language" in french.headers.get("Vary", "")


def test_field_rules_and_pydantic_types_are_worded_in_the_requested_language(
    editor_api: Api, demo: dict[str, str]
) -> None:
    path = f"/cases/{demo['Kem Sokha']}/status-events"
    body = {"status": "jailed", "occurred_on": "2017-13", "location": 12}
    for language, date_words, text_words in [
        ("fr", "utilisez YYYY, YYYY-MM ou YYYY-MM-DD", "chaîne de caractères"),
        ("km", "សូមប្រើ YYYY, YYYY-MM ឬ YYYY-MM-DD", "ខ្សែអក្សរ"),
        ("ar", "استخدم YYYY أو YYYY-MM أو YYYY-MM-DD", "سلسلة نصية"),
    ]:
        errors = _post(editor_api, path, body, language).get_json()["errors"]
        assert date_words in errors["occurred_on"], (language, errors)
        assert text_words in errors["location"], (language, errors)


def test_a_language_the_register_does_not_speak_answers_in_english(
    editor_api: Api, demo: dict[str, str]
) -> None:
    path = f"/cases/{demo['Kem Sokha']}/status-events"
    errors = _post(editor_api, path, {}, "de-DE,de").get_json()["errors"]
    assert errors == {"status": "is required", "occurred_on": "is required"}


def test_an_unknown_address_is_not_found_in_arabic(editor_api: Api) -> None:
    headers = {"Authorization": f"Bearer {editor_api.token}", "Accept-Language": "ar"}
    response = editor_api.client.get(PREFIX + "/no-such-thing", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "غير موجود"}
