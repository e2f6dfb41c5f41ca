"""Users with the shared test password, and browsers logged in as them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import User
from monitor.services import users
from tests.support.web import csrf_token

PASSWORD = "correct horse battery staple"


def make_user(role: str, clearance: str, email: str | None = None) -> User:
    """Create and commit a user with the shared test password."""
    user = users.create_user(
        "test",
        users.UserInput(
            email=email or f"{role}.{clearance}@example.org",
            role=role,
            clearance=clearance,
            name=f"{role.title()} {clearance}",
        ),
        PASSWORD,
    )
    db.session.commit()
    return user


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form, CSRF token included."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def client_for(app: Flask, role: str, clearance: str = "confidential") -> FlaskClient:
    """A browser logged in as a fresh user of that role and clearance."""
    user = make_user(role, clearance)
    browser = app.test_client()
    login(browser, user.email)
    return browser
