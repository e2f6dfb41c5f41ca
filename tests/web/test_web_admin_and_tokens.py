"""User administration, API tokens, and who may open which page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import ApiToken, Charge, Membership, Organization, Person, User
from monitor.services import users
from tests.support.accounts import client_for, login, make_user
from tests.support.web import count, submit, text


def test_admin_creates_a_user_whose_generated_password_is_shown_once(
    app: Flask, admin_client: FlaskClient
) -> None:
    response = submit(
        admin_client,
        "/admin/users/new",
        {
            "email": "New.Person@Example.org",
            "name": "New Person",
            "role": "editor",
            "clearance": "restricted",
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'id="generated-password">([^<]+)<', text(response))
    assert match
    password = match.group(1)
    assert "/admin/users" in text(admin_client.get("/admin/users"))
    assert password not in text(admin_client.get("/admin/users"))
    user = db.session.query(User).filter_by(email="new.person@example.org").one()
    assert (user.role, user.clearance) == ("editor", "restricted")
    browser = app.test_client()
    login(browser, "new.person@example.org", password)
    # The password is temporary: its holder chooses their own first (tests/web/
    # test_temporary_password.py), then the register opens.
    assert browser.get("/cases/new").location == "/account/password"
    own = "juniper lantern tidewater 41"
    chosen = submit(
        browser,
        "/account/password",
        {"current_password": password, "new_password": own, "repeat_password": own},
    )
    assert chosen.status_code == 302
    assert browser.get("/cases/new").status_code == 200


def test_admin_user_form_errors_save_nothing(admin_client: FlaskClient) -> None:
    before = count(User)
    for data, message in [
        ({"email": "not-an-email", "password": "long enough password"}, "email"),
        ({"email": "a@example.org", "password": "short"}, "at least 12 characters"),
        ({"email": "admin.confidential@example.org"}, "already uses this address"),
    ]:
        response = submit(
            admin_client, "/admin/users/new", {"role": "viewer", "clearance": "public", **data}
        )
        assert response.status_code == 422, data
        assert message in text(response)
    assert count(User) == before


def test_admin_changes_role_clearance_and_deactivates(
    app: Flask, admin_client: FlaskClient
) -> None:
    target = make_user("viewer", "public", "target@example.org")
    browser = app.test_client()
    login(browser, target.email)
    url = f"/admin/users/{target.public_id}"
    response = submit(
        admin_client,
        url,
        {
            "action": "update",
            "email": target.email,
            "name": "T",
            "role": "editor",
            "clearance": "confidential",
            "active": "y",
        },
        follow=True,
    )
    assert "Account target@example.org saved." in text(response)
    assert browser.get("/cases/new").status_code == 200  # now an editor
    submit(
        admin_client,
        url,
        {"action": "update", "email": target.email, "role": "editor", "clearance": "public"},
    )
    assert browser.get("/").status_code == 302  # deactivated: logged out


def test_admin_cannot_lock_themselves_out(admin_client: FlaskClient) -> None:
    me = db.session.query(User).filter_by(role="admin").one()
    response = submit(
        admin_client,
        f"/admin/users/{me.public_id}",
        {
            "action": "update",
            "email": me.email,
            "role": "viewer",
            "clearance": "public",
            "active": "y",
        },
    )
    assert response.status_code == 422
    assert "cannot remove your own admin role" in text(response)
    db.session.expire_all()
    assert db.session.get(User, me.id).role == "admin"  # type: ignore[union-attr]


def test_admin_resets_a_password(app: Flask, admin_client: FlaskClient) -> None:
    target = make_user("viewer", "public", "forgetful@example.org")
    url = f"/admin/users/{target.public_id}"
    short = submit(admin_client, url, {"action": "reset_password", "new_password": "short"})
    assert short.status_code == 422
    response = submit(admin_client, url, {"action": "reset_password", "new_password": ""})
    match = re.search(r'id="generated-password">([^<]+)<', text(response))
    assert match
    browser = app.test_client()
    login(browser, "forgetful@example.org", match.group(1))


def test_tokens_are_shown_once_and_can_be_revoked(viewer_client: FlaskClient) -> None:
    response = submit(viewer_client, "/account/tokens", {"name": "report script"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'id="new-token">([^<]+)<', text(response))
    assert match
    plain = match.group(1)
    assert users.user_for_token(plain) is not None
    listing = text(viewer_client.get("/account/tokens"))
    assert plain not in listing
    assert "report script" in listing
    assert plain[:10] in listing  # the prefix identifies it
    token = db.session.query(ApiToken).one()
    revoked = submit(
        viewer_client,
        "/account/tokens",
        {},
        f"/account/tokens/{token.public_id}/revoke",
        follow=True,
    )
    assert "revoked" in text(revoked)
    db.session.expire_all()
    assert users.user_for_token(plain) is None


def test_only_the_holder_or_an_admin_revokes_a_token(app: Flask, demo: dict[str, str]) -> None:
    owner = make_user("editor", "public", "owner@example.org")
    token, plain = users.create_token("test", owner, "sync")
    db.session.commit()
    token_id = token.public_id
    other = client_for(app, "viewer", "public")
    refused = submit(other, "/account/tokens", {}, f"/account/tokens/{token_id}/revoke")
    assert refused.status_code == 404
    assert users.user_for_token(plain) is not None
    admin = client_for(app, "admin", "confidential")
    user_page = text(admin.get(f"/admin/users/{owner.public_id}"))
    assert f"/account/tokens/{token_id}/revoke" in user_page
    done = submit(
        admin, f"/admin/users/{owner.public_id}", {}, f"/account/tokens/{token_id}/revoke"
    )
    assert done.location == f"/admin/users/{owner.public_id}"
    db.session.expire_all()
    assert users.user_for_token(plain) is None


def write_pages(demo: dict[str, str]) -> list[str]:
    """Every page that changes the register."""
    case_id = demo["Kem Sokha"]
    person = db.session.query(Person).filter_by(name="Kem Sokha").one().public_id
    org = db.session.query(Organization).one().public_id
    charge = db.session.query(Charge).one().public_id
    return [
        "/cases/new",
        f"/cases/{case_id}/edit",
        f"/cases/{case_id}/status",
        f"/cases/{case_id}/charges/new",
        f"/charges/{charge}/edit",
        "/people/new",
        f"/people/{person}/edit",
        "/organizations/new",
        f"/organizations/{org}/edit",
    ]


def test_viewers_get_403_on_every_write_page(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    for url in write_pages(demo):
        assert viewer_client.get(url).status_code == 403, url
        assert submit(viewer_client, "/", {"name": "x"}, url).status_code == 403, url
    person = db.session.query(Person).filter_by(name="Kem Sokha").one()
    membership = db.session.query(Membership).filter_by(person_id=person.id).one()
    before = count(Membership)
    deleted = submit(viewer_client, "/", {}, f"/memberships/{membership.public_id}/delete")
    assert deleted.status_code == 403
    added = submit(
        viewer_client, "/", {"organization": "x"}, f"/people/{person.public_id}/memberships"
    )
    assert added.status_code == 403
    assert count(Membership) == before
    page = text(viewer_client.get("/cases"))
    assert "Open a case" not in page


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_manage_users(app: Flask, role: str) -> None:
    browser = client_for(app, role, "confidential")
    someone = db.session.query(User).one()
    for url in ["/admin/users", "/admin/users/new", f"/admin/users/{someone.public_id}"]:
        assert browser.get(url).status_code == 403, url
    assert "/admin/users" not in text(browser.get("/"))


def test_write_pages_above_clearance_are_404(app: Flask, demo: dict[str, str]) -> None:
    from tests.support.web import open_case

    secret = open_case("Hidden Informant", level="confidential")
    editor = client_for(app, "editor", "restricted")
    for url in [
        f"/cases/{secret}",
        f"/cases/{secret}/edit",
        f"/cases/{secret}/status",
        f"/cases/{secret}/charges/new",
    ]:
        assert editor.get(url).status_code == 404, url


def test_navigation_shows_sections_user_and_logout(admin_client: FlaskClient) -> None:
    page = text(admin_client.get("/"))
    for label in ["Dashboard", "Cases", "People", "Organizations", "Users", "Log out"]:
        assert label in page
    assert "admin.confidential@example.org" in page
