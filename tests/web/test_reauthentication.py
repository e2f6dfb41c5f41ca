"""Confirm it's you: the password (and a second factor when the account has one) again before
the password, the second factors or other sessions change; a fresh login counts, the moment is
kept on the server-side session row, the user goes back where they were (a local path only),
and the confirmation gives the login a new session id."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry, RecoveryCode, User, UserSession
from monitor.services.second_factor import recovery
from tests.support.accounts import PASSWORD, login, make_user
from tests.support.web import csrf_token, submit, text
from tests.web.test_second_factor import (
    CONFIRM,
    SECURITY,
    code_at,
    enrol_totp,
    logged_in_as,
    minutes_later,
)

PASSWORD_PAGE = "/account/password"


@pytest.fixture(autouse=True)
def _cheap_recovery_code_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        recovery, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def confirm(browser: FlaskClient, next_page: str, **answer: str) -> str:
    """Fill in "Confirm it's you" as a browser would (its hidden ``next`` included); where the
    answer leads (empty when it is a page)."""
    location = f"{CONFIRM}?next={next_page}"
    page = text(browser.get(location))
    assert f'name="next" type="hidden" value="{next_page}"' in page
    answered = submit(browser, location, {**answer, "next": next_page}, CONFIRM)
    return answered.location or ""


def test_a_fresh_login_needs_no_confirmation(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    assert browser.get(PASSWORD_PAGE).status_code == 200
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.reauthenticated_at == row.created_at


def test_changing_the_password_minutes_later_asks_the_password_again_then_comes_back(
    app: Flask,
) -> None:
    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    minutes_later(user)
    asked = browser.get(PASSWORD_PAGE)
    assert asked.status_code == 302
    assert asked.location == f"{CONFIRM}?next={PASSWORD_PAGE}"
    # A form posted meanwhile changes nothing and leads to the same question.
    posted = submit(
        browser,
        SECURITY,
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase of mine",
            "repeat_password": "a brand new passphrase of mine",
        },
        PASSWORD_PAGE,
    )
    assert posted.location == f"{CONFIRM}?next={PASSWORD_PAGE}"
    # No second factor: the password alone confirms (the code field is not even shown).
    page = text(browser.get(asked.location))
    assert 'name="code"' not in page
    assert confirm(browser, PASSWORD_PAGE, password="wrong password") == ""
    assert confirm(browser, PASSWORD_PAGE, password=PASSWORD) == PASSWORD_PAGE
    assert browser.get(PASSWORD_PAGE).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == user.password_hash  # not changed
    audited = db.session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.action.like("auth.reauth%"))
        .order_by(AuditEntry.seq)
    ).all()
    assert [entry["reason"] for entry in audited[:1]] == ["wrong password"]
    assert audited[1]["second_factor"] is None


def test_confirming_gives_the_login_a_new_session_id(app: Flask) -> None:
    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    minutes_later(user)
    before = browser.get_cookie("session")
    assert before is not None
    assert confirm(browser, PASSWORD_PAGE, password=PASSWORD) == PASSWORD_PAGE
    after = browser.get_cookie("session")
    assert after is not None
    assert after.value != before.value
    assert browser.get("/cases").status_code == 200
    # The id from before the confirmation opens nothing any more.
    thief = app.test_client()
    thief.set_cookie("session", before.value)
    assert thief.get("/cases").location.startswith("/login")


@pytest.mark.parametrize(
    "target",
    ["//evil.example/account", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_confirming_goes_back_to_local_paths_only(app: Flask, target: str) -> None:
    user = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, user.email)
    token = csrf_token(browser, CONFIRM)
    answered = browser.post(
        CONFIRM, data={"password": PASSWORD, "next": target, "csrf_token": token}
    )
    assert answered.status_code == 302
    assert answered.location == "/"


def test_a_recovery_code_confirms_once(app: Flask) -> None:
    user, browser = logged_in_as(app)
    _, codes = enrol_totp(browser)
    minutes_later(user)
    assert confirm(browser, SECURITY, password=PASSWORD, code=codes[0]) == SECURITY
    minutes_later(user)
    assert confirm(browser, SECURITY, password=PASSWORD, code=codes[0]) == ""
    used = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_not(None)
        )
    ).all()
    assert len(used) == 1


def test_a_code_replayed_from_the_login_does_not_confirm(app: Flask) -> None:
    user, browser = logged_in_as(app)
    secret, _ = enrol_totp(browser)  # the enrolment took this step's code
    minutes_later(user)
    assert confirm(browser, SECURITY, password=PASSWORD, code=code_at(secret)) == ""
    assert confirm(browser, SECURITY, password=PASSWORD, code=code_at(secret, 1)) == SECURITY


def test_ending_other_sessions_asks_to_confirm_but_logging_out_this_one_does_not(
    app: Flask,
) -> None:
    user = make_user("viewer", "public")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(phone, user.email)
    minutes_later(user)
    asked = submit(laptop, "/account/sessions", {}, "/account/sessions/end-others")
    assert asked.location == f"{CONFIRM}?next=/account/sessions"
    assert phone.get("/cases").status_code == 200
    phone_row = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id.desc())
    ).first()
    assert phone_row is not None
    one = submit(laptop, "/account/sessions", {}, f"/account/sessions/{phone_row.public_id}/end")
    assert one.location == f"{CONFIRM}?next=/account/sessions"
    assert phone.get("/cases").status_code == 200
    # Ending the session one is using is logging out: no question asked.
    out = submit(phone, "/account/sessions", {}, f"/account/sessions/{phone_row.public_id}/end")
    assert out.location == "/login"
    assert confirm(laptop, "/account/sessions", password=PASSWORD) == "/account/sessions"
    ended = submit(laptop, "/account/sessions", {}, "/account/sessions/end-others")
    assert ended.location == "/account/sessions"
