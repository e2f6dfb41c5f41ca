"""The API asks before adding someone who may already be registered: 409 naming the field and
the candidates, unless the request says ``confirm_new_person: true``."""

from __future__ import annotations

from collections.abc import Callable

from monitor.extensions import db
from monitor.models import Case, Person
from tests.support.api import Api
from tests.support.web import count, open_case

NEW_CASE = {
    "country": "KH",
    "title": "Treason case",
    "status": "jailed",
    "status_since": "2017-09",
}


def kem_sokha() -> Person:
    return db.session.query(Person).filter_by(name="Kem Sokha").one()


def test_adding_a_registered_name_answers_409_with_the_candidates(
    editor_api: Api, demo: dict[str, str]
) -> None:
    before = count(Person)
    response = editor_api.post("/api/v1/people", {"name": "Sokha Kem"})
    assert response.status_code == 409
    body = response.get_json()
    assert "may already be in the register" in body["errors"]["name"]
    assert body["candidates"] == [
        {
            "id": kem_sokha().public_id,
            "name": "Kem Sokha",
            "name_native": "កឹម សុខា",
            "reasons": ["same name"],
        }
    ]
    assert count(Person) == before


def test_confirm_new_person_adds_them_anyway(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.post("/api/v1/people", {"name": "Kem Sokah", "confirm_new_person": True})
    assert response.status_code == 201
    assert response.get_json()["name"] == "Kem Sokah"


def test_opening_a_case_for_a_registered_native_name_answers_409(
    editor_api: Api, demo: dict[str, str]
) -> None:
    before = count(Case), count(Person)
    body = {**NEW_CASE, "person": {"name": "Kem S.", "name_native": "កឹម សុខា"}}
    response = editor_api.post("/api/v1/cases", body)
    assert response.status_code == 409
    answer = response.get_json()
    assert set(answer["errors"]) == {"person.name"}
    assert [c["id"] for c in answer["candidates"]] == [kem_sokha().public_id]
    assert answer["candidates"][0]["reasons"] == ["same name in the original script"]
    assert (count(Case), count(Person)) == before
    # The registered person, by the id the answer gave: no second Kem Sokha.
    chosen = editor_api.post(
        "/api/v1/cases", {**NEW_CASE, "person_id": answer["candidates"][0]["id"]}
    )
    assert chosen.status_code == 201
    assert count(Person) == before[1]
    confirmed = editor_api.post("/api/v1/cases", {**body, "confirm_new_person": True})
    assert confirmed.status_code == 201
    assert count(Person) == before[1] + 1


def test_a_hidden_person_is_never_named(api_as: Callable[[str, str], Api]) -> None:
    open_case("Hidden Informant", level="confidential")
    editor = api_as("editor", "public")
    response = editor.post("/api/v1/people", {"name": "Hidden Informant"})
    assert response.status_code == 201
    assert "candidates" not in response.get_json()
