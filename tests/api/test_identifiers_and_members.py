"""Issue 17 in the API: identifiers on people and organizations, external_id on cases,
memberships without a case."""

from __future__ import annotations

from monitor.extensions import db
from monitor.models import Organization
from tests.support.api import Api


def test_a_person_with_identifiers_becomes_a_member_without_a_case(
    editor_api: Api, demo: dict[str, str]
) -> None:
    created = editor_api.post(
        "/people",
        {
            "name": "Ou Chanrath",
            "identifiers": [{"scheme": "Wikidata", "identifier": "Q7110001"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert person["identifiers"] == [{"scheme": "wikidata", "identifier": "Q7110001"}]
    assert person["cases"] == []

    cnrp = db.session.query(Organization).filter_by(short_name="CNRP").one()
    added = editor_api.post(
        f"/people/{person['id']}/memberships",
        {"organization_id": cnrp.public_id, "role": "MP", "start": "2013", "area": "Takeo"},
    )
    assert added.status_code == 201, added.get_json()
    (membership,) = added.get_json()["memberships"]
    assert (membership["role"], membership["start"], membership["area"]) == ("MP", "2013", "Takeo")

    again = editor_api.post(
        "/people",
        {
            "name": "Somebody Else",
            "identifiers": [{"scheme": "wikidata", "identifier": "Q7110001"}],
        },
    )
    assert again.status_code == 422
    assert "already held by Ou Chanrath" in again.get_json()["errors"]["identifiers"]


def test_cases_show_their_external_id_and_organizations_their_identifiers(
    editor_api: Api, demo: dict[str, str]
) -> None:
    case = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()
    assert "external_id" in case
    created = editor_api.post(
        "/organizations",
        {
            "name": "Grassroots Democratic Party",
            "kind": "political_party",
            "identifiers": [{"scheme": "wikidata", "identifier": "Q22"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["identifiers"] == [{"scheme": "wikidata", "identifier": "Q22"}]
