"""Each disagreement the issue found between the OpenAPI document and the server, settled: the
document states the rule and the server applies it, or the server accepts what it documents."""

from __future__ import annotations

import io
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from monitor.services import dossiers
from tests.support.api import Api, case_body
from tests.support.imports import csv_bytes, mp


@pytest.fixture
def document(anonymous_api: Api) -> dict[str, Any]:
    """The served document."""
    parsed: dict[str, Any] = anonymous_api.get("/openapi.json").get_json()
    return parsed


def _valid(document: dict[str, Any], name: str, instance: Any) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return bool(Draft202012Validator(schema).is_valid(instance))


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][f"/api/v1{path}"][method]
    return found


@pytest.mark.parametrize("path", ["/cases", "/people"])
def test_a_page_size_above_100_is_refused_as_documented(
    document: dict[str, Any], editor_api: Api, path: str
) -> None:
    parameters = _operation(document, path, "get")["parameters"]
    [per_page] = [p for p in parameters if p["name"] == "per_page"]
    assert per_page["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert editor_api.get(path, per_page=100).status_code == 200
    refused = editor_api.get(path, per_page=101)
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["per_page"]


@pytest.mark.parametrize(
    "refusal",
    [
        ("PersonCreate", "/people", {"name": ""}, "name"),
        ("PersonCreate", "/people", {"name": "   "}, "name"),
        ("SourceCreate", "/sources", {"title": ""}, "title"),
        ("SubscriptionCreate", "/subscriptions", {"email": ""}, "email"),
        ("CaseCreate", "/cases", case_body(title=""), "title"),
        ("CaseCreate", "/cases", case_body(person_id="abc"), "person"),
        ("CaseCreate", "/cases", case_body(role="spokesperson"), "role"),
        (
            "ChargeCreate",
            "/cases/{kem}/charges",
            {"offence": "Treason", "max_sentence": {"kind": "life", "months": 12}},
            "max_sentence.months",
        ),
        (
            "ChargeCreate",
            "/cases/{kem}/charges",
            {"offence": "Treason", "max_sentence": {"kind": "term"}},
            "max_sentence.months",
        ),
        (
            "ChargeCreate",
            "/cases/{kem}/charges",
            {
                "offence": "Treason",
                "max_sentence": {"kind": "death"},
                "sentence_imposed": {"kind": "life"},
            },
            "sentence_imposed",
        ),
        ("DossierCreate", "/dossiers", {"kind": "case"}, "case_id"),
        ("DossierCreate", "/dossiers", {"kind": "case", "case_id": None}, "case_id"),
        ("DossierCreate", "/dossiers", {"kind": "organization"}, "organization_id"),
        (
            "SubscriptionCreate",
            "/subscriptions",
            {"email": "a@example.org", "scope": "country", "scope_id": "ZZ"},
            "scope_id",
        ),
        (
            "StatusEventCreate",
            "/cases/{kem}/status-events",
            {"status": "fled", "occurred_on": "2017-02-30"},
            "occurred_on",
        ),
    ],
)
def test_what_the_document_refuses_the_server_refuses(
    document: dict[str, Any],
    editor_api: Api,
    demo: dict[str, str],
    refusal: tuple[str, str, dict[str, Any], str],
) -> None:
    schema, path, body, field = refusal
    assert not _valid(document, schema, body)
    response = editor_api.post(path.format(kem=demo["Kem Sokha"]), body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_patch_fields_that_cannot_be_emptied_are_not_nullable(
    document: dict[str, Any], editor_api: Api, demo: dict[str, str]
) -> None:
    kem = demo["Kem Sokha"]
    assert not _valid(document, "CasePatch", {"country": None})
    refused = editor_api.patch(f"/cases/{kem}", {"country": None, "title": None})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"country", "title"}
    # What may be cleared is nullable, and cleared.
    assert _valid(document, "CasePatch", {"summary": None, "closed_on": None})
    cleared = editor_api.patch(f"/cases/{kem}", {"summary": None, "country": "kh"})
    assert cleared.status_code == 200
    assert cleared.get_json()["summary"] is None
    assert cleared.get_json()["country"] == "KH"


def test_what_the_document_accepts_the_server_accepts(
    document: dict[str, Any], editor_api: Api, demo: dict[str, str]
) -> None:
    kem = demo["Kem Sokha"]
    charge = {"offence": "Treason", "max_sentence": {"kind": "term", "months": 360.0}}
    assert _valid(document, "ChargeCreate", charge)  # 360.0 is a JSON Schema integer
    assert editor_api.post(f"/cases/{kem}/charges", charge).status_code == 201
    convicted = {
        "offence": "Treason",
        "max_sentence": {"kind": "death"},
        "stage": "convicted",
        "sentence_imposed": {"kind": "term", "months": 324},
    }
    assert _valid(document, "ChargeCreate", convicted)
    assert editor_api.post(f"/cases/{kem}/charges", convicted).status_code == 201
    org = {"name": "CNRP", "kind": "political_party", "country": "kh", "seats": 55}
    assert _valid(document, "OrganizationCreate", org)
    assert editor_api.post("/organizations", org).status_code == 201


def test_import_answers_are_documented_with_their_bodies(
    document: dict[str, Any], editor_api: Api, demo: dict[str, str]
) -> None:
    operation = _operation(document, "/imports", "post")
    assert set(operation["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
    assert {"200", "201", "202", "413", "422"} <= set(operation["responses"])
    data = csv_bytes([mp(1)])
    preview = editor_api.post("/imports?dry_run=true", data=data, content_type="text/csv")
    assert preview.status_code == 200
    assert _valid(document, "ImportStatus", preview.get_json())
    uploaded = editor_api.post(
        "/imports?dry_run=true", data={"file": (io.BytesIO(data), "cnrp.csv", "text/csv")}
    )
    assert uploaded.status_code == 200
    assert uploaded.get_json()["rows"] == 1
    empty = editor_api.post("/imports?dry_run=true", data=b"", content_type="text/csv")
    assert empty.status_code == 422
    assert _valid(document, "ImportRefused", empty.get_json())
    not_a_flag = editor_api.post("/imports?dry_run=yes", data=data, content_type="text/csv")
    assert not_a_flag.status_code == 422
    assert list(not_a_flag.get_json()["errors"]) == ["dry_run"]


def test_downloads_and_exports_document_their_content_types(document: dict[str, Any]) -> None:
    pdf = _operation(document, "/dossiers/{dossier_id}/pdf", "get")["responses"]
    assert set(pdf["200"]["content"]) == {"application/pdf"}
    assert set(pdf["409"]["content"]) == {"application/json"}
    for path in ("/exports/cases.csv", "/exports/template.csv"):
        assert set(_operation(document, path, "get")["responses"]["200"]["content"]) == {"text/csv"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "414", "429"} <= codes, (method, path)
            if not path.endswith("/openapi.json"):
                assert {"401", "503"} <= codes, (method, path)
            if method != "get":
                assert "413" in codes or method == "delete", (method, path)


def test_a_sixth_dossier_in_preparation_is_a_429(viewer_api: Api, demo: dict[str, str]) -> None:
    body = {"kind": "case", "case_id": demo["Kem Sokha"]}
    for _ in range(dossiers.MAX_ACTIVE_PER_USER):
        assert viewer_api.post("/dossiers", body).status_code == 202
    refused = viewer_api.post("/dossiers", body)
    assert refused.status_code == 429
    # A minute, as the service asks; Flask-Limiter rewrites the header as whole seconds from now.
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert "being prepared" in refused.get_json()["error"]
