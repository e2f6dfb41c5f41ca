"""Adding someone who may already be registered: the person form and the new-case form list the
likely matches with links and ask, and nothing is merged or added until the user chooses."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Case, Person
from tests.support.accounts import client_for
from tests.support.web import count, open_case, submit, text

NEW_CASE = {
    "country": "KH",
    "title": "Treason case",
    "confidentiality": "public",
    "status": "jailed",
    "status_since": "2017-09",
}


def people_named(name: str) -> int:
    return db.session.query(Person).filter_by(name=name).count()


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ({"name": "Kem Sokha"}, "same name"),
        ({"name": "SOKHA,  Kém"}, "same name"),  # case, accents, spacing, word order
        ({"name": "Kem Sokah"}, "similar name"),
        ({"name": "K. Sokha", "name_native": "កឹមសុខា"}, "same name in the original script"),
        ({"name": "Sokha Kem Jr", "aliases": "Kem Sokha"}, "an alias matches"),
    ],
)
def test_the_person_form_warns_of_someone_registered(
    editor_client: FlaskClient, demo: dict[str, str], typed: dict[str, str], reason: str
) -> None:
    before = count(Person)
    response = submit(editor_client, "/people/new", typed)
    page = text(response)
    assert response.status_code == 422
    assert "This person may already be in the register" in page
    kem_sokha = db.session.query(Person).filter_by(name="Kem Sokha").one()
    assert f'href="/people/{kem_sokha.public_id}"' in page
    assert reason in page
    assert "add a new person anyway" in page
    assert count(Person) == before


def test_confirming_adds_the_new_person_anyway(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = submit(
        editor_client, "/people/new", {"name": "Kem Sokha", "confirm_new_person": "y"}, follow=True
    )
    assert "<bdi>Kem Sokha</bdi> added." in text(response)
    assert people_named("Kem Sokha") == 2


def test_a_different_name_is_added_without_asking(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = submit(editor_client, "/people/new", {"name": "Kem Monovithya"}, follow=True)
    assert "<bdi>Kem Monovithya</bdi> added." in text(response)


def test_someone_seen_only_through_a_case_above_the_clearance_is_not_revealed(
    app: Flask,
) -> None:
    open_case("Hidden Informant", level="confidential")
    editor = client_for(app, "editor", "public")
    response = submit(editor, "/people/new", {"name": "Hidden Informant"}, follow=True)
    page = text(response)
    assert "may already be in the register" not in page
    assert "<bdi>Hidden Informant</bdi> added." in page
    assert people_named("Hidden Informant") == 2


def test_the_new_case_form_offers_the_registered_person(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    cases_before = count(Case)
    response = submit(editor_client, "/cases/new", {**NEW_CASE, "person_name": "kem  sokha"})
    page = text(response)
    assert response.status_code == 422
    kem_sokha = db.session.query(Person).filter_by(name="Kem Sokha").one()
    assert f'href="/people/{kem_sokha.public_id}"' in page
    assert f'name="use_person" id="use-person-1" value="{kem_sokha.public_id}"' in page
    assert count(Case) == cases_before
    # "Use Kem Sokha": the case is opened for the registered person, the typed one dropped.
    chosen = submit(
        editor_client,
        "/cases/new",
        {**NEW_CASE, "person_name": "kem  sokha", "use_person": kem_sokha.public_id},
        follow=True,
    )
    assert "Case opened for Kem Sokha." in text(chosen)
    assert people_named("Kem Sokha") == 1
    assert len(db.session.get(Person, kem_sokha.id).cases) == 2  # type: ignore[union-attr]


def test_the_new_case_form_adds_a_new_person_when_told(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = submit(
        editor_client,
        "/cases/new",
        {**NEW_CASE, "person_name": "Kem Sokha", "use_person": "new"},
        follow=True,
    )
    assert "Case opened for Kem Sokha." in text(response)
    assert people_named("Kem Sokha") == 2


def test_other_mistakes_are_shown_before_the_question_of_who_it_is(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = submit(
        editor_client, "/cases/new", {**NEW_CASE, "person_name": "Kem Sokha", "country": "XX"}
    )
    page = text(response)
    assert response.status_code == 422
    assert "ISO 3166-1" in page
    assert "may already be in the register" not in page
