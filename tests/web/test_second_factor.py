"""The second factor through the web forms: an authenticator app enrolled and used without
JavaScript, codes accepted once, recovery codes used once, changes that need a recent
authentication ("Confirm it's you"), attempts limited per account, and every step in the audit
log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from monitor.extensions import db
from monitor.models import AuditEntry, RecoveryCode, User, UserSession
from monitor.models.base import utcnow
from monitor.services.second_factor import recovery
from tests.support.accounts import PASSWORD, make_user
from tests.support.web import csrf_token, submit, text

SECOND_STEP = "/login/second-step"
SECURITY = "/account/security"
CONFIRM = "/account/confirm"


@pytest.fixture(autouse=True)
def _cheap_recovery_code_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the lowest cost (ten codes at the default cost take seconds here)."""
    monkeypatch.setattr(
        recovery, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def require_2fa(app: Flask, value: str, **more: object) -> None:
    """Switch MONITOR_REQUIRE_2FA (and any other setting) for this test's app."""
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, require_2fa=value, **more)


def password_step(client: FlaskClient, email: str, **post: object) -> TestResponse:
    """The login form with the right password."""
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, **post
    )


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The app's code ``offset_steps`` 30-second steps from now (as the phone would show)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def wrong_code(secret: str) -> str:
    """Six digits that none of the codes the server accepts now (or in a minute) is."""
    taken = {code_at(secret, offset) for offset in range(-2, 4)}
    return next(c for c in ("000001", "123456", "999998", "424242") if c not in taken)


def shown_codes(page: TestResponse) -> list[str]:
    """The recovery codes a page shows."""
    return re.findall(r'<code class="secret-value">([a-z2-9]{5}-[a-z2-9]{5})</code>', text(page))


def enrol_totp(client: FlaskClient) -> tuple[str, list[str]]:
    """Set up an authenticator app through the plain forms; its secret and recovery codes."""
    started = submit(client, SECURITY, {}, f"{SECURITY}/totp")
    assert started.status_code == 302
    assert started.location == f"{SECURITY}/totp/confirm"
    page = text(client.get(started.location))
    secret_match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret_match, page
    secret = secret_match.group(1)
    confirmed = submit(client, started.location, {"code": code_at(secret)})
    assert confirmed.status_code == 200, text(confirmed)
    codes = re.findall(
        r'<code class="secret-value">([a-z2-9]{5}-[a-z2-9]{5})</code>', text(confirmed)
    )
    return secret, codes


def logged_in_as(app: Flask, role: str = "editor") -> tuple[User, FlaskClient]:
    """A fresh user logged in with the password (nobody holds them to a factor yet)."""
    user = make_user(role, "confidential")
    browser = app.test_client()
    assert password_step(browser, user.email).location == "/"
    return user, browser


def minutes_later(user: User, minutes: int = 6) -> None:
    """As if the user's logins (and confirmations) happened ``minutes`` ago."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(reauthenticated_at=utcnow() - dt.timedelta(minutes=minutes))
    )
    db.session.commit()


def auth_actions(user: User) -> list[str]:
    """The user's re-authentication audit actions, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == user.public_id)
            .where(AuditEntry.action.like("auth.reauth%"))
            .order_by(AuditEntry.seq)
        )
    )


