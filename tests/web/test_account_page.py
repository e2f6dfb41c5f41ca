"""The account page: your name (yours to change), email, role and clearance, and the way to your
password, second factor, API tokens and sessions (issue 16, part 4)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, User
from tests.support.accounts import client_for
from tests.support.web import submit, text


def name_of(email: str) -> str:
    """The stored name of an account."""
    db.session.expire_all()
    return db.session.scalars(select(User.name).where(User.email == email)).one()


def test_the_email_in_the_header_opens_the_account_page(app: Flask) -> None:
    editor = client_for(app, "editor", "restricted")
    header = text(editor.get("/cases"))
    link = re.search(r'<a href="([^"]+)"[^>]*>editor\.restricted@example\.org</a>', header)
    assert link is not None
    assert link.group(1) == "/account"

    page = text(editor.get("/account"))
    assert "<h1>Your account</h1>" in page
    assert '<dd id="account-email">editor.restricted@example.org</dd>' in page
    assert "<dt>Role</dt><dd>editor</dd>" in page
    assert 'class="level level-restricted">restricted<' in page
    assert 'value="Editor restricted"' in page  # the name, ready to edit
    for href in ["/account/password", "/account/security", "/account/tokens", "/account/sessions"]:
        assert f'href="{href}"' in page, href
    assert '<p id="second-factor-state">Off: your password alone opens your account.</p>' in page
    assert '<p id="token-count">0 active tokens.</p>' in page
    assert '<p id="session-count">Logged in on 1 browser.</p>' in page
    assert 'href="/account" aria-current="page"' in page  # the account menu says where you are

    submit(editor, "/account/tokens", {"name": "report script"})
    assert '<p id="token-count">1 active token.</p>' in text(editor.get("/account"))


def test_you_change_your_own_name_and_the_change_is_logged(app: Flask) -> None:
    viewer = client_for(app, "viewer", "public")
    email = "viewer.public@example.org"
    saved = submit(viewer, "/account", {"name": "  Sok Dara "}, follow=True)
    assert "Your name is saved." in text(saved)
    assert 'value="Sok Dara"' in text(saved)
    assert name_of(email) == "Sok Dara"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.update").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert (entry.before or {})["name"] == "Viewer public"
    assert (entry.after or {})["name"] == "Sok Dara"
    # The email, role and clearance are not the user's to change: extra fields are ignored.
    submit(viewer, "/account", {"name": "Sok Dara", "role": "admin", "clearance": "confidential"})
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.email == email)).one()
    assert (user.role, user.clearance) == ("viewer", "public")


def test_a_bad_name_is_shown_with_its_error_and_nothing_changes(app: Flask) -> None:
    viewer = client_for(app, "viewer", "public")
    for typed, message in [
        ("x" * 201, "Field cannot be longer than 200 characters."),
        ("Sok\nDara", "line break"),
    ]:
        response = submit(viewer, "/account", {"name": typed})
        assert response.status_code == 422, typed
        page = text(response)
        assert "Nothing was saved." in page
        assert message in page, typed
    assert name_of("viewer.public@example.org") == "Viewer public"
    assert viewer.post("/account", data={"name": "No Token"}).status_code == 400
    assert name_of("viewer.public@example.org") == "Viewer public"
