"""Server-side sessions: the cookie holds only a random id, deleting the row ends the login
wherever the cookie went, idle and absolute lifetimes, the sessions page, the CLI, and the email
about a login from a new device."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, User, UserSession
from monitor.models.base import utcnow
from monitor.services import user_sessions, users
from tests.support.accounts import PASSWORD, login, make_user
from tests.support.processes import app_env, celery_worker, log_text
from tests.support.smtp import ALLOWED_PORTS, SmtpSink
from tests.support.web import csrf_token, submit, text

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
MONITOR = str(Path(sys.executable).parent / "monitor")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A running SMTP sink."""
    server = SmtpSink()
    ALLOWED_PORTS.add(server.port)
    server.start()
    yield server
    server.stop()
    ALLOWED_PORTS.discard(server.port)


def _browser(app: Flask, agent: str = FIREFOX, address: str = "198.51.100.7") -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    return client


def _rows(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
    )


def _post(client: FlaskClient, url: str, page: str = "/account/sessions") -> int:
    response = client.post(url, data={"csrf_token": csrf_token(client, page)})
    return response.status_code


def test_a_cookie_copied_before_logout_gets_the_login_page_after_logout(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = _browser(app, agent="curl/8.5.0", address="203.0.113.66")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/cases").status_code == 200  # a copied cookie works while the login lives

    assert _post(browser, "/logout", "/cases") == 302
    assert _rows(user) == []
    response = thief.get("/cases")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert thief.get(response.location).status_code == 200  # the login page itself
    [logout] = _audit("auth.logout")
    assert logout.entity_id == user.public_id


def test_the_cookie_holds_only_the_session_id_and_the_table_only_its_hash(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)  # type: ignore[attr-defined]
    assert set(data) <= {"_user_id", "_permanent", "csrf_token", "_flashes"}
    token = data["_user_id"]
    assert user.public_id not in cookie.value
    assert user.email not in str(data)
    assert len(token) >= 43  # 256 random bits
    [row] = _rows(user)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([getattr(row, c.key) for c in UserSession.__table__.columns])
    assert (row.address, row.second_factor) == ("198.51.100.7", None)
    assert row.user_agent == FIREFOX
    [entry] = _audit("auth.login")
    assert entry.after is not None
    assert entry.after["session"] == row.public_id
    assert entry.after["browser"] == "Firefox on Linux"


def test_the_absolute_lifetime_ends_a_busy_session(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    max_hours = app.config["SETTINGS"].session_max_hours
    assert max_hours == 72
    [row] = _rows(user)
    row.created_at = utcnow() - dt.timedelta(hours=max_hours, minutes=-1)
    db.session.commit()
    assert browser.get("/cases").status_code == 200  # a minute to go

    row.created_at = utcnow() - dt.timedelta(hours=max_hours, minutes=1)
    db.session.commit()
    response = browser.get("/cases")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_session_idle_past_the_timeout_ends_even_with_a_fresh_cookie(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    [row] = _rows(user)
    row.last_seen_at = utcnow() - dt.timedelta(hours=8, minutes=1)
    db.session.commit()
    assert browser.get("/cases").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    [row] = _rows(user)
    recent = utcnow() - dt.timedelta(seconds=30)
    row.last_seen_at = recent
    db.session.commit()
    for _ in range(3):
        assert browser.get("/cases").status_code == 200
    assert _rows(user)[0].last_seen_at == recent  # no write within the minute

    before = utcnow()
    row = _rows(user)[0]
    row.last_seen_at = before - dt.timedelta(minutes=2)
    db.session.commit()
    assert browser.get("/cases").status_code == 200  # a read-only page: written aside
    assert _rows(user)[0].last_seen_at >= before


def test_the_sessions_page_lists_sessions_and_ends_one(app: Flask) -> None:
    user = make_user("viewer", "public")
    laptop, phone = _browser(app), _browser(app, PHONE, "192.0.2.44")
    login(laptop, user.email)
    login(phone, user.email)
    other = make_user("viewer", "restricted")
    stranger = _browser(app)
    login(stranger, other.email)

    page = text(laptop.get("/account/sessions"))
    assert "Firefox on Linux" in page
    assert "(this browser)" in page
    assert "Safari on iOS" in page
    assert "192.0.2.44" in page
    assert page.count("data-session=") == 2  # not the other user's
    laptop_row, phone_row = _rows(user)

    # A POST without the CSRF token ends nothing; nobody ends someone else's session.
    assert laptop.post(f"/account/sessions/{phone_row.public_id}/end").status_code == 400
    [stranger_row] = _rows(other)
    assert _post(laptop, f"/account/sessions/{stranger_row.public_id}/end") == 404
    assert stranger.get("/cases").status_code == 200

    assert _post(laptop, f"/account/sessions/{phone_row.public_id}/end") == 302
    assert phone.get("/cases").status_code == 302
    assert laptop.get("/cases").status_code == 200
    assert [r.public_id for r in _rows(user)] == [laptop_row.public_id]
    [revoked] = _audit("session.revoke")
    assert revoked.after == {
        "sessions": [phone_row.public_id],
        "reason": "ended from the sessions page",
    }

    # Ending this browser's own session logs it out.
    assert _post(laptop, f"/account/sessions/{laptop_row.public_id}/end") == 302
    assert laptop.get("/cases").status_code == 302


def test_log_out_other_sessions_keeps_this_one(app: Flask) -> None:
    user = make_user("viewer", "public")
    browsers = [_browser(app, address=f"192.0.2.{n}") for n in range(3)]
    for browser in browsers:
        login(browser, user.email)
    assert _post(browsers[0], "/account/sessions/end-others") == 302
    assert "2 other sessions ended." in text(browsers[0].get("/account/sessions"))
    assert [b.get("/cases").status_code for b in browsers] == [200, 302, 302]


def test_deactivation_deletes_the_sessions(app: Flask, admin_client: FlaskClient) -> None:
    user = make_user("viewer", "public")
    browser = _browser(app)
    login(browser, user.email)
    users.update_user(
        "test",
        user,
        users.UserInput(email=user.email, role="viewer", clearance="public", active=False),
    )
    db.session.commit()
    assert _rows(user) == []
    assert browser.get("/cases").status_code == 302


def test_monitor_sessions_revoke_logs_a_user_out_everywhere_but_keeps_api_tokens(
    app: Flask,
) -> None:
    user = make_user("editor", "confidential")
    _, token = users.create_token("test", user)
    db.session.commit()
    browsers = [_browser(app, address=f"192.0.2.{n}") for n in range(2)]
    for browser in browsers:
        login(browser, user.email)

    done = subprocess.run(
        [MONITOR, "sessions", "revoke", user.email.upper()],
        capture_output=True,
        text=True,
        env=app_env(app),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ended 2 sessions of {user.email}"
    assert [b.get("/cases").status_code for b in browsers] == [302, 302]
    api = app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200  # API tokens are not sessions
    [entry] = _audit("session.revoke")
    assert entry.actor == "cli"

    unknown = subprocess.run(
        [MONITOR, "sessions", "revoke", "nobody@example.org"],
        capture_output=True,
        text=True,
        env=app_env(app),
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 1
    assert "no user nobody@example.org" in unknown.stderr


def test_a_session_records_the_second_factor_it_was_opened_with(app: Flask) -> None:
    user = make_user("editor", "public")
    started = user_sessions.start_session(
        user,
        second_factor="webauthn",
        address="192.0.2.1",
        user_agent=FIREFOX,
        settings=app.config["SETTINGS"],
    )
    db.session.commit()
    browser = app.test_client()
    with browser.session_transaction() as cookie:
        cookie["_user_id"] = started.token
    assert browser.get("/cases").status_code == 200
    assert "webauthn" in text(browser.get("/account/sessions"))
    with pytest.raises(ValueError, match="unknown second factor"):
        user_sessions.start_session(
            user,
            second_factor="sms",
            address=None,
            user_agent=None,
            settings=app.config["SETTINGS"],
        )


def test_a_login_from_a_new_device_emails_the_user(
    app: Flask, sink: SmtpSink, tmp_path: Path
) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], smtp_url=sink.url)
    user = make_user("viewer", "public")
    login(_browser(app), user.email)  # the first login only records the device
    login(_browser(app), user.email)  # the same browser and address: known
    login(_browser(app, PHONE, "192.0.2.44"), user.email)
    assert [e.after["new_device"] for e in _audit("auth.login") if e.after] == [
        False,
        False,
        True,
    ]

    log = tmp_path / "worker.log"
    with celery_worker(app, log) as worker:
        [notice] = sink.wait_for(1, timeout=90)
        assert worker.poll() is None, log_text(log)
    assert notice.rcpt_tos == [user.email]
    assert notice.subject == "[case monitor] New login to your account"
    body = notice.part("plain")
    for words in ("Safari on iOS", "192.0.2.44", "http://monitor.test/account/sessions"):
        assert words in body
    assert len(sink.messages) == 1


def test_a_second_login_in_the_same_browser_replaces_the_first_session(app: Flask) -> None:
    first, second = make_user("viewer", "public"), make_user("viewer", "restricted")
    browser = _browser(app)
    login(browser, first.email)
    token = csrf_token(browser, "/account/sessions")
    response = browser.post(
        "/login", data={"email": second.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert _rows(first) == []
    assert len(_rows(second)) == 1
    assert second.email in text(browser.get("/account/sessions"))


def test_an_admin_ends_every_session_of_an_account_from_its_page(app: Flask) -> None:
    """A lost phone: the admin logs the account out everywhere (ASVS 7.4.5), audited."""
    admin = make_user("admin", "confidential")
    viewer = make_user("viewer", "public")
    db.session.commit()
    phone, laptop = app.test_client(), app.test_client()
    login(phone, viewer.email)
    login(laptop, viewer.email)
    assert phone.get("/cases").status_code == 200
    desk = app.test_client()
    login(desk, admin.email)

    page = f"/admin/users/{viewer.public_id}"
    ended = submit(desk, page, {}, f"{page}/end-sessions")
    assert ended.status_code == 302
    assert "2 sessions of" in text(desk.get(ended.location))
    for browser in (phone, laptop):
        refused = browser.get("/cases")
        assert refused.status_code == 302
        assert refused.location.startswith("/login")
    assert desk.get("/cases").status_code == 200, "the admin's own session goes on"
    db.session.expire_all()
    revoked = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "session.revoke")
    ).all()
    assert revoked[-1].entity_id == viewer.public_id
