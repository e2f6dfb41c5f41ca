"""Lost second factors: another admin removes a user's authenticator app, passkeys and recovery
codes from the user's admin page (never their own), every session of the user ends, the user is
emailed and enrols again at the next login; ``monitor second-factor reset EMAIL`` does the same
for bootstrapping."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.extensions import db
from monitor.models import AuditEntry, RecoveryCode, TotpFactor, User
from monitor.services.second_factor import recovery
from tests.support.accounts import login, make_user
from tests.support.processes import app_env, celery_worker, log_text
from tests.support.smtp import ALLOWED_PORTS, SmtpSink
from tests.support.web import submit, text
from tests.web.test_second_factor import (
    SECOND_STEP,
    SECURITY,
    enrol_totp,
    logged_in_as,
    password_step,
    require_2fa,
)

MONITOR = str(Path(sys.executable).parent / "monitor")


@pytest.fixture(autouse=True)
def _cheap_recovery_code_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        recovery, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A running SMTP sink."""
    server = SmtpSink()
    ALLOWED_PORTS.add(server.port)
    server.start()
    yield server
    server.stop()
    ALLOWED_PORTS.discard(server.port)


def factor_rows(user: User) -> int:
    """How many authenticator apps and recovery codes the user has stored."""
    db.session.expire_all()
    apps = db.session.scalar(
        select(func.count()).select_from(TotpFactor).where(TotpFactor.user_id == user.id)
    )
    codes = db.session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )
    return int(apps or 0) + int(codes or 0)


def admin_desk(app: Flask) -> tuple[User, FlaskClient]:
    """Another admin, logged in."""
    admin = make_user("admin", "confidential", email="helpdesk.admin@example.org")
    desk = app.test_client()
    login(desk, admin.email)
    return admin, desk


def remove(desk: FlaskClient, user: User, **form: str) -> str:
    """The admin's "Remove second factors" button; the page it leads back to."""
    page = f"/admin/users/{user.public_id}"
    answer = submit(desk, page, form, f"{page}/remove-second-factors")
    assert answer.status_code == 302
    assert answer.location == page
    return text(desk.get(page))


def test_an_admin_removes_lost_factors_and_the_user_enrols_again(
    app: Flask, sink: SmtpSink, tmp_path: Path
) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], smtp_url=sink.url)
    editor, phone = logged_in_as(app)
    enrol_totp(phone)
    assert factor_rows(editor) == 11
    admin, desk = admin_desk(app)

    page = text(desk.get(f"/admin/users/{editor.public_id}"))
    assert 'id="remove-second-factors"' in page
    # Without ticking the box, nothing happens.
    assert "Nothing was removed" in remove(desk, editor)
    assert factor_rows(editor) == 11
    assert phone.get("/cases").status_code == 200

    assert "were removed" in remove(desk, editor, confirm="yes")
    assert factor_rows(editor) == 0
    assert phone.get("/cases").location.startswith("/login")  # every session ended
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "second_factor.reset")
    ).all()
    assert entry.actor == admin.email
    assert entry.entity_id == editor.public_id
    assert entry.after is not None
    assert entry.after["authenticator_apps"] == 1
    assert entry.after["recovery_codes"] == 10

    # The password alone logs in again, straight to setting up a new second factor.
    require_2fa(app, "editor")
    again = app.test_client()
    assert password_step(again, editor.email).location == "/"
    assert again.get("/cases").location == SECURITY
    enrol_totp(again)

    log = tmp_path / "worker.log"
    with celery_worker(app, log) as worker:
        [notice] = sink.wait_for(1, timeout=90)
        assert worker.poll() is None, log_text(log)
    assert notice.rcpt_tos == [editor.email]
    assert notice.subject == "[case monitor] Your second factors were removed"
    body = notice.part("plain")
    assert "http://monitor.test/account/security" in body
    assert admin.email not in body  # the organization speaks, not the staff member


def test_an_admin_cannot_remove_their_own_second_factors(app: Flask) -> None:
    admin, desk = logged_in_as(app, "admin")
    enrol_totp(desk)
    assert 'id="remove-second-factors"' not in text(desk.get(f"/admin/users/{admin.public_id}"))
    assert "are your own" in remove(desk, admin, confirm="yes")
    assert factor_rows(admin) == 11
    assert desk.get("/cases").status_code == 200


def test_an_admin_cleared_lower_cannot_remove_the_factors_of_a_higher_account(
    app: Flask,
) -> None:
    editor, browser = logged_in_as(app)  # cleared for confidential
    enrol_totp(browser)
    low = make_user("admin", "public", email="low.admin@example.org")
    desk = app.test_client()
    login(desk, low.email)
    assert "cleared above you" in remove(desk, editor, confirm="yes")
    assert factor_rows(editor) == 11


def test_only_admins_remove_second_factors(app: Flask, editor_client: FlaskClient) -> None:
    user, browser = logged_in_as(app, "viewer")
    enrol_totp(browser)
    page = f"/admin/users/{user.public_id}/remove-second-factors"
    answer = submit(editor_client, SECURITY, {"confirm": "yes"}, page)
    assert answer.status_code == 403
    assert factor_rows(user) == 11


def test_monitor_second_factor_reset_removes_them_from_the_command_line(app: Flask) -> None:
    user, browser = logged_in_as(app)
    enrol_totp(browser)
    done = subprocess.run(
        [MONITOR, "second-factor", "reset", user.email.upper()],
        capture_output=True,
        text=True,
        env=app_env(app),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "removed 1 authenticator app(s), 0 passkey(s) and 10 recovery code(s)" in done.stdout
    assert factor_rows(user) == 0
    assert browser.get("/cases").location.startswith("/login")
    assert password_step(app.test_client(), user.email).location != SECOND_STEP
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "second_factor.reset")
    ).all()
    assert entry.actor == "cli"
    unknown = subprocess.run(
        [MONITOR, "second-factor", "reset", "nobody@example.org"],
        capture_output=True,
        text=True,
        env=app_env(app),
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 1
    assert "no user nobody@example.org" in unknown.stderr


def test_monitor_sessions_revoke_all_logs_everyone_out(app: Flask) -> None:
    """ASVS 7.4.5: an administrator can end the sessions of every user at once."""
    first, second = make_user("viewer", "public"), make_user("editor", "confidential")
    browsers = [app.test_client(), app.test_client()]
    for browser, user in zip(browsers, (first, second), strict=True):
        login(browser, user.email)
        assert browser.get("/cases").status_code == 200
    done = subprocess.run(
        [MONITOR, "sessions", "revoke-all", "--yes"],
        capture_output=True,
        text=True,
        env=app_env(app),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ended 2 sessions of every account"
    assert [b.get("/cases").location.startswith("/login") for b in browsers] == [True, True]
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "session.revoke_all")
    ).all()
    assert entry.actor == "cli"
