"""The OpenAPI document lists every endpoint, and what the API answers matches it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from monitor.api.schemas import CaseCreate, StatusEventCreate
from tests.support.api import Api, case_body


@pytest.fixture
def document(anonymous_api: Api) -> dict[str, Any]:
    """The served document, parsed from its raw bytes."""
    response = anonymous_api.get("/openapi.json")
    assert response.status_code == 200
    parsed: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return parsed


def _conforms(document: dict[str, Any], schema_name: str, instance: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    errors = list(Draft202012Validator(schema).iter_errors(instance))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_every_api_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    routes = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented
    for required in [
        ("/api/v1/cases", "get"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/{case_id}", "get"),
        ("/api/v1/cases/{case_id}", "patch"),
        ("/api/v1/cases/{case_id}/status-events", "post"),
        ("/api/v1/cases/{case_id}/charges", "post"),
        ("/api/v1/charges/{charge_id}", "patch"),
        ("/api/v1/people", "get"),
        ("/api/v1/people", "post"),
        ("/api/v1/people/{person_id}", "get"),
        ("/api/v1/organizations", "get"),
        ("/api/v1/organizations", "post"),
        ("/api/v1/organizations/{organization_id}", "get"),
        ("/api/v1/sources", "post"),
        ("/api/v1/openapi.json", "get"),
    ]:
        assert required in documented


def test_bearer_security_applies_everywhere_but_the_document(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    [(name, scheme)] = schemes.items()
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert document["security"] == [{name: []}]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.endswith("/openapi.json"):
                assert operation["security"] == []
            else:
                assert "security" not in operation  # inherits the bearer requirement
                assert "401" in operation["responses"]


def test_component_schemas_are_valid_json_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("CaseCreate", "StatusEventCreate", "ChargeCreate", "Case", "CaseList"):
        assert name in schemas
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    Draft202012Validator.check_schema({"$defs": schemas})


def test_request_schemas_are_the_pydantic_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["CaseCreate"]["properties"]) == set(CaseCreate.model_fields)
    assert set(schemas["StatusEventCreate"]["required"]) == {"status", "occurred_on"}
    operation = document["paths"]["/api/v1/cases/{case_id}/status-events"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StatusEventCreate"
    }
    assert set(StatusEventCreate.model_fields) == set(schemas["StatusEventCreate"]["properties"])
    # The documented examples of the issue are valid requests.
    _conforms(document, "CaseCreate", case_body())
    _conforms(
        document,
        "StatusEventCreate",
        {
            "status": "jailed",
            "occurred_on": "2017-09-03",
            "about": False,
            "location": "Phnom Penh",
            "description": "Arrested at night.",
            "certainty": "confirmed",
            "source_ids": [],
        },
    )
    _conforms(
        document,
        "ChargeCreate",
        {
            "offence": "Treason",
            "legal_basis": "Criminal Code, art. 443",
            "max_sentence": {"kind": "term", "months": 360},
            "stage": "charged",
        },
    )


def test_answers_match_the_documented_response_schemas(
    document: dict[str, Any], editor_api: Api, demo: dict[str, str]
) -> None:
    kem = demo["Kem Sokha"]
    _conforms(document, "CaseList", editor_api.get("/cases").get_json())
    _conforms(document, "Case", editor_api.get(f"/cases/{kem}").get_json())
    created = editor_api.post("/cases", case_body())
    _conforms(document, "Case", created.get_json())
    event = editor_api.post(
        f"{created.headers['Location']}/status-events", {"status": "jailed", "occurred_on": "2016"}
    )
    _conforms(document, "RecordedStatusEvent", event.get_json())
    charge = editor_api.post(
        f"/cases/{kem}/charges", {"offence": "Incitement", "max_sentence": {"kind": "unknown"}}
    )
    _conforms(document, "Charge", charge.get_json())
    people = editor_api.get("/people").get_json()
    _conforms(document, "PersonList", people)
    _conforms(document, "Person", editor_api.get(f"/people/{people['items'][0]['id']}").get_json())
    orgs = editor_api.get("/organizations").get_json()
    _conforms(document, "OrganizationList", orgs)
    detail = editor_api.get(f"/organizations/{orgs['items'][0]['id']}").get_json()
    _conforms(document, "OrganizationDetail", detail)
    source = editor_api.post("/sources", {"title": "A report", "published_on": "2017"})
    _conforms(document, "Source", source.get_json())
    _conforms(document, "FieldErrors", editor_api.post("/sources", {}).get_json())
    _conforms(document, "Error", editor_api.get("/cases/nope").get_json())
