"""Sessions end on a password change and after idling; pages are never cached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from werkzeug.test import Cookie, TestResponse

from monitor import create_app
from monitor.config import Settings
from monitor.extensions import db
from monitor.services import users
from tests.support.accounts import login, make_user
from tests.support.web import csrf_token


def test_changing_the_password_ends_sessions_opened_before(app: Flask) -> None:
    user = make_user("viewer", "public")
    laptop, stolen = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(stolen, user.email)
    assert stolen.get("/cases").status_code == 200

    users.set_password("test", user, "a brand new long password")
    db.session.commit()

    assert stolen.get("/cases").status_code == 302
    assert laptop.get("/").headers["Location"].startswith("/login")
    login(laptop, user.email, "a brand new long password")
    assert laptop.get("/cases").status_code == 200


def _logged_in(client: FlaskClient) -> Cookie:
    """Log a new viewer in with ``client``; their session cookie."""
    login(client, make_user("viewer", "public").email)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie


def test_session_cookie_expires_after_the_idle_timeout(app: Flask, client: FlaskClient) -> None:
    cookie = _logged_in(client)
    assert cookie.expires is not None
    lifetime = cookie.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=7, minutes=55) < lifetime <= dt.timedelta(hours=8)


def _signed_at(app: Flask, value: str, when: dt.datetime) -> str:
    """The session cookie ``value`` re-signed as if issued at ``when`` (same data, same key)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data = serializer.loads(value)

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(when.timestamp())

    serializer.signer = Then
    return str(serializer.dumps(data))


def _set_cookies(response: TestResponse) -> list[str]:
    return [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]


def test_an_unchanged_session_is_re_issued_once_a_minute(app: Flask, client: FlaskClient) -> None:
    _logged_in(client)
    client.get("/")  # the first page after login stores a new CSRF token: a changed session
    # Signed moments ago: the page is served without re-sending the cookie.
    response = client.get("/cases")
    assert response.status_code == 200
    assert _set_cookies(response) == []

    # Signed 61 seconds ago: the same session comes back with a fresh idle timeout.
    now = dt.datetime.now(dt.UTC)
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", _signed_at(app, cookie.value, now - dt.timedelta(seconds=61)))
    response = client.get("/cases")
    assert response.status_code == 200
    [renewed] = _set_cookies(response)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.expires is not None
    assert cookie.expires - now > dt.timedelta(hours=7, minutes=59)
    assert "HttpOnly" in renewed
    assert client.get("/cases").status_code == 200  # still the same login

    # A change within the minute is saved at once: logging out ends the session.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/cases")})
    assert client.get("/cases").status_code == 302


def test_a_tampered_session_cookie_is_logged_out(app: Flask, client: FlaskClient) -> None:
    cookie = _logged_in(client)
    payload, signed_at, signature = cookie.value.rsplit(".", 2)
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]  # a full 6-bit character
    client.set_cookie("session", f"{payload}.{signed_at}.{forged}")
    assert client.get("/cases").status_code == 302


def test_a_session_idle_past_the_timeout_is_logged_out(app: Flask, client: FlaskClient) -> None:
    cookie = _logged_in(client)
    idle = dt.datetime.now(dt.UTC) - dt.timedelta(hours=8, minutes=1)
    client.set_cookie("session", _signed_at(app, cookie.value, idle))
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_pages_are_not_cached_but_static_files_are(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    login(client, user.email)
    assert client.get("/cases").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    static = client.get("/static/app.css")
    static.close()  # the file response holds the file open until closed
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_trusted_proxy_setting_reads_the_forwarded_client_address(tmp_path: Path) -> None:
    base = {
        "MONITOR_ENV": "testing",
        "MONITOR_SECRET_KEY": "k" * 40,
        "MONITOR_INSTANCE_PATH": str(tmp_path),
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}",
    }
    seen: list[str | None] = []
    for proxies in ("0", "1"):
        proxied = create_app(Settings.from_env({**base, "MONITOR_TRUSTED_PROXIES": proxies}))

        @proxied.get("/whoami")
        def whoami() -> str:
            from flask import request

            seen.append(request.remote_addr)
            return "ok"

        proxied.test_client().get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
    assert seen == ["10.0.0.2", "203.0.113.9"]