def actions(user: User) -> list[str]:
    """The user's second-factor audit actions, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == user.public_id)
            .where(AuditEntry.action.like("second_factor.%"))
            .order_by(AuditEntry.seq)
        )
    )


def log_out(client: FlaskClient) -> None:
    """The logout button."""
    token = csrf_token(client, SECURITY)  # a page even a user who must enrol still reaches
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


@pytest.fixture
def enrolled(app: Flask) -> tuple[User, str, list[str]]:
    """An editor with an authenticator app (confirmed with the current step's code), logged out."""
    user, browser = logged_in_as(app)
    secret, codes = enrol_totp(browser)
    log_out(browser)
    return user, secret, codes


def test_enrolment_shows_the_secret_the_uri_and_an_inline_qr_code(app: Flask) -> None:
    user, browser = logged_in_as(app)
    started = submit(browser, SECURITY, {}, f"{SECURITY}/totp")
    page = browser.get(started.location)
    body = text(page)
    assert page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', body)
    assert secret
    uri = re.search(r'id="totp-uri">([^<]+)<', body)
    assert uri
    assert uri.group(1).startswith("otpauth://totp/")
    assert f"secret={secret.group(1)}" in uri.group(1)
    # Drawn here as inline SVG: no image service sees the secret, and no inline style breaks
    # the CSP.
    qr = re.search(r'<figure class="qr" id="totp-qr"><svg .*?</svg>', body, re.S)
    assert qr
    assert "style=" not in qr.group(0)
    assert "<img" not in body
    # Not confirmed yet: the login still needs nothing more than the password.
    log_out(browser)
    assert password_step(browser, user.email).location == "/"


def test_a_wrong_first_code_does_not_enrol(app: Flask) -> None:
    user, browser = logged_in_as(app)
    started = submit(browser, SECURITY, {}, f"{SECURITY}/totp")
    page = text(browser.get(started.location))
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret
    refused = submit(browser, started.location, {"code": wrong_code(secret.group(1))})
    assert refused.status_code == 422
    assert "not the current code" in text(refused)
    log_out(browser)
    assert password_step(browser, user.email).location == "/"


def test_enrolled_user_needs_the_code_after_the_password(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    user, secret, codes = enrolled
    assert len(codes) == 10
    assert len(set(codes)) == 10
    browser = app.test_client()
    first = browser.get("/cases?status=jailed")
    token = csrf_token(browser, first.location)
    step = browser.post(
        first.location, data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert step.status_code == 302
    assert step.location == SECOND_STEP
    # The password alone opens nothing.
    for page in ("/", "/cases", "/account/tokens", SECURITY):
        assert browser.get(page).location.startswith("/login"), page
    wrong = submit(browser, SECOND_STEP, {"code": "12345"})
    assert wrong.status_code == 401
    # The enrolment used this step's code; the phone's next one is taken (clocks drift).
    done = submit(browser, SECOND_STEP, {"code": code_at(secret, 1)})
    assert done.status_code == 302
    assert done.location == "/cases?status=jailed"
    assert browser.get("/cases").status_code == 200
    assert _login_factors(user) == ["totp"]
    with browser.session_transaction() as session:
        assert "pending_login" not in session
    assert actions(user) == [
        "second_factor.totp.enrol",
        "second_factor.recovery.issue",
        "second_factor.totp.refused",
        "second_factor.totp.use",
    ]


def test_a_totp_code_is_accepted_once(app: Flask, enrolled: tuple[User, str, list[str]]) -> None:
    user, secret, _ = enrolled
    code = code_at(secret, 1)
    laptop = app.test_client()
    password_step(laptop, user.email)
    assert submit(laptop, SECOND_STEP, {"code": code}).status_code == 302
    # Seen over a shoulder and replayed at once, within its 30 seconds: refused.
    attacker = app.test_client()
    assert password_step(attacker, user.email).location == SECOND_STEP
    replayed = submit(attacker, SECOND_STEP, {"code": code})
    assert replayed.status_code == 401
    assert "already used" in text(replayed)
    # An older code (the one the enrolment used) is refused as well.
    assert submit(attacker, SECOND_STEP, {"code": code_at(secret)}).status_code == 401
    assert attacker.get("/cases").location.startswith("/login")


def test_a_recovery_code_logs_in_once(app: Flask, enrolled: tuple[User, str, list[str]]) -> None:
    user, _, codes = enrolled
    browser = app.test_client()
    password_step(browser, user.email)
    typed = codes[3].upper().replace("-", " ")  # as someone might type it from paper
    used = submit(browser, SECOND_STEP, {"recovery_code": typed}, f"{SECOND_STEP}/recovery")
    assert used.status_code == 302
    assert used.location == "/"
    assert _login_factors(user) == ["recovery"]
    assert "9 of 10 unused" in text(browser.get(SECURITY))
    log_out(browser)

    password_step(browser, user.email)
    again = submit(browser, SECOND_STEP, {"recovery_code": codes[3]}, f"{SECOND_STEP}/recovery")
    assert again.status_code == 401
    assert "wrong or was already used" in text(again)
    assert browser.get("/").location.startswith("/login")
    other = submit(browser, SECOND_STEP, {"recovery_code": codes[4]}, f"{SECOND_STEP}/recovery")
    assert other.status_code == 302
    stored = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert all(codes[3] not in row.code_hash for row in stored)
    assert sum(row.used_at is not None for row in stored) == 2
    assert actions(user)[-3:] == [
        "second_factor.recovery.use",
        "second_factor.recovery.refused",
        "second_factor.recovery.use",
    ]


def test_the_password_step_expires(app: Flask, enrolled: tuple[User, str, list[str]]) -> None:
    user, secret, _ = enrolled
    browser = app.test_client()
    password_step(browser, user.email)
    with browser.session_transaction() as session:
        session["pending_login"] = {**session["pending_login"], "until": time.time() - 1}
    late = submit(browser, "/login", {"code": code_at(secret, 1)}, SECOND_STEP)
    assert late.status_code == 302
    assert late.location == "/login"
    assert browser.get("/").location.startswith("/login")


def test_a_password_change_voids_the_pending_second_step(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    from monitor.services import users

    user, secret, _ = enrolled
    browser = app.test_client()
    password_step(browser, user.email)
    users.set_password("test", db.session.get(User, user.id), "a completely new password")
    db.session.commit()
    answer = submit(browser, "/login", {"code": code_at(secret, 1)}, SECOND_STEP)
    assert answer.location == "/login"


def test_removing_the_app_asks_to_confirm_once_the_login_is_minutes_old(app: Flask) -> None:
    user, browser = logged_in_as(app)
    secret, _ = enrol_totp(browser)
    minutes_later(user)
    asked = submit(browser, SECURITY, {}, f"{SECURITY}/totp/remove")
    assert asked.status_code == 302
    assert asked.location == f"{CONFIRM}?next=/account/security"
    assert 'id="totp-state"' in text(browser.get(SECURITY))

    # The password alone is not enough for an account with a second factor.
    page = browser.get(asked.location)
    assert "<h1>Confirm it's you</h1>" in text(page)
    refused = submit(browser, asked.location, {"password": PASSWORD}, CONFIRM)
    assert refused.status_code == 401
    assert "not right" in text(refused)
    wrong = submit(
        browser,
        asked.location,
        {"password": "not my password", "code": code_at(secret, 1)},
        CONFIRM,
    )
    assert wrong.status_code == 401
    # The page's hidden field says where to go back to.
    assert 'name="next" type="hidden" value="/account/security"' in text(page)
    answer = {"password": PASSWORD, "code": code_at(secret, 1), "next": "/account/security"}
    confirmed = submit(browser, asked.location, answer, CONFIRM)
    assert confirmed.status_code == 302
    assert confirmed.location == SECURITY

    removed = submit(browser, SECURITY, {}, f"{SECURITY}/totp/remove")
    assert removed.status_code == 302
    page_text = text(browser.get(SECURITY))
    assert 'id="totp-state"' not in page_text
    assert "You have none yet" in page_text
    # The recovery codes went with the last factor; the next login asks only the password.
    assert (
        db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
    )
    log_out(browser)
    assert password_step(browser, user.email).location == "/"
    assert actions(user)[-2:] == ["second_factor.totp.use", "second_factor.totp.remove"]
    assert auth_actions(user) == [
        "auth.reauthentication_failed",
        "auth.reauthentication_failed",
        "auth.reauthenticated",
    ]


def test_a_role_held_to_a_second_factor_cannot_remove_its_last(app: Flask) -> None:
    _, browser = logged_in_as(app, "editor")
    enrol_totp(browser)
    require_2fa(app, "editor")
    refused = submit(browser, SECURITY, {}, f"{SECURITY}/totp/remove")
    assert refused.status_code == 422
    assert "must keep a second factor" in text(refused)
    assert 'id="totp-state"' in text(browser.get(SECURITY))


def test_new_recovery_codes_replace_the_old_ones(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    user, secret, old = enrolled
    browser = app.test_client()
    password_step(browser, user.email)
    submit(browser, SECOND_STEP, {"code": code_at(secret, 1)})
    # Just logged in with the password and the app: no need to confirm it again.
    shown = submit(browser, SECURITY, {}, f"{SECURITY}/recovery-codes")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    new = shown_codes(shown)
    assert len(new) == 10
    assert not set(new) & set(old)
    log_out(browser)
    password_step(browser, user.email)
    stale = submit(browser, SECOND_STEP, {"recovery_code": old[0]}, f"{SECOND_STEP}/recovery")
    assert stale.status_code == 401
    fresh = submit(browser, SECOND_STEP, {"recovery_code": new[0]}, f"{SECOND_STEP}/recovery")
    assert fresh.status_code == 302


def test_a_forged_passkey_answer_is_refused_and_audited(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    user, _, _ = enrolled
    browser = app.test_client()
    password_step(browser, user.email)
    forged = '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}'
    answer = submit(browser, SECOND_STEP, {"credential": forged}, f"{SECOND_STEP}/passkey")
    assert answer.status_code == 401
    assert browser.get("/").location.startswith("/login")


def test_second_factor_attempts_are_limited_per_account_from_any_address(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    user, secret, _ = enrolled
    other = make_user("admin", "confidential", email="other.admin@example.org")
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "3 per minute"

    def attempt(email: str, address: str, code: str | None = None) -> int:
        # A new browser from a new address each time: only the account is the same.
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = address
        assert password_step(browser, email).location == SECOND_STEP
        return submit(browser, SECOND_STEP, {"code": code or "12345"}).status_code

    assert [attempt(user.email, f"10.0.1.{n}") for n in range(3)] == [401, 401, 401]
    assert attempt(user.email, "10.0.1.9") == 429
    # Even the right code waits: the account, not the address, is what is limited.
    assert attempt(user.email, "10.0.1.10", code_at(secret, 1)) == 429
    # Another account, from a fresh address, is not held back by it. (It has no factor, so its
    # password logs it in; enrol one to try it.)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "10.0.2.1"
    assert password_step(browser, other.email).location == "/"
    enrol_totp(browser)
    log_out(browser)
    assert attempt(other.email, "10.0.2.2") == 401


def test_second_factor_attempts_are_limited_per_address_too(
    app: Flask, enrolled: tuple[User, str, list[str]]
) -> None:
    user, _, _ = enrolled
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "3 per minute"
    browser = app.test_client()
    password_step(browser, user.email)
    statuses = [submit(browser, SECOND_STEP, {"code": "12345"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_confirmations_are_limited_per_account(app: Flask) -> None:
    # A copied session cookie cannot guess the password (or the app's code) through "Confirm
    # it's you", whichever address it comes from.
    user, browser = logged_in_as(app)
    secret, _ = enrol_totp(browser)
    minutes_later(user)
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "3 per minute"
    guesses = []
    for n in range(3):
        browser.environ_base["REMOTE_ADDR"] = f"10.0.3.{n}"
        guess = {"password": f"guess number {n}", "code": wrong_code(secret)}
        guesses.append(submit(browser, CONFIRM, guess).status_code)
    assert guesses == [401, 401, 401]
    browser.environ_base["REMOTE_ADDR"] = "10.0.3.9"
    right = submit(browser, CONFIRM, {"password": PASSWORD, "code": code_at(secret, 1)})
    assert right.status_code == 429
    assert submit(browser, SECURITY, {}, f"{SECURITY}/recovery-codes").location.startswith(CONFIRM)


def _login_factors(user: User) -> list[str | None]:
    """The second factor each of the user's server-side login sessions was opened with."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession.second_factor).where(UserSession.user_id == user.id)
        ).all()
    )
