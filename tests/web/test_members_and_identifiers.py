"""Issue 17, parts 1 and 2 on the web: a member without a case, identifiers on pages and forms."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Case, Organization, Person, PersonIdentifier
from tests.support.accounts import client_for
from tests.support.web import open_case, submit, text


def cnrp() -> Organization:
    return db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()


def test_a_member_added_without_a_case_is_counted_apart_and_one_click_from_a_case(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    added = submit(
        editor_client,
        "/people/new",
        {"name": "Ou Chanrath", "identifiers": "wikidata:Q7110001\nEveryPolitician:abc"},
        follow=True,
    )
    person = db.session.scalars(select(Person).where(Person.name == "Ou Chanrath")).one()
    page = text(added)
    assert "No case recorded" in page
    assert "at liberty" not in page
    assert 'href="https://www.wikidata.org/wiki/Q7110001"' in page
    assert 'rel="noopener noreferrer"' in page
    assert "everypolitician: " in page
    assert "abc" in page
    submit(
        editor_client,
        f"/people/{person.public_id}",
        {"organization": cnrp().public_id, "role": "MP", "start": "2013", "area": "Takeo"},
        f"/people/{person.public_id}/memberships",
    )

    org_page = text(editor_client.get(f"/organizations/{cnrp().public_id}"))
    assert "55 seats · 4 members known · 3 cases: 1 jailed, 1 fled, 1 at liberty" in org_page
    assert "Takeo" in org_page
    assert f'href="/cases/new?person={person.public_id}"' in org_page
    form = text(editor_client.get(f"/cases/new?person={person.public_id}"))
    assert "Ou Chanrath" in form


def test_the_people_search_finds_a_wikidata_id(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    submit(
        editor_client, "/people/new", {"name": "Ou Chanrath", "identifiers": "wikidata:Q3194965"}
    )
    page = text(editor_client.get("/people?q=Q3194965"))
    assert "Ou Chanrath" in page
    assert "Kem Sokha" not in page


def test_an_identifier_held_by_someone_hidden_is_refused_without_their_name(
    app: Flask, demo: dict[str, str]
) -> None:
    open_case("Hidden Informant", status="disappeared", level="confidential")
    hidden = db.session.scalars(select(Person).where(Person.name == "Hidden Informant")).one()
    db.session.add(PersonIdentifier(person=hidden, scheme="wikidata", identifier="Q99"))
    db.session.commit()

    public_editor = client_for(app, "editor", "public")
    refused = submit(
        public_editor, "/people/new", {"name": "Someone", "identifiers": "wikidata:Q99"}
    )
    assert refused.status_code == 422
    assert "wikidata:Q99 is already held by another person" in text(refused)
    assert "Hidden Informant" not in text(refused)

    editor = client_for(app, "editor", "confidential")
    named = submit(editor, "/people/new", {"name": "Someone", "identifiers": "wikidata:Q99"})
    assert "already held by Hidden Informant" in text(named)
    assert db.session.scalars(select(Person).where(Person.name == "Someone")).first() is None


def test_a_bad_identifier_line_is_named_and_organizations_take_identifiers(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    refused = submit(editor_client, "/people/new", {"name": "Someone", "identifiers": "Q12"})
    assert refused.status_code == 422
    assert "write scheme:identifier" in text(refused)

    org = cnrp()
    submit(
        editor_client,
        f"/organizations/{org.public_id}/edit",
        {"name": org.name, "short_name": "CNRP", "kind": org.kind, "identifiers": "wikidata:Q1"},
    )
    page = text(editor_client.get(f"/organizations/{org.public_id}"))
    assert 'href="https://www.wikidata.org/wiki/Q1"' in page
    assert db.session.scalars(select(Case)).first() is not None
