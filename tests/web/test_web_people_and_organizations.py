"""People and organizations: lists, pages, forms, memberships, the organization summary."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Membership, Organization, Person
from tests.support.accounts import client_for
from tests.support.web import count, open_case, submit, text


def cnrp_id() -> str:
    """The demo party's public id."""
    return db.session.query(Organization).filter_by(short_name="CNRP").one().public_id


def test_organization_page_summarises_members(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get(f"/organizations/{cnrp_id()}"))
    assert "55 seats · 3 members known · 3 cases: 1 jailed, 1 fled, 1 at liberty" in page
    assert "<svg" in page
    assert 'fill="#6b0804"' in page  # the jailed bar
    for name, role in [
        ("Kem Sokha", "acting party leader"),
        ("Mu Sochua", "deputy leader"),
        ("Mao Monyvann", "Member of Parliament"),
    ]:
        assert name in page
        assert role in page


def test_organization_page_hides_members_above_clearance(app: Flask, demo: dict[str, str]) -> None:
    from monitor.services.people import add_membership

    case_id = open_case("Hidden Informant", status="disappeared", level="confidential")
    person = db.session.query(Person).filter_by(name="Hidden Informant").one()
    add_membership("test", person, db.session.query(Organization).one(), "member")
    db.session.commit()
    viewer = client_for(app, "viewer", "public")
    page = text(viewer.get(f"/organizations/{cnrp_id()}"))
    assert "Hidden Informant" not in page
    assert "3 cases" in page
    assert "disappeared" not in page.split('id="summary"')[1].split("</p>")[0]
    admin = client_for(app, "admin", "confidential")
    admin_page = text(admin.get(f"/organizations/{cnrp_id()}"))
    assert "Hidden Informant" in admin_page
    assert (
        "55 seats · 4 members known · 4 cases: 1 jailed, 1 disappeared, 1 fled, 1 at liberty"
        in admin_page
    )
    assert case_id in admin_page
    assert viewer.get(f"/people/{person.public_id}").status_code == 404


def test_organizations_list(viewer_client: FlaskClient, demo: dict[str, str]) -> None:
    page = text(viewer_client.get("/organizations"))
    assert "Cambodia National Rescue Party" in page
    assert "political party" in page
    assert "55 seats · 3 members known · 3 cases" in page


def test_create_and_edit_an_organization(editor_client: FlaskClient) -> None:
    response = submit(
        editor_client,
        "/organizations/new",
        {"name": "Khmer Times Watch", "kind": "media", "country": "kh", "seats": ""},
        follow=True,
    )
    assert "<bdi>Khmer Times Watch</bdi> added." in text(response)
    org = db.session.query(Organization).one()
    edit = submit(
        editor_client,
        f"/organizations/{org.public_id}/edit",
        {"name": "Khmer Times Watch", "short_name": "KTW", "kind": "ngo", "seats": "12"},
        follow=True,
    )
    assert "Details saved." in text(edit)
    assert "12 seats · 0 members known · 0 cases" in text(edit)
    bad = submit(
        editor_client,
        f"/organizations/{org.public_id}/edit",
        {"name": "", "kind": "ngo", "country": "ZZ"},
    )
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.query(Organization).one().name == "Khmer Times Watch"


def test_people_list_search_and_clearance(app: Flask, demo: dict[str, str]) -> None:
    open_case("Hidden Informant", level="confidential")
    viewer = client_for(app, "viewer", "public")
    page = text(viewer.get("/people"))
    assert "Kem Sokha" in page
    assert "Hidden Informant" not in page
    assert "<strong>3</strong> people" in page
    found = text(viewer.get("/people?q=សុខា"))
    assert "Kem Sokha" in found
    assert "Mu Sochua" not in found


def test_create_and_edit_a_person(editor_client: FlaskClient) -> None:
    response = submit(
        editor_client,
        "/people/new",
        {"name": "Sam Rainsy", "name_native": "សម រង្ស៊ី", "aliases": "Rainsy", "birth_date": "1949"},
        follow=True,
    )
    page = text(response)
    assert "<bdi>Sam Rainsy</bdi> added." in page
    assert "សម រង្ស៊ី" in page
    person = db.session.query(Person).one()
    bad = submit(
        editor_client,
        f"/people/{person.public_id}/edit",
        {"name": "Sam Rainsy", "nationality": "QQ", "birth_date": "1949"},
    )
    assert bad.status_code == 422
    assert "not an ISO 3166-1 two-letter country code" in text(bad)
    good = submit(
        editor_client,
        f"/people/{person.public_id}/edit",
        {"name": "Sam Rainsy", "nationality": "KH", "occupation": "Politician"},
        follow=True,
    )
    assert "Details saved." in text(good)
    assert "Politician" in text(good)


def test_add_and_remove_a_membership(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    person = db.session.query(Person).filter_by(name="Mu Sochua").one()
    url = f"/people/{person.public_id}"
    before = count(Membership)
    added = submit(
        editor_client,
        url,
        {"organization": cnrp_id(), "role": "Member of Parliament", "start": "2013"},
        f"{url}/memberships",
        follow=True,
    )
    assert "Membership of <bdi>CNRP</bdi> added." in text(added)
    assert count(Membership) == before + 1
    duplicate = submit(
        editor_client,
        url,
        {"organization": cnrp_id(), "role": "Member of Parliament"},
        f"{url}/memberships",
    )
    assert duplicate.status_code == 422
    assert "already Member of Parliament of CNRP" in text(duplicate)
    missing = submit(editor_client, url, {"organization": "nope"}, f"{url}/memberships")
    assert missing.status_code == 422
    assert count(Membership) == before + 1
    membership = (
        db.session.query(Membership).filter_by(person_id=person.id, role="Member of Parliament")
    ).one()
    removed = submit(editor_client, url, {}, f"/memberships/{membership.public_id}/delete")
    assert removed.status_code == 302
    assert count(Membership) == before


def test_person_page_lists_only_visible_cases(app: Flask, demo: dict[str, str]) -> None:
    from monitor.domain import PartialDate
    from monitor.services.cases import CaseInput, StatusInput, create_case

    person = db.session.query(Person).filter_by(name="Kem Sokha").one()
    create_case(
        "test",
        person,
        CaseInput(country="KH", title="Sealed proceedings", confidentiality="confidential"),
        StatusInput(status="jailed", occurred_on=PartialDate.parse("2018")),
    )
    db.session.commit()
    viewer = client_for(app, "viewer", "public")
    page = text(viewer.get(f"/people/{person.public_id}"))
    assert "Kem Sokha: jailed on treason charges" in page
    assert "Sealed proceedings" not in page
