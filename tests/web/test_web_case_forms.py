"""Opening and editing cases and charges through the forms; nothing half-saved on errors."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import AuditEntry, Case, Charge, Membership, Organization, Person
from tests.support.accounts import client_for
from tests.support.web import count, submit, text

NEW_CASE = {
    "person_name": "Sam Rainsy",
    "person_name_native": "សម រង្ស៊ី",
    "person_aliases": "Rainsy Sam, Sam Rangsi",
    "country": "kh",
    "title": "Sam Rainsy: exile",
    "summary": "Former party president.",
    "confidentiality": "public",
    "tags": "cnrp, exile",
    "status": "fled",
    "status_since": "2015-11",
}


def rows() -> tuple[int, int, int, int, int]:
    """Row counts a half-saved form would change."""
    return count(Person), count(Case), count(Membership), count(Charge), count(AuditEntry)


def test_new_case_with_a_new_person_and_a_membership(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    cnrp = db.session.query(Organization).one()
    response = submit(
        editor_client,
        "/cases/new",
        {**NEW_CASE, "organization": cnrp.public_id, "role": "president"},
        follow=True,
    )
    assert response.status_code == 200
    page = text(response)
    assert "Case opened for Sam Rainsy." in page
    assert "សម រង្ស៊ី" in page
    assert "Rainsy Sam, Sam Rangsi" in page
    assert "since <strong>November 2015</strong>" in page
    assert "president" in page
    case = db.session.query(Case).filter_by(title="Sam Rainsy: exile").one()
    assert case.country == "KH"
    assert case.tags == ["cnrp", "exile"]
    assert "Sam Rainsy" in text(editor_client.get("/cases?q=rangsi"))


def test_new_case_for_an_existing_person(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    person = db.session.query(Person).filter_by(name="Mu Sochua").one()
    form = text(editor_client.get(f"/cases/new?person={person.public_id}"))
    assert f'<option selected value="{person.public_id}">' in form
    people_before = count(Person)
    response = submit(
        editor_client,
        "/cases/new",
        {
            "person": person.public_id,
            "country": "US",
            "title": "Mu Sochua: barred from returning",
            "confidentiality": "public",
            "status": "fled",
            "status_since": "2019-11-07",
        },
    )
    assert response.status_code == 302
    assert count(Person) == people_before
    assert len(db.session.query(Case).filter_by(person_id=person.id).all()) == 2


def test_new_case_errors_save_neither_person_nor_case(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    before = rows()
    cases = [
        ({"country": "XX"}, "not an ISO 3166-1 two-letter country code"),
        ({"status_since": "2999"}, "cannot be in the future"),
        ({"status_since": "soon"}, "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"person_name": ""}, "choose an existing person or enter a new person"),
        ({"title": ""}, "This field is required."),
        ({"status": "imprisoned"}, "Not a valid choice"),
        ({"person_name_native": "x" * 201}, "longer than 200 characters"),
    ]
    for changes, message in cases:
        response = submit(editor_client, "/cases/new", {**NEW_CASE, **changes})
        assert response.status_code == 422, changes
        assert message in text(response), (changes, message)
        assert rows() == before, changes


def test_role_without_an_organization_is_refused(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    # The same rule as the API's (one open-case use case): a role typed without choosing an
    # organization was silently dropped before.
    before = rows()
    response = submit(editor_client, "/cases/new", {**NEW_CASE, "role": "president"})
    assert response.status_code == 422
    assert "needs an organization" in text(response)
    assert rows() == before


def test_confidentiality_above_clearance_is_refused(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor", "restricted")
    form = text(editor.get("/cases/new"))
    assert 'value="restricted"' in form
    assert 'value="confidential"' not in form
    before = rows()
    response = submit(editor, "/cases/new", {**NEW_CASE, "confidentiality": "confidential"})
    assert response.status_code == 422
    assert rows() == before
    case_id = demo["Kem Sokha"]
    edit = submit(
        editor,
        f"/cases/{case_id}/edit",
        {"country": "KH", "title": "Kem Sokha", "confidentiality": "confidential"},
    )
    assert edit.status_code == 422
    db.session.expire_all()
    assert db.session.query(Case).filter_by(public_id=case_id).one().confidentiality == "public"


def test_edit_case(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    case_id = demo["Kem Sokha"]
    form = text(editor_client.get(f"/cases/{case_id}/edit"))
    assert 'value="Kem Sokha: jailed on treason charges"' in form
    response = submit(
        editor_client,
        f"/cases/{case_id}/edit",
        {
            "country": "KH",
            "title": "Kem Sokha: treason case",
            "summary": "Arrested at night.",
            "confidentiality": "restricted",
            "tags": "treason",
        },
        follow=True,
    )
    page = text(response)
    assert "Case updated." in page
    assert "Kem Sokha: treason case" in page
    assert "Arrested at night." in page
    assert "Case edited" in page  # the History, in plain words
    assert badge_of_level(page) == "restricted"


def badge_of_level(page: str) -> str:
    """The confidentiality shown on a case page."""
    marker = '<dt>Confidentiality</dt><dd><span class="level level-'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_add_charge_with_a_term_in_years(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    case_id = demo["Mu Sochua"]
    response = submit(
        editor_client,
        f"/cases/{case_id}/charges/new",
        {
            "offence": "Incitement",
            "legal_basis": "Criminal Code, art. 495",
            "max_sentence_kind": "term",
            "max_sentence_years": "2",
            "max_sentence_months": "6",
            "stage": "convicted",
            "filed_on": "2018-05",
            "sentence_kind": "term",
            "sentence_years": "2",
            "sentenced_on": "2021-03-01",
            "in_absentia": "y",
        },
        follow=True,
    )
    page = text(response)
    assert "Charge added: Incitement." in page
    assert "Criminal Code, art. 495" in page
    assert "maximum 2 years 6 months" in page
    assert "May 2018" in page
    assert '<td data-label="In absentia">yes</td>' in page
    charge = db.session.query(Charge).filter_by(offence="Incitement").one()
    assert charge.max_sentence_months == 30
    assert charge.sentence_months == 24


def test_life_outranks_a_term_in_the_exposure(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    submit(
        editor_client,
        f"/cases/{case_id}/charges/new",
        {"offence": "Conspiracy", "max_sentence_kind": "life", "stage": "alleged"},
    )
    assert "maximum life imprisonment" in text(editor_client.get(f"/cases/{case_id}"))


def test_charge_errors_rerender_with_422_and_save_nothing(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Mao Monyvann"]
    before = rows()
    base = {"offence": "Treason", "max_sentence_kind": "term", "max_sentence_years": "30"}
    cases = [
        ({"max_sentence_years": ""}, "a term needs its length"),
        ({"max_sentence_kind": "life"}, "has no length"),
        ({"offence": ""}, "This field is required."),
        ({"max_sentence_years": "thirty"}, "Not a valid integer value."),
        ({"stage": "charged", "sentence_kind": "term", "sentence_years": "5"}, "only a conviction"),
    ]
    for changes, message in cases:
        data = {"stage": "charged", **base, **changes}
        response = submit(editor_client, f"/cases/{case_id}/charges/new", data)
        assert response.status_code == 422, changes
        assert message in text(response), (changes, message)
    assert rows() == before


def test_edit_charge_recomputes_exposure_and_keeps_sources(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    charge = db.session.query(Charge).one()
    charge_id, sources = charge.public_id, [s.public_id for s in charge.sources]
    form = text(editor_client.get(f"/charges/{charge_id}/edit"))
    assert 'name="max_sentence_years" type="number" value="30"' in form
    response = submit(
        editor_client,
        f"/charges/{charge_id}/edit",
        {
            "offence": "Treason",
            "legal_basis": "Criminal Code, art. 443",
            "max_sentence_kind": "term",
            "max_sentence_years": "30",
            "stage": "dropped",
        },
        follow=True,
    )
    page = text(response)
    assert "Charge updated." in page
    assert "dropped" in page
    assert "no open charge" in page
    db.session.expire_all()
    assert [s.public_id for s in db.session.query(Charge).one().sources] == sources
