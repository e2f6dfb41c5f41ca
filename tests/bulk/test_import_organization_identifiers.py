"""The CSV's ``organization_identifiers`` column: the organization holding an identifier is the
row's, found before the ``organization`` column's name; an identifier the named organization
lacks is added to it (audited); a contradiction is a problem of the row."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, Membership, Organization, Person
from monitor.services.csv_format import COLUMN_BY_NAME, IMPORT_COLUMNS
from monitor.services.people import (
    OrganizationInput,
    create_organization,
    identifier_pairs,
)
from tests.support.api import Api
from tests.support.imports import HEADER, csv_bytes, fingerprint, mp

COLUMNS = HEADER  # the export's columns, organization_identifiers among them


def cnrp() -> Organization:
    db.session.expire_all()
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def test_the_column_is_documented_and_taken() -> None:
    assert "organization_identifiers" in IMPORT_COLUMNS
    assert COLUMN_BY_NAME["organization_identifiers"].example == "wikidata:Q1285528"


def test_an_identifier_the_organization_lacks_is_added_then_finds_it(
    editor_api: Api, demo: dict[str, str]
) -> None:
    first = mp(1, organization_identifiers="wikidata:Q1285528")
    done = editor_api.post("/imports", data=csv_bytes([first], COLUMNS), content_type="text/csv")
    assert done.status_code == 201, done.json
    assert identifier_pairs(cnrp()) == [("wikidata", "Q1285528")]
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organization.identifiers")
    ).all()
    assert entry.after == {"identifiers": ["wikidata:Q1285528"]}

    # Now the identifier alone names the party (the organization cell left empty).
    second = mp(2, organization="", organization_identifiers="wikidata:Q1285528")
    again = editor_api.post("/imports", data=csv_bytes([second], COLUMNS), content_type="text/csv")
    assert again.status_code == 201, again.json
    member = db.session.scalars(select(Person).where(Person.name == "Member 2")).one()
    assert [
        m.organization_id
        for m in db.session.scalars(select(Membership).where(Membership.person_id == member.id))
    ] == [cnrp().id]


def test_contradictions_are_problems_of_the_row(editor_api: Api, demo: dict[str, str]) -> None:
    other = create_organization(
        "command line",
        OrganizationInput(
            name="Grassroots Democratic Party",
            kind="political_party",
            identifiers=[("wikidata", "Q22")],
        ),
    )
    db.session.commit()
    before = fingerprint()
    rows = [
        mp(1, organization_identifiers="wikidata:Q22"),  # CNRP named, the GDP identified
        mp(2, organization="", organization_identifiers="wikidata:Q404"),  # held by no one
        mp(3, organization_identifiers="not an identifier"),
        mp(4, organization="Grassroots Democratic Party", organization_identifiers="wikidata:Q9"),
    ]
    dry = editor_api.post(
        "/imports?dry_run=true", data=csv_bytes(rows, COLUMNS), content_type="text/csv"
    )
    assert dry.status_code == 422
    problems = {(p["row"], p["column"]): p["message"] for p in dry.json["problems"]}
    assert problems[(2, "organization_identifiers")] == (
        f"names Grassroots Democratic Party ({other.public_id}), not Cambodia National Rescue Party"
    )
    assert "no organization of the register holds" in problems[(3, "organization_identifiers")]
    assert "scheme:identifier" in problems[(4, "organization_identifiers")]
    assert problems[(5, "organization_identifiers")] == (
        "Grassroots Democratic Party holds wikidata:Q22, not Q9"
    )
    assert (3, "role") not in problems
    assert fingerprint() == before


def test_the_export_carries_them_and_imports_back_unchanged(
    editor_api: Api, demo: dict[str, str]
) -> None:
    first = mp(1, organization_identifiers="wikidata:Q1285528")
    done = editor_api.post("/imports", data=csv_bytes([first], COLUMNS), content_type="text/csv")
    assert done.status_code == 201, done.json
    exported = editor_api.get("/exports/cases.csv").get_data()
    text = exported.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["organization_identifiers"] for r in rows if r["organization"] == "CNRP"} == {
        "wikidata:Q1285528"
    }
    before = fingerprint()
    again = editor_api.post("/imports", data=exported, content_type="text/csv")
    assert again.status_code == 201, again.json
    assert again.json["summary"]["create"] == again.json["summary"]["update"] == 0
    assert fingerprint() == before
