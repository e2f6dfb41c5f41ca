"""Two people for the highest power: an admin cannot raise their own role or clearance, nor get
around it through an account they control (one they create, raise, or reset the password of)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, User
from monitor.services import ValidationError, users
from tests.support.accounts import login, make_user
from tests.support.web import submit, text


def _browser(app: Flask, user: User) -> FlaskClient:
    browser = app.test_client()
    login(browser, user.email)
    return browser


def _edit(browser: FlaskClient, account: User, **changes: str) -> tuple[int, str]:
    data = {
        "action": "update",
        "email": account.email,
        "name": account.name,
        "role": account.role,
        "clearance": account.clearance,
        "active": "y",
        **changes,
    }
    response = submit(browser, f"/admin/users/{account.public_id}", data)
    return response.status_code, text(response)


def _field_error(page: str, field: str) -> str:
    start = page.index(f'id="{field}-error">') + len(f'id="{field}-error">')
    return page[start : page.index("</p>", start)]


def _updates_of(user: User) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "user.update", AuditEntry.entity_id == user.public_id
            )
        )
    )


def _reload(user: User) -> User:
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    return fresh


def test_an_admin_cannot_raise_their_own_clearance(app: Flask) -> None:
    me = make_user("admin", "restricted", "me@example.org")
    browser = _browser(app, me)
    assert 'id="own-account"' in text(browser.get(f"/admin/users/{me.public_id}"))
    code, page = _edit(browser, me, clearance="confidential")
    assert code == 422
    assert _field_error(page, "clearance") == (
        "you cannot raise your own clearance; another admin must"
    )
    assert 'aria-describedby="clearance-error"' in page
    assert _reload(me).clearance == "restricted"
    assert _updates_of(me) == []
    # Lowering is one's own business; raising it back again is not.
    assert _edit(browser, me, clearance="public")[0] == 302
    assert _reload(me).clearance == "public"
    assert _edit(browser, me, clearance="restricted")[0] == 422
    assert _reload(me).clearance == "public"


def test_another_admin_raises_it(app: Flask) -> None:
    me = make_user("admin", "restricted", "me@example.org")
    colleague = make_user("admin", "confidential", "colleague@example.org")
    code, _ = _edit(_browser(app, colleague), me, clearance="confidential")
    assert code == 302
    assert _reload(me).clearance == "confidential"
    [entry] = _updates_of(me)
    assert entry.actor == "colleague@example.org"
    assert (entry.before or {})["clearance"] == "restricted"
    assert (entry.after or {})["clearance"] == "confidential"


def test_nobody_raises_their_own_role_through_the_service(app: Flask) -> None:
    # No page lets a non-admin edit an account, but the rule is the service's, for every caller.
    editor = make_user("editor", "public", "ed@example.org")
    data = users.UserInput(email=editor.email, role="admin", clearance="public")
    with pytest.raises(ValidationError) as refused:
        users.update_user(editor, editor, data)
    assert refused.value.errors == {"role": "you cannot raise your own role; another admin must"}
    db.session.rollback()
    assert _reload(editor).role == "editor"


def test_an_admin_cannot_create_or_raise_an_account_above_their_clearance(app: Flask) -> None:
    me = make_user("admin", "restricted", "me@example.org")
    browser = _browser(app, me)
    form = {"email": "sock@example.org", "role": "admin", "clearance": "confidential"}
    response = submit(browser, "/admin/users/new", form)
    assert response.status_code == 422
    assert _field_error(text(response), "clearance") == (
        "is above your own clearance (restricted); an admin cleared for confidential must grant it"
    )
    assert db.session.scalars(select(User).where(User.email == "sock@example.org")).first() is None
    # Up to their own clearance is fine.
    response = submit(browser, "/admin/users/new", {**form, "clearance": "restricted"})
    assert response.status_code == 200
    sock = db.session.scalars(select(User).where(User.email == "sock@example.org")).one()
    code, page = _edit(browser, sock, clearance="confidential")
    assert code == 422
    assert "is above your own clearance (restricted)" in _field_error(page, "clearance")
    assert _reload(sock).clearance == "restricted"


def test_an_admin_cannot_take_over_an_account_cleared_above_them(app: Flask) -> None:
    me = make_user("admin", "restricted", "me@example.org")
    cleared = make_user("editor", "confidential", "cleared@example.org")
    browser = _browser(app, me)
    url = f"/admin/users/{cleared.public_id}"
    response = submit(browser, url, {"action": "reset_password", "new_password": ""})
    assert response.status_code == 422
    assert "cleared above you" in _field_error(text(response), "new_password")
    assert 'id="generated-password"' not in text(response)
    code, page = _edit(browser, cleared, email="me+sock@example.org")
    assert code == 422
    assert "cleared above you" in _field_error(page, "email")
    assert _reload(cleared).email == "cleared@example.org"
    assert users.authenticate("cleared@example.org", "a" * 12) is None
    # Their name, or deactivating them, is still an admin's to change.
    code, _ = _edit(browser, cleared, name="Renamed")
    assert code == 302
    assert _reload(cleared).name == "Renamed"
    # And an account at or below their clearance is theirs to reset.
    viewer = make_user("viewer", "public", "viewer@example.org")
    response = submit(browser, f"/admin/users/{viewer.public_id}", {"action": "reset_password"})
    assert 'id="generated-password"' in text(response)


def test_the_command_line_still_bootstraps_any_account(app: Flask) -> None:
    first = users.create_user(
        "cli",
        users.UserInput(email="first@example.org", role="admin", clearance="confidential"),
        "a long enough password",
    )
    db.session.commit()
    assert (first.role, first.clearance) == ("admin", "confidential")
