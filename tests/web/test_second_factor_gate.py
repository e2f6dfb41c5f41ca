"""MONITOR_REQUIRE_2FA: a user it holds to a second factor can do nothing but enrol until they
have one; the demo admin of `make run` is let through in development only."""

from __future__ import annotations

import pytest
from flask import Flask

from monitor.extensions import db
from monitor.services import users
from tests.support.accounts import make_user
from tests.support.web import csrf_token, text
from tests.web.test_second_factor import (
    SECURITY,
    _cheap_recovery_code_hashing,  # noqa: F401 - the autouse fixture, for this module too
    enrol_totp,
    log_out,
    password_step,
    require_2fa,
)

GATED = {
    "none": set(),
    "admin": {"admin"},
    "editor": {"admin", "editor"},
    "all": {"admin", "editor", "viewer"},
}
# What a user who must enrol cannot open (each would answer 200 otherwise).
ELSEWHERE = ["/", "/cases", "/people", "/account/tokens", "/data", "/alerts"]


@pytest.mark.parametrize("setting", list(GATED))
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_the_setting_holds_its_roles_to_a_second_factor(
    app: Flask, setting: str, role: str
) -> None:
    require_2fa(app, setting)
    user = make_user(role, "confidential")
    browser = app.test_client()
    assert password_step(browser, user.email).location == "/"
    gated = role in GATED[setting]
    for page in ELSEWHERE:
        response = browser.get(page)
        if gated:
            assert response.status_code == 302, page
            assert response.location == SECURITY, page
        else:
            assert response.status_code == 200, page
    # A write is refused as well, before its view runs.
    token = csrf_token(browser, SECURITY)
    posted = browser.post("/account/tokens", data={"name": "sneaky", "csrf_token": token})
    assert (posted.status_code == 302 and posted.location == SECURITY) is gated
    security = browser.get(SECURITY)
    assert security.status_code == 200
    assert ('id="enrol-required"' in text(security)) is gated

    # Enrolling opens everything; logging out is always possible.
    enrol_totp(browser)
    for page in ELSEWHERE:
        assert browser.get(page).status_code == 200, page
    log_out(browser)


def test_a_gated_user_keeps_the_static_files_and_logout(app: Flask) -> None:
    require_2fa(app, "editor")
    editor = make_user("editor", "confidential")
    browser = app.test_client()
    password_step(browser, editor.email)
    for asset in ("/static/app.css", "/static/js/webauthn.js"):
        response = browser.get(asset)
        response.close()  # a static file is streamed from disk
        assert response.status_code == 200, asset
    assert browser.get(SECURITY).status_code == 200
    log_out(browser)
    assert browser.get("/").location.startswith("/login")


def test_api_tokens_of_a_gated_user_keep_working(app: Flask) -> None:
    # Tokens are made on the token page, which a user who must enrol cannot reach: a token a
    # user holds was made before the setting applied to them (or by the CLI).
    require_2fa(app, "editor")
    editor = make_user("editor", "confidential")
    _, plain = users.create_token("test", editor, "script")
    db.session.commit()
    browser = app.test_client()
    password_step(browser, editor.email)
    assert browser.get("/account/tokens").location == SECURITY
    api = browser.get("/api/v1/cases", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200


@pytest.mark.parametrize(
    ("env", "email", "exempt"),
    [
        ("development", "admin@example.org", True),
        ("development", "another.admin@example.org", False),
        ("production", "admin@example.org", False),
        ("testing", "admin@example.org", False),
    ],
)
def test_only_the_demo_admin_in_development_may_skip_it(
    app: Flask, env: str, email: str, exempt: bool
) -> None:
    require_2fa(app, "editor", env=env)
    admin = make_user("admin", "confidential", email=email)
    browser = app.test_client()
    password_step(browser, admin.email)
    response = browser.get("/cases")
    if exempt:
        assert response.status_code == 200
        page = text(browser.get(SECURITY))
        assert 'id="demo-exempt"' in page
        assert "MONITOR_ENV=development" in page
        assert 'id="enrol-required"' not in page
    else:
        assert response.location == SECURITY
        assert 'id="demo-exempt"' not in text(browser.get(SECURITY))


def test_the_setting_defaults_to_editors_and_refuses_unknown_values() -> None:
    from monitor.config import ConfigError, Settings

    base = {"MONITOR_ENV": "development", "MONITOR_SECRET_KEY": "x" * 40}
    assert Settings.from_env(base).require_2fa == "editor"
    assert Settings.from_env({**base, "MONITOR_REQUIRE_2FA": "all"}).require_2fa == "all"
    with pytest.raises(ConfigError, match="MONITOR_REQUIRE_2FA"):
        Settings.from_env({**base, "MONITOR_REQUIRE_2FA": "editors"})


def test_passkeys_ask_for_a_domain_name_when_the_address_is_an_ip(app: Flask) -> None:
    require_2fa(app, "none", base_url="http://127.0.0.1:5000")
    viewer = make_user("viewer", "public")
    browser = app.test_client()
    password_step(browser, viewer.email)
    page = text(browser.get(SECURITY))
    assert 'id="passkeys-need-a-name"' in page
    assert 'id="passkey-register"' not in page
    # The authenticator app still works from there.
    enrol_totp(browser)
