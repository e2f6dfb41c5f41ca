"""The second factor in a real Chromium: an editor held to one enrols an authenticator app and a
passkey (Chrome's virtual authenticator, through the DevTools protocol), logs out, and logs in
with the passkey, then with a code; the password alone opens nothing. Minutes later, changing
the recovery codes first asks "Confirm it's you": with a recovery code in the plain form, then
with the passkey."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.e2e.test_browser import browser_page  # noqa: F401 - the fixture (skips without Chromium)
from tests.support.accounts import PASSWORD, make_user
from tests.web.test_second_factor import minutes_later

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_localhost(app: Flask) -> Iterator[str]:
    """The app over real HTTP, addressed as ``localhost``: WebAuthn takes a domain name as the
    relying party, never an IP address, and counts localhost as a secure origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://localhost:{server.server_port}"
    settings = app.config["SETTINGS"]
    # The default setting: editors must enrol before anything else.
    app.config["SETTINGS"] = dataclasses.replace(settings, base_url=base_url, require_2fa="editor")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)


def virtual_authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator that verifies its user and says yes (Chrome DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def log_in_with_password(page: Any, base: str, email: str) -> None:
    """The first step, through the login page."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Any) -> None:
    """The logout button in the header."""
    page.get_by_role("button", name="Log out").click()


def test_editor_enrols_totp_and_a_passkey_then_logs_in_with_each(
    app: Flask,
    live_localhost: str,
    browser_page: tuple[Any, list[str]],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    base = live_localhost
    page, console_errors = browser_page
    editor = make_user("editor", "confidential", email="careful.editor@example.org")
    cdp, authenticator = virtual_authenticator(page)

    # Held to a second factor: after the password, every page leads to the security page.
    log_in_with_password(page, base, editor.email)
    expect(page).to_have_url(f"{base}/account/security")
    expect(page.locator("#enrol-required")).to_be_visible()
    page.goto(f"{base}/cases")
    expect(page).to_have_url(f"{base}/account/security")

    # An authenticator app, in plain forms: the secret typed by hand (as from the page's text).
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    page.screenshot(path=str(tmp_path / "enrol-totp.png"), full_page=True)
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    first_code = codes.first.inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", first_code)
    page.get_by_role("link", name="I have kept them").click()
    expect(page.locator("#totp-state")).to_be_visible()
    expect(page.locator("#enrol-required")).to_have_count(0)

    # A passkey, created by the browser from the server's options.
    page.fill("#name", "Laptop key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkeys tbody tr")).to_have_count(1)
    expect(page.locator("#passkeys")).to_contain_text("Laptop key")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    page.screenshot(path=str(tmp_path / "security.png"), full_page=True)
    log_out(page)

    # The password alone opens nothing.
    log_in_with_password(page, base, editor.email)
    expect(page).to_have_url(f"{base}/login/second-step")
    for path in ("/", "/cases", "/account/security"):
        page.goto(f"{base}{path}")
        expect(page).to_have_url(re.compile(re.escape(f"{base}/login")))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # The passkey: one touch (the virtual authenticator's), and the editor is in.
    page.goto(f"{base}/login/second-step")
    page.screenshot(path=str(tmp_path / "second-step.png"), full_page=True)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("link", name="Cases", exact=True).first).to_be_visible()
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert stored["credentials"][0]["signCount"] >= 2  # registered, then used
    page.goto(f"{base}/account/security")
    expect(page.locator("#passkeys tbody tr").first).not_to_contain_text("—")  # last used
    log_out(page)

    # The app's code, in the plain form (the next step's: the enrolment used this one).
    log_in_with_password(page, base, editor.email)
    page.fill("#code", totp.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")
    page.goto(f"{base}/cases")
    expect(page).to_have_url(f"{base}/cases")

    # Minutes later, new recovery codes first ask "Confirm it's you" (a plain form: the
    # password and, the app's codes being spent for now, one of the recovery codes).
    minutes_later(editor)
    page.goto(f"{base}/account/security")
    new_codes = page.get_by_role("button", name="Make ten new codes (the old ones stop working)")
    new_codes.click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.screenshot(path=str(tmp_path / "confirm.png"), full_page=True)
    page.fill("#password", PASSWORD)
    page.fill("#code", first_code)
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page).to_have_url(f"{base}/account/security")
    expect(page.locator("#confirm-note")).to_contain_text("a moment ago")
    new_codes.click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    # And with the passkey (and the password) through webauthn.js.
    minutes_later(editor)
    page.goto(f"{base}/account/security")
    new_codes.click()
    page.fill("#passkey-password", PASSWORD)
    page.get_by_role("button", name="Confirm with your passkey").click()
    expect(page).to_have_url(f"{base}/account/security")
    new_codes.click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    # The CSP forbids inline script and style: a violation would show up as a console error.
    assert console_errors == []
