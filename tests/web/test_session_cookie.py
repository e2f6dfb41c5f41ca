"""The login cookie's attributes: HttpOnly and SameSite=Lax always; over HTTPS also Secure,
named with the ``__Host-`` prefix, ``Path=/`` and no ``Domain`` (so no sibling subdomain or
plain-HTTP page can plant one); a plain name over HTTP, where browsers reject the prefix."""

from __future__ import annotations

import dataclasses
import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from monitor import create_app
from monitor.extensions import db, limiter
from tests.support.accounts import PASSWORD, make_user

HTTPS = "https://localhost"


def log_in(client: FlaskClient, email: str, base_url: str) -> TestResponse:
    """The login form over ``base_url``; the response that logs in."""
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match
    data = {"email": email, "password": PASSWORD, "csrf_token": match.group(1)}
    # Over HTTPS, Flask-WTF also wants a same-origin Referer (as browsers send).
    referer = {"Referer": f"{base_url}/login"}
    return client.post("/login", data=data, base_url=base_url, headers=referer)


def attributes(response: TestResponse) -> tuple[str, set[str]]:
    """The session cookie's name and its attributes, lower case (``path=/``, ``secure``…)."""
    [header] = response.headers.getlist("Set-Cookie")
    name, _, rest = header.partition("=")
    parts = {p.strip().lower() for p in rest.split(";")[1:]}
    return name, parts | {p.split("=")[0] for p in parts}


def test_over_https_the_cookie_is_host_prefixed_secure_httponly_lax(app: Flask) -> None:
    user = make_user("viewer", "public")
    secure = create_app(dataclasses.replace(app.config["SETTINGS"], base_url=HTTPS))
    try:
        client = secure.test_client()
        answer = log_in(client, user.email, HTTPS)
        assert answer.status_code == 302
        name, attrs = attributes(answer)
        assert name == "__Host-session"
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= attrs
        assert "domain" not in attrs
        assert client.get("/cases", base_url=HTTPS).status_code == 200
        # A cookie of the plain name (planted over HTTP, say) is not read.
        cookie = client.get_cookie("__Host-session")
        assert cookie is not None
        planter = secure.test_client()
        planter.set_cookie("session", cookie.value)
        assert planter.get("/cases", base_url=HTTPS).location.startswith("/login")
    finally:
        with secure.app_context():
            db.engine.dispose()
        limiter.init_app(app)


def test_over_http_the_cookie_keeps_a_plain_name_httponly_lax(app: Flask) -> None:
    user = make_user("viewer", "public")
    answer = log_in(app.test_client(), user.email, "http://localhost")
    name, attrs = attributes(answer)
    assert name == "session"
    assert {"httponly", "path=/", "samesite=lax"} <= attrs
    assert "secure" not in attrs
