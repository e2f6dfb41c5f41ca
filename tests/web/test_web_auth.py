"""Logging in and out, CSRF, the login rate limit, security headers and cookies."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, login, make_user
from tests.support.web import csrf_token, submit, text

PAGES = [
    "/",
    "/cases",
    "/cases/new",
    "/people",
    "/organizations",
    "/admin/users",
    "/account/tokens",
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitor_is_sent_to_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_unknown_case_id_also_asks_anonymous_visitors_to_log_in(client: FlaskClient) -> None:
    assert client.get("/cases/does-not-exist").status_code == 302


def test_login_goes_to_the_page_asked_for(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    page = client.get("/cases?status=jailed")
    assert page.location == "/login?next=%2Fcases%3Fstatus%3Djailed"
    token = csrf_token(client, page.location)
    response = client.post(
        page.location, data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.location == "/cases?status=jailed"
    assert client.get("/cases").status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://evil.example/", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
        ("cases", "/"),
        ("/cases\r\nSet-Cookie: x=1", "/"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # encoded: stays a path on this site
        ("/people?q=sokha", "/people?q=sokha"),
    ],
)
def test_login_never_redirects_off_site(
    app: Flask, client: FlaskClient, target: str, expected: str
) -> None:
    user = make_user("viewer", "public")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.status_code == 302
    assert response.location == expected


def test_wrong_password_is_refused_with_a_message(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    response = submit(client, "/login", {"email": user.email, "password": "not the password"})
    assert response.status_code == 401
    assert "Wrong email or password" in text(response)
    assert client.get("/").status_code == 302


def test_deactivated_account_cannot_log_in(app: Flask, client: FlaskClient) -> None:
    from monitor.extensions import db

    user = make_user("viewer", "public")
    user.active = False
    db.session.commit()
    response = submit(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_post_without_csrf_token_is_rejected(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form had expired" in text(response)
    assert client.get("/").status_code == 302


def test_logged_in_post_without_csrf_token_changes_nothing(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = editor_client.post(
        f"/cases/{demo['Mao Monyvann']}/status",
        data={"status": "jailed", "occurred_on": "2024-01-01", "certainty": "confirmed"},
    )
    assert response.status_code == 400
    assert "at liberty" in text(editor_client.get(f"/cases/{demo['Mao Monyvann']}"))


def test_logout_is_a_post_and_ends_the_session(viewer_client: FlaskClient) -> None:
    assert viewer_client.get("/logout").status_code == 405
    response = submit(viewer_client, "/", {}, "/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert viewer_client.get("/").status_code == 302


def test_logged_in_user_visiting_login_goes_home(viewer_client: FlaskClient) -> None:
    response = viewer_client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_login_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    limit = int(app.config["SETTINGS"].login_rate_limit.split()[0])
    token = csrf_token(client, "/login")
    bad = {"email": user.email, "password": "wrong password!", "csrf_token": token}
    for _ in range(limit):
        assert client.post("/login", data=bad).status_code == 401
    blocked = client.post("/login", data={**bad, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in text(blocked)
    assert client.get("/login").status_code == 200  # the form itself is not limited


def test_security_headers_and_no_inline_code(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    for url in ["/", "/cases", f"/cases/{demo['Kem Sokha']}", "/organizations"]:
        response = viewer_client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        page = text(response)
        assert "<script" not in page
        assert "style=" not in page
        assert not re.search(r"\son[a-z]+=", page)


def test_session_cookie_is_httponly_and_samesite(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_deactivating_a_user_ends_their_session(app: Flask) -> None:
    from monitor.extensions import db

    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    assert browser.get("/").status_code == 200
    user.active = False
    db.session.commit()
    assert browser.get("/").status_code == 302
