"""``/api/v1/dossiers``: ask with a JSON body, poll, download — the same service, token auth."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator

from tests.support.api import Api
from tests.support.dossiers import Pdf, render_queued


def _conforms(document: dict[str, Any], name: str, instance: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(instance)]
    assert not errors, errors


def test_a_script_asks_polls_and_downloads(
    app: Flask, api_as: Callable[[str, str], Api], demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    api = api_as("viewer", "public")
    document = json.loads(api.get("/openapi.json").get_data(as_text=True))
    response = api.post("/dossiers", {"kind": "case", "case_id": demo["Kem Sokha"]})
    assert response.status_code == 202
    body = response.get_json()
    assert body["state"] == "queued"
    assert set(body) >= {"id", "state"}
    assert response.headers["Location"] == f"/api/v1/dossiers/{body['id']}"
    _conforms(document, "DossierAccepted", body)

    status = api.get(f"/dossiers/{body['id']}").get_json()
    assert status["state"] == "queued"
    assert status["progress"] == 0
    assert status["sha256"] is None
    early = api.get(f"/dossiers/{body['id']}/pdf")
    assert early.status_code == 409
    assert early.get_json() == {"error": "the dossier is queued, not ready"}

    render_queued(app, body["id"])
    status = api.get(f"/dossiers/{body['id']}").get_json()
    _conforms(document, "DossierStatus", status)
    assert status["state"] == "ready"
    assert status["progress"] == 100
    assert status["error"] is None
    assert status["pages"] >= 2
    assert status["audience"] == "public"
    pdf = api.get(status["pdf_url"])
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == status["sha256"]
    digest = base64.b64encode(bytes.fromhex(status["sha256"])).decode()
    assert pdf.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    assert "maximum 30 years" in read_pdf(pdf.data).words

    listed = api.get("/dossiers").get_json()
    _conforms(document, "DossierList", listed)
    assert [d["id"] for d in listed["items"]] == [body["id"]]


def test_organization_and_selection_bodies(
    app: Flask, api_as: Callable[[str, str], Api], demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    api = api_as("editor", "confidential")
    [cnrp] = [o for o in api.get("/organizations").get_json()["items"] if o["short_name"] == "CNRP"]
    made = api.post(
        "/dossiers",
        {"kind": "organization", "organization_id": cnrp["id"], "audience": "restricted"},
    )
    assert made.status_code == 202
    chosen = api.post("/dossiers", {"kind": "selection", "filters": {"status": "fled"}})
    assert chosen.status_code == 202
    for accepted in (made, chosen):
        render_queued(app, accepted.get_json()["id"])
    org_text = read_pdf(api.get(f"/dossiers/{made.get_json()['id']}/pdf").data).words
    assert "RESTRICTED" in org_text
    assert all(name in org_text for name in ("Kem Sokha", "Mu Sochua", "Mao Monyvann"))
    fled = read_pdf(api.get(f"/dossiers/{chosen.get_json()['id']}/pdf").data).words
    assert "Mu Sochua" in fled
    assert "Mao Monyvann" not in fled
    assert "Selection of 1 case" in fled


def test_invalid_bodies_name_each_field(
    app: Flask, api_as: Callable[[str, str], Api], demo: dict[str, str]
) -> None:
    api = api_as("viewer", "public")
    assert api.post("/dossiers", {"kind": "poster"}).get_json() == {
        "errors": {"kind": "Input should be 'case', 'organization' or 'selection'"}
    }
    response = api.post("/dossiers", {"kind": "case", "case_id": "nope", "audience": "restricted"})
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": {
            "case_id": "no such case",
            "audience": "restricted is above your clearance (public)",
        }
    }
    assert api.post("/dossiers", {"kind": "selection", "filters": {"status": "x"}}).get_json() == {
        "errors": {
            "filters.status": "Input should be 'at_liberty', 'jailed', 'house_arrest', 'fled', "
            "'disappeared' or 'deceased'"
        }
    }
    assert api.post("/dossiers", data="[]", content_type="application/json").status_code == 400


def test_someone_elses_dossier_is_not_found(
    app: Flask, api_as: Callable[[str, str], Api], demo: dict[str, str]
) -> None:
    owner = api_as("admin", "confidential")
    made = owner.post(
        "/dossiers", {"kind": "case", "case_id": demo["Kem Sokha"], "audience": "confidential"}
    ).get_json()
    render_queued(app, made["id"])
    other = api_as("viewer", "public")
    for path in (f"/dossiers/{made['id']}", f"/dossiers/{made['id']}/pdf"):
        response = other.get(path)
        assert response.status_code == 404
        assert response.get_json() == {"error": "not found"}
    assert other.get("/dossiers").get_json() == {"items": []}
    anonymous = Api(app.test_client())
    assert anonymous.get(f"/dossiers/{made['id']}").status_code == 401
