"""Every page renders for an admin on the demo data."""

from __future__ import annotations

from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Charge, Organization, Person, User
from tests.support.web import text


def test_every_page_renders_for_an_admin(admin_client: FlaskClient, demo: dict[str, str]) -> None:
    person = db.session.query(Person).filter_by(name="Kem Sokha").one()
    org = db.session.query(Organization).one()
    charge = db.session.query(Charge).one()
    user = db.session.query(User).first()
    assert user is not None
    case_id = demo["Kem Sokha"]
    urls = [
        "/",
        "/cases",
        "/cases/new",
        f"/cases/{case_id}",
        f"/cases/{case_id}/edit",
        f"/cases/{case_id}/status",
        f"/cases/{case_id}/charges/new",
        f"/charges/{charge.public_id}/edit",
        "/people",
        "/people/new",
        f"/people/{person.public_id}",
        f"/people/{person.public_id}/edit",
        "/organizations",
        "/organizations/new",
        f"/organizations/{org.public_id}",
        f"/organizations/{org.public_id}/edit",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{user.public_id}",
        "/account/tokens",
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, (url, text(response)[:2000])
        assert "Log out" in text(response)
