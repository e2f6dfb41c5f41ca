"""Sessions end on a password change and after idling; pages are never cached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from monitor import create_app
from monitor.config import Settings
from monitor.extensions import db
from monitor.services import users
from tests.conftest import login, make_user


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


def test_session_cookie_expires_after_the_idle_timeout(app: Flask, client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    login(client, user.email)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.expires is not None
    lifetime = cookie.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=7, minutes=55) < lifetime <= dt.timedelta(hours=8)


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
