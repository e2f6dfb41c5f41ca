"""Token authentication, roles and clearance through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from monitor.domain import PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.models import ApiToken, Case, User
from monitor.services import charges, users
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import PersonInput, create_person
from tests.support.api import Api, case_body, issue_token


def _secret_case(level: str = "confidential") -> Case:
    """A case above a public clearance, for a person who has no other case."""
    person = create_person("test", PersonInput(name="Hidden Witness", name_native="សាក្សី"))
    case = create_case(
        "test",
        person,
        CaseInput(country="KH", title="Protected witness", confidentiality=level),
        StatusInput(status="house_arrest", occurred_on=PartialDate.parse("2018-01")),
    )
    charges.add_charge(
        "test",
        case,
        charges.ChargeInput(offence="Espionage", max_sentence=Sentence(SentenceKind.LIFE)),
    )
    db.session.commit()
    return case


def test_no_token_is_a_401_with_a_bearer_challenge(
    anonymous_api: Api, demo: dict[str, str]
) -> None:
    for path in ("/cases", f"/cases/{demo['Kem Sokha']}", "/people", "/organizations"):
        response = anonymous_api.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in response.get_json()["error"]
    assert anonymous_api.post("/cases", case_body()).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cm_not-a-real-token",
        "Bearer not-even-our-prefix",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "cm_token-without-scheme",
    ],
)
def test_bad_tokens_are_a_401(app: Flask, demo: dict[str, str], header: str) -> None:
    response = app.test_client().get("/api/v1/cases", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.get_json()) == {"error"}


def test_revoked_token_stops_working_at_once(app: Flask, demo: dict[str, str]) -> None:
    api = Api(app.test_client(), issue_token("editor", "confidential"))
    assert api.get("/cases").status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    users.revoke_token("test", token)
    db.session.commit()
    response = api.get("/cases")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_of_a_deactivated_user_is_refused(app: Flask, demo: dict[str, str]) -> None:
    api = Api(app.test_client(), issue_token("editor", "confidential"))
    user = db.session.scalars(select(User)).one()
    user.active = False
    db.session.commit()
    assert api.get("/cases").status_code == 401


def test_session_cookie_alone_is_not_enough(app: Flask, demo: dict[str, str]) -> None:
    token = issue_token("admin", "confidential")
    admin = db.session.scalars(select(User)).one()
    browser = app.test_client()
    with browser.session_transaction() as session:  # what a logged-in web session carries
        session["_user_id"] = admin.public_id
        session["_fresh"] = True
    assert browser.get("/api/v1/cases").status_code == 401
    assert browser.post("/api/v1/cases", json=case_body()).status_code == 401
    # The same browser with the token gets in: the cookie was the only thing missing.
    headers = {"Authorization": f"Bearer {token}"}
    assert browser.get("/api/v1/cases", headers=headers).status_code == 200


def test_logged_in_browser_gets_no_api_access(editor_client: FlaskClient) -> None:
    assert editor_client.get("/api/v1/cases").status_code == 401
    assert editor_client.post("/api/v1/people", json={"name": "Someone"}).status_code == 401


def test_tokens_are_stored_hashed(app: Flask) -> None:
    plain = issue_token("editor", "confidential")
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash != plain
    assert len(token.token_hash) == 64
    # Nowhere in the database: not in any column of any table.
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                assert all(plain not in str(value) for value in row), table.name
    assert token.prefix == plain[:10]  # only a recognisable prefix is kept


def test_token_use_is_recorded(app: Flask, editor_api: Api) -> None:
    assert editor_api.get("/cases").status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_viewer_reads_but_every_write_is_a_403(
    viewer_api: Api, demo: dict[str, str], api_as: Callable[[str, str], Api]
) -> None:
    kem = demo["Kem Sokha"]
    case = viewer_api.get(f"/cases/{kem}")
    assert case.status_code == 200
    charge_id = case.get_json()["charges"][0]["id"]
    writes = [
        ("post", "/cases", case_body()),
        ("patch", f"/cases/{kem}", {"title": "changed"}),
        ("post", f"/cases/{kem}/status-events", {"status": "at_liberty", "occurred_on": "2018"}),
        ("post", f"/cases/{kem}/charges", {"offence": "x", "max_sentence": {"kind": "life"}}),
        ("patch", f"/charges/{charge_id}", {"stage": "dropped"}),
        ("post", "/people", {"name": "Someone"}),
        ("post", "/organizations", {"name": "Party", "kind": "political_party"}),
        ("post", "/sources", {"title": "A report"}),
    ]
    for method, path, body in writes:
        response = getattr(viewer_api, method)(path, body)
        assert response.status_code == 403, (method, path)
        assert "error" in response.get_json()
    after = api_as("admin", "confidential").get(f"/cases/{kem}").get_json()
    assert after == case.get_json()


def test_ids_above_clearance_answer_exactly_like_unknown_ids(
    demo: dict[str, str], api_as: Callable[[str, str], Api]
) -> None:
    secret = _secret_case()
    person_id = secret.person.public_id
    charge_id = secret.charges[0].public_id
    viewer = api_as("viewer", "public")
    editor = api_as("editor", "restricted")
    checks = [
        (viewer, "get", "/cases/{}", None),
        (viewer, "get", "/people/{}", None),
        (editor, "get", "/cases/{}", None),
        (editor, "patch", "/cases/{}", {"title": "x"}),
        (editor, "post", "/cases/{}/status-events", {"status": "jailed", "occurred_on": "2018"}),
        (editor, "post", "/cases/{}/charges", {"offence": "x", "max_sentence": {"kind": "life"}}),
        (editor, "patch", "/charges/{}", {"stage": "dropped"}),
    ]
    for api, method, template, body in checks:
        hidden_id = {"/people/{}": person_id, "/charges/{}": charge_id}.get(
            template, secret.public_id
        )
        hidden = _call(api, method, template.format(hidden_id), body)
        unknown = _call(api, method, template.format("doesNotExist"), body)
        assert hidden.status_code == unknown.status_code == 404, template
        assert hidden.get_data() == unknown.get_data()
        assert hidden.headers["Content-Type"] == unknown.headers["Content-Type"]


def _call(api: Api, method: str, path: str, body: dict[str, Any] | None) -> TestResponse:
    return api.get(path) if method == "get" else getattr(api, method)(path, body)


def test_cases_above_clearance_are_absent_from_lists_search_and_counts(
    demo: dict[str, str], api_as: Callable[[str, str], Api]
) -> None:
    _secret_case("restricted")
    viewer = api_as("viewer", "public")
    cleared = api_as("viewer", "restricted")
    assert viewer.get("/cases").get_json()["total"] == 3
    assert cleared.get("/cases").get_json()["total"] == 4
    for q in ("witness", "សាក្សី"):
        assert viewer.get("/cases", q=q).get_json()["total"] == 0
        assert viewer.get("/people", q=q).get_json()["total"] == 0
        assert cleared.get("/cases", q=q).get_json()["total"] == 1
    assert viewer.get("/cases", status="house_arrest").get_json()["total"] == 0
    assert viewer.get("/cases", confidentiality="restricted").get_json()["total"] == 0
    assert viewer.get("/cases", offence="espionage").get_json()["total"] == 0
    assert viewer.get("/people").get_json()["total"] == 3


def test_nobody_files_a_case_above_their_own_clearance(
    api_as: Callable[[str, str], Api], demo: dict[str, str]
) -> None:
    editor = api_as("editor", "restricted")
    refused = editor.post("/cases", case_body(confidentiality="confidential"))
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"confidentiality"}
    assert editor.post("/cases", case_body(confidentiality="restricted")).status_code == 201
    patch = editor.patch(f"/cases/{demo['Kem Sokha']}", {"confidentiality": "confidential"})
    assert patch.status_code == 422
    assert set(patch.get_json()["errors"]) == {"confidentiality"}
    assert editor.get(f"/cases/{demo['Kem Sokha']}").get_json()["confidentiality"] == "public"


def test_openapi_document_needs_no_token(anonymous_api: Api) -> None:
    response = anonymous_api.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")
