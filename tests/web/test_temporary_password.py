"""Temporary passwords (ASVS 5.0 6.4.1): a password an admin chose for someone else (a new
account, a reset from the user's page, typed or generated) opens nothing but the page to choose
one's own, and stops working after MONITOR_TEMPORARY_PASSWORD_HOURS. Passwords the holder chose
(changed, or set from a reset link) and the command line's are permanent. The organization's
name is refused in passwords (ASVS 5.0 6.2.11)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.config import ConfigError, Settings
from monitor.extensions import db
from monitor.models import ApiToken, AuditEntry, User, UserSession
from monitor.models.base import utcnow
from monitor.presentation import utc_text
from monitor.services import users
from tests.support.accounts import PASSWORD, login, make_user
from tests.support.web import csrf_token, submit, text
from tests.web.test_second_factor import (
    SECOND_STEP,
    SECURITY,
    _cheap_recovery_code_hashing,  # noqa: F401 - the autouse fixture, for this module too
    code_at,
    enrol_totp,
    require_2fa,
)

OWN_PASSWORD = "juniper lantern tidewater 41"
PASSWORD_PAGE = "/account/password"
# What a login with a temporary password cannot open (each would answer 200 otherwise).
ELSEWHERE = ["/", "/cases", "/people", "/account", "/account/tokens", "/account/sessions", SECURITY]
EXPIRED = "This temporary password has expired; ask an administrator for a reset link."


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
    )


def _account(email: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.email == email)).one()


def _sessions_of(account: User) -> list[UserSession]:
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == account.id)))


def _shown_password(page: str) -> str:
    match = re.search(r'id="generated-password">([^<]+)<', page)
    assert match, page
    return match.group(1)


def _try_login(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    response = submit(client, "/login", {"email": email, "password": password})
    return response.status_code, text(response).replace("&#39;", "'")


def _choose_own(client: FlaskClient, current: str, new: str = OWN_PASSWORD) -> int:
    response = submit(
        client,
        PASSWORD_PAGE,
        {"current_password": current, "new_password": new, "repeat_password": new},
    )
    return response.status_code


def _create_by_admin(admin_client: FlaskClient, email: str, role: str = "viewer") -> str:
    """An admin creates the account with a generated password; the page that shows it."""
    shown = submit(
        admin_client,
        "/admin/users/new",
        {"email": email, "name": "New Colleague", "role": role, "clearance": "public"},
    )
    assert shown.status_code == 200
    return text(shown)


def test_a_generated_password_is_temporary_and_opens_only_the_password_page(
    app: Flask, admin_client: FlaskClient
) -> None:
    page = _create_by_admin(admin_client, "newcomer@example.org")
    password = _shown_password(page)
    account = _account("newcomer@example.org")
    until = account.password_temporary_until
    assert until is not None
    assert dt.timedelta(hours=71, minutes=59) < until - utcnow() <= dt.timedelta(hours=72)
    assert f"it works until {utc_text(until)}" in page
    assert "temporary" in page

    browser = app.test_client()
    login(browser, account.email, password)
    for address in ELSEWHERE:
        response = browser.get(address)
        assert response.status_code == 302, address
        assert response.location == PASSWORD_PAGE, address
    # No API token can be made meanwhile: the post is turned away before its view runs.
    token = csrf_token(browser, PASSWORD_PAGE)
    posted = browser.post("/account/tokens", data={"name": "sneaky", "csrf_token": token})
    assert posted.location == PASSWORD_PAGE
    assert db.session.scalars(select(ApiToken)).all() == []
    notice = text(browser.get(PASSWORD_PAGE))
    assert "Choose your own password" in notice
    assert f"The temporary password stops working at {utc_text(until)}" in notice

    # Its holder chooses their own: the flag goes, the register opens, the passage is audited.
    assert _choose_own(browser, "not the temporary one at all") == 422
    assert browser.get("/cases").location == PASSWORD_PAGE
    assert _choose_own(browser, password) == 302
    assert _account(account.email).password_temporary_until is None
    for address in ELSEWHERE:
        assert browser.get(address).status_code == 200, address
    [changed] = _audit("auth.password_changed")
    assert changed.entity_id == account.public_id
    assert changed.after == {"sessions_ended": 0, "replaced_temporary": True}
    assert 'id="temporary-password"' not in text(browser.get(PASSWORD_PAGE))


def test_a_typed_password_an_admin_resets_is_temporary_too(
    app: Flask, admin_client: FlaskClient
) -> None:
    target = make_user("viewer", "public", "forgetful@example.org")
    url = f"/admin/users/{target.public_id}"
    assert 'id="temporary-password"' not in text(admin_client.get(url))
    typed = "walnut harbour evening 73"
    shown = submit(admin_client, url, {"action": "reset_password", "new_password": typed})
    assert shown.status_code == 200
    until = _account(target.email).password_temporary_until
    assert until is not None
    assert "The password you typed has been set." in text(shown)
    assert f"it works until {utc_text(until)}" in text(shown)
    assert f"temporary (an admin set it): it works until {utc_text(until)}" in text(
        admin_client.get(url)
    )
    [entry] = _audit("user.password")
    assert entry.after == {"temporary_until": until.isoformat()}

    browser = app.test_client()
    login(browser, target.email, typed)
    assert browser.get("/cases").location == PASSWORD_PAGE
    assert _choose_own(browser, typed) == 302
    assert browser.get("/cases").status_code == 200
    assert 'id="temporary-password"' not in text(admin_client.get(url))


def test_an_expired_temporary_password_refuses_login_with_a_clear_message(
    app: Flask, admin_client: FlaskClient
) -> None:
    password = _shown_password(_create_by_admin(admin_client, "late@example.org"))
    account = _account("late@example.org")
    account.password_temporary_until = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()

    status, page = _try_login(app.test_client(), account.email, password)
    assert status == 401
    assert EXPIRED in page
    # A wrong password learns nothing about the account's password being temporary.
    status, page = _try_login(app.test_client(), account.email, "a wrong long password")
    assert status == 401
    assert EXPIRED not in page
    assert "Wrong email or password" in page
    reasons = [(e.entity_id, (e.after or {})["reason"]) for e in _audit("auth.login_failed")]
    assert reasons == [
        (account.public_id, "temporary password expired"),
        (account.public_id, "wrong password"),
    ]
    assert _sessions_of(account) == []


def test_a_login_whose_temporary_password_expires_meanwhile_ends(
    app: Flask, admin_client: FlaskClient
) -> None:
    password = _shown_password(_create_by_admin(admin_client, "slow@example.org"))
    browser = app.test_client()
    login(browser, "slow@example.org", password)
    token = csrf_token(browser, PASSWORD_PAGE)
    account = _account("slow@example.org")
    account.password_temporary_until = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()

    # Too late to choose one's own with it: the login ends instead.
    late = browser.post(
        PASSWORD_PAGE,
        data={
            "csrf_token": token,
            "current_password": password,
            "new_password": OWN_PASSWORD,
            "repeat_password": OWN_PASSWORD,
        },
    )
    assert late.status_code == 302
    assert late.location == "/login"
    assert EXPIRED in text(browser.get("/login")).replace("&#39;", "'")
    assert browser.get("/cases").location.startswith("/login")
    assert users.authenticate(account.email, OWN_PASSWORD) is None
    assert _sessions_of(account) == []
    [ended] = _audit("session.revoke")
    assert ended.after is not None
    assert ended.after["reason"] == "temporary password expired"


def test_a_reset_link_sets_a_permanent_password(app: Flask, admin_client: FlaskClient) -> None:
    target = make_user("viewer", "public", "linked@example.org")
    url = f"/admin/users/{target.public_id}"
    submit(admin_client, url, {"action": "reset_password", "new_password": ""})
    assert _account(target.email).password_temporary_until is not None
    shown = text(submit(admin_client, url, {}, f"{url}/reset-link"))
    match = re.search(r"http://monitor\.test(/reset/[A-Za-z0-9_-]{43})", shown)
    assert match
    stranger = app.test_client()
    stranger.get(match.group(1))
    done = submit(
        stranger, "/reset", {"new_password": OWN_PASSWORD, "repeat_password": OWN_PASSWORD}
    )
    assert done.location == "/login"
    assert _account(target.email).password_temporary_until is None
    login(stranger, target.email, OWN_PASSWORD)
    assert stranger.get("/cases").status_code == 200


def test_api_tokens_keep_working_while_the_password_is_temporary(
    app: Flask, admin_client: FlaskClient
) -> None:
    target = make_user("editor", "confidential", "scripted@example.org")
    _, plain = users.create_token("test", target, "script")
    db.session.commit()
    url = f"/admin/users/{target.public_id}"
    password = _shown_password(
        text(submit(admin_client, url, {"action": "reset_password", "new_password": ""}))
    )
    browser = app.test_client()
    login(browser, target.email, password)
    assert browser.get("/account/tokens").location == PASSWORD_PAGE
    api = browser.get("/api/v1/cases", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200


def test_the_own_password_comes_before_the_second_factor_enrolment(
    app: Flask, admin_client: FlaskClient
) -> None:
    password = _shown_password(_create_by_admin(admin_client, "held@example.org", "editor"))
    require_2fa(app, "editor")  # after: the admin has no second factor either
    browser = app.test_client()
    login(browser, "held@example.org", password)
    assert browser.get("/cases").location == PASSWORD_PAGE
    assert browser.get(SECURITY).location == PASSWORD_PAGE
    assert browser.get(PASSWORD_PAGE).status_code == 200  # no loop between the two gates
    assert _choose_own(browser, password) == 302
    assert browser.get("/cases").location == SECURITY  # then the second factor
    enrol_totp(browser)
    assert browser.get("/cases").status_code == 200


def test_a_user_with_a_second_factor_gives_it_before_choosing_their_password(
    app: Flask, admin_client: FlaskClient
) -> None:
    require_2fa(app, "none")
    target = make_user("viewer", "public", "phone@example.org")
    browser = app.test_client()
    login(browser, target.email)
    secret, _ = enrol_totp(browser)
    url = f"/admin/users/{target.public_id}"
    password = _shown_password(
        text(submit(admin_client, url, {"action": "reset_password", "new_password": ""}))
    )
    assert browser.get("/cases").location.startswith("/login")  # the reset ended the session

    fresh = app.test_client()
    step = submit(fresh, "/login", {"email": target.email, "password": password})
    assert step.location == SECOND_STEP
    assert fresh.get("/cases").location.startswith("/login")  # not logged in yet
    passed = submit(fresh, SECOND_STEP, {"code": code_at(secret, 1)})  # not the one used
    assert passed.status_code == 302
    assert fresh.get("/cases").location == PASSWORD_PAGE
    assert _choose_own(fresh, password) == 302
    assert fresh.get("/cases").status_code == 200


def test_the_command_line_and_the_test_accounts_keep_permanent_passwords(app: Flask) -> None:
    user = make_user("viewer", "public")  # as `monitor create-user` (tests/test_cli.py) does
    assert user.password_temporary_until is None
    browser = app.test_client()
    login(browser, user.email, PASSWORD)
    assert browser.get("/cases").status_code == 200


def test_the_hours_come_from_the_setting(app: Flask, admin_client: FlaskClient) -> None:
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, temporary_password_hours=2)
    page = _create_by_admin(admin_client, "brief@example.org")
    until = _account("brief@example.org").password_temporary_until
    assert until is not None
    assert dt.timedelta(hours=1, minutes=59) < until - utcnow() <= dt.timedelta(hours=2)
    assert utc_text(until) in page


def test_the_setting_defaults_to_72_hours_and_refuses_nonsense() -> None:
    base = {"MONITOR_ENV": "development", "MONITOR_SECRET_KEY": "x" * 40}
    assert Settings.from_env(base).temporary_password_hours == 72
    custom = Settings.from_env({**base, "MONITOR_TEMPORARY_PASSWORD_HOURS": "24"})
    assert custom.temporary_password_hours == 24
    for bad in ("0", "-3", "three days", "1.5"):
        with pytest.raises(ConfigError, match="MONITOR_TEMPORARY_PASSWORD_HOURS"):
            Settings.from_env({**base, "MONITOR_TEMPORARY_PASSWORD_HOURS": bad})


@pytest.mark.parametrize(
    "password", ["Khmer Rights Watch 2024", "khmerrightswatch 2024!", "WATCH rights 1999 khmer"]
)
def test_the_organization_name_is_refused_in_passwords(
    app: Flask, admin_client: FlaskClient, password: str
) -> None:
    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    # Under the default name the same password is accepted (so the refusal below is the name's).
    settings = app.config["SETTINGS"]
    assert settings.organization_name == "case monitor"
    refused = "the organization's name"
    app.config["SETTINGS"] = dataclasses.replace(settings, organization_name="Khmer Rights Watch")
    change = submit(
        browser,
        PASSWORD_PAGE,
        {"current_password": PASSWORD, "new_password": password, "repeat_password": password},
    )
    assert change.status_code == 422
    assert refused in text(change).replace("&#39;", "'")
    assert users.authenticate(user.email, PASSWORD) is not None
    created = submit(
        admin_client,
        "/admin/users/new",
        {"email": "x@example.org", "role": "viewer", "clearance": "public", "password": password},
    )
    assert created.status_code == 422
    assert refused in text(created).replace("&#39;", "'")

    app.config["SETTINGS"] = settings
    assert _choose_own(browser, PASSWORD, password) == 302
