"""Every invalid input is refused with the field named; malformed bodies are a 400."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, case_body

EVENT = {"status": "jailed", "occurred_on": "2017-09-03"}
CHARGE = {"offence": "Incitement", "max_sentence": {"kind": "term", "months": 24}}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "imprisoned"}, "status"),
        ({"status": None}, "status"),
        ({"occurred_on": "2017-13"}, "occurred_on"),
        ({"occurred_on": "2017-02-30"}, "occurred_on"),
        ({"occurred_on": "September 2017"}, "occurred_on"),
        ({"occurred_on": 2017}, "occurred_on"),
        ({"occurred_on": "2999-01"}, "occurred_on"),
        ({"about": "yes"}, "about"),
        ({"certainty": "sure"}, "certainty"),
        ({"location": "x" * 301}, "location"),
        ({"source_ids": ["no-such-source"]}, "source_ids"),
        ({"occured_on": "2017"}, "occured_on"),
    ],
)
def test_status_event_errors_name_the_field(
    editor_api: Api, demo: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    body = {**EVENT, **changes}
    response = editor_api.post(f"/cases/{demo['Kem Sokha']}/status-events", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert isinstance(response.get_json()["errors"][field], str)


def test_missing_fields_are_each_named(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.post(f"/cases/{demo['Kem Sokha']}/status-events", {})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "status": "is required",
        "occurred_on": "is required",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_sentence": {"kind": "term"}}, "max_sentence.months"),
        ({"max_sentence": {"kind": "term", "months": 0}}, "max_sentence.months"),
        ({"max_sentence": {"kind": "term", "months": 2401}}, "max_sentence.months"),
        ({"max_sentence": {"kind": "life", "months": 12}}, "max_sentence.months"),
        ({"max_sentence": {"kind": "decades", "months": 3}}, "max_sentence.kind"),
        ({"max_sentence": {"kind": "term", "months": "360"}}, "max_sentence.months"),
        ({"max_sentence": None}, "max_sentence"),
        ({"stage": "indicted"}, "stage"),
        ({"offence": "  "}, "offence"),
        ({"filed_on": "last year"}, "filed_on"),
        ({"sentence_imposed": {"kind": "term", "months": 12}}, "sentence_imposed"),
        ({"sentence_imposed": {"kind": "term", "months": -1}}, "sentence_imposed.months"),
        ({"in_absentia": 1}, "in_absentia"),
    ],
)
def test_charge_errors_name_the_field(
    editor_api: Api, demo: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    body = {**CHARGE, **changes}
    response = editor_api.post(f"/cases/{demo['Kem Sokha']}/charges", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"person": {"name_native": "សម"}}, "person.name"),
        ({"person": {"name": " "}}, "person.name"),
        ({"person": {"name": "Sam Rainsy", "nationality": "XX"}}, "person.nationality"),
        ({"person": {"name": "Sam Rainsy", "birth_date": "1949-03-10x"}}, "person.birth_date"),
        ({"person": {"name": "Sam Rainsy", "aliases": "Rainsy"}}, "person.aliases"),
        ({"person": None}, "person"),
        ({"person_id": "nobody"}, "person"),
        ({"country": "Cambodia"}, "country"),
        ({"country": None}, "country"),
        ({"title": ""}, "title"),
        ({"status": "released"}, "status"),
        ({"status_since": "soon"}, "status_since"),
        ({"status_since": "2999"}, "status_since"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"tags": "mp"}, "tags"),
        ({"role": "MP"}, "role"),
    ],
)
def test_case_create_errors_name_the_field(
    editor_api: Api, changes: dict[str, Any], field: str
) -> None:
    body = case_body(**changes)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
    response = editor_api.post("/cases", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    assert editor_api.get("/cases").get_json()["total"] == 0


def test_unknown_person_id_is_named(editor_api: Api) -> None:
    response = editor_api.post("/cases", case_body(person=None, person_id="nobody"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"person_id": "no such person"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"country": "XX"}, "country"),
        ({"tags": [1]}, "tags.0"),
        ({"closed_on": "2017-99-01"}, "closed_on"),
        ({"opened_on": "2018-01-01", "closed_on": "2017-01-01"}, "closed_on"),
        ({"status_since": "2017"}, "status_since"),
        ({"headline": "x"}, "headline"),
    ],
)
def test_case_patch_errors_name_the_field(
    editor_api: Api, demo: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = editor_api.patch(f"/cases/{demo['Kem Sokha']}", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/people", {"name": ""}, "name"),
        ("/people", {"name": "A", "nationality": "Khmer"}, "nationality"),
        ("/organizations", {"name": "CNRP"}, "kind"),
        ("/organizations", {"name": "CNRP", "kind": "party"}, "kind"),
        ("/organizations", {"name": "CNRP", "kind": "ngo", "seats": -1}, "seats"),
        ("/sources", {"publisher": "AFP"}, "title"),
        ("/sources", {"title": "A story", "url": "javascript:alert(1)"}, "url"),
        ("/sources", {"title": "A story", "url": "http://[not-an-address"}, "url"),
        ("/sources", {"title": "A story", "published_on": "2017-9"}, "published_on"),
    ],
)
def test_other_create_errors_name_the_field(
    editor_api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    response = editor_api.post(path, body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "imprisoned"}, "status"),
        ({"country": "ZZ"}, "country"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"sort": "-age"}, "sort"),
        ({"page": "0"}, "page"),
        ({"per_page": "lots"}, "per_page"),
    ],
)
def test_bad_list_filters_name_the_field(
    editor_api: Api, params: dict[str, str], field: str
) -> None:
    response = editor_api.get("/cases", **params)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_bad_people_paging_names_the_field(editor_api: Api) -> None:
    response = editor_api.get("/people", page="-1")
    assert response.status_code == 422
    assert "page" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"status": "jailed",', "application/json"),
        (b"status=jailed", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'["jailed"]', "application/json"),
        (b'"jailed"', "application/json"),
        (b"null", "application/json"),
    ],
)
def test_malformed_body_is_a_400_naming_the_body(
    editor_api: Api, demo: dict[str, str], data: bytes, content_type: str
) -> None:
    url = f"/cases/{demo['Kem Sokha']}/status-events"
    response = editor_api.post(url, data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json
    assert list(response.get_json()["errors"]) == ["body"]
    assert len(editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()["events"]) == 1
