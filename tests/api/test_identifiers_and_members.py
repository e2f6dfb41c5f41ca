"""Issue 17 in the API: identifiers on people and organizations, external_id on cases,
memberships without a case."""

from __future__ import annotations

from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, Organization
from monitor.presentation.history import action_label, entry_text
from tests.support.api import Api, case_body


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


def _audit(action: str, entity_id: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.seq)
        )
    )


def test_a_persons_identifiers_are_replaced_by_a_patch_and_audited(
    editor_api: Api, demo: dict[str, str]
) -> None:
    kem_sokha = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()["person"]["id"]
    patched = editor_api.patch(
        f"/people/{kem_sokha}",
        {
            "identifiers": [
                {"scheme": "Wikidata", "identifier": "Q3194965"},
                {"scheme": "everypolitician", "identifier": "ks-1"},
            ]
        },
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["identifiers"] == [
        {"scheme": "wikidata", "identifier": "Q3194965"},
        {"scheme": "everypolitician", "identifier": "ks-1"},
    ] or sorted(i["identifier"] for i in patched.get_json()["identifiers"]) == ["Q3194965", "ks-1"]
    # The list replaces the one held: everypolitician goes, wikidata stays.
    again = editor_api.patch(
        f"/people/{kem_sokha}", {"identifiers": [{"scheme": "wikidata", "identifier": "Q3194965"}]}
    )
    assert again.get_json()["identifiers"] == [{"scheme": "wikidata", "identifier": "Q3194965"}]
    # Found by the identifier, as the web's search finds them.
    found = editor_api.get("/people", q="Q3194965").get_json()
    assert [p["id"] for p in found["items"]] == [kem_sokha]
    entries = _audit("person.identifiers", kem_sokha)
    assert [e.after["identifiers"] for e in entries] == [
        ["everypolitician:ks-1", "wikidata:Q3194965"],
        ["wikidata:Q3194965"],
    ]
    assert action_label("person.identifiers") == "Person's identifiers changed"
    # The same list again changes nothing and logs nothing.
    editor_api.patch(
        f"/people/{kem_sokha}", {"identifiers": [{"scheme": "wikidata", "identifier": "Q3194965"}]}
    )
    assert len(_audit("person.identifiers", kem_sokha)) == 2


def test_an_identifier_someone_else_holds_is_refused_naming_its_place_in_the_list(
    editor_api: Api, demo: dict[str, str]
) -> None:
    holder = editor_api.post(
        "/people",
        {"name": "Ou Chanrath", "identifiers": [{"scheme": "wikidata", "identifier": "Q7110001"}]},
    ).get_json()
    kem_sokha = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()["person"]["id"]
    refused = editor_api.patch(
        f"/people/{kem_sokha}",
        {
            "identifiers": [
                {"scheme": "everypolitician", "identifier": "ks-1"},
                {"scheme": "wikidata", "identifier": "Q7110001"},
            ]
        },
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "identifiers.1.identifier": f"wikidata:Q7110001 is already held by Ou Chanrath "
        f"({holder['id']})"
    }
    assert editor_api.get(f"/people/{kem_sokha}").get_json()["identifiers"] == []
    assert _audit("person.identifiers", kem_sokha) == []
    blank = editor_api.patch(
        f"/people/{kem_sokha}", {"identifiers": [{"scheme": "wikidata", "identifier": "  "}]}
    )
    assert blank.status_code == 422
    assert "identifiers.0.identifier" in blank.get_json()["errors"]
    no_scheme = editor_api.patch(
        f"/people/{kem_sokha}", {"identifiers": [{"scheme": "", "identifier": "Q1"}]}
    )
    assert no_scheme.status_code == 422
    assert "identifiers.0.scheme" in no_scheme.get_json()["errors"]
    assert editor_api.patch(f"/people/{kem_sokha}", {"name": "x"}).status_code == 422


def test_a_viewer_may_not_change_identifiers(
    viewer_api: Api, editor_api: Api, demo: dict[str, str]
) -> None:
    kem_sokha = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()["person"]["id"]
    body = {"identifiers": [{"scheme": "wikidata", "identifier": "Q3194965"}]}
    assert viewer_api.patch(f"/people/{kem_sokha}", body).status_code == 403


def test_an_organizations_identifiers_are_replaced_by_a_patch_and_audited(
    editor_api: Api, demo: dict[str, str]
) -> None:
    cnrp = db.session.query(Organization).filter_by(short_name="CNRP").one()
    other = editor_api.post(
        "/organizations",
        {
            "name": "Grassroots Democratic Party",
            "kind": "political_party",
            "identifiers": [{"scheme": "wikidata", "identifier": "Q22"}],
        },
    ).get_json()
    patched = editor_api.patch(
        f"/organizations/{cnrp.public_id}",
        {"identifiers": [{"scheme": "wikidata", "identifier": "Q1285528"}]},
    )
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert body["identifiers"] == [{"scheme": "wikidata", "identifier": "Q1285528"}]
    assert body["members"], "the answer is the organization as GET reads it"
    refused = editor_api.patch(
        f"/organizations/{cnrp.public_id}",
        {"identifiers": [{"scheme": "wikidata", "identifier": "Q22"}]},
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "identifiers.0.identifier": f"wikidata:Q22 is already held by Grassroots Democratic "
        f"Party ({other['id']})"
    }
    cleared = editor_api.patch(f"/organizations/{cnrp.public_id}", {"identifiers": []})
    assert cleared.get_json()["identifiers"] == []
    entries = _audit("organization.identifiers", cnrp.public_id)
    assert [(e.before["identifiers"], e.after["identifiers"]) for e in entries] == [
        ([], ["wikidata:Q1285528"]),
        (["wikidata:Q1285528"], []),
    ]
    assert action_label("organization.identifiers") == "Organization's identifiers changed"


def test_a_case_gets_its_external_id_when_opened_and_edited(
    editor_api: Api, demo: dict[str, str]
) -> None:
    opened = editor_api.post("/cases", case_body(external_id="KH-0100", confirm_new_person=True))
    assert opened.status_code == 201, opened.get_json()
    case = opened.get_json()
    assert case["external_id"] == "KH-0100"
    taken = editor_api.post(
        "/cases",
        case_body(person={"name": "Someone New"}, external_id="KH-0100", confirm_new_person=True),
    )
    assert taken.status_code == 422
    assert taken.get_json()["errors"] == {
        "external_id": f"'KH-0100' is already the id of case {case['id']}"
    }
    kem = demo["Kem Sokha"]
    assert editor_api.patch(f"/cases/{kem}", {"external_id": "KH-0100"}).status_code == 422
    # Another case's register id is what the CSV import matches a row without an external id on.
    other = next(public_id for name, public_id in demo.items() if public_id != kem)
    assert editor_api.patch(f"/cases/{kem}", {"external_id": other}).status_code == 422
    changed = editor_api.patch(f"/cases/{kem}", {"external_id": "KH-0001"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["external_id"] == "KH-0001"
    (entry,) = [e for e in _audit("case.update", kem) if e.after.get("external_id") == "KH-0001"]
    assert entry_text(entry.action, entry.before, entry.after) == "Case edited: external id"
    # Left out: kept; null: removed.
    assert (
        editor_api.patch(f"/cases/{kem}", {"title": "Kem Sokha"}).get_json()["external_id"]
        == "KH-0001"
    )
    assert (
        editor_api.patch(f"/cases/{kem}", {"external_id": None}).get_json()["external_id"] is None
    )
    blank = editor_api.patch(f"/cases/{kem}", {"external_id": " "})
    assert blank.status_code == 422
    assert "external_id" in blank.get_json()["errors"]
