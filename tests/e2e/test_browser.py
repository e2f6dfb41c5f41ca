"""End to end in a real Chromium (Debian's, driven by Playwright): the register as users meet it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI, PASSWORD, make_user

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if IN_CI:
        raise pytest.UsageError(
            f"CI=true but Chromium is missing ({CHROMIUM}); run make system-deps"
        )
    pytest.skip("Chromium is not installed (make system-deps installs it)", allow_module_level=True)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_editor_records_a_status_change_and_sees_it_everywhere(
    app: Flask, demo: dict[str, str], live_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    editor = make_user("editor", "confidential", email="editor@example.org")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        console_errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        try:
            page.goto(f"{live_server}/")
            expect(page).to_have_url(f"{live_server}/login?next=%2F")
            page.fill("#email", editor.email)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.locator("#status-counts [data-status=jailed]")).to_have_text("1")

            page.get_by_role("link", name="Cases", exact=True).first.click()
            page.fill("#q", "សុខា")
            page.keyboard.press("Enter")
            results = page.locator("table tbody tr")
            expect(results).to_have_count(1)
            page.get_by_role("link", name="Kem Sokha").first.click()
            body = page.locator("main")
            expect(body).to_contain_text("កឹម សុខា")
            expect(body).to_contain_text("jailed")
            expect(body).to_contain_text("Treason")
            expect(body).to_contain_text("maximum 30 years")

            page.get_by_role("link", name="Record status change").click()
            page.select_option("#status", "house_arrest")
            page.fill("#occurred_on", "2018-09-10")
            page.fill("#location", "Phnom Penh")
            page.fill("#description", "Moved from prison to house arrest.")
            page.fill("#source_title", "Court order")
            page.fill("#source_publisher", "Test wire")
            page.get_by_role("button", name="Record").click()

            expect(body).to_contain_text("house arrest")
            expect(body).to_contain_text("10 September 2018")
            expect(body).to_contain_text("Moved from prison to house arrest.")
            page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

            page.get_by_role("link", name="Dashboard").first.click()
            expect(page.locator("#status-counts [data-status=jailed]")).to_have_text("0")
            expect(page.locator("#status-counts [data-status=house_arrest]")).to_have_text("1")
            expect(page.locator("#latest")).to_be_visible()
            expect(page.locator("main")).to_contain_text("Kem Sokha")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    # The CSP forbids inline script and style: a violation would show up as a console error.
    assert console_errors == []
