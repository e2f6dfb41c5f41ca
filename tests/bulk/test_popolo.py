"""The Popolo export validates against the Popolo schemas and respects the reader's clearance.

The schemas (draft-03) are the Popolo project's own, copied beside the repository in
shared/reference/popolo-schemas/; every ``$ref`` between them resolves from that folder, never
from the network, and an unresolvable one fails the test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import referencing.exceptions
from flask import Flask
from jsonschema import Draft3Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3
from sqlalchemy import event, select

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Organization, Person, User
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
)
from monitor.services.popolo import popolo_export
from tests.support.accounts import make_user

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT.parent / "shared" / "reference" / "popolo-schemas"
SCHEMA_BASE = "http://www.popoloproject.com/schemas/"
SECTIONS = {
    "persons": "person",
    "organizations": "organization",
    "memberships": "membership",
    "areas": "area",
}


def _schemas() -> dict[str, dict[str, Any]]:
    assert SCHEMA_DIR.is_dir(), f"the Popolo schemas are missing: {SCHEMA_DIR}"
    schemas = {path.stem: json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.json")}
    assert {"person", "organization", "membership", "other_name"} <= schemas.keys()
    return schemas


def _registry(schemas: dict[str, dict[str, Any]]) -> Registry[Any]:
    # Keyed by each schema's own "id" without its empty fragment: a "$ref" of
    # "http://www.popoloproject.com/schemas/person.json#" looks up ".../person.json".
    resources = []
    for schema in schemas.values():
        uri, _, fragment = schema["id"].partition("#")
        assert fragment == ""
        resources.append((uri, Resource.from_contents(schema, default_specification=DRAFT3)))
    return Registry().with_resources(resources)


SCHEMAS = _schemas()
REGISTRY = _registry(SCHEMAS)


def _validator(kind: str) -> Draft3Validator:
    return Draft3Validator(
        SCHEMAS[kind], registry=REGISTRY, format_checker=Draft3Validator.FORMAT_CHECKER
    )


def _errors(export: dict[str, Any]) -> list[str]:
    """Every schema violation in the export, as readable messages."""
    assert set(export) == set(SECTIONS)
    problems = []
    for section, kind in SECTIONS.items():
        validator = _validator(kind)
        for index, item in enumerate(export[section]):
            problems += [
                f"{section}[{index}]/{'/'.join(map(str, error.absolute_path))}: {error.message}"
                for error in validator.iter_errors(item)
            ]
    return problems


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def _cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def _person(name: str) -> Person:
    return db.session.scalars(select(Person).where(Person.name == name)).one()


def _secret_member(level: str, name: str) -> Person:
    """A CNRP member whose only case is at ``level``."""
    person = create_person("test", PersonInput(name=name, aliases=[f"{name} alias"]))
    add_membership("test", person, _cnrp(), "Member of Parliament")
    create_case(
        "test",
        person,
        CaseInput(country="KH", title=f"{name} case", confidentiality=level),
        StatusInput(status="disappeared", occurred_on=PartialDate.parse("2018-02")),
    )
    db.session.commit()
    return person


def test_every_popolo_reference_resolves_from_the_copied_schemas() -> None:
    resolver = REGISTRY.resolver()
    refs = {ref for schema in SCHEMAS.values() for ref in _refs(schema)}
    assert f"{SCHEMA_BASE}other_name.json#" in refs
    for ref in refs:
        assert ref.startswith(SCHEMA_BASE), ref
        assert resolver.lookup(ref).contents["id"] == ref
    for schema in SCHEMAS.values():
        Draft3Validator.check_schema(schema)


def test_an_unknown_reference_fails_instead_of_passing() -> None:
    schema = {"type": "object", "properties": {"x": {"$ref": f"{SCHEMA_BASE}nowhere.json#"}}}
    validator = Draft3Validator(schema, registry=REGISTRY)
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.validate({"x": {}})


def test_demo_export_is_valid_popolo_with_kem_sokha_and_the_cnrp(
    app: Flask, demo: dict[str, str]
) -> None:
    export = popolo_export(make_user("viewer", "public"))

    assert _errors(export) == []
    persons = {p["name"]: p for p in export["persons"]}
    assert set(persons) == {"Kem Sokha", "Mu Sochua", "Mao Monyvann"}
    kem_sokha = persons["Kem Sokha"]
    assert kem_sokha["id"] == _person("Kem Sokha").public_id
    assert {"lang": "km", "name": "កឹម សុខា", "note": "native script"} in kem_sokha["other_names"]
    assert kem_sokha["national_identity"] == "KH"

    [cnrp] = export["organizations"]
    assert cnrp["name"] == "Cambodia National Rescue Party"
    assert cnrp["other_names"] == [{"name": "CNRP", "note": "abbreviation"}]
    assert cnrp["classification"] == "political_party"

    memberships = {(m["person_id"], m["organization_id"]): m for m in export["memberships"]}
    assert len(memberships) == 3
    assert memberships[kem_sokha["id"], cnrp["id"]]["role"] == "acting party leader"
    assert memberships[persons["Mu Sochua"]["id"], cnrp["id"]]["role"] == "deputy leader"
    # Case details have no place in Popolo and stay out of the export.
    text = json.dumps(export, ensure_ascii=False)
    assert "jailed" not in text
    assert "treason" not in text.lower()


def test_partial_dates_aliases_and_dissolution_use_popolo_fields(
    app: Flask, demo: dict[str, str]
) -> None:
    person = create_person(
        "test",
        PersonInput(
            name="Sam Rainsy",
            aliases=["Rainsy"],
            gender="male",
            birth_date=PartialDate.parse("1949-03"),
            biography="Founder of the party.",
        ),
    )
    party = create_organization(
        "test",
        OrganizationInput(
            name="Sam Rainsy Party",
            kind="political_party",
            dissolved_on=PartialDate.parse("2012-10-04"),
        ),
    )
    founding = add_membership(
        "test",
        person,
        party,
        "founder",
        start=PartialDate.parse("1995"),
        end=PartialDate.parse("2012-07"),
    )
    db.session.commit()

    export = popolo_export(make_user("viewer", "public"))

    assert _errors(export) == []
    rainsy = _by_id(export["persons"])[person.public_id]
    assert rainsy == {
        "id": person.public_id,
        "name": "Sam Rainsy",
        "other_names": [{"name": "Rainsy", "note": "alias"}],
        "gender": "male",
        "birth_date": "1949-03",
        "biography": "Founder of the party.",
    }
    srp = _by_id(export["organizations"])[party.public_id]
    assert srp == {
        "id": party.public_id,
        "name": "Sam Rainsy Party",
        "classification": "political_party",
        "dissolution_date": "2012-10-04",
    }
    [founder] = [m for m in export["memberships"] if m["organization_id"] == party.public_id]
    assert founder == {
        "id": founding.public_id,
        "person_id": person.public_id,
        "organization_id": party.public_id,
        "role": "founder",
        "start_date": "1995",
        "end_date": "2012-07",
    }


def test_person_with_only_a_confidential_case_is_hidden_below_that_clearance(
    app: Flask, demo: dict[str, str]
) -> None:
    hidden = _secret_member("confidential", "Confidential Person")
    public_viewer = make_user("viewer", "public")
    restricted_viewer = make_user("viewer", "restricted")
    cleared = make_user("viewer", "confidential")

    for user in (public_viewer, restricted_viewer):
        export = popolo_export(user)
        assert _errors(export) == []
        assert hidden.public_id not in _by_id(export["persons"])
        assert all(m["person_id"] != hidden.public_id for m in export["memberships"])
        assert len(export["memberships"]) == 3
        # Nor does the hidden person leak through a name anywhere in the document.
        assert "Confidential Person" not in json.dumps(export)
        assert [o["name"] for o in export["organizations"]] == ["Cambodia National Rescue Party"]

    export = popolo_export(cleared)
    assert _errors(export) == []
    shown = _by_id(export["persons"])[hidden.public_id]
    assert shown["other_names"] == [{"name": "Confidential Person alias", "note": "alias"}]
    [membership] = [m for m in export["memberships"] if m["person_id"] == hidden.public_id]
    assert membership["role"] == "Member of Parliament"
    assert membership["organization_id"] == _cnrp().public_id


def test_restricted_case_shows_its_person_to_restricted_clearance_only(
    app: Flask, demo: dict[str, str]
) -> None:
    restricted = _secret_member("restricted", "Restricted Person")

    assert restricted.public_id not in _by_id(
        popolo_export(make_user("viewer", "public"))["persons"]
    )
    export = popolo_export(make_user("viewer", "restricted"))
    assert restricted.public_id in _by_id(export["persons"])
    assert restricted.public_id in {m["person_id"] for m in export["memberships"]}


def test_one_visible_case_is_enough_to_show_a_person(app: Flask, demo: dict[str, str]) -> None:
    person = _secret_member("confidential", "Twice Persecuted")
    create_case(
        "test",
        person,
        CaseInput(country="KH", title="Twice Persecuted: public case", confidentiality="public"),
        StatusInput(status="jailed", occurred_on=PartialDate.parse("2019")),
    )
    db.session.commit()

    export = popolo_export(make_user("viewer", "public"))
    assert person.public_id in _by_id(export["persons"])
    assert person.public_id in {m["person_id"] for m in export["memberships"]}


def test_anonymous_reader_gets_organizations_but_no_one_with_a_case(
    app: Flask, demo: dict[str, str]
) -> None:
    export = popolo_export(None)

    assert _errors(export) == []
    assert export["persons"] == []
    assert export["memberships"] == []
    assert [o["other_names"][0]["name"] for o in export["organizations"]] == ["CNRP"]


def test_validation_really_rejects_a_broken_export(app: Flask, demo: dict[str, str]) -> None:
    good = popolo_export(make_user("viewer", "confidential"))
    assert _errors(good) == []

    # Popolo requires no field of a person (not even "name"), so break what it does constrain.
    bad_date = copy.deepcopy(good)
    bad_date["persons"][0]["birth_date"] = "12 March 1953"
    assert any("birth_date" in e for e in _errors(bad_date))

    nameless_alias = copy.deepcopy(good)
    nameless_alias["persons"][0]["other_names"] = [{"name": None, "note": "alias"}]
    assert any("other_names/0/name" in e for e in _errors(nameless_alias))

    bad_membership = copy.deepcopy(good)
    bad_membership["memberships"][0]["start_date"] = "2017/09"
    bad_membership["memberships"][1]["person_id"] = 42
    problems = _errors(bad_membership)
    assert any(e.startswith("memberships[0]/start_date") for e in problems)
    assert any(e.startswith("memberships[1]/person_id") for e in problems)

    not_an_object = copy.deepcopy(good)
    not_an_object["organizations"][0] = ["CNRP"]
    assert any(e.startswith("organizations[0]/") for e in _errors(not_an_object))


def test_export_takes_five_queries_however_many_people(app: Flask, demo: dict[str, str]) -> None:
    cnrp = _cnrp()
    for i in range(20):
        person = create_person("test", PersonInput(name=f"Member {i:02d}", aliases=[f"M{i}"]))
        add_membership("test", person, cnrp, "member")
    db.session.commit()
    user: User = make_user("viewer", "public")
    assert user.clearance == "public"  # loaded now, so only the export's own queries count

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        export = popolo_export(user)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert len(export["persons"]) == 23
    assert len(export["memberships"]) == 23
    # People, organizations, memberships, and the identifiers of people and organizations.
    assert len(statements) == 5, statements
